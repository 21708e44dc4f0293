//! What a new user and an admin meet first (issue 24, items 1–7): the README's run command
//! on built-in defaults, configured folders, `config check`, reload through the console.

mod harness;

use std::path::Path;
use std::time::{Duration, Instant};

use harness::defaults::{run_on_defaults, terminate, wait_log};
use harness::fixture;

fn checked(dir: &Path) -> i64 {
    let Ok(c) = rusqlite::Connection::open_with_flags(
        dir.join("data/nianbao.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    ) else {
        return 0;
    };
    c.query_row(
        "SELECT count(*) FROM submissions WHERE state != 'archived'",
        [],
        |r| r.get(0),
    )
    .unwrap_or(0)
}

/// Moves a complete report into `folder` (as a copy from another folder of the same disk
/// would arrive) and waits until the daemon has stored `n` submissions: the time it took,
/// or `None` after `limit`.
fn drop_and_wait(
    dir: &Path,
    folder: &Path,
    name: &str,
    n: i64,
    limit: Duration,
) -> Option<Duration> {
    let staging = dir.join("staging");
    std::fs::create_dir_all(&staging).expect("staging");
    let bytes = String::from_utf8(fixture("000_d016082c1b868431.txt"))
        .expect("utf-8")
        .replacen("我局严格按照", &format!("我局（{name}）严格按照"), 1);
    std::fs::write(staging.join(name), bytes).expect("write");
    let start = Instant::now();
    std::fs::rename(staging.join(name), folder.join(name)).expect("move in");
    while start.elapsed() < limit {
        if checked(dir) >= n {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Item 1: with the built-in `./inbox` (a relative path) the kernel's events were compared
/// with the relative inbox and thrown away, so a file was found only by the rescan a
/// minute later. The rescan is 60 s on defaults: a file stored within 30 s was found by
/// its event, in a folder there at start and in one created after.
#[test]
fn relative_inbox_on_defaults_answers_from_kernel_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("inbox/early")).expect("mkdir");
    let (child, log) = run_on_defaults(dir.path(), "daemon.log");
    wait_log(&log, "watching");
    let limit = Duration::from_secs(30);
    let early = drop_and_wait(
        dir.path(),
        &dir.path().join("inbox/early"),
        "a.txt",
        1,
        limit,
    );
    let late_folder = dir.path().join("inbox/late");
    std::fs::create_dir(&late_folder).expect("mkdir late");
    // The new folder's watch is added by the event of its creation.
    std::thread::sleep(Duration::from_millis(500));
    let late = drop_and_wait(dir.path(), &late_folder, "b.txt", 2, limit);
    let seen = std::fs::read_to_string(&log).unwrap_or_default();
    eprintln!("folder at start: {early:?}; folder created after: {late:?}");
    assert_eq!(terminate(child), Some(0));
    assert!(
        early.is_some(),
        "not stored within {limit:?} (folder at start)\n{seen}"
    );
    assert!(
        late.is_some(),
        "not stored within {limit:?} (folder created after)\n{seen}"
    );
}
