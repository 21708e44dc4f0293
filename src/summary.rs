//! The season at a glance (issue 26): the counts of the season as a bar (已受理 / 需修改 /
//! 未提交 / 逾期), the submissions per day since the season opened against the deadlines,
//! and the ten most frequent findings with how many agencies each concerns. Drawn as
//! server-side SVG (no script: the console's CSP stays as it is), on the overview, on the
//! printable `/summary/<year>` page and by `nianbao summary --year Y --format html|xlsx`.

use std::collections::BTreeMap;

use jiff::civil::Date;
use maud::{DOCTYPE, Markup, html};

use crate::config::Config;
use crate::store::{Store, Verdict};

/// The numbers of a season.
#[derive(Debug, Clone)]
pub struct Summary {
    pub year: i32,
    pub agencies: usize,
    pub accepted: usize,
    pub rejected: usize,
    /// Nothing received (overdue ones included).
    pub missing: usize,
    pub overdue: usize,
    /// Something received that does not count (held, unreadable, another year).
    pub received: usize,
    pub rework: usize,
    /// Files per day (China time) since the season opened (1 January of `year + 1`).
    pub per_day: Vec<(Date, usize)>,
    /// The deadlines of the season: (day, whose).
    pub deadlines: Vec<(Date, &'static str)>,
    /// The ten most frequent findings: (rule, what it checks, agencies concerned).
    pub top: Vec<(String, String, usize)>,
}

/// The summary of report year `year`.
pub fn summary(store: &Store, config: &Config, year: i32) -> anyhow::Result<Summary> {
    let status = crate::status::status(store, config, year)?;
    from_status(store, config, &status)
}

/// The summary of the season `status` shows (the overview has it already).
pub fn from_status(
    store: &Store,
    config: &Config,
    status: &crate::status::Status,
) -> anyhow::Result<Summary> {
    from_status_in(store, config, status, None)
}

/// As [`from_status`], the most frequent findings counted over the agencies of `only`
/// (a region's, see `crate::region`) when given.
pub fn from_status_in(
    store: &Store,
    config: &Config,
    status: &crate::status::Status,
    only: Option<&std::collections::HashSet<String>>,
) -> anyhow::Result<Summary> {
    let year = status.year;
    let mut s = Summary {
        year,
        agencies: status.agencies.len(),
        accepted: 0,
        rejected: 0,
        missing: 0,
        overdue: 0,
        received: 0,
        rework: 0,
        per_day: Vec::new(),
        deadlines: Vec::new(),
        top: Vec::new(),
    };
    for a in &status.agencies {
        match (a.submitted, a.verdict) {
            (true, Some(Verdict::Accepted)) => s.accepted += 1,
            (true, _) => s.rejected += 1,
            (false, _) if a.received.is_some() => s.received += 1,
            (false, _) => {
                s.missing += 1;
                if a.overdue {
                    s.overdue += 1;
                }
            }
        }
        if a.rework {
            s.rework += 1;
        }
    }
    let opened = Date::new(i16::try_from(year + 1).unwrap_or(i16::MAX), 1, 1)?;
    let mut days: BTreeMap<Date, usize> = BTreeMap::new();
    for sub in status
        .submissions
        .iter()
        .filter(|x| x.agency_folder.is_some())
    {
        let day = crate::time::china_time(&sub.received_at)
            .get(..10)
            .and_then(|d| d.parse::<Date>().ok());
        if let Some(day) = day.filter(|d| *d >= opened) {
            *days.entry(day).or_default() += 1;
        }
    }
    s.per_day = days.into_iter().collect();
    for (day, whose) in [
        (config.deadlines.department, "部门"),
        (config.deadlines.government, "政府"),
    ] {
        if let Some(d) = day.in_year(year + 1) {
            s.deadlines.push((d, whose));
        }
    }
    let rules = crate::rules::all();
    let top: Vec<(String, i64)> = match only {
        None => top_rules(store, year)?,
        Some(folders) => top_rules_of(store, year, folders)?,
    };
    s.top = top
        .into_iter()
        .map(|(rule, n)| {
            let what = rules
                .iter()
                .find(|r| r.id == rule.as_str())
                .map_or_else(|| rule.clone(), |r| r.what.to_string());
            (rule, what, usize::try_from(n).unwrap_or(0))
        })
        .collect();
    Ok(s)
}

/// The ten rules found in most agencies' current reports of `year`: (rule, agencies).
fn top_rules(store: &Store, year: i32) -> anyhow::Result<Vec<(String, i64)>> {
    let mut stmt = store.connection().prepare(
        "SELECT f.rule, count(DISTINCT s.agency_folder) AS n
         FROM submissions s JOIN findings f ON f.submission_id = s.id
         WHERE s.year = ?1 AND s.state = 'checked' AND s.superseded_by IS NULL
           AND s.agency_folder IS NOT NULL
         GROUP BY f.rule ORDER BY n DESC, f.rule LIMIT 10",
    )?;
    Ok(stmt
        .query_map([year], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// As [`top_rules`], over the agencies `folders` only.
fn top_rules_of(
    store: &Store,
    year: i32,
    folders: &std::collections::HashSet<String>,
) -> anyhow::Result<Vec<(String, i64)>> {
    let mut stmt = store.connection().prepare(
        "SELECT DISTINCT f.rule, s.agency_folder
         FROM submissions s JOIN findings f ON f.submission_id = s.id
         WHERE s.year = ?1 AND s.state = 'checked' AND s.superseded_by IS NULL
           AND s.agency_folder IS NOT NULL",
    )?;
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for row in stmt.query_map([year], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })? {
        let (rule, folder) = row?;
        if folders.contains(&folder) {
            *counts.entry(rule).or_default() += 1;
        }
    }
    let mut top: Vec<(String, i64)> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(10);
    Ok(top)
}

const WIDTH: usize = 720;

/// The season as one bar: 已受理, 需修改, 已收到未受理, 未提交 (未逾期), 逾期.
pub fn bar(s: &Summary) -> Markup {
    let parts = [
        ("已受理", s.accepted, "#3a8a3a"),
        ("需修改", s.rejected, "#c0392b"),
        ("已收到未受理", s.received, "#d4a017"),
        ("未提交", s.missing.saturating_sub(s.overdue), "#999999"),
        ("逾期", s.overdue, "#5b2c2c"),
    ];
    let total = parts.iter().map(|p| p.1).sum::<usize>().max(1);
    let mut x = 0;
    let mut spans = Vec::new();
    for (label, n, color) in parts {
        let w = n * WIDTH / total;
        spans.push((label, n, color, x, w));
        x += w;
    }
    html! {
        svg #season-bar xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height="64" viewBox=(format!("0 0 {WIDTH} 64")) role="img" aria-label="本年度报送情况" {
            @for (label, n, color, x, w) in spans {
                @if w > 0 {
                    rect x=(x) y="0" width=(w) height="28" fill=(color) { title { (label) " " (n) } }
                }
            }
            @for (i, (label, n, color)) in parts.iter().enumerate() {
                rect x=(i * 140) y="40" width="12" height="12" fill=(color) {}
                text x=(i * 140 + 16) y="51" font-size="13" { (label) " " (n) }
            }
        }
    }
}

/// Files per day since the season opened, with the deadlines marked.
pub fn days(s: &Summary) -> Markup {
    let (h, top) = (160usize, 20usize);
    let first = s.per_day.first().map(|d| d.0);
    let last = s
        .deadlines
        .iter()
        .map(|d| d.0)
        .chain(s.per_day.last().map(|d| d.0))
        .max();
    let opened = Date::new(i16::try_from(s.year + 1).unwrap_or(i16::MAX), 1, 1).ok();
    let start = opened.or(first);
    let span = match (start, last) {
        (Some(a), Some(b)) => a.until(b).map_or(1, |d| d.get_days().max(1)),
        _ => 1,
    };
    let span = usize::try_from(span).unwrap_or(1) + 1;
    let x_of = |d: Date| -> usize {
        let off = start
            .and_then(|a| a.until(d).ok())
            .map_or(0, |s| s.get_days());
        usize::try_from(off).unwrap_or(0) * (WIDTH - 40) / span + 30
    };
    let most = s.per_day.iter().map(|d| d.1).max().unwrap_or(1).max(1);
    let bar_w = ((WIDTH - 40) / span).max(1);
    html! {
        svg #season-days xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(h + 40) viewBox=(format!("0 0 {WIDTH} {}", h + 40)) role="img" aria-label="每日收到的报告" {
            line x1="30" y1=(h + top) x2=(WIDTH - 10) y2=(h + top) stroke="#888" {}
            text x="0" y=(top + 4) font-size="11" { (most) }
            @for (day, n) in &s.per_day {
                @let bh = n * h / most;
                rect x=(x_of(*day)) y=(h + top - bh) width=(bar_w) height=(bh) fill="#4a7ab5" { title { (day) "：" (n) " 份" } }
            }
            @for (day, whose) in &s.deadlines {
                line x1=(x_of(*day)) y1=(top - 8) x2=(x_of(*day)) y2=(h + top) stroke="#c0392b" stroke-dasharray="4 3" {}
                @let right = x_of(*day) > WIDTH - 120;
                text x=(if right { x_of(*day) - 3 } else { x_of(*day) + 3 }) y=(top - 10 + 12) font-size="11" fill="#c0392b" text-anchor=(if right { "end" } else { "start" }) { (whose) "截止 " (day.strftime("%m-%d")) }
            }
            @if let Some(a) = start { text x="30" y=(h + top + 14) font-size="11" { (a) } }
            @if let Some(b) = last { text x=(WIDTH - 80) y=(h + top + 14) font-size="11" { (b) } }
        }
    }
}

/// The ten most frequent findings, by how many agencies each concerns.
pub fn top(s: &Summary) -> Markup {
    let row = 22usize;
    let most = s.top.iter().map(|t| t.2).max().unwrap_or(1).max(1);
    let h = row * s.top.len().max(1) + 4;
    html! {
        svg #season-top xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(h) viewBox=(format!("0 0 {WIDTH} {h}")) role="img" aria-label="最常见的审核意见" {
            @if s.top.is_empty() {
                text x="0" y="16" font-size="13" { "暂无审核意见。" }
            }
            @for (i, (rule, what, n)) in s.top.iter().enumerate() {
                @let w = n * 200 / most;
                text x="0" y=(i * row + 15) font-size="12" { (what.chars().take(30).collect::<String>()) title { (rule) } }
                rect x="420" y=(i * row + 4) width=(w.max(1)) height="14" fill="#b5654a" {}
                text x=(424 + w) y=(i * row + 15) font-size="12" { (n) " 个单位" }
            }
        }
    }
}

