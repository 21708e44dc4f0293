//! SQLite: submissions, every table cell of every report, findings, the mail outbox
//! (`outbox`).
//!
//! One connection per process writes (the ingest thread); readers (`status`, `export`) open
//! their own. WAL mode lets them read while it writes. A report's cells are stored one row
//! per table (`cell_tables`) and its findings as one JSON array (`finding_lists`); the views
//! `cells` and `findings` show them a row each, so that the export and the cross-year rules
//! query values by name.

mod batch;
mod console;
mod history;
mod kinds;
mod outbox;
mod paths;
pub mod review;
mod schema;
mod users;
pub mod versions;
#[cfg(test)]
mod versions_tests;

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::check::CheckResult;
use crate::report::Report;
pub use crate::report::cells::{CellValue, report_cells};

pub use batch::Batch;
pub use console::{
    KindMessage, MessageState, StoredFinding, SubmissionDetail, findings, findings_of,
    messages_of_kind, messages_of_submission, submission_detail, submissions_of_agency,
};
pub use history::{HistoryEntry, NewHistory};
pub use kinds::{MessageKind, OutboxState, SubmissionState, Verdict};
pub use outbox::{HtmlFrom, OutboxMessage, OutboxRow, Pending, outbox_gauges, stuck_message};
use outbox::{insert_message, queue};
pub use paths::Paths;
pub use rusqlite::Error as SqlError;
pub use users::{StoredUser, agency_regions, count_users, put_user, remove_user, user, users};

pub mod lock;

/// How many prepared statements a connection keeps: every statement of the store fits,
/// so the ones run for every file are never evicted by a rare one.
const STATEMENT_CACHE: usize = 128;

/// `query_row` and `execute` through the connection's statement cache. The store's
/// statements run for every file: preparing one cost more than running it (6 % of the
/// daemon's CPU in a burst, BENCHMARKS.md), and rusqlite's own `query_row` and `execute`
/// prepare anew on every call.
pub(crate) trait Cached {
    fn cached_row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>;

    fn cached_execute<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
}

impl Cached for Connection {
    fn cached_row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    fn cached_execute<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
}

/// The database's file name under `data_dir`.
pub const DB_FILE: &str = "nianbao.sqlite";

/// A database handle.
pub struct Store {
    conn: Connection,
}

/// A stored cell: (table, row id, column id, integer value, decimal amount).
pub type StoredCell = (i64, String, String, Option<i64>, Option<String>);

/// A checked report of a year with its agency (`Store::reports_of_year`).
#[derive(Debug, Clone)]
pub struct YearReport {
    pub folder: String,
    /// The agency's name as recorded with the submission.
    pub agency_name: Option<String>,
    pub receipt: String,
    pub report: Report,
}

/// What the store knows of one submission.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Submission {
    pub id: i64,
    pub receipt: String,
    pub agency_folder: Option<String>,
    pub agency_name: Option<String>,
    pub original_name: String,
    pub size: i64,
    pub sha256: String,
    pub received_at: String,
    pub state: SubmissionState,
    pub duplicate_of: Option<i64>,
    pub year: Option<i64>,
    pub verdict: Option<Verdict>,
    pub errors: Option<i64>,
    pub warnings: Option<i64>,
    pub superseded_by: Option<i64>,
    /// `verdict` is an officer's (人工复核), not the checker's (see `review`).
    pub reviewed: bool,
    /// Who owned the inbox file; `None` for submissions recorded before it was kept.
    pub owner: Option<Owner>,
    /// When `[retention]` removed the archived original (UTC); `None`: it is kept.
    pub archive_removed_at: Option<String>,
}

/// The owner of a dropped file: on a Samba share, the agency's account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Owner {
    pub uid: u32,
    /// The user name the system knew for `uid` when the file was taken.
    pub name: Option<String>,
}

impl Owner {
    /// The owner of a file of `uid`, named as the system's user database names it now.
    pub fn of_uid(uid: u32) -> Owner {
        Owner {
            uid,
            name: user_name(uid),
        }
    }

    /// As the console shows it: `张三（用户编号 1001）`, or `用户编号 1001` without a name.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{name}（用户编号 {}）", self.uid),
            None => format!("用户编号 {}", self.uid),
        }
    }
}

