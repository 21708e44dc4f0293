//! Test support: random valid reports, and renderers that write them in every layout real
//! reports arrive in (see shared/spec/report-format.md, "How the files really look").
//!
//! A report becomes an abstract document (paragraphs and grids with row/col spans, as the
//! national template prints them); each layout writes that document its own way.

#![allow(dead_code, unused_imports)]

pub mod image_pdf;
pub mod mutations;
pub mod narrative;
pub mod render;
pub mod shared;

use std::collections::BTreeMap;

use nianbao::report::*;
use rand::Rng;

pub use render::{
    Defect, Layout, Options, Page, TextEncoding, render, render_docx_page, render_wild_cells,
};

const PLACES: &[&str] = &[
    "西塞山",
    "老城",
    "拱墅",
    "管城回族",
    "咸宁",
    "淮安",
    "鼓楼",
    "江宁",
    "临平",
    "雁塔",
];
const UNITS: &[(&str, bool)] = &[
    // (unit, may report 规章: a 设区的市 government or a city department)
    ("区政务服务和数据管理局", false),
    ("区人民政府办公室", false),
    ("县生态环境局", false),
    ("镇人民政府", false),
    ("街道办事处", false),
    ("市人民政府", true),
    ("市司法局", true),
    ("市住房和城乡建设局", true),
];

fn count<R: Rng + ?Sized>(rng: &mut R) -> i64 {
    match rng.random_range(0..10) {
        0..=4 => 0,
        5..=7 => rng.random_range(1..20),
        8 => rng.random_range(20..2000),
        _ => rng.random_range(2000..500_000),
    }
}

fn small<R: Rng + ?Sized>(rng: &mut R) -> i64 {
    if rng.random_bool(0.6) {
        0
    } else {
        rng.random_range(1..40)
    }
}

fn decimal<R: Rng + ?Sized>(rng: &mut R) -> String {
    let places = rng.random_range(0..=4);
    let int = if rng.random_bool(0.4) {
        0
    } else {
        rng.random_range(0..100_000)
    };
    if places == 0 {
        return int.to_string();
    }
    let frac = rng.random_range(0..10i64.pow(places));
    let frac = format!("{frac:0width$}", width = places as usize);
    // No trailing zeros: `96171.6`, not `96171.60` (as people write it).
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    }
}

