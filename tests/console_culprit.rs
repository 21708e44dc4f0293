//! The console's submission page names and marks the likely culprit as the mail does (issue
//! 24, items 9 and 15): the real daemon, its console over HTTP on 127.0.0.1.

mod harness;

use harness::web::{Client, free_port, receipt_of};
use harness::{CHECKED, Daemon, fixture};

#[test]
fn the_submission_page_labels_and_marks_the_likely_culprit() {
    let port = free_port();
    let mut d = Daemon::with_config("", &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    // The 淮安 2024 report with （一）予以公开 自然人 1298 for 1288.
    let text = String::from_utf8(fixture("005_huaian-2024.pdftotext.txt"))
        .expect("utf-8")
        .replace(
            "（一）予以公开 1288 21 0 0 50 3 1362",
            "（一）予以公开 1298 21 0 0 50 3 1362",
        );
    std::fs::write(d.inbox().join("xss/淮安.txt"), text).expect("drop");
    d.start();
    d.wait_count(CHECKED, 1, 30);
    let mut c = Client::new(port);
    let receipt = receipt_of(&d, "xss");
    let page = c.get(&format!("/submission/{receipt}"));
    assert_eq!(page.code, 200, "{}", page.text());
    let page = page.text();
    // The page's own list of items (not the mail shown further down) starts with it,
    // labelled as the cause.
    let list = &page[page.find("<ol class=\"items\">").expect("items")..];
    let first = &list[..list.find("</li>").expect("first item")];
    assert!(first.contains("【最可能的原因】"), "{first}");
    assert!(
        page.contains("“（一）予以公开”行“自然人”列填的是 1298"),
        "{page}"
    );
    let at = page.find("data-mark=\"culprit\"").expect("a culprit cell");
    let cell = &page[at..at + page[at..].find("</td>").expect("end of cell")];
    assert!(
        cell.contains(">1298<") && cell.contains("应为 1288"),
        "{cell}"
    );
    assert_eq!(
        page.matches("data-mark=\"consequence\"").count(),
        2,
        "{page}"
    );
    assert!(page.contains("data-mark=\"legend\""), "{page}");
    assert_eq!(d.stop(), Some(0));
}
