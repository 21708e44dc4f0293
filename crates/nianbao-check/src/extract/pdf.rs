//! PDF: the text layer, read by poppler's `pdftotext -tsv`, with rows rebuilt from positions.
//!
//! Reading order in a PDF is whatever order the writer drew the text in: Word draws a table
//! cell by cell, WPS column by column, and a label that wraps inside its cell arrives in two
//! pieces around the row's numbers. Positions do not lie, so every word is placed by its box:
//! words whose vertical centres agree form one visual line, left to right, and a wide gap
//! between two words is a cell border (a tab). The lines then go to the same token parser as
//! text files, which already joins broken labels and skips page markers.
//!
//! poppler is a well-kept reader of hostile PDFs, used as a subprocess (see `subprocess`) with
//! a timeout, a memory limit and an output cap, so a PDF that makes it loop or balloon costs
//! a finding, not the daemon. Non-embedded CJK fonts (`STSong-Light` with `UniGB-UCS2-H`) need
//! the CMaps of poppler-data.

use std::time::Duration;

use super::subprocess::{self, Limits, RunError};
use super::{Block, ExtractError, Extracted, Format, SourceRef};

const LIMITS: Limits = Limits {
    timeout: Duration::from_secs(60),
    max_output: 64 * 1024 * 1024,
    max_memory: 1024 * 1024 * 1024,
};

/// Fewer readable characters than this in the whole file means there is no text layer.
const MIN_TEXT_CHARS: usize = 20;

pub fn extract(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    // The drawing is read in process while poppler reads the text: the two run side by side.
    let (tsv, rulings) = std::thread::scope(|s| {
        let rulings = s.spawn(|| super::pdf_draw::rulings(bytes));
        let tsv = subprocess::run(
            "pdftotext",
            &["-tsv".as_ref(), "-".as_ref(), "-".as_ref()],
            Some(bytes),
            LIMITS,
        );
        let rulings = rulings.join().unwrap_or_else(|_| {
            Err(super::pdf_grid::TraceError::Malformed(
                "the PDF reader gave up".into(),
            ))
        });
        (tsv, rulings)
    });
    let tsv = match tsv {
        Ok(out) => out,
        Err(e) => return Err(error(e)),
    };
    let tsv = String::from_utf8_lossy(&tsv);
    let (words, pages) = parse_tsv(&tsv);
    let chars: usize = words
        .iter()
        .map(|w| w.text.chars().filter(|c| c.is_alphanumeric()).count())
        .sum();
    if chars < MIN_TEXT_CHARS {
        // No text layer: a scan, read by OCR where Tesseract is installed.
        return super::scan::read_pdf(bytes, pages)
            .map_err(|e| e.unwrap_or(ExtractError::Scanned { pages, chars }));
    }
    Ok(Extracted {
        format: Format::Pdf,
        encoding: None,
        blocks: super::pdf_draw::blocks(rulings, words),
        ocr: None,
    })
}

/// The blocks of `pdftotext -tsv` output, without running it: for the fuzzer, which feeds
/// arbitrary TSV to the row reconstruction.
pub fn blocks_of_tsv(tsv: &str) -> Vec<Block> {
    lines(parse_tsv(tsv).0)
}

/// The words of `pdftotext -tsv` output.
pub(super) fn words_of_tsv(tsv: &str) -> Vec<Word> {
    parse_tsv(tsv).0
}

/// What a failed `pdftotext` means to the submitter.
fn error(e: RunError) -> ExtractError {
    match e {
        RunError::NotFound(_) => ExtractError::Unsupported {
            format: "PDF",
            hint: "本服务器未安装 PDF 读取组件（poppler-utils），请改交 .docx 版本，并告知审核办公室",
        },
        RunError::Timeout { secs, .. } => ExtractError::Hostile {
            detail: format!("PDF 在 {secs} 秒内未能读完"),
        },
        RunError::OutputTooLarge { limit, .. } => ExtractError::Hostile {
            detail: format!("PDF 文字层超过 {} MB", limit / 1024 / 1024),
        },
        RunError::Failed { stderr, status, .. } => {
            let lower = stderr.to_lowercase();
            if lower.contains("password")
                || lower.contains("encrypt")
                || lower.contains("permission")
                || status.contains("exit status: 3")
            {
                ExtractError::Encrypted
            } else {
                let first = stderr.lines().last().unwrap_or("").trim();
                ExtractError::Corrupt {
                    detail: if first.is_empty() {
                        "PDF 无法解析".to_string()
                    } else {
                        format!("PDF 无法解析：{first}")
                    },
                }
            }
        }
        RunError::Io { source, .. } => ExtractError::Corrupt {
            detail: format!("PDF 读取程序出错：{source}"),
        },
    }
}

