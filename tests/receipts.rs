//! What the clerk finds in the folder and the mailbox (issue 24, items 8, 12, 13, 14): the
//! real daemon, real folders, the `.eml` spool.

mod harness;

use harness::{CHECKED, Daemon, distinct_report, report_for};

const CONTACT: &str = "[office]\ncontact = { name = \"王丽\", phone = \"0714-6221234\", email = \"gkb@office.example.cn\" }\n";
const CONTACT_LINE: &str =
    "如有疑问，请联系政务公开办王丽（电话 0714-6221234，邮箱 gkb@office.example.cn）。";

/// Every text part (plain and HTML) of the `.eml` files whose name starts with `kind`.
fn mail_parts(d: &Daemon, kind: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in d.eml_files() {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        if !name.is_some_and(|n| n.starts_with(kind)) {
            continue;
        }
        let bytes = std::fs::read(&p).expect("eml");
        let mail = mailparse::parse_mail(&bytes).expect("parse eml");
        let parts: Vec<&mailparse::ParsedMail<'_>> = if mail.subparts.is_empty() {
            vec![&mail]
        } else {
            mail.subparts.iter().collect()
        };
        for part in parts {
            out.push((part.ctype.mimetype.clone(), part.get_body().expect("body")));
        }
    }
    out
}

fn receipt_of(d: &Daemon, original_name: &str) -> String {
    d.db()
        .expect("db")
        .query_row(
            "SELECT receipt FROM submissions WHERE original_name = ?1",
            [original_name],
            |r| r.get(0),
        )
        .expect("receipt")
}

fn wait_receipts(d: &Daemon, n: i64) {
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE kind = 'receipt' AND state = 'sent'",
        n,
        20,
    );
}

#[test]
fn item12_the_receipt_cannot_pass_for_the_report_and_says_where_it_went() {
    let mut d = Daemon::new();
    d.start();
    std::fs::write(d.inbox().join("xss/2022年报.txt"), report_for(2022)).expect("w");
    d.wait_count(CHECKED, 1, 20);
    wait_receipts(&d, 1);
    let receipts = d.inbox().join("xss/回执");
    let names: Vec<String> = std::fs::read_dir(&receipts)
        .expect("receipts")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["回执_2022年报.txt.txt"], "{names:?}");
    let text = std::fs::read_to_string(receipts.join("回执_2022年报.txt.txt")).expect("read");
    let first = text.lines().next().unwrap_or_default();
    let receipt = receipt_of(&d, "xss/2022年报.txt");
    assert!(
        first.contains("《2022年报.txt》已由审核系统取走并原样存档") && first.contains(&receipt),
        "{first}"
    );
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn item13_a_new_version_names_what_it_supersedes_and_the_old_receipt_says_so() {
    let mut d = Daemon::new();
    d.start();
    std::fs::write(d.inbox().join("xss/v1.txt"), distinct_report(1)).expect("w");
    d.wait_count(CHECKED, 1, 20);
    wait_receipts(&d, 1);
    let r1 = receipt_of(&d, "xss/v1.txt");
    std::fs::write(d.inbox().join("xss/v2（改）.txt"), distinct_report(2)).expect("w");
    d.wait_count(CHECKED, 2, 20);
    wait_receipts(&d, 3);
    let r2 = receipt_of(&d, "xss/v2（改）.txt");
    let new = std::fs::read_to_string(d.inbox().join("xss/回执/回执_v2（改）.txt.txt"))
        .expect("new receipt");
    let names_old = format!("本版本替代此前提交的《v1.txt》（回执编号 {r1}）");
    assert!(new.contains(&names_old), "{new}");
    let old =
        std::fs::read_to_string(d.inbox().join("xss/回执/回执_v1.txt.txt")).expect("old receipt");
    let first = old.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("【本回执已作废】") && first.contains(&r2) && first.contains(&r1),
        "{first}"
    );
    // The old receipt is still there below that line.
    assert!(old.contains("已由审核系统取走并原样存档"), "{old}");
    // The mail says it too, in both parts.
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE kind = 'feedback' AND state = 'sent'",
        2,
        20,
    );
    let parts = mail_parts(&d, "");
    for mime in ["text/plain", "text/html"] {
        assert!(
            parts.iter().any(|(m, body)| m == mime
                && body.contains(&format!("（回执编号 {r1}）"))
                && body.contains("本版本替代此前提交的")),
            "{mime}: {parts:?}"
        );
    }
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn item14_receipts_have_no_mail_footer_and_every_message_names_the_contact() {
    let mut d = Daemon::with_config("", CONTACT);
    d.start();
    std::fs::write(d.inbox().join("xss/2022年报.txt"), report_for(2022)).expect("w");
    d.wait_count(CHECKED, 1, 20);
    wait_receipts(&d, 1);
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE kind = 'feedback' AND state = 'sent'",
        1,
        20,
    );
    let receipt =
        std::fs::read_to_string(d.inbox().join("xss/回执/回执_2022年报.txt.txt")).expect("read");
    assert!(!receipt.contains("请勿直接回复"), "{receipt}");
    assert!(!receipt.contains("本邮件"), "{receipt}");
    assert!(receipt.contains(CONTACT_LINE), "{receipt}");
    let parts = mail_parts(&d, "");
    assert!(!parts.is_empty());
    for (mime, body) in &parts {
        assert!(body.contains(CONTACT_LINE), "{mime}: {body}");
        assert!(!body.contains("请与我们联系"), "{mime}: {body}");
    }
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn item14_messages_end_their_sentences_and_deadlines_include_the_day() {
    // The format error (an unknown format) ends with its full stop.
    let result = nianbao::check::check_bytes(b"\x00\x01\x02\x03 not a report", "x.bin");
    let message = &result.findings[0].message;
    assert_eq!(result.findings[0].rule, "file.unknown_format");
    assert!(message.ends_with('。'), "{message}");
    // A reminder's deadline includes the day itself.
    let agency: nianbao::config::Agency =
        toml::from_str("folder = \"xss\"\nname = \"西塞山区政数局\"").expect("agency");
    let deadline = jiff::civil::date(2026, 12, 10);
    for stage in [
        nianbao::deadlines::Stage::Before,
        nianbao::deadlines::Stage::Overdue,
    ] {
        let today = match stage {
            nianbao::deadlines::Stage::Before => jiff::civil::date(2026, 12, 3),
            _ => jiff::civil::date(2026, 12, 12),
        };
        let (subject, body) = nianbao::deadlines::message(stage, &agency, 2025, deadline, today);
        let text = format!("{subject}\n{body}");
        assert!(text.contains("2026年12月10日（含）前"), "{text}");
        assert!(!text.contains("12月10日前"), "{text}");
        assert!(!text.contains("请与我们联系"), "{text}");
    }
}

