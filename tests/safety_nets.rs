//! Issue 23, items 10-19: the admin's safety nets and the rest of the adversarial round,
//! on the real daemon with a real SQLite file and real folders.

mod harness;

use std::time::Duration;

use harness::{CHECKED, Daemon, SETTLE_MS, distinct_report};

/// Item 16: copies made by sync tools and editors are not new versions of the report.
#[test]
fn sync_conflict_and_editor_backup_copies_are_not_new_versions() {
    let mut d = Daemon::new();
    std::fs::write(d.inbox().join("xss/年报.txt"), distinct_report(1)).expect("w");
    d.start();
    d.wait_count(CHECKED, 1, 30);
    let copies = [
        "年报.sync-conflict-20260105-101112-ABCDEF1.txt",
        "年报 (conflicted copy 2026-01-05 101112).txt",
        "年报 (张三's conflicted copy 2026-01-05).txt",
        "~WRL0001.tmp",
        "年报的备份.wbk",
    ];
    for (i, name) in copies.iter().enumerate() {
        std::fs::write(d.inbox().join("xss").join(name), distinct_report(100 + i)).expect("w");
    }
    // A real new version after them: once it is stored, the copies have been looked at.
    std::thread::sleep(Duration::from_millis(SETTLE_MS * 2));
    std::fs::write(d.inbox().join("xss/年报v2.txt"), distinct_report(2)).expect("w");
    d.wait_count(
        "SELECT count(*) FROM submissions WHERE original_name = 'xss/年报v2.txt' \
         AND state != 'archived'",
        1,
        30,
    );
    std::thread::sleep(Duration::from_millis(SETTLE_MS * 4));
    assert_eq!(
        d.count("SELECT count(*) FROM submissions"),
        2,
        "a copy was stored as a version:\n{}",
        d.log()
    );
    for name in copies {
        assert!(d.inbox().join("xss").join(name).exists(), "{name} removed");
    }
    assert_eq!(d.stop(), Some(0));
}
