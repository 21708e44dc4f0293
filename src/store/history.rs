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
        let mut stmt = self.conn.prepare_cached(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewSubmission;

    fn report(agency: &str, year: i32) -> Report {
        Report {
            agency: Some(agency.to_string()),
            year: Some(year),
            ..Report::default()
        }
    }

    fn history<'a>(report: &'a Report, sha256: &'a str) -> NewHistory<'a> {
        NewHistory {
            agency_folder: "xss",
            agency_name: Some("西塞山区政数局"),
            year: 2022,
            sha256,
            original_name: "xss/2022.pdf",
            size: 1,
            format: Some("pdf"),
            report,
        }
    }

    #[test]
    fn history_is_the_fallback_of_latest_report_and_imported_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("db.sqlite")).expect("open");
        assert_eq!(store.latest_report("xss", 2022).expect("query"), None);
        let imported = report("历史", 2022);
        let now = "2026-01-01T00:00:00Z";
        assert!(
            store
                .add_history(&history(&imported, "aa"), now)
                .expect("add")
        );
        assert!(
            !store
                .add_history(&history(&imported, "aa"), now)
                .expect("again")
        );
        assert_eq!(store.history(Some(2022)).expect("list").len(), 1);
        assert_eq!(
            store.latest_report("xss", 2022).expect("query"),
            Some(imported.clone())
        );
        // Not another agency's, not another year's.
        assert_eq!(store.latest_report("lc", 2022).expect("query"), None);
        assert_eq!(store.latest_report("xss", 2021).expect("query"), None);

        // A checked submission of that agency and year comes first.
        let sub = store
            .record(
                &NewSubmission {
                    agency_folder: Some("xss"),
                    agency_name: Some("西塞山区政数局"),
                    original_name: "xss/2022.txt",
                    size: 1,
                    sha256: "bb",
                    source_identity: "1:2:3:4",
                    received_at: now,
                    owner: None,
                },
                2023,
            )
            .expect("record");
        // Archived but not checked yet: history still answers.
        assert_eq!(
            store.latest_report("xss", 2022).expect("query"),
            Some(imported)
        );
        let mut result = crate::check::check_bytes(b"", "xss/2022.txt");
        let submitted = report("报送", 2022);
        result.report = Some(submitted.clone());
        store
            .store_outcome(sub.id, &result, 1, now, &[], &sub.receipt)
            .expect("outcome");
        assert_eq!(
            store.latest_report("xss", 2022).expect("query"),
            Some(submitted)
        );
        // History is never a submission.
        assert_eq!(store.submissions(None).expect("list").len(), 1);
    }
}
