//! Blocks -> the typed [`Report`].
//!
//! Reading is label-anchored: every layout is reduced to a sequence of tokens
//! ([`tokens`]), the six section headings split it ([`structure`]), and in each table the
//! template's row labels are found at the end of a run of words, with the row's values right
//! after ([`tables`]). A row whose values cannot be assigned to columns with certainty becomes
//! a finding and stays `None`: nianbao never guesses a number.

pub mod align;
pub mod cells;
pub mod model;
pub mod normalize;
pub mod schema;
pub mod structure;
pub(crate) mod tables;
pub mod tokens;

use std::collections::BTreeMap;

use crate::extract::{Extracted, SourceRef};
use crate::finding::Finding;

pub use model::*;

/// A table cell of the model: table 1–3, row id, column id.
pub type CellKey = (u8, &'static str, &'static str);

/// The result of reading one document.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub report: Report,
    /// Findings of the reading stage (labels, cells, rows, tables that could not be read).
    pub findings: Vec<Finding>,
    /// Where each value of the model came from in the file.
    pub sources: BTreeMap<CellKey, SourceRef>,
    /// Title and headings with their places in the file, for structure findings.
    pub outline: structure::Outline,
    /// The narrative's lines with their places, for the numbering and wording rules.
    pub lines: Vec<structure::TextLine>,
    /// A scan's rows read by their place, their labels misread (table, row id): their
    /// values are doubtful (see `align::align_placing`).
    pub placed: Vec<(u8, &'static str)>,
}

/// Which reader gave a table its values (`table_readers` in the JSON of `check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TableReader {
    /// 1, 2 or 3.
    pub table: u8,
    pub reader: Reader,
}

/// The ways a table is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reader {
    /// The cells of a real table: docx, html, xlsx and the formats converted to them.
    Cells,
    /// A table a PDF draws with borders, read by its drawn grid.
    Grid,
    /// A PDF table rebuilt from the positions of its words (no complete borders).
    TextGeometry,
    /// Lines of a text file, split at separators.
    Text,
    /// Values from more than one of the above (a table in several parts read differently).
    Mixed,
}

impl Reader {
    fn of(at: &SourceRef) -> Reader {
        match at {
            SourceRef::Cell { .. } | SourceRef::Sheet { .. } => Reader::Cells,
            SourceRef::PdfCell { .. } => Reader::Grid,
            SourceRef::PageLine { .. } => Reader::TextGeometry,
            SourceRef::Line(_) | SourceRef::Paragraph(_) => Reader::Text,
        }
    }
}

impl Parsed {
    /// Which reader read each table that gave values, tables in order.
    pub fn table_readers(&self) -> Vec<TableReader> {
        let mut out: Vec<TableReader> = Vec::new();
        for ((table, _, _), at) in &self.sources {
            let reader = Reader::of(at);
            match out.iter_mut().find(|t| t.table == *table) {
                Some(t) if t.reader != reader => t.reader = Reader::Mixed,
                Some(_) => {}
                None => out.push(TableReader {
                    table: *table,
                    reader,
                }),
            }
        }
        out.sort_by_key(|t| t.table);
        out
    }

    /// Where a table value came from, if it was read.
    pub fn source(&self, table: u8, row: &str, column: &str) -> Option<SourceRef> {
        self.sources
            .iter()
            .find(|((t, r, c), _)| *t == table && *r == row && *c == column)
            .map(|(_, at)| *at)
    }
}

/// Reads extracted blocks into a report.
pub fn parse(extracted: &Extracted) -> Parsed {
    thread_local! {
        /// The token buffer of this thread, reused from file to file (see
        /// [`tokens::tokenize_into`]).
        static TOKENS: std::cell::RefCell<Vec<tokens::Token>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    // Borrowed for this parse only; a parse within a parse (none today) gets its own.
    let mut tokens = TOKENS
        .with(|t| t.try_borrow_mut().map(|mut t| std::mem::take(&mut *t)))
        .unwrap_or_default();
    tokens::tokenize_into(&extracted.blocks, &mut tokens);
    let parsed = parse_tokens(extracted, &tokens);
    // Kept for the next file unless a huge one made it large: memory stays bounded.
    if tokens.capacity() <= MAX_KEPT_TOKENS {
        tokens.clear();
        TOKENS.with(|t| {
            if let Ok(mut t) = t.try_borrow_mut() {
                *t = tokens;
            }
        });
    }
    parsed
}

/// Token buffers larger than this are not kept for the next file.
const MAX_KEPT_TOKENS: usize = 1 << 16;

fn parse_tokens(extracted: &Extracted, tokens: &[tokens::Token]) -> Parsed {
    let mut findings = Vec::new();
    let mut sources = BTreeMap::new();
    let outline = structure::outline(&extracted.blocks);
    let mut report = Report {
        agency: outline.title.as_ref().and_then(|t| t.agency.clone()),
        year: outline.title.as_ref().and_then(|t| t.year),
        title: outline.title.as_ref().map(|t| t.text.clone()),
        ..Report::default()
    };

    // A scan's misread labels are read by their place (and their values doubted); a typed
    // label unlike the template's is the agency's to correct.
    let mut placed = Vec::new();
    let placing = extracted.ocr.is_some().then_some(&mut placed);
    let read = tables::read_tables(tokens, &outline, &mut findings, &mut sources, placing);
    report.template = read.template;
    report.active_disclosure = read.active_disclosure;
    report.applications = read.applications;
    report.reviews_and_litigation = read.reviews_and_litigation;
    report.sections = structure::sections(&extracted.blocks, &outline, &read.consumed_blocks);
    let lines = structure::text_lines(&extracted.blocks, &outline, &read.consumed_blocks);
    report.period = structure::period(&report.sections, &extracted.blocks, &outline);
    if report.year.is_none() {
        // A title without a year is reported by validation; the period still tells the year.
        report.year = report.period.as_ref().and_then(|p| {
            p.end
                .as_deref()
                .or(p.start.as_deref())
                .and_then(|d| d.get(..4))
                .and_then(|y| y.parse().ok())
                // `统计期限为2023年全年`, `2023年1月至12月`: no full date, the year still.
                .or_else(|| structure::year_in(&p.text))
        });
    }
    structure::check_readable(&report, &outline, tokens, &mut findings);
    Parsed {
        report,
        findings,
        sources,
        outline,
        lines,
        placed,
    }
}
