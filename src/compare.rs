//! Two reports side by side: every table value of both with the differences marked, and per
//! section how much of the newer narrative is the older one again. This is what an officer
//! opens to judge a 内容雷同 (copied report) warning, so it is a library module: the CLI
//! prints it, the web console can draw it. Its measure of shared sentences,
//! [`sentence_overlap`], is the checker's (the cross-year rules call it).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::report::schema::{SECTIONS, app_row_group};
use crate::report::{AppRow, Report, Template};
pub use crate::width::{display_width, pad_left, pad_right};
pub use nianbao_check::overlap::{Overlap, sentence_overlap};

/// What a compared file is.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub file: String,
    pub agency: Option<String>,
    pub year: Option<i32>,
    pub template: Option<Template>,
}

impl Side {
    pub fn of(file: &str, report: &Report) -> Side {
        Side {
            file: file.to_string(),
            agency: report.agency.clone(),
            year: report.year,
            template: report.template,
        }
    }
}

/// One table value in both reports.
#[derive(Debug, Clone, Serialize)]
pub struct ValueRow {
    pub table: u8,
    pub row: &'static str,
    pub column: &'static str,
    /// The template's row label (`一、本年新收政府信息公开申请数量`; table 3: the group).
    pub label: String,
    /// The template's column label (`自然人`).
    pub item: String,
    /// `None`: not given (blank, unreadable, or the other template).
    pub old: Option<String>,
    pub new: Option<String>,
    pub differs: bool,
}

/// One of the six sections in both reports.
#[derive(Debug, Clone, Serialize)]
pub struct SectionOverlap {
    pub number: u8,
    pub heading: &'static str,
    /// Whether each report has the section at all.
    pub in_old: bool,
    pub in_new: bool,
    pub overlap: Overlap,
}

/// Two reports compared.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub old: Side,
    pub new: Side,
    pub values: Vec<ValueRow>,
    pub sections: Vec<SectionOverlap>,
    /// Over the whole narrative (all sections together).
    pub narrative: Overlap,
}

impl Comparison {
    pub fn differing(&self) -> usize {
        self.values.iter().filter(|v| v.differs).count()
    }
}

