//! Report (+ last year's report of the same agency) -> findings.
//!
//! One rule family per file; every rule is a `pub static Rule` beside the code that checks
//! it, and [`rules`] lists them for the catalogue. Rules never re-read the file: they work on
//! the model, and take file positions from [`Parsed::sources`] so that a clerk can find the
//! cell.

pub(crate) mod arithmetic;
pub mod culprit;
pub(crate) mod history;
pub(crate) mod narrative;
pub(crate) mod structure;
pub(crate) mod values;
pub(crate) mod wording;

#[cfg(test)]
mod tests;

/// The submission-year rule, whose finding the mail reads to tell a past year's report.
pub use arithmetic::{T1_IN_FORCE, T2_BALANCE, T2_OUTCOMES, T2_ROW_TOTAL, T3_GROUP_TOTAL};
pub use structure::{HEADING_WORDING, SEASON_YEAR, TITLE_WORDING};

use crate::extract::SourceRef;
use crate::finding::{ColumnKey, Finding, RowKey, Rule};
use crate::report::{Parsed, Report};

/// What validation needs besides the report itself.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The same agency's report for the year before, when it is known (the store has it, or
    /// `check --previous`).
    pub previous: Option<&'a Report>,
    /// The calendar year in which the report is filed: a report for year N is expected in
    /// year N+1.
    pub filing_year: i32,
    /// Other agencies' reports of the same year that share sentences with this one, from the
    /// daemon's index (`shared_text`); `None` where there is no store (`check`).
    pub same_year: Option<&'a crate::shared_text::SameYear>,
}

/// All findings of the validation stage for one parsed report.
pub fn validate(parsed: &Parsed, ctx: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let v = Validation { parsed, ctx };
    structure::check(&v, &mut findings);
    values::check(&v, &mut findings);
    arithmetic::check(&v, &mut findings);
    narrative::check(&v, &mut findings);
    history::check(&v, &mut findings);
    wording::check(&v, &mut findings);
    findings
}

/// The findings about the report's values alone, for a report whose values changed after
/// it was read (an officer's correction of a scan's cell, issue 25): the value, arithmetic,
/// narrative and cross-year families, which read only the typed model and `ctx`. The
/// structure and wording families read the file's outline and lines, which a changed value
/// does not touch; their findings are kept from the first check.
pub fn revalue(report: &Report, ctx: &Context<'_>) -> Vec<Finding> {
    let parsed = Parsed {
        report: report.clone(),
        findings: Vec::new(),
        sources: Default::default(),
        outline: Default::default(),
        lines: Vec::new(),
        placed: Vec::new(),
    };
    let v = Validation {
        parsed: &parsed,
        ctx,
    };
    let mut findings = Vec::new();
    values::check(&v, &mut findings);
    arithmetic::check(&v, &mut findings);
    narrative::check(&v, &mut findings);
    history::check(&v, &mut findings);
    let again = value_rules();
    findings.retain(|f| again.iter().any(|r| r.id == f.rule));
    findings
}

/// The rules whose findings [`revalue`] gives again: not `history.text_shared`, which
/// needs the daemon's index of the year's other reports and compares only narrative.
pub fn value_rules() -> Vec<&'static Rule> {
    let mut all = values::rules();
    all.extend(arithmetic::rules());
    all.extend(narrative::rules());
    all.extend(history::rules());
    all.retain(|r| r.id != history::TEXT_SHARED.id);
    all
}

/// The inputs every rule family reads.
pub(crate) struct Validation<'a> {
    parsed: &'a Parsed,
    ctx: &'a Context<'a>,
}

impl Validation<'_> {
    fn report(&self) -> &Report {
        &self.parsed.report
    }

    /// Where a table value came from in the file.
    fn at(&self, table: u8, row: impl RowKey, column: impl ColumnKey) -> Option<SourceRef> {
        self.parsed.source(table, row.row_id(), column.column_id())
    }
}

/// `（在第12行）` or empty: where to look, for messages.
fn where_(at: Option<SourceRef>) -> String {
    at.map(|a| format!("（{}）", a.describe()))
        .unwrap_or_default()
}
