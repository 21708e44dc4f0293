//! One renderer for every channel (mail, receipt file): subject and plain text.

use crate::check::CheckResult;
use crate::store::Verdict;

/// What happened to a submission, as the message must tell it.
pub enum Outcome<'a> {
    /// Read and checked.
    Checked(&'a CheckResult),
    /// The same bytes were submitted before under `first_receipt`.
    Duplicate {
        first_receipt: &'a str,
        verdict: Option<Verdict>,
    },
    /// Larger than the configured limit: archived, not read.
    TooLarge { size: u64, limit: u64 },
    /// Larger than the configured limit when it was found: not received at all (no
    /// receipt, not archived), left in its folder.
    TooLargeLeft { size: u64, limit: u64 },
}

/// Subject and body of the message about one submission.
pub fn render(
    receipt: &str,
    agency: Option<&str>,
    file_name: &str,
    outcome: &Outcome<'_>,
) -> (String, String) {
    render_with(receipt, agency, file_name, outcome, None)
}

/// A report of another year than the season's, accepted for its own year: `(its year, the
/// season's year)`, read from the finding `season.year` (a warning for a past year).
pub fn other_year(result: &CheckResult) -> Option<(i32, i32)> {
    let f = result.findings.iter().find(|f| {
        f.rule == crate::validate::SEASON_YEAR.id && f.severity == crate::finding::Severity::Warning
    })?;
    Some((
        f.actual.as_deref()?.parse().ok()?,
        f.expected.as_deref()?.parse().ok()?,
    ))
}

/// The verdict line and the next step of an accepted report of a past year: kept under its
/// own year, and the season's report is still missing (issue 24: never "无需再做任何事").
pub fn other_year_lines(year: i32, season: i32) -> (String, String) {
    (
        format!(
            "审核结果：作为 {year} 年度的报告已受理、存档，但它不是本次应报送的 {season} 年度报告。"
        ),
        format!(
            "下一步：本次应报送的 {season} 年度政府信息公开工作年度报告尚未收到，贵单位目前仍计为未报送。\
             请将 {season} 年度的报告（标题写明“{season}年”，统计期限为{season}年1月1日至12月31日）放入原文件夹，系统会自动审核并回复。\
             如这份 {year} 年度的报告是误传，不必另行处理。"
        ),
    )
}