/// The user name of `uid` (NSS: `/etc/passwd`, or the domain through winbind on a Samba
/// server), remembered per uid for the daemon's life: a burst does not ask once per file.
fn user_name(uid: u32) -> Option<String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashMap<u32, Option<String>>>> = OnceLock::new();
    let names = NAMES.get_or_init(Mutex::default);
    if let Some(known) = names.lock().unwrap_or_else(|e| e.into_inner()).get(&uid) {
        return known.clone();
    }
    let name = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name);
    names
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(uid, name.clone());
    name
}

/// A newly archived file, before it is read.
#[derive(Debug, Clone)]
pub struct NewSubmission<'a> {
    pub agency_folder: Option<&'a str>,
    pub agency_name: Option<&'a str>,
    pub original_name: &'a str,
    pub size: u64,
    pub sha256: &'a str,
    /// Device, inode, mtime and size of the inbox file: recognises the same drop seen again
    /// after a crash between recording it and removing it from the inbox.
    pub source_identity: &'a str,
    pub received_at: &'a str,
    /// The inbox file's owner (`None`: not known, e.g. history imported by hand).
    pub owner: Option<Owner>,
}

/// The last column is the verdict of the latest review that overruled the checker's, if
/// any: the verdict read everywhere is the effective one.
const SUBMISSION_COLUMNS: &str = "id, receipt, agency_folder, agency_name, original_name, size, \
     sha256, received_at, state, duplicate_of, year, verdict, errors, warnings, superseded_by, \
     (SELECT r.verdict FROM reviews r WHERE r.submission_id = submissions.id \
      AND r.verdict IS NOT NULL ORDER BY r.id DESC LIMIT 1), owner_uid, owner_name, \
     archive_removed_at";

fn submission(row: &rusqlite::Row<'_>) -> rusqlite::Result<Submission> {
    let reviewed: Option<Verdict> = row.get(15)?;
    Ok(Submission {
        id: row.get(0)?,
        receipt: row.get(1)?,
        agency_folder: row.get(2)?,
        agency_name: row.get(3)?,
        original_name: row.get(4)?,
        size: row.get(5)?,
        sha256: row.get(6)?,
        received_at: row.get(7)?,
        state: row.get(8)?,
        duplicate_of: row.get(9)?,
        year: row.get(10)?,
        verdict: reviewed.or(row.get(11)?),
        errors: row.get(12)?,
        warnings: row.get(13)?,
        superseded_by: row.get(14)?,
        reviewed: reviewed.is_some(),
        owner: row.get::<_, Option<u32>>(16)?.map(|uid| Owner {
            uid,
            name: row.get(17).ok().flatten(),
        }),
        archive_removed_at: row.get(18)?,
    })
}

/// The mode of the database, its WAL and shared-memory files, and backups: the daemon's
/// user reads and writes, its group (admins running `status`) reads, nobody else.
pub const PRIVATE_MODE: u32 = 0o640;

