//! `history.text_shared` at the scale of a city's season: 3,000 generated reports of one
//! year (`NIANBAO_BENCH_REPORTS` to change), each agency writing its own narrative, with the
//! template's required wording and its district's prescribed wording, and 30 copies from
//! another agency. Prints:
//! - the index: build time, time to add one report (the update on ingest), memory (its own
//!   count of heap bytes, and the process's resident memory before and after);
//! - the check time added per report: the index query plus the rule, against validating the
//!   same report without candidates (3 runs, the median);
//! - what comparing each report with every other one would cost instead (sentence_overlap
//!   over all 3,000, on 50 reports);
//! - false alarms among the independent reports (districts of 300, and of 5), copies found.
//!
//! Run: `cargo bench -p nianbao-check --bench shared_text` (release build). Results in BENCHMARKS.md.

// The generators of the daemon's tests (tests/support) name the checker by the name the
// daemon re-exports it under.
extern crate nianbao_check as nianbao;

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use nianbao::shared_text::{SameYear, TextIndex};
use nianbao::validate::{Context, validate};
use support::shared::{Filed, index, measure, parsed, season};

fn rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::var("NIANBAO_BENCH_REPORTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let s: Vec<Filed> = season(n, 300, 30, 2028);
    let sentences: usize = s
        .iter()
        .map(|f| nianbao::shared_text::report_keys(&f.report).len())
        .sum();
    println!(
        "{n} reports, {sentences} sentence keys in all ({:.1} a report)",
        sentences as f64 / n as f64
    );

    let before = rss_kb();
    let started = Instant::now();
    let idx: TextIndex = index(&s);
    let build = started.elapsed();
    let after = rss_kb();
    println!(
        "index: built in {:.1} ms ({:.1} µs a report), {:.2} MB by its own count, resident memory {} kB -> {} kB",
        build.as_secs_f64() * 1e3,
        build.as_secs_f64() * 1e6 / n as f64,
        idx.heap_bytes() as f64 / 1e6,
        before.unwrap_or(0),
        after.unwrap_or(0),
    );

    let parsed: Vec<_> = s.iter().map(|f| parsed(&f.report)).collect();
    fn ctx(same: Option<&SameYear>) -> Context<'_> {
        Context {
            previous: None,
            filing_year: 2025,
            same_year: same,
        }
    }
    let mut added = Vec::new();
    let mut query_only = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let mut kept = 0usize;
        for p in &parsed {
            kept += validate(p, &ctx(None)).len();
        }
        let without = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for (f, p) in s.iter().zip(&parsed) {
            let same = idx.same_year(&f.folder, &f.report);
            kept += validate(p, &ctx(Some(&same))).len();
        }
        let with = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for f in &s {
            kept += idx.same_year(&f.folder, &f.report).others.len();
        }
        query_only.push(t.elapsed().as_secs_f64() * 1e6 / n as f64);
        added.push((with - without) * 1e6 / n as f64);
        std::hint::black_box(kept);
    }
    println!(
        "check time added per report: {:.1} µs (index query alone {:.1} µs); median of 3 runs over {n} reports",
        median(added),
        median(query_only)
    );

    // The way without an index: each report against every other one.
    let sample = 50.min(n);
    let t = Instant::now();
    let mut shared = 0usize;
    for f in s.iter().take(sample) {
        for other in &s {
            for (a, b) in f.report.sections.iter().zip(&other.report.sections) {
                shared += nianbao::overlap::sentence_overlap(&b.text, &a.text).shared;
            }
        }
    }
    std::hint::black_box(shared);
    println!(
        "without the index (sentence_overlap against all {n}): {:.1} ms a report",
        t.elapsed().as_secs_f64() * 1e3 / sample as f64
    );

    let one = &s[0];
    let mut again = index(&s);
    let t = Instant::now();
    for _ in 0..100 {
        again.insert(&one.folder, "x", &one.receipt, &one.report);
    }
    println!(
        "adding (replacing) one report: {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / 100.0
    );

    let o = measure(&s, &idx);
    println!(
        "districts of 300, 30 copies: {} independent reports, {} false alarms ({:.2} %); {} of {} copies found",
        o.independent,
        o.false_alarms,
        100.0 * o.false_alarms as f64 / o.independent.max(1) as f64,
        o.copies_found,
        o.copies
    );
    let small = season(n, 5, 0, 4028);
    let o = measure(&small, &index(&small));
    println!(
        "districts of 5 (prescribed wording in 5 reports each), no copies: {} independent reports, {} false alarms ({:.2} %)",
        o.independent,
        o.false_alarms,
        100.0 * o.false_alarms as f64 / o.independent.max(1) as f64,
    );
}
