//! The rule catalogue: every check that can produce a finding, with its id, severity, what it
//! checks and why. `nianbao rules` prints it and the README's rule table is generated from it,
//! so the two cannot drift.

/// The rules of a scan's reading are declared beside [`About`](crate::finding::About), which
/// tells them from the rules about the report.
pub use crate::finding::{FILE_OCR, OCR_RULES, READ_DOUBTFUL, READ_SUM_DOUBTFUL};
use crate::finding::{Rule, Severity};
use crate::report::{structure_rules, table_rules};

pub static FILE_EMPTY: Rule = Rule {
    id: "file.empty",
    severity: Severity::Error,
    what: "文件为空（0 字节）",
    why: "空文件通常是上传或复制中断的结果，需要重新提交。",
};
pub static FILE_TOO_LARGE: Rule = Rule {
    id: "file.too_large",
    severity: Severity::Error,
    what: "文件超过大小上限",
    why: "年度报告不超过几兆字节；过大的文件多半不是报告本身，读取它会拖慢所有单位的审核。",
};
pub static FILE_UNKNOWN_FORMAT: Rule = Rule {
    id: "file.unknown_format",
    severity: Severity::Error,
    what: "无法识别的文件格式（图片、压缩包、程序或乱码文本）",
    why: "只能审核文字版的报告；扫描件、图片和压缩包中的文字无法可靠读取。",
};
pub static FILE_UNSUPPORTED: Rule = Rule {
    id: "file.unsupported_format",
    severity: Severity::Error,
    what: "文件格式可以识别，但本服务器缺少读取它的组件（如未安装 LibreOffice 时的旧版 .doc/.wps）",
    why: "告诉提交单位改用哪种格式，而不是默默丢弃文件。",
};
pub static FILE_CORRUPT: Rule = Rule {
    id: "file.corrupt",
    severity: Severity::Error,
    what: "文件已损坏或不完整",
    why: "损坏的文件无法读取，多半是保存或上传中断，重新保存即可。",
};
pub static FILE_HOSTILE: Rule = Rule {
    id: "file.hostile",
    severity: Severity::Error,
    what: "文件结构异常（如解压后体积异常大），拒绝读取",
    why: "保护审核系统不被异常文件拖垮，同时告知提交单位重新保存。",
};

pub static FILE_SCANNED: Rule = Rule {
    id: "file.scanned",
    severity: Severity::Error,
    what: "PDF 没有文字层（扫描件或图片）",
    why: "扫描件中的数字只能靠识别猜测，审核不猜：需要由 Word/WPS 直接导出的 PDF 或文档原件。",
};
pub static FILE_ENCRYPTED: Rule = Rule {
    id: "file.encrypted",
    severity: Severity::Error,
    what: "PDF 已加密或禁止复制文字",
    why: "加密的文件无法读取其中的表格，请提交未加密的版本。",
};
pub static FILE_INTERNAL_ERROR: Rule = Rule {
    id: "file.internal_error",
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

/// Every rule, in catalogue order (file, structure, tables, values, …).
pub fn all() -> Vec<&'static Rule> {
    let mut rules: Vec<&'static Rule> = FILE_RULES.to_vec();
    rules.extend(OCR_RULES);
    rules.extend(structure_rules());
    rules.extend(table_rules());
    rules.extend(crate::validate::rules());
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_texts_present() {
        let rules = all();
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule id");
        for r in rules {
            assert!(r.id.contains('.'), "{}", r.id);
            assert!(!r.what.is_empty() && !r.why.is_empty(), "{}", r.id);
        }
    }
}
