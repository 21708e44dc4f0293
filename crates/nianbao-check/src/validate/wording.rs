//! Numbering and wording: the six parts numbered 一 to 六 in order, the sub-items of a part
//! （一）（二）… in order, no sub-item numbered as a part; no word typed twice (资金资金), no
//! half-width punctuation between Chinese characters, no sentence cut off. Third-party
//! evaluations take points off for each; none of them changes a figure, so all are warnings.
//!
//! The rules read [`Parsed::lines`](crate::report::Parsed): the narrative's lines with their
//! places in the file, tables left out.

use std::collections::BTreeSet;

use crate::finding::{Finding, Location, Rule, RuleId, Severity};
use crate::report::normalize::is_cjk;
use crate::report::schema::SECTIONS;
use crate::report::structure::TextLine;

use super::{Validation, where_};

pub static PART_NUMBERING: Rule = Rule {
    id: RuleId::NumberingPart,
    severity: Severity::Warning,
    what: "六个部分标题的序号有误：顺序颠倒、重复或跳号（应依次为一至六）",
    why: "模板的六个部分依次编为“一、”至“六、”；序号错乱使读者误以为缺少或多出部分，第三方评估按格式错误扣分。",
};
pub static ITEM_NUMBERING: Rule = Rule {
    id: RuleId::NumberingItem,
    severity: Severity::Warning,
    what: "部分内小标题“（一）（二）……”的序号有误：顺序颠倒、重复或跳号",
    why: "小标题按（一）（二）（三）依次编号；跳号或重号说明有内容被删掉、复制了两次，或编号没有随改动更新。",
};
pub static ITEM_AS_PART: Rule = Rule {
    id: RuleId::NumberingItemAsPart,
    severity: Severity::Warning,
    what: "部分内的小标题用了部分标题的序号（如“二、”而不是“（二）”）",
    why: "“一、”至“六、”只用于模板的六个部分；小标题用同一级序号，读者无法分辨层次，也容易被当作缺少或多出的部分。",
};
pub static DOUBLED: Rule = Rule {
    id: RuleId::WordingDoubled,
    severity: Severity::Warning,
    what: "字词重复（如“资金资金”）",
    why: "连写两遍的词几乎都是录入或复制粘贴的错误；公开的报告应文字准确。",
};
pub static ASCII_PUNCTUATION: Rule = Rule {
    id: RuleId::WordingAsciiPunctuation,
    severity: Severity::Warning,
    what: "中文之间使用了半角（英文）标点，如“,”“:”“(”",
    why: "公文中的中文应使用全角标点（GB/T 15834）；半角标点多半来自其他软件的复制粘贴。",
};
pub static CUT_OFF: Rule = Rule {
    id: RuleId::WordingCutOff,
    severity: Severity::Warning,
    what: "句子没有写完（段落停在“的”“和”“，”等处，或书名号、引号、括号没有闭合）",
    why: "半截的句子多半是删改时误删了后文；报告内容“不能遗漏”。",
};

pub fn check(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    parts(v, findings);
    let lines = &v.parsed.lines;
    items(v, lines, findings);
    doubled(lines, findings);
    ascii_punctuation(lines, findings);
    cut_off(lines, findings);
}

/// `一`…`九十九` as a number.
fn chinese_number(s: &str) -> Option<u32> {
    let digit = |c: char| "一二三四五六七八九".find(c).map(|i| i as u32 / 3 + 1);
    let chars: Vec<char> = s.chars().collect();
    match chars.as_slice() {
        ['十'] => Some(10),
        [d] => digit(*d),
        ['十', d] => Some(10 + digit(*d)?),
        [t, '十'] => Some(10 * digit(*t)?),
        [t, '十', d] => Some(10 * digit(*t)? + digit(*d)?),
        _ => None,
    }
}

/// The number as written in a heading: 3 -> 三.
fn numeral(n: u32) -> String {
    const D: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        1..=9 => D[n as usize].to_string(),
        10 => "十".to_string(),
        11..=19 => format!("十{}", D[(n % 10) as usize]),
        20..=99 => format!("{}十{}", D[(n / 10) as usize], D[(n % 10) as usize]),
        _ => n.to_string(),
    }
}

