//! Officer review (人工复核): which readings are uncertain enough to hold the feedback for
//! an admin (`[review] hold`), and the Chinese messages the agency gets while its feedback
//! is held and when an admin decides. The history is `store::review`; the console's forms
//! are `console::review`.
//!
//! An uncertain reading (`hold = "uncertain"`), by the checker's own findings:
//! - the file could not be read at all (no report: any `file.*` finding: unknown format,
//!   corrupt, scanned, encrypted, too large, a checker bug, ...);
//! - a table row that could not be matched to the template with confidence:
//!   `table.row_unrecognized` (a row with numbers whose label fits no template row, or two
//!   equally: the alignment refuses to guess), `table.row_values` (its numbers cannot be
//!   assigned to columns);
//! - the template itself unclear: `template.unknown`, `template.mixed`.
//!
//! Findings about the numbers themselves (sums, cross-year rules) are certain readings: the
//! checker read the table and the arithmetic fails; they are not held under `uncertain`.

use crate::check::CheckResult;
use crate::config::{Config, HoldMode};
use crate::mail::render::clean;
use crate::store::review::Action;
pub use crate::store::review::Released;
use crate::store::{MessageKind, OutboxMessage, Verdict};

/// The findings that mark a reading as uncertain (see the module's documentation).
pub const UNCERTAIN_RULES: [&str; 4] = [
    "table.row_unrecognized",
    "table.row_values",
    "template.unknown",
    "template.mixed",
];

/// Why a new submission's feedback is held for review under `mode` (`None`: it is not).
///
/// A report read from a scan (`file.ocr`) is held whatever `mode` says: its numbers are
/// OCR's, and nianbao never answers on a guess (issue 25).
pub fn hold_reason(mode: HoldMode, result: &CheckResult) -> Option<String> {
    if result
        .findings
        .iter()
        .any(|f| f.rule == crate::rules::FILE_OCR.id)
    {
        return Some("扫描件由文字识别（OCR）读取，须人工复核后答复".into());
    }
    match mode {
        HoldMode::Off => None,
        HoldMode::All => Some("所有新提交均须人工复核（[review] hold = \"all\"）".into()),
        HoldMode::Uncertain => {
            let mut rules: Vec<&str> = Vec::new();
            for f in &result.findings {
                if (result.report.is_none() || UNCERTAIN_RULES.contains(&f.rule))
                    && !rules.contains(&f.rule)
                {
                    rules.push(f.rule);
                }
            }
            if result.report.is_none() {
                Some(format!("文件无法读取（{}）", rules.join("、")))
            } else if rules.is_empty() {
                None
            } else {
                Some(format!("读取结果不确定（{}）", rules.join("、")))
            }
        }
    }
}

/// Who hears of a decision about a submission of `folder`: the agency's addresses, or the
/// admin when it has none (as for the feedback).
pub fn recipients(config: &Config, folder: Option<&str>) -> Vec<String> {
    let agency: Vec<String> = folder
        .map(|f| config.agency_or_folder(f).email)
        .unwrap_or_default();
    if agency.is_empty() {
        config.mail.admin.iter().cloned().collect()
    } else {
        agency
    }
}

/// One message of `kind` to each recipient.
pub fn to_each(
    kind: MessageKind,
    recipients: &[String],
    subject: &str,
    body: &str,
) -> Vec<OutboxMessage> {
    recipients
        .iter()
        .map(|to| OutboxMessage {
            kind,
            recipient: to.clone(),
            subject: subject.to_string(),
            body_text: body.to_string(),
            body_html: None,
            html_from: None,
        })
        .collect()
}

const FOOTER: &str = "\n（本邮件由年度报告审核系统发送，请勿直接回复。）\n";

