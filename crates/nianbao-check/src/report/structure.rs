//! Title, section headings, statistics period: the report's outline.

use std::collections::HashSet;

use crate::extract::{Block, SourceRef};
use crate::finding::{Finding, Location, Rule, RuleId, Severity};

use super::model::{Period, Report, Section};
use super::normalize::{is_cjk, is_dropped, normalize};
use super::schema::SECTIONS;
use super::tokens::{Token, is_page_marker};

pub static NOT_A_REPORT: Rule = Rule {
    id: RuleId::StructureNotAReport,
    severity: Severity::Error,
    what: "文件中找不到年度报告的标题、章节和表格",
    why: "只有按国家模板编写的政府信息公开工作年度报告才能审核；误传的其他文件应尽早退回。",
};

pub static PRE_2019: Rule = Rule {
    id: RuleId::StructurePre2019Template,
    severity: Severity::Error,
    what: "报告使用 2019 年以前的旧格式（无第二十条表格，含“收费及减免情况”等部分）",
    why: "2019 年修订的《条例》施行后，年度报告须按国办公开办函〔2019〕60号、〔2021〕30号规定的模板编写。",
};

/// The title as found.
#[derive(Debug, Clone)]
pub struct Title {
    pub text: String,
    pub agency: Option<String>,
    pub year: Option<i32>,
    /// Where the title line is, for findings about it.
    pub at: SourceRef,
}

/// A section heading as found.
#[derive(Debug, Clone)]
pub struct Heading {
    pub number: u8,
    pub text: String,
    pub standard: bool,
    /// Block index of the heading line.
    pub block: usize,
    pub at: SourceRef,
}

#[derive(Debug, Clone, Default)]
pub struct Outline {
    pub title: Option<Title>,
    pub headings: Vec<Heading>,
}

impl Outline {
    /// Block range of section `number` (after its heading, up to the next heading).
    pub fn section_blocks(&self, number: u8) -> Option<(usize, usize)> {
        let i = self.headings.iter().position(|h| h.number == number)?;
        let start = self.headings[i].block + 1;
        let end = self
            .headings
            .get(i + 1)
            .map_or(usize::MAX, |next| next.block);
        Some((start, end))
    }

    pub fn heading(&self, number: u8) -> Option<&Heading> {
        self.headings.iter().find(|h| h.number == number)
    }
}

/// Finds the title and the six headings among the text blocks.
pub fn outline(blocks: &[Block]) -> Outline {
    let mut outline = Outline::default();
    let mut last = 0u8;
    for (index, block) in blocks.iter().enumerate() {
        let Block::Text { text, at } = block else {
            continue;
        };
        if let Some((number, standard)) = heading(text)
            && number > last
        {
            last = number;
            outline.headings.push(Heading {
                number,
                text: text.trim().to_string(),
                standard,
                block: index,
                at: *at,
            });
        }
    }
    let first_heading = outline.headings.first().map_or(blocks.len(), |h| h.block);
    outline.title = title(&blocks[..first_heading.min(blocks.len())]);
    outline
}

/// Whether a line is a section heading: a Chinese numeral, `、`, and a few words that name
/// one of the six sections; returns the section and whether the wording is standard.
fn heading(line: &str) -> Option<(u8, bool)> {
    // Most lines are narrative: what `normalize` would make the first character tells
    // (it drops spaces, quotes and bars, and maps no character to a numeral), without
    // normalising a whole paragraph.
    let first = line.chars().find(|&c| !is_dropped(c))?;
    if !SECTION_NUMERALS.contains(first) {
        return None;
    }
    let norm = normalize(line);
    let mut chars = norm.chars();
    let numeral = chars.next()?;
    let sep = chars.next()?;
    if !matches!(sep, '、' | '.' | '，' | '．') {
        return heading_without_separator(numeral, &norm);
    }
    let rest: String = chars.collect();
    let rest = rest.trim_end_matches(['：', '。']);
    if rest.chars().count() > 30 || rest.is_empty() {
        return None;
    }
    let section = SECTIONS
        .iter()
        .find(|s| s.numeral == numeral && s.keys.iter().any(|k| rest.contains(k)))
        // A report that leaves a section out renumbers the rest: match by words alone.
        .or_else(|| {
            SECTIONS.iter().find(|s| {
                SECTION_NUMERALS.contains(numeral) && s.keys.iter().any(|k| rest.contains(k))
            })
        })?;
    // T2's row labels `一、本年新收…`, `四、结转下年度…` start like headings; they never hold
    // a section's key words, except 依申请 in a long label, which has 数量.
    if rest.contains("数量") || rest.contains("结转") {
        return None;
    }
    Some((section.number, rest == section.standard))
}

