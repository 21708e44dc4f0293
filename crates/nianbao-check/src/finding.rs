//! Findings: what is wrong with a report, where, and what to do about it.
//!
//! One `Finding` type serves the clerk (the Chinese `message`) and machines (the JSON keys of
//! `docs/check-json.md`), so the two can never say different things.

use serde::Serialize;

/// `error` blocks acceptance; `warning` is reported but does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    /// As shown to clerks.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "错误",
            Severity::Warning => "提示",
        }
    }
}

/// An entry of the rule catalogue. Each check that can produce a finding has one, declared
/// as a `pub static` next to the code that checks it and listed by [`crate::rules::all`].
#[derive(Debug)]
pub struct Rule {
    /// Stable id, e.g. `sum.t2_balance`. Scripts and the store depend on it: never rename.
    pub id: &'static str,
    pub severity: Severity,
    /// What the rule checks, one line in Chinese.
    pub what: &'static str,
    /// Why the rule exists: its basis in the template, the 条例 or practice.
    pub why: &'static str,
}

/// Where a finding applies, as precisely as the rule allows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Template section 1–6 (一 to 六).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<u8>,
    /// Table 1–3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<u8>,
    /// Row id of check-json.md (`carried_forward`, `regulations`, `review`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    /// Column id (`natural_person`, `issued`, `total`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// 1-based page of a PDF (`line` is then the line on that page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// 1-based line in a text file, or on the PDF page `page`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Cell reference in a document with real tables (`T2R4C3`: 2nd table, row 4, column 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
}

impl Location {
    pub fn table(table: u8) -> Location {
        Location {
            section: Some(table + 1),
            table: Some(table),
            ..Location::default()
        }
    }

    pub fn section(section: u8) -> Location {
        Location {
            section: Some(section),
            ..Location::default()
        }
    }

    pub fn row(mut self, row: &str) -> Location {
        self.row = Some(row.to_string());
        self
    }

    pub fn column(mut self, column: &str) -> Location {
        self.column = Some(column.to_string());
        self
    }

    pub fn at(mut self, at: Option<crate::extract::SourceRef>) -> Location {
        if let Some(at) = at {
            self.page = at.page();
            self.line = at.line();
            self.cell = at.cell();
        }
        self
    }
}

/// Whom a finding is about: the agency's report, or nianbao's reading of it (a scan read
/// by OCR whose reading is unsure). A doubt of the reader must never read as the agency's
/// mistake, in the mail, the receipt or the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum About {
    Report,
    Reading,
}

impl About {
    /// Rules `read.*` and `file.ocr` are about the reading; every other rule the report.
    pub fn of_rule(rule: &str) -> About {
        if rule.starts_with("read.") || rule == FILE_OCR.id {
            About::Reading
        } else {
            About::Report
        }
    }

    /// As shown to people: `报告` or `识别`.
    pub fn label(self) -> &'static str {
        match self {
            About::Report => "报告内容",
            About::Reading => "扫描识别",
        }
    }
}

// The rules about nianbao's reading of a scan (`About::Reading`), rather than the report. They
// are part of the catalogue (`rules::all`, which re-exports them) but live here, below it:
// `About::of_rule` names `file.ocr`, and the catalogue is built on this module.

pub static FILE_OCR: Rule = Rule {
    id: "file.ocr",
    severity: Severity::Warning,
    what: "本报告由扫描件识别读取，数据以人工复核为准",
    why: "扫描件中的数字由文字识别（OCR）读出，可能读错：这类报告的答复一律由政务公开办人工复核后发出，不自动答复。",
};
pub static READ_DOUBTFUL: Rule = Rule {
    id: "read.doubtful",
    severity: Severity::Warning,
    what: "扫描件中某一格的数字识别存疑（读取存疑）",
    why: "识别置信度低或两次识别结果不一致的格，由人工核对原件；这不是提交单位的错误。",
};
pub static READ_SUM_DOUBTFUL: Rule = Rule {
    id: "read.sum_doubtful",
    severity: Severity::Warning,
    what: "合计关系不符，但其中有识别存疑的格，可能是识别错误而非报告错误",
    why: "表内合计关系是识别结果的校验：不符而其中有存疑格时，先怀疑识别，不把识别的错误算在提交单位头上。",
};

/// The rules of reports read from scans: about nianbao's reading, not the agency's report.
pub const OCR_RULES: [&Rule; 3] = [&FILE_OCR, &READ_DOUBTFUL, &READ_SUM_DOUBTFUL];

/// One finding about one report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// Whom the finding is about (`about` in the JSON of `check`).
    pub about: About,
    pub location: Location,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// What is wrong and how to fix it, in Chinese, naming the values.
    pub message: String,
}

impl Finding {
    pub fn new(rule: &'static Rule, location: Location, message: impl Into<String>) -> Finding {
        Finding {
            rule: rule.id,
            severity: rule.severity,
            about: About::of_rule(rule.id),
            location,
            expected: None,
            actual: None,
            message: message.into(),
        }
    }

    pub fn expected(mut self, expected: impl ToString) -> Finding {
        self.expected = Some(expected.to_string());
        self
    }

    pub fn actual(mut self, actual: impl ToString) -> Finding {
        self.actual = Some(actual.to_string());
        self
    }

    /// The same finding with another severity, for rules whose severity depends on the case
    /// (a missing year is an error, odd wording only a warning).
    pub fn severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }
}
