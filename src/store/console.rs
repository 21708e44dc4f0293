//! What the web console reads beyond the listings (the `console` module): a submission's stored
//! report and findings, its messages with their delivery state, an agency's submissions.
//! Free functions on any connection: the console reads with its own.

use rusqlite::{Connection, OptionalExtension};

use super::Cached as _;
use super::{MessageKind, OutboxState, SUBMISSION_COLUMNS, Submission, submission};

/// The columns of a submission that the listings leave out.
#[derive(Debug, Clone, Default)]
pub struct SubmissionDetail {
    pub format: Option<String>,
    pub encoding: Option<String>,
    pub template: Option<String>,
    pub report_json: Option<String>,
    pub failure: Option<String>,
    pub checked_at: Option<String>,
}

pub fn submission_detail(conn: &Connection, id: i64) -> rusqlite::Result<Option<SubmissionDetail>> {
    conn.cached_row(
        "SELECT format, encoding, template, report_json, failure, checked_at
         FROM submissions WHERE id = ?1",
        [id],
        |r| {
            Ok(SubmissionDetail {
                format: r.get(0)?,
                encoding: r.get(1)?,
                template: r.get(2)?,
                report_json: r.get(3)?,
                failure: r.get(4)?,
                checked_at: r.get(5)?,
            })
        },
    )
    .optional()
}

/// A finding as stored (`findings` table).
#[derive(Debug, Clone)]
pub struct StoredFinding {
    pub rule: String,
    pub severity: String,
    pub section: Option<u8>,
    pub table: Option<u8>,
    pub row: Option<String>,
    pub column: Option<String>,
    pub line: Option<u32>,
    pub cell: Option<String>,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub message: String,
}

impl StoredFinding {
    /// The finding as the renderers take it (`rules`: `crate::rules::all()`; an unknown
    /// rule id reads `unknown`).
    pub fn into_finding(self, rules: &[&'static crate::finding::Rule]) -> crate::finding::Finding {
        use crate::finding::{Finding, Location, Severity};
        let rule = rules
            .iter()
            .find(|r| r.id == self.rule.as_str())
            .map_or("unknown", |r| r.id.as_str());
        Finding {
            rule,
            about: crate::finding::About::of_rule(rule),
            severity: if self.severity == "error" {
                Severity::Error
            } else {
                Severity::Warning
            },
            location: Location {
                section: self.section,
                table: self.table,
                row: self.row,
                column: self.column,
                page: None,
                line: self.line,
                cell: self.cell,
            },
            expected: self.expected,
            actual: self.actual,
            message: self.message,
        }
    }
}

/// The findings of a submission as the checker gave them (their rules from the catalogue),
/// in the order they were found.
pub fn findings(conn: &Connection, id: i64) -> rusqlite::Result<Vec<crate::finding::Finding>> {
    let rules = crate::rules::all();
    Ok(findings_of(conn, id)?
        .into_iter()
        .map(|f| f.into_finding(&rules))
        .collect())
}

/// The findings of a submission, in the order they were found.
pub fn findings_of(conn: &Connection, id: i64) -> rusqlite::Result<Vec<StoredFinding>> {
    let mut stmt = conn.prepare_cached(
        "SELECT rule, severity, section, tbl, row, col, line, cell, expected, actual, message
         FROM findings WHERE submission_id = ?1 ORDER BY seq",
    )?;
    stmt.query_map([id], |r| {
        Ok(StoredFinding {
            rule: r.get(0)?,
            severity: r.get(1)?,
            section: r.get(2)?,
            table: r.get(3)?,
            row: r.get(4)?,
            column: r.get(5)?,
            line: r.get(6)?,
            cell: r.get(7)?,
            expected: r.get(8)?,
            actual: r.get(9)?,
            message: r.get(10)?,
        })
    })?
    .collect()
}

/// One message about a submission and where it stands.
#[derive(Debug, Clone)]
pub struct MessageState {
    pub kind: MessageKind,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub state: OutboxState,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// Every message queued for a submission (resends included), oldest first.
pub fn messages_of_submission(conn: &Connection, id: i64) -> rusqlite::Result<Vec<MessageState>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, recipient, subject, body_text, state, attempts, last_error, created_at,
                sent_at
         FROM outbox WHERE submission_id = ?1 ORDER BY id",
    )?;
    stmt.query_map([id], |r| {
        Ok(MessageState {
            kind: r.get(0)?,
            recipient: r.get(1)?,
            subject: r.get(2)?,
            body_text: r.get(3)?,
            state: r.get(4)?,
            attempts: r.get(5)?,
            last_error: r.get(6)?,
            created_at: r.get(7)?,
            sent_at: r.get(8)?,
        })
    })?
    .collect()
}

/// Every submission of one agency folder, across years, newest first.
pub fn submissions_of_agency(conn: &Connection, folder: &str) -> rusqlite::Result<Vec<Submission>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE agency_folder = ?1 ORDER BY id DESC"
    ))?;
    stmt.query_map([folder], submission)?.collect()
}

/// A queued message as the console lists it.
#[derive(Debug, Clone)]
pub struct KindMessage {
    pub key: String,
    pub recipient: String,
    pub subject: String,
    pub state: OutboxState,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub last_error: Option<String>,
}

/// Every message of one kind (e.g. the reminders), newest first.
pub fn messages_of_kind(
    conn: &Connection,
    kind: MessageKind,
) -> rusqlite::Result<Vec<KindMessage>> {
    let mut stmt = conn.prepare_cached(
        "SELECT idempotency_key, recipient, subject, state, created_at, sent_at, last_error
         FROM outbox WHERE kind = ?1 ORDER BY id DESC",
    )?;
    stmt.query_map([kind], |r| {
        Ok(KindMessage {
            key: r.get(0)?,
            recipient: r.get(1)?,
            subject: r.get(2)?,
            state: r.get(3)?,
            created_at: r.get(4)?,
            sent_at: r.get(5)?,
            last_error: r.get(6)?,
        })
    })?
    .collect()
}
