//! `nianbao run` as deployed: the real binary watching real folders, a real SQLite file,
//! `.eml` files in the spool. Each test has its own temporary inbox and data folder.

mod harness;

use std::process::Command;
use std::time::Duration;

use harness::{CHECKED, Daemon, SETTLE_MS, distinct_report, fixture};

#[test]
fn files_dropped_while_down_are_taken_at_start_and_answered() {
    let mut d = Daemon::new();
    std::fs::write(
        d.inbox().join("xss/2022年报.txt"),
        fixture("000_d016082c1b868431.txt"),
    )
    .expect("w");
    std::fs::write(
        d.inbox().join("lc/2022.txt"),
        fixture("001_41152148c7aabaad.txt"),
    )
    .expect("w");
    d.start();
    d.wait_count(CHECKED, 2, 20);
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE state = 'sent' AND kind != 'receipt'",
        3,
        10,
    );
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE state = 'sent' AND kind = 'receipt'",
        2,
        10,
    );
    // The outcome is visible on the share too: a receipt file beside the report.
    let receipt_file = std::fs::read_to_string(d.inbox().join("xss/回执/回执_2022年报.txt.txt"))
        .expect("receipt file");
    assert!(
        receipt_file.contains("【已受理】") && receipt_file.contains("NB-"),
        "{receipt_file}"
    );
    // The inbox holds only what is not yet taken; the originals are archived byte for byte.
    assert!(!d.inbox().join("xss/2022年报.txt").exists());
    let db = d.db().expect("db");
    let (sha, verdict, receipt): (String, String, String) = db
        .query_row(
            "SELECT sha256, verdict, receipt FROM submissions WHERE agency_folder = 'xss'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("row");
    assert_eq!(verdict, "accepted");
    assert!(
        receipt.starts_with("NB-") && receipt.len() == "NB-2026-000001".len(),
        "{receipt}"
    );
    let archived = d.dir.path().join("data/archive").join(&sha[..2]).join(&sha);
    assert_eq!(
        std::fs::read(archived).expect("archived"),
        fixture("000_d016082c1b868431.txt")
    );
    let lc: String = db
        .query_row(
            "SELECT verdict FROM submissions WHERE agency_folder = 'lc'",
            [],
            |r| r.get(0),
        )
        .expect("row");
    assert_eq!(lc, "rejected", "001's damaged table 2");
    // Every cell is queryable.
    let v: i64 = db
        .query_row(
            "SELECT value FROM cells c JOIN submissions s ON s.id = c.submission_id
             WHERE s.agency_folder = 'lc' AND c.tbl = 2 AND c.row = 'new_received' AND c.col = 'total'",
            [],
            |r| r.get(0),
        )
        .expect("cell");
    assert_eq!(v, 15);
    // One message per address: xss has one, lc two.
    let emls = d.eml_files();
    assert_eq!(emls.len(), 3, "{emls:?}");
    let all: String = emls
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    assert!(all.contains("gkb@xss.example.cn") && all.contains("b@lc.example.cn"));
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn slow_writer_is_read_only_when_complete() {
    let mut d = Daemon::new();
    d.start();
    d.wait_count("SELECT 1", 1, 10);
    let bytes = fixture("002_5ddfc993aefd2777.txt");
    let path = d.inbox().join("xss/slow.txt");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&path).expect("create");
        for chunk in bytes.chunks(bytes.len() / 5 + 1) {
            f.write_all(chunk).expect("write");
            f.flush().expect("flush");
            std::thread::sleep(Duration::from_millis(SETTLE_MS / 2));
        }
    }
    d.wait_count(CHECKED, 1, 20);
    let db = d.db().expect("db");
    let size: i64 = db
        .query_row("SELECT size FROM submissions", [], |r| r.get(0))
        .expect("size");
    assert_eq!(size as usize, bytes.len(), "read whole, not a prefix");
    assert_eq!(d.count("SELECT count(*) FROM submissions"), 1);
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn a_folder_of_1000_files_moved_in_is_fully_ingested() {
    let mut d = Daemon::new();
    d.start();
    let staging = d.dir.path().join("staging");
    std::fs::create_dir_all(&staging).expect("staging");
    for i in 0..1000 {
        std::fs::write(staging.join(format!("r{i:04}.txt")), distinct_report(i)).expect("w");
    }
    // A whole new agency folder moved in at once (unknown folder: an agency of its own,
    // named by the folder; its mail goes to the admin).
    std::fs::rename(&staging, d.inbox().join("newcomer")).expect("move in");
    d.wait_count(CHECKED, 1000, 120);
    assert_eq!(
        d.count("SELECT count(DISTINCT sha256) FROM submissions"),
        1000
    );
    assert_eq!(
        d.count("SELECT count(*) FROM submissions WHERE agency_folder = 'newcomer'"),
        1000
    );
    assert_eq!(d.stop(), Some(0));
    // Every report was taken; only receipt files (in 回执) may be there.
    let left: Vec<String> = std::fs::read_dir(d.inbox().join("newcomer"))
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(left.iter().all(|n| n == "回执"), "{left:?}");
}

