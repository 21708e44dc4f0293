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
            same_year: None,
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

/// Changes one value of table 2 or 3 by a random non-zero amount; returns the cell, the
/// wrong value and the right one.
fn break_one_cell(
    report: &mut Report,
    rng: &mut StdRng,
    table: u8,
) -> (&'static str, &'static str, i64, i64) {
    let delta = |rng: &mut StdRng, right: i64| loop {
        let d = rng.random_range(-9i64..=40);
        if d != 0 && right + d >= 0 {
            return right + d;
        }
    };
    if table == 2 {
        let apps = report.applications.as_mut().expect("table 2");
        let rows: Vec<AppRow> = apps
            .rows
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(r, _)| *r)
            .collect();
        let row = rows[rng.random_range(0..rows.len())];
        let column = AppColumn::ALL[rng.random_range(0..7)];
        let values = apps
            .rows
            .get_mut(&row)
            .and_then(Option::as_mut)
            .expect("row");
        let right = values[column.index()].expect("value");
        let wrong = delta(rng, right);
        values[column.index()] = Some(wrong);
        (row.id(), column.id(), wrong, right)
    } else {
        let t3 = report.reviews_and_litigation.as_mut().expect("table 3");
        let group = rng.random_range(0..3);
        let g = match group {
            0 => &mut t3.review,
            1 => &mut t3.litigation_direct,
            _ => &mut t3.litigation_after_review,
        };
        let k = rng.random_range(0..5);
        let mut values = g.values();
        let right = values[k].expect("value");
        let wrong = delta(rng, right);
        values[k] = Some(wrong);
        *g = ReviewGroup::from_values(values);
        let groups = ["review", "litigation_direct", "litigation_after_review"];
        let columns = ["upheld", "corrected", "other", "pending", "total"];
        (groups[group], columns[k], wrong, right)
    }
}

#[test]
fn a_single_wrong_cell_of_table_2_is_named_with_its_right_value() {
    let mut named = 0;
    for seed in 0..300u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let template = if seed % 2 == 0 {
            Template::V2021
        } else {
            Template::V2019
        };
        let mut report = random_report(&mut rng, template);
        let (row, column, wrong, right) = break_one_cell(&mut report, &mut rng, 2);
        let layout = Layout::ALL[rng.random_range(0..Layout::ALL.len())];
        let bytes = support::render(
            &report,
            layout,
            TextEncoding::Utf8,
            &Options {
                defects: Vec::new(),
                seed,
            },
        );
        let result = check(
            &bytes,
            &format!("r.{}", layout.extension()),
            report.year.unwrap_or(2023) + 1,
        );
        let arithmetic = result
            .findings
            .iter()
            .filter(|f| f.rule.starts_with("sum."))
            .count();
        let found = nianbao::validate::culprit::find(result.report.as_ref().expect("read"));
        assert_eq!(
            found.len(),
            1,
            "seed {seed} {layout:?}: {row}/{column} {right}->{wrong}: {found:?}"
        );
        let culprit = &found[0];
        assert_eq!(
            (culprit.cell.table, culprit.cell.row, culprit.cell.column),
            (2, row, column),
            "seed {seed}"
        );
        assert_eq!(
            (culprit.actual, culprit.expected),
            (wrong, right),
            "seed {seed}"
        );
        assert_eq!(culprit.explains, arithmetic, "seed {seed}");
        // And it is the first item the clerk reads.
        let (body, _) = mail_and_receipt(&result);
        let first = body
            .lines()
            .find(|l| l.starts_with("1. "))
            .unwrap_or_default();
        assert!(first.contains("最可能的原因"), "seed {seed}: {first}");
        assert!(
            first.contains(&format!("应为 {right}")),
            "seed {seed}: {first}"
        );
        named += 1;
    }
    assert_eq!(named, 300);
}

#[test]
fn two_wrong_cells_or_an_ambiguous_one_name_no_culprit() {
    for seed in 0..200u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut report = random_report(&mut rng, Template::V2021);
        if seed % 2 == 0 {
            // Two cells of table 2 in different rows and columns.
            let (r1, c1, ..) = break_one_cell(&mut report, &mut rng, 2);
            loop {
                let mut again = report.clone();
                let (r2, c2, ..) = break_one_cell(&mut again, &mut rng, 2);
                if r2 != r1 && c2 != c1 {
                    report = again;
                    break;
                }
            }
        } else {
            // Table 3 has one relation per group: any of its five cells would balance it.
            break_one_cell(&mut report, &mut rng, 3);
        }
        let bytes = support::render(
            &report,
            Layout::TabRows,
            TextEncoding::Utf8,
            &Options::default(),
        );
        let result = check(&bytes, "r.txt", report.year.unwrap_or(2023) + 1);
        assert!(
            result.findings.iter().any(|f| f.rule.starts_with("sum.")),
            "seed {seed}: the broken sums were not found"
        );
        assert_eq!(
            nianbao::validate::culprit::find(result.report.as_ref().expect("read")),
            vec![],
            "seed {seed}"
        );
        let (body, _) = mail_and_receipt(&result);
        assert!(!body.contains("最可能的原因"), "seed {seed}");
    }
}
