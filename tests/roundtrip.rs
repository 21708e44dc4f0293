//! Round trips: random valid reports rendered in every layout and encoding real reports come
//! in, read back identically, with nothing to report. Seeded: set NIANBAO_SEED to replay.

mod support;

use nianbao::check::{CheckResult, check_bytes_with};
use nianbao::report::Template;
use nianbao::validate::Context;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::{Defect, Layout, Options, TextEncoding, random_report, render, tables_of};

fn seed() -> u64 {
    std::env::var("NIANBAO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_124)
}

fn check(bytes: &[u8], layout: Layout, year: i32) -> CheckResult {
    check_bytes_with(
        bytes,
        &format!("report.{}", layout.extension()),
        &Context {
            previous: None,
            filing_year: year + 1,
            same_year: None,
        },
    )
}

/// Layouts × encodings × templates, several reports each: 6 × 6 × 2 × 5 = 360 (docx has one
/// encoding, so 300 in all).
#[test]
fn every_layout_reads_back_identically() {
    let base = seed();
    let mut rng = StdRng::seed_from_u64(base);
    let mut cases = 0;
    for layout in Layout::ALL {
        let encodings: &[TextEncoding] = if layout == Layout::Docx {
            &[TextEncoding::Utf8]
        } else {
            &TextEncoding::ALL
        };
        for &encoding in encodings {
            for template in [Template::V2021, Template::V2019] {
                for i in 0..5 {
                    let report = random_report(&mut rng, template);
                    let options = Options {
                        defects: vec![],
                        seed: base ^ (cases as u64),
                    };
                    let bytes = render(&report, layout, encoding, &options);
                    let r = check(&bytes, layout, report.year.unwrap_or(2023));
                    let ctx = format!(
                        "seed {base} case {cases} ({layout:?}, {encoding:?}, {template:?}, #{i})"
                    );
                    let read = r
                        .report
                        .as_ref()
                        .unwrap_or_else(|| panic!("{ctx}: not read: {:?}", r.findings));
                    assert_eq!(tables_of(read), tables_of(&report), "{ctx}");
                    assert!(r.findings.is_empty(), "{ctx}: {:#?}", r.findings);
                    if layout.is_text() || layout == Layout::Html {
                        assert_eq!(r.encoding, Some(encoding.detected_name()), "{ctx}");
                    }
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 5 * 2 * (5 * 6 + 1));
}

/// Blank cells in real tables are read as "not filled", each reported once where it is.
#[test]
fn blank_cells_in_real_tables() {
    let base = seed();
    let mut rng = StdRng::seed_from_u64(base + 1);
    for layout in [Layout::Docx, Layout::Html] {
        for case in 0..20 {
            let mut report = random_report(&mut rng, Template::V2021);
            let apps = report.applications.as_mut().expect("table 2");
            // Blank the 科研机构 cell of 二、上年结转 and of one outcome row.
            let row = nianbao::report::AppRow::WithheldThirdPartyRights;
            for r in [nianbao::report::AppRow::CarriedOver, row] {
                if let Some(Some(v)) = apps.rows.get_mut(&r) {
                    v[2] = None;
                }
            }
            let bytes = render(
                &report,
                layout,
                TextEncoding::Utf8,
                &Options {
                    defects: vec![],
                    seed: case,
                },
            );
            let r = check(&bytes, layout, report.year.unwrap_or(2023));
            let ctx = format!("seed {base} {layout:?} case {case}");
            assert_eq!(
                tables_of(r.report.as_ref().expect("read")),
                tables_of(&report),
                "{ctx}"
            );
            let blanks: Vec<(&str, Option<&str>, Option<&str>)> = r
                .findings
                .iter()
                .map(|f| {
                    (
                        f.rule,
                        f.location.row.as_deref(),
                        f.location.column.as_deref(),
                    )
                })
                .collect();
            assert_eq!(
                blanks,
                [
                    (
                        "cell.not_filled",
                        Some("carried_over"),
                        Some("research_institution")
                    ),
                    (
                        "cell.not_filled",
                        Some("withheld_third_party_rights"),
                        Some("research_institution")
                    ),
                ],
                "{ctx}"
            );
        }
    }
}

/// In text layouts a missing number cannot be placed: the row is reported, never misread.
#[test]
fn a_lost_number_in_text_is_reported_not_guessed() {
    let base = seed();
    let mut rng = StdRng::seed_from_u64(base + 2);
    for layout in [
        Layout::WordText,
        Layout::TabRows,
        Layout::PortalCopy,
        Layout::PdfText,
    ] {
        for case in 0..15 {
            let report = random_report(&mut rng, Template::V2021);
            // The cell is written empty: in text it simply disappears.
            let defect = Defect::CellText {
                table: 2,
                row: "partially_granted",
                column: "social_welfare_organization",
                text: String::new(),
            };
            let bytes = render(
                &report,
                layout,
                TextEncoding::Utf8,
                &Options {
                    defects: vec![defect],
                    seed: case,
                },
            );
            let r = check(&bytes, layout, report.year.unwrap_or(2023));
            let ctx = format!("seed {base} {layout:?} case {case}");
            let read = r.report.as_ref().expect("read");
            let apps = read.applications.as_ref().expect("table 2");
            assert_eq!(
                apps.rows.get(&nianbao::report::AppRow::PartiallyGranted),
                Some(&None),
                "{ctx}"
            );
            let rules: Vec<(&str, Option<&str>)> = r
                .findings
                .iter()
                .map(|f| (f.rule, f.location.row.as_deref()))
                .collect();
            assert_eq!(
                rules,
                [("table.row_values", Some("partially_granted"))],
                "{ctx}"
            );
            // Every other row is still read exactly.
            for (row, values) in &apps.rows {
                if *row != nianbao::report::AppRow::PartiallyGranted {
                    assert_eq!(
                        Some(values),
                        report.applications.as_ref().and_then(|a| a.rows.get(row)),
                        "{ctx} {row:?}"
                    );
                }
            }
        }
    }
}

/// `/` and `—` where a number belongs are "not filled", in every layout.
#[test]
fn slash_in_a_cell_is_not_filled() {
    let base = seed();
    let mut rng = StdRng::seed_from_u64(base + 3);
    for layout in Layout::ALL {
        for (case, mark) in ["/", "—", "无"].iter().enumerate() {
            let report = random_report(&mut rng, Template::V2021);
            let defect = Defect::CellText {
                table: 1,
                row: "regulations",
                column: "repealed",
                text: mark.to_string(),
            };
            let bytes = render(
                &report,
                layout,
                TextEncoding::Utf8,
                &Options {
                    defects: vec![defect],
                    seed: case as u64,
                },
            );
            let r = check(&bytes, layout, report.year.unwrap_or(2023));
            let rules: Vec<(&str, Option<&str>, Option<&str>)> = r
                .findings
                .iter()
                .map(|f| {
                    (
                        f.rule,
                        f.location.row.as_deref(),
                        f.location.column.as_deref(),
                    )
                })
                .collect();
            assert_eq!(
                rules,
                [("cell.not_filled", Some("regulations"), Some("repealed"))],
                "{layout:?} {mark}"
            );
        }
    }
}
