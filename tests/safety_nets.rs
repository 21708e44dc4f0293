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

/// `nianbao check ARGS` with a time limit: (exit code, stdout, stderr); `None` for the code
/// when it had to be killed.
fn check_cli(args: &[&std::ffi::OsStr], secs: u64) -> (Option<i32>, String, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("check")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("nianbao check");
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            return (
                None,
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Item 11: `check` refuses a FIFO and a device, and bounds what it reads by max_file_mb.
#[test]
fn check_refuses_fifos_and_devices_and_bounds_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("年报.txt");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    for path in [fifo.as_os_str(), std::ffi::OsStr::new("/dev/zero")] {
        let (code, _, err) = check_cli(&[path], 20);
        assert_eq!(code, Some(2), "{path:?} hung or was read: {err}");
        assert!(err.contains("不是普通文件"), "{path:?}: {err}");
    }
    // A regular file over the configured limit is answered from its size, not read.
    let config = dir.path().join("nianbao.toml");
    std::fs::write(&config, "max_file_mb = 1\n").expect("config");
    let big = dir.path().join("大.txt");
    std::fs::write(&big, vec![b'x'; 3 << 20]).expect("big");
    let (code, out, err) = check_cli(
        &[big.as_os_str(), "--config".as_ref(), config.as_os_str()],
        20,
    );
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("file.too_large") || out.contains("过大"),
        "{out}"
    );
}
