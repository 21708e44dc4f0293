//! The daemon keeps going and tells someone (issue 12, part B), on the real daemon with its
//! real database: a submission that cannot be checked, a panic in the checker, a second
//! daemon on the same data folder, a full disk, a damaged database, errors that used to be
//! swallowed.

mod harness;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::{CHECKED, Daemon, distinct_report};

const ADMIN: &str = "admin@office.example.cn";

/// Records a submission as archived but not checked, the way a crash leaves one.
fn insert_archived(d: &Daemon, receipt: &str, sha256: &str, name: &str, size: usize) {
    d.db_rw()
        .execute(
            "INSERT INTO submissions (receipt, agency_folder, agency_name, original_name, size,
                 sha256, received_at, state)
             VALUES (?1, 'xss', '西塞山区政数局', ?2, ?3, ?4, '2026-01-10T02:00:00Z', 'archived')",
            rusqlite::params![receipt, name, size as i64, sha256],
        )
        .expect("insert");
}

/// A daemon that has created its database and stopped.
fn daemon_with_database() -> Daemon {
    let mut d = Daemon::new();
    d.start();
    d.wait_log("watching", 60);
    assert_eq!(d.stop(), Some(0));
    d
}

fn state_of(d: &Daemon, receipt: &str) -> String {
    d.db()
        .expect("db")
        .query_row(
            "SELECT state || ': ' || COALESCE(failure, '') FROM submissions WHERE receipt = ?1",
            [receipt],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| format!("({e})"))
}

fn notices_for(d: &Daemon, receipt: &str) -> i64 {
    d.count(&format!(
        "SELECT count(*) FROM outbox WHERE idempotency_key = '{receipt}/notice/{ADMIN}'"
    ))
}

#[test]
fn a_submission_whose_archived_copy_is_missing_is_failed_and_the_daemon_carries_on() {
    let mut d = daemon_with_database();
    let never = nianbao::check::sha256_hex(b"never archived");
    insert_archived(&d, "NB-2025-900001", &never, "xss/lost.txt", 14);
    d.start();
    d.wait_log("watching", 60);
    // The inbox is not held up by it.
    std::fs::write(d.inbox().join("xss/fresh.txt"), distinct_report(1)).expect("w");
    d.wait_count(
        "SELECT count(*) FROM submissions WHERE state = 'checked'",
        1,
        60,
    );
    assert!(
        state_of(&d, "NB-2025-900001").starts_with("failed: ")
            && state_of(&d, "NB-2025-900001").contains("missing"),
        "{}",
        state_of(&d, "NB-2025-900001")
    );
    d.wait_count(
        &format!(
            "SELECT count(*) FROM outbox WHERE idempotency_key = 'NB-2025-900001/notice/{ADMIN}' AND state = 'sent'"
        ),
        1,
        20,
    );
    // Told once: a restart neither retries it nor tells the admin again.
    assert_eq!(d.stop(), Some(0));
    d.start();
    std::fs::write(d.inbox().join("xss/fresh2.txt"), distinct_report(2)).expect("w");
    d.wait_count(
        "SELECT count(*) FROM submissions WHERE state = 'checked'",
        2,
        60,
    );
    assert_eq!(d.stop(), Some(0));
    assert_eq!(notices_for(&d, "NB-2025-900001"), 1);
    assert!(state_of(&d, "NB-2025-900001").starts_with("failed: "));
    assert_eq!(
        d.log().matches("recorded as failed").count(),
        1,
        "{}",
        d.log()
    );
}

#[test]
fn a_swapped_archive_file_is_reported_not_checked_as_the_original() {
    let mut d = daemon_with_database();
    let original = distinct_report(3);
    let sha = nianbao::check::sha256_hex(&original);
    // Another valid report sits under the original's name.
    let dest = d.dir.path().join("data/archive").join(&sha[..2]).join(&sha);
    std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
    std::fs::write(&dest, distinct_report(4)).expect("w");
    insert_archived(
        &d,
        "NB-2025-900002",
        &sha,
        "xss/swapped.txt",
        original.len(),
    );
    d.start();
    d.wait_count(
        "SELECT count(*) FROM submissions WHERE receipt = 'NB-2025-900002' AND state = 'failed'",
        1,
        60,
    );
    assert!(
        state_of(&d, "NB-2025-900002").contains("sha256"),
        "{}",
        state_of(&d, "NB-2025-900002")
    );
    assert_eq!(notices_for(&d, "NB-2025-900002"), 1);
    // The agency is not answered as if its report had been read.
    assert_eq!(
        d.count("SELECT count(*) FROM outbox WHERE kind = 'feedback'"),
        0
    );
    assert_eq!(d.count("SELECT count(*) FROM cells"), 0);
    assert_eq!(d.stop(), Some(0));
}