/// One word of the text layer with its box, in points from the page's top left.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Word {
    pub(super) page: u32,
    pub(super) left: f64,
    pub(super) top: f64,
    pub(super) width: f64,
    pub(super) height: f64,
    pub(super) text: String,
}

/// The words of `pdftotext -tsv` output (level 5 rows) and the number of pages (level 1).
/// Rows that do not parse are skipped: the format is poppler's, not the submitter's.
fn parse_tsv(tsv: &str) -> (Vec<Word>, u32) {
    let mut words = Vec::new();
    let mut pages = 0;
    for line in tsv.lines().skip(1) {
        let f: Vec<&str> = line.splitn(12, '\t').collect();
        if f.len() < 12 {
            continue;
        }
        match f[0] {
            "1" => pages += 1,
            "5" => {
                let num = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite());
                let (Ok(page), Some(left), Some(top), Some(width), Some(height)) = (
                    f[1].parse::<u32>(),
                    num(f[6]),
                    num(f[7]),
                    num(f[8]),
                    num(f[9]),
                ) else {
                    continue;
                };
                let text = f[11].trim();
                if !text.is_empty() && height > 0.0 {
                    words.push(Word {
                        page,
                        left,
                        top,
                        width: width.max(0.0),
                        height,
                        text: text.to_string(),
                    });
                }
            }
            _ => {}
        }
    }
    (words, pages)
}

/// A run of words on one visual line with no wide gap: a cell, or a piece of one.
#[derive(Debug, Clone)]
struct Fragment {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    height: f64,
    text: String,
    /// A number or a not-filled mark: never part of a label, never merged.
    value: bool,
}

/// One visual line: its fragments left to right.
#[derive(Debug)]
struct Line {
    page: u32,
    top: f64,
    bottom: f64,
    fragments: Vec<Fragment>,
}

impl Line {
    fn has_values(&self) -> bool {
        self.fragments.iter().any(|f| f.value)
    }
}

fn is_value(text: &str) -> bool {
    text == "无"
        || text.chars().all(|c| {
            c.is_ascii_digit() || matches!(c, ',' | '.' | '-' | '/' | '—' | '－' | '／' | '%')
        })
}

/// Words grouped into visual lines (boxes overlapping vertically by half the smaller
/// height), page by page, top to bottom, and split into fragments at wide gaps.
fn visual_lines(mut words: Vec<Word>) -> Vec<Line> {
    words.sort_by(|a, b| a.page.cmp(&b.page).then(a.top.total_cmp(&b.top)));
    let mut lines: Vec<(u32, f64, f64, Vec<Word>)> = Vec::new();
    for w in words {
        let bottom = w.top + w.height;
        match lines.last_mut() {
            Some((page, top, bot, ws))
                if *page == w.page
                    && (bot.min(bottom) - top.max(w.top)) >= 0.5 * w.height.min(*bot - *top) =>
            {
                *top = top.min(w.top);
                *bot = bot.max(bottom);
                ws.push(w);
            }
            _ => lines.push((w.page, w.top, bottom, vec![w])),
        }
    }
    lines
        .into_iter()
        .map(|(page, top, bottom, mut ws)| {
            ws.sort_by(|a, b| a.left.total_cmp(&b.left));
            let mut fragments: Vec<Fragment> = Vec::new();
            for w in ws {
                let right = w.left + w.width;
                if let Some(f) = fragments.last_mut() {
                    let gap = w.left - f.right;
                    // A gap of most of a character is a cell border; less is kerning or
                    // the spacing of a justified label. A section heading after a space
                    // starts a piece of its own (a page's side column beside it).
                    let heading = gap > 0.15 * w.height.min(f.height)
                        && (super::is_section_heading(&w.text) || other_size(w.height, f.height));
                    if gap <= 0.6 * w.height.min(f.height) && !heading {
                        if gap > 0.15 * w.height.min(f.height) && !is_cjk_edge(&f.text, &w.text) {
                            f.text.push(' ');
                        }
                        f.text.push_str(&w.text);
                        f.right = f.right.max(right);
                        f.top = f.top.min(w.top);
                        f.bottom = f.bottom.max(w.top + w.height);
                        f.value = is_value(&f.text);
                        continue;
                    }
                }
                fragments.push(Fragment {
                    left: w.left,
                    right,
                    top: w.top,
                    bottom: w.top + w.height,
                    height: w.height,
                    value: is_value(&w.text),
                    text: w.text,
                });
            }
            Line {
                page,
                top,
                bottom,
                fragments,
            }
        })
        .collect()
}