/// Creates `path` empty with [`PRIVATE_MODE`] when it is not there, and takes group write
/// and every access of others away from it (and from its `-wal` and `-shm` files, made by an
/// older version with the umask's mode) when it is.
fn private_file(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    // Already there (EEXIST) is the usual case; any other failure is SQLite's to report.
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_MODE)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path);
    let mut names = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        names.push(name.into());
    }
    for name in names {
        let Ok(meta) = std::fs::symlink_metadata(&name) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_file() && mode & !PRIVATE_MODE != 0 {
            std::fs::set_permissions(&name, std::fs::Permissions::from_mode(mode & PRIVATE_MODE))
                .with_context(|| format!("chmod {}", name.display()))?;
        }
    }
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date. The file
    /// is created 0640 whatever the umask (it holds the password hashes and every report),
    /// and SQLite gives its WAL and shared-memory files the database's mode.
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        private_file(path)?;
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a committed outcome survives a power cut, and the emails queued with it.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrations().to_latest(&mut conn)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Store { conn })
    }

    /// Opens an existing database for reading (status, export) without migrating it.
    pub fn open_read(path: &Path) -> anyhow::Result<Store> {
        if !path.exists() {
            anyhow::bail!(
                "{}: no database yet (has `nianbao run` been started with this data_dir?)",
                path.display()
            );
        }
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Store { conn })
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The submission recorded for this very inbox file, if it was recorded before a crash.
    pub fn by_source_identity(&self, identity: &str) -> rusqlite::Result<Option<Submission>> {
        self.conn
            .cached_row(
                &format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE source_identity = ?1"),
                [identity],
                submission,
            )
            .optional()
    }

    /// Records an archived file and gives it a receipt number `NB-<year>-<nnnnnn>`.
    pub fn record(
        &mut self,
        new: &NewSubmission<'_>,
        receipt_year: i32,
    ) -> rusqlite::Result<Submission> {
        self.record_all(std::slice::from_ref(new), receipt_year)?
            .pop()
            .ok_or(rusqlite::Error::QueryReturnedNoRows)
    }

    /// Records several archived files in one transaction (one commit for a batch), with
    /// consecutive receipt numbers in the order given.
    pub fn record_all(
        &mut self,
        news: &[NewSubmission<'_>],
        receipt_year: i32,
    ) -> rusqlite::Result<Vec<Submission>> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let ids = record_in(&tx, news, receipt_year)?;
        tx.commit()?;
        ids.into_iter()
            .map(|id| self.get(id)?.ok_or(rusqlite::Error::QueryReturnedNoRows))
            .collect()
    }

    pub fn get(&self, id: i64) -> rusqlite::Result<Option<Submission>> {
        self.conn
            .cached_row(
                &format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE id = ?1"),
                [id],
                submission,
            )
            .optional()
    }

    pub fn by_receipt(&self, receipt: &str) -> rusqlite::Result<Option<Submission>> {
        self.conn
            .cached_row(
                &format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE receipt = ?1"),
                [receipt],
                submission,
            )
            .optional()
    }

    /// The state of one submission now (`None`: no such id). Read fresh, not from a listed
    /// [`Submission`], because another thread may have checked it since.
    pub fn state_of(&self, id: i64) -> rusqlite::Result<Option<SubmissionState>> {
        self.conn
            .cached_row("SELECT state FROM submissions WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
    }

    /// How many submissions are past `archived` (checked, duplicate or failed): the status
    /// line's "files checked".
    pub fn count_done(&self) -> rusqlite::Result<i64> {
        self.conn.cached_row(
            "SELECT count(*) FROM submissions WHERE state != ?1",
            [SubmissionState::Archived],
            |r| r.get(0),
        )
    }

    /// Submissions archived but not yet checked: left by a crash or a stop; done at start.
    pub fn unfinished(&self) -> rusqlite::Result<Vec<Submission>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE state = 'archived' ORDER BY id"
        ))?;
        stmt.query_map([], submission)?.collect()
    }

    /// The first checked submission of the same bytes from the same agency, if any.
    pub fn original_of(
        &self,
        agency_folder: Option<&str>,
        sha256: &str,
        before_id: i64,
    ) -> rusqlite::Result<Option<Submission>> {
        original_in(&self.conn, agency_folder, sha256, before_id)
    }

    /// The latest accepted-or-not report of `agency_folder` for `year` (for cross-year rules);
    /// without a checked submission of that year, the report imported as history, if any.
    /// A stored report that cannot be read back is an error naming its receipt, not "none":
    /// the caller says that the cross-year rules were skipped.
    pub fn latest_report(&self, agency_folder: &str, year: i32) -> anyhow::Result<Option<Report>> {
        let row: Option<(String, String)> = self
            .conn
            .cached_row(
                "SELECT receipt, report_json FROM submissions
                 WHERE agency_folder = ?1 AND year = ?2 AND +state = 'checked'
                   AND report_json IS NOT NULL
                 ORDER BY id DESC LIMIT 1",
                params![agency_folder, year],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((receipt, json)) = row else {
            let Some(json) = self.history_report(agency_folder, year)? else {
                return Ok(None);
            };
            let report = serde_json::from_str(&json).map_err(|e| {
                anyhow::anyhow!(
                    "the imported report of {agency_folder} for {year} cannot be read back: {e}"
                )
            })?;
            return Ok(Some(report));
        };
        let report = serde_json::from_str(&json).map_err(|e| {
            anyhow::anyhow!("the stored report of {receipt} cannot be read back: {e}")
        })?;
        Ok(Some(report))
    }

    /// Every checked report of `year` with its agency folder, oldest first, so that a later version of an agency comes
    /// after the one it supersedes. A report that cannot be read back is left out (logged):
    /// the index of shared text is a help, not a record.
    pub fn reports_of_year(&self, year: i32) -> rusqlite::Result<Vec<YearReport>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT agency_folder, agency_name, receipt, report_json FROM submissions
             WHERE year = ?1 AND +state = 'checked' AND agency_folder IS NOT NULL
               AND report_json IS NOT NULL
             ORDER BY id",
        )?;
        let rows = stmt.query_map(params![year], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (folder, name, receipt, json) = row?;
            match serde_json::from_str::<Report>(&json) {
                Ok(report) => out.push(YearReport {
                    folder,
                    agency_name: name,
                    receipt,
                    report,
                }),
                Err(e) => {
                    tracing::warn!(%receipt, error = %e, "a stored report cannot be read back; left out of the shared-text index");
                }
            }
        }
        Ok(out)
    }

    /// Records that a submission cannot be checked at all (`reason` says why) and queues the
    /// admin's notice with it, in one transaction; a no-op unless it is still `archived`, so
    /// the admin is told once.
    pub fn fail_submission(
        &mut self,
        id: i64,
        reason: &str,
        failed_at: &str,
        notice: Option<(&str, &OutboxMessage)>,
    ) -> rusqlite::Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let changed = tx.cached_execute(
            "UPDATE submissions SET state = 'failed', failure = ?2, checked_at = ?3
             WHERE id = ?1 AND state = 'archived'",
            params![id, reason, failed_at],
        )?;
        if changed == 1
            && let Some((key, m)) = notice
        {
            insert_message(&tx, Some(id), key, m)?;
        }
        tx.commit()?;
        Ok(changed == 1)
    }

    /// `PRAGMA quick_check` (the cheap one, for every start): `None` when the database is
    /// sound, else what SQLite found.
    pub fn quick_check(&self) -> Option<String> {
        pragma_check(&self.conn, "quick_check", 10)
    }

    /// `PRAGMA integrity_check` (the thorough one, for `nianbao db check`): `None` when the
    /// database is sound, else what SQLite found (at most `max` problems).
    pub fn integrity_check(&self, max: u32) -> Option<String> {
        pragma_check(&self.conn, "integrity_check", max)
    }

    /// Stores the outcome of checking a submission and queues its messages, in one
    /// transaction: either all of it is there after a crash, or none of it and the
    /// submission is checked again.
    pub fn store_outcome(
        &mut self,
        id: i64,
        result: &CheckResult,
        check_ms: u64,
        checked_at: &str,
        messages: &[OutboxMessage],
        receipt: &str,
    ) -> rusqlite::Result<()> {
        self.store_outcome_held(id, result, check_ms, checked_at, messages, receipt, None)
    }

    /// [`Store::store_outcome`], with the feedback held for review when `hold` says so
    /// (`review::Hold`): its messages queued as `held`, its acknowledgements as pending.
    #[allow(clippy::too_many_arguments)]
    pub fn store_outcome_held(
        &mut self,
        id: i64,
        result: &CheckResult,
        check_ms: u64,
        checked_at: &str,
        messages: &[OutboxMessage],
        receipt: &str,
        hold: Option<&review::Hold<'_>>,
    ) -> rusqlite::Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        outcome_in(
            &tx, id, result, check_ms, checked_at, messages, receipt, hold,
        )?;
        tx.commit()
    }

    /// Records a submission as a duplicate of `original` and queues its messages.
    pub fn store_duplicate(
        &mut self,
        id: i64,
        original: &Submission,
        checked_at: &str,
        messages: &[OutboxMessage],
        receipt: &str,
    ) -> rusqlite::Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        duplicate_in(&tx, id, original, checked_at, messages, receipt)?;
        tx.commit()
    }

    /// Every submission, oldest first (optionally of one report year).
    /// Whether the agency has a submission archived but not yet checked.
    pub fn has_unchecked(&self, folder: &str) -> rusqlite::Result<bool> {
        self.conn.cached_row(
            "SELECT EXISTS (SELECT 1 FROM submissions WHERE agency_folder = ?1 AND state = 'archived')",
            [folder],
            |r| r.get(0),
        )
    }

    /// The report years that have submissions.
    pub fn submission_years(&self) -> rusqlite::Result<Vec<i64>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT year FROM submissions WHERE year IS NOT NULL")?;
        stmt.query_map([], |r| r.get(0))?.collect()
    }

    pub fn submissions(&self, year: Option<i32>) -> rusqlite::Result<Vec<Submission>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions
             WHERE ?1 IS NULL OR year = ?1 ORDER BY id"
        ))?;
        stmt.query_map([year], submission)?.collect()
    }

    /// Cells of a submission: (table, row, column, integer value, decimal text).
    pub fn cells(&self, id: i64) -> rusqlite::Result<Vec<StoredCell>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT tbl, row, col, value, amount FROM cells WHERE submission_id = ?1
             ORDER BY tbl, seq",
        )?;
        stmt.query_map([id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect()
    }
}

