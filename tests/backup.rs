//! Issue 23, item 14: `nianbao db backup FILE` (SQLite's online backup, during a burst,
//! checked with integrity_check), `nianbao db restore FILE` refused while the daemon runs,
//! the README's restore drill, and the daily backup into `[backup] dir` with rotation.

mod harness;

use std::os::unix::fs::PermissionsExt as _;

use harness::{CHECKED, Daemon, distinct_report};
use rusqlite::Connection;

fn submissions(db: &std::path::Path) -> i64 {
    Connection::open(db)
        .and_then(|c| c.query_row("SELECT count(*) FROM submissions", [], |r| r.get(0)))
        .expect("count")
}

/// The drill of the README: back up while the daemon works, lose the database, restore
/// (refused while the daemon runs), start again, everything of the backup is there.
#[test]
fn backup_during_a_burst_and_the_restore_drill() {
    let mut d = Daemon::new();
    for i in 0..3 {
        std::fs::write(
            d.inbox().join(format!("xss/r{i}.txt")),
            distinct_report(300 + i),
        )
        .expect("w");
    }
    d.start();
    d.wait_count(CHECKED, 3, 60);
    // A burst goes on while the backup is taken.
    for i in 0..40 {
        std::fs::write(
            d.inbox().join(format!("lc/burst{i}.txt")),
            distinct_report(400 + i),
        )
        .expect("w");
    }
    let backup = d.dir.path().join("backup/nianbao-drill.sqlite");
    std::fs::create_dir_all(backup.parent().expect("parent")).expect("mkdir");
    let (code, out, err) = d.cli(&["db", "backup", backup.to_str().expect("utf-8")]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("完整性检查：ok"), "{out}");
    let mode = std::fs::metadata(&backup)
        .expect("backup")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode & 0o037, 0, "backup is {mode:o}");
    let c = Connection::open(&backup).expect("open backup");
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(ok, "ok");
    let in_backup = submissions(&backup);
    assert!(in_backup >= 3, "{in_backup}");
    drop(c);

    // Refused while the daemon runs, and nothing is touched.
    let (code, _, err) = d.cli(&["db", "restore", backup.to_str().expect("utf-8")]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("正在运行"), "{err}");
    d.wait_count(CHECKED, 43, 60);
    assert_eq!(d.stop(), Some(0));

    // The database is lost; the archive is kept.
    let data = d.dir.path().join("data");
    for f in ["nianbao.sqlite", "nianbao.sqlite-wal", "nianbao.sqlite-shm"] {
        let _ = std::fs::remove_file(data.join(f));
    }
    let (code, out, err) = d.cli(&["db", "restore", backup.to_str().expect("utf-8")]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(submissions(&data.join("nianbao.sqlite")), in_backup);
    d.start();
    d.wait_log("watching", 30);
    let (code, out, err) = d.cli(&["db", "check"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, _) = d.cli(&["status", "--all"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("西塞山区政数局"), "{out}");
    assert_eq!(d.stop(), Some(0));

    // Restoring over an existing database keeps that one beside it.
    let (code, out, err) = d.cli(&["db", "restore", backup.to_str().expect("utf-8")]);
    assert_eq!(code, Some(0), "{out}{err}");
    let kept = std::fs::read_dir(&data)
        .expect("data")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("before-restore"))
        .count();
    assert_eq!(kept, 1, "the replaced database is kept");
}

/// `[backup] dir` and `keep`: one backup a day, the oldest removed beyond `keep`.
#[test]
fn daily_backup_with_rotation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups).expect("mkdir");
    for day in ["2020-01-01", "2020-01-02", "2020-01-03"] {
        std::fs::write(backups.join(format!("nianbao-{day}.sqlite")), "old").expect("w");
    }
    std::fs::write(backups.join("notes.txt"), "not a backup").expect("w");
    let mut d = Daemon::with_config(
        "",
        &format!(
            "[backup]\ndir = {:?}\nkeep = 2\n",
            backups.display().to_string()
        ),
    );
    d.start();
    d.wait_log("watching", 30);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let names = loop {
        let mut names: Vec<String> = std::fs::read_dir(&backups)
            .expect("dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        if names.len() == 3 && !names.contains(&"nianbao-2020-01-02.sqlite".to_string()) {
            break names;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{names:?}\n{}",
            d.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(names[0], "nianbao-2020-01-03.sqlite");
    assert!(
        names[1].starts_with("nianbao-20") && names[1] > names[0],
        "{names:?}"
    );
    assert_eq!(names[2], "notes.txt");
    let c = Connection::open(backups.join(&names[1])).expect("open");
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(ok, "ok");
    assert_eq!(d.stop(), Some(0));
}
