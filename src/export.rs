//! `nianbao export`: the figures the office needs for its own regional summary. One row per
//! agency (its latest submission for the year that counts: checked, not a duplicate, not
//! superseded), every table value with the column headers as printed in the template, the
//! verdict, and a total row that sums the accepted reports.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Config;
use crate::report::Template;
use crate::store::{Store, SubmissionState, Verdict};

pub use crate::report::cells::{Column, columns};

/// One agency's line.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub agency: String,
    /// The agency's `[[region]]` (only when regions are configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub folder: Option<String>,
    pub receipt: Option<String>,
    pub verdict: Option<Verdict>,
    pub errors: Option<i64>,
    pub warnings: Option<i64>,
    /// The verdict is an officer's (人工复核), not the checker's.
    pub reviewed: bool,
    /// When the report counted was received (Beijing time, `YYYY-MM-DD HH:MM:SS`).
    pub received_at: Option<String>,
    /// The agency's deadline for the year's report (`YYYY-MM-DD`).
    pub deadline: Option<String>,
    /// Received after the deadline, or not received and the deadline passed (逾期).
    pub overdue: bool,
    /// Days after the deadline it was received (or, not received, until today).
    pub days_late: Option<i64>,
    /// Values in [`Export::columns`] order; `None` where not given (or not submitted).
    pub values: Vec<Option<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Export {
    pub year: i32,
    pub template: Template,
    pub columns: Vec<Column>,
    pub lines: Vec<Line>,
    /// Sums over the accepted reports.
    pub total: Vec<Option<String>>,
    pub accepted: usize,
    /// Lines whose verdict an officer gave (人工复核).
    pub reviewed: usize,
    /// Per region (its subtree rolled up), in the tree's order; empty without regions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subtotals: Vec<Subtotal>,
    /// Regions are configured: the files get a 地区 column.
    #[serde(skip)]
    pub regions: bool,
}

/// The sums of one region's accepted reports, its subtree included.
#[derive(Debug, Clone, Serialize)]
pub struct Subtotal {
    pub region: String,
    /// 0: a region at the top.
    pub depth: usize,
    /// Agencies of the subtree in the export.
    pub agencies: usize,
    pub accepted: usize,
    pub values: Vec<Option<String>>,
}

/// Fixed-point value of a decimal with up to 4 places (fees in 万元), for exact sums.
fn to_ten_thousandths(s: &str) -> Option<i128> {
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |d: &str| d.chars().all(|c| c.is_ascii_digit());
    if int.is_empty() || frac.len() > 4 || !digits(int) || !digits(frac) {
        return None;
    }
    let v = int.parse::<i128>().ok()? * 10_000 + format!("{frac:0<4}").parse::<i128>().ok()?;
    Some(if negative { -v } else { v })
}

fn from_ten_thousandths(v: i128) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let v = v.abs();
    let (int, frac) = (v / 10_000, v % 10_000);
    if frac == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{}", format!("{frac:04}").trim_end_matches('0'))
    }
}

/// Builds the export of report year `year`.
pub fn export(store: &Store, config: &Config, year: i32) -> anyhow::Result<Export> {
    export_in(store, config, year, None)
}

