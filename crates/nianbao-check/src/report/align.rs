//! Observed table rows matched to the template's row sequence by alignment.
//!
//! A real table is the template's sequence, distorted a little: a typo, a wrapped or prefixed
//! label, a row left out or written twice. Looking each label up on its own must be right about
//! every row by itself; aligning the observed rows to the template's sequence (as diff does)
//! lets the order and the neighbours carry most of the information, so that a label only has
//! to be close enough. The score of a pair combines the label's similarity (exact suffix, or
//! the edit distance to the best suffix of the observed text, on normalised text) and whether
//! the number of values fits the row's columns; order is enforced by the dynamic programme.
//!
//! A match is kept only when it is clear-cut: its score must beat every alternative (any
//! other template row its position allows, or no row at all) by [`MARGIN`]. Otherwise the row
//! is reported as today (unrecognised, or fitting two rows), never guessed.

use super::schema::{Label, LabelMatch};

/// The one threshold: how much better than every alternative a match must score.
pub const MARGIN: f32 = 0.2;

/// The score of "no row": a label that gets half its characters right is as good as none.
const NO_ROW: f32 = 0.5;

/// Bonus when the row gives exactly as many values as the template row has columns.
const FITS: f32 = 0.05;

/// One observed row: the normalised text of its run, the text that a wrapped label may have
/// left at the start of the next run, and how many values follow it.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    pub text: &'a str,
    pub lead: &'a str,
    /// The lead may hold the next row's own (misspelt) label: good enough for a similarity,
    /// never for an exact match.
    pub lead_is_row: bool,
    pub values: usize,
}

/// One template row: its label and its number of columns.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub label: &'a Label,
    pub columns: usize,
}

/// What became of an observed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Read as template row `row`; `standard` when its wording is the template's.
    Matched { row: usize, standard: bool },
    /// Its label is template row `row`, which another observed row already gave.
    Duplicate { row: usize },
    /// Its label is template row `row`, but where it stands the template has other rows
    /// (two rows swapped, or a row moved): reported, not re-assigned.
    OutOfOrder { row: usize },
    /// Its label fits two template rows equally well.
    Ambiguous { rows: [usize; 2] },
    /// Its label fits no template row.
    Unmatched,
    /// Read as template row `row` by its place alone (a scan's misread label, see
    /// [`align_placing`]): its values are doubtful.
    Placed { row: usize },
}

/// The least similarity a label placed by its position must still have (see
/// [`align_placing`]): a third of its characters right.
const PLACED_FLOOR: f32 = 0.3;

/// [`align`], then, for a scan, the rows between two clear matches placed by position: where
/// the rows left between two matched rows (or before the first, after the last) are exactly as
/// many as the template rows between them, each is read as the template row in its place,
/// provided its label is still somewhat like that row's (at least [`PLACED_FLOOR`]) and it
/// gives exactly that row's number of values.
///
/// Why only for scans: OCR misreads characters of narrow, wrapped labels (`6.属于程性信`
/// for `6.属于四类过程性信息`) that a person reads at once, and the rows around them fix
/// where they are. A typed label that unlike the template's is the agency's to correct, and
/// is reported as before. Values read this way are marked doubtful (读取存疑), so the officer
/// checks them against the page: never a silent guess.
pub fn align_placing(observed: &[Observed<'_>], template: &[Row<'_>]) -> Vec<Outcome> {
    let mut out = align(observed, template);
    let (n, m) = (observed.len(), template.len());
    // Anchors: the matched rows in order, with the table's two ends.
    let mut anchors: Vec<(usize, usize)> = vec![(0, 0)];
    anchors.extend(out.iter().enumerate().filter_map(|(i, o)| match *o {
        Outcome::Matched { row, .. } => Some((i + 1, row + 1)),
        _ => None,
    }));
    anchors.push((n + 1, m + 1));
    for w in anchors.windows(2) {
        let [(i0, r0), (i1, r1)] = [w[0], w[1]];
        // Observed rows strictly between the anchors (1-based bounds), template rows too.
        let rows: Vec<usize> = (r0..r1.saturating_sub(1)).collect();
        let between: Vec<usize> = (i0..i1.saturating_sub(1)).collect();
        let odd = between
            .iter()
            .any(|&i| !matches!(out[i], Outcome::Unmatched | Outcome::Ambiguous { .. }));
        if odd {
            continue;
        }
        // Specks read as a row (a stray digit under a vertical group label) give a number of
        // values no row of the gap has: left unrecognised, not counted.
        let gap: Vec<usize> = between
            .into_iter()
            .filter(|&i| {
                rows.iter()
                    .any(|&j| observed[i].values == template[j].columns)
            })
            .collect();
        if gap.is_empty() || gap.len() != rows.len() {
            continue;
        }
        let fits = gap.iter().zip(&rows).all(|(&i, &j)| {
            observed[i].values == template[j].columns
                && row_scores(&observed[i], template)[j]
                    .is_some_and(|s| s.similarity >= PLACED_FLOOR)
        });
        if fits {
            for (&i, &j) in gap.iter().zip(&rows) {
                out[i] = Outcome::Placed { row: j };
            }
        }
    }
    out
}