#[test]
fn duplicates_and_new_versions() {
    let mut d = Daemon::new();
    d.start();
    let v1 = fixture("000_d016082c1b868431.txt");
    std::fs::write(d.inbox().join("xss/a.txt"), &v1).expect("w");
    d.wait_count(CHECKED, 1, 20);
    // The same bytes again under another name: a duplicate, answered with the first receipt.
    std::fs::write(d.inbox().join("xss/b.txt"), &v1).expect("w");
    d.wait_count(CHECKED, 2, 20);
    let db = d.db().expect("db");
    let (state, first): (String, String) = db
        .query_row(
            "SELECT s.state, f.receipt FROM submissions s JOIN submissions f ON f.id = s.duplicate_of",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("duplicate row");
    assert_eq!(state, "duplicate");
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE kind = 'feedback' AND state = 'sent'",
        2,
        10,
    );
    let body: String = db
        .query_row(
            "SELECT body_text FROM outbox ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("body");
    assert!(
        body.contains(&first),
        "the duplicate's answer names the first receipt"
    );
    // A corrected version for the same year supersedes, both stay in history.
    std::fs::write(d.inbox().join("xss/c.txt"), distinct_report(7)).expect("w");
    d.wait_count(CHECKED, 3, 20);
    assert_eq!(
        d.count("SELECT count(*) FROM submissions WHERE superseded_by IS NOT NULL"),
        1
    );
    assert_eq!(
        d.count("SELECT count(*) FROM submissions WHERE agency_folder = 'xss'"),
        3
    );
    assert_eq!(d.stop(), Some(0));
    let status = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["status", "--json", "--year", "2022", "--config"])
        .arg(d.dir.path().join("nianbao.toml"))
        .output()
        .expect("status");
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status json");
    assert_eq!(v["submissions"].as_array().map(Vec::len), Some(3));
    let agencies = v["agencies"].as_array().expect("agencies");
    let xss = agencies.iter().find(|a| a["folder"] == "xss").expect("xss");
    assert_eq!(xss["submitted"], true);
    assert_eq!(xss["submissions"], 3);
    let lc = agencies.iter().find(|a| a["folder"] == "lc").expect("lc");
    assert_eq!(lc["submitted"], false, "lc has not submitted");
}