/// A valid report by construction: all relations of the template hold, the narrative states
/// figures that agree with the tables, every value is given.
pub fn random_report(rng: &mut impl Rng, template: Template) -> Report {
    let (unit, may_regulate) = UNITS[rng.random_range(0..UNITS.len())];
    let agency = format!("{}{unit}", PLACES[rng.random_range(0..PLACES.len())]);
    let year = match template {
        Template::V2019 => rng.random_range(2019..=2020),
        Template::V2021 => rng.random_range(2021..=2025),
    };
    let regs = |rng: &mut dyn rand::RngCore| -> [i64; 3] {
        if !may_regulate {
            return [0; 3];
        }
        let issued = small(rng);
        let repealed = small(rng);
        let before = small(rng) + repealed;
        [issued, repealed, before + issued - repealed]
    };
    let active = match template {
        Template::V2021 => {
            let r = regs(rng);
            let issued = small(rng);
            let repealed = small(rng);
            let in_force = issued - repealed + small(rng) + repealed;
            ActiveDisclosure::V2021(ActiveDisclosure2021 {
                regulations: Some(DocumentCounts {
                    issued: Some(r[0]),
                    repealed: Some(r[1]),
                    in_force: Some(r[2]),
                }),
                normative_documents: Some(DocumentCounts {
                    issued: Some(issued),
                    repealed: Some(repealed),
                    in_force: Some(in_force.max(issued - repealed)),
                }),
                administrative_licensing: Some(count(rng)),
                administrative_punishment: Some(count(rng)),
                administrative_enforcement: Some(count(rng)),
                administrative_fees: Some(decimal(rng)),
            })
        }
        Template::V2019 => {
            let pubs = |rng: &mut dyn rand::RngCore, zero: bool| {
                let made = if zero { 0 } else { small(rng) };
                Some(PublishedCounts {
                    made: Some(made),
                    published: Some(made),
                    total_published: Some(made + if zero { 0 } else { small(rng) }),
                })
            };
            let items = |rng: &mut dyn rand::RngCore| {
                let prev = small(rng);
                Some(ItemCounts {
                    previous_year: Some(prev),
                    change: Some(rng.random_range(-prev..=10)),
                    decisions: Some(count(rng)),
                })
            };
            ActiveDisclosure::V2019(ActiveDisclosure2019 {
                regulations: pubs(rng, !may_regulate),
                normative_documents: pubs(rng, false),
                administrative_licensing: items(rng),
                other_management_services: items(rng),
                administrative_punishment: items(rng),
                administrative_enforcement: items(rng),
                administrative_fees: Some(FeeItems {
                    previous_year: Some(small(rng)),
                    change: Some(rng.random_range(-3..=3)),
                }),
                government_procurement: Some(Procurement {
                    projects: Some(small(rng)),
                    amount: Some(decimal(rng)),
                }),
            })
        }
    };
    // Table 2: outcome rows first, then totals that make every relation hold.
    let mut rows: BTreeMap<AppRow, Option<AppValues>> = BTreeMap::new();
    let six = |rng: &mut dyn rand::RngCore, busy: bool| -> [i64; 6] {
        let mut v = [0i64; 6];
        if busy {
            v[0] = rng.random_range(0..200);
            for x in v.iter_mut().skip(1) {
                if rng.random_bool(0.3) {
                    *x = rng.random_range(0..20);
                }
            }
        }
        v
    };
    let with_total = |v: [i64; 6]| -> AppValues {
        let mut out = [Some(0); 7];
        for (o, x) in out.iter_mut().zip(v) {
            *o = Some(x);
        }
        out[6] = Some(v.iter().sum());
        out
    };
    let mut handled = [0i64; 6];
    for row in AppRow::for_template(template).filter(|r| r.is_outcome()) {
        let busy = rng.random_bool(0.35);
        let v = six(rng, busy);
        for (h, x) in handled.iter_mut().zip(v) {
            *h += x;
        }
        rows.insert(row, Some(with_total(v)));
    }
    let busy = rng.random_bool(0.4);
    let forward = six(rng, busy);
    let mut carried = [0i64; 6];
    let mut new = [0i64; 6];
    for c in 0..6 {
        // 一 + 二 = （七） + 四, both parts non-negative.
        let total_in = handled[c] + forward[c];
        carried[c] = rng.random_range(0..=total_in.min(30));
        new[c] = total_in - carried[c];
    }
    rows.insert(AppRow::NewReceived, Some(with_total(new)));
    rows.insert(AppRow::CarriedOver, Some(with_total(carried)));
    rows.insert(AppRow::TotalHandled, Some(with_total(handled)));
    rows.insert(AppRow::CarriedForward, Some(with_total(forward)));
    let group = |rng: &mut dyn rand::RngCore| {
        let v: [i64; 4] = std::array::from_fn(|_| small(rng) / 4);
        ReviewGroup::from_values([v[0], v[1], v[2], v[3], v.iter().sum()].map(Some))
    };
    let t3 = ReviewsAndLitigation {
        review: group(rng),
        litigation_direct: group(rng),
        litigation_after_review: group(rng),
    };
    Report {
        agency: Some(agency.clone()),
        year: Some(year),
        title: Some(format!("{agency}{year}年政府信息公开工作年度报告")),
        template: Some(template),
        period: Some(Period {
            text: format!("统计期限自{year}年1月1日起至{year}年12月31日止"),
            start: Some(format!("{year}-01-01")),
            end: Some(format!("{year}-12-31")),
        }),
        sections: Vec::new(),
        active_disclosure: Some(active),
        applications: Some(Applications { rows }),
        reviews_and_litigation: Some(t3),
    }
}

/// The parts of a parsed report a round trip must give back exactly.
pub fn tables_of(r: &Report) -> impl PartialEq + std::fmt::Debug + '_ {
    (
        (&r.agency, r.year, r.template),
        r.period.as_ref().map(|p| (&p.start, &p.end)),
        &r.active_disclosure,
        &r.applications,
        &r.reviews_and_litigation,
    )
}

/// `check` of one file as the office would run it in the filing season after `year`.
pub fn check_filed(bytes: &[u8], name: &str, year: i32) -> nianbao::check::CheckResult {
    nianbao::check::check_bytes_with(
        bytes,
        name,
        &nianbao::validate::Context {
            previous: None,
            filing_year: year + 1,
            same_year: None,
        },
    )
}

/// Converts `inputs` to PDF in one LibreOffice run with `filter`, into `dir/<sub>/`.
pub fn soffice(
    dir: &std::path::Path,
    sub: &str,
    filter: &str,
    inputs: &[std::path::PathBuf],
) -> std::path::PathBuf {
    let out = dir.join(sub);
    let status = std::process::Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.join("profile").display()
        ))
        .args([
            "--headless",
            "--convert-to",
            &format!("pdf:{filter}"),
            "--outdir",
        ])
        .arg(&out)
        .args(inputs)
        .output()
        .expect("LibreOffice (soffice) must be installed: test.sh installs it");
    assert!(status.status.success(), "{status:?}");
    out
}