/// One visual line's fragments as a text block, cells joined by tabs, placed by its top.
fn line_block(page: u32, top: f64, line: u32, fragments: Vec<Fragment>) -> (u32, f64, Block) {
    let text = fragments
        .into_iter()
        .map(|f| f.text)
        .collect::<Vec<_>>()
        .join("\t");
    (
        page,
        top,
        Block::Text {
            text,
            at: SourceRef::PageLine { page, line },
        },
    )
}

/// Text a third larger or smaller than its neighbour: another block of the page.
fn other_size(a: f64, b: f64) -> bool {
    a.max(b) >= 1.3 * a.min(b)
}

/// Chinese needs no space where a letter-spaced label is joined again.
pub(super) fn is_cjk_edge(a: &str, b: &str) -> bool {
    let cjk = |c: Option<char>| c.is_some_and(|c| !c.is_ascii());
    cjk(a.chars().last()) || cjk(b.chars().next())
}

/// Left-, centre- or right-aligned in the same column.
fn same_column(a: &Fragment, b: &Fragment) -> bool {
    (a.left - b.left).abs() <= 1.5
        || ((a.left + a.right) / 2.0 - (b.left + b.right) / 2.0).abs() <= 1.5
        || (a.right - b.right).abs() <= 1.5
}

/// Header cells of several lines: on a line of two or more text fragments and no values,
/// each fragment takes the fragments straight below it in its column, on lines without
/// values, while they follow closely (three line heights between lines of a header row,
/// one and a fifth to a line of its own).
fn stack_headers(lines: &mut [Line]) {
    let header = |l: &Line| l.fragments.len() >= 2 && !l.has_values();
    for li in 0..lines.len() {
        if !header(&lines[li]) {
            continue;
        }
        for fi in 0..lines[li].fragments.len() {
            let f = lines[li].fragments[fi].clone();
            let mut bottom = f.bottom;
            let mut joined = String::new();
            for down in li + 1..lines.len() {
                let ln = &lines[down];
                if ln.page != lines[li].page || ln.has_values() {
                    break;
                }
                let reach = if header(ln) { 3.0 } else { 1.2 } * f.height;
                if ln.top - bottom > reach {
                    if header(ln) || ln.top - bottom > 3.0 * f.height {
                        break;
                    }
                    continue;
                }
                let Some(gi) = ln.fragments.iter().position(|g| same_column(&f, g)) else {
                    continue;
                };
                // A section heading is never the rest of a header cell (a title that looks
                // like a header row beside a page's side column would swallow the page).
                if super::is_section_heading(&ln.fragments[gi].text) {
                    break;
                }
                let g = lines[down].fragments.remove(gi);
                bottom = g.bottom;
                joined.push_str(&g.text);
            }
            lines[li].fragments[fi].text.push_str(&joined);
            lines[li].fragments[fi].bottom = bottom;
        }
    }
}

/// Whether `line` holds text across or right of `column` that is not aligned with it: a
/// cell spanning the table (`第二十条第（五）项`), a header, another row's text. A label
/// ends there. Text left of the column (a group label such as `（六）其他处理`, written
/// down its own merged cell) does not end it.
fn blocks_column(line: &Line, column: Option<&Fragment>) -> bool {
    let Some(c) = column else {
        return false;
    };
    line.fragments
        .iter()
        .any(|f| !same_column(c, f) && f.right > c.left + 1.5)
}

/// Text that opens a row or a section (`四、…`, `（二）…`, `3.…`), never the rest of a label
/// cut by a page break.
fn starts_a_row(text: &str) -> bool {
    let mut chars = text.chars();
    let first = chars.next();
    let second = chars.next();
    super::is_section_heading(text)
        || matches!(first, Some('（' | '('))
        || (first.is_some_and(|c| c.is_ascii_digit()) && matches!(second, Some('.' | '、' | '．')))
}

