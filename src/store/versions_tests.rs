//! The cost of storing one more version of an agency's report must not grow with the
//! versions already stored (issue 24, item 17: 5,000 files into one folder went at 286
//! files/s, spread over 200 agencies at 459).

use super::{NewSubmission, SUPERSEDE, Store};

/// Stores `n` versions of one agency's report of one year; returns the SQLite VM steps
/// that superseding the older ones took for the last version.
fn supersede_steps(n: usize) -> i32 {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("db.sqlite")).expect("open");
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/000_d016082c1b868431.txt"
    ))
    .expect("fixture");
    let result = crate::check::check_bytes(&bytes, "r.txt");
    assert!(result.report.as_ref().and_then(|r| r.year).is_some());
    let mut steps = 0;
    for i in 0..n {
        let sha = format!("{i:064x}");
        let identity = format!("1:{i}:1:1");
        let sub = store
            .record(
                &NewSubmission {
                    agency_folder: Some("one"),
                    agency_name: Some("一个单位"),
                    original_name: "one/r.txt",
                    size: bytes.len() as u64,
                    sha256: &sha,
                    source_identity: &identity,
                    received_at: "2026-01-05T00:00:00Z",
                    owner: None,
                },
                2026,
            )
            .expect("record");
        let stmt = store.conn.prepare_cached(SUPERSEDE).expect("cached");
        stmt.reset_status(rusqlite::StatementStatus::VmStep);
        drop(stmt);
        store
            .store_outcome(
                sub.id,
                &result,
                1,
                "2026-01-05T00:00:01Z",
                &[],
                &sub.receipt,
            )
            .expect("store");
        let stmt = store.conn.prepare_cached(SUPERSEDE).expect("cached");
        steps = stmt.get_status(rusqlite::StatementStatus::VmStep);
    }
    let current: i64 = store
        .conn
        .query_row(
            "SELECT count(*) FROM submissions WHERE superseded_by IS NULL",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(current, 1, "every older version is superseded");
    steps
}

#[test]
fn superseding_costs_the_same_whatever_the_versions_before() {
    let few = supersede_steps(3);
    let many = supersede_steps(400);
    assert!(few > 0, "the statement ran");
    assert!(
        many <= few * 2,
        "superseding the 400th version took {many} VM steps, the 3rd {few}: linear in the versions"
    );
}
