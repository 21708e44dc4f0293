//! Two reports side by side: every table value of both with the differences marked, and per
//! section how much of the newer narrative is the older one again. This is what an officer
//! opens to judge a 内容雷同 (copied report) warning, so it is a library module: the CLI
//! prints it, the web console can draw it, the cross-year rules call [`sentence_overlap`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;

use serde::Serialize;

use crate::report::schema::{SECTIONS, app_row_group};
use crate::report::{AppRow, Report, Template};
pub use crate::width::{display_width, pad_left, pad_right};

/// How much of NEW's narrative is found in OLD: `shared` of NEW's `total` sentences (those of
/// 8 characters or more once years and numbers are masked) also occur in OLD.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Overlap {
    pub shared: usize,
    pub total: usize,
    /// The longest shared sentence, as NEW writes it: the evidence to show.
    pub example: Option<String>,
}

impl Overlap {
    /// `shared / total`, 0 when NEW has no sentence long enough to compare.
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.shared as f64 / self.total as f64
        }
    }
}

/// Sentences shorter than this (after masking) are headings, 无, 特此报告 and the like: they
/// are the same in every report and say nothing about copying.
const MIN_SENTENCE_CHARS: usize = 8;

/// The share of NEW's sentences found in OLD once years and numbers are masked.
///
/// Sentences end at 。！？； (and their half-width forms, found in portal copies) and at line
/// breaks. Each is compared in a normal form: runs of ASCII or full-width digits become `#`
/// (a copied report changes the year and the figures, not the words), whitespace and
/// punctuation are dropped (re-typed commas and spaces do not make a sentence new), and
/// sentences under 8 characters after that are ignored.
pub fn sentence_overlap(old: &str, new: &str) -> Overlap {
    let known: BTreeSet<String> = sentences(old).map(|(_, n)| n).collect();
    let mut overlap = Overlap::default();
    let mut longest = 0;
    for (written, normal) in sentences(new) {
        overlap.total += 1;
        if known.contains(&normal) {
            overlap.shared += 1;
            let len = normal.chars().count();
            if len > longest {
                longest = len;
                overlap.example = Some(written.to_string());
            }
        }
    }
    overlap
}

/// The comparable sentences of a text: (as written, trimmed; normal form). Numbered
/// headings, on a line of their own or run into the text (`（四）政府信息公开平台建设情况。
/// 进一步优化……`), are left out: the template suggests them to every agency, so sharing them
/// says nothing about copying.
pub(crate) fn sentences(text: &str) -> impl Iterator<Item = (&str, String)> {
    text.split(['。', '！', '？', '；', '!', '?', ';', '\n', '\r'])
        .map(str::trim)
        .filter(|s| !is_heading(s) && !is_template_sentence(s))
        .map(|s| (s, normalize(s)))
        .filter(|(_, n)| n.chars().count() >= MIN_SENTENCE_CHARS)
}

/// The template's own sentences, which every report repeats every year (the statistics
/// period, "…统计如下表"): sharing them says nothing about copying.
fn is_template_sentence(sentence: &str) -> bool {
    crate::report::schema::TEMPLATE_SENTENCES
        .iter()
        .any(|t| sentence.contains(t))
}

/// A numbered piece (`一、…`, `（一）…`, `(1)…`, `1.…`, `1、…`) of at most 16 characters
/// after its number: a heading such as `（三）政府信息管理情况`.
fn is_heading(sentence: &str) -> bool {
    static NUMBERED: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"^\s*(?:[（(]\s*[一二三四五六七八九十\d０-９]+\s*[）)]|[一二三四五六七八九十]+\s*[、.．]|[\d０-９]+\s*[、.．](?:\D|$))")
            .ok()
    });
    const MAX_HEADING_CHARS: usize = 16;
    NUMBERED
        .as_ref()
        .and_then(|re| re.find(sentence))
        .is_some_and(|m| normalize(&sentence[m.end()..]).chars().count() <= MAX_HEADING_CHARS)
}

/// Digits runs to `#`, whitespace and punctuation dropped. Punctuation inside a number
/// (`1,234`, `0.5`) does not split it: the whole number is one `#`.
pub(crate) fn normalize(sentence: &str) -> String {
    let mut out = String::with_capacity(sentence.len());
    let mut in_number = false;
    for c in sentence.chars() {
        if c.is_whitespace() || is_punctuation(c) {
            continue;
        }
        if c.is_ascii_digit() || ('０'..='９').contains(&c) {
            if !in_number {
                out.push('#');
                in_number = true;
            }
            continue;
        }
        in_number = false;
        out.push(c);
    }
    out
}