/// Row labels that wrap. Below the label (or below a line of bare values), the pieces in
/// the label's column are taken while they follow within 1.2 line heights and carry no
/// values. Above it, pieces are taken only as many as below, and only from lines of their
/// own: a label centred beside its values has as many lines above the values as below,
/// while in a top-aligned table the line above belongs to the row before.
fn join_row_labels(lines: &mut [Line]) {
    for li in 0..lines.len() {
        if !lines[li].has_values() {
            continue;
        }
        let first_value = lines[li]
            .fragments
            .iter()
            .position(|f| f.value)
            .unwrap_or(0);
        let label = first_value
            .checked_sub(1)
            .map(|i| lines[li].fragments[i].clone());
        let values_left = lines[li].fragments[first_value].left;
        let page = lines[li].page;
        let h = lines[li].fragments[first_value]
            .height
            .min(label.as_ref().map_or(f64::MAX, |l| l.height));
        let mut bottom = label.as_ref().map_or(lines[li].bottom, |l| l.bottom);
        let mut column: Option<Fragment> = label.clone();
        let mut below: Vec<(usize, usize)> = Vec::new();
        let mut on_page = page;
        for down in li + 1..lines.len() {
            let ln = &lines[down];
            // A row cut by a page break goes on at the top of the next page.
            let next_page = ln.page == on_page + 1 && lines[down - 1].page == on_page;
            if next_page {
                on_page = ln.page;
            }
            if ln.page != on_page
                || (!next_page && ln.top - bottom > 1.2 * h)
                || ln.has_values()
                || blocks_column(ln, column.as_ref())
            {
                break;
            }
            let found = ln.fragments.iter().position(|f| {
                f.right <= values_left
                    && column.as_ref().is_none_or(|c| same_column(c, f))
                    && !(on_page != page && starts_a_row(&f.text))
            });
            if let Some(fi) = found {
                let f = &ln.fragments[fi];
                bottom = f.bottom;
                column.get_or_insert_with(|| f.clone());
                below.push((down, fi));
            }
        }
        let mut top = label.as_ref().map_or(lines[li].top, |l| l.top);
        let mut above: Vec<(usize, usize)> = Vec::new();
        for up in (0..li).rev() {
            if above.len() >= below.len() {
                break;
            }
            let ln = &lines[up];
            if ln.page != page || top - ln.bottom > 1.2 * h || ln.has_values() {
                break;
            }
            if blocks_column(ln, column.as_ref()) {
                break;
            }
            let found = ln.fragments.iter().position(|f| {
                f.right <= values_left && column.as_ref().is_none_or(|c| same_column(c, f))
            });
            match found {
                Some(fi) if ln.fragments.len() == 1 => {
                    top = ln.fragments[fi].top;
                    above.push((up, fi));
                }
                Some(_) => break,
                // Another column's piece (a group label) on a line of its own.
                None => continue,
            }
        }
        if above.len() != below.len() && label.is_none() {
            // Bare values with pieces on one side only: not a wrapped label.
            above.clear();
        }
        if below.is_empty() && above.is_empty() {
            continue;
        }
        above.reverse();
        let mut text = String::new();
        let take = |lines: &mut [Line], at: &[(usize, usize)], text: &mut String| {
            let mut pieces = Vec::new();
            for &(l, f) in at {
                pieces.push(std::mem::take(&mut lines[l].fragments[f].text));
            }
            for p in pieces {
                text.push_str(&p);
            }
        };
        take(lines, &above, &mut text);
        if let Some(l) = &label {
            text.push_str(&l.text);
        }
        take(lines, &below, &mut text);
        for line in lines.iter_mut() {
            line.fragments.retain(|f| !f.text.is_empty());
        }
        let line = &mut lines[li];
        match label {
            Some(_) => line.fragments[first_value - 1].text = text,
            None => {
                let left = column.as_ref().map_or(0.0, |c| c.left);
                line.fragments.insert(
                    0,
                    Fragment {
                        left,
                        right: left,
                        top,
                        bottom,
                        height: h,
                        text,
                        value: false,
                    },
                );
            }
        }
    }
}

