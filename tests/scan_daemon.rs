//! A scan dropped into an agency's folder (issue 25), against the real daemon, its SQLite
//! file and the real SMTP test server on 127.0.0.1: with `[review] hold` left at `off`, the
//! feedback is held all the same, the agency hears "已收到，正在审核" at once and nothing
//! else, and the officer's release sends the feedback, which says the report was read from a
//! scan. The scan is the 淮安 fixture's pages rasterised to JPEG and packed into a PDF with no
//! text layer.

mod harness;
#[path = "support/image_pdf.rs"]
mod image_pdf;

use std::process::Command;
use std::time::Duration;

use harness::smtp::{SmtpServer, mails_to, smtp_config, wait_received};
use harness::web::{Client, csrf_of, free_port, receipt_of, user_add};
use harness::{CHECKED, Daemon};
use image_pdf::image_pdf;

/// The fixture PDF's pages as JPEGs at `dpi`, packed into an image-only PDF.
fn scanned_fixture(dpi: u32) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let pdf = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/005_huaian-2024.pdf"
    );
    let status = Command::new("pdftoppm")
        .args([
            "-r",
            &dpi.to_string(),
            "-jpeg",
            "-jpegopt",
            "quality=75",
            pdf,
        ])
        .arg(dir.path().join("p"))
        .status()
        .expect("pdftoppm");
    assert!(status.success());
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let pages: Vec<(u32, u32, Vec<u8>)> = files
        .iter()
        .map(|f| {
            let (w, h) = image::image_dimensions(f).expect("dimensions");
            (w, h, std::fs::read(f).expect("jpeg"))
        })
        .collect();
    image_pdf(&pages)
}

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
    let r = alice.post(
        &format!("/submission/{receipt}/review"),
        &[("csrf", &csrf), ("action", "release")],
    );
    assert_eq!(r.code, 303, "{}", r.text());
    assert_eq!(wait_received(mail_dir.path(), 2, 60).len(), 2);
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
