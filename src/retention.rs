//! `[retention] archive_years` (issue 23): archived originals of report years older than
//! that many are removed from `data_dir/archive`. The submissions' records, readings,
//! findings, messages and the agencies' receipts stay; each record notes when its original
//! went (`archive_removed_at`). Default: keep everything.
//!
//! A report's year is the one read from it, or (not read) the year before the one it was
//! received in (China time is not needed at a year's granularity here). An original shared
//! by several submissions (the same bytes again) goes only when all of them are old; an
//! original not checked yet never goes.

use std::path::PathBuf;

pub use crate::config::RetentionConfig;
use rusqlite::{Connection, params};

/// What a sweep removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub files: usize,
    pub bytes: u64,
    pub submissions: usize,
    /// Originals of report years before this one were removed.
    pub before_year: i64,
}

const EFFECTIVE_YEAR: &str = "COALESCE(year, CAST(substr(received_at, 1, 4) AS INTEGER) - 1)";

/// Removes the originals of report years before `report_year - archive_years + 1` (see the
/// module). `archived(sha256)` is the archive path of an original. `None` when retention
/// is off.
pub fn sweep(
    conn: &Connection,
    config: &RetentionConfig,
    report_year: i64,
    now: &str,
    archived: impl Fn(&str) -> PathBuf,
) -> anyhow::Result<Option<Swept>> {
    if config.archive_years == 0 {
        return Ok(None);
    }
    let before_year = report_year - i64::from(config.archive_years) + 1;
    let shas: Vec<String> = conn
        .prepare(&format!(
            "SELECT sha256 FROM submissions WHERE archive_removed_at IS NULL
             GROUP BY sha256
             HAVING max({EFFECTIVE_YEAR}) < ?1 AND sum(state = 'archived') = 0"
        ))?
        .query_map([before_year], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut swept = Swept {
        before_year,
        ..Swept::default()
    };
    for sha in shas {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let path = archived(&sha);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => {
                std::fs::remove_file(&path)?;
                swept.files += 1;
                swept.bytes += m.len();
            }
            // Gone already (a crash after the removal): only the record is left to note.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Ok(_) => continue,
            Err(e) => return Err(e.into()),
        }
        swept.submissions += conn.execute(
            "UPDATE submissions SET archive_removed_at = ?1
             WHERE sha256 = ?2 AND archive_removed_at IS NULL",
            params![now, sha],
        )?;
    }
    Ok(Some(swept))
}
