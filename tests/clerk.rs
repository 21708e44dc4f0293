//! What the clerk reads (issue 24, items 8–16): the likely culprit marked as the cell to fix,
//! counts that match the lists below them, the HTML part grouped as the text part, rows named
//! by their template label, and the culprit in `check --json`.

mod support;

use nianbao::check::CheckResult;
use nianbao::mail::{Outcome, render};
use nianbao::report::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::{Layout, Options, TextEncoding, check_filed, random_report};

/// Corpus report 001 (2022, a column of table 2 lost on 21 rows), checked in its season.
fn corpus_001() -> CheckResult {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/001_41152148c7aabaad.txt"
    ))
    .expect("fixture");
    check_filed(&bytes, "001.txt", 2022)
}

/// A valid 2021-template report with one cell of table 2 wrong: (granted, natural_person)
/// raised by 10. Returns the file, the wrong value and the right one.
fn one_wrong_cell(seed: u64, layout: Layout) -> (Vec<u8>, i32, i64, i64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut report = random_report(&mut rng, Template::V2021);
    let year = report.year.expect("year");
    let values = report
        .applications
        .as_mut()
        .and_then(|a| a.rows.get_mut(&AppRow::Granted))
        .and_then(Option::as_mut)
        .expect("granted row");
    let k = AppColumn::NaturalPerson.index();
    let right = values[k].expect("value");
    values[k] = Some(right + 10);
    let bytes = support::render(
        &report,
        layout,
        TextEncoding::Utf8,
        &Options {
            defects: Vec::new(),
            seed,
        },
    );
    (bytes, year, right + 10, right)
}

fn html_of(result: &CheckResult) -> String {
    nianbao::mail::html::render("NB-2026-000001", Some("某区某局"), "年报", result, "主题")
}

/// The `<td>` elements of `html` carrying `data-mark="<mark>"`.
fn marked_cells<'a>(html: &'a str, mark: &str) -> Vec<&'a str> {
    let needle = format!("<td data-mark=\"{mark}\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let end = html[i..].find("</td>").map_or(html.len(), |e| i + e);
            &html[i..end]
        })
        .collect()
}

/// The text of a cell: what follows its opening tag, up to the next tag.
fn cell_value(td: &str) -> &str {
    let start = td.find('>').map_or(0, |i| i + 1);
    let rest = &td[start..];
    rest[..rest.find('<').unwrap_or(rest.len())].trim()
}

#[test]
fn item9_the_culprit_is_the_marked_cell_and_the_totals_are_consequences() {
    for seed in 0..20 {
        let (bytes, year, wrong, right) = one_wrong_cell(seed, Layout::TabRows);
        let result = check_filed(&bytes, "r.txt", year);
        let html = html_of(&result);
        let culprit = marked_cells(&html, "culprit");
        assert_eq!(culprit.len(), 1, "seed {seed}: {html}");
        assert_eq!(cell_value(culprit[0]), wrong.to_string(), "seed {seed}");
        assert!(
            culprit[0].contains(&format!("应为 {right}")),
            "seed {seed}: {}",
            culprit[0]
        );
        // The totals it throws out are marked apart, never as the error to fix.
        let consequences = marked_cells(&html, "consequence");
        assert!(!consequences.is_empty(), "seed {seed}");
        assert!(
            marked_cells(&html, "error").is_empty(),
            "seed {seed}: a correct total still marked as an error: {html}"
        );
        assert!(html.contains("data-mark=\"legend\""), "seed {seed}");
        assert!(html.contains("因这一格而合计不符"), "seed {seed}");
    }
}

#[test]
fn item9_the_console_table_marks_the_culprit_too() {
    // The console draws its tables with the same renderer, every table shown.
    let (bytes, year, wrong, _) = one_wrong_cell(3, Layout::TabRows);
    let result = check_filed(&bytes, "r.txt", year);
    let tables = nianbao::mail::html::tables(
        result.report.as_ref().expect("read"),
        &result.findings,
        true,
    );
    let culprit = marked_cells(&tables, "culprit");
    assert_eq!(culprit.len(), 1, "{tables}");
    assert_eq!(cell_value(culprit[0]), wrong.to_string());
}