/// A heading whose `、` was left out (`一总体情况`): read, never as standard (a wording
/// warning), and only when the words right after the numeral are those of the section of
/// that numeral, so that `一是…` and the like stay narrative.
fn heading_without_separator(numeral: char, norm: &str) -> Option<(u8, bool)> {
    let rest = norm.get(numeral.len_utf8()..)?;
    let rest = rest.trim_end_matches(['：', '。']);
    if rest.chars().count() > 30 || rest.contains("数量") || rest.contains("结转") {
        return None;
    }
    SECTIONS
        .iter()
        .find(|s| {
            s.numeral == numeral
                && (rest == s.standard || s.keys.iter().any(|k| rest.starts_with(k)))
        })
        .map(|s| (s.number, false))
}

/// The numerals of the six sections (`'一'..='六'` as a range of characters held thousands
/// of others, and not 四).
const SECTION_NUMERALS: &str = "一二三四五六";

/// The title: the first line saying `…年度报告` before section 一, joined with the line
/// above when the agency name stands on its own line (PDF layouts).
fn title(blocks: &[Block]) -> Option<Title> {
    let lines: Vec<(&str, SourceRef)> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Text { text, at } if !text.trim().is_empty() && !is_page_marker(text) => {
                Some((text.as_str(), *at))
            }
            _ => None,
        })
        .collect();
    let is_title = |n: &str| {
        (n.contains("年度报告") || n.contains("工作报告"))
            && n.contains("信息公开")
            // Portal breadcrumbs: `您现在的位置：首页 > 政府信息公开 > 政府信息公开年度报告`.
            && !n.contains(['>', '»', '›'])
            && !n.contains("当前位置")
            && !n.contains("现在的位置")
    };
    // A short line is a title's first half when the next line completes it
    // (`…2024年政府信息公开` / `工作年度报告`).
    let short = |n: &str| n.chars().count() <= 60 && !n.contains(['。', '：']);
    let (i, mut text) = lines.iter().enumerate().find_map(|(i, (l, _))| {
        let n = normalize(l);
        if is_title(&n) {
            return Some((i, n));
        }
        let next = lines.get(i + 1).map(|(l, _)| normalize(l))?;
        let joined = format!("{n}{next}");
        (short(&n) && !n.is_empty() && !is_title(&next) && is_title(&joined)).then_some((i, joined))
    })?;
    let at = lines[i].1;
    // The title's first part on the line above: the agency alone (`淮安市人民政府` /
    // `2024年…`), the agency and the year (`南岸区住房和城乡建设委员会 2024` / `年政府…`), or
    // a long agency wrapped anywhere (`…（区人民防空办公室）2023年政府` / `信息公开工作年度报告`):
    // joined when the title alone lacks the agency or the year and the join supplies it.
    if i > 0 {
        let prev = normalize(lines[i - 1].0);
        let (agency, year) = split_title(&text);
        if short(&prev)
            && prev.chars().any(is_cjk)
            && heading(lines[i - 1].0).is_none()
            && (agency.is_none() || year.is_none())
        {
            let joined = format!("{prev}{text}");
            let (a, y) = split_title(&joined);
            if (a.is_some() && agency.is_none()) || (y.is_some() && year.is_none()) {
                text = joined;
            }
        }
    }
    let (agency, year) = split_title(&text);
    Some(Title {
        text,
        agency,
        year,
        at,
    })
}