/// "已收到，正在审核": subject and body of the answer while the feedback is held.
pub fn received(receipt: &str, agency: Option<&str>, file_name: &str) -> (String, String) {
    let agency = agency.unwrap_or("（未登记单位）");
    let file_name = clean(file_name);
    let subject = format!("【已收到，正在审核】{agency} {file_name}");
    let body = format!(
        "{agency}：\n\n您单位提交的《{file_name}》已收到，回执编号 {receipt}。\n\n\
         已收到，正在审核：审核意见将在政务公开办人工复核后发出，暂时无需重新提交。\n{FOOTER}"
    );
    (clean(&subject), body)
}

/// A decision as the agency is told it.
pub struct DecisionMail<'a> {
    pub receipt: &'a str,
    pub agency: Option<&'a str>,
    pub file_name: &'a str,
    pub action: Action,
    pub reason: &'a str,
    /// The finding marked not applicable (its message).
    pub finding: Option<&'a str>,
    /// The verdict in force after the decision.
    pub verdict: Option<Verdict>,
}

/// Subject and body of a decision's message; `None` for a decision the agency is not
/// told of by itself (a release sends the held feedback; a resend repeats messages).
pub fn decision(d: &DecisionMail<'_>) -> Option<(String, String)> {
    let agency = d.agency.unwrap_or("（未登记单位）");
    let file_name = clean(d.file_name);
    let receipt = d.receipt;
    let reason = d.reason.trim();
    let (tag, text) = match d.action {
        Action::Accept => (
            "人工复核：予以受理",
            format!(
                "经政务公开办人工复核，您单位提交的《{file_name}》（回执编号 {receipt}）予以受理。\n\
                 复核理由：{reason}\n\n自动审核意见中的问题不影响受理；如需更正，直接提交新版本即可。\n"
            ),
        ),
        Action::Return => (
            "人工复核：退回修改",
            format!(
                "经政务公开办人工复核，您单位提交的《{file_name}》（回执编号 {receipt}）需退回修改。\n\
                 复核理由：{reason}\n\n请按以上理由修改后，将报告重新放入原文件夹，系统会自动重新审核并回复。\n"
            ),
        ),
        Action::NotApplicable => (
            "人工复核：审核意见调整",
            format!(
                "经政务公开办人工复核，您单位提交的《{file_name}》（回执编号 {receipt}）的以下审核意见不适用：\n  {}\n\
                 复核理由：{reason}\n\n目前的审核结果：{}。\n",
                d.finding.unwrap_or("（该条意见）"),
                match d.verdict {
                    Some(Verdict::Accepted) => "已受理",
                    _ => "需修改（其余审核意见仍须修改）",
                }
            ),
        ),
        Action::Hold | Action::Release | Action::Resend | Action::Assign | Action::Correct => {
            return None;
        }
    };
    let subject = format!("【{tag}】{agency} {file_name}");
    Some((clean(&subject), format!("{agency}：\n\n{text}{FOOTER}")))
}

/// Whether `decisions` mark a finding not applicable (a release after them redraws the
/// held feedback with [`redraw`]).
pub fn marks_any(decisions: &[crate::store::review::Review]) -> bool {
    decisions
        .iter()
        .any(|r| r.action == Action::NotApplicable && r.finding_seq.is_some())
}

/// Whether `decisions` correct cells of a scan's reading (the release redraws the feedback
/// from the corrected report, and says what was corrected).
pub fn corrects_any(decisions: &[crate::store::review::Review]) -> bool {
    decisions.iter().any(|r| r.action == Action::Correct)
}

