//! `docs/feedback-example.html` is what the renderer makes of a real report with two
//! mistakes put in (the 淮安 2024 text layer: （七）总计 3060 for 3050, 复议总计 350 for 351).
//! Regenerate after changing the renderer: `NIANBAO_WRITE_DOCS=1 cargo test --test docs`.

use nianbao::check::check_bytes_with;
use nianbao::mail::{Outcome, html, render};
use nianbao::validate::Context;

#[test]
fn the_committed_example_email_is_current() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/005_huaian-2024.pdftotext.txt"
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let text = text
        .replace(
            "（七）总计 2932 53 0 0 61 4 3050",
            "（七）总计 2932 53 0 0 61 4 3060",
        )
        .replace("72 64 178 37 351 ", "72 64 178 37 350 ");
    let result = check_bytes_with(
        text.as_bytes(),
        "淮安市2024年报.txt",
        &Context {
            previous: None,
            filing_year: 2025,
        },
    );
    let rules: Vec<&str> = result.findings.iter().map(|f| f.rule).collect();
    assert!(
        rules.contains(&"sum.t2_row_total") && rules.contains(&"sum.t3_group_total"),
        "{rules:?}"
    );
    let (subject, _) = render(
        "NB-2025-000042",
        Some("淮安市人民政府"),
        "淮安市2024年报.txt",
        &Outcome::Checked(&result),
    );
    let page = html::render(
        "NB-2025-000042",
        Some("淮安市人民政府"),
        "淮安市2024年报.txt",
        &result,
        &subject,
    );
    let target = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/feedback-example.html");
    if std::env::var_os("NIANBAO_WRITE_DOCS").is_some() {
        std::fs::write(target, &page).expect("write docs");
    }
    let committed = std::fs::read_to_string(target).unwrap_or_default();
    assert!(
        committed == page,
        "docs/feedback-example.html is out of date: NIANBAO_WRITE_DOCS=1 cargo test --test docs"
    );
}
