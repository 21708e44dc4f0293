//! The HTML part of a feedback, rendered when the message is sent rather than when it is
//! queued (issue 17): the outbox row holds only what the renderer needs beside the
//! submission's stored report (`report_json`) and findings (`findings`), see
//! [`crate::store::HtmlFrom`]. The page is the same, byte for byte, as the one rendered from
//! the check result at the time (the test below compares them); rows queued before keep
//! their `body_html`.

use anyhow::Context as _;
use rusqlite::{Connection, OptionalExtension};

use crate::check::CheckResult;
use crate::report::Report;
use crate::store::{Cached as _, HtmlFrom, Pending, findings_of};

/// What the renderer reads from the store: the receipt, the report as stored, the findings.
pub struct Stored {
    receipt: String,
    report_json: String,
    findings: Vec<crate::store::StoredFinding>,
    /// The findings an officer marked not applicable, with the reasons (issue 26): the HTML
    /// part says them as the text part does.
    reviewed: Option<String>,
}

/// Reads what the HTML part of submission `id` is made from (quick: under the store's lock).
pub fn load(conn: &Connection, id: i64) -> anyhow::Result<Stored> {
    let row: Option<(String, Option<String>)> = conn
        .cached_row(
            "SELECT receipt, report_json FROM submissions WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((receipt, Some(report_json))) = row else {
        anyhow::bail!("submission {id} has no stored report (没有已存储的报告)");
    };
    // Findings an officer marked not applicable are not shown (issue 26).
    let dropped = crate::store::review::not_applicable_seqs(conn, id)?;
    let mut told = String::new();
    let mut findings = Vec::new();
    for (seq, f) in findings_of(conn, id)?.into_iter().enumerate() {
        match dropped
            .iter()
            .find(|(d, _)| usize::try_from(*d).ok() == Some(seq))
        {
            Some((_, reason)) => {
                told.push_str(&format!("\n· {}（复核理由：{}）", f.message, reason.trim()));
            }
            None => findings.push(f),
        }
    }
    let reviewed = (!told.is_empty()).then(|| {
        format!("人工复核：经政务公开办人工复核，以下审核意见不适用，已从本意见中删除：{told}")
    });
    Ok(Stored {
        receipt,
        report_json,
        findings,
        reviewed,
    })
}

/// Renders the HTML part from what [`load`] read (no lock needed).
pub fn render(stored: Stored, from: &HtmlFrom, subject: &str) -> anyhow::Result<String> {
    let report: Report = serde_json::from_str(&stored.report_json).with_context(|| {
        format!(
            "the stored report of {} cannot be read back",
            stored.receipt
        )
    })?;
    let rules = crate::rules::all();
    let findings = stored
        .findings
        .into_iter()
        .map(|f| f.into_finding(&rules))
        .collect();
    let result = CheckResult::from_stored(from.file.clone(), String::new(), Some(report), findings);
    let note = match (from.note.as_deref(), stored.reviewed.as_deref()) {
        (Some(a), Some(b)) => Some(format!("{a}\n{b}")),
        (a, b) => a.or(b).map(str::to_string),
    };
    Ok(super::html::render_with(
        &stored.receipt,
        from.agency.as_deref(),
        &from.file,
        &result,
        subject,
        note.as_deref(),
    ))
}

/// The HTML part of the feedback of submission `id`, from what the store holds.
pub fn render_stored(
    conn: &Connection,
    id: i64,
    from: &HtmlFrom,
    subject: &str,
) -> anyhow::Result<String> {
    render(load(conn, id)?, from, subject)
}

/// Whether the message's HTML part is still to be rendered: `(submission id, what)`.
pub fn to_render(m: &Pending) -> Option<(i64, &HtmlFrom)> {
    match (&m.body_html, &m.html_from, m.submission_id) {
        (None, Some(from), Some(id)) => Some((id, from)),
        _ => None,
    }
}

/// Sets the HTML part, or warns that the message goes as plain text.
pub fn set(m: &mut Pending, html: anyhow::Result<String>) {
    match html {
        Ok(html) => m.body_html = Some(html),
        Err(e) => tracing::warn!(
            key = %m.key,
            error = %format!("{e:#}"),
            "cannot render the HTML part; sent as plain text (无法生成 HTML 部分，只发纯文本)"
        ),
    }
}

/// Fills in the HTML part of each message that is to be rendered now. One that cannot be
/// rendered (its report unreadable) goes as plain text, with a warning: the text part says
/// everything the HTML shows.
pub fn fill(conn: &Connection, messages: &mut [Pending]) {
    for m in messages.iter_mut() {
        let html = match to_render(m) {
            Some((id, from)) => render_stored(conn, id, from, &m.subject),
            None => continue,
        };
        set(m, html);
    }
}