/// The export of report year `year`, of `region`'s subtree only when given (see
/// `crate::region`). With regions configured, each line names its region, lines go in the
/// tree's order, and each region gets a subtotal of its subtree.
pub fn export_in(
    store: &Store,
    config: &Config,
    year: i32,
    region: Option<&str>,
) -> anyhow::Result<Export> {
    let tree = crate::region::Tree::load(config, store.connection())?;
    let mut e = export_all(store, config, year, &tree, region)?;
    if tree.is_empty() && region.is_none() {
        return Ok(e);
    }
    // A region that is not in the tree (a user's, after the configuration changed) has no
    // agencies: its export is empty, never everything.
    e.regions = !tree.is_empty();
    e.lines
        .retain(|l| tree.folder_in(l.folder.as_deref(), region));
    let order: Vec<(String, usize)> = tree
        .depth_first()
        .into_iter()
        .filter(|(r, _)| region.is_none_or(|top| tree.within(r, top)))
        .collect();
    let place = |r: Option<&str>| {
        r.and_then(|r| order.iter().position(|(o, _)| o == r))
            .map_or(0, |i| i + 1)
    };
    e.lines.sort_by_key(|l| place(l.region.as_deref()));
    let mut sums = vec![0i128; e.columns.len()];
    let mut accepted = 0;
    let mut reviewed = 0;
    for l in &e.lines {
        reviewed += usize::from(l.reviewed);
        if l.verdict == Some(Verdict::Accepted) {
            accepted += 1;
            add(&mut sums, &l.values);
        }
    }
    e.total = sums
        .into_iter()
        .map(|s| Some(from_ten_thousandths(s)))
        .collect();
    e.accepted = accepted;
    e.reviewed = reviewed;
    for (r, depth) in &order {
        let lines: Vec<&Line> = e
            .lines
            .iter()
            .filter(|l| l.region.as_deref().is_some_and(|lr| tree.within(lr, r)))
            .collect();
        let mut sums = vec![0i128; e.columns.len()];
        let mut accepted = 0;
        for l in lines
            .iter()
            .filter(|l| l.verdict == Some(Verdict::Accepted))
        {
            accepted += 1;
            add(&mut sums, &l.values);
        }
        e.subtotals.push(Subtotal {
            region: r.clone(),
            depth: depth.saturating_sub(order.first().map_or(0, |o| o.1)),
            agencies: lines.len(),
            accepted,
            values: sums
                .into_iter()
                .map(|s| Some(from_ten_thousandths(s)))
                .collect(),
        });
    }
    Ok(e)
}

/// Adds a line's values to `sums` (values that are not decimals are left out).
fn add(sums: &mut [i128], values: &[Option<String>]) {
    for (sum, v) in sums.iter_mut().zip(values) {
        if let Some(n) = v.as_deref().and_then(to_ten_thousandths) {
            *sum += n;
        }
    }
}

/// Every agency's line (only those of `region`'s subtree when given; the lines
/// outside are never read).
fn export_all(
    store: &Store,
    config: &Config,
    year: i32,
    tree: &crate::region::Tree,
    region: Option<&str>,
) -> anyhow::Result<Export> {
    // Over 80 lines on purpose: one pass over the configured agencies and the year's submissions,
    // one row each: the columns are filled where the row is built.
    let template = if year >= 2021 {
        Template::V2021
    } else {
        Template::V2019
    };
    let columns = columns(template);
    let subs = store.submissions(Some(year))?;
    // Latest counting submission per agency folder (None: files outside agency folders).
    let mut latest: BTreeMap<Option<String>, &crate::store::Submission> = BTreeMap::new();
    for s in subs
        .iter()
        .filter(|s| s.state == SubmissionState::Checked && s.superseded_by.is_none())
        // Files at the inbox's top level are no agency's until assigned (待归属).
        .filter(|s| s.agency_folder.is_some())
    {
        latest.insert(s.agency_folder.clone(), s);
    }
    let mut lines = Vec::new();
    let mut folders: Vec<Option<String>> = config
        .agencies
        .iter()
        .map(|a| Some(a.folder.clone()))
        .collect();
    for f in latest.keys() {
        if !folders.contains(f) {
            folders.push(f.clone());
        }
    }
    let mut sums: Vec<i128> = vec![0; columns.len()];
    let mut accepted = 0;
    for folder in folders {
        if region.is_some() && !tree.folder_in(folder.as_deref(), region) {
            continue;
        }
        let sub = latest.get(&folder);
        let name = folder
            .as_deref()
            .and_then(|f| config.agency(f).map(|a| a.name.clone()))
            .or_else(|| sub.and_then(|s| s.agency_name.clone()))
            .or_else(|| folder.clone())
            .unwrap_or_else(|| "（未归属单位的文件）".into());
        let mut values = vec![None; columns.len()];
        if let Some(sub) = sub {
            let cells = store.cells(sub.id)?;
            for (i, col) in columns.iter().enumerate() {
                let cell = cells.iter().find(|(t, r, c, _, _)| {
                    *t == i64::from(col.table) && r == col.row && c == col.column
                });
                values[i] =
                    cell.and_then(|(_, _, _, v, a)| v.map(|v| v.to_string()).or_else(|| a.clone()));
            }
            if sub.verdict == Some(Verdict::Accepted) {
                accepted += 1;
                for (sum, v) in sums.iter_mut().zip(&values) {
                    if let Some(n) = v.as_deref().and_then(to_ten_thousandths) {
                        *sum += n;
                    }
                }
            }
        }
        let received_at = sub.map(|s| crate::time::china_time(&s.received_at));
        let deadline = folder.as_deref().and_then(|f| {
            crate::deadlines::deadline_of(config, &config.agency_or_folder(f), year + 1)
        });
        // Late by the day it arrived (China time), or by today when nothing did.
        let day = match &received_at {
            Some(t) => t
                .get(..10)
                .and_then(|d| d.parse::<jiff::civil::Date>().ok()),
            None => Some(crate::time::china_now().date()),
        };
        let days_late = match (deadline, day) {
            (Some(dl), Some(day)) if day > dl => {
                dl.until(day).ok().map(|s| i64::from(s.get_days()))
            }
            _ => None,
        };
        lines.push(Line {
            region: folder
                .as_deref()
                .and_then(|f| tree.region_of(f))
                .map(str::to_string),
            received_at,
            deadline: deadline.map(|d| d.to_string()),
            overdue: days_late.is_some(),
            days_late,
            agency: name,
            folder,
            receipt: sub.map(|s| s.receipt.clone()),
            verdict: sub.and_then(|s| s.verdict),
            errors: sub.and_then(|s| s.errors),
            warnings: sub.and_then(|s| s.warnings),
            reviewed: sub.is_some_and(|s| s.reviewed),
            values,
        });
    }
    let reviewed = lines.iter().filter(|l| l.reviewed).count();
    let total = sums
        .into_iter()
        .map(|s| Some(from_ten_thousandths(s)))
        .collect();
    Ok(Export {
        year,
        template,
        columns,
        lines,
        total,
        accepted,
        reviewed,
        subtotals: Vec::new(),
        regions: false,
    })
}

