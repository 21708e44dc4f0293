//! Checking one file: extract, read, validate. The result is what `nianbao check --json`
//! prints (see `docs/check-json.md`) and what the daemon stores.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::extract::{self, Format};
use crate::finding::{Finding, Location, Severity};
use crate::report::{self, Parsed, Report, Template};
use crate::rules;
use crate::validate::{self, Context};

/// The outcome of checking one file. Its JSON form is a stable contract.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub file: String,
    pub format: Option<Format>,
    pub encoding: Option<&'static str>,
    pub sha256: String,
    pub template: Option<Template>,
    /// What could be read; `None` when the file could not be read at all.
    pub report: Option<Report>,
    pub findings: Vec<Finding>,
    /// The one cell per table whose correction would satisfy every failed sum, when there
    /// is exactly one (`validate::culprit`).
    pub likely_culprits: Vec<validate::culprit::Culprit>,
    /// Where each table value came from (for messages and the store). Serialized only as
    /// `table_readers`: which reader read each table (docs/check-json.md).
    #[serde(rename = "table_readers", serialize_with = "serialize_readers")]
    pub parsed: Option<Parsed>,
    /// For a scan read by OCR: its pages, and every number cell whose reading is unsure.
    /// Absent for files with a text layer (docs/check-json.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocr: Option<OcrSummary>,
}

/// What the JSON of `check` says about a scan's reading (`ocr`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OcrSummary {
    pub pages: u32,
    /// Number cells of the tables read by OCR.
    pub cells: usize,
    /// The cells whose reading is unsure, in table order.
    pub doubtful: Vec<Doubt>,
}

/// One number cell the reader is unsure of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Doubt {
    pub table: u8,
    pub row: &'static str,
    pub column: &'static str,
    /// What was read, and taken as the value.
    pub read: String,
    /// Tesseract's confidence, 0–100.
    pub confidence: f32,
    /// What the cell may hold instead: the other reading, or the value the table's sums ask
    /// for, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alternative: Option<String>,
}

impl CheckResult {
    /// A result drawn again from what the store kept of a checked file (its report and
    /// findings), for the console's pages and mail rendered later: the likely culprits are
    /// found again from the report, format and encoding are not kept.
    pub fn from_stored(
        file: String,
        sha256: String,
        report: Option<Report>,
        findings: Vec<Finding>,
    ) -> CheckResult {
        CheckResult {
            file,
            format: None,
            encoding: None,
            sha256,
            template: report.as_ref().and_then(|r| r.template),
            likely_culprits: report
                .as_ref()
                .map(validate::culprit::find)
                .unwrap_or_default(),
            report,
            findings,
            parsed: None,
            ocr: None,
        }
    }

    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count()
    }

    /// Accepted when no finding is an error.
    pub fn accepted(&self) -> bool {
        self.errors() == 0
    }

    /// The report, when the file is one at all: read, and neither refused as a file (format,
    /// damage, scan) nor found to be something other than an annual report.
    pub fn readable_report(&self) -> Option<&Report> {
        let refused = self.findings.iter().any(|f| {
            f.rule.starts_with("file.") || f.rule == crate::report::structure::NOT_A_REPORT.id
        });
        self.report.as_ref().filter(|_| !refused)
    }
}

fn serialize_readers<S: serde::Serializer>(
    parsed: &Option<Parsed>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let readers = parsed
        .as_ref()
        .map(Parsed::table_readers)
        .unwrap_or_default();
    s.collect_seq(readers)
}

/// Hex-encoded SHA-256 (sha2 0.11 digests have no `LowerHex`).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub use crate::clock::current_year;

/// Checks the bytes of one file named `name` (the name only breaks format ties), for the
/// current filing season and without last year's report.
pub fn check_bytes(bytes: &[u8], name: &str) -> CheckResult {
    check_bytes_with(
        bytes,
        name,
        &Context {
            previous: None,
            filing_year: current_year(),
            same_year: None,
        },
    )
}

/// Checks the bytes of one file with an explicit validation context.
pub fn check_bytes_with(bytes: &[u8], name: &str, ctx: &Context<'_>) -> CheckResult {
    let sha256 = sha256_hex(bytes);
    match extract::extract(bytes, name) {
        Err(e) => CheckResult {
            file: name.to_string(),
            format: extract::sniff(bytes, name).ok(),
            encoding: None,
            sha256,
            template: None,
            report: None,
            findings: vec![Finding::new(
                rules::file_rule(e.rule_id()),
                Location::default(),
                e.to_string(),
            )],
            likely_culprits: Vec::new(),
            parsed: None,
            ocr: None,
        },
        Ok(extracted) => {
            let parsed = report::parse(&extracted);
            let mut findings = findings_of(&parsed, ctx);
            let ocr = extracted
                .ocr
                .as_ref()
                .map(|reading| judge_reading(&parsed, reading, &mut findings));
            CheckResult {
                file: name.to_string(),
                format: Some(extracted.format),
                encoding: extracted.encoding,
                sha256,
                template: parsed.report.template,
                likely_culprits: validate::culprit::find(&parsed.report),
                report: Some(parsed.report.clone()),
                findings,
                parsed: Some(parsed),
                ocr,
            }
        }
    }
}

