//! Cross-year rules against the same agency's previous report: tables copied from last year,
//! and totals that moved by a factor of ten.

mod support;

use nianbao::check::{CheckResult, check_bytes_with};
use nianbao::finding::Finding;
use nianbao::report::*;
use nianbao::validate::Context;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::{Layout, Options, TextEncoding, random_report};

/// The report as written to a file and read back, as the store would hold it.
fn read_back(r: &Report, seed: u64) -> Report {
    let bytes = support::render(
        r,
        Layout::TabRows,
        TextEncoding::Utf8,
        &Options {
            defects: vec![],
            seed,
        },
    );
    check(&bytes, r, None).report.expect("read")
}

fn check(bytes: &[u8], r: &Report, previous: Option<&Report>) -> CheckResult {
    check_bytes_with(
        bytes,
        "r.txt",
        &Context {
            previous,
            filing_year: r.year.unwrap_or(2023) + 1,
            same_year: None,
        },
    )
}

/// `next` checked with `previous` (read back from its own rendering) as last year's report.
fn rules_fired(previous: &Report, next: &Report, seed: u64) -> Vec<(String, Option<String>)> {
    history_findings(previous, next, seed)
        .iter()
        .map(|f| (f.rule.to_string(), f.location.row.clone()))
        .collect()
}

/// The cross-year findings of `next` with `previous` as last year's report.
fn history_findings(previous: &Report, next: &Report, seed: u64) -> Vec<Finding> {
    let before = read_back(previous, seed);
    let bytes = support::render(
        next,
        Layout::TabRows,
        TextEncoding::Utf8,
        &Options {
            defects: vec![],
            seed: seed + 1,
        },
    );
    check(&bytes, next, Some(&before))
        .findings
        .into_iter()
        .filter(|f| f.rule.starts_with("history."))
        .collect()
}

/// The same tables a year later; 上年结转 = last year's 结转下年 so that only the rule under test
/// can fire.
fn next_year(r: &Report) -> Report {
    let mut next = r.clone();
    next.year = r.year.map(|y| y + 1);
    next
}

/// Every number of tables 1–3 set by `f` (through the JSON form, which names them all).
fn map_values(r: &Report, f: impl Fn(i64) -> i64) -> Report {
    fn walk(v: &mut serde_json::Value, f: &dyn Fn(i64) -> i64) {
        match v {
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    *v = serde_json::Value::from(f(i));
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, f)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| walk(x, f)),
            _ => {}
        }
    }
    let mut json = serde_json::to_value(r).expect("json");
    for key in [
        "active_disclosure",
        "applications",
        "reviews_and_litigation",
    ] {
        walk(&mut json[key], &f);
    }
    serde_json::from_value(json).expect("report")
}

#[test]
fn tables_copied_from_last_year_are_noticed() {
    for seed in 0..40u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let before = random_report(&mut rng, Template::V2021);
        let fired = rules_fired(&before, &next_year(&before), seed);
        assert!(
            fired.iter().any(|(r, _)| r == "history.tables_identical"),
            "seed {seed}: {fired:?}"
        );
        // One value changed: not identical.
        let mut changed = next_year(&before);
        if let Some(t3) = changed.reviews_and_litigation.as_mut() {
            t3.review.upheld = t3.review.upheld.map(|v| v + 1);
            t3.review.total = t3.review.total.map(|v| v + 1);
        }
        let fired = rules_fired(&before, &changed, seed);
        assert!(
            !fired.iter().any(|(r, _)| r == "history.tables_identical"),
            "seed {seed}: {fired:?}"
        );
    }
}

#[test]
fn all_zero_tables_two_years_running_are_not_a_copy() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut zero = map_values(&random_report(&mut rng, Template::V2021), |_| 0);
    if let Some(ActiveDisclosure::V2021(t1)) = zero.active_disclosure.as_mut() {
        t1.administrative_fees = Some("0".to_string());
    }
    let fired = rules_fired(&zero, &next_year(&zero), 7);
    assert!(
        !fired.iter().any(|(r, _)| r == "history.tables_identical"),
        "{fired:?}"
    );
}

