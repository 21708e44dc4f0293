//! A scan dropped into an agency's folder (issue 25), against the real daemon, its SQLite
//! file and the real SMTP test server on 127.0.0.1: with `[review] hold` left at `off`, the
//! feedback is held all the same, the agency hears "已收到，正在审核" at once and nothing
//! else, and the officer's release sends the feedback, which says the report was read from a
//! scan. The scan is the 淮安 fixture's pages rasterised to JPEG and packed into a PDF with no
//! text layer.

mod harness;
#[path = "support/image_pdf.rs"]
mod image_pdf;

use std::time::Duration;

use harness::smtp::{SmtpServer, mails_to, parts, received, smtp_config, wait_received};
use harness::web::{Client, csrf_of, free_port, receipt_of, user_add};
use harness::{CHECKED, Daemon};
use image_pdf::scanned_fixture;

#[test]
fn a_dropped_scan_is_held_acknowledged_at_once_and_released_by_the_officer() {
    let smtp_port = free_port();
    let mail_dir = tempfile::tempdir().expect("tempdir");
    let _server = SmtpServer::start(smtp_port, mail_dir.path());
    let port = free_port();
    // `[review] hold` is not set (off): a scan is held whatever it says.
    let mut d = Daemon::with_config(
        "",
        &format!(
            "{}[http]\nlisten = \"127.0.0.1:{port}\"\n",
            smtp_config(smtp_port)
        ),
    );
    // A scan is megabytes: the harness's 1 MB limit is raised for it.
    let config = d.inbox().parent().expect("dir").join("nianbao.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace("max_file_mb = 1\n", "max_file_mb = 20\n"),
    )
    .expect("config");
    user_add(&d, "alice", "admin", "alice's long password");
    std::fs::write(d.inbox().join("xss/年报扫描件.pdf"), scanned_fixture(200)).expect("drop");
    d.start();
    d.wait_count(CHECKED, 1, 240);
    let got = wait_received(mail_dir.path(), 1, 60);
    assert_eq!(got.len(), 1, "{}", d.log());
    std::thread::sleep(Duration::from_secs(5));
    let mails = mails_to(mail_dir.path(), "gkb@xss.example.cn");
    assert_eq!(mails.len(), 1, "only the acknowledgement: {mails:?}");
    assert!(
        mails[0].0.starts_with("【已收到，正在审核】") && mails[0].1.contains("已收到，正在审核"),
        "{mails:?}"
    );
    let receipt = receipt_of(&d, "xss");
    // The stored findings say the report was read by OCR, about the reading.
    d.wait_count(
        "SELECT count(*) FROM findings WHERE rule = 'file.ocr'",
        1,
        10,
    );

    let mut alice = Client::new(port);
    assert_eq!(alice.login("alice", "alice's long password").code, 303);
    let page = format!("/submission/{receipt}");
    let text = alice.get(&page).text();
    assert!(text.contains("id=\"held\""), "{text}");
    assert!(text.contains("扫描件"), "{text}");
    let csrf = csrf_of(&text);
    // The scan's pages beside the tables as read.
    assert!(text.contains("id=\"scan-tables\""), "{text}");
    assert!(
        text.contains(&format!("/submission/{receipt}/page/1")),
        "{text}"
    );
    let image = alice.get(&format!("/submission/{receipt}/page/1"));
    assert_eq!(image.code, 200);
    assert_eq!(image.header("content-type"), Some("image/png"));
    assert!(image.body.starts_with(b"\x89PNG"), "not a PNG");
    assert_eq!(
        alice.get(&format!("/submission/{receipt}/page/99")).code,
        404
    );

    // The officer corrects one cell of the reading, with a reason (kept in the history).
    let cell =
        "SELECT value FROM cells WHERE tbl = 2 AND row = 'carried_over' AND col = 'natural_person'";
    let read: i64 = d.count(cell);
    let correct = |alice: &mut Client, value: &str, reason: &str| {
        alice.post(
            &format!("/submission/{receipt}/correct"),
            &[
                ("csrf", &csrf),
                ("cell", "2/carried_over/natural_person"),
                ("value", value),
                ("reason", reason),
            ],
        )
    };
    let same = correct(&mut alice, &read.to_string(), "核对");
    assert_eq!(same.code, 409);
    assert!(same.text().contains("无需更正"), "{}", same.text());
    let not_a_number = correct(&mut alice, "1o", "核对");
    assert_eq!(not_a_number.code, 409);
    assert!(
        not_a_number.text().contains("不是整数"),
        "{}",
        not_a_number.text()
    );
    let no_reason = correct(&mut alice, "7", " ");
    assert_eq!(no_reason.code, 409);
    let fixed = read + 1;
    let r = correct(&mut alice, &fixed.to_string(), "对照扫描件第 4 页");
    assert_eq!(r.code, 303, "{}", r.text());
    assert_eq!(
        d.count(cell),
        fixed,
        "the stored cell is the corrected value"
    );
    let page_after = alice.get(&page).text();
    assert!(page_after.contains("更正识别结果"), "{page_after}");
    assert!(
        page_after.contains(&format!(
            "识别为 {read}，经核对更正为 {fixed}（理由：对照扫描件第 4 页）"
        )),
        "{page_after}"
    );
    // Still held: the agency has heard nothing of it yet.
    assert_eq!(mails_to(mail_dir.path(), "gkb@xss.example.cn").len(), 1);

    let r = alice.post(
        &format!("/submission/{receipt}/review"),
        &[("csrf", &csrf), ("action", "release")],
    );
    assert_eq!(r.code, 303, "{}", r.text());
    assert_eq!(wait_received(mail_dir.path(), 2, 60).len(), 2);
    // The released mail carries the reviewed tables: the corrected value in its HTML part,
    // and the correction said in its text.
    let released = received(mail_dir.path())
        .into_iter()
        .map(|(_, raw)| parts(&raw))
        .find(|(s, _, _)| !s.starts_with("【已收到，正在审核】"))
        .expect("the released feedback");
    assert!(
        released
            .1
            .contains(&format!("识别为 {read}，经核对更正为 {fixed}")),
        "{}",
        released.1
    );
    assert!(released.2.contains(&format!(">{fixed}<")), "{}", released.2);
    // After the release nothing more is corrected.
    let late = correct(&mut alice, &read.to_string(), "再改");
    assert_eq!(late.code, 409);
    assert!(late.text().contains("已经发出"), "{}", late.text());
    let mails = mails_to(mail_dir.path(), "gkb@xss.example.cn");
    let feedback = mails
        .iter()
        .find(|(s, _)| !s.starts_with("【已收到，正在审核】"))
        .expect("the released feedback");
    assert!(
        feedback.1.contains("本报告由扫描件识别读取"),
        "{}",
        feedback.1
    );
    // What is about the reading says so, so that the clerk corrects nothing for it.
    assert!(
        feedback
            .1
            .contains("（扫描识别，非报告错误）本报告由扫描件识别读取"),
        "{}",
        feedback.1
    );
    assert_eq!(d.stop(), Some(0));
}