/// `<agency><year>年…报告` or `<year>年<agency>…报告` -> (agency, year).
fn split_title(title: &str) -> (Option<String>, Option<i32>) {
    let chars: Vec<char> = title.chars().collect();
    let mut year = None;
    let mut year_span = None;
    for start in 0..chars.len().saturating_sub(4) {
        if chars[start..start + 4].iter().all(|c| c.is_ascii_digit())
            && (start == 0 || !chars[start - 1].is_ascii_digit())
            && chars.get(start + 4) == Some(&'年')
        {
            let y: String = chars[start..start + 4].iter().collect();
            year = y.parse().ok();
            year_span = Some((start, start + 5));
            break;
        }
    }
    let body_end = ["政府信息公开", "政务信息公开", "信息公开"]
        .iter()
        .filter_map(|k| title.find(k))
        .min()
        .map(|b| title[..b].chars().count())
        .unwrap_or(chars.len());
    let agency: String = match year_span {
        Some((s, _)) if s > 0 => chars[..s.min(body_end)].iter().collect(),
        Some((_, e)) => {
            let start = if chars.get(e) == Some(&'度') {
                e + 1
            } else {
                e
            };
            chars[start.min(body_end)..body_end.max(start.min(body_end))]
                .iter()
                .collect()
        }
        None => chars[..body_end].iter().collect(),
    };
    let agency = agency.trim_end_matches(['的', '关', '于']).to_string();
    ((!agency.is_empty()).then_some(agency), year)
}