#[test]
fn a_total_ten_times_last_years_is_a_hint() {
    let mut checked = 0;
    for seed in 0..200u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let before = random_report(&mut rng, Template::V2021);
        let received = |r: &Report| {
            r.applications
                .as_ref()
                .and_then(|a| a.get(AppRow::NewReceived))
                .and_then(|v| v[6])
                .unwrap_or(0)
        };
        if received(&before) < 20 {
            continue;
        }
        // Every value of table 2 times ten keeps all its sums: only the jump is new.
        let scaled = |k: i64| {
            let mut next = next_year(&before);
            let t2 = map_values(&before, |v| v * k).applications;
            next.applications = t2;
            next
        };
        let fired = rules_fired(&before, &scaled(10), seed);
        assert!(
            fired.contains(&("history.jump".to_string(), Some("new_received".to_string()))),
            "seed {seed}: {fired:?}"
        );
        let fired = rules_fired(&before, &scaled(9), seed);
        assert!(
            !fired.iter().any(|(r, _)| r == "history.jump"),
            "seed {seed}: ×9 is no jump: {fired:?}"
        );
        checked += 1;
    }
    assert!(
        checked >= 20,
        "only {checked} reports with 20 or more applications"
    );
}

/// The cross-year findings of two reports of one agency a year apart, with new tables; the
/// later one's narrative `copied` from the earlier one, or written anew.
fn narrative_pair(seed: u64, copied: bool) -> Vec<(String, Option<String>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut before = random_report(&mut rng, Template::V2021);
    support::narrative::set_narrative(&mut before, seed);
    let mut next = random_report(&mut rng, Template::V2021);
    next.agency = before.agency.clone();
    next.year = before.year.map(|y| y + 1);
    if copied {
        next.sections = before.sections.clone();
    } else {
        support::narrative::set_narrative(&mut next, seed + 1_000_000);
    }
    rules_fired(&before, &next, seed)
}

/// Sections 一 and 五 copied from last year with the years changed (the tables are new).
#[test]
fn narrative_copied_from_last_year_is_noticed() {
    for seed in 0..40u64 {
        let fired = narrative_pair(seed, true);
        let copied: Vec<&Option<String>> = fired
            .iter()
            .filter(|(r, _)| r == "history.text_copied")
            .map(|(_, row)| row)
            .collect();
        assert!(copied.len() >= 2, "seed {seed}: {fired:?}");
    }
}

/// Independently written narratives: how often the rule fires falsely (reported, and bounded).
#[test]
fn independent_narratives_rarely_look_copied() {
    let pairs = 500u64;
    let mut false_alarms = 0;
    for seed in 0..pairs {
        let fired = narrative_pair(seed, false);
        if fired.iter().any(|(r, _)| r == "history.text_copied") {
            false_alarms += 1;
        }
    }
    eprintln!("history.text_copied false alarms: {false_alarms} of {pairs} independent pairs");
    assert!(false_alarms * 100 <= pairs, "{false_alarms} of {pairs}");
}

#[test]
fn a_fee_in_yuan_instead_of_ten_thousands_is_a_unit_hint() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut before = random_report(&mut rng, Template::V2021);
    let set_fee = |r: &mut Report, fee: &str| {
        if let Some(ActiveDisclosure::V2021(t1)) = r.active_disclosure.as_mut() {
            t1.administrative_fees = Some(fee.to_string());
        }
    };
    set_fee(&mut before, "1.5");
    let mut next = next_year(&before);
    set_fee(&mut next, "15000");
    let findings = history_findings(&before, &next, 11);
    let jump = findings
        .iter()
        .find(|f| f.rule == "history.jump")
        .expect("a jump in the fee");
    assert_eq!(jump.location.row.as_deref(), Some("administrative_fees"));
    assert!(jump.message.contains("万元"), "{}", jump.message);
    // The same fee a year later is no jump.
    let mut same = next_year(&before);
    set_fee(&mut same, "1.6");
    let findings = history_findings(&before, &same, 11);
    assert!(!findings.iter().any(|f| f.rule == "history.jump"));
}
