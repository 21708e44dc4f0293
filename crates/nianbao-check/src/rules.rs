//! The rule catalogue: every check that can produce a finding, with its id, severity, what it
//! checks and why. `nianbao rules` prints it and the README's rule table is generated from it,
//! so the two cannot drift.

/// The rules of a scan's reading are declared beside [`About`](crate::finding::About), which
/// tells them from the rules about the report.
pub use crate::finding::{FILE_OCR, READ_DOUBTFUL, READ_SUM_DOUBTFUL};
use crate::finding::{Rule, RuleId, Severity};

pub static FILE_EMPTY: Rule = Rule {
    id: RuleId::FileEmpty,
    severity: Severity::Error,
    what: "文件为空（0 字节）",
    why: "空文件通常是上传或复制中断的结果，需要重新提交。",
};
pub static FILE_TOO_LARGE: Rule = Rule {
    id: RuleId::FileTooLarge,
    severity: Severity::Error,
    what: "文件超过大小上限",
    why: "年度报告不超过几兆字节；过大的文件多半不是报告本身，读取它会拖慢所有单位的审核。",
};
pub static FILE_UNKNOWN_FORMAT: Rule = Rule {
    id: RuleId::FileUnknownFormat,
    severity: Severity::Error,
    what: "无法识别的文件格式（图片、压缩包、程序或乱码文本）",
    why: "只能审核文字版的报告；扫描件、图片和压缩包中的文字无法可靠读取。",
};
pub static FILE_UNSUPPORTED: Rule = Rule {
    id: RuleId::FileUnsupportedFormat,
    severity: Severity::Error,
    what: "文件格式可以识别，但本服务器缺少读取它的组件（如未安装 LibreOffice 时的旧版 .doc/.wps）",
    why: "告诉提交单位改用哪种格式，而不是默默丢弃文件。",
};
pub static FILE_CORRUPT: Rule = Rule {
    id: RuleId::FileCorrupt,
    severity: Severity::Error,
    what: "文件已损坏或不完整",
    why: "损坏的文件无法读取，多半是保存或上传中断，重新保存即可。",
};
pub static FILE_HOSTILE: Rule = Rule {
    id: RuleId::FileHostile,
    severity: Severity::Error,
    what: "文件结构异常（如解压后体积异常大），拒绝读取",
    why: "保护审核系统不被异常文件拖垮，同时告知提交单位重新保存。",
};

pub static FILE_SCANNED: Rule = Rule {
    id: RuleId::FileScanned,
    severity: Severity::Error,
    what: "PDF 没有文字层（扫描件或图片）",
    why: "扫描件中的数字只能靠识别猜测，审核不猜：需要由 Word/WPS 直接导出的 PDF 或文档原件。",
};
pub static FILE_ENCRYPTED: Rule = Rule {
    id: RuleId::FileEncrypted,
    severity: Severity::Error,
    what: "PDF 已加密或禁止复制文字",
    why: "加密的文件无法读取其中的表格，请提交未加密的版本。",
};
pub static FILE_INTERNAL_ERROR: Rule = Rule {
    id: RuleId::FileInternalError,
    severity: Severity::Error,
    what: "审核程序读取本文件时发生内部错误（不是文件本身的问题）",
    why: "程序的错误不应由提交单位承担：文件已存档，政务公开办会人工查看并另行答复，暂时无需重新提交。",
};

/// The rules of files that cannot be read at all.
const FILE_RULES: [&Rule; 9] = [
    &FILE_EMPTY,
    &FILE_TOO_LARGE,
    &FILE_UNKNOWN_FORMAT,
    &FILE_UNSUPPORTED,
    &FILE_CORRUPT,
    &FILE_HOSTILE,
    &FILE_SCANNED,
    &FILE_ENCRYPTED,
    &FILE_INTERNAL_ERROR,
];

/// The rule of a file-level error, by id.
pub fn file_rule(id: &str) -> &'static Rule {
    FILE_RULES
        .into_iter()
        .find(|r| r.id == id)
        .unwrap_or(&FILE_CORRUPT)
}

