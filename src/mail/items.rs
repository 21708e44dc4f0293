//! The list a person reads: findings grouped into at most [`MAX_ITEMS`] items.
//!
//! A clerk reads the answer once, on a phone. 139 items that each say "this cell is blank",
//! or 21 that each say "this row has 6 numbers", hide the one thing to do. Findings that share
//! a rule and a table are told once, naming all the places compactly. Errors come before
//! warnings; when more items remain than fit, the last line says how many and where the full
//! list is (the HTML part of the mail and the receipt file).
//!
//! Only the list a person reads is grouped: the JSON, the database and the highlighted HTML
//! table keep every finding.

use crate::finding::{Finding, Severity};
use crate::report::schema;

/// At most this many numbered items in a mail or a receipt.
pub const MAX_ITEMS: usize = 15;

/// From this many findings of one rule in one table on, they are told as one item.
const GROUP_FROM: usize = 3;

/// At most this many places named inside one grouped item before "等".
const PLACES_SHOWN: usize = 8;

/// One numbered item of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub severity: Severity,
    pub text: String,
    /// Indices into the findings this item tells.
    pub findings: Vec<usize>,
    /// The likely culprit (`validate::culprit`): the cause of the sum errors listed below
    /// it, not an error of its own, so it is labelled 【最可能的原因】 and not counted.
    pub culprit: bool,
}

impl Item {
    /// The label in 【】 before the item.
    pub fn label(&self) -> &'static str {
        if self.culprit {
            "最可能的原因"
        } else {
            self.severity.label()
        }
    }
}

/// The items as shown, and what did not fit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub items: Vec<Item>,
    /// Items left out because of [`MAX_ITEMS`], and the findings they hold.
    pub more_items: usize,
    pub more_errors: usize,
    pub more_warnings: usize,
}

/// Groups findings into items, errors first (in the findings' order otherwise), and keeps at
/// most [`MAX_ITEMS`]. `lead` items (e.g. the likely culprit) come first and count too.
pub fn listing(findings: &[Finding], lead: Vec<Item>) -> Listing {
    let mut all = lead;
    let mut grouped = group(findings);
    grouped.sort_by_key(|i| std::cmp::Reverse(i.severity));
    all.extend(grouped);
    let mut listing = Listing::default();
    for (i, item) in all.into_iter().enumerate() {
        if i < MAX_ITEMS {
            listing.items.push(item);
        } else {
            listing.more_items += 1;
            for &k in &item.findings {
                match findings.get(k).map(|f| f.severity) {
                    Some(Severity::Error) => listing.more_errors += 1,
                    Some(Severity::Warning) => listing.more_warnings += 1,
                    None => {}
                }
            }
        }
    }
    listing
}

/// Findings of one rule in one table, [`GROUP_FROM`] or more of them, become one item; the
/// others stay items of their own. The order is that of each group's first finding.
pub fn group(findings: &[Finding]) -> Vec<Item> {
    let mut keys: Vec<(&str, Option<u8>)> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        let key = (f.rule, f.location.table);
        match keys.iter().position(|k| *k == key) {
            Some(k) => members[k].push(i),
            None => {
                keys.push(key);
                members.push(vec![i]);
            }
        }
    }
    let mut items = Vec::new();
    for ((rule, table), idx) in keys.into_iter().zip(members) {
        let groupable = table.is_some() && idx.len() >= GROUP_FROM;
        if !groupable {
            items.extend(idx.into_iter().map(|i| Item {
                severity: findings[i].severity,
                text: about_prefix(&findings[i]),
                findings: vec![i],
                culprit: false,
            }));
            continue;
        }
        let group: Vec<&Finding> = idx.iter().map(|&i| &findings[i]).collect();
        let table = table.unwrap_or_default();
        let text = match rule {
            "cell.not_filled" => blank_cells(table, &group),
            "table.row_values" => row_values(table, &group),
            _ => generic(rule, table, &group),
        };
        items.push(Item {
            severity: group
                .iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(Severity::Warning),
            text,
            findings: idx,
            culprit: false,
        });
    }
    items
}