#[test]
fn junk_empty_and_too_large_files_get_an_answer() {
    let mut d = Daemon::new();
    d.start();
    std::fs::write(d.inbox().join("xss/empty.txt"), b"").expect("w");
    std::fs::write(d.inbox().join("xss/photo.jpg"), b"\xFF\xD8\xFF\xE0junkjunk").expect("w");
    std::fs::write(d.inbox().join("xss/big.txt"), vec![b'a'; 2 * 1024 * 1024]).expect("w");
    std::fs::write(
        d.inbox().join("stray.txt"),
        fixture("003_16d03b1718509b6f.txt"),
    )
    .expect("w");
    // Temp and lock files are never taken.
    std::fs::write(d.inbox().join("xss/~$报告.docx"), b"lock").expect("w");
    std::fs::write(d.inbox().join("xss/report.docx.part"), b"partial").expect("w");
    d.wait_count(CHECKED, 3, 20);
    let db = d.db().expect("db");
    let rules: Vec<String> = db
        .prepare("SELECT rule FROM findings ORDER BY rule")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("rules");
    // The broken .jpg is read as a scan (issue 25) and found damaged.
    for rule in ["file.empty", "file.corrupt"] {
        assert!(rules.iter().any(|r| r == rule), "{rule} in {rules:?}");
    }
    // The file over max_file_mb is answered from its size: not archived, not recorded,
    // left in place (issue 23); its agency is told.
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE idempotency_key LIKE 'too-large/%' AND subject LIKE '%文件过大%'",
        1,
        10,
    );
    assert!(d.inbox().join("xss/big.txt").exists());
    // The stray top-level file has no agency: the admin hears of it.
    d.wait_count("SELECT count(*) FROM outbox WHERE kind = 'admin'", 3, 10);
    assert!(d.inbox().join("xss/~$报告.docx").exists());
    assert!(d.inbox().join("xss/report.docx.part").exists());
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn kill_9_during_a_burst_loses_nothing_and_repeats_nothing() {
    let mut d = Daemon::new();
    d.start();
    let n = 300;
    for i in 0..n {
        std::fs::write(
            d.inbox().join(format!("xss/r{i:03}.txt")),
            distinct_report(1000 + i),
        )
        .expect("w");
    }
    // Kill it three times at different points of the burst, restarting each time.
    for wait_ms in [700u64, 400, 900] {
        std::thread::sleep(Duration::from_millis(wait_ms));
        d.kill9();
        d.start();
    }
    d.wait_count(CHECKED, n as i64, 120);
    assert_eq!(
        d.count("SELECT count(*) FROM submissions"),
        n as i64,
        "each file stored once"
    );
    assert_eq!(
        d.count("SELECT count(DISTINCT sha256) FROM submissions"),
        n as i64
    );
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE state = 'sent' AND kind != 'receipt'",
        n as i64,
        30,
    );
    assert_eq!(
        d.count("SELECT count(*) FROM outbox WHERE kind != 'receipt'"),
        n as i64,
        "one message per submission"
    );
    // One receipt file per submission, plus the rewrites that mark an earlier version's
    // receipt superseded (all 300 are versions of the same agency's report).
    let receipts = d.count("SELECT count(*) FROM outbox WHERE kind = 'receipt'");
    assert!(
        (n as i64..2 * n as i64).contains(&receipts),
        "{receipts} receipt messages"
    );
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE state = 'sent' AND kind = 'receipt'",
        receipts,
        30,
    );
    assert_eq!(d.stop(), Some(0));
    assert_eq!(d.eml_files().len(), n, "one .eml per message");
    // Only the receipts folder is left in the agency's folder.
    let left: Vec<String> = std::fs::read_dir(d.inbox().join("xss"))
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(left, ["回执"]);
    assert_eq!(
        std::fs::read_dir(d.inbox().join("xss/回执"))
            .map(|r| r.count())
            .unwrap_or(0),
        n
    );
}