/// How a line is numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// `三、` (a part's level).
    Part(u32),
    /// `（三）` or `(三)`.
    Item(u32),
    /// `3.`, `3、`, `（3）`.
    Arabic,
}

/// The line's text without a word processor's leftovers at its start (`[bookmark: _GoBack]`,
/// a pandoc conversion of a Word bookmark) and white space.
fn content(line: &str) -> &str {
    let mut s = line.trim_start();
    while let Some(rest) = s.strip_prefix('[')
        && let Some(end) = rest.find(']')
        && end < 80
    {
        s = rest[end + 1..].trim_start();
    }
    s
}

fn marker(line: &str) -> Option<Marker> {
    let s = content(line);
    let numeral_run = |s: &str| -> (String, usize) {
        let run: String = s
            .chars()
            .take_while(|c| "一二三四五六七八九十".contains(*c))
            .collect();
        let len = run.len();
        (run, len)
    };
    if let Some(rest) = s.strip_prefix(['（', '(']) {
        let rest = rest.trim_start();
        let (run, len) = numeral_run(rest);
        if len > 0 {
            let after = rest[len..].trim_start();
            if after.starts_with(['）', ')']) {
                return chinese_number(&run).map(Marker::Item);
            }
            return None;
        }
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        return (digits > 0 && rest[digits..].trim_start().starts_with(['）', ')']))
            .then_some(Marker::Arabic);
    }
    let (run, len) = numeral_run(s);
    if len > 0 {
        let after = s[len..].trim_start();
        // `一是`, `十分`: words, not numbers; only a separator makes a numbered line.
        if after.starts_with(['、', '．']) || (after.starts_with('.') && len <= 6) {
            return chinese_number(&run).map(Marker::Part);
        }
        return None;
    }
    let digits = s.chars().take_while(char::is_ascii_digit).count();
    if (1..=2).contains(&digits) && s[digits..].starts_with(['.', '、', '．']) {
        return Some(Marker::Arabic);
    }
    None
}

/// What went wrong with a numbered sequence at one place.
enum Misnumbered {
    Repeated,
    Swapped { later: u32 },
    Skipped { missing: u32 },
    OutOfOrder,
}

/// Walks the numbers of a sequence, `also_right(i)` telling which number is also right at
/// place `i` besides the next in turn (a part heading's own template number); returns the
/// misnumbered places with the number expected there.
fn sequence(
    numbers: &[u32],
    also_right: impl Fn(usize) -> Option<u32>,
) -> Vec<(usize, u32, Misnumbered)> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut prev = 0u32;
    let mut swapped_with: Option<u32> = None;
    for (i, &n) in numbers.iter().enumerate() {
        let expected = prev + 1;
        if n == expected || also_right(i) == Some(n) {
            // fine
        } else if swapped_with == Some(n) {
            // The other half of a swap already reported.
        } else if seen.contains(&n) {
            out.push((i, expected, Misnumbered::Repeated));
        } else if n < prev {
            out.push((i, expected, Misnumbered::OutOfOrder));
        } else if numbers[i + 1..].contains(&expected) {
            swapped_with = Some(expected);
            out.push((i, expected, Misnumbered::Swapped { later: expected }));
        } else {
            out.push((i, expected, Misnumbered::Skipped { missing: expected }));
        }
        seen.insert(n);
        prev = prev.max(n);
    }
    out
}