/// The plain-text list: numbered items, then the line about what did not fit.
pub fn render_text(listing: &Listing) -> String {
    let mut out = String::new();
    for (i, item) in listing.items.iter().enumerate() {
        out.push_str(&format!("\n{}. 【{}】{}\n", i + 1, item.label(), item.text));
    }
    if listing.more_items > 0 {
        out.push_str(&format!(
            "\n{}\n",
            more_line(listing, "本邮件的网页版（HTML 部分）和回执文件")
        ));
    }
    out
}

/// "发现 3 处错误、2 条提示" as the list below tells them: findings told in fewer items
/// say so ("发现 21 处错误（归为下列 1 项）"), so that every count matches the items under
/// it. The likely culprit is not counted: it is the cause, not an error.
pub fn counts(listing: &Listing, errors: usize, warnings: usize) -> (String, String) {
    let told = |n: usize, unit: &str, severity: Severity| {
        let items = listing
            .items
            .iter()
            .filter(|i| !i.culprit && i.severity == severity);
        let k = items.clone().count();
        if items.clone().all(|i| i.findings.len() <= 1) {
            format!("{n} {unit}")
        } else {
            format!("{n} {unit}（归为下列 {k} 项）")
        }
    };
    (
        told(errors, "处错误", Severity::Error),
        told(warnings, "条提示", Severity::Warning),
    )
}

/// "还有 N 项…": how much did not fit and where to read it.
pub fn more_line(listing: &Listing, full_list_at: &str) -> String {
    let mut what = Vec::new();
    if listing.more_errors > 0 {
        what.push(format!("错误 {} 处", listing.more_errors));
    }
    if listing.more_warnings > 0 {
        what.push(format!("提示 {} 条", listing.more_warnings));
    }
    format!(
        "……另有 {} 项未列出（{}），完整清单见{full_list_at}。",
        listing.more_items,
        what.join("、")
    )
}

/// The receipt file's appendix: every finding, one line each, when the numbered list grouped
/// or left out any (the full list the mail points to); empty otherwise.
pub fn appendix(findings: &[Finding]) -> String {
    let listing = listing(findings, Vec::new());
    let told: usize = listing.items.iter().map(|i| i.findings.len()).sum();
    if listing.more_items == 0 && listing.items.len() == told {
        return String::new();
    }
    full_list(findings)
}

/// Every finding, one line each.
pub fn full_list(findings: &[Finding]) -> String {
    let mut out = format!("\n附：全部 {} 条审核意见明细\n", findings.len());
    for f in findings {
        out.push_str(&format!(
            "- 【{}】{}\n",
            f.severity.label(),
            about_prefix(f)
        ));
    }
    out
}

/// A finding's message, marked when it is about nianbao's reading of a scan rather than the
/// agency's report: the clerk must not correct a number the reader was unsure of.
pub fn about_prefix(f: &Finding) -> String {
    match f.about {
        crate::finding::About::Reading => {
            format!("（{}，非报告错误）{}", f.about.label(), f.message)
        }
        crate::finding::About::Report => f.message.clone(),
    }
}

fn cn_table(table: u8) -> &'static str {
    match table {
        1 => "表一",
        2 => "表二",
        3 => "表三",
        _ => "表格",
    }
}

/// "“（一）予以公开”行" or, for a finding without a row, its line.
fn place(table: u8, f: &Finding) -> String {
    match f.location.row.as_deref() {
        Some(row) => format!("“{}”行", schema::row_printed(table, row).unwrap_or(row)),
        None => match (f.location.page, f.location.line) {
            (Some(page), _) => format!("第{page}页"),
            (None, Some(line)) => format!("第{line}行"),
            (None, None) => "（位置不明）".to_string(),
        },
    }
}