#[test]
fn item8_a_report_of_another_year_says_the_seasons_report_is_still_missing() {
    let mut d = Daemon::new();
    d.start();
    // The harness files reports in 2023: the season's report is 2022's.
    // (`report_for` replaces 2022 and then 2021: 2020 is the year it makes cleanly.)
    std::fs::write(d.inbox().join("xss/2020年报.txt"), report_for(2020)).expect("w");
    d.wait_count(CHECKED, 1, 20);
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE kind = 'feedback' AND state = 'sent'",
        1,
        20,
    );
    let parts = mail_parts(&d, "");
    assert!(!parts.is_empty());
    for (mime, body) in &parts {
        assert!(!body.contains("无需再做任何事"), "{mime}: {body}");
        assert!(
            body.contains("2022 年度政府信息公开工作年度报告尚未收到"),
            "{mime}: {body}"
        );
        assert!(body.contains("请将 2022 年度的报告"), "{mime}: {body}");
    }
    let db = d.db().expect("db");
    let year: i64 = db
        .query_row(
            "SELECT year FROM submissions WHERE original_name = 'xss/2020年报.txt'",
            [],
            |r| r.get(0),
        )
        .expect("year");
    assert_eq!(year, 2020, "kept under its own year");
    // The season's status still counts the agency as missing; 2020 has it.
    let (_, season, _) = d.cli(&["status", "--year", "2022", "--json"]);
    let (_, own, _) = d.cli(&["status", "--year", "2020", "--json"]);
    let submitted = |json: &str| -> bool {
        let v: serde_json::Value = serde_json::from_str(json).expect("status json");
        v["agencies"]
            .as_array()
            .expect("agencies")
            .iter()
            .any(|a| a["folder"] == "xss" && a["submitted"] == true)
    };
    assert!(!submitted(&season), "{season}");
    assert!(submitted(&own), "{own}");
    assert_eq!(d.stop(), Some(0));
}
