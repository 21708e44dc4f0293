//! Wild layouts (tests/support/render/wild.rs): clean reports written the ways real ones
//! differ from the template, hundreds per run. They must read back with identical values,
//! wording differences only as warnings, no error; and every defect of the mutation
//! catalogue must still be caught in them.

mod support;

use nianbao::check::CheckResult;
use nianbao::finding::Severity;
use nianbao::report::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::mutations::{Found, found, mutations};
use support::{
    Layout, Options, TextEncoding, check_filed, random_report, render, render_wild_cells, tables_of,
};

fn seed() -> u64 {
    std::env::var("NIANBAO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(13)
}

fn check(bytes: &[u8], report: &Report) -> CheckResult {
    check_filed(bytes, "wild.txt", report.year.unwrap_or(2023))
}

/// The report as a 2019-style single （六）其他处理 row gives it: the three sub-rows' sum.
fn six_as_one(report: &Report) -> Report {
    let mut r = report.clone();
    if let Some(apps) = r.applications.as_mut() {
        let subs = [
            AppRow::OtherOverdueCorrection,
            AppRow::OtherUnpaidFee,
            AppRow::OtherOther,
        ];
        let mut sum: AppValues = [Some(0); 7];
        for row in subs {
            let values = apps.rows.remove(&row).flatten().unwrap_or([None; 7]);
            for (s, v) in sum.iter_mut().zip(values) {
                *s = s.zip(v).map(|(a, b)| a + b);
            }
        }
        apps.rows.insert(AppRow::OtherHandling, Some(sum));
    }
    r
}

/// The lines of a rendering, for failure messages.
fn text_of(bytes: &[u8]) -> String {
    nianbao::extract::extract(bytes, "wild.txt")
        .map(|e| {
            e.blocks
                .iter()
                .filter_map(|b| match b {
                    nianbao::extract::Block::Text { text, .. } => Some(text.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// Findings a wild layout may add to a clean report: wording, and the mixed template of the
/// （六） row. Warnings, never errors.
const WORDING: [&str; 2] = ["label.nonstandard", "template.mixed"];

#[test]
fn wild_layouts_read_back_identically() {
    let base = seed();
    let mut rng = StdRng::seed_from_u64(base);
    let encodings = [
        TextEncoding::Utf8,
        TextEncoding::Gb18030,
        TextEncoding::Utf16LeBom,
    ];
    let mut nonstandard = 0;
    let runs = 400;
    for i in 0..runs {
        let template = if rng.random_bool(0.6) {
            Template::V2021
        } else {
            Template::V2019
        };
        let report = random_report(&mut rng, template);
        let six = template == Template::V2021 && rng.random_bool(0.2);
        let options = Options {
            defects: vec![],
            seed: rng.random(),
        };
        let encoding = encodings[rng.random_range(0..encodings.len())];
        let bytes = render(
            &report,
            if six { Layout::WildSix } else { Layout::Wild },
            encoding,
            &options,
        );
        let r = check(&bytes, &report);
        let text = || text_of(&bytes);
        let ctx = format!(
            "seed {base} #{i} (options seed {}, six {six})",
            options.seed
        );
        let read = r
            .report
            .as_ref()
            .unwrap_or_else(|| panic!("{ctx}: not read: {:#?}\n{}", r.findings, text()));
        let expected = if six {
            six_as_one(&report)
        } else {
            report.clone()
        };
        assert_eq!(
            tables_of(read),
            tables_of(&expected),
            "{ctx}: {:#?}\n{}",
            r.findings,
            text()
        );
        for f in &r.findings {
            assert!(
                f.severity == Severity::Warning && WORDING.contains(&f.rule),
                "{ctx}: {f:#?}\n{}",
                text()
            );
        }
        assert_eq!(
            r.findings.iter().any(|f| f.rule == "template.mixed"),
            six,
            "{ctx}: {:#?}",
            r.findings
        );
        nonstandard += usize::from(r.findings.iter().any(|f| f.rule == "label.nonstandard"));
    }
    // The perturbations really happen: many reports carry wording warnings.
    assert!(nonstandard > runs / 10, "{nonstandard} of {runs}");
}

#[test]
fn wild_labels_in_real_tables_read_back_identically() {
    let base = seed();
    let mut rng = StdRng::seed_from_u64(base ^ 0x7ab1e);
    for i in 0..90 {
        let template = if rng.random_bool(0.6) {
            Template::V2021
        } else {
            Template::V2019
        };
        let report = random_report(&mut rng, template);
        let layout = [Layout::Docx, Layout::Html, Layout::Xlsx][i % 3];
        let options = Options {
            defects: vec![],
            seed: rng.random(),
        };
        let bytes = render_wild_cells(&report, layout, TextEncoding::Utf8, &options);
        let name = format!("wild.{}", layout.extension());
        let r = check_filed(&bytes, &name, report.year.unwrap_or(2023));
        let ctx = format!(
            "seed {base} #{i} {layout:?} (options seed {})",
            options.seed
        );
        let read = r
            .report
            .as_ref()
            .unwrap_or_else(|| panic!("{ctx}: not read: {:#?}", r.findings));
        assert_eq!(
            tables_of(read),
            tables_of(&report),
            "{ctx}: {:#?}",
            r.findings
        );
        for f in &r.findings {
            assert!(
                f.severity == Severity::Warning && f.rule == "label.nonstandard",
                "{ctx}: {f:#?}"
            );
        }
    }
}

#[test]
fn every_defect_is_caught_in_wild_layouts() {
    let base = seed();
    let mut rng = StdRng::seed_from_u64(base ^ 0x3117d);
    let without_wording = |r: &CheckResult| -> Vec<Found> {
        found(r)
            .into_iter()
            .filter(|f| !WORDING.contains(&f.0.as_str()))
            .collect()
    };
    let mut mutated = 0;
    for template in [Template::V2021, Template::V2019] {
        for m in mutations().iter().filter(|m| (m.applies)(template)) {
            for i in 0..12 {
                let mut report = random_report(&mut rng, template);
                let options = Options {
                    defects: vec![],
                    seed: rng.random(),
                };
                let layout = Layout::Wild;
                let ctx = format!("seed {base}: {} ({template:?}, #{i})", m.name);
                let bytes = render(&report, layout, TextEncoding::Utf8, &options);
                let before = check(&bytes, &report);
                assert_eq!(
                    without_wording(&before),
                    Vec::<Found>::new(),
                    "{ctx}: valid\n{}",
                    text_of(&bytes)
                );
                let (defects, mut expected) = (m.apply)(&mut report, &mut rng);
                expected.sort();
                let options = Options { defects, ..options };
                let bytes = render(&report, layout, TextEncoding::Utf8, &options);
                let after = check(&bytes, &report);
                assert_eq!(
                    without_wording(&after),
                    expected,
                    "{ctx}\n{}",
                    text_of(&bytes)
                );
                mutated += 1;
            }
        }
    }
    assert!(mutated >= 150, "{mutated} mutated");
}

/// A single （六）其他处理 row that does not balance the table is no group total: its three
/// 2021 sub-rows are reported missing, besides template.mixed.
#[test]
fn six_row_that_does_not_balance_leaves_its_sub_rows_missing() {
    let mut rng = StdRng::seed_from_u64(seed() ^ 0x6);
    let mut report = random_report(&mut rng, Template::V2021);
    let options = Options {
        defects: vec![],
        seed: rng.random(),
    };
    // One more application under 3.其他 than （七）总计 counts.
    if let Some(Some(v)) = report
        .applications
        .as_mut()
        .and_then(|a| a.rows.get_mut(&AppRow::OtherOther))
    {
        v[0] = v[0].map(|x| x + 1);
        v[6] = v[6].map(|x| x + 1);
    }
    let bytes = render(&report, Layout::WildSix, TextEncoding::Utf8, &options);
    let r = check(&bytes, &report);
    let rules = |rule: &str| -> Vec<Option<String>> {
        r.findings
            .iter()
            .filter(|f| f.rule == rule)
            .map(|f| f.location.row.clone())
            .collect()
    };
    assert_eq!(rules("template.mixed").len(), 1, "{:#?}", r.findings);
    let mut missing = rules("table.row_missing");
    missing.sort();
    assert_eq!(
        missing,
        vec![
            Some("other_other".to_string()),
            Some("other_overdue_correction".to_string()),
            Some("other_unpaid_fee".to_string()),
        ],
        "{:#?}\n{}",
        r.findings,
        text_of(&bytes)
    );
    assert!(!r.accepted());
}