#[test]
fn an_ingest_error_is_retried_once_the_cause_is_gone() {
    let mut d = Daemon::new();
    d.start();
    d.wait_count("SELECT 1", 1, 10);
    // Block the archive: its temporary folder is a file now, so archiving fails.
    let tmp = d.dir.path().join("data/archive/tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::write(&tmp, b"in the way").expect("block");
    std::fs::write(
        d.inbox().join("xss/r.txt"),
        fixture("002_5ddfc993aefd2777.txt"),
    )
    .expect("w");
    std::thread::sleep(Duration::from_millis(SETTLE_MS * 4));
    assert_eq!(d.count("SELECT count(*) FROM submissions"), 0);
    assert!(
        d.inbox().join("xss/r.txt").exists(),
        "nothing lost while failing"
    );
    assert!(d.log().contains("cannot ingest"), "{}", d.log());
    std::fs::remove_file(&tmp).expect("unblock");
    d.wait_count(CHECKED, 1, 20);
    assert!(!d.inbox().join("xss/r.txt").exists());
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn the_daily_digest_goes_to_the_admin_once_a_day() {
    let mut d = Daemon::new();
    std::fs::write(
        d.inbox().join("xss/r.txt"),
        fixture("000_d016082c1b868431.txt"),
    )
    .expect("w");
    d.start();
    d.wait_count(CHECKED, 1, 20);
    assert_eq!(d.stop(), Some(0));
    assert_eq!(
        d.count("SELECT count(*) FROM outbox WHERE kind = 'digest'"),
        0,
        "off by default"
    );
    // Turn it on, due since midnight in every month.
    let config = d.dir.path().join("nianbao.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text.replacen(
        "[mail]\n",
        "[mail]\ndigest_time = \"00:00\"\ndigest_months = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]\n",
        1,
    );
    std::fs::write(&config, text).expect("config");
    d.start();
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE kind = 'digest' AND state = 'sent'",
        1,
        20,
    );
    assert_eq!(d.stop(), Some(0));
    d.start();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(d.stop(), Some(0));
    assert_eq!(
        d.count("SELECT count(*) FROM outbox WHERE kind = 'digest'"),
        1,
        "once a day"
    );
    let body: String = d
        .db()
        .expect("db")
        .query_row(
            "SELECT body_text FROM outbox WHERE kind = 'digest'",
            [],
            |r| r.get(0),
        )
        .expect("digest");
    // filing_year 2023 in the test config: the 2022 reports. xss submitted, lc is missing.
    assert!(body.contains("2022 年度报告报送情况"), "{body}");
    assert!(body.contains("西塞山区政数局：已受理"), "{body}");
    assert!(body.contains("老城区人民政府办公室：未提交"), "{body}");
}

/// A PDF and a program renamed .doc go through the same pipeline as text: archived,
/// read, stored with their format, answered.
#[test]
fn a_pdf_and_a_program_renamed_doc_go_through_the_pipeline() {
    let mut d = Daemon::new();
    d.start();
    std::fs::write(
        d.inbox().join("xss/淮安2024.pdf"),
        fixture("005_huaian-2024.pdf"),
    )
    .expect("w");
    let mut exe = b"MZ\x90\x00".to_vec();
    exe.extend(std::iter::repeat_n(0u8, 512));
    std::fs::write(d.inbox().join("lc/年报.doc"), &exe).expect("w");
    d.wait_count(CHECKED, 2, 30);
    let db = d.db().expect("db");
    let (format, year, total): (String, i64, i64) = db
        .query_row(
            "SELECT s.format, s.year, c.value FROM submissions s JOIN cells c
             ON c.submission_id = s.id
             WHERE s.agency_folder = 'xss' AND c.tbl = 2 AND c.row = 'new_received'
               AND c.col = 'total'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("pdf row");
    assert_eq!((format.as_str(), year, total), ("pdf", 2024, 3119));
    let rule: String = db
        .query_row(
            "SELECT f.rule FROM findings f JOIN submissions s ON s.id = f.submission_id
             WHERE s.agency_folder = 'lc'",
            [],
            |r| r.get(0),
        )
        .expect("doc finding");
    assert_eq!(rule, "file.unknown_format");
    assert_eq!(d.stop(), Some(0));
}