/// The test hook, and no backtraces (symbolising one takes seconds on a loaded machine).
const PANIC_ON_BOOM: &[(&str, &str)] =
    &[("NIANBAO_TEST_PANIC_ON", "boom"), ("RUST_BACKTRACE", "0")];

#[test]
fn a_panic_while_checking_one_file_is_caught_and_workers_survive() {
    let mut d = Daemon::new();
    d.start_env(PANIC_ON_BOOM);
    // More panicking files than workers (2), one at a time: a worker that died with the
    // first would leave none for the third.
    for i in 0..3 {
        std::fs::write(
            d.inbox().join(format!("xss/boom-{i}.txt")),
            distinct_report(10 + i),
        )
        .expect("w");
        d.wait_count(CHECKED, i as i64 + 1, 60);
    }
    std::fs::write(d.inbox().join("xss/fine.txt"), distinct_report(20)).expect("w");
    d.wait_count(CHECKED, 4, 60);
    assert_eq!(
        d.count(
            "SELECT count(*) FROM findings f JOIN submissions s ON s.id = f.submission_id
             WHERE f.rule = 'file.internal_error' AND s.original_name LIKE 'xss/boom-%'"
        ),
        3
    );
    assert_eq!(
        d.count(
            "SELECT count(*) FROM submissions WHERE original_name = 'xss/fine.txt' AND verdict = 'accepted'"
        ),
        1
    );
    // The admin gets a notice per file; the agency an answer that says the office looks.
    assert_eq!(
        d.count(&format!(
            "SELECT count(*) FROM outbox WHERE kind = 'notice' AND recipient = '{ADMIN}'"
        )),
        3
    );
    assert_eq!(
        d.count(
            "SELECT count(*) FROM outbox WHERE kind = 'feedback' AND body_text LIKE '%政务公开办会人工查看%'"
        ),
        3
    );
    let panics = d.log().matches("panicked").count();
    assert!(panics >= 3, "{}", d.log());
    // A restart does not check them again (no panic at every start).
    assert_eq!(d.stop(), Some(0));
    d.start_env(PANIC_ON_BOOM);
    std::fs::write(d.inbox().join("xss/fine2.txt"), distinct_report(21)).expect("w");
    d.wait_count(CHECKED, 5, 60);
    assert_eq!(d.log().matches("panicked").count(), panics, "{}", d.log());
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn a_second_daemon_on_the_same_data_dir_is_refused_and_names_the_first() {
    let mut first = Daemon::new();
    first.start();
    first.wait_log("watching", 60);
    let pid = first.pid().expect("pid");
    let err = first.dir.path().join("second.log");
    let mut second = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("run")
        .arg("--config")
        .arg(first.dir.path().join("nianbao.toml"))
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&err).expect("log")))
        .spawn()
        .expect("start the second daemon");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = second.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            let _ = second.wait();
            panic!(
                "the second daemon is still running after 20 s\n{}",
                std::fs::read_to_string(&err).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let message = std::fs::read_to_string(&err).expect("stderr");
    assert!(!status.success(), "{message}");
    assert!(message.contains(&format!("pid {pid}")), "{message}");
    // The first one goes on, and still holds its lock file.
    let lock = std::fs::read_to_string(first.dir.path().join("data/nianbao.lock")).expect("lock");
    assert_eq!(lock.trim(), pid.to_string());
    std::fs::write(first.inbox().join("xss/a.txt"), distinct_report(5)).expect("w");
    first.wait_count(CHECKED, 1, 60);
    assert_eq!(first.stop(), Some(0));
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.flatten().count())
}