/// Lines as compact ranges: "第54–74行", "第3、5、9–11行".
fn line_ranges(lines: &[u32]) -> Option<String> {
    let mut lines: Vec<u32> = lines.to_vec();
    lines.sort_unstable();
    lines.dedup();
    let first = *lines.first()?;
    let mut parts = Vec::new();
    let (mut start, mut end) = (first, first);
    for &l in &lines[1..] {
        if l == end + 1 {
            end = l;
        } else {
            parts.push((start, end));
            start = l;
            end = l;
        }
    }
    parts.push((start, end));
    let shown: Vec<String> = parts
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        })
        .collect();
    Some(format!("第{}行", shown.join("、")))
}

/// Places in order of first appearance, each with how many findings it holds.
fn places_counted(table: u8, group: &[&Finding]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for f in group {
        let p = place(table, f);
        match out.iter_mut().find(|(q, _)| *q == p) {
            Some((_, n)) => *n += 1,
            None => out.push((p, 1)),
        }
    }
    out
}

fn bounded(list: Vec<String>) -> String {
    let n = list.len();
    let mut shown: Vec<String> = list.into_iter().take(PLACES_SHOWN).collect();
    if n > PLACES_SHOWN {
        shown.push(format!("等共 {n} 处"));
    }
    shown.join("；")
}

fn blank_cells(table: u8, group: &[&Finding]) -> String {
    let per_row: Vec<String> = places_counted(table, group)
        .into_iter()
        .map(|(p, n)| format!("{p} {n} 格"))
        .collect();
    format!(
        "{}有 {} 个格空白或未填数字（没有发生的请填 0；空白的格不参与合计核对）：{}。",
        cn_table(table),
        group.len(),
        bounded(per_row)
    )
}

fn row_values(table: u8, group: &[&Finding]) -> String {
    // Line numbers only for a text file (a PDF's findings have a page too): elsewhere the
    // rows are named by their template label, with the PDF pages.
    let lines: Vec<u32> = group
        .iter()
        .filter(|f| f.location.page.is_none())
        .filter_map(|f| f.location.line)
        .collect();
    let mut pages: Vec<u32> = group.iter().filter_map(|f| f.location.page).collect();
    pages.sort_unstable();
    pages.dedup();
    let where_ = match line_ranges(&lines) {
        Some(ranges) if lines.len() == group.len() => ranges,
        _ => {
            let labels = bounded(
                places_counted(table, group)
                    .into_iter()
                    .map(|(p, _)| p)
                    .collect(),
            );
            match pages.as_slice() {
                [] => labels,
                [page] => format!("第{page}页{labels}"),
                [first, .., last] => format!("第{first}–{last}页{labels}"),
            }
        }
    };
    // The same count on every row is the mark of a whole column lost or merged.
    let counts: Vec<&str> = group.iter().filter_map(|f| f.actual.as_deref()).collect();
    let expected: Vec<&str> = group.iter().filter_map(|f| f.expected.as_deref()).collect();
    let same = |v: &[&str]| v.len() == group.len() && v.windows(2).all(|w| w[0] == w[1]);
    let shape = if same(&counts) && same(&expected) {
        format!(
            "每行只有 {} 个数，模板为 {} 列，疑似整列缺失或合并单元格",
            counts[0], expected[0]
        )
    } else {
        "每行数值个数与模板列数不符".to_string()
    };
    format!(
        "{}{}（共 {} 行）{}，这些行未读取。请按模板逐列填写，没有的填 0，不要合并单元格。",
        cn_table(table),
        where_,
        group.len(),
        shape
    )
}