/// Issue 25, item 5: scans do not starve the rest. With one ingest worker, two scans are
/// dropped and then a text report: the workers record the scans and leave them to the scan
/// lane (the retry task, one scan at a time), so the text report is checked while scans are
/// still waiting to be read. Before the lane, the one worker read the scans first and the
/// text report waited for all of them.
#[test]
fn a_text_report_dropped_during_a_scan_burst_is_not_kept_waiting_behind_the_scans() {
    let mut d = Daemon::new();
    let config = d.inbox().parent().expect("dir").join("nianbao.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace("max_file_mb = 1\n", "max_file_mb = 20\n")
            .replace("workers = 2\n", "workers = 1\n"),
    )
    .expect("config");
    let scan = scanned_fixture(150);
    d.start();
    for i in 0..2 {
        // Each scan its own bytes (a comment after the end of the PDF), so that none is a
        // duplicate answered without reading.
        let mut bytes = scan.clone();
        bytes.extend_from_slice(format!("\n% copy {i}\n").as_bytes());
        std::fs::write(d.inbox().join(format!("xss/扫描件{i}.pdf")), bytes).expect("drop");
    }
    const SCANS_RECORDED: &str =
        "SELECT count(*) FROM submissions WHERE original_name LIKE 'xss/%'";
    d.wait_count(SCANS_RECORDED, 2, 120);
    std::fs::write(
        d.inbox().join("lc/年报.txt"),
        harness::fixture("000_d016082c1b868431.txt"),
    )
    .expect("drop");
    d.wait_count(
        "SELECT count(*) FROM submissions WHERE original_name LIKE 'lc/%' AND state != 'archived'",
        1,
        120,
    );
    let scans_waiting = d.count(
        "SELECT count(*) FROM submissions WHERE original_name LIKE 'xss/%' AND state = 'archived'",
    );
    assert!(
        scans_waiting >= 1,
        "the text report was checked only after the scans: {scans_waiting} of 2 still waiting\n{}",
        d.log()
    );
    assert!(
        d.log().contains("read by OCR in the scan lane"),
        "{}",
        d.log()
    );
    // The lane reads every scan in the end, and holds each for the officer's review.
    d.wait_count(
        "SELECT count(*) FROM submissions WHERE original_name LIKE 'xss/%' AND state != 'archived'",
        2,
        300,
    );
    assert_eq!(
        d.count("SELECT count(*) FROM findings WHERE rule = 'file.ocr'"),
        2,
        "{}",
        d.log()
    );
    assert_eq!(d.stop(), Some(0));
}
