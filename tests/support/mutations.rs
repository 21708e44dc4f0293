//! The mutation catalogue: single defects put into valid generated reports, each with the
//! finding(s) it must raise. Used by tests/mutation.rs on the clean layouts and by
//! tests/wild.rs on wild ones.

use nianbao::check::{CheckResult, check_bytes_with};
use nianbao::report::*;
use nianbao::validate::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Defect, Layout, Options, TextEncoding, random_report, render};

pub type Found = (String, Option<u8>, Option<String>, Option<String>);

pub fn found(r: &CheckResult) -> Vec<Found> {
    let mut v: Vec<Found> = r
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.to_string(),
                f.location.table.or(f.location.section),
                f.location.row.clone(),
                f.location.column.clone(),
            )
        })
        .collect();
    v.sort();
    v
}

pub fn expect(rule: &str, place: u8, row: Option<&str>, column: Option<&str>) -> Found {
    (
        rule.to_string(),
        Some(place),
        row.map(String::from),
        column.map(String::from),
    )
}

pub fn check(report: &Report, layout: Layout, defects: Vec<Defect>, seed: u64) -> CheckResult {
    let bytes = render(
        report,
        layout,
        TextEncoding::Utf8,
        &Options { defects, seed },
    );
    check_bytes_with(
        &bytes,
        &format!("r.{}", layout.extension()),
        &Context {
            previous: None,
            filing_year: report.year.unwrap_or(2023) + 1,
            same_year: None,
        },
    )
}

/// Puts the defect in: changes to the report, defects for the renderer, expected findings.
pub type Apply = fn(&mut Report, &mut StdRng) -> (Vec<Defect>, Vec<Found>);

/// A mutation: what it does to the report or its rendering, and what must be found.
pub struct Mutation {
    pub name: &'static str,
    pub applies: fn(Template) -> bool,
    pub apply: Apply,
}

pub const OUTCOME_ROWS: [AppRow; 5] = [
    AppRow::Granted,
    AppRow::WithheldThirdPartyRights,
    AppRow::UnavailableNotHeld,
    AppRow::NotProcessedDuplicate,
    AppRow::WithheldStateSecret,
];

pub fn t2_cell(report: &mut Report, rng: &mut StdRng) -> (Vec<Defect>, Vec<Found>) {
    let row = OUTCOME_ROWS[rng.random_range(0..OUTCOME_ROWS.len())];
    let column = AppColumn::ALL[rng.random_range(0..6)];
    if let Some(Some(v)) = report
        .applications
        .as_mut()
        .and_then(|a| a.rows.get_mut(&row))
    {
        v[column.index()] = v[column.index()].map(|x| x + 1);
    }
    (
        vec![],
        vec![
            expect(
                "sum.t2_outcomes",
                2,
                Some("total_handled"),
                Some(column.id()),
            ),
            expect("sum.t2_row_total", 2, Some(row.id()), Some("total")),
        ],
    )
}

pub fn mutations() -> Vec<Mutation> {
    vec![
        Mutation {
            name: "one table 2 cell off",
            applies: |_| true,
            apply: t2_cell,
        },
        Mutation {
            name: "one table 3 cell off",
            applies: |_| true,
            apply: |r, _| {
                if let Some(t3) = r.reviews_and_litigation.as_mut() {
                    t3.litigation_direct.corrected = t3.litigation_direct.corrected.map(|x| x + 2);
                }
                (
                    vec![],
                    vec![expect(
                        "sum.t3_group_total",
                        3,
                        Some("litigation_direct"),
                        Some("total"),
                    )],
                )
            },
        },
        Mutation {
            name: "one table 1 cell off (现行有效 below 制发 − 废止)",
            applies: |t| t == Template::V2021,
            apply: |r, rng| {
                if let Some(ActiveDisclosure::V2021(t1)) = r.active_disclosure.as_mut() {
                    let repealed = rng.random_range(0..5);
                    let issued = repealed + rng.random_range(2..9);
                    t1.normative_documents = Some(DocumentCounts {
                        issued: Some(issued),
                        repealed: Some(repealed),
                        in_force: Some(issued - repealed - 1),
                    });
                }
                (
                    vec![],
                    vec![expect(
                        "sum.t1_in_force",
                        1,
                        Some("normative_documents"),
                        Some("in_force"),
                    )],
                )
            },
        },
        Mutation {
            name: "a negative count",
            applies: |_| true,
            apply: |r, _| {
                match r.active_disclosure.as_mut() {
                    Some(ActiveDisclosure::V2021(t)) => t.administrative_punishment = Some(-3),
                    Some(ActiveDisclosure::V2019(t)) => {
                        if let Some(p) = t.administrative_punishment.as_mut() {
                            p.decisions = Some(-3);
                        }
                    }
                    None => {}
                }
                (
                    vec![],
                    vec![expect(
                        "value.negative",
                        1,
                        Some("administrative_punishment"),
                        Some("decisions"),
                    )],
                )
            },
        },
        Mutation {
            name: "a missing section",
            applies: |_| true,
            apply: |_, rng| {
                let n = [5u8, 6][rng.random_range(0..2)];
                (
                    vec![Defect::DropSection(n)],
                    vec![expect("structure.section_missing", n, None, None)],
                )
            },
        },
        Mutation {
            name: "a missing table",
            applies: |_| true,
            apply: |_, rng| {
                let n = rng.random_range(1..=3u8);
                (
                    vec![Defect::DropTable(n)],
                    vec![expect("table.missing", n, None, None)],
                )
            },
        },
        Mutation {
            name: "the period of another year",
            applies: |_| true,
            apply: |r, _| {
                let y = r.year.unwrap_or(2023) - 1;
                (
                    vec![Defect::PeriodYear(y)],
                    vec![expect("period.year_mismatch", 1, None, None)],
                )
            },
        },
        Mutation {
            name: "a narrative figure that contradicts table 2",
            applies: |_| true,
            apply: |_, rng| {
                (
                    vec![Defect::NarrativeReceived(rng.random_range(1..50))],
                    vec![expect(
                        "narrative.figure",
                        2,
                        Some("new_received"),
                        Some("total"),
                    )],
                )
            },
        },
        Mutation {
            name: "a dash in a cell",
            applies: |_| true,
            apply: |_, _| {
                (
                    vec![Defect::CellText {
                        table: 3,
                        row: "review",
                        column: "pending",
                        text: "—".into(),
                    }],
                    vec![expect(
                        "cell.not_filled",
                        3,
                        Some("review"),
                        Some("pending"),
                    )],
                )
            },
        },
    ]
}