#[test]
fn a_full_disk_backs_off_cleans_up_and_recovers_without_a_restart() {
    let mut d = Daemon::new();
    let data = d.dir.path().join("data");
    let Some(_unmount) = harness::disk::small_disk(&data, "16m") else {
        return;
    };
    d.start();
    std::fs::write(d.inbox().join("xss/before.txt"), distinct_report(30)).expect("w");
    d.wait_count(CHECKED, 1, 60);
    d.wait_count("SELECT count(*) FROM outbox WHERE state = 'pending'", 0, 20);
    harness::disk::fill(&data.join("filler"));
    let log_before = d.log().lines().count();
    for i in 0..3 {
        std::fs::write(
            d.inbox().join(format!("lc/full-{i}.txt")),
            distinct_report(31 + i),
        )
        .expect("w");
    }
    // Many settle periods and rescans (each a retry in the old daemon).
    std::thread::sleep(Duration::from_secs(12));
    let tmp = data.join("archive/tmp");
    eprintln!(
        "full disk, after 12 s: {} temp files, {} log lines since the disk filled",
        files_in(&tmp),
        d.log().lines().count() - log_before
    );
    assert!(files_in(&tmp) <= 2, "{} temp files left", files_in(&tmp));
    let log = d.log();
    let complaints: Vec<&str> = log
        .lines()
        .skip(log_before)
        .filter(|l| l.contains("ERROR") || l.contains("WARN"))
        .collect();
    assert!(
        complaints.len() <= 4,
        "{} error lines:\n{}",
        complaints.len(),
        complaints.join("\n")
    );
    // Nothing lost: the files wait in the inbox.
    for i in 0..3 {
        assert!(d.inbox().join(format!("lc/full-{i}.txt")).exists());
    }
    std::fs::remove_file(data.join("filler")).expect("free space");
    d.wait_count(CHECKED, 4, 90);
    // Answered: every message of the three (two addresses each, receipt files) delivered.
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE kind = 'feedback' AND state = 'sent'",
        1 + 3 * 2,
        60,
    );
    assert_eq!(files_in(&tmp), 0);
    // The admin was told once.
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE kind = 'notice' AND idempotency_key LIKE 'notice/ingest-failing/%'",
        1,
        60,
    );
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn an_unchecked_submission_is_retried_while_running() {
    let mut d = Daemon::new();
    d.start();
    d.wait_log("watching", 60);
    // Storing any outcome fails, as on a full disk, after the file was archived and recorded.
    d.db_rw()
        .execute_batch(
            "CREATE TRIGGER no_outcome BEFORE UPDATE OF state ON submissions
             WHEN NEW.state = 'checked'
             BEGIN SELECT RAISE(ABORT, 'simulated: database or disk is full'); END;",
        )
        .expect("trigger");
    std::fs::write(d.inbox().join("xss/late.txt"), distinct_report(40)).expect("w");
    d.wait_count(
        "SELECT count(*) FROM submissions WHERE state = 'archived'",
        1,
        60,
    );
    d.wait_log("simulated: database or disk is full", 60);
    d.db_rw()
        .execute_batch("DROP TRIGGER no_outcome")
        .expect("drop trigger");
    // Checked and answered without a restart.
    d.wait_count(CHECKED, 1, 60);
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE kind = 'feedback' AND state = 'sent'",
        1,
        60,
    );
    assert_eq!(d.stop(), Some(0));
}

/// A stopped daemon whose database holds six checked reports (a few dozen pages) and no
/// message still waiting.
fn stopped_with_reports(first: usize) -> Daemon {
    let mut d = Daemon::new();
    d.start();
    for i in 0..6 {
        std::fs::write(
            d.inbox().join(format!("xss/r{i}.txt")),
            distinct_report(first + i),
        )
        .expect("w");
    }
    d.wait_count(CHECKED, 6, 60);
    d.wait_count("SELECT count(*) FROM outbox WHERE state = 'pending'", 0, 60);
    assert_eq!(d.stop(), Some(0));
    d
}

/// Overwrites the middle third of the file with a pattern.
fn damage(path: &Path) {
    use std::io::{Seek, SeekFrom, Write};
    let len = std::fs::metadata(path).expect("stat").len();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open");
    f.seek(SeekFrom::Start(len / 3)).expect("seek");
    f.write_all(&vec![0xA5u8; (len / 3) as usize])
        .expect("write");
    f.sync_all().expect("sync");
}