/// The six part headings' numerals: 一 to 六 in order. A report that leaves a part out may
/// number the rest on (一 to 五): that is the missing part's finding, not a numbering one.
fn parts(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    let headings: Vec<(&crate::report::structure::Heading, u32)> = v
        .parsed
        .outline
        .headings
        .iter()
        .filter_map(|h| match marker(&h.text) {
            Some(Marker::Part(n)) => Some((h, n)),
            _ => None,
        })
        .collect();
    let numbers: Vec<u32> = headings.iter().map(|(_, n)| *n).collect();
    for (i, _, what) in sequence(&numbers, |i| Some(u32::from(headings[i].0.number))) {
        let (h, n) = headings[i];
        let standard = SECTIONS
            .get(usize::from(h.number).saturating_sub(1))
            .map_or("", |s| s.standard);
        let problem = match what {
            Misnumbered::Repeated => format!("序号“{}、”与前面的部分重复", numeral(n)),
            Misnumbered::Swapped { later } => {
                format!(
                    "序号“{}、”排在“{}、”之前，顺序颠倒",
                    numeral(n),
                    numeral(later)
                )
            }
            Misnumbered::Skipped { missing: 1 } => {
                format!("第一个部分标题编为“{}、”，缺少“一、”", numeral(n))
            }
            Misnumbered::Skipped { missing } => {
                format!(
                    "序号从“{}、”跳到“{}、”，缺少“{}、”",
                    numeral(missing - 1),
                    numeral(n),
                    numeral(missing)
                )
            }
            Misnumbered::OutOfOrder => {
                format!("序号“{}、”排在更大的序号之后，顺序颠倒", numeral(n))
            }
        };
        findings.push(
            Finding::new(
                &PART_NUMBERING,
                Location::section(h.number).at(Some(h.at)),
                format!(
                    "部分标题“{}”{}：{problem}。六个部分应依次编为“一、”至“六、”，本部分“{standard}”应为“{}、”。请改正序号。",
                    h.text.chars().take(30).collect::<String>(),
                    where_(Some(h.at)),
                    numeral(u32::from(h.number)),
                ),
            )
            .expected(format!("{}、", numeral(u32::from(h.number))))
            .actual(format!("{}、", numeral(n))),
        );
    }
}

/// Whether a line holds a table 2 row label (`一、本年新收…数量` of a table not read as one):
/// the tables' findings speak of those.
fn is_table_label(text: &str) -> bool {
    text.contains('\t')
        || ["数量", "结转", "办理结果"]
            .iter()
            .any(|k| text.contains(k))
}

fn is_outline_heading(v: &Validation<'_>, line: &TextLine) -> bool {
    v.parsed.outline.headings.iter().any(|h| h.at == line.at)
}

/// Sub-items （一）（二）… within each part, counted afresh in each part and after each line
/// numbered as a part; and sub-items numbered as parts (`二、` inside a part).
fn items(v: &Validation<'_>, lines: &[TextLine], findings: &mut Vec<Finding>) {
    // Runs of sub-items: (section, [(number, line)]).
    let mut runs: Vec<(u8, Vec<(u32, &TextLine)>)> = Vec::new();
    let mut section = u8::MAX;
    for line in lines.iter().filter(|l| l.section >= 1) {
        if line.section != section {
            section = line.section;
            runs.push((section, Vec::new()));
        }
        if is_outline_heading(v, line) {
            continue;
        }
        match marker(&line.text) {
            Some(Marker::Item(n)) => {
                if let Some((_, run)) = runs.last_mut() {
                    run.push((n, line));
                }
            }
            Some(Marker::Part(n)) if !is_table_label(&line.text) => {
                let short: String = content(&line.text).chars().take(30).collect();
                findings.push(
                    Finding::new(
                        &ITEM_AS_PART,
                        Location::section(line.section).at(Some(line.at)),
                        format!(
                            "第{}部分中的“{short}”{}用了部分标题的序号“{}、”。部分内的小标题应编为“（{}）”，\
                             “一、”至“六、”只用于六个部分的标题。请改正序号。",
                            numeral(u32::from(line.section)),
                            where_(Some(line.at)),
                            numeral(n),
                            numeral(n),
                        ),
                    )
                    .expected(format!("（{}）", numeral(n)))
                    .actual(format!("{}、", numeral(n))),
                );
                runs.push((section, Vec::new()));
            }
            _ => {}
        }
    }
    for (section, run) in runs {
        let numbers: Vec<u32> = run.iter().map(|(n, _)| *n).collect();
        for (i, _, what) in sequence(&numbers, |_| None) {
            let (n, line) = run[i];
            let problem = match what {
                Misnumbered::Repeated => format!("序号“（{}）”重复", numeral(n)),
                Misnumbered::Swapped { later } => format!(
                    "序号“（{}）”排在“（{}）”之前，顺序颠倒",
                    numeral(n),
                    numeral(later)
                ),
                Misnumbered::Skipped { missing: 1 } => {
                    format!("第一个小标题编为“（{}）”，缺少“（一）”", numeral(n))
                }
                Misnumbered::Skipped { missing } => format!(
                    "序号从“（{}）”跳到“（{}）”，缺少“（{}）”",
                    numeral(missing - 1),
                    numeral(n),
                    numeral(missing)
                ),
                Misnumbered::OutOfOrder => {
                    format!("序号“（{}）”排在更大的序号之后，顺序颠倒", numeral(n))
                }
            };
            let short: String = content(&line.text).chars().take(30).collect();
            findings.push(
                Finding::new(
                    &ITEM_NUMBERING,
                    Location::section(section).at(Some(line.at)),
                    format!(
                        "第{}部分的小标题“{short}”{}：{problem}。小标题应依次编为（一）（二）（三）……，\
                         请核对是否删掉或重复了内容，并改正序号。",
                        numeral(u32::from(section)),
                        where_(Some(line.at)),
                    ),
                )
                .actual(format!("（{}）", numeral(n))),
            );
        }
    }
}

