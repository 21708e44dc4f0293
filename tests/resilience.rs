//! The faults of a real filing season, on the real daemon, loopback only, bounded in time:
//! files that vanish or move while they settle, unreadable files, a folder swapped for a
//! symlink to /etc, a 200 MB file and a zip bomb, thousands of agency folders.
//! (kill -9 during bursts: tests/daemon.rs and, with a real SMTP server, tests/mail.rs.)

mod harness;

use std::time::{Duration, Instant};

use harness::{CHECKED, Daemon, SETTLE_MS, distinct_report};

/// The inbox paths of every stored submission.
fn stored_names(d: &Daemon) -> Vec<String> {
    d.db()
        .expect("db")
        .prepare("SELECT original_name FROM submissions ORDER BY id")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("names")
}

#[test]
fn files_deleted_or_renamed_while_they_settle() {
    let mut d = Daemon::new();
    d.start();
    d.wait_count("SELECT 1", 1, 10);
    let gone = d.inbox().join("xss/gone.txt");
    let before = d.inbox().join("xss/before.txt");
    let after = d.inbox().join("xss/after.txt");
    std::fs::write(&gone, distinct_report(1)).expect("w");
    std::fs::write(&before, distinct_report(2)).expect("w");
    // Seen by the watcher, not yet settled: one disappears, one is renamed.
    std::thread::sleep(Duration::from_millis(SETTLE_MS / 3));
    std::fs::remove_file(&gone).expect("rm");
    std::fs::rename(&before, &after).expect("mv");
    d.wait_count(CHECKED, 1, 20);
    // A few more settle periods: nothing else turns up.
    std::thread::sleep(Duration::from_millis(SETTLE_MS * 4));
    let names = stored_names(&d);
    assert_eq!(names, ["xss/after.txt"]);
    assert!(!d.log().contains("cannot ingest"), "{}", d.log());
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn an_unreadable_file_waits_until_it_can_be_read() {
    use std::os::unix::fs::PermissionsExt;
    let mut d = Daemon::new();
    let path = d.inbox().join("xss/locked.txt");
    std::fs::write(&path, distinct_report(3)).expect("w");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    assert!(
        d.start_unprivileged(),
        "cannot run the daemon unprivileged (need setpriv as root)"
    );
    // Unprivileged, the daemon cannot open it: it says so once and keeps waiting.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !d.log().contains("cannot open this file") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(d.log().contains("cannot open this file"), "{}", d.log());
    std::thread::sleep(Duration::from_millis(SETTLE_MS * 3));
    assert_eq!(d.count("SELECT count(*) FROM submissions"), 0);
    assert_eq!(d.log().matches("cannot open this file").count(), 1);
    // Permissions fixed: taken at the next look.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    d.wait_count(CHECKED, 1, 20);
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn an_agency_folder_replaced_by_a_symlink_to_etc_is_never_read() {
    let mut d = Daemon::new();
    std::fs::remove_dir(d.inbox().join("lc")).expect("rmdir");
    std::os::unix::fs::symlink("/etc", d.inbox().join("lc")).expect("symlink");
    // And a file that is a symlink to a secret, inside a real folder.
    std::os::unix::fs::symlink("/etc/passwd", d.inbox().join("xss/passwd.txt")).expect("ln");
    std::fs::write(d.inbox().join("xss/real.txt"), distinct_report(4)).expect("w");
    d.start();
    d.wait_count(CHECKED, 1, 20);
    // Several rescans (every second in the tests) later, still only the real file.
    std::thread::sleep(Duration::from_secs(3));
    let names = stored_names(&d);
    assert_eq!(names, ["xss/real.txt"]);
    assert!(
        d.log().contains("symbolic link in the inbox"),
        "{}",
        d.log()
    );
    // /etc is untouched: the daemon removes what it takes, and it took nothing there.
    assert!(std::path::Path::new("/etc/passwd").exists());
    assert_eq!(d.stop(), Some(0));
}

/// `document.xml` of `inflated` bytes of spaces, deflated into a small .docx.
fn zip_bomb_docx(inflated: usize) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        zip.start_file("word/document.xml", opts).expect("zip");
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..inflated >> 20 {
            zip.write_all(&chunk).expect("zip");
        }
        zip.finish().expect("zip");
    }
    buf.into_inner()
}

#[test]
fn a_200_mb_file_and_a_zip_bomb_cost_a_finding_not_memory() {
    let mut d = Daemon::new();
    d.start();
    d.wait_count("SELECT 1", 1, 10);
    // 200 MB of real bytes (not sparse): over max_file_mb, so answered from its size, never
    // copied nor read (issue 23), and left in place.
    {
        use std::io::Write;
        let mut f = std::fs::File::create(d.inbox().join("xss/huge.txt")).expect("create");
        let block = vec![b'x'; 1 << 20];
        for _ in 0..200 {
            f.write_all(&block).expect("write");
        }
    }
    let bomb = zip_bomb_docx(300 << 20);
    assert!(bomb.len() < 1 << 20, "bomb is {} bytes", bomb.len());
    std::fs::write(d.inbox().join("lc/报告.docx"), &bomb).expect("w");
    d.wait_count(CHECKED, 1, 60);
    let db = d.db().expect("db");
    let rules: Vec<(String, String)> = db
        .prepare(
            "SELECT s.original_name, f.rule FROM findings f
             JOIN submissions s ON s.id = f.submission_id ORDER BY s.original_name",
        )
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .expect("rules");
    assert_eq!(
        rules,
        [("lc/报告.docx".to_string(), "file.hostile".to_string())]
    );
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE idempotency_key LIKE 'too-large/%'",
        1,
        30,
    );
    assert!(
        d.inbox().join("xss/huge.txt").exists(),
        "not archived, not removed"
    );
    let peak = d.peak_rss_kb().expect("VmHWM");
    assert!(peak < 100 * 1024, "peak RSS {peak} KiB");
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn three_thousand_agency_folders() {
    let n = 3000;
    let mut agencies = String::new();
    for i in 0..n {
        agencies.push_str(&format!(
            "[[agency]]\nfolder = \"a{i:04}\"\nname = \"第{i}局\"\nemail = [\"gk@a{i}.example.cn\"]\n"
        ));
    }
    let mut d = Daemon::with_config("", &agencies);
    for i in 0..n {
        let dir = d.inbox().join(format!("a{i:04}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("年报.txt"), distinct_report(10_000 + i)).expect("w");
    }
    d.start();
    d.wait_count(CHECKED, n as i64, 240);
    assert_eq!(
        d.count("SELECT count(DISTINCT agency_folder) FROM submissions"),
        n as i64
    );
    assert_eq!(
        d.count("SELECT count(*) FROM submissions WHERE agency_name IS NULL"),
        0,
        "every file attributed to its agency"
    );
    // A file dropped now, into one of the 3000 watched folders, is seen promptly.
    std::fs::write(d.inbox().join("a2999/补充.txt"), distinct_report(99_999)).expect("w");
    d.wait_count(CHECKED, n as i64 + 1, 30);
    assert_eq!(d.stop(), Some(0));
}
