//! Wild mode: a clean report written the ways real ones differ from the template, chosen at
//! random from the seed. Typos that drop, replace or repeat one or two characters in a row
//! label; numbering variants (`1、`, `1．`, `（1）`, `(1)`) and half-width brackets; cells
//! separated by tabs, runs of spaces, full-width spaces, `&nbsp;`, pipes or markdown tables
//! with `|---|` rules; labels wrapped before, after or around their values; group labels
//! written vertically, a character or two per row; the title wrapped after the agency or the
//! year; stray page numbers and running headers between rows; and (when asked) the 2019-style
//! single （六）其他处理 row in a 2021 report.

use std::collections::HashMap;

use rand::Rng;

use super::{GCell, Item, Slot, dense};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    Tabs,
    Spaces,
    FullWidth,
    Nbsp,
    Pipes,
    Markdown,
}

/// What one wild rendering does; chosen once per document.
struct Knobs {
    sep: Sep,
    vertical: bool,
    typo: f64,
    numbering: f64,
    wrap: f64,
    stray: f64,
    six: bool,
}

/// Characters a typo puts in.
const TYPO: &[char] = &['的', '了', '在', '是', '和', '有', '之', '以', '其', '于'];

/// A typo in the body of `label` (not its numbering): one edit for labels of 4 to 7
/// characters, one or two from 8. Shorter labels are left alone: `规章` with a character
/// dropped is no longer a label but a guess, and the reader does not guess.
fn typo(label: &str, rng: &mut impl Rng) -> String {
    let chars: Vec<char> = label.chars().collect();
    let body = chars
        .iter()
        .position(|c| is_cjk(*c) && !"一二三四五六七八九十".contains(*c))
        .unwrap_or(chars.len());
    // The body ends before a closing bracket's explanation: keep `（区分处理的…）` intact.
    let end = chars[body..]
        .iter()
        .position(|c| *c == '（' || *c == '(')
        .map_or(chars.len(), |p| body + p);
    let len = end - body;
    let edits = match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => rng.random_range(1..=2),
    };
    let mut out = chars.clone();
    let mut end = end;
    for _ in 0..edits {
        let at = rng.random_range(body..end);
        match rng.random_range(0..3) {
            0 => {
                out.remove(at);
                end -= 1;
            }
            1 => out[at] = TYPO[rng.random_range(0..TYPO.len())],
            _ => {
                out.insert(at, out[at]);
                end += 1;
            }
        }
    }
    out.into_iter().collect()
}