/// Characters that make a repeated run a number or a measure, not a doubled word
/// (`一个一个`, `十一十一`).
fn is_numeral(c: char) -> bool {
    "一二三四五六七八九十百千万两〇零".contains(c)
}

/// The narrative lines the wording rules read: in a part, not a table row left unread.
fn prose(lines: &[TextLine]) -> impl Iterator<Item = &TextLine> {
    lines
        .iter()
        .filter(|l| l.section >= 1 && !l.text.contains('\t'))
}

/// The first doubled run of 2 to 6 Chinese characters in `text` (`资金资金`), if any.
fn doubled_in(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    for start in 0..chars.len() {
        for len in 2..=6usize {
            let Some(second) = chars.get(start + len..start + 2 * len) else {
                break;
            };
            let first = &chars[start..start + len];
            if first != second
                || !first.iter().all(|&c| is_cjk(c) && !is_numeral(c))
                || first.iter().all(|&c| c == first[0])
            {
                continue;
            }
            // `工作工作…` is one mistake, not several: the whole run is shown.
            return Some(chars[start..start + 2 * len].iter().collect());
        }
    }
    None
}

fn doubled(lines: &[TextLine], findings: &mut Vec<Finding>) {
    for line in prose(lines) {
        let Some(run) = doubled_in(&line.text) else {
            continue;
        };
        let half: String = run.chars().take(run.chars().count() / 2).collect();
        findings.push(
            Finding::new(
                &DOUBLED,
                Location::section(line.section).at(Some(line.at)),
                format!(
                    "第{}部分{}“{run}”中的“{half}”连写了两遍。请删去重复的字词。",
                    numeral(u32::from(line.section)),
                    where_(Some(line.at)),
                ),
            )
            .expected(half.clone())
            .actual(run),
        );
    }
}

/// Half-width punctuation that has a full-width form in Chinese text.
const ASCII_MARKS: &str = ",;:?!()";

/// The places in `text` where a half-width mark stands between two Chinese characters (or
/// a Chinese character and a full-width bracket), each with its context.
fn ascii_marks_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let chinese = |c: Option<&char>| c.is_some_and(|&c| is_cjk(c) || "（）《》“”".contains(c));
    let mut out = Vec::new();
    for i in 1..chars.len().saturating_sub(1) {
        if ASCII_MARKS.contains(chars[i]) && chinese(chars.get(i - 1)) && chinese(chars.get(i + 1))
        {
            // A few characters each side, not starting or ending inside a number.
            let mut from = i.saturating_sub(4);
            while from > 0 && chars[from].is_ascii_digit() && chars[from - 1].is_ascii_digit() {
                from -= 1;
            }
            let mut to = (i + 5).min(chars.len());
            while to < chars.len() && chars[to - 1].is_ascii_digit() && chars[to].is_ascii_digit() {
                to += 1;
            }
            out.push(chars[from..to].iter().collect());
        }
    }
    out
}

