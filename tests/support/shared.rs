//! A season of generated reports for `history.text_shared`: independent narratives (each
//! agency writing its own), the template's required wording in all of them, a district's
//! prescribed wording in all of that district's, and some reports copied from another
//! agency. Used by `tests/shared_text.rs` (false alarms, detection) and
//! `crates/nianbao-check/benches/shared_text.rs` (time and memory at 3,000 reports).

use std::collections::BTreeMap;

use nianbao::finding::Finding;
use nianbao::report::{Parsed, Report, Template};
use nianbao::shared_text::{SameYear, TextIndex};
use nianbao::validate::{Context, validate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::narrative::{PRESCRIBED, copied_narrative, independent_narrative};

/// One agency's report of the season.
pub struct Filed {
    pub folder: String,
    pub receipt: String,
    pub report: Report,
    /// The folder it was copied from, when it was.
    pub copied_from: Option<String>,
}

const DISTRICTS: [&str; 10] = [
    "西塞山",
    "老城",
    "拱墅",
    "管城",
    "咸安",
    "清江浦",
    "鼓楼",
    "江宁",
    "临平",
    "雁塔",
];
const SYLLABLES: &str =
    "东西南北中金银河山湖江海林桥安平和兴华新宁泰康福丰源清云石花园城关门塘溪湾港店庄岗坪";

/// A distinct agency name for agency `i` of `district`.
fn agency_name(district: &str, i: usize) -> String {
    let s: Vec<char> = SYLLABLES.chars().collect();
    let a = s[i % s.len()];
    let b = s[(i / s.len()) % s.len()];
    let c = s[(i / (s.len() * s.len())) % s.len()];
    format!("{district}区{a}{b}{c}街道办事处")
}

/// `n` reports of `year`, agencies grouped `district_size` to a district that prescribes
/// three sentences of its own to all of them; `copies` of them copied from an agency of
/// another district.
pub fn season(n: usize, district_size: usize, copies: usize, seed: u64) -> Vec<Filed> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out: Vec<Filed> = Vec::with_capacity(n);
    for i in 0..n {
        let district_no = i / district_size.max(1);
        let district = DISTRICTS[district_no % DISTRICTS.len()];
        let mut report = super::random_report(&mut rng, Template::V2021);
        let name = agency_name(district, i);
        report.agency = Some(name.clone());
        report.year = Some(2024);
        report.title = Some(format!("{name}2024年政府信息公开工作年度报告"));
        let prescribed: Vec<&str> = (0..3)
            .map(|k| PRESCRIBED[(district_no * 3 + k) % PRESCRIBED.len()])
            .collect();
        independent_narrative(&mut report, rng.random(), &prescribed);
        out.push(Filed {
            folder: format!("a{i:05}"),
            receipt: format!("NB-2025-{:06}", i + 1),
            report,
            copied_from: None,
        });
    }
    for k in 0..copies.min(n / 2) {
        let to = rng.random_range(0..n);
        let from = (to + district_size.max(1) + rng.random_range(0..n / 2)) % n;
        if to == from || out[to].copied_from.is_some() || out[from].copied_from.is_some() {
            continue;
        }
        let source = out[from].report.clone();
        copied_narrative(&source, &mut out[to].report, seed ^ k as u64);
        out[to].copied_from = Some(out[from].folder.clone());
    }
    out
}

/// The index of every report of the season.
pub fn index(season: &[Filed]) -> TextIndex {
    let mut index = TextIndex::default();
    for f in season {
        let agency = f.report.agency.clone().unwrap_or_default();
        index.insert(&f.folder, &agency, &f.receipt, &f.report);
    }
    index
}

/// A report as the validator takes it (no file: no places, no reading findings).
pub fn parsed(report: &Report) -> Parsed {
    Parsed {
        report: report.clone(),
        findings: Vec::new(),
        sources: BTreeMap::new(),
        outline: Default::default(),
        lines: Vec::new(),
        placed: Vec::new(),
    }
}

/// The `history.text_shared` findings of `report` with the candidates `same`.
pub fn text_shared(parsed: &Parsed, same: &SameYear) -> Vec<Finding> {
    validate(
        parsed,
        &Context {
            previous: None,
            filing_year: 2025,
            same_year: Some(same),
        },
    )
    .into_iter()
    .filter(|f| f.rule == "history.text_shared")
    .collect()
}

/// How a season came out: reports flagged that were written independently (false alarms),
/// and copies found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub independent: usize,
    pub false_alarms: usize,
    pub copies: usize,
    pub copies_found: usize,
}

/// Checks every report of `season` against the index of all of them (a superset of what
/// the daemon's index holds when each arrives).
pub fn measure(season: &[Filed], index: &TextIndex) -> Outcome {
    let mut out = Outcome::default();
    let copied: std::collections::HashSet<&str> = season
        .iter()
        .filter_map(|f| f.copied_from.as_deref())
        .collect();
    for f in season {
        let same = index.same_year(&f.folder, &f.report);
        let found = !text_shared(&parsed(&f.report), &same).is_empty();
        if f.copied_from.is_some() {
            out.copies += 1;
            out.copies_found += usize::from(found);
        } else if !copied.contains(f.folder.as_str()) {
            // A copied-from report is rightly flagged too (it shares the copy's text).
            out.independent += 1;
            out.false_alarms += usize::from(found);
        }
    }
    out
}
