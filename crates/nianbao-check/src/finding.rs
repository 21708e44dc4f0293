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

/// Declares [`RuleId`]: one variant per rule, with its stable id, in catalogue order.
macro_rules! rule_ids {
    ($($variant:ident => $id:literal,)+) => {
        /// The id of a rule of the catalogue. The catalogue ([`crate::rules::all`], `nianbao
        /// rules`, the README's rule table) is generated from [`RuleId::ALL`], in its order:
        /// a rule is added here, and [`crate::rules::rule`] says where it is declared.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RuleId {
            $($variant,)+
        }

        impl RuleId {
            /// Every rule id, in catalogue order (file, structure, tables, values, …).
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant,)+];

            /// The stable id, e.g. `sum.t2_balance`: what check-json.md, scripts and the store
            /// know the rule by. Never rename one.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(RuleId::$variant => $id,)+
                }
            }
        }
    };
}

rule_ids! {
    FileEmpty => "file.empty",
    FileTooLarge => "file.too_large",
    FileUnknownFormat => "file.unknown_format",
    FileUnsupportedFormat => "file.unsupported_format",
    FileCorrupt => "file.corrupt",
    FileHostile => "file.hostile",
    FileScanned => "file.scanned",
    FileEncrypted => "file.encrypted",
    FileInternalError => "file.internal_error",
    FileOcr => "file.ocr",
    ReadDoubtful => "read.doubtful",
    ReadSumDoubtful => "read.sum_doubtful",
    StructureNotAReport => "structure.not_a_report",
    StructurePre2019Template => "structure.pre2019_template",
    TemplateUnknown => "template.unknown",
    TemplateMixed => "template.mixed",
    TableMissing => "table.missing",
    TableRowMissing => "table.row_missing",
    TableRowValues => "table.row_values",
    TableRowUnrecognized => "table.row_unrecognized",
    TableRowDuplicate => "table.row_duplicate",
    LabelNonstandard => "label.nonstandard",
    CellNotFilled => "cell.not_filled",
    CellNotANumber => "cell.not_a_number",
    CellUnit => "cell.unit",
    StructureTitle => "structure.title",
    StructureTitleWording => "structure.title_wording",
    StructureSectionMissing => "structure.section_missing",
    StructureHeadingWording => "structure.heading_wording",
    PeriodMissing => "period.missing",
    PeriodMalformed => "period.malformed",
    PeriodYearMismatch => "period.year_mismatch",
    PeriodPartialYear => "period.partial_year",
    TemplateYear => "template.year",
    SeasonYear => "season.year",
    ValueNegative => "value.negative",
    ValueFeeDecimals => "value.fee_decimals",
    ValueRegulationsLevel => "value.regulations_level",
    SumT2RowTotal => "sum.t2_row_total",
    SumT2Outcomes => "sum.t2_outcomes",
    SumT2Balance => "sum.t2_balance",
    SumT3GroupTotal => "sum.t3_group_total",
    SumT1InForce => "sum.t1_in_force",
    NarrativeFigure => "narrative.figure",
    NarrativeProblemsEmpty => "narrative.problems_empty",
    NarrativeFeeMention => "narrative.fee_mention",
    NarrativeContradiction => "narrative.contradiction",
    HistoryCarryOver => "history.carry_over",
    HistoryInForce => "history.in_force",
    HistoryTablesIdentical => "history.tables_identical",
    HistoryJump => "history.jump",
    HistoryTextCopied => "history.text_copied",
    HistoryTextShared => "history.text_shared",
    NumberingPart => "numbering.part",
    NumberingItem => "numbering.item",
    NumberingItemAsPart => "numbering.item_as_part",
    WordingDoubled => "wording.doubled",
    WordingAsciiPunctuation => "wording.ascii_punctuation",
    WordingCutOff => "wording.cut_off",
}

impl RuleId {
    /// The rule ids in catalogue order.
    pub fn iter() -> impl Iterator<Item = RuleId> {
        RuleId::ALL.iter().copied()
    }
}

/// An id that names no rule of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no rule has the id {0:?}")]
pub struct UnknownRule(pub String);

impl std::str::FromStr for RuleId {
    type Err = UnknownRule;

    fn from_str(s: &str) -> Result<RuleId, UnknownRule> {
        RuleId::iter()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| UnknownRule(s.to_string()))
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so that widths (`{:<34}`) apply as to the string.
        f.pad(self.as_str())
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<str> for RuleId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<RuleId> for str {
    fn eq(&self, other: &RuleId) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<RuleId> for &str {
    fn eq(&self, other: &RuleId) -> bool {
        *self == other.as_str()
    }
}

/// An entry of the rule catalogue. Each check that can produce a finding has one, declared
/// as a `pub static` next to the code that checks it; [`crate::rules::all`] lists them in the
/// order of [`RuleId::ALL`].
#[derive(Debug)]
pub struct Rule {
    pub id: RuleId,
    pub severity: Severity,
    /// What the rule checks, one line in Chinese.
    pub what: &'static str,
    /// Why the rule exists: its basis in the template, the 条例 or practice.
    pub why: &'static str,
}

/// A row of the template as [`Location::row`] takes it: a row of the schema's own types
/// (`AppRow`, a table 1 `T1Row`), or its id of check-json.md (`carried_forward`).
pub trait RowKey {
    /// The row id of check-json.md.
    fn row_id(&self) -> &str;
}

/// A column of the template as [`Location::column`] takes it: a column of the schema's own
/// types (`AppColumn`, a table 1 `Column`), or its id of check-json.md (`total`).
pub trait ColumnKey {
    /// The column id of check-json.md.
    fn column_id(&self) -> &str;
}

impl RowKey for &str {
    fn row_id(&self) -> &str {
        self
    }
}

impl ColumnKey for &str {
    fn column_id(&self) -> &str {
        self
    }
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

    pub fn row(mut self, row: impl RowKey) -> Location {
        self.row = Some(row.row_id().to_string());
        self
    }

    pub fn column(mut self, column: impl ColumnKey) -> Location {
        self.column = Some(column.column_id().to_string());
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
        if rule.starts_with("read.") || rule == FILE_OCR.id.as_str() {
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
    id: RuleId::FileOcr,
    severity: Severity::Warning,
    what: "本报告由扫描件识别读取，数据以人工复核为准",
    why: "扫描件中的数字由文字识别（OCR）读出，可能读错：这类报告的答复一律由政务公开办人工复核后发出，不自动答复。",
};
pub static READ_DOUBTFUL: Rule = Rule {
    id: RuleId::ReadDoubtful,
    severity: Severity::Warning,
    what: "扫描件中某一格的数字识别存疑（读取存疑）",
    why: "识别置信度低或两次识别结果不一致的格，由人工核对原件；这不是提交单位的错误。",
};
pub static READ_SUM_DOUBTFUL: Rule = Rule {
    id: RuleId::ReadSumDoubtful,
    severity: Severity::Warning,
    what: "合计关系不符，但其中有识别存疑的格，可能是识别错误而非报告错误",
    why: "表内合计关系是识别结果的校验：不符而其中有存疑格时，先怀疑识别，不把识别的错误算在提交单位头上。",
};

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
            rule: rule.id.as_str(),
            severity: rule.severity,
            about: About::of_rule(rule.id.as_str()),
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