/// One finding per part: where the first half-width mark is, and how many there are.
///
/// Only a half-width mark among full-width ones is the author's slip. A text written with
/// half-width marks throughout is a portal page's conversion (corpus 002; report-format.md,
/// "How the files really look"): the agency's own document has them right, and telling it
/// to change every comma would be noise.
fn ascii_punctuation(lines: &[TextLine], findings: &mut Vec<Finding>) {
    let full: usize = prose(lines)
        .map(|l| {
            l.text
                .chars()
                .filter(|c| "，；：？！（）".contains(*c))
                .count()
        })
        .sum();
    let half: usize = prose(lines).map(|l| ascii_marks_in(&l.text).len()).sum();
    if half > full {
        return;
    }
    let mut by_section: Vec<(u8, &TextLine, String, usize)> = Vec::new();
    for line in prose(lines) {
        let marks = ascii_marks_in(&line.text);
        let Some(first) = marks.first() else {
            continue;
        };
        match by_section.iter_mut().find(|(s, ..)| *s == line.section) {
            Some((_, _, _, n)) => *n += marks.len(),
            None => by_section.push((line.section, line, first.clone(), marks.len())),
        }
    }
    for (section, line, example, count) in by_section {
        let more = if count > 1 {
            format!("，本部分共 {count} 处")
        } else {
            String::new()
        };
        findings.push(
            Finding::new(
                &ASCII_PUNCTUATION,
                Location::section(section).at(Some(line.at)),
                format!(
                    "第{}部分{}“{example}”中，中文之间用了半角（英文）标点{more}。请改为全角标点（，；：？！（））。",
                    numeral(u32::from(section)),
                    where_(Some(line.at)),
                ),
            )
            .actual(count),
        );
    }
}

/// Characters a finished sentence never ends with.
const OPEN_ENDINGS: &str = "，、,的和及与或对在将把被从向并而（《“";

/// Whether a paragraph stops in the middle: on a word that needs more after it, or with a
/// bracket, title mark or quotation mark left open.
fn unfinished(text: &str) -> bool {
    let text = text.trim_end();
    let Some(last) = text.chars().last() else {
        return false;
    };
    let open = |a: char, b: char| text.matches(a).count() > text.matches(b).count();
    OPEN_ENDINGS.contains(last) || open('《', '》') || open('“', '”') || open('（', '）')
}