/// The three pictures with their headings (the overview's section and the summary page's).
pub fn pictures(s: &Summary) -> Markup {
    html! {
        section.season #season {
            h2 { (s.year) " 年度报送概况" }
            (bar(s))
            h3 { "每日收到的报告（自 " (s.year + 1) " 年 1 月 1 日）与截止日期" }
            (days(s))
            h3 { "最常见的十类审核意见（涉及单位数）" }
            (top(s))
        }
    }
}

/// The printable one-page summary (for the office's leadership): standalone HTML, no
/// script, the styles in the page.
pub fn page(s: &Summary) -> String {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                title { (s.year) " 年度政府信息公开工作年度报告报送情况" }
            }
            body {
                h1 { (s.year) " 年度政府信息公开工作年度报告报送情况" }
                (table(s))
                (pictures(s))
            }
        }
    }
    .into_string()
}

/// The counts as a table.
pub fn table(s: &Summary) -> Markup {
    html! {
        table #summary-counts {
            tbody {
                @for (label, n) in rows(s) {
                    tr { th { (label) } td { (n) } }
                }
            }
        }
    }
}

fn rows(s: &Summary) -> [(&'static str, usize); 7] {
    [
        ("单位总数", s.agencies),
        ("已受理", s.accepted),
        ("需修改", s.rejected),
        ("其中退回未改", s.rework),
        ("已收到未受理", s.received),
        ("未提交", s.missing),
        ("其中逾期", s.overdue),
    ]
}

/// The summary as an .xlsx workbook: the counts, the days, the findings.
pub fn to_xlsx(s: &Summary) -> anyhow::Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = workbook.add_worksheet();
    sheet.set_name(format!("{}年度概况", s.year))?;
    sheet.write_string_with_format(0, 0, format!("{} 年度报送情况", s.year), &bold)?;
    let mut r = 2u32;
    for (label, n) in rows(s) {
        sheet.write_string(r, 0, label)?;
        sheet.write_number(r, 1, n as f64)?;
        r += 1;
    }
    r += 1;
    sheet.write_string_with_format(r, 0, "日期", &bold)?;
    sheet.write_string_with_format(r, 1, "收到报告数", &bold)?;
    for (day, n) in &s.per_day {
        r += 1;
        sheet.write_string(r, 0, day.to_string())?;
        sheet.write_number(r, 1, *n as f64)?;
    }
    r += 2;
    sheet.write_string_with_format(r, 0, "审核意见", &bold)?;
    sheet.write_string_with_format(r, 1, "涉及单位数", &bold)?;
    sheet.write_string_with_format(r, 2, "规则", &bold)?;
    for (rule, what, n) in &s.top {
        r += 1;
        sheet.write_string(r, 0, what)?;
        sheet.write_number(r, 1, *n as f64)?;
        sheet.write_string(r, 2, rule)?;
    }
    sheet.set_column_width(0, 48)?;
    Ok(workbook.save_to_buffer()?)
}