fn verdict_cn(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Accepted) => "已受理",
        Some(Verdict::Rejected) => "需修改",
        None => "未提交",
    }
}

/// The header row: fixed columns, then one per value.
fn header(e: &Export) -> Vec<String> {
    let mut h: Vec<String> = [
        "单位",
        "文件夹",
        "回执编号",
        "审核结果",
        "人工复核",
        "错误数",
        "提示数",
        "收到时间（北京时间）",
        "截止日期",
        "逾期",
        "逾期天数",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if e.regions {
        h.insert(0, "地区".to_string());
    }
    h.extend(e.columns.iter().map(|c| c.header.clone()));
    h
}

/// The fixed columns before the values: 11, and the 地区 column with regions.
fn fixed(e: &Export) -> usize {
    11 + usize::from(e.regions)
}

fn row_cells(e: &Export, l: &Line) -> Vec<String> {
    let mut r = Vec::new();
    if e.regions {
        r.push(l.region.clone().unwrap_or_default());
    }
    r.extend([
        l.agency.clone(),
        l.folder.clone().unwrap_or_default(),
        l.receipt.clone().unwrap_or_default(),
        verdict_cn(l.verdict).to_string(),
        if l.reviewed { "是" } else { "否" }.to_string(),
        l.errors.map(|v| v.to_string()).unwrap_or_default(),
        l.warnings.map(|v| v.to_string()).unwrap_or_default(),
        l.received_at.clone().unwrap_or_default(),
        l.deadline.clone().unwrap_or_default(),
        if l.overdue { "是" } else { "否" }.to_string(),
        l.days_late.map(|v| v.to_string()).unwrap_or_default(),
    ]);
    r.extend(l.values.iter().map(|v| v.clone().unwrap_or_default()));
    r
}

/// A region's subtotal row: its name (indented by depth) in the first column.
fn subtotal_cells(e: &Export, s: &Subtotal) -> Vec<String> {
    let mut r = vec![format!(
        "{}小计：{}（{} 个单位，{} 份已受理报告）",
        "　".repeat(s.depth),
        s.region,
        s.agencies,
        s.accepted
    )];
    r.extend(std::iter::repeat_n(String::new(), fixed(e) - 1));
    r.extend(s.values.iter().map(|v| v.clone().unwrap_or_default()));
    r
}

fn total_cells(e: &Export) -> Vec<String> {
    let mut r = vec![if e.reviewed > 0 {
        format!(
            "合计（{} 份已受理报告；{} 份审核结果经人工复核）",
            e.accepted, e.reviewed
        )
    } else {
        format!("合计（{} 份已受理报告）", e.accepted)
    }];
    r.extend(std::iter::repeat_n(String::new(), fixed(e) - 1));
    r.extend(e.total.iter().map(|v| v.clone().unwrap_or_default()));
    r
}

/// A cell as a spreadsheet will not run it (OWASP, "CSV injection"): text that starts
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so that Excel
/// and WPS show it as text instead of evaluating a formula (`=HYPERLINK(..)`,
/// `+cmd|' -C calc'!A0`). A number (`-2`, `+3.5`) stays a number.
fn neutralised(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !is_number(s) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// A plain decimal: an optional sign, digits, and optionally a point and digits.
fn is_number(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// CSV (RFC 4180: fields quoted where needed, CRLF line ends), UTF-8 with a BOM so that
/// Excel shows the Chinese headers; every cell [`neutralised`] first.
pub fn to_csv(e: &Export) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer("\u{FEFF}".as_bytes().to_vec());
    let rows = std::iter::once(header(e))
        .chain(e.lines.iter().map(|l| row_cells(e, l)))
        .chain(e.subtotals.iter().map(|s| subtotal_cells(e, s)))
        .chain(std::iter::once(total_cells(e)));
    for cells in rows {
        writer.write_record(cells.iter().map(|c| neutralised(c).into_owned()))?;
    }
    writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("CSV export: {}", e.error()))
}

/// An .xlsx workbook: one sheet, header in bold, numbers as numbers, first column frozen.
pub fn to_xlsx(e: &Export) -> anyhow::Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(format!("{}年度", e.year))?;
    let bold = Format::new().set_bold().set_text_wrap();
    for (c, h) in header(e).iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, h, &bold)?;
    }
    let mut write_row = |r: u32, cells: Vec<String>| -> anyhow::Result<()> {
        for (c, v) in cells.iter().enumerate() {
            let col = c as u16;
            if c >= 5 + usize::from(e.regions)
                && !v.is_empty()
                && let Ok(n) = v.parse::<f64>()
            {
                sheet.write_number(r, col, n)?;
            } else {
                sheet.write_string(r, col, v)?;
            }
        }
        Ok(())
    };
    let mut at = 1u32;
    for l in &e.lines {
        write_row(at, row_cells(e, l))?;
        at += 1;
    }
    for s in &e.subtotals {
        write_row(at, subtotal_cells(e, s))?;
        at += 1;
    }
    write_row(at, total_cells(e))?;
    sheet.set_freeze_panes(1, 1 + u16::from(e.regions))?;
    sheet.set_column_width(0, 28)?;
    Ok(workbook.save_to_buffer()?)
}

pub fn to_json(e: &Export) -> anyhow::Result<Vec<u8>> {
    Ok(serde_json::to_vec_pretty(e)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_sums_are_exact() {
        let sum: i128 = ["0.0125", "96171.6", "3", "0.0001"]
            .iter()
            .filter_map(|s| to_ten_thousandths(s))
            .sum();
        assert_eq!(from_ten_thousandths(sum), "96174.6126");
        assert_eq!(
            to_ten_thousandths("1.23456"),
            None,
            "more than 4 places is not summed silently"
        );
        assert_eq!(
            from_ten_thousandths(to_ten_thousandths("-2").unwrap_or(0)),
            "-2"
        );
    }

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        assert_eq!(neutralised("=1+2"), "'=1+2");
        assert_eq!(neutralised("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralised("\tx"), "'\tx");
        assert_eq!(neutralised("+cmd|' -C calc'!A0"), "'+cmd|' -C calc'!A0");
        assert_eq!(neutralised("-2"), "-2");
        assert_eq!(neutralised("+3.5"), "+3.5");
        assert_eq!(neutralised("-"), "'-");
        assert_eq!(neutralised("96171.6"), "96171.6");
        assert_eq!(neutralised("西塞山区"), "西塞山区");
    }
}