/// A paragraph left unfinished where a new paragraph starts anew: before a numbered line,
/// a heading, or the end of its part. (PDF lines break anywhere; the next line then goes
/// on with the sentence, which is not a cut.)
fn cut_off(lines: &[TextLine], findings: &mut Vec<Finding>) {
    // Every line of the parts, tab-holding ones included: a PDF line whose words stand apart
    // (`提\t升公开质量。`) is still the sentence going on.
    let all: Vec<&TextLine> = lines.iter().filter(|l| l.section >= 1).collect();
    for (i, line) in all.iter().enumerate() {
        let length = content(&line.text).chars().count();
        // A short numbered line is a heading (`（二）问题所在`), which has no sentence to end.
        let heading = marker(&line.text).is_some() && length <= 20;
        if line.text.contains('\t') || line.heads.is_some() || heading || length < 10 {
            continue;
        }
        let next = all.get(i + 1);
        let starts_anew = match next {
            None => true,
            Some(n) => n.section != line.section || n.heads.is_some() || marker(&n.text).is_some(),
        };
        if !starts_anew || !unfinished(&line.text) {
            continue;
        }
        let chars: Vec<char> = line.text.trim_end().chars().collect();
        let tail: String = chars[chars.len().saturating_sub(20)..].iter().collect();
        findings.push(
            Finding::new(
                &CUT_OFF,
                Location::section(line.section).at(Some(line.at)),
                format!(
                    "第{}部分{}的段落停在“……{tail}”，句子没有写完（或括号、书名号、引号没有闭合）。\
                     请补全这句话，或删去不完整的部分。",
                    numeral(u32::from(line.section)),
                    where_(Some(line.at)),
                ),
            )
            .actual(tail),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_markers() {
        assert_eq!(chinese_number("三"), Some(3));
        assert_eq!(chinese_number("十二"), Some(12));
        assert_eq!(chinese_number("二十"), Some(20));
        assert_eq!(numeral(12), "十二");
        assert_eq!(marker("一、总体情况"), Some(Marker::Part(1)));
        assert_eq!(
            marker("[bookmark: _GoBack]（一）依申请公开"),
            Some(Marker::Item(1))
        );
        assert_eq!(marker("(三)政府信息管理"), Some(Marker::Item(3)));
        assert_eq!(marker("（一）、主动公开"), Some(Marker::Item(1)));
        assert_eq!(marker("1.属于国家秘密"), Some(Marker::Arabic));
        assert_eq!(marker("一是加强组织领导"), None);
        assert_eq!(marker("十分重视"), None);
        assert_eq!(marker("2022年，本机关"), None);
    }

    #[test]
    fn doubled_words() {
        assert_eq!(doubled_in("加强资金资金管理").as_deref(), Some("资金资金"));
        assert_eq!(
            doubled_in("政府信息公开公开指南").as_deref(),
            Some("公开公开")
        );
        // Reduplicated single characters, numbers and measures are Chinese, not mistakes.
        for fine in [
            "层层落实责任，年年开展评议",
            "一个一个地核对",
            "十一十二月份",
            "人人参与，常常更新",
            "公开、公开方式",
        ] {
            assert_eq!(doubled_in(fine), None, "{fine}");
        }
    }

    #[test]
    fn ascii_marks() {
        assert_eq!(ascii_marks_in("2022年,市政务服务"), ["2022年,市政务服"]);
        assert!(ascii_marks_in("1.属于国家秘密；2.重复申请").is_empty());
        assert!(ascii_marks_in("共 12 件，同比增长 3.5%").is_empty());
        assert_eq!(ascii_marks_in("管理办法(试行)的").len(), 2);
    }

    #[test]
    fn unfinished_paragraphs() {
        assert!(unfinished("我局严格按照条例要求，认真做好政府信息公开和"));
        assert!(!unfinished("我局严格按照条例要求，认真做好信息公开工作。"));
        assert!(unfinished("依据《中华人民共和国政府信息公开条例"));
        assert!(unfinished("持续完善公开目录的"));
        assert!(!unfinished("（一）主动公开情况"));
    }

    #[test]
    fn sequences() {
        let kinds = |n: &[u32]| -> Vec<(usize, &'static str)> {
            sequence(n, |_| None)
                .into_iter()
                .map(|(i, _, m)| {
                    (
                        i,
                        match m {
                            Misnumbered::Repeated => "repeated",
                            Misnumbered::Swapped { .. } => "swapped",
                            Misnumbered::Skipped { .. } => "skipped",
                            Misnumbered::OutOfOrder => "out_of_order",
                        },
                    )
                })
                .collect()
        };
        assert!(kinds(&[1, 2, 3, 4, 5]).is_empty());
        assert_eq!(kinds(&[1, 2, 2, 3]), [(2, "repeated")]);
        assert_eq!(kinds(&[1, 3, 2, 4]), [(1, "swapped")]);
        assert_eq!(kinds(&[1, 2, 4, 5]), [(2, "skipped")]);
        assert_eq!(kinds(&[2, 3, 4]), [(0, "skipped")]);
        assert_eq!(kinds(&[1, 2, 3, 1]), [(3, "repeated")]);
    }
}