/// A scan's findings sorted out between the agency and the reader.
///
/// The tables' relations are the checksum of the reading. A relation that fails where no
/// cell is doubtful stays the agency's error, as in any report: the reader was sure of
/// every cell in it. A relation that fails through a doubtful cell becomes
/// `read.sum_doubtful`, a warning about the reading: the office checks the cell against the
/// scan before anything is said to the agency. Each doubtful cell gets `read.doubtful` with
/// what it may be instead, and the report as a whole `file.ocr`.
pub(crate) fn judge_reading(
    parsed: &report::Parsed,
    reading: &extract::OcrReading,
    findings: &mut Vec<Finding>,
) -> OcrSummary {
    let mut summary = OcrSummary {
        pages: reading.pages,
        ..OcrSummary::default()
    };
    for (&(table, row, column), at) in &parsed.sources {
        let Some(cell) = reading.cell(at) else {
            continue;
        };
        summary.cells += 1;
        // A row read by its place (its label misread): doubtful however sure the digits are.
        let placed = parsed.placed.contains(&(table, row));
        if cell.doubtful || placed {
            summary.doubtful.push(Doubt {
                table,
                row,
                column,
                read: cell.text.clone(),
                confidence: cell.confidence,
                alternative: cell.alternative.clone(),
            });
        }
    }
    let culprits = validate::culprit::find(&parsed.report);
    let touches = |f: &Finding, d: &Doubt| in_relation(f, d.table, d.row, d.column);
    for f in findings.iter_mut() {
        // On a scan, a cell that is no number or a row whose cells do not fit is first of
        // all a doubt about the reading: the officer looks at the page before the agency
        // hears of it.
        let read_shape = f.rule.starts_with("cell.") || f.rule.starts_with("table.");
        let doubted = f.severity == Severity::Error
            && f.rule.starts_with("sum.")
            && summary.doubtful.iter().any(|d| touches(f, d));
        // Characters misread (禁 as 茜, a full-width comma as a half-width one) look like
        // the agency's wording: on a scan they are the reader's doubt until the officer
        // has looked at the page.
        let by_characters = !read_shape
            && (f.rule.starts_with("label.")
                || f.rule.starts_with("wording.")
                || f.rule.starts_with("numbering.")
                || f.rule == validate::TITLE_WORDING.id
                || f.rule == validate::HEADING_WORDING.id);
        if by_characters {
            f.severity = Severity::Warning;
            f.about = crate::finding::About::Reading;
            f.message = format!("可能是识别误差，请对照扫描件核对：{}", f.message);
        }
        if read_shape {
            f.rule = rules::READ_DOUBTFUL.id.as_str();
            f.severity = Severity::Warning;
            f.about = crate::finding::About::Reading;
            f.message = format!("读取存疑，请对照扫描件核对：{}", f.message);
        }
        if doubted {
            blame_reading(f);
        }
    }
    for d in &mut summary.doubtful {
        let solved = culprits
            .iter()
            .find(|c| c.is(d.table, d.row, d.column))
            .map(|c| c.expected.to_string());
        if let Some(s) = solved
            && s != d.read
        {
            d.alternative = Some(s);
        }
        let name = report::schema::cell_printed(d.table, d.row, d.column);
        let read = if d.read.is_empty() {
            "空白".to_string()
        } else {
            d.read.clone()
        };
        let maybe = d
            .alternative
            .as_ref()
            .map(|a| format!("，可能为 {a}"))
            .unwrap_or_default();
        let why = if parsed.placed.contains(&(d.table, d.row)) {
            "该行的行名称识别不清，按表格中的位置读作此行".to_string()
        } else {
            format!("识别置信度 {:.0}", d.confidence)
        };
        findings.push(
            Finding::new(
                &rules::READ_DOUBTFUL,
                Location::table(d.table).row(d.row).column(d.column),
                format!("读取存疑：{name}格识别为 {read}{maybe}（{why}），请对照扫描件核对。"),
            )
            .actual(read),
        );
    }
    findings.push(Finding::new(
        &rules::FILE_OCR,
        Location::default(),
        format!(
            "本报告由扫描件识别读取（{} 页），数据以人工复核为准。",
            reading.pages
        ),
    ));
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    summary
}

