//! `docs/feedback-example.html` is what the renderer makes of a real report with two
//! mistakes put in (the 淮安 2024 text layer: （七）总计 3060 for 3050, 复议总计 350 for 351);
//! `docs/feedback-culprit.html` of the same report with one (（一）予以公开 自然人 1298 for
//! 1288: the likely culprit, with the two totals it throws out).
//! Regenerate after changing the renderer: `NIANBAO_WRITE_DOCS=1 cargo test --test docs`.

use nianbao::check::{CheckResult, check_bytes_with};
use nianbao::mail::{Outcome, html, render};
use nianbao::validate::Context;

/// The 淮安 2024 report with `edits` made, checked in its season.
fn huaian_with(edits: &[(&str, &str)]) -> CheckResult {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/005_huaian-2024.pdftotext.txt"
    );
    let mut text = std::fs::read_to_string(path).expect("fixture");
    for (from, to) in edits {
        assert!(text.contains(from), "{from}");
        text = text.replace(from, to);
    }
    check_bytes_with(
        text.as_bytes(),
        "淮安市2024年报.txt",
        &Context {
            previous: None,
            filing_year: 2025,
            same_year: None,
        },
    )
}

/// Compares (or with `NIANBAO_WRITE_DOCS`, writes) `docs/<name>` with the HTML part of the
/// answer to `result`.
fn the_committed_page_is_current(result: &CheckResult, name: &str) {
    let (subject, _) = render(
        "NB-2025-000042",
        Some("淮安市人民政府"),
        "淮安市2024年报.txt",
        &Outcome::Checked(result),
    );
    let page = html::render(
        "NB-2025-000042",
        Some("淮安市人民政府"),
        "淮安市2024年报.txt",
        result,
        &subject,
    );
    let target = format!("{}/docs/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("NIANBAO_WRITE_DOCS").is_some() {
        std::fs::write(&target, &page).expect("write docs");
    }
    let committed = std::fs::read_to_string(&target).unwrap_or_default();
    assert!(
        committed == page,
        "docs/{name} is out of date: NIANBAO_WRITE_DOCS=1 cargo test --test docs"
    );
}

#[test]
fn the_committed_example_email_is_current() {
    let result = huaian_with(&[
        (
            "（七）总计 2932 53 0 0 61 4 3050",
            "（七）总计 2932 53 0 0 61 4 3060",
        ),
        ("72 64 178 37 351 ", "72 64 178 37 350 "),
    ]);
    let rules: Vec<&str> = result.findings.iter().map(|f| f.rule).collect();
    assert!(
        rules.contains(&"sum.t2_row_total") && rules.contains(&"sum.t3_group_total"),
        "{rules:?}"
    );
    the_committed_page_is_current(&result, "feedback-example.html");
}

#[test]
fn the_committed_culprit_example_is_current() {
    let result = huaian_with(&[(
        "（一）予以公开 1288 21 0 0 50 3 1362",
        "（一）予以公开 1298 21 0 0 50 3 1362",
    )]);
    assert_eq!(result.likely_culprits.len(), 1, "{:?}", result.findings);
    assert_eq!(result.likely_culprits[0].expected, 1288);
    the_committed_page_is_current(&result, "feedback-culprit.html");
}