#[test]
fn a_damaged_database_is_refused_at_start_and_db_check_says_so() {
    let mut d = stopped_with_reports(50);
    let (code, out, err) = d.cli(&["db", "check"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("ok"), "{out}");
    damage(&d.dir.path().join("data/nianbao.sqlite"));
    d.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(code) = d.exited() {
            break code;
        }
        assert!(
            Instant::now() < deadline,
            "still running on a damaged database\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(code.is_some_and(|c| c != 0), "{code:?}");
    let log = d.log();
    assert!(log.contains("damaged"), "{log}");
    assert!(log.contains("nianbao db check"), "{log}");
    assert!(log.contains("backup"), "{log}");
    let (code, out, err) = d.cli(&["db", "check"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("damaged"), "{out}{err}");
}

#[test]
fn mail_resend_fails_on_a_database_error() {
    let mut d = Daemon::new();
    d.start();
    std::fs::write(d.inbox().join("xss/a.txt"), distinct_report(60)).expect("w");
    d.wait_count(CHECKED, 1, 60);
    assert_eq!(d.stop(), Some(0));
    let receipt: String = d
        .db()
        .expect("db")
        .query_row("SELECT receipt FROM submissions", [], |r| r.get(0))
        .expect("receipt");
    // Another writer holds the database for longer than the busy timeout.
    let holder = d.db_rw();
    holder.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let (code, out, err) = d.cli(&["mail", "resend", &receipt]);
    assert!(code.is_some_and(|c| c != 0), "{code:?} {out} {err}");
    assert!(err.contains("locked"), "{out} {err}");
    holder.execute_batch("ROLLBACK").expect("unlock");
    let (code, out, err) = d.cli(&["mail", "resend", &receipt]);
    assert_eq!(code, Some(0), "{out} {err}");
}

#[test]
fn an_unreadable_report_of_last_year_is_logged_and_the_file_still_checked() {
    let mut d = Daemon::new();
    d.start();
    d.wait_log("watching", 60);
    // The fixture is a 2022 report; its agency's 2021 report is stored, but broken.
    d.db_rw()
        .execute(
            "INSERT INTO submissions (receipt, agency_folder, agency_name, original_name, size,
                 sha256, received_at, state, year, verdict, report_json)
             VALUES ('NB-2022-000001', 'xss', '西塞山区政数局', 'xss/2021.txt', 1, '00',
                 '2022-01-10T02:00:00Z', 'checked', 2021, 'accepted', '{\"not a report')",
            [],
        )
        .expect("insert");
    std::fs::write(d.inbox().join("xss/2022.txt"), distinct_report(70)).expect("w");
    d.wait_count(CHECKED, 2, 60);
    let log = d.log();
    assert!(log.contains("last year's report"), "{log}");
    assert!(log.contains("NB-2022-000001"), "{log}");
    assert_eq!(d.stop(), Some(0));
}

/// The first error a full read of every table gives on a damaged database.
fn read_error(db: &Path) -> Option<rusqlite::Error> {
    let conn = rusqlite::Connection::open(db).ok()?;
    ["submissions", "cells", "findings", "outbox"]
        .iter()
        .find_map(|table| {
            conn.prepare(&format!("SELECT * FROM {table}"))
                .and_then(|mut stmt| {
                    let n = stmt.column_count();
                    let mut rows = stmt.query([])?;
                    while let Some(row) = rows.next()? {
                        for i in 0..n {
                            let _ = row.get_ref(i)?;
                        }
                    }
                    Ok(())
                })
                .err()
        })
}

#[test]
fn damage_found_while_running_stops_the_watchdog_and_is_spooled_to_the_admin() {
    // A real damage error, from a real damaged database file.
    let d = stopped_with_reports(80);
    let db = d.dir.path().join("data/nianbao.sqlite");
    damage(&db);
    let error = read_error(&db).expect("the damaged database reads without an error");
    // A pipeline that is running (its own, sound data folder) meets that error.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = nianbao::config::Config {
        inbox: dir.path().join("inbox"),
        data_dir: dir.path().join("data"),
        ..Default::default()
    };
    config.mail.admin = Some(ADMIN.to_string());
    let pipeline = nianbao::ingest::Pipeline::open(config).expect("open");
    assert!(!pipeline.db_damaged());
    let error = anyhow::Error::from(error).context("cannot record the batch");
    pipeline.note_db_error(&error);
    pipeline.note_db_error(&error);
    assert!(pipeline.db_damaged(), "{error:#}");
    let spooled: Vec<_> = std::fs::read_dir(dir.path().join("data/outbox"))
        .expect("outbox")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    assert_eq!(spooled.len(), 1, "{spooled:?}");
    let text = std::fs::read_to_string(&spooled[0]).expect("eml");
    assert!(text.contains(ADMIN), "{text}");
    // Written straight to the spool: the outbox table knows nothing of it.
    assert_eq!(
        pipeline
            .store
            .lock()
            .expect("store")
            .pending_messages()
            .expect("pending")
            .len(),
        0
    );
}