/// `发现 N 处错误` (with `（归为下列 K 项）` when grouped) and the number of 【错误】 items.
fn told_and_listed(body: &str) -> (usize, usize) {
    let head = body
        .lines()
        .find(|l| l.starts_with("审核结果"))
        .expect("verdict line");
    let number = |s: &str| -> usize {
        s.chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .expect("a number")
    };
    let errors = head.split("发现").nth(1).map(number).expect("count");
    let told = match head.split("归为下列").nth(1) {
        Some(rest) => number(rest),
        None => errors,
    };
    let listed = body.lines().filter(|l| l.contains(". 【错误】")).count();
    (told, listed)
}

#[test]
fn item10_the_culprit_is_labelled_as_the_cause_and_counts_match_the_list() {
    for seed in 0..20 {
        let (bytes, year, wrong, right) = one_wrong_cell(seed, Layout::TabRows);
        let result = check_filed(&bytes, "r.txt", year);
        let (_, body) = render(
            "NB-2026-000001",
            Some("某区某局"),
            "年报",
            &Outcome::Checked(&result),
        );
        let first = body.lines().find(|l| l.starts_with("1. ")).expect("item 1");
        assert!(
            first.starts_with("1. 【最可能的原因】") && first.contains(&format!("填的是 {wrong}")),
            "seed {seed}: {first}"
        );
        assert!(first.contains(&format!("应为 {right}")), "seed {seed}");
        let (told, listed) = told_and_listed(&body);
        assert_eq!(told, listed, "seed {seed}:\n{body}");
        // "消除下列 N 处": N is the number of sum errors listed.
        let sums = result
            .findings
            .iter()
            .filter(|f| f.rule.starts_with("sum."))
            .count();
        assert!(
            first.contains(&format!("消除下列 {sums} 处")),
            "seed {seed}: {first}"
        );
        // The HTML part says the same.
        let html = html_of(&result);
        assert!(html.contains("【最可能的原因】"), "seed {seed}");
        assert_eq!(
            html.matches("<li style=\"margin:6px 0\"><b style=\"color:#b00020\">【错误】")
                .count(),
            listed,
            "seed {seed}"
        );
    }
}

#[test]
fn item10_grouped_findings_are_counted_as_the_items_that_hold_them() {
    let result = corpus_001();
    let (_, body) = render(
        "NB-2026-000001",
        None,
        "001.txt",
        &Outcome::Checked(&result),
    );
    let (told, listed) = told_and_listed(&body);
    assert_eq!(told, listed, "{body}");
}

#[test]
fn item11_the_html_part_groups_as_the_text_part() {
    let result = corpus_001();
    let row_values = result
        .findings
        .iter()
        .filter(|f| f.rule == "table.row_values")
        .count();
    assert!(row_values >= 20, "{row_values}");
    let (_, body) = render(
        "NB-2026-000001",
        None,
        "001.txt",
        &Outcome::Checked(&result),
    );
    let text_items = body
        .lines()
        .filter(|l| {
            l.split_once(". 【")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        })
        .count();
    let html = html_of(&result);
    // The numbered list of the HTML part: `<ol>` … `</ol>`.
    let list = &html[html.find("<ol>").expect("list")..html.find("</ol>").expect("end")];
    let html_items = list.matches("<li").count();
    assert_eq!(html_items, text_items, "{list}");
    assert!(
        list.contains(&format!("（共 {row_values} 行）每行只有 6 个数")),
        "{list}"
    );
    // The rows not read are one marked band each, not a wall of red cells.
    let red = marked_cells(&html, "error").len();
    assert!(
        red <= row_values + 2,
        "{red} red cells for {row_values} rows"
    );
}

/// `nianbao <args> FILE` on a report with one wrong cell (`one_wrong_cell(seed)`): the
/// output, the wrong value and the right one.
fn check_cli(seed: u64, args: &[&str]) -> (std::process::Output, i64, i64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (bytes, year, wrong, right) = one_wrong_cell(seed, Layout::TabRows);
    let file = dir.path().join(format!("{year}年报.txt"));
    std::fs::write(&file, &bytes).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(args)
        .arg(&file)
        .output()
        .expect("run");
    (out, wrong, right)
}

