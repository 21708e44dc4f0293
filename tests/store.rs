//! The store on a real SQLite file: cells queryable, outcomes idempotent, duplicates and new
//! versions as the ingest expects them.

use nianbao::check::check_bytes;
use nianbao::store::{NewSubmission, OutboxMessage, Store};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn new<'a>(sha: &'a str, identity: &'a str) -> NewSubmission<'a> {
    NewSubmission {
        agency_folder: Some("huaian"),
        agency_name: Some("淮安市人民政府"),
        original_name: "huaian/2024.txt",
        size: 8174,
        sha256: sha,
        source_identity: identity,
        received_at: "2025-01-20T08:00:00Z",
        owner: None,
    }
}

fn mail(to: &str) -> Vec<OutboxMessage> {
    vec![OutboxMessage {
        kind: nianbao::store::MessageKind::Feedback,
        recipient: to.into(),
        subject: "【已受理】".into(),
        body_text: "正文".into(),
        body_html: None,
        html_from: None,
    }]
}

#[test]
fn outcome_cells_duplicates_and_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("nianbao.sqlite");
    let mut store = Store::open(&db).expect("open");
    let bytes = fixture("005_huaian-2024.pdftotext.txt");
    let result = check_bytes(&bytes, "2024.txt");

    let first = store
        .record(&new(&result.sha256, "1:1:1:1"), 2025)
        .expect("record");
    assert_eq!(first.receipt, "NB-2025-000001");
    assert_eq!(store.unfinished().expect("unfinished").len(), 1);
    store
        .store_outcome(
            first.id,
            &result,
            3,
            "2025-01-20T08:00:01Z",
            &mail("a@b.cn"),
            &first.receipt,
        )
        .expect("outcome");
    // A replay (crash after commit, before the inbox file was removed) changes nothing.
    store
        .store_outcome(
            first.id,
            &result,
            3,
            "2025-01-20T08:00:02Z",
            &mail("a@b.cn"),
            &first.receipt,
        )
        .expect("replay");
    assert_eq!(
        store.pending_messages().expect("outbox").len(),
        1,
        "queued once"
    );
    assert!(store.unfinished().expect("unfinished").is_empty());

    // Every cell is a row: table 2 new_received / natural_person = 3001, the fee as text.
    let value: i64 = store
        .connection()
        .query_row(
            "SELECT value FROM cells WHERE submission_id = ?1 AND tbl = 2
             AND row = 'new_received' AND col = 'natural_person'",
            [first.id],
            |r| r.get(0),
        )
        .expect("cell");
    assert_eq!(value, 3001);
    let fee: String = store
        .connection()
        .query_row(
            "SELECT amount FROM cells WHERE submission_id = ?1 AND row = 'administrative_fees'",
            [first.id],
            |r| r.get(0),
        )
        .expect("fee");
    assert_eq!(fee, "96171.6");
    let cells = store.cells(first.id).expect("cells");
    assert_eq!(
        cells.len(),
        (3 + 3 + 3 + 1) + 25 * 7 + 15,
        "every 2021 template cell"
    );

    // The same bytes again: a duplicate pointing to the first, with its verdict.
    let again = store
        .record(&new(&result.sha256, "1:2:1:1"), 2025)
        .expect("record");
    assert_eq!(again.receipt, "NB-2025-000002");
    let original = store
        .original_of(Some("huaian"), &result.sha256, again.id)
        .expect("query")
        .expect("original found");
    assert_eq!(original.id, first.id);
    store
        .store_duplicate(
            again.id,
            &original,
            "2025-01-21T00:00:00Z",
            &mail("a@b.cn"),
            &again.receipt,
        )
        .expect("duplicate");
    let dup = store.get(again.id).expect("get").expect("row");
    assert_eq!(
        (dup.state.as_str(), dup.duplicate_of),
        ("duplicate", Some(first.id))
    );
    assert_eq!(dup.verdict.map(|v| v.as_str()), Some("accepted"));

    // A corrected version (other bytes, same agency and year) supersedes the first.
    let other = check_bytes(&fixture("000_d016082c1b868431.txt"), "v2.txt");
    let mut v2 = other.clone();
    if let Some(r) = v2.report.as_mut() {
        r.year = Some(2024);
    }
    let second = store
        .record(&new(&v2.sha256, "1:3:1:1"), 2025)
        .expect("record");
    store
        .store_outcome(
            second.id,
            &v2,
            2,
            "2025-01-22T00:00:00Z",
            &[],
            &second.receipt,
        )
        .expect("outcome");
    let first_now = store.get(first.id).expect("get").expect("row");
    assert_eq!(first_now.superseded_by, Some(second.id));
    assert_eq!(
        store.submissions(Some(2024)).expect("list").len(),
        3,
        "history kept"
    );
    let latest = store
        .latest_report("huaian", 2024)
        .expect("q")
        .expect("report");
    assert_eq!(latest, v2.report.expect("report"));

    // Reopening runs no migration twice and keeps everything.
    drop(store);
    let store = Store::open(&db).expect("reopen");
    assert_eq!(
        store.by_receipt("NB-2025-000003").expect("q").map(|s| s.id),
        Some(second.id)
    );
    assert_eq!(
        store
            .by_source_identity("1:1:1:1")
            .expect("q")
            .map(|s| s.id),
        Some(first.id)
    );
}
