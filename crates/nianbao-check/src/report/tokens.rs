//! Blocks -> tokens: the common ground of every layout.
//!
//! Whatever the file format, a report table becomes a sequence of text tokens (labels) and
//! value tokens (numbers, `/`, blanks). Text files are split at white space, since tabs,
//! spaces and line breaks are all cell borders there; cells of real tables stay one token
//! each and keep their row, so that a row's values can be told from the next row's.

use crate::extract::{Block, SourceRef};

use super::normalize::normalize;

/// What a token says.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Words: part of a label or of the narrative.
    Text,
    /// An integer (may be negative: 2019's 本年增/减).
    Int(i64),
    /// A decimal number as written (`96171.6`), for the fee columns.
    Decimal(String),
    /// A number with a unit inside the cell (`251000元`): the number, the unit.
    WithUnit(String, String),
    /// A mark that means "not filled": `/`, `-`, `—`, `无`.
    NotFilled,
    /// An empty cell of a real table.
    Blank,
}

impl Kind {
    pub fn is_text(&self) -> bool {
        matches!(self, Kind::Text)
    }
}

/// One token with its origin.
#[derive(Debug, Clone)]
pub struct Token {
    /// Normalized text (see [`normalize`]) for labels; the cleaned-up cell text for values.
    pub norm: String,
    /// The text as written, for messages.
    pub raw: String,
    pub kind: Kind,
    pub at: SourceRef,
    /// Row of a real table (unique across the document), `None` for text layouts.
    pub row: Option<u32>,
    /// Index of the block the token came from, to rebuild narrative text.
    pub block: usize,
}

/// Lines that are page furniture in PDF text layers and printed pages: `- 3 -`, `第 3 页`,
/// `第3页 共8页`. They fall inside tables and would read as numbers.
pub fn is_page_marker(line: &str) -> bool {
    // Every marker is made of digits, dashes, 第, 页 and 共 only: any other character is a
    // line of text, known without building anything (this runs for every line of a file).
    let furniture = |c: char| {
        c.is_whitespace()
            || c.is_ascii_digit()
            || matches!(c, '-' | '—' | '－' | '–' | '第' | '页' | '共')
    };
    if !line.chars().all(furniture) {
        return false;
    }
    let t: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    if t.is_empty() {
        return false;
    }
    let dash = |c: char| matches!(c, '-' | '—' | '－' | '–');
    let strip_dashes = t.trim_matches(dash);
    if t.starts_with(dash)
        && t.ends_with(dash)
        && !strip_dashes.is_empty()
        && strip_dashes.chars().all(|c| c.is_ascii_digit())
    {
        return true;
    }
    let page = |s: &str| {
        s.strip_prefix('第')
            .and_then(|r| r.strip_suffix('页'))
            .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
    };
    let total = |s: &str| {
        s.strip_prefix('共')
            .and_then(|r| r.strip_suffix('页'))
            .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
    };
    if page(&t) || total(&t) {
        return true;
    }
    // `第3页共8页`
    if let Some(i) = t.find("页共") {
        let (a, b) = t.split_at(i + "页".len());
        return page(a) && total(b);
    }
    false
}

/// A cell border in a line of text: white space of any width (tabs, runs of spaces,
/// full-width spaces, `&nbsp;`) and the pipes of tables copied from portal pages and
/// markdown. A separator is never part of a label.
pub fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '|' | '｜' | '¦')
}

/// A markdown table rule (`|---|:--:|`) or a drawn border (`+----+----+`): no content.
pub fn is_table_rule(line: &str) -> bool {
    let t = line.trim();
    t.contains(['-', '—', '─', '='])
        && t.chars().all(|c| {
            is_separator(c) || matches!(c, '-' | '—' | '─' | '=' | ':' | '+' | '┼' | '├' | '┤')
        })
        && !t
            .trim_matches(|c: char| c.is_whitespace())
            .chars()
            .all(|c| c == '-' || c == '—')
}

/// Classifies one cell or word. `s` may contain white space (a cell of a real table).
pub fn classify(s: &str) -> (Kind, String) {
    let compact: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' => '.',
            '－' | '−' => '-',
            '＋' => '+',
            _ => c,
        })
        .collect();
    if compact.is_empty() {
        return (Kind::Blank, compact);
    }
    if matches!(
        compact.as_str(),
        "/" | "／" | "\\" | "-" | "—" | "——" | "–" | "--" | "无" | "空" | "×" | "—/"
    ) {
        return (Kind::NotFilled, compact);
    }
    if let Some(kind) = number(&compact) {
        return (kind, compact);
    }
    for unit in ["万元", "元", "件", "个", "条", "项", "次", "人", "份"] {
        if let Some(num) = compact.strip_suffix(unit)
            && number(num).is_some()
        {
            return (Kind::WithUnit(num.to_string(), unit.to_string()), compact);
        }
    }
    (Kind::Text, compact)
}

/// An integer or a decimal; thousands separators (`3,119`) are accepted.
fn number(s: &str) -> Option<Kind> {
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let digits: String = if is_grouped(digits) {
        digits.replace([',', '，'], "")
    } else {
        digits.to_string()
    };
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits.as_str(), None),
    };
    if int.is_empty() || !int.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match frac {
        None => int.parse::<i64>().ok().map(|v| Kind::Int(sign * v)),
        Some(f) if !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()) => {
            let text = if sign < 0 {
                format!("-{int}.{f}")
            } else {
                format!("{int}.{f}")
            };
            Some(Kind::Decimal(text))
        }
        Some(_) => None,
    }
}