/// Runs `PRAGMA <pragma>(<max>)`; `None` for its single `ok`, else its lines (a database so
/// damaged that the pragma itself fails reports that error).
fn pragma_check(conn: &Connection, pragma: &str, max: u32) -> Option<String> {
    let lines: rusqlite::Result<Vec<String>> = conn
        .prepare(&format!("PRAGMA {pragma}({max})"))
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect());
    match lines {
        Ok(lines) if lines.len() == 1 && lines[0] == "ok" => None,
        Ok(lines) => Some(lines.join("; ")),
        Err(e) => Some(e.to_string()),
    }
}

/// Whether an error says the database file is damaged (not busy, not full: damaged).
pub fn is_corruption(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<rusqlite::Error>()
            .and_then(rusqlite::Error::sqlite_error_code)
            .is_some_and(|code| {
                matches!(
                    code,
                    rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
                )
            })
    })
}

/// [`Store::record_all`] inside a transaction (IMMEDIATE, so nobody else numbers in
/// between): the new submissions' ids, in the order given.
fn record_in(
    tx: &Transaction<'_>,
    news: &[NewSubmission<'_>],
    receipt_year: i32,
) -> rusqlite::Result<Vec<i64>> {
    let prefix = format!("NB-{receipt_year}-");
    // Receipts are zero-padded, so the greatest in the year's range of the unique index
    // is the last one: one index lookup, where `LIKE ?` scanned every row. The
    // transaction is IMMEDIATE, so nobody else numbers in between.
    let last: Option<String> = tx
        .cached_row(
            "SELECT receipt FROM submissions WHERE receipt >= ?1 AND receipt < ?2
                 ORDER BY receipt DESC LIMIT 1",
            params![prefix, format!("NB-{receipt_year}.")],
            |r| r.get(0),
        )
        .optional()?;
    let last = last
        .and_then(|r| r[prefix.len()..].parse::<i64>().ok())
        .unwrap_or(0);
    let mut ids = Vec::with_capacity(news.len());
    for (i, new) in news.iter().enumerate() {
        let receipt = format!("{prefix}{:06}", last + 1 + i as i64);
        tx.cached_execute(
            "INSERT INTO submissions (receipt, agency_folder, agency_name, original_name,
                     size, sha256, source_identity, received_at, state, owner_uid, owner_name)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'archived', ?9, ?10)",
            params![
                receipt,
                new.agency_folder,
                new.agency_name,
                new.original_name,
                new.size as i64,
                new.sha256,
                new.source_identity,
                new.received_at,
                new.owner.as_ref().map(|o| o.uid),
                new.owner.as_ref().and_then(|o| o.name.as_deref()),
            ],
        )?;
        ids.push(tx.last_insert_rowid());
    }
    Ok(ids)
}

