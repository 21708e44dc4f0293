//! The version a new submission supersedes, for its answer and to mark the old receipt file
//! (issue 24): a clerk who saves a fixed report under a new name must not find two receipts
//! side by side that both seem to stand.

use rusqlite::{Connection, OptionalExtension, params};

use super::Cached as _;

/// The standing version of an agency's report for a year, before the submission `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub id: i64,
    pub receipt: String,
    pub original_name: String,
}

/// The checked version of `agency_folder`'s report for `year` that submission `id` would
/// supersede: the latest earlier one not yet superseded.
pub fn standing_before(
    conn: &Connection,
    id: i64,
    agency_folder: &str,
    year: i32,
) -> rusqlite::Result<Option<Standing>> {
    conn.cached_row(
        "SELECT id, receipt, original_name FROM submissions
         WHERE agency_folder = ?1 AND year = ?2 AND +state = 'checked' AND id < ?3
           AND superseded_by IS NULL
         ORDER BY id DESC LIMIT 1",
        params![agency_folder, year, id],
        |r| {
            Ok(Standing {
                id: r.get(0)?,
                receipt: r.get(1)?,
                original_name: r.get(2)?,
            })
        },
    )
    .optional()
}

/// The text of the receipt file queued for `receipt` at `path` (relative to the inbox), by
/// its idempotency key (`<receipt>/receipt/<path>`): one lookup in the key's unique index,
/// whatever the outbox holds.
pub fn receipt_text(
    conn: &Connection,
    receipt: &str,
    path: &str,
) -> rusqlite::Result<Option<String>> {
    conn.cached_row(
        "SELECT body_text FROM outbox WHERE idempotency_key = ?1",
        [format!("{receipt}/{}/{path}", super::MessageKind::Receipt)],
        |r| r.get(0),
    )
    .optional()
}