fn generic(rule: &str, table: u8, group: &[&Finding]) -> String {
    let what = crate::rules::all()
        .into_iter()
        .find(|r| r.id == rule)
        .map_or(rule, |r| r.what);
    let places: Vec<String> = places_counted(table, group)
        .into_iter()
        .map(|(p, n)| {
            if n > 1 {
                format!("{p}（{n} 处）")
            } else {
                p
            }
        })
        .collect();
    format!(
        "{}有 {} 处：{}。涉及：{}。例如：{}",
        cn_table(table),
        group.len(),
        what,
        bounded(places),
        group[0].message
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Location;

    fn finding(rule: &'static str, sev: Severity, table: u8, row: &str, line: u32) -> Finding {
        Finding {
            rule,
            severity: sev,
            about: crate::finding::About::of_rule(rule),
            location: Location {
                line: Some(line),
                ..Location::table(table).row(row)
            },
            expected: None,
            actual: None,
            message: format!("{rule} {row} {line}"),
        }
    }

    #[test]
    fn pdf_rows_are_named_by_label_and_page_never_by_extracted_line() {
        // Issue 24: a PDF's lines are the extractor's; a clerk finds rows by their label.
        let rows = ["granted", "partially_granted", "state_secret"];
        let found: Vec<Finding> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mut f = finding("table.row_values", Severity::Error, 2, row, 54 + i as u32);
                f.location.page = Some(3);
                f.actual = Some("6".into());
                f.expected = Some("7".into());
                f
            })
            .collect();
        let items = group(&found);
        assert_eq!(items.len(), 1);
        let text = &items[0].text;
        assert!(!text.contains("第54"), "{text}");
        assert!(text.contains("第3页"), "{text}");
        assert!(text.contains("“（一）予以公开”行"), "{text}");
        // A text file keeps its line numbers: they are the clerk's own lines.
        let text_file: Vec<Finding> = found
            .into_iter()
            .map(|mut f| {
                f.location.page = None;
                f
            })
            .collect();
        assert!(group(&text_file)[0].text.contains("第54–56行"));
    }

    #[test]
    fn ranges_are_compact() {
        assert_eq!(
            line_ranges(&[54, 55, 56, 60, 3]).as_deref(),
            Some("第3、54–56、60行")
        );
        assert_eq!(line_ranges(&[]), None);
    }

    #[test]
    fn two_of_a_kind_stay_apart_three_are_grouped() {
        let two: Vec<Finding> = (0..2)
            .map(|i| finding("cell.not_filled", Severity::Warning, 2, "granted", 50 + i))
            .collect();
        assert_eq!(group(&two).len(), 2);
        let three: Vec<Finding> = (0..3)
            .map(|i| finding("cell.not_filled", Severity::Warning, 2, "granted", 50 + i))
            .collect();
        let items = group(&three);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].findings, vec![0, 1, 2]);
        assert!(items[0].text.contains("3 个格"), "{}", items[0].text);
        assert!(
            items[0].text.contains("（一）予以公开"),
            "{}",
            items[0].text
        );
    }

    #[test]
    fn errors_first_and_at_most_fifteen_with_the_rest_counted() {
        // 20 distinct single findings: 10 warnings then 10 errors, each its own item.
        let mut findings = Vec::new();
        for i in 0..10 {
            findings.push(finding("label.nonstandard", Severity::Warning, 1, "x", i));
            findings[i as usize].location.table = None;
        }
        for i in 0..10 {
            let mut f = finding("sum.t2_row_total", Severity::Error, 2, "granted", i);
            f.location.table = None;
            findings.push(f);
        }
        let l = listing(&findings, Vec::new());
        assert_eq!(l.items.len(), MAX_ITEMS);
        assert!(l.items[..10].iter().all(|i| i.severity == Severity::Error));
        assert_eq!(l.more_items, 5);
        assert_eq!((l.more_errors, l.more_warnings), (0, 5));
        let text = render_text(&l);
        assert!(text.contains("另有 5 项未列出（提示 5 条）"), "{text}");
        assert!(text.contains("\n15. "), "{text}");
        assert!(!text.contains("\n16. "), "{text}");
    }
}
