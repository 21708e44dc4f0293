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
        let refused = self
            .findings
            .iter()
            .any(|f| f.rule.starts_with("file.") || f.rule == "structure.not_a_report");
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

pub use crate::time::current_year;

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
        },
        Ok(extracted) => {
            let parsed = report::parse(&extracted);
            let findings = findings_of(&parsed, ctx);
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
            }
        }
    }
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