/// The rule of `id`: where each rule of [`RuleId::ALL`] is declared.
pub fn rule(id: RuleId) -> &'static Rule {
    match id {
        RuleId::FileEmpty => &FILE_EMPTY,
        RuleId::FileTooLarge => &FILE_TOO_LARGE,
        RuleId::FileUnknownFormat => &FILE_UNKNOWN_FORMAT,
        RuleId::FileUnsupportedFormat => &FILE_UNSUPPORTED,
        RuleId::FileCorrupt => &FILE_CORRUPT,
        RuleId::FileHostile => &FILE_HOSTILE,
        RuleId::FileScanned => &FILE_SCANNED,
        RuleId::FileEncrypted => &FILE_ENCRYPTED,
        RuleId::FileInternalError => &FILE_INTERNAL_ERROR,
        RuleId::FileOcr => &crate::finding::FILE_OCR,
        RuleId::ReadDoubtful => &crate::finding::READ_DOUBTFUL,
        RuleId::ReadSumDoubtful => &crate::finding::READ_SUM_DOUBTFUL,
        RuleId::StructureNotAReport => &crate::report::structure::NOT_A_REPORT,
        RuleId::StructurePre2019Template => &crate::report::structure::PRE_2019,
        RuleId::TemplateUnknown => &crate::report::tables::TEMPLATE_UNKNOWN,
        RuleId::TemplateMixed => &crate::report::tables::TEMPLATE_MIXED,
        RuleId::TableMissing => &crate::report::tables::TABLE_MISSING,
        RuleId::TableRowMissing => &crate::report::tables::ROW_MISSING,
        RuleId::TableRowValues => &crate::report::tables::ROW_UNASSIGNABLE,
        RuleId::TableRowUnrecognized => &crate::report::tables::ROW_UNRECOGNIZED,
        RuleId::TableRowDuplicate => &crate::report::tables::ROW_DUPLICATE,
        RuleId::LabelNonstandard => &crate::report::tables::LABEL_NONSTANDARD,
        RuleId::CellNotFilled => &crate::report::tables::CELL_NOT_FILLED,
        RuleId::CellNotANumber => &crate::report::tables::CELL_NOT_A_NUMBER,
        RuleId::CellUnit => &crate::report::tables::CELL_UNIT,
        RuleId::StructureTitle => &crate::validate::structure::TITLE_YEAR,
        RuleId::StructureTitleWording => &crate::validate::structure::TITLE_WORDING,
        RuleId::StructureSectionMissing => &crate::validate::structure::SECTION_MISSING,
        RuleId::StructureHeadingWording => &crate::validate::structure::HEADING_WORDING,
        RuleId::PeriodMissing => &crate::validate::structure::PERIOD_MISSING,
        RuleId::PeriodMalformed => &crate::validate::structure::PERIOD_MALFORMED,
        RuleId::PeriodYearMismatch => &crate::validate::structure::PERIOD_YEAR,
        RuleId::PeriodPartialYear => &crate::validate::structure::PERIOD_PARTIAL,
        RuleId::TemplateYear => &crate::validate::structure::TEMPLATE_YEAR,
        RuleId::SeasonYear => &crate::validate::structure::SEASON_YEAR,
        RuleId::ValueNegative => &crate::validate::values::NEGATIVE,
        RuleId::ValueFeeDecimals => &crate::validate::values::FEE_FORMAT,
        RuleId::ValueRegulationsLevel => &crate::validate::values::REGULATIONS_LEVEL,
        RuleId::SumT2RowTotal => &crate::validate::arithmetic::T2_ROW_TOTAL,
        RuleId::SumT2Outcomes => &crate::validate::arithmetic::T2_OUTCOMES,
        RuleId::SumT2Balance => &crate::validate::arithmetic::T2_BALANCE,
        RuleId::SumT3GroupTotal => &crate::validate::arithmetic::T3_GROUP_TOTAL,
        RuleId::SumT1InForce => &crate::validate::arithmetic::T1_IN_FORCE,
        RuleId::NarrativeFigure => &crate::validate::narrative::FIGURE,
        RuleId::NarrativeProblemsEmpty => &crate::validate::narrative::PROBLEMS_EMPTY,
        RuleId::NarrativeFeeMention => &crate::validate::narrative::FEE_MENTION,
        RuleId::NarrativeContradiction => &crate::validate::narrative::CONTRADICTION,
        RuleId::HistoryCarryOver => &crate::validate::history::CARRY_OVER,
        RuleId::HistoryInForce => &crate::validate::history::IN_FORCE,
        RuleId::HistoryTablesIdentical => &crate::validate::history::TABLES_IDENTICAL,
        RuleId::HistoryJump => &crate::validate::history::JUMP,
        RuleId::HistoryTextCopied => &crate::validate::history::TEXT_COPIED,
        RuleId::HistoryTextShared => &crate::validate::history::TEXT_SHARED,
        RuleId::NumberingPart => &crate::validate::wording::PART_NUMBERING,
        RuleId::NumberingItem => &crate::validate::wording::ITEM_NUMBERING,
        RuleId::NumberingItemAsPart => &crate::validate::wording::ITEM_AS_PART,
        RuleId::WordingDoubled => &crate::validate::wording::DOUBLED,
        RuleId::WordingAsciiPunctuation => &crate::validate::wording::ASCII_PUNCTUATION,
        RuleId::WordingCutOff => &crate::validate::wording::CUT_OFF,
    }
}

/// Every rule, in catalogue order (file, structure, tables, values, …): that of
/// [`RuleId::ALL`].
pub fn all() -> Vec<&'static Rule> {
    RuleId::iter().map(rule).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_id_names_its_own_rule() {
        for &id in RuleId::ALL {
            assert_eq!(rule(id).id, id, "{id}");
            assert_eq!(id.as_str().parse::<RuleId>(), Ok(id));
            assert_eq!(serde_json::to_value(id).unwrap(), id.as_str());
        }
        assert!("no.such_rule".parse::<RuleId>().is_err());
    }

    #[test]
    fn ids_are_unique_and_texts_present() {
        let rules = all();
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule id");
        for r in rules {
            assert!(r.id.as_str().contains('.'), "{}", r.id);
            assert!(!r.what.is_empty() && !r.why.is_empty(), "{}", r.id);
        }
    }
}