#[test]
fn item15_the_likely_culprit_is_in_check_json() {
    let (out, wrong, right) = check_cli(5, &["check", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let culprits = json["likely_culprits"].as_array().expect("likely_culprits");
    assert_eq!(culprits.len(), 1, "{json}");
    let c = &culprits[0];
    assert_eq!(c["table"], 2);
    assert_eq!(c["row"], "granted");
    assert_eq!(c["column"], "natural_person");
    assert_eq!(c["actual"], wrong);
    assert_eq!(c["expected"], right);
    let sums = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"].as_str().is_some_and(|r| r.starts_with("sum.")))
        .count();
    assert_eq!(c["explains"], sums);
    assert!(
        c["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("应为 {right}"))),
        "{c}"
    );
}

/// Corpus report 000 (a correct 2022 report) with `from` replaced by `to`, checked in its
/// season.
fn corpus_000_with(edits: &[(&str, &str)]) -> CheckResult {
    let mut text = String::from_utf8(
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/000_d016082c1b868431.txt"
        ))
        .expect("fixture"),
    )
    .expect("utf-8");
    for (from, to) in edits {
        assert!(text.contains(from), "{from}");
        text = text.replacen(from, to, 1);
    }
    check_filed(text.as_bytes(), "000.txt", 2022)
}

fn rules_of(result: &CheckResult) -> Vec<(&'static str, nianbao::finding::Severity)> {
    result
        .findings
        .iter()
        .map(|f| (f.rule, f.severity))
        .collect()
}

#[test]
fn item16_a_heading_without_its_comma_is_read_with_a_wording_warning() {
    use nianbao::finding::Severity;
    let result = corpus_000_with(&[("一、总体情况", "一总体情况")]);
    let rules = rules_of(&result);
    assert!(
        !rules.iter().any(|(r, _)| *r == "structure.section_missing"),
        "{rules:?}"
    );
    let wording = result
        .findings
        .iter()
        .find(|f| f.rule == "structure.heading_wording")
        .expect("a wording warning");
    assert_eq!(wording.severity, Severity::Warning);
    assert_eq!(wording.location.section, Some(1));
    assert!(result.accepted(), "{rules:?}");
    // Narrative that merely starts with a numeral stays narrative.
    let narrative = corpus_000_with(&[("一、总体情况", "一是总体情况良好")]);
    assert!(
        narrative
            .findings
            .iter()
            .any(|f| f.rule == "structure.section_missing" && f.location.section == Some(1)),
        "{:?}",
        rules_of(&narrative)
    );
}

#[test]
fn item16_a_period_inside_the_year_is_a_warning_another_year_an_error() {
    use nianbao::finding::Severity;
    let partial = corpus_000_with(&[("统计期限自2022年1月1日起", "统计期限自2022年9月1日起")]);
    let rules = rules_of(&partial);
    assert!(
        !rules.iter().any(|(r, _)| *r == "period.year_mismatch"),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("period.partial_year", Severity::Warning)),
        "{rules:?}"
    );
    assert!(partial.accepted(), "{rules:?}");
    let message = &partial
        .findings
        .iter()
        .find(|f| f.rule == "period.partial_year")
        .expect("warning")
        .message;
    assert!(message.contains("请在“总体情况”中说明"), "{message}");
    let other_year = corpus_000_with(&[(
        "统计期限自2022年1月1日起至2022年12月31日止",
        "统计期限自2021年9月1日起至2021年12月31日止",
    )]);
    assert!(
        rules_of(&other_year).contains(&("period.year_mismatch", Severity::Error)),
        "{:?}",
        rules_of(&other_year)
    );
}

#[test]
fn item16_the_year_comes_from_the_period_when_the_title_lacks_it() {
    for period in [
        "本报告中所列数据的统计期间为2022年1月1日至2022年12月31日。",
        "本报告中所列数据的统计期限为2022年全年。",
        "本报告中所列数据的统计期限为2022年1月至12月。",
    ] {
        let result = corpus_000_with(&[
            ("区政数局2022年政府信息公开", "区政数局政府信息公开"),
            (
                "本报告中所列数据的统计期限自2022年1月1日起至2022年12月31日止。",
                period,
            ),
        ]);
        let report = result.report.as_ref().expect("read");
        assert_eq!(report.year, Some(2022), "{period}");
    }
}

#[test]
fn item15_the_likely_culprit_is_in_the_plain_check_output_too() {
    let (out, wrong, right) = check_cli(7, &["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("最可能的原因"))
        .unwrap_or_default();
    assert!(
        line.contains(&format!("填的是 {wrong}")) && line.contains(&format!("应为 {right}")),
        "{text}"
    );
}