/// Leaves out the glyphs of text drawn rotated (a group label written vertically in a merged
/// cell, `本年度办理结果`): pdftotext gives them as one-character words at one `left`, their
/// boxes overlapping (closer than a line of horizontal text ever is), so that they would tie together the visual lines of all the rows
/// they stand beside and glue pieces of those rows' labels together. They are a group label,
/// which carries no value and belongs to no row.
fn drop_rotated(words: Vec<Word>) -> Vec<Word> {
    let mut order: Vec<usize> = (0..words.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&words[a], &words[b]);
        a.page
            .cmp(&b.page)
            .then(a.left.total_cmp(&b.left))
            .then(a.top.total_cmp(&b.top))
    });
    let mut rotated = vec![false; words.len()];
    for pair in order.windows(2) {
        let (a, b) = (&words[pair[0]], &words[pair[1]]);
        let close = a.page == b.page
            && (a.left - b.left).abs() < 0.5
            && (b.top - a.top).abs() < 0.9 * a.height.min(b.height)
            && a.text.chars().count() == 1
            && b.text.chars().count() == 1;
        if close {
            rotated[pair[0]] = true;
            rotated[pair[1]] = true;
        }
    }
    words
        .into_iter()
        .zip(rotated)
        .filter(|(_, r)| !r)
        .map(|(w, _)| w)
        .collect()
}

/// Rows from positions. Two shapes of the template break a row over several visual lines:
///
/// - a row label that wraps inside its cell, with the row's values centred beside it, so
///   that pieces of the label sit above and below the values' line (or the values stand on
///   a line of their own between two pieces): the pieces stacked in the label's column
///   within about a line's height are joined to the values' line, in order;
/// - header cells of two or more lines (`结果` over `维持`), interleaved with their
///   neighbours on the same visual lines: on lines of several text fragments and no values,
///   a fragment is joined by the one straight below it in the same column (within three
///   line heights) on the next such line.
fn lines(words: Vec<Word>) -> Vec<Block> {
    positioned_lines(words)
        .into_iter()
        .map(|(_, _, b)| b)
        .collect()
}