/// [`render`] with a note after the receipt line, e.g. the version this one supersedes.
pub fn render_with(
    receipt: &str,
    agency: Option<&str>,
    file_name: &str,
    outcome: &Outcome<'_>,
    note: Option<&str>,
) -> (String, String) {
    // Over 80 lines on purpose: the plain-text mail in the order the agency reads it;
    // `html::render_with` mirrors it part for part, which a split would hide.
    let agency_shown = agency.unwrap_or("（未登记单位）");
    let file_name = clean(file_name);
    let mut body = String::new();
    let subject;
    match outcome {
        Outcome::Checked(result) => {
            let year = result
                .report
                .as_ref()
                .and_then(|r| r.year)
                .map_or(String::new(), |y| format!("{y}年度"));
            let accepted = result.accepted();
            let other = other_year(result).filter(|_| accepted);
            subject = format!(
                "{} {agency_shown} {year}政府信息公开工作年度报告 {file_name}",
                match (accepted, other) {
                    (true, None) => "【已受理】".to_string(),
                    (true, Some((_, season))) =>
                        format!("【非本期报告，{season}年度报告仍未报送】"),
                    (false, _) => "【需修改】".to_string(),
                }
            );
            body.push_str(&format!("{agency_shown}：\n\n"));
            body.push_str(&format!(
                "您单位提交的《{file_name}》已收到，回执编号 {receipt}。\n\n"
            ));
            if let Some(note) = note {
                body.push_str(&format!("{note}\n\n"));
            }
            let (errors, warnings) = (result.errors(), result.warnings());
            let listing = super::items::listing(&result.findings, lead_items(result));
            let (errors_told, warnings_told) = super::items::counts(&listing, errors, warnings);
            if let Some((year, season)) = other {
                body.push_str(&format!("{}\n", other_year_lines(year, season).0));
            } else if accepted {
                body.push_str(&format!(
                    "审核结果：已受理。未发现错误{}。\n",
                    if warnings > 0 {
                        format!("，有 {warnings_told}供参考（不影响受理）")
                    } else {
                        String::new()
                    }
                ));
            } else {
                body.push_str(&format!(
                    "审核结果：需修改。发现 {errors_told}{}，请修改后重新提交。\n",
                    if warnings > 0 {
                        format!("、{warnings_told}")
                    } else {
                        String::new()
                    }
                ));
            }
            body.push_str(&super::items::render_text(&listing));
            match other {
                Some((year, season)) => {
                    body.push_str(&format!("\n{}\n", other_year_lines(year, season).1));
                }
                None => body.push_str(if accepted {
                    "\n下一步：无需再做任何事。如需更正，直接提交新版本即可，新版本将替代旧版本。\n"
                } else {
                    "\n下一步：请按以上各条修改后，将修改后的报告重新放入原文件夹，系统会自动重新审核并回复。\n"
                }),
            }
        }
        Outcome::Duplicate {
            first_receipt,
            verdict,
        } => {
            subject = format!("【重复提交】{agency_shown} {file_name}");
            body.push_str(&format!("{agency_shown}：\n\n"));
            body.push_str(&format!(
                "您单位提交的《{file_name}》与此前提交的文件（回执编号 {first_receipt}）内容完全相同，\
                 已记录为重复提交（回执编号 {receipt}），未重新审核。\n此前的审核结果：{}。\n",
                match *verdict {
                    Some(Verdict::Accepted) => "已受理",
                    Some(Verdict::Rejected) => "需修改（请按此前的回复修改后再提交）",
                    None => "见此前的回复",
                }
            ));
        }
        Outcome::TooLarge { size, limit } => {
            subject = format!("【需修改】{agency_shown} {file_name} 文件过大");
            body.push_str(&format!("{agency_shown}：\n\n"));
            body.push_str(&format!(
                "您单位提交的《{file_name}》已收到（回执编号 {receipt}），但文件有 {size} 字节，\
                 超过 {limit} 字节的上限，未审核。请确认提交的是年度报告本身（不含图片、附件），\
                 另存为 .docx 或 .txt 后重新提交。\n"
            ));
        }
        Outcome::TooLargeLeft { size, limit } => {
            subject = format!("【未接收】{agency_shown} {file_name} 文件过大");
            body.push_str(&format!("{agency_shown}：\n\n"));
            body.push_str(&format!(
                "您单位放入的《{file_name}》有 {size} 字节，超过 {limit} 字节的上限，\
                 未接收、未审核，也没有回执编号；文件仍在原文件夹中。请删除该文件，\
                 确认提交的是年度报告本身（不含图片、附件），另存为 .docx 或 .txt 后重新提交。\n"
            ));
        }
    }
    body.push_str("\n（本邮件由年度报告审核系统自动发送，请勿直接回复。）\n");
    (clean(&subject), body)
}

/// What comes before the grouped findings: the likely culprit, when one cell explains every
/// failed sum.
pub fn lead_items(result: &CheckResult) -> Vec<super::items::Item> {
    result
        .likely_culprits
        .iter()
        .map(|c| super::items::Item {
            severity: crate::finding::Severity::Error,
            text: c.message(),
            findings: Vec::new(),
            culprit: true,
        })
        .collect()
}

pub use crate::escape::clean;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_reach_a_header() {
        let (subject, _) = render(
            "NB-2026-000001",
            Some("某局"),
            "a\r\nBcc: evil@example.com.txt",
            &Outcome::TooLarge { size: 10, limit: 5 },
        );
        assert!(!subject.contains(['\r', '\n']), "{subject}");
    }
}