/// Whether cell (`table`, `row`, `column`) is one of the cells of the relation that the sum
/// finding `f` says fails: a row's total (table 2), a column's outcomes against its
/// （七）总计, a column's balance (一 + 二 = 三 + 四), a group of table 3, a row of table 1.
/// A doubtful cell elsewhere in the same row or column does not make the agency's error a
/// doubt about the reading. For another finding: any cell of its row or column.
fn in_relation(f: &Finding, table: u8, row: &str, column: &str) -> bool {
    if f.location.table != Some(table) {
        return false;
    }
    let same_row = f.location.row.as_deref() == Some(row);
    let same_column = f.location.column.as_deref() == Some(column);
    use crate::report::AppRow::{CarriedForward, CarriedOver, NewReceived, TotalHandled};
    let is = |rows: &[crate::report::AppRow]| rows.iter().any(|r| r.id() == row);
    let rule = f.rule;
    if rule == validate::T2_ROW_TOTAL.id
        || rule == validate::T3_GROUP_TOTAL.id
        || rule == validate::T1_IN_FORCE.id
    {
        same_row
    } else if rule == validate::T2_OUTCOMES.id {
        // The outcome rows and their total: not what came in, nor what is carried forward.
        same_column && !is(&[NewReceived, CarriedOver, CarriedForward])
    } else if rule == validate::T2_BALANCE.id {
        same_column && is(&[NewReceived, CarriedOver, TotalHandled, CarriedForward])
    } else {
        same_row || same_column
    }
}

/// A relation that fails through a doubtful cell: the reader's doubt, not the agency's
/// error (`read.sum_doubtful`).
fn blame_reading(f: &mut Finding) {
    f.rule = rules::READ_SUM_DOUBTFUL.id.as_str();
    f.severity = rules::READ_SUM_DOUBTFUL.severity;
    f.about = crate::finding::About::Reading;
    f.message = format!("读取存疑，可能是识别错误而非报告错误：{}", f.message);
}

/// The findings of a scan's report after the officer corrected cells of its reading (issue
/// 25), from the findings stored at the first check: what depends on the values is found
/// again on the corrected report (`validate::revalue`), what depends only on the file
/// (structure, wording, the reading stage, `file.ocr`) is kept. A corrected cell is no
/// longer doubtful; the other doubtful cells still make a failed relation through them the
/// reader's doubt, not the agency's error, as at the first check.
pub fn findings_after_correction(
    report: &Report,
    stored: Vec<Finding>,
    corrected: &[(u8, String, String)],
    ctx: &Context<'_>,
) -> Vec<Finding> {
    let again = validate::value_rules();
    let at = |f: &Finding, (t, r, c): &(u8, String, String)| {
        f.location.table == Some(*t)
            && f.location.row.as_deref() == Some(r.as_str())
            && f.location.column.as_deref() == Some(c.as_str())
    };
    let mut findings: Vec<Finding> = stored
        .into_iter()
        .filter(|f| {
            !again.iter().any(|r| r.id == f.rule)
                && f.rule != rules::READ_SUM_DOUBTFUL.id
                && !(f.rule == rules::READ_DOUBTFUL.id && corrected.iter().any(|c| at(f, c)))
        })
        .collect();
    let doubts: Vec<(u8, String, String)> = findings
        .iter()
        .filter(|f| f.rule == rules::READ_DOUBTFUL.id)
        .filter_map(|f| {
            Some((
                f.location.table?,
                f.location.row.clone()?,
                f.location.column.clone()?,
            ))
        })
        .collect();
    for mut f in validate::revalue(report, ctx) {
        let touches = doubts.iter().any(|(t, r, c)| in_relation(&f, *t, r, c));
        if f.severity == Severity::Error && f.rule.starts_with("sum.") && touches {
            blame_reading(&mut f);
        }
        findings.push(f);
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}

/// Validates an already read file again in another context (last year's report, found
/// once the year was read), without extracting again: for a PDF or .doc that would mean a
/// second pdftotext or LibreOffice run.
pub fn revalidate(mut result: CheckResult, ctx: &Context<'_>) -> CheckResult {
    if let Some(parsed) = &result.parsed {
        result.findings = findings_of(parsed, ctx);
    }
    result
}

fn findings_of(parsed: &report::Parsed, ctx: &Context<'_>) -> Vec<Finding> {
    let mut findings = parsed.findings.clone();
    findings.extend(validate::validate(parsed, ctx));
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