/// [`Store::store_outcome_held`] inside a transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) fn outcome_in(
    tx: &Transaction<'_>,
    id: i64,
    result: &CheckResult,
    check_ms: u64,
    checked_at: &str,
    messages: &[OutboxMessage],
    receipt: &str,
    hold: Option<&review::Hold<'_>>,
) -> rusqlite::Result<()> {
    let state: Option<SubmissionState> = tx
        .cached_row("SELECT state FROM submissions WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    if state != Some(SubmissionState::Archived) {
        // Already done (a replay after a crash): nothing to repeat.
        return Ok(());
    }
    let report = result.report.as_ref();
    let year = report.and_then(|r| r.year);
    let verdict = Verdict::of(result.accepted());
    let report_json = report.and_then(|r| serde_json::to_string(r).ok());
    tx.cached_execute(
        "UPDATE submissions SET state = 'checked', format = ?2, encoding = ?3, template = ?4,
                 year = ?5, verdict = ?6, errors = ?7, warnings = ?8, report_json = ?9,
                 checked_at = ?10, check_ms = ?11
             WHERE id = ?1",
        params![
            id,
            result.format.map(|f| f.as_str()),
            result.encoding,
            result.template.map(|t| t.as_str()),
            year,
            verdict,
            result.errors() as i64,
            result.warnings() as i64,
            report_json,
            checked_at,
            check_ms as i64
        ],
    )?;
    if let Some(report) = report {
        insert_cells(tx, id, report)?;
    }
    insert_findings(tx, id, &result.findings)?;
    // A new version for the same agency and year supersedes the older ones.
    if let Some(year) = year {
        tx.cached_execute(SUPERSEDE, params![id, year])?;
    }
    queue(tx, id, receipt, messages)?;
    if let Some(hold) = hold {
        review::hold_in(tx, id, receipt, hold, checked_at)?;
    }
    Ok(())
}