/// The feedback of submission `id` drawn again from its stored report and findings, for
/// `agency`, without the findings marked not applicable in `decisions` (said with their
/// reasons when there are any).
pub fn redraw(
    conn: &rusqlite::Connection,
    id: i64,
    receipt: &str,
    agency: Option<&str>,
    file_name: &str,
    decisions: &[crate::store::review::Review],
) -> anyhow::Result<Released> {
    use crate::store::review::Review;
    let marked: Vec<&Review> = decisions
        .iter()
        .filter(|r| r.action == Action::NotApplicable && r.finding_seq.is_some())
        .collect();
    let report = match crate::store::review::stored_report_json(conn, id)? {
        Some(json) => Some(serde_json::from_str::<crate::report::Report>(&json)?),
        None => None,
    };
    let rules = crate::rules::all();
    let stored = crate::store::findings_of(conn, id)?;
    let mut told =
        String::from("人工复核：经政务公开办人工复核，以下审核意见不适用，已从本意见中删除：\n");
    let mut findings = Vec::new();
    for (seq, f) in stored.into_iter().enumerate() {
        match marked
            .iter()
            .find(|r| r.finding_seq.and_then(|s| usize::try_from(s).ok()) == Some(seq))
        {
            Some(r) => told.push_str(&format!(
                "  · {}\n    复核理由：{}\n",
                f.message,
                r.reason.trim()
            )),
            None => findings.push(f.into_finding(&rules)),
        }
    }
    let result = CheckResult::from_stored(file_name.to_string(), String::new(), report, findings);
    let (subject, mut body) = crate::mail::render(
        receipt,
        agency,
        file_name,
        &crate::mail::Outcome::Checked(&result),
    );
    // Before the next step, or before the footer.
    let at = body
        .find("\n下一步：")
        .or_else(|| body.find("\n（本邮件"))
        .unwrap_or(body.len());
    if !marked.is_empty() {
        body.insert_str(at, &format!("\n{told}"));
    }
    // Corrections first: they come before the findings marked not applicable in the text.
    let corrections: String = decisions
        .iter()
        .filter(|r| r.action == Action::Correct)
        .map(|r| format!("  · {}\n", r.reason.trim()))
        .collect();
    if !corrections.is_empty() {
        body.insert_str(
            at,
            &format!(
                "\n人工复核：经政务公开办对照扫描件人工核对，以下识别结果已更正，本意见按更正后的数据审核：\n{corrections}"
            ),
        );
    }
    let receipt_body = format!("{body}{}", crate::mail::items::appendix(&result.findings));
    Ok(Released {
        subject,
        body,
        receipt_body,
        accepted: result.accepted(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Location};

    fn result_with(id: &str, report: bool) -> CheckResult {
        let rule = crate::rules::all()
            .into_iter()
            .find(|r| r.id == id)
            .expect("rule");
        let mut r = crate::check::check_bytes(b"", "x.txt");
        if report {
            r.report = Some(crate::report::Report::default());
        }
        r.findings = vec![Finding::new(rule, Location::default(), "x")];
        r
    }

    #[test]
    fn uncertain_readings_are_held_certain_ones_not() {
        let unreadable = result_with("file.corrupt", false);
        let hold = hold_reason(HoldMode::Uncertain, &unreadable).expect("held");
        assert!(hold.contains("file.corrupt"), "{hold}");
        let row = result_with("table.row_unrecognized", true);
        assert!(hold_reason(HoldMode::Uncertain, &row).is_some());
        let sum = result_with("cell.not_filled", true);
        assert_eq!(hold_reason(HoldMode::Uncertain, &sum), None);
        assert!(hold_reason(HoldMode::All, &sum).is_some());
        assert_eq!(hold_reason(HoldMode::Off, &unreadable), None);
    }

    #[test]
    fn a_decision_carries_its_reason_and_a_release_no_message() {
        let mut d = DecisionMail {
            receipt: "NB-2026-000001",
            agency: Some("某局"),
            file_name: "年报.docx",
            action: Action::Accept,
            reason: "表三合计经电话核实无误",
            finding: None,
            verdict: Some(Verdict::Accepted),
        };
        let (subject, body) = decision(&d).expect("a message");
        assert!(subject.starts_with("【人工复核：予以受理】"), "{subject}");
        assert!(body.contains("表三合计经电话核实无误") && body.contains("NB-2026-000001"));
        d.action = Action::Release;
        assert!(decision(&d).is_none());
    }
}
