//! Findings a clerk can act on: the mail and the receipt list at most 15 items, grouped, while
//! the JSON keeps every finding.

mod support;

use nianbao::check::{CheckResult, check_bytes_with};
use nianbao::mail::{Outcome, items, render};
use nianbao::report::*;
use nianbao::validate::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::{Defect, Layout, Options, TextEncoding, random_report};

/// Numbered items ("1. 【错误】…") in a rendered body.
fn numbered_items(body: &str) -> usize {
    body.lines()
        .filter(|l| {
            let digits: String = l.chars().take_while(char::is_ascii_digit).collect();
            !digits.is_empty() && l[digits.len()..].starts_with(". 【")
        })
        .count()
}

fn check(bytes: &[u8], name: &str, filing_year: i32) -> CheckResult {
    check_bytes_with(
        bytes,
        name,
        &Context {
            previous: None,
            filing_year,
        },
    )
}

/// The mail body and the receipt file's text, as the daemon makes them.
fn mail_and_receipt(result: &CheckResult) -> (String, String) {
    let (_, body) = render(
        "NB-2025-000001",
        Some("某区某局"),
        "年报",
        &Outcome::Checked(result),
    );
    let receipt = format!("{body}{}", items::appendix(&result.findings));
    (body, receipt)
}

/// Every finding is still in the JSON, one object each.
fn json_findings(result: &CheckResult) -> usize {
    let json: serde_json::Value = serde_json::to_value(result).expect("json");
    json["findings"].as_array().map_or(0, Vec::len)
}

#[test]
fn corpus_001_lost_column_is_one_item() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/001_41152148c7aabaad.txt"
    );
    let bytes = std::fs::read(path).expect("fixture");
    let result = check(&bytes, "001.txt", 2023);
    let row_values = result
        .findings
        .iter()
        .filter(|f| f.rule == "table.row_values")
        .count();
    assert!(row_values >= 20, "the fixture lost a column: {row_values}");
    let (body, receipt) = mail_and_receipt(&result);
    let n = numbered_items(&body);
    assert!(n <= items::MAX_ITEMS, "{n} items:\n{body}");
    assert!(
        n < result.findings.len(),
        "nothing was grouped ({n} items for {} findings)",
        result.findings.len()
    );
    assert!(
        body.contains(&format!(
            "（共 {row_values} 行）每行只有 6 个数，模板为 7 列"
        )),
        "{body}"
    );
    assert_eq!(numbered_items(&receipt), n);
    // The receipt carries every finding in its appendix; the JSON keeps them all.
    for f in &result.findings {
        assert!(
            receipt.contains(&f.message),
            "missing in receipt: {}",
            f.message
        );
    }
    assert_eq!(json_findings(&result), result.findings.len());
}

#[test]
fn a_2019_report_with_over_100_blank_cells_reads_in_a_few_items() {
    let mut rng = StdRng::seed_from_u64(2019);
    let report = random_report(&mut rng, Template::V2019);
    let rows: Vec<&'static str> = AppRow::for_template(Template::V2019)
        .map(|r| r.id())
        .collect();
    let mut defects = Vec::new();
    for row in &rows {
        for column in AppColumn::ALL {
            // Blank where the count is zero, as the portal pages of the trial template are.
            if column != AppColumn::Total && defects.len() < 120 {
                defects.push(Defect::CellText {
                    table: 2,
                    row,
                    column: column.id(),
                    text: String::new(),
                });
            }
        }
    }
    let bytes = support::render(
        &report,
        Layout::Html,
        TextEncoding::Utf8,
        &Options { defects, seed: 7 },
    );
    let result = check(&bytes, "r.html", report.year.unwrap_or(2019) + 1);
    let blanks = result
        .findings
        .iter()
        .filter(|f| f.rule == "cell.not_filled")
        .count();
    assert!(blanks > 100, "{blanks} blank-cell findings");
    let (body, receipt) = mail_and_receipt(&result);
    let n = numbered_items(&body);
    assert!(n <= items::MAX_ITEMS, "{n} items:\n{body}");
    assert!(
        body.contains(&format!("表二有 {blanks} 个格空白或未填数字")),
        "{body}"
    );
    assert_eq!(numbered_items(&receipt), n);
    assert_eq!(json_findings(&result), result.findings.len());
}

#[test]
fn forty_random_defects_stay_within_fifteen_items() {
    for seed in 0..20u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let template = if rng.random_bool(0.5) {
            Template::V2021
        } else {
            Template::V2019
        };
        let report = random_report(&mut rng, template);
        let rows: Vec<&'static str> = AppRow::for_template(template).map(|r| r.id()).collect();
        let groups = ["review", "litigation_direct", "litigation_after_review"];
        let t3_columns = ["upheld", "corrected", "other", "pending", "total"];
        let texts = ["", "—", "/", "3.5", "2.25"];
        let mut defects = Vec::new();
        let mut taken = std::collections::HashSet::new();
        while defects.len() < 40 {
            let (table, row, column) = if rng.random_bool(0.7) {
                let c = AppColumn::ALL[rng.random_range(0..7)].id();
                (2u8, rows[rng.random_range(0..rows.len())], c)
            } else {
                (
                    3u8,
                    groups[rng.random_range(0..3)],
                    t3_columns[rng.random_range(0..5)],
                )
            };
            if taken.insert((table, row, column)) {
                defects.push(Defect::CellText {
                    table,
                    row,
                    column,
                    text: texts[rng.random_range(0..texts.len())].to_string(),
                });
            }
        }
        let layout = if rng.random_bool(0.5) {
            Layout::Html
        } else {
            Layout::Docx
        };
        let bytes = support::render(
            &report,
            layout,
            TextEncoding::Utf8,
            &Options {
                defects: defects.clone(),
                seed,
            },
        );
        let result = check(
            &bytes,
            &format!("r.{}", layout.extension()),
            report.year.unwrap_or(2023) + 1,
        );
        assert!(
            result.findings.len() >= 40,
            "seed {seed}: {} findings for {defects:?}: {:?}",
            result.findings.len(),
            result
                .findings
                .iter()
                .map(|f| (f.rule, &f.location.row, &f.location.column))
                .collect::<Vec<_>>()
        );
        let (body, receipt) = mail_and_receipt(&result);
        let n = numbered_items(&body);
        assert!(n <= items::MAX_ITEMS, "seed {seed}: {n} items:\n{body}");
        assert_eq!(numbered_items(&receipt), n, "seed {seed}");
        // Errors before warnings in the numbered list.
        let marks: Vec<bool> = body
            .lines()
            .filter(|l| l.contains(". 【"))
            .map(|l| l.contains("【错误】"))
            .collect();
        assert!(
            marks.windows(2).all(|w| w[0] || !w[1]),
            "seed {seed}: a warning before an error:\n{body}"
        );
        assert_eq!(json_findings(&result), result.findings.len(), "seed {seed}");
        for f in &result.findings {
            assert!(receipt.contains(&f.message), "seed {seed}: {}", f.message);
        }
    }
}