/// A similarity between an observed row and a template row, in 0..=1 (+ [`FITS`]).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Score {
    similarity: f32,
    standard: bool,
}

/// Aligns `observed` rows to the `template` sequence. One outcome per observed row.
pub fn align(observed: &[Observed<'_>], template: &[Row<'_>]) -> Vec<Outcome> {
    let (n, m) = (observed.len(), template.len());
    let scores: Vec<Vec<Option<Score>>> =
        observed.iter().map(|o| row_scores(o, template)).collect();
    let gain = |i: usize, j: usize| -> Option<f32> {
        scores[i][j]
            .map(|s| s.similarity - NO_ROW)
            .filter(|g| *g > 0.0)
    };
    // best[i][j]: best total gain aligning the first i observed rows to the first j rows.
    let mut best = vec![vec![0.0f32; m + 1]; n + 1];
    for i in 1..=n {
        for j in 1..=m {
            let mut b = best[i - 1][j].max(best[i][j - 1]);
            if let Some(g) = gain(i - 1, j - 1) {
                b = b.max(best[i - 1][j - 1] + g);
            }
            best[i][j] = b;
        }
    }
    // Trace back, preferring to skip later observed rows, so that of two equal rows the
    // first one is read.
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let (mut i, mut j) = (n, m);
    while i > 0 && j > 0 {
        if best[i][j] == best[i - 1][j] {
            i -= 1;
        } else if best[i][j] == best[i][j - 1] {
            j -= 1;
        } else {
            pairs.push((i - 1, j - 1));
            i -= 1;
            j -= 1;
        }
    }
    pairs.reverse();

    let mut out = vec![Outcome::Unmatched; n];
    let mut taken = vec![false; m];
    for (k, &(i, j)) in pairs.iter().enumerate() {
        // The rows this observed row could also be, given its matched neighbours.
        let lo = if k == 0 { 0 } else { pairs[k - 1].1 + 1 };
        let hi = pairs.get(k + 1).map_or(m, |p| p.1);
        let Some(score) = scores[i][j] else { continue };
        let rival = (lo..hi)
            .filter(|&r| r != j)
            .filter_map(|r| scores[i][r].map(|s| (r, s.similarity)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let alternative = rival.map_or(NO_ROW, |r| r.1.max(NO_ROW));
        // The tolerance keeps a margin of exactly MARGIN (0.8 − 0.6) from failing on rounding.
        if score.similarity - alternative >= MARGIN - 1e-4 {
            out[i] = Outcome::Matched {
                row: j,
                standard: score.standard,
            };
            taken[j] = true;
        } else if let Some((r, s)) = rival
            && s > NO_ROW
        {
            out[i] = Outcome::Ambiguous { rows: [j, r] };
        }
    }
    for (i, o) in out.iter_mut().enumerate() {
        if *o != Outcome::Unmatched {
            continue;
        }
        // Unaligned: name the row its label is, if it is one word for word (a label only
        // like a row is not that row repeated).
        let best = scores[i]
            .iter()
            .enumerate()
            .filter_map(|(j, s)| s.map(|s| (j, s.similarity)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((j, s)) = best
            && s >= 1.0
        {
            *o = if taken[j] {
                Outcome::Duplicate { row: j }
            } else {
                Outcome::OutOfOrder { row: j }
            };
        }
    }
    out
}

/// Scores of one observed row against every template row. An exact label (standard or a
/// known variant, possibly completed by the next run's lead) scores 1 against its row only;
/// otherwise every row gets its edit-distance similarity.
fn row_scores(o: &Observed<'_>, template: &[Row<'_>]) -> Vec<Option<Score>> {
    let fits = |r: &Row<'_>| if o.values == r.columns { FITS } else { 0.0 };
    // A label wrapped below its values: its head ends the text, its tail is in the lead
    // (which may start or end with pieces of a vertical group label).
    let wrapped = |label: &Label| -> Option<LabelMatch> {
        if o.lead.is_empty() || o.lead_is_row {
            return None;
        }
        label
            .wordings()
            .filter(|(l, _)| {
                l.char_indices().skip(2).any(|(at, _)| {
                    let tail = &l[at..];
                    o.text.ends_with(&l[..at])
                        && (o.lead.ends_with(tail)
                            || (tail.chars().nth(1).is_some() && o.lead.starts_with(tail)))
                })
            })
            .map(|(l, standard)| LabelMatch {
                standard,
                len: l.len(),
            })
            .max_by_key(|m| (m.len, m.standard))
    };
    let joined;
    // For exact matches, the text alone and the text with the whole lead.
    let texts: &[&str] = if o.lead.is_empty() || o.lead_is_row {
        &[o.text][..]
    } else {
        joined = [o.text, o.lead].concat();
        &[o.text, joined.as_str()][..]
    };
    // Exact: the longest label the text ends with (a known variant is not standard).
    let exact = template
        .iter()
        .enumerate()
        .filter_map(|(j, r)| {
            texts
                .iter()
                .filter_map(|t| r.label.match_suffix(t))
                .chain(wrapped(r.label))
                .max_by_key(|m| (m.len, m.standard))
                .map(|m| (j, m))
        })
        .max_by_key(|(_, m)| m.len);
    if let Some((j, m)) = exact {
        let mut out = vec![None; template.len()];
        out[j] = Some(Score {
            similarity: 1.0 + fits(&template[j]),
            standard: m.standard,
        });
        return out;
    }
    let text: Vec<char> = o.text.chars().collect();
    let lead: Vec<char> = o.lead.chars().collect();
    template
        .iter()
        .map(|r| {
            let s = r
                .label
                .wordings()
                .map(|(l, _)| similarity(&text, &lead, l))
                .fold(0.0f32, f32::max);
            (s > 0.0).then_some(Score {
                similarity: s + fits(r),
                standard: false,
            })
        })
        .collect()
}

/// 1 − (edit distance between `label` and the best suffix of `text`) / label length.
pub fn suffix_similarity(text: &[char], label: &str) -> f32 {
    similarity(text, &[], label)
}

/// 1 − (edit distance between `label` and the best suffix of `text` followed by the best
/// prefix of `lead`) / label length: a label may start anywhere in the run (after pieces of
/// group labels and headers) and end anywhere in the tail it left below its values.
fn similarity(text: &[char], lead: &[char], label: &str) -> f32 {
    let label: Vec<char> = label.chars().collect();
    let m = label.len();
    if m == 0 {
        return 0.0;
    }
    let t = text.len().min(m + m / 2 + 2);
    let s: Vec<char> = text[text.len() - t..]
        .iter()
        .chain(lead.iter().take(2 * m + 2))
        .copied()
        .collect();
    // The label starts in the text, at least one character before its end (the head of a
    // wrapped label), unless the text ends with the row's number (`（一）`, or the `（一` a
    // wrap cut): a label that starts in the lead is the next row's.
    let last_start = if lead.is_empty() || ends_with_number(&text[text.len() - t..]) {
        t
    } else {
        t.saturating_sub(1)
    };
    // prev[j]: distance of label[..j] to the best piece of `s` ending at the current place.
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut best = if t == 0 { prev[m] } else { usize::MAX };
    let mut cur = vec![0usize; m + 1];
    for (i, &c) in s.iter().enumerate() {
        let i = i + 1;
        cur[0] = i.saturating_sub(last_start);
        for j in 1..=m {
            let sub = prev[j - 1] + usize::from(c != label[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        if i >= t {
            best = best.min(cur[m]);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    1.0 - best.min(m) as f32 / m as f32
}

/// Whether `text` ends with an item number or a piece of one: `（一）`, `（一`, `（`, `3`,
/// `3.`, `三、`.
fn ends_with_number(text: &[char]) -> bool {
    let numeral = |c: char| "一二三四五六七八九十".contains(c);
    match text {
        [.., '（'] => true,
        [.., '（', c, '）'] if numeral(*c) => true,
        [.., c] if c.is_ascii_digit() => true,
        [.., c, '.'] if c.is_ascii_digit() => true,
        [.., '（', c] if numeral(*c) => true,
        [.., c, '、'] if numeral(*c) => true,
        _ => false,
    }
}

/// Where the text of a run stops being a wrapped label's tail: at the first numbering mark
/// (`（六）`, `三、`, `1.`) after its start.
pub fn lead_end(text: &str) -> usize {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let numeral = |c: char| "一二三四五六七八九十".contains(c);
    for (k, &(at, c)) in chars.iter().enumerate() {
        let next = chars.get(k + 1).map(|x| x.1);
        let mark = match c {
            '（' => next.is_some_and(|n| numeral(n) || n.is_ascii_digit()),
            c if numeral(c) => next == Some('、'),
            c if c.is_ascii_digit() => next == Some('.'),
            _ => false,
        };
        if mark {
            return at;
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::schema::APP_ROWS;

    fn rows() -> Vec<Row<'static>> {
        APP_ROWS[..12]
            .iter()
            .map(|label| Row { label, columns: 7 })
            .collect()
    }

    fn obs(text: &str) -> Observed<'_> {
        Observed {
            text,
            lead: "",
            lead_is_row: false,
            values: 7,
        }
    }

    fn clean() -> Vec<&'static str> {
        vec![
            "一、本年新收政府信息公开申请数量",
            "二、上年结转政府信息公开申请数量",
            "三、本年度办理结果（一）予以公开",
            "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
            "（三）不予公开1.属于国家秘密",
            "2.其他法律行政法规禁止公开",
            "3.危及三安全一稳定",
            "4.保护第三方合法权益",
            "5.属于三类内部事务信息",
            "6.属于四类过程性信息",
            "7.属于行政执法案卷",
            "8.属于行政查询事项",
        ]
    }

    fn run(texts: &[&str]) -> Vec<Outcome> {
        let observed: Vec<Observed<'_>> = texts.iter().map(|t| obs(t)).collect();
        align(&observed, &rows())
    }

    fn matched(row: usize, standard: bool) -> Outcome {
        Outcome::Matched { row, standard }
    }

    #[test]
    fn clean_rows_match_in_order() {
        let out = run(&clean());
        for (j, o) in out.iter().enumerate() {
            assert_eq!(*o, matched(j, true), "row {j}");
        }
    }

    #[test]
    fn misspelt_row_is_matched_as_nonstandard() {
        let mut texts = clean();
        // The WPS report really drops 法规禁, and picks up pieces of a vertical group label.
        texts[5] = "、本2.其他法律行政止公开";
        let out = run(&texts);
        assert_eq!(out[5], matched(5, false));
        assert_eq!(out[4], matched(4, true));
        assert_eq!(out[6], matched(6, true));
    }

    #[test]
    fn missing_row_leaves_its_template_row_unmatched() {
        let mut texts = clean();
        texts.remove(6);
        let out = run(&texts);
        assert_eq!(out.len(), 11);
        assert!(!out.contains(&matched(6, true)));
        assert_eq!(out[6], matched(7, true));
        assert_eq!(out[5], matched(5, true));
    }

    #[test]
    fn duplicated_row_reads_the_first_and_reports_the_second() {
        let mut texts = clean();
        texts.insert(8, "4.保护第三方合法权益");
        let out = run(&texts);
        assert_eq!(out[7], matched(7, true));
        assert_eq!(out[8], Outcome::Duplicate { row: 7 });
        assert_eq!(out[9], matched(8, true));
    }

    #[test]
    fn swapped_rows_are_reported_not_reassigned() {
        let mut texts = clean();
        texts.swap(6, 7);
        let out = run(&texts);
        // One of the two is read by its own label; the other is out of order, never given
        // to the row whose place it took.
        let (a, b) = (out[6], out[7]);
        assert!(
            (a == matched(7, true) && b == Outcome::OutOfOrder { row: 6 })
                || (a == Outcome::OutOfOrder { row: 7 } && b == matched(6, true)),
            "{a:?} {b:?}"
        );
        assert_eq!(out[8], matched(8, true));
    }

    fn synthetic(core: &'static str) -> Label {
        Label {
            id: core,
            printed: core,
            core,
            variants: &[],
            group: None,
        }
    }

    #[test]
    fn label_fitting_two_rows_equally_is_not_guessed() {
        let (first, a, b, last) = (
            synthetic("子丑寅卯"),
            synthetic("甲乙丙丁"),
            synthetic("甲乙丙戊"),
            synthetic("辰巳午未"),
        );
        let template: Vec<Row<'_>> = [&first, &a, &b, &last]
            .into_iter()
            .map(|label| Row { label, columns: 7 })
            .collect();
        // 甲乙丙己 is three quarters of 甲乙丙丁 and of 甲乙丙戊, and both are free between
        // its neighbours.
        let observed = [obs("子丑寅卯"), obs("甲乙丙己"), obs("辰巳午未")];
        let out = align(&observed, &template);
        assert_eq!(out[0], matched(0, true));
        assert!(
            matches!(out[1], Outcome::Ambiguous { rows } if rows.contains(&1) && rows.contains(&2)),
            "{:?}",
            out[1]
        );
        assert_eq!(out[2], matched(3, true));
        // With only one of the two free, position decides.
        let observed = [
            obs("子丑寅卯"),
            obs("甲乙丙己"),
            obs("甲乙丙戊"),
            obs("辰巳午未"),
        ];
        let out = align(&observed, &template);
        assert_eq!(out[1], matched(1, false));
        assert_eq!(out[2], matched(2, true));
    }

    #[test]
    fn threshold_on_each_side() {
        // Two template rows whose labels differ in one place; an observed label that is
        // a little closer to one of them. With a lead of MARGIN or more it is read, below
        // MARGIN it is reported.
        let first = Label {
            id: "a",
            printed: "甲乙丙丁戊己庚辛壬癸",
            core: "甲乙丙丁戊己庚辛壬癸",
            variants: &[],
            group: None,
        };
        let second = Label {
            id: "b",
            printed: "甲乙丙丁戊子丑寅卯辰",
            core: "甲乙丙丁戊子丑寅卯辰",
            variants: &[],
            group: None,
        };
        let template = [
            Row {
                label: &first,
                columns: 1,
            },
            Row {
                label: &second,
                columns: 1,
            },
        ];
        let one = |text: &str| {
            align(
                &[Observed {
                    text,
                    lead: "",
                    lead_is_row: false,
                    values: 1,
                }],
                &template,
            )[0]
        };
        // 9 of 10 like the first, 5 of 10 like the second: 0.9 − 0.5 = 0.4 ≥ MARGIN.
        assert_eq!(one("甲乙丙丁戊己庚辛壬X"), matched(0, false));
        // 8 of 10 like the first, 6 of 10 like the second: 0.8 − 0.6 = MARGIN exactly: read.
        assert_eq!(one("甲乙丙丁戊己庚辛卯X"), matched(0, false));
        // 8 of 10 like the first, 7 of 10 like the second: 0.1 < MARGIN: reported.
        assert!(matches!(
            one("甲乙丙丁戊己庚辛卯辰"),
            Outcome::Ambiguous { .. }
        ));
        // 7 of 10 like each: a tie.
        assert!(matches!(
            one("甲乙丙丁戊己庚X卯辰"),
            Outcome::Ambiguous { .. }
        ));
        // Like nothing: no row.
        assert_eq!(one("天地玄黄宇宙洪荒日月"), Outcome::Unmatched);
    }

    #[test]
    fn wrapped_label_is_completed_by_the_next_runs_lead() {
        let text = "已获取信息（六）其他处理1.申请人";
        assert_eq!(&text[..lead_end(text)], "已获取信息");
        assert_eq!(lead_end("（一）予以公开"), 0);
        let template: Vec<Row<'_>> = APP_ROWS[15..20]
            .iter()
            .map(|label| Row { label, columns: 7 })
            .collect();
        let observed = [
            obs("4.无正当理由大量反复申请"),
            Observed {
                text: "5.要求行政机关确认或重新出具",
                lead: "已获取信息",
                lead_is_row: false,
                values: 7,
            },
        ];
        let out = align(&observed, &template);
        assert_eq!(out[1], matched(4, true));
        // LibreOffice with Noto CJK: the tail below the values, after a piece of the
        // vertical group label 三、本年度办理结果.
        let template: Vec<Row<'_>> = APP_ROWS[2..5]
            .iter()
            .map(|label| Row { label, columns: 7 })
            .collect();
        let observed = [
            obs("三、本（一）予以公开"),
            Observed {
                text: "年度办（二）部分公开",
                lead: "理结果（区分处理的，只计这一情形，不计其他情形）",
                lead_is_row: false,
                values: 7,
            },
            obs("理结果（区分处理的，只计这一情形，不计其他情形）（三）1.属于国家秘密"),
        ];
        let out = align(&observed, &template);
        assert_eq!(
            out,
            vec![matched(0, true), matched(1, true), matched(2, true)]
        );
    }

    #[test]
    fn similarity_ignores_a_prefix_and_what_follows_a_wrapped_tail() {
        let chars = |s: &str| s.chars().collect::<Vec<char>>();
        // 信访举报投诉类申请, wrapped around its values with a typo in the tail, and a piece of
        // the vertical （五）不予处理 after it.
        let s = similarity(
            &chars("（五1.信访举报投"),
            &chars("类在请）不"),
            "信访举报投诉类申请",
        );
        assert!((s - 7.0 / 9.0).abs() < 1e-6, "{s}");
        assert_eq!(
            similarity(&chars("予以"), &chars("公开（二）"), "予以公开"),
            1.0
        );
    }

    #[test]
    fn suffix_similarity_ignores_a_prefix() {
        let t: Vec<char> = "三、本年度办理结果（一）予以公开".chars().collect();
        assert_eq!(suffix_similarity(&t, "予以公开"), 1.0);
        let t: Vec<char> = "予以公".chars().collect();
        assert!((suffix_similarity(&t, "予以公开") - 0.75).abs() < 1e-6);
    }

    /// A scan's misread labels between clear matches: as many rows as the gap leaves are read
    /// by their place; with one row too many or too few, or a row giving the wrong number of
    /// values, or a label with nothing of the row's, nothing is placed.
    #[test]
    fn placing_reads_a_gap_of_misread_labels_by_position_only_when_it_fits() {
        let mut texts = clean();
        texts[9] = "6.属于程性信";
        texts[10] = "7.属干行执案";
        let observed: Vec<Observed<'_>> = texts.iter().map(|t| obs(t)).collect();
        let strict = align(&observed, &rows());
        assert!(
            !matches!(strict[9], Outcome::Matched { .. }),
            "{:?}",
            strict[9]
        );
        let placed = align_placing(&observed, &rows());
        assert_eq!(placed[9], Outcome::Placed { row: 9 });
        assert_eq!(placed[10], Outcome::Placed { row: 10 });
        assert_eq!(placed[11], matched(11, true));
        assert_eq!(placed[8], matched(8, true));

        // One value missing: the row is not that row's shape, nothing is placed.
        let mut short = observed.clone();
        short[9].values = 6;
        let out = align_placing(&short, &rows());
        assert!(!matches!(out[9], Outcome::Placed { .. }), "{:?}", out[9]);

        // A row left out: the gap holds fewer observed rows than template rows.
        let mut fewer = texts.clone();
        fewer.remove(10);
        let observed: Vec<Observed<'_>> = fewer.iter().map(|t| obs(t)).collect();
        let out = align_placing(&observed, &rows());
        assert!(
            out.iter().all(|o| !matches!(o, Outcome::Placed { .. })),
            "{out:?}"
        );

        // A speck read as a row between them (one value) is not counted.
        let mut specked = texts.clone();
        specked.insert(10, "四");
        let mut observed: Vec<Observed<'_>> = specked.iter().map(|t| obs(t)).collect();
        observed[10].values = 1;
        let out = align_placing(&observed, &rows());
        assert_eq!(out[9], Outcome::Placed { row: 9 });
        assert_eq!(out[10], Outcome::Unmatched);
        assert_eq!(out[11], Outcome::Placed { row: 10 });

        // Nothing of the row's label left: not placed.
        let mut junk = clean();
        junk[9] = "甲乙丙丁戊己";
        let observed: Vec<Observed<'_>> = junk.iter().map(|t| obs(t)).collect();
        let out = align_placing(&observed, &rows());
        assert!(!matches!(out[9], Outcome::Placed { .. }), "{:?}", out[9]);
    }
}
