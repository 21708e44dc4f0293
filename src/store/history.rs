//! Past years' published reports brought in by `nianbao import` (table `history`): the
//! previous report of the cross-year rules when nianbao has none of its own yet. They are
//! kept apart from `submissions` so that status, export, digest and mail never see them.

use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::report::Report;

/// One report to import.
#[derive(Debug, Clone)]
pub struct NewHistory<'a> {
    pub agency_folder: &'a str,
    pub agency_name: Option<&'a str>,
    pub year: i32,
    pub sha256: &'a str,
    /// The path relative to the imported folder, for the record.
    pub original_name: &'a str,
    pub size: u64,
    pub format: Option<&'a str>,
    pub report: &'a Report,
}

/// An imported report as listed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HistoryEntry {
    pub id: i64,
    pub agency_folder: String,
    pub agency_name: Option<String>,
    pub year: i64,
    pub sha256: String,
    pub original_name: String,
    pub size: i64,
    pub format: Option<String>,
    pub imported_at: String,
}

impl Store {
    /// Stores an imported report; false when the same bytes are already there for this
    /// agency and year (importing a folder twice changes nothing).
    pub fn add_history(&self, h: &NewHistory<'_>, imported_at: &str) -> anyhow::Result<bool> {
        let json = serde_json::to_string(h.report)?;
        let n = self.conn.execute(
            "INSERT INTO history (agency_folder, agency_name, year, sha256, original_name, size,
                 format, report_json, imported_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (agency_folder, year, sha256) DO NOTHING",
            params![
                h.agency_folder,
                h.agency_name,
                h.year,
                h.sha256,
                h.original_name,
                h.size as i64,
                h.format,
                json,
                imported_at
            ],
        )?;
        Ok(n == 1)
    }

    /// Imported reports, oldest import first (optionally of one report year).
    pub fn history(&self, year: Option<i32>) -> rusqlite::Result<Vec<HistoryEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, agency_folder, agency_name, year, sha256, original_name, size, format,
                 imported_at
             FROM history WHERE ?1 IS NULL OR year = ?1 ORDER BY id",
        )?;
        stmt.query_map([year], |r| {
            Ok(HistoryEntry {
                id: r.get(0)?,
                agency_folder: r.get(1)?,
                agency_name: r.get(2)?,
                year: r.get(3)?,
                sha256: r.get(4)?,
                original_name: r.get(5)?,
                size: r.get(6)?,
                format: r.get(7)?,
                imported_at: r.get(8)?,
            })
        })?
        .collect()
    }

    /// The most recently imported report of an agency and year.
    pub(super) fn history_report(
        &self,
        agency_folder: &str,
        year: i32,
    ) -> rusqlite::Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT report_json FROM history WHERE agency_folder = ?1 AND year = ?2
                 ORDER BY id DESC LIMIT 1",
                params![agency_folder, year],
                |r| r.get(0),
            )
            .optional()
    }
}