/// [`lines`], each with its page and top, to be placed among the tables read by their grid.
pub(super) fn positioned_lines(words: Vec<Word>) -> Vec<(u32, f64, Block)> {
    let mut lines = visual_lines(drop_rotated(words));
    stack_headers(&mut lines);
    join_row_labels(&mut lines);
    let mut blocks = Vec::new();
    let mut line_no = 0;
    let mut page = 0;
    for line in lines {
        if line.page != page {
            page = line.page;
            line_no = 0;
        }
        line_no += 1;
        if line.fragments.is_empty() {
            continue;
        }
        // A section heading is a line of its own, whatever stands left of it, and so is
        // text in another size beside a line without values (a title beside a page's side
        // column): they are different blocks of the page that happen to share a line.
        let values = line.has_values();
        let mut fragments = line.fragments;
        while let Some(at) = (1..fragments.len()).find(|&i| {
            super::is_section_heading(&fragments[i].text)
                || (!values && other_size(fragments[i].height, fragments[i - 1].height))
        }) {
            let heading = fragments.split_off(at);
            blocks.push(line_block(page, line.top, line_no, fragments));
            fragments = heading;
        }
        blocks.push(line_block(page, line.top, line_no, fragments));
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tsv(rows: &[(u32, f64, f64, f64, &str)]) -> String {
        let mut s = String::from(
            "level\tpage_num\tpar_num\tblock_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n",
        );
        s.push_str("1\t1\t0\t0\t0\t0\t0\t0\t595\t842\t-1\t###PAGE###\n");
        for (page, left, top, width, text) in rows {
            s.push_str(&format!(
                "5\t{page}\t0\t0\t0\t0\t{left}\t{top}\t{width}\t10\t100\t{text}\n"
            ));
        }
        s
    }

    fn texts(blocks: &[Block]) -> Vec<String> {
        blocks
            .iter()
            .map(|b| match b {
                Block::Text { text, .. } => text.clone(),
                Block::Table { .. } => "<table>".into(),
            })
            .collect()
    }

    #[test]
    fn rows_are_rebuilt_from_positions_not_drawing_order() {
        // Drawn column by column, as WPS does; the middle number sits a little lower.
        let (words, pages) = parse_tsv(&tsv(&[
            (1, 50.0, 100.0, 60.0, "规章"),
            (1, 50.0, 120.0, 60.0, "行政规范性文件"),
            (1, 200.0, 100.0, 10.0, "1"),
            (1, 200.0, 121.0, 10.0, "8"),
            (1, 300.0, 100.0, 10.0, "0"),
            (1, 300.0, 120.0, 10.0, "26"),
        ]));
        assert_eq!(pages, 1);
        let b = lines(words);
        assert_eq!(texts(&b), ["规章\t1\t0", "行政规范性文件\t8\t26"]);
        assert_eq!(
            b.iter()
                .map(|b| match b {
                    Block::Text { at, .. } => at.describe(),
                    _ => String::new(),
                })
                .collect::<Vec<_>>(),
            ["第1页第1行", "第1页第2行"]
        );
    }

    #[test]
    fn single_characters_join_and_pages_restart_lines() {
        let (words, _) = parse_tsv(&tsv(&[
            (1, 50.0, 100.0, 10.0, "行"),
            (1, 62.0, 100.0, 10.0, "政"),
            (1, 74.0, 100.0, 10.0, "许"),
            (1, 86.0, 100.0, 10.0, "可"),
            (1, 200.0, 100.0, 10.0, "5"),
            (2, 50.0, 30.0, 10.0, "三、收到和处理政府信息公开申请情况"),
        ]));
        let b = lines(words);
        assert_eq!(
            texts(&b),
            ["行政许可\t5", "三、收到和处理政府信息公开申请情况"]
        );
        assert!(matches!(
            b[1],
            Block::Text {
                at: SourceRef::PageLine { page: 2, line: 1 },
                ..
            }
        ));
    }

    #[test]
    fn wrapped_labels_join_their_values_line() {
        // Centred (淮安): pieces above and below a line of bare values.
        let (words, _) = parse_tsv(&tsv(&[
            (
                1,
                100.0,
                100.0,
                150.0,
                "（二）部分公开（区分处理的，只计这一情",
            ),
            (1, 260.0, 106.0, 10.0, "447"),
            (1, 300.0, 106.0, 10.0, "7"),
            (1, 100.0, 112.0, 80.0, "形，不计其他情形）"),
            (1, 100.0, 130.0, 60.0, "1.属于国家秘密"),
            (1, 260.0, 130.0, 10.0, "2"),
        ]));
        assert_eq!(
            texts(&lines(words)),
            [
                "（二）部分公开（区分处理的，只计这一情形，不计其他情形）\t447\t7",
                "1.属于国家秘密\t2"
            ]
        );
        // Top-aligned (LibreOffice): the label goes on below its values, across a page
        // break; the header line above is left alone.
        let (words, _) = parse_tsv(&tsv(&[
            (1, 50.0, 88.0, 30.0, "信息内"),
            (1, 120.0, 88.0, 80.0, "本年处理决定数量"),
            (1, 50.0, 100.0, 30.0, "行政事"),
            (1, 160.0, 100.0, 10.0, "0"),
            (1, 50.0, 112.0, 30.0, "业性收"),
            (2, 60.0, 30.0, 10.0, "费"),
            (
                2,
                50.0,
                60.0,
                30.0,
                "四、政府信息公开行政复议、行政诉讼情况",
            ),
        ]));
        assert_eq!(
            texts(&lines(words)),
            [
                "信息内\t本年处理决定数量",
                "行政事业性收费\t0",
                "四、政府信息公开行政复议、行政诉讼情况"
            ]
        );
    }

    #[test]
    fn malformed_rows_are_skipped() {
        let (words, _) = parse_tsv("header\n5\tx\t0\n5\t1\t0\t0\t0\t0\tNaN\t1\t1\t1\t1\tx\n");
        assert!(words.is_empty());
    }

    #[test]
    fn failures_are_named_for_the_submitter() {
        let failed = |stderr: &str, code: &str| {
            error(RunError::Failed {
                program: "pdftotext".into(),
                status: format!("exit status: {code}"),
                stderr: stderr.into(),
            })
        };
        assert!(matches!(
            failed("Command Line Error: Incorrect password", "1"),
            ExtractError::Encrypted
        ));
        assert!(matches!(
            failed("Syntax Error: Couldn't find trailer dictionary", "1"),
            ExtractError::Corrupt { .. }
        ));
        assert!(matches!(
            error(RunError::NotFound("pdftotext".into())),
            ExtractError::Unsupported { .. }
        ));
    }
}