/// A new version for the same agency and year supersedes the older ones (`?1`: its id,
/// `?2`: its year).
///
/// `+state`: the state index matches nearly every row; the (agency, year) index matches a
/// handful. Without the `+` the planner scanned all checked submissions for every file
/// (quadratic; see BENCHMARKS.md).
const SUPERSEDE: &str = "UPDATE submissions SET superseded_by = ?1
     WHERE agency_folder = (SELECT agency_folder FROM submissions WHERE id = ?1)
       AND year = ?2 AND +state = 'checked' AND id < ?1 AND superseded_by IS NULL";

/// [`Store::store_duplicate`] inside a transaction.
pub(crate) fn duplicate_in(
    tx: &Transaction<'_>,
    id: i64,
    original: &Submission,
    checked_at: &str,
    messages: &[OutboxMessage],
    receipt: &str,
) -> rusqlite::Result<()> {
    let changed = tx.cached_execute(
        "UPDATE submissions SET state = 'duplicate', duplicate_of = ?2, year = ?3,
                 verdict = ?4, errors = ?5, warnings = ?6, checked_at = ?7
             WHERE id = ?1 AND state = 'archived'",
        params![
            id,
            original.id,
            original.year,
            original.verdict,
            original.errors,
            original.warnings,
            checked_at
        ],
    )?;
    if changed == 1 {
        queue(tx, id, receipt, messages)?;
    }
    Ok(())
}

/// [`Store::original_of`] on any connection (or transaction).
fn original_in(
    conn: &Connection,
    agency_folder: Option<&str>,
    sha256: &str,
    before_id: i64,
) -> rusqlite::Result<Option<Submission>> {
    conn.cached_row(
        &format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions
             WHERE sha256 = ?1 AND agency_folder IS ?2 AND +state = 'checked'
               AND id < ?3
             ORDER BY id LIMIT 1"
        ),
        params![sha256, agency_folder, before_id],
        submission,
    )
    .optional()
}

/// The findings of a submission, serialised once (one JSON array, one row; the `findings`
/// view shows them a row each).
pub(crate) fn insert_findings(
    tx: &Transaction<'_>,
    id: i64,
    findings: &[crate::finding::Finding],
) -> rusqlite::Result<()> {
    let json = serde_json::to_string(findings)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO finding_lists (submission_id, findings) VALUES (?1, ?2)",
    )?
    .execute(params![id, json])?;
    Ok(())
}

/// The cells of a report, one row per table (a JSON array of `[row, col, value, amount]` in
/// template order; the `cells` view shows them a row each).
pub(crate) fn insert_cells(tx: &Transaction<'_>, id: i64, report: &Report) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO cell_tables (submission_id, tbl, cells) VALUES (?1, ?2, ?3)",
    )?;
    let cells = report_cells(report);
    for table in 1..=3u8 {
        let packed: Vec<(&str, &str, Option<i64>, Option<&str>)> = cells
            .iter()
            .filter(|c| c.table == table)
            .map(|c| (c.row, c.column, c.value, c.amount.as_deref()))
            .collect();
        if packed.is_empty() {
            continue;
        }
        let json = serde_json::to_string(&packed)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        stmt.execute(params![id, table, json])?;
    }
    Ok(())
}