/// Compares OLD and NEW, as read from the files named `old_file` and `new_file`.
pub fn compare(old_file: &str, old: &Report, new_file: &str, new: &Report) -> Comparison {
    let values_of = |r: &Report| -> BTreeMap<(u8, &'static str, &'static str), String> {
        crate::store::report_cells(r)
            .into_iter()
            .filter_map(|c| {
                let v = c.value.map(|v| v.to_string()).or(c.amount)?;
                Some(((c.table, c.row, c.column), v))
            })
            .collect()
    };
    let (old_values, new_values) = (values_of(old), values_of(new));
    // NEW's template decides the rows; OLD's own rows follow when it used the other one.
    let mut templates = vec![new.template.or(old.template).unwrap_or(Template::V2021)];
    if let Some(t) = old.template
        && !templates.contains(&t)
    {
        templates.push(t);
    }
    let mut seen = BTreeSet::new();
    let mut values = Vec::new();
    for template in templates {
        for col in crate::export::columns(template) {
            let key = (col.table, col.row, col.column);
            if !seen.insert(key) {
                continue;
            }
            let old = old_values.get(&key).cloned();
            let new = new_values.get(&key).cloned();
            // `表二 <row> <column>`: the table is said by the section the row is printed in.
            let header = col
                .header
                .split_once(' ')
                .map_or(col.header.as_str(), |(_, rest)| rest);
            let (label, item) = header.rsplit_once(' ').unwrap_or((header, ""));
            // `1.属于国家秘密` alone does not say under which outcome it is printed.
            let group = AppRow::ALL
                .iter()
                .find(|r| col.table == 2 && r.id() == col.row)
                .and_then(|r| app_row_group(*r));
            let label = match group {
                Some(group) => format!("{group} {label}"),
                None => label.to_string(),
            };
            values.push(ValueRow {
                table: col.table,
                row: col.row,
                column: col.column,
                label,
                item: item.to_string(),
                differs: old != new,
                old,
                new,
            });
        }
    }
    values.sort_by_key(|v| v.table);
    let text_of = |r: &Report, n: u8| -> Option<String> {
        let parts: Vec<&str> = r
            .sections
            .iter()
            .filter(|s| s.number == n)
            .map(|s| s.text.as_str())
            .collect();
        (!parts.is_empty()).then(|| parts.join("\n"))
    };
    let sections = SECTIONS
        .iter()
        .map(|s| {
            let (o, n) = (text_of(old, s.number), text_of(new, s.number));
            SectionOverlap {
                number: s.number,
                heading: s.standard,
                in_old: o.is_some(),
                in_new: n.is_some(),
                overlap: sentence_overlap(
                    o.as_deref().unwrap_or_default(),
                    n.as_deref().unwrap_or_default(),
                ),
            }
        })
        .collect();
    let all = |r: &Report| {
        r.sections
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    Comparison {
        old: Side::of(old_file, old),
        new: Side::of(new_file, new),
        values,
        sections,
        narrative: sentence_overlap(&all(old), &all(new)),
    }
}

/// The mark of a value row that differs.
pub const DIFFERS: &str = "≠";

const TABLES: [&str; 3] = [
    "表一 主动公开政府信息情况",
    "表二 收到和处理政府信息公开申请情况",
    "表三 政府信息公开行政复议、行政诉讼情况",
];

/// The comparison as text for a terminal: per table each row label, then one line per value
/// (column label, OLD, NEW, `≠` where they differ) aligned by display width; then the
/// narrative overlap per section.
pub fn render(c: &Comparison) -> String {
    let mut out = String::new();
    let name = |s: &Side| {
        format!(
            "{} {}  {}",
            s.agency.as_deref().unwrap_or("（未识别单位）"),
            s.year
                .map_or("（未识别年度）".to_string(), |y| format!("{y}年")),
            s.file
        )
    };
    let _ = writeln!(out, "旧：{}", name(&c.old));
    let _ = writeln!(out, "新：{}", name(&c.new));
    let head_old = c.old.year.map_or("旧".to_string(), |y| format!("旧 {y}"));
    let head_new = c.new.year.map_or("新".to_string(), |y| format!("新 {y}"));
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".to_string());
    let widest = |f: &dyn Fn(&ValueRow) -> String, head: &str| {
        c.values
            .iter()
            .map(|v| display_width(&f(v)))
            .max()
            .unwrap_or(0)
            .max(display_width(head))
    };
    let item_w = widest(&|v| v.item.clone(), "");
    let old_w = widest(&|v| shown(&v.old), &head_old);
    let new_w = widest(&|v| shown(&v.new), &head_new);
    for (i, title) in TABLES.iter().enumerate() {
        let rows: Vec<&ValueRow> = c
            .values
            .iter()
            .filter(|v| usize::from(v.table) == i + 1)
            .collect();
        let differing = rows.iter().filter(|v| v.differs).count();
        let _ = writeln!(out, "\n{title}（{} 项，{differing} 项不同）", rows.len());
        let _ = writeln!(
            out,
            "    {}  {}  {}",
            pad_right("", item_w),
            pad_left(&head_old, old_w),
            pad_left(&head_new, new_w)
        );
        let mut label = "";
        for v in rows {
            if v.label != label {
                label = &v.label;
                let _ = writeln!(out, "  {label}");
            }
            let line = format!(
                "    {}  {}  {}  {}",
                pad_right(&v.item, item_w),
                pad_left(&shown(&v.old), old_w),
                pad_left(&shown(&v.new), new_w),
                if v.differs { DIFFERS } else { "" }
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    let _ = writeln!(
        out,
        "\n正文重复（新报告中在旧报告里出现过的句子；年份和数字不计）"
    );
    let headings: Vec<String> = c
        .sections
        .iter()
        .map(|s| {
            let numeral = SECTIONS
                .iter()
                .find(|h| h.number == s.number)
                .map_or('？', |h| h.numeral);
            format!("{numeral}、{}", s.heading)
        })
        .collect();
    let heading_w = headings.iter().map(|h| display_width(h)).max().unwrap_or(0);
    for (s, heading) in c.sections.iter().zip(&headings) {
        let what = match (s.in_old, s.in_new) {
            (_, false) => "新报告无此部分".to_string(),
            (false, true) => "旧报告无此部分".to_string(),
            _ => overlap_text(&s.overlap),
        };
        let _ = writeln!(out, "  {}  {what}", pad_right(heading, heading_w));
    }
    let _ = writeln!(
        out,
        "  {}  {}",
        pad_right("全文", heading_w),
        overlap_text(&c.narrative)
    );
    out
}

fn overlap_text(o: &Overlap) -> String {
    let mut s = format!(
        "{}/{} 句相同（{:.0}%）",
        o.shared,
        o.total,
        o.ratio() * 100.0
    );
    if let Some(example) = &o.example {
        let short: String = example.chars().take(40).collect();
        let more = if short.len() < example.len() {
            "……"
        } else {
            ""
        };
        let _ = write!(s, "  例：“{short}{more}”");
    }
    s
}
