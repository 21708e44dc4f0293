//! How much of one text is another again, sentence by sentence: the evidence of a 内容雷同
//! (copied report) finding. The cross-year rules compare a report's narrative with last
//! year's ([`sentence_overlap`]); the same-year index keys sentences in the same normal form
//! (`shared_text`); the daemon's side-by-side comparison of two reports shows it per section.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

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
pub fn sentences(text: &str) -> impl Iterator<Item = (&str, String)> {
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
pub fn normalize(sentence: &str) -> String {
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
