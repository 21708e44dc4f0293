//! Issue 23, items 10-19: the admin's safety nets and the rest of the adversarial round,
//! on the real daemon with a real SQLite file and real folders.

mod harness;

use std::time::Duration;

use harness::disk::{fill, small_disk};
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

/// A daemon with its HTTP server on a free loopback port and `top` (top-level keys) put
/// before the harness's tables.
fn with_http(top: &str, extra: &str) -> (Daemon, u16) {
    let port = harness::web::free_port();
    let d = Daemon::with_config(
        "",
        &format!("{extra}[http]\nlisten = \"127.0.0.1:{port}\"\n"),
    );
    let config = d.dir.path().join("nianbao.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("{top}\n{text}")).expect("config");
    (d, port)
}

fn readyz(port: u16) -> (u16, String) {
    match harness::web::request(port, "GET", "/readyz", None, None) {
        Some(r) => (r.code, r.text()),
        None => (0, String::new()),
    }
}

/// Waits for `/readyz` to answer `code`; its body.
fn wait_readyz(port: u16, code: u16, secs: u64) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let (got, body) = readyz(port);
        if got == code {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "/readyz never {code}: {got} {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Item 10: work that seems stuck is named by a count or a receipt, never by the inbox
/// path (agency and file names) that anyone reaching /readyz could read.
#[test]
fn readyz_names_no_inbox_path() {
    let (mut d, port) = with_http("stuck_after_s = 1", "");
    std::fs::write(d.inbox().join("xss/机密名单.txt"), distinct_report(7)).expect("w");
    // Debug builds only: checking this file takes 4 s, longer than stuck_after_s.
    d.start_env(&[("NIANBAO_TEST_SLOW_ON", "机密名单")]);
    let body = wait_readyz(port, 503, 30);
    assert!(body.contains("stuck"), "{body}");
    assert!(
        !body.contains("机密") && !body.contains("xss"),
        "the inbox path leaks: {body}"
    );
    d.wait_count(CHECKED, 1, 30);
    wait_readyz(port, 200, 10);
    assert_eq!(d.stop(), Some(0));
}

/// Item 10: a full data disk (archive and database cannot be written) is not ready.
#[test]
fn readyz_is_not_ready_while_the_data_disk_is_full() {
    let (mut d, port) = with_http("", "");
    let data = d.dir.path().join("data");
    let Some(_unmount) = small_disk(&data, "8m") else {
        return;
    };
    d.start();
    assert_eq!(wait_readyz(port, 200, 30), "ready\n");
    fill(&data.join("filler"));
    let body = wait_readyz(port, 503, 10);
    assert!(body.contains("full") || body.contains("space"), "{body}");
    std::fs::remove_file(data.join("filler")).expect("free");
    wait_readyz(port, 200, 10);
    assert_eq!(d.stop(), Some(0));
}

/// Item 17: the file's owner (uid, and the user name the system knows) is recorded with the
/// submission and shown on its page and in the agency's history.
#[test]
fn the_owner_of_a_dropped_file_is_recorded_and_shown() {
    use std::os::unix::fs::MetadataExt as _;
    let (mut d, port) = with_http("", "");
    let path = d.inbox().join("xss/年报.txt");
    std::fs::write(&path, distinct_report(17)).expect("w");
    // SAFETY: getuid has no preconditions.
    let root = unsafe { libc::getuid() } == 0;
    // As root: the file of another account of the share (nobody), in the inbox's group.
    let (uid, name) = if root {
        let gid = std::fs::metadata(d.inbox()).expect("inbox").gid();
        std::os::unix::fs::chown(&path, Some(65534), Some(gid)).expect("chown");
        (65534, "nobody".to_string())
    } else {
        let uid = std::fs::metadata(&path).expect("meta").uid();
        let out = std::process::Command::new("id")
            .arg("-un")
            .output()
            .expect("id");
        (uid, String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    d.start();
    d.wait_count(CHECKED, 1, 30);
    let (got_uid, got_name): (i64, Option<String>) = d
        .db()
        .expect("db")
        .query_row("SELECT owner_uid, owner_name FROM submissions", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("owner columns");
    assert_eq!(got_uid, i64::from(uid));
    assert_eq!(got_name.as_deref(), Some(name.as_str()));
    let receipt = harness::web::receipt_of(&d, "xss");
    let mut c = harness::web::Client::new(port);
    let page = c.get(&format!("/submission/{receipt}")).text();
    assert!(
        page.contains(&format!("{name}（用户编号 {uid}）")),
        "owner not on the submission page:\n{page}"
    );
    let history = c.get("/agency/xss").text();
    assert!(
        history.contains(&format!("{name}（用户编号 {uid}）")),
        "owner not in the history:\n{history}"
    );
    assert_eq!(d.stop(), Some(0));
}

/// Item 18: `[retention] archive_years` removes the archived originals of report years
/// older than that; the records, findings and receipts stay; the log and the admin say so.
#[test]
fn retention_removes_old_originals_and_keeps_the_records() {
    let mut d = Daemon::new();
    std::fs::write(d.inbox().join("xss/2020.txt"), harness::report_for(2020)).expect("w");
    std::fs::write(d.inbox().join("lc/2022.txt"), harness::report_for(2022)).expect("w");
    d.start();
    d.wait_count(CHECKED, 2, 30);
    d.wait_count("SELECT count(*) FROM outbox WHERE state = 'pending'", 0, 30);
    assert_eq!(d.stop(), Some(0));
    let db = d.db().expect("db");
    let sha_of = |year: i64| -> String {
        db.query_row(
            "SELECT sha256 FROM submissions WHERE year = ?1",
            [year],
            |r| r.get(0),
        )
        .expect("sha")
    };
    let (old, new) = (sha_of(2020), sha_of(2022));
    drop(db);
    let data = d.dir.path().join("data");
    let archived = |sha: &str| data.join(format!("archive/{}/{sha}", &sha[..2]));
    assert!(archived(&old).exists() && archived(&new).exists());
    let findings_before = d.count("SELECT count(*) FROM findings");
    // Filing year 2023: report year 2022 is this season's; keep it and the one before.
    let config = d.dir.path().join("nianbao.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("{text}\n[retention]\narchive_years = 2\n")).expect("config");
    d.start();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while archived(&old).exists() {
        assert!(std::time::Instant::now() < deadline, "{}", d.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(archived(&new).exists(), "this season's original removed");
    assert_eq!(d.count("SELECT count(*) FROM submissions"), 2);
    assert_eq!(d.count("SELECT count(*) FROM findings"), findings_before);
    d.wait_count(
        "SELECT count(*) FROM submissions WHERE archive_removed_at IS NOT NULL",
        1,
        10,
    );
    assert!(
        d.inbox().join("xss/回执/回执_2020.txt.txt").exists(),
        "receipt kept"
    );
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE kind = 'notice' AND idempotency_key LIKE 'notice/retention/%'",
        1,
        30,
    );
    assert!(d.log().contains("retention"), "{}", d.log());
    assert_eq!(d.stop(), Some(0));
}

/// Item 13: a receipt for an agency folder renamed (or removed) meanwhile never re-creates
/// the old folder; the admin is told where the receipt could not go.
#[test]
fn a_renamed_agency_folder_is_not_recreated_by_receipts() {
    let mut d = Daemon::new();
    std::fs::write(d.inbox().join("xss/年报.txt"), distinct_report(13)).expect("w");
    d.start();
    d.wait_count(CHECKED, 1, 30);
    d.wait_count("SELECT count(*) FROM outbox WHERE state = 'pending'", 0, 30);
    assert!(d.inbox().join("xss/回执/回执_年报.txt.txt").exists());
    // The agency renames its folder; its answer is sent again (as after a crash, or a
    // resend): the receipt has nowhere to go.
    std::fs::rename(d.inbox().join("xss"), d.inbox().join("xss-改名")).expect("mv");
    let receipt = harness::web::receipt_of(&d, "xss");
    let (code, out, err) = d.cli(&["mail", "resend", &receipt]);
    assert_eq!(code, Some(0), "{out}{err}");
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE kind = 'receipt' AND state = 'pending'",
        0,
        30,
    );
    std::thread::sleep(Duration::from_millis(SETTLE_MS * 3));
    assert!(
        !d.inbox().join("xss").exists(),
        "the renamed folder was re-created:\n{}",
        d.log()
    );
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE kind = 'notice' AND idempotency_key LIKE 'notice/agency-folder-gone/%'",
        1,
        30,
    );
    assert_eq!(d.stop(), Some(0));
}

/// The value of an unlabelled series in a scrape.
fn series(page: &str, name: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} "))?.trim().parse().ok())
}

/// Item 15: a file the daemon cannot read waits in the inbox; past stuck_after_s it shows
/// in /metrics and the admin is told once.
#[test]
fn a_file_left_in_the_inbox_shows_in_metrics_and_is_told_once() {
    use std::os::unix::fs::PermissionsExt as _;
    let (mut d, port) = with_http("stuck_after_s = 2", "");
    let path = d.inbox().join("xss/权限不对.txt");
    std::fs::write(&path, distinct_report(15)).expect("w");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    assert!(
        d.start_unprivileged(),
        "cannot run the daemon unprivileged (need setpriv as root)"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let page = loop {
        let page = harness::web::request(port, "GET", "/metrics", None, None)
            .map(|r| r.text())
            .unwrap_or_default();
        if series(&page, "nianbao_inbox_waiting_files") == Some(1.0) {
            break page;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never counted as waiting:\n{page}\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    harness::http::promtool_accepts(&page);
    let age = series(&page, "nianbao_inbox_oldest_waiting_age_seconds").expect("age");
    assert!(age >= 2.0, "{age}");
    let told = "SELECT count(*) FROM outbox WHERE kind = 'notice' \
                AND idempotency_key LIKE 'notice/inbox-waiting/%'";
    d.wait_count(told, 1, 30);
    // Several more rounds: still one notice.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(d.count(told), 1);
    assert_eq!(d.count("SELECT count(*) FROM submissions"), 0);
    // Readable again: taken, and no longer waiting.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    d.wait_count(CHECKED, 1, 30);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let page = harness::web::request(port, "GET", "/metrics", None, None)
            .map(|r| r.text())
            .unwrap_or_default();
        if series(&page, "nianbao_inbox_waiting_files") == Some(0.0) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{page}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(d.stop(), Some(0));
}