/// The six sections with their narrative text (table lines left out).
pub fn sections(blocks: &[Block], outline: &Outline, consumed: &HashSet<usize>) -> Vec<Section> {
    outline
        .headings
        .iter()
        .map(|h| {
            let (start, end) = outline
                .section_blocks(h.number)
                .unwrap_or((h.block + 1, h.block + 1));
            let text = blocks
                .iter()
                .enumerate()
                .take(end.min(blocks.len()))
                .skip(start)
                .filter(|(i, _)| !consumed.contains(i))
                .filter_map(|(_, b)| match b {
                    Block::Text { text, .. }
                        if !text.trim().is_empty() && !is_page_marker(text) =>
                    {
                        Some(text.trim())
                    }
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n");
            Section {
                number: h.number,
                heading: h.text.clone(),
                standard: h.standard,
                text,
            }
        })
        .collect()
}

/// A line of narrative (table lines left out) with its place in the file: what the numbering
/// and wording rules read.
#[derive(Debug, Clone)]
pub struct TextLine {
    /// The section it stands in: 1–6, 0 before the first heading.
    pub section: u8,
    /// As written, trimmed.
    pub text: String,
    pub at: SourceRef,
    /// The section this line names when it reads as a section heading (`三、收到和处理…`),
    /// whether or not the outline took it as that section's heading.
    pub heads: Option<u8>,
}

/// The narrative lines after the title, in order, each with its section.
pub fn text_lines(blocks: &[Block], outline: &Outline, consumed: &HashSet<usize>) -> Vec<TextLine> {
    let first = outline.headings.first().map_or(blocks.len(), |h| h.block);
    let mut out = Vec::new();
    let mut section = 0u8;
    let mut next = outline.headings.iter().peekable();
    for (index, block) in blocks.iter().enumerate() {
        while let Some(h) = next.peek() {
            if h.block <= index {
                section = h.number;
                next.next();
            } else {
                break;
            }
        }
        if index < first || consumed.contains(&index) {
            continue;
        }
        let Block::Text { text, at } = block else {
            continue;
        };
        let text = text.trim();
        if text.is_empty() || is_page_marker(text) {
            continue;
        }
        out.push(TextLine {
            section,
            text: text.to_string(),
            at: *at,
            heads: heading(text).map(|(n, _)| n),
        });
    }
    out
}

/// The statistics period sentence of section 一 (or of the preamble before it).
pub fn period(sections: &[Section], blocks: &[Block], outline: &Outline) -> Option<Period> {
    let preamble_end = outline.headings.first().map_or(0, |h| h.block);
    let preamble: String = blocks[..preamble_end.min(blocks.len())]
        .iter()
        .filter_map(|b| match b {
            Block::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("");
    let first = sections
        .iter()
        .find(|s| s.number == 1)
        .map(|s| s.text.replace('\n', ""))
        .unwrap_or_default();
    for text in [preamble, first] {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for key in [
            "统计期限",
            "统计时限",
            "统计时间",
            "统计周期",
            "数据统计期",
            "统计期间",
            "统计区间",
            "统计时段",
            "统计数据期限",
            "统计数据时限",
            "统计数据时间",
        ] {
            let Some(pos) = compact.find(key) else {
                continue;
            };
            let sentence: String = compact[pos..]
                .chars()
                .take_while(|&c| c != '。' && c != '；')
                .take(80)
                .collect();
            let dates = dates_in(&sentence);
            return Some(Period {
                text: sentence,
                start: dates.first().cloned(),
                end: dates.get(1).cloned(),
            });
        }
    }
    None
}

/// The first year written `YYYY年` (1990–2100) in `s`.
pub fn year_in(s: &str) -> Option<i32> {
    let chars: Vec<char> = s.chars().collect();
    chars.windows(5).enumerate().find_map(|(i, w)| {
        let before_is_digit = i > 0 && chars[i - 1].is_ascii_digit();
        if before_is_digit || w[4] != '年' || !w[..4].iter().all(char::is_ascii_digit) {
            return None;
        }
        let year: i32 = w[..4].iter().collect::<String>().parse().ok()?;
        (1990..=2100).contains(&year).then_some(year)
    })
}

/// `YYYY年M月D日` dates in order, as `YYYY-MM-DD`; malformed ones are skipped. A later date
/// written without its year (“从2019年1月1日到12月31日止”) takes the year of the date before
/// it, as a reader does.
fn dates_in(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let digits = |from: usize, max: usize| -> (usize, Option<u32>) {
        let mut j = from;
        while j < chars.len() && j - from < max && chars[j].is_ascii_digit() {
            j += 1;
        }
        let n: String = chars[from..j].iter().collect();
        (j, n.parse().ok())
    };
    let mut last_year: Option<u32> = None;
    while i < chars.len() {
        let (j, y) = digits(i, 4);
        let after_digit = i > 0 && chars[i - 1].is_ascii_digit();
        if (1..=2).contains(&(j - i)) && chars.get(j) == Some(&'月') && !after_digit {
            let m = y;
            let (l, d) = digits(j + 1, 2);
            if chars.get(l) == Some(&'日')
                && let (Some(y), Some(m), Some(d)) = (last_year, m, d)
                && (1..=12).contains(&m)
                && (1..=31).contains(&d)
            {
                out.push(format!("{y:04}-{m:02}-{d:02}"));
                i = l + 1;
                continue;
            }
        }
        if j - i == 4 && chars.get(j) == Some(&'年') {
            let (k, m) = digits(j + 1, 2);
            if chars.get(k) == Some(&'月') {
                let (l, d) = digits(k + 1, 2);
                if chars.get(l) == Some(&'日')
                    && let (Some(y), Some(m), Some(d)) = (y, m, d)
                    && (1..=12).contains(&m)
                    && (1..=31).contains(&d)
                {
                    out.push(format!("{y:04}-{m:02}-{d:02}"));
                    last_year = Some(y);
                    i = l + 1;
                    continue;
                }
            }
        }
        i = if j > i { j } else { i + 1 };
    }
    out
}

/// Findings about a file that is not a template report at all.
pub fn check_readable(
    report: &Report,
    outline: &Outline,
    tokens: &[Token],
    findings: &mut Vec<Finding>,
) {
    let has_tables = report.active_disclosure.is_some()
        || report.applications.is_some()
        || report.reviews_and_litigation.is_some();
    let text: String = tokens
        .iter()
        .filter(|t| t.kind.is_text())
        .map(|t| t.norm.as_str())
        .collect();
    let old_keys = [
        "收费及减免",
        "申请总数",
        "主动公开信息数",
        "否决公开",
        "同意公开",
        "行政申诉",
    ];
    if !text.contains("第二十条") && !has_tables && old_keys.iter().any(|k| text.contains(k)) {
        findings.push(Finding::new(
            &PRE_2019,
            Location::default(),
            "这份报告使用的是 2019 年以前的旧格式（没有“第二十条”主动公开表格，含“收费及减免情况”等旧栏目），\
             不符合现行模板，未读取表格。请按国办公开办函〔2021〕30号规定的模板重新编写。",
        ));
        return;
    }
    if outline.title.is_none() && outline.headings.is_empty() && !has_tables {
        findings.push(Finding::new(
            &NOT_A_REPORT,
            Location::default(),
            "文件中找不到“××××年政府信息公开工作年度报告”标题、六个部分的标题和统计表格，\
             不像是政府信息公开工作年度报告。请确认提交的文件是否正确。",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_date_without_its_year_takes_the_first_ones() {
        assert_eq!(
            dates_in("统计期限从2019年1月1日到12月31日止"),
            ["2019-01-01", "2019-12-31"]
        );
        assert_eq!(
            dates_in("统计期限自2024年1月1日起至2024年12月31日止"),
            ["2024-01-01", "2024-12-31"]
        );
        // Still malformed: the month glued to the year, and a month-day before any year.
        assert_eq!(dates_in("自2025年1月1日至202512月31日"), ["2025-01-01"]);
        assert!(dates_in("自1月1日至12月31日").is_empty());
    }

    #[test]
    fn headings() {
        assert_eq!(heading("一、总体情况"), Some((1, true)));
        assert_eq!(
            heading("五、政府信息公开工作存在的主要问题及改进情况"),
            Some((5, false))
        );
        assert_eq!(heading("一、本年新收政府信息公开申请数量"), None);
        assert_eq!(heading("四、结转下年度继续办理"), None);
        assert_eq!(heading("三、本年度办理结果"), None);
        assert_eq!(
            heading("四、政府信息公开行政复议、行政诉讼情况"),
            Some((4, true))
        );
        // A report without section 四 renumbers the rest; 四 was missing from the numerals
        // of that fallback, and a line opening with another character took part in it.
        assert_eq!(heading("四、存在的主要问题及改进情况"), Some((5, true)));
        assert_eq!(heading("中、存在的主要问题"), None);
        // Spaces and quotation marks before the numeral, as `normalize` drops them.
        assert_eq!(heading(" “一、总体情况”"), Some((1, true)));
        assert_eq!(heading("本单位总体情况良好"), None);
    }

    #[test]
    fn titles() {
        assert_eq!(
            split_title("区政数局2022年政府信息公开工作年度报告"),
            (Some("区政数局".into()), Some(2022))
        );
        assert_eq!(
            split_title("2021年区数据局政府信息公开工作年度报告"),
            (Some("区数据局".into()), Some(2021))
        );
        assert_eq!(
            split_title("某镇2022年度政府信息公开工作年度报告"),
            (Some("某镇".into()), Some(2022))
        );
        assert_eq!(
            split_title("某街道政府信息公开工作年度报告"),
            (Some("某街道".into()), None)
        );
    }

    #[test]
    fn wrapped_titles_are_read_whole() {
        let blocks = |lines: &[&str]| -> Vec<Block> {
            lines
                .iter()
                .enumerate()
                .map(|(i, l)| Block::Text {
                    text: l.to_string(),
                    at: SourceRef::Line(i as u32 + 1),
                })
                .collect()
        };
        let agency = "南岸区住房和城乡建设委员会";
        for lines in [
            vec![
                "南岸区住房和城乡建设委员会 2024",
                "年政府信息公开工作年度报告",
            ],
            vec![
                "南岸区住房和城乡建设委员会2024年政府信息公开",
                "工作年度报告",
            ],
            vec![
                "南岸区住房和城乡建设委员会",
                "2024年政府信息公开工作年度报告",
            ],
            vec!["南岸区住房和城乡建设委员会2024年政府信息公开工作年度报告"],
        ] {
            let t = title(&blocks(&lines)).expect("a title");
            assert_eq!(t.agency.as_deref(), Some(agency), "{lines:?}");
            assert_eq!(t.year, Some(2024), "{lines:?}");
        }
        let long = "重庆市南岸区住房和城乡建设委员会（区人民防空办公室、区城市更新中心）";
        let t = title(&blocks(&[
            &format!("{long}2024年政府"),
            "信息公开工作年度报告",
        ]))
        .expect("a title");
        assert_eq!(t.agency.as_deref(), Some(long));
        assert_eq!(t.year, Some(2024));
        let t = title(&blocks(&["一、总体情况", "2024年政府信息公开工作年度报告"])).expect("title");
        assert_eq!(t.agency, None);
    }

    #[test]
    fn dates() {
        assert_eq!(
            dates_in("统计期限自2022年1月1日起至2022年12月31日止"),
            vec!["2022-01-01", "2022-12-31"]
        );
        assert_eq!(dates_in("截至202512月31日"), Vec::<String>::new());
    }
}