fn is_cjk(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// `1.` as `1、`, `1．`, `（1）`, `(1)` or `1)`; `（一）` as `(一)`. (`1. ` with a space is
/// left to the TabRows layout: wrapped after `4. 无`, the cell `无` would mean "none".)
fn numbering(label: &str, rng: &mut impl Rng) -> String {
    let digits: String = label.chars().take_while(|c| c.is_ascii_digit()).collect();
    if !digits.is_empty() && label[digits.len()..].starts_with('.') {
        let rest = &label[digits.len() + 1..];
        let n = match rng.random_range(0..5) {
            0 => format!("{digits}、"),
            1 => format!("{digits}．"),
            2 => format!("（{digits}）"),
            3 => format!("({digits})"),
            _ => format!("{digits})"),
        };
        return format!("{n}{rest}");
    }
    if label.starts_with('（') {
        return label.replacen('（', "(", 1).replacen('）', ")", 1);
    }
    label.to_string()
}

/// The row label split in two at a random place (at least two characters each side).
fn split(label: &str, rng: &mut impl Rng) -> Option<(String, String)> {
    let chars: Vec<char> = label.chars().collect();
    if chars.len() < 5 {
        return None;
    }
    let at = rng.random_range(2..chars.len() - 2);
    Some((chars[..at].iter().collect(), chars[at..].iter().collect()))
}

fn join(cells: &[String], sep: Sep, rng: &mut impl Rng) -> String {
    match sep {
        Sep::Tabs => cells.join("\t"),
        Sep::Spaces => {
            let gap = " ".repeat(rng.random_range(2..5));
            cells.join(&gap)
        }
        Sep::FullWidth => cells.join("\u{3000}"),
        Sep::Nbsp => cells.join("\u{a0}\u{a0}"),
        Sep::Pipes | Sep::Markdown => format!("| {} |", cells.join(" | ")),
    }
}

fn stray(page: &mut u32, title: &str, rng: &mut impl Rng) -> String {
    *page += 1;
    match rng.random_range(0..4) {
        0 => format!("- {page} -"),
        1 => format!("第 {page} 页"),
        2 => format!("第{page}页 共9页"),
        _ => title.to_string(),
    }
}

fn title_lines(t: &str, rng: &mut impl Rng) -> Vec<String> {
    let Some(year_at) = t.find(|c: char| c.is_ascii_digit()) else {
        return vec![t.to_string()];
    };
    match rng.random_range(0..4) {
        // After the agency: `淮安市人民政府` / `2024年…`.
        0 => vec![t[..year_at].to_string(), t[year_at..].to_string()],
        // After the year: `南岸区住房和城乡建设委员会 2024` / `年政府信息公开工作年度报告`.
        1 => vec![
            format!("{} {}", &t[..year_at], &t[year_at..year_at + 4]),
            t[year_at + 4..].to_string(),
        ],
        // After 信息公开.
        2 => match t.find("工作年度报告") {
            Some(at) => vec![t[..at].to_string(), t[at..].to_string()],
            None => vec![t.to_string()],
        },
        _ => vec![t.to_string()],
    }
}

/// The values of the （六） sub-rows summed, as the single 2019-style row gives them.
fn six_row(rows: &[Vec<String>]) -> Option<Vec<String>> {
    let mut sum = vec![0i64; rows.first()?.len()];
    for r in rows {
        for (s, v) in sum.iter_mut().zip(r) {
            *s += v.trim().parse::<i64>().ok()?;
        }
    }
    Some(sum.iter().map(i64::to_string).collect())
}

const SIX_ROWS: [&str; 3] = [
    "other_overdue_correction",
    "other_unpaid_fee",
    "other_other",
];

pub fn text(doc: &[Item], six: bool, rng: &mut impl Rng) -> String {
    let sep = match rng.random_range(0..6) {
        0 => Sep::Tabs,
        1 => Sep::Spaces,
        2 => Sep::FullWidth,
        3 => Sep::Nbsp,
        4 => Sep::Pipes,
        _ => Sep::Markdown,
    };
    let knobs = Knobs {
        sep,
        vertical: rng.random_bool(0.5),
        typo: [0.0, 0.1, 0.3][rng.random_range(0..3)],
        numbering: [0.0, 0.3, 1.0][rng.random_range(0..3)],
        wrap: [0.0, 0.15, 0.4][rng.random_range(0..3)],
        stray: [0.0, 0.05, 0.15][rng.random_range(0..3)],
        six,
    };
    let wrapped_title = rng.random_bool(0.5);
    let mut out = String::new();
    let mut page = 1;
    let mut title = String::new();
    for item in doc {
        match item {
            Item::Title(t) => {
                title = t.clone();
                let lines = if wrapped_title {
                    title_lines(t, rng)
                } else {
                    vec![t.clone()]
                };
                for l in lines {
                    out.push_str(&l);
                    out.push('\n');
                }
            }
            Item::Heading(t) | Item::Para(t) => {
                out.push_str(t);
                out.push('\n');
            }
            Item::Grid(g) => grid(g, &knobs, &title, &mut page, &mut out, rng),
        }
    }
    out
}

fn grid(
    g: &[Vec<GCell>],
    k: &Knobs,
    title: &str,
    page: &mut u32,
    out: &mut String,
    rng: &mut impl Rng,
) {
    let slots = dense(g);
    // Where each merged cell starts, for vertical group labels.
    let mut origin: HashMap<*const GCell, usize> = HashMap::new();
    for (r, row) in slots.iter().enumerate() {
        for s in row {
            if let Slot::Origin(c) = s {
                origin.insert(*c as *const GCell, r);
            }
        }
    }
    let is_six = |row: &[Slot<'_>]| {
        row.iter().any(|s| {
            matches!(s, Slot::Origin(c) if c.key.is_some_and(|(t, r, _)| t == 2 && SIX_ROWS.contains(&r)))
        })
    };
    let mut first_line = true;
    let mut r = 0;
    while r < slots.len() {
        let row = &slots[r];
        let keyed = row
            .iter()
            .any(|s| matches!(s, Slot::Origin(c) if c.key.is_some()));
        if !keyed {
            // A header row: its cells as they are.
            let cells: Vec<String> = row
                .iter()
                .filter_map(|s| match s {
                    Slot::Origin(c) if !c.text.is_empty() => Some(c.text.replace('\n', "")),
                    _ => None,
                })
                .collect();
            if !cells.is_empty() {
                out.push_str(&join(&cells, k.sep, rng));
                out.push('\n');
                if k.sep == Sep::Markdown && first_line {
                    out.push_str(&format!("|{}|\n", vec!["---"; cells.len()].join("|")));
                }
                first_line = false;
            }
            r += 1;
            continue;
        }
        let mut groups: Vec<String> = Vec::new();
        let mut label = String::new();
        let mut values: Vec<String> = Vec::new();
        for s in row {
            match s {
                Slot::Origin(c) if c.key.is_some() => values.push(c.text.clone()),
                Slot::Origin(c) if c.rowspan > 1 => {
                    if k.vertical {
                        groups.push(piece(c, 0));
                    } else {
                        groups.push(c.text.replace('\n', ""));
                    }
                }
                Slot::Origin(c) => label = c.text.replace('\n', ""),
                Slot::Below(c) if k.vertical => {
                    let offset = origin.get(&(*c as *const GCell)).map_or(0, |o| r - o);
                    groups.push(piece(c, offset));
                }
                _ => {}
            }
        }
        let mut skip = 0;
        if k.six && is_six(row) {
            // The three sub-rows become one （六）其他处理 row with their sum.
            let subs: Vec<Vec<String>> = slots[r..(r + 3).min(slots.len())]
                .iter()
                .map(|row| {
                    row.iter()
                        .filter_map(|s| match s {
                            Slot::Origin(c) if c.key.is_some() => Some(c.text.clone()),
                            _ => None,
                        })
                        .collect()
                })
                .collect();
            if let Some(sum) = six_row(&subs) {
                groups.retain(|g| !g.contains("其他处理"));
                label = "（六）其他处理".to_string();
                values = sum;
                skip = 2;
            }
        }
        let label = if rng.random_bool(k.numbering) {
            numbering(&label, rng)
        } else {
            label
        };
        let label = if rng.random_bool(k.typo) {
            typo(&label, rng)
        } else {
            label
        };
        let groups: Vec<String> = groups.into_iter().filter(|g| !g.is_empty()).collect();
        // The vertical group label's piece goes at the start of the row's first line.
        let line =
            |groups: &[String], head: &str, values: &[String], rng: &mut dyn rand::RngCore| {
                let mut cells = groups.to_vec();
                if !head.is_empty() {
                    cells.push(head.to_string());
                }
                cells.extend(values.iter().cloned());
                let mut rng = rng;
                let mut l = join(&cells, k.sep, &mut rng);
                l.push('\n');
                l
            };
        let none: &[String] = &[];
        let text = match (rng.random_bool(k.wrap), split(&label, rng)) {
            (true, Some((head, tail))) => match rng.random_range(0..3) {
                // Before: the head above the row's values line.
                0 => line(&groups, &head, none, rng) + &line(none, &tail, &values, rng),
                // After: the tail below the values.
                1 => line(&groups, &head, &values, rng) + &line(none, &tail, none, rng),
                // Around: a piece above, the middle with the values, the rest below.
                _ => match split(&tail, rng) {
                    Some((mid, rest)) => {
                        line(&groups, &head, none, rng)
                            + &line(none, &mid, &values, rng)
                            + &line(none, &rest, none, rng)
                    }
                    None => line(&groups, &head, &values, rng) + &line(none, &tail, none, rng),
                },
            },
            _ => line(&groups, &label, &values, rng),
        };
        out.push_str(&text);
        if rng.random_bool(k.stray) {
            out.push_str(&stray(page, title, rng));
            out.push('\n');
        }
        r += 1 + skip;
    }
}

/// The part of a vertically written group label that falls on the `offset`-th row it spans.
fn piece(c: &GCell, offset: usize) -> String {
    let chars: Vec<char> = c.text.replace('\n', "").chars().collect();
    let per = chars.len().div_ceil(c.rowspan.max(1)).clamp(1, 2);
    chars
        .iter()
        .skip(offset * per)
        .take(per)
        .collect::<String>()
}

/// Wild labels in real tables (docx, html, xlsx): typos and numbering variants in the row
/// label cells; cells keep their borders, so nothing is wrapped or re-separated.
pub fn perturb_cells(doc: &mut [Item], rng: &mut impl Rng) {
    for item in doc.iter_mut() {
        let Item::Grid(g) = item else { continue };
        for row in g.iter_mut() {
            if !row.iter().any(|c| c.key.is_some()) {
                continue;
            }
            for c in row.iter_mut().filter(|c| c.key.is_none() && c.rowspan == 1) {
                let label = c.text.replace('\n', "");
                let label = if rng.random_bool(0.3) {
                    numbering(&label, rng)
                } else {
                    label
                };
                c.text = if rng.random_bool(0.3) {
                    typo(&label, rng)
                } else {
                    label
                };
            }
        }
    }
}