/// `1,234,567` (groups of three after the first).
fn is_grouped(s: &str) -> bool {
    let int = s.split('.').next().unwrap_or(s);
    let mut groups = int.split([',', '，']);
    let Some(first) = groups.next() else {
        return false;
    };
    let rest: Vec<&str> = groups.collect();
    !rest.is_empty()
        && (1..=3).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_digit())
        && rest
            .iter()
            .all(|g| g.len() == 3 && g.chars().all(|c| c.is_ascii_digit()))
}

/// Splits every block into tokens, in reading order.
pub fn tokenize(blocks: &[Block]) -> Vec<Token> {
    let mut tokens = Vec::new();
    tokenize_into(blocks, &mut tokens);
    tokens
}

/// [`tokenize`] into a buffer of the caller's (cleared first), so that a worker checking
/// file after file reuses one allocation instead of growing a fresh one each time: a
/// report has thousands of tokens, and growing their vector page by page was a fifth of
/// the time spent checking (fresh pages from the kernel, zeroed each time).
pub fn tokenize_into(blocks: &[Block], tokens: &mut Vec<Token>) {
    tokens.clear();
    let mut grid_row: u32 = 0;
    for (index, block) in blocks.iter().enumerate() {
        match block {
            Block::Text { text, at } => {
                if is_page_marker(text) || is_table_rule(text) {
                    continue;
                }
                for word in text.split(is_separator) {
                    if word.is_empty() {
                        continue;
                    }
                    push_word(tokens, word, *at, index);
                }
            }
            Block::Table { rows } => {
                for row in rows {
                    grid_row += 1;
                    for cell in row {
                        let (kind, compact) = classify(&cell.text);
                        let norm = if kind.is_text() {
                            normalize(&cell.text)
                        } else {
                            compact
                        };
                        tokens.push(Token {
                            norm,
                            raw: cell.text.trim().to_string(),
                            kind,
                            at: cell.at,
                            row: Some(grid_row),
                            block: index,
                        });
                    }
                }
            }
        }
    }
}

fn push_word(tokens: &mut Vec<Token>, word: &str, at: SourceRef, block: usize) {
    let (kind, compact) = classify(word);
    // A unit split off by a space (`251000 元`) belongs to the number before it.
    if kind.is_text()
        && matches!(
            compact.as_str(),
            "元" | "万元" | "件" | "个" | "条" | "项" | "次"
        )
        && let Some(prev) = tokens.last_mut()
        && prev.block == block
        && let Kind::Int(_) | Kind::Decimal(_) = prev.kind
    {
        prev.kind = Kind::WithUnit(prev.norm.clone(), compact.clone());
        prev.raw = format!("{} {}", prev.raw, word);
        return;
    }
    let norm = if kind.is_text() {
        normalize(word)
    } else {
        compact
    };
    tokens.push(Token {
        norm,
        raw: word.to_string(),
        kind,
        at,
        row: None,
        block,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_cells() {
        assert_eq!(classify(" 　0").0, Kind::Int(0));
        assert_eq!(classify("3,119").0, Kind::Int(3119));
        assert_eq!(classify("-2").0, Kind::Int(-2));
        assert_eq!(classify("96171.6").0, Kind::Decimal("96171.6".into()));
        assert_eq!(
            classify("251000元").0,
            Kind::WithUnit("251000".into(), "元".into())
        );
        assert_eq!(classify("/").0, Kind::NotFilled);
        assert_eq!(classify("—").0, Kind::NotFilled);
        assert_eq!(classify("").0, Kind::Blank);
        assert_eq!(classify("1.").0, Kind::Text);
        assert_eq!(classify("1.属于国家秘密").0, Kind::Text);
        assert_eq!(classify("99999999999999999999").0, Kind::Text);
    }

    #[test]
    fn separators_are_never_part_of_a_label() {
        let words = |line: &str| -> Vec<String> {
            let block = Block::Text {
                text: line.to_string(),
                at: SourceRef::Line(1),
            };
            tokenize(&[block]).into_iter().map(|t| t.norm).collect()
        };
        let expected = ["2.其他法律行政法规禁止公开", "0", "12", "0"];
        assert_eq!(
            words("| 2.其他法律行政法规禁止公开 | 0 | 12 | 0 |"),
            expected
        );
        assert_eq!(words("2.其他法律行政法规禁止公开｜0｜12｜0"), expected);
        assert_eq!(
            words("2.其他法律行政法规禁止公开\u{3000}\u{3000}0\u{3000}12  0"),
            expected
        );
        assert_eq!(words("2.其他法律行政法规禁止公开\t0\t12\u{a0}0"), expected);
        assert!(words("|---|:---:|---|").is_empty());
        assert!(words("| --- | --- |").is_empty());
        assert!(words("+----+----+").is_empty());
        // A dash alone is a cell marked "not filled", and `- 3 -` is a page number.
        assert_eq!(words("—"), ["—"]);
        assert!(words("- 3 -").is_empty());
    }

    #[test]
    fn page_markers() {
        assert!(is_page_marker("- 3 -"));
        assert!(is_page_marker("—12—"));
        assert!(is_page_marker("第 3 页"));
        assert!(is_page_marker("第3页 共8页"));
        assert!(!is_page_marker("3"));
        assert!(!is_page_marker("-3"));
        assert!(!is_page_marker("三、"));
    }
}