/// ASCII, CJK, full-width and general punctuation; not 〇 (a numeral in 二〇二三).
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c,
            '\u{00A1}' | '\u{00AB}' | '\u{00B7}' | '\u{00BB}' | '\u{00BF}'
            | '\u{2010}'..='\u{2027}'
            | '\u{2030}'..='\u{205E}'
            | '\u{3001}'..='\u{3006}'
            | '\u{3008}'..='\u{301F}'
            | '\u{30FB}'
            | '\u{FE10}'..='\u{FE1F}'
            | '\u{FE30}'..='\u{FE4F}'
            | '\u{FF01}'..='\u{FF0F}'
            | '\u{FF1A}'..='\u{FF20}'
            | '\u{FF3B}'..='\u{FF40}'
            | '\u{FF5B}'..='\u{FF65}')
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_for_another_year_is_all_shared() {
        let old = "2022年，我局共收到政府信息公开申请15件，全部按时答复。\
                   本年度发生政府信息公开行政复议2件，均已在2022年12月审结。";
        let new = "2023年，我局共收到政府信息公开申请３件，全部按时答复。\
                   本年度发生政府信息公开行政复议7件，均已在2023年12月审结。";
        let o = sentence_overlap(old, new);
        assert_eq!((o.shared, o.total), (2, 2));
        assert_eq!(o.ratio(), 1.0);
        // The example is NEW's own wording, and the longest shared sentence.
        assert_eq!(
            o.example.as_deref(),
            Some("本年度发生政府信息公开行政复议7件，均已在2023年12月审结")
        );
    }

    #[test]
    fn rewritten_sentences_are_not_shared() {
        let old = "我局坚持以公开为常态、不公开为例外，推进决策公开。";
        let new = "本年度我局重点推进了重大建设项目批准和实施领域的信息公开。";
        let o = sentence_overlap(old, new);
        assert_eq!((o.shared, o.total, o.example), (0, 1, None));
    }

    #[test]
    fn short_sentences_are_ignored_and_breaks_split() {
        // 无 / 特此报告 / a heading: under 8 characters, on every report; they do not count.
        let old = "无。\n特此报告\n一、总体情况\n全面梳理各类政策文件的公开属性；及时更新目录。";
        let new = "无。\n特此报告\n一、总体情况\n全面梳理各类政策文件的公开属性；按季度更新目录！";
        let o = sentence_overlap(old, new);
        // "全面梳理各类政策文件的公开属性" is shared; the 6-character "按季度更新目录" is
        // too short to count either way.
        assert_eq!((o.shared, o.total), (1, 1));
    }

    #[test]
    fn whitespace_punctuation_and_number_formats_do_not_matter() {
        let old = "全年 共 受理 行政复议 12 件，（其中）维持原行政行为 1,234 件";
        let new = "全年共受理行政复议１２件,其中维持原行政行为 0.5 件";
        let o = sentence_overlap(old, new);
        assert_eq!((o.shared, o.total), (1, 1));
        // A different word is a different sentence.
        let o = sentence_overlap(old, "全年共受理行政诉讼12件，其中维持原行政行为1件");
        assert_eq!((o.shared, o.total), (0, 1));
    }

    #[test]
    fn numbered_headings_are_not_sentences() {
        for heading in [
            "（四）政府信息公开平台建设情况",
            "(1) 政府信息主动公开情况",
            "一、总体情况及主要工作",
            "2.本年度政府信息管理情况",
        ] {
            assert!(is_heading(heading), "{heading}");
            let o = sentence_overlap(heading, heading);
            assert_eq!((o.shared, o.total), (0, 0), "{heading}");
        }
        // Run into the text: the heading is left out, the text after it counts.
        let text = "(四)政府信息公开平台建设情况。2022年,按照省里的要求优化政务公开专栏设置";
        let o = sentence_overlap(text, &text.replace("2022", "2023"));
        assert_eq!((o.shared, o.total), (1, 1));
        // A long numbered sentence is a sentence; so is one starting with a decimal figure.
        for line in [
            "1.印发《关于进一步加强西塞山区政务工作的通知》等文件",
            "2.5万元的信息处理费全部用于平台维护工作",
            "我局全年主动公开本部门制作的政府信息共计7条",
        ] {
            assert!(!is_heading(line), "{line}");
        }
    }

    #[test]
    fn years_in_chinese_numerals_are_words() {
        assert_eq!(normalize("二〇二三年１２月"), "二〇二三年#月");
        assert_eq!(normalize("第 2023 年 、 第3季度"), "第#年第#季度");
    }

    #[test]
    fn empty_texts_compare_to_nothing() {
        let o = sentence_overlap("", "");
        assert_eq!(o, Overlap::default());
        assert_eq!(o.ratio(), 0.0);
        let o = sentence_overlap("", "本机关全年没有收到任何政府信息公开申请。");
        assert_eq!((o.shared, o.total), (0, 1));
    }
}
