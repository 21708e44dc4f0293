//! Issue 23, item 19: upgrades keep data. `tests/fixtures/upgrade/data` is a data directory
//! made by the release before issue 23 (schema version 7; `tests/fixtures/upgrade/make.sh`
//! with that release's binary): four submissions (accepted, rejected, a duplicate, a second
//! agency's), two console users, a resend recorded as a review, eight messages queued after
//! failed attempts, and the archive. Every later version must open it, apply its
//! migrations once, and find all of it intact.

mod harness;

use std::collections::BTreeMap;
use std::path::Path;

use harness::Daemon;
use harness::web::{Client, free_port};
use rusqlite::Connection;

/// The release the fixture was made with.
const FIXTURE_VERSION: i64 = 7;

fn fixture_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade/data")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Every row of every table, over the columns each table had in the fixture: what an
/// upgrade must keep as it was.
fn snapshot(conn: &Connection, columns: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut rows = Vec::new();
    for (table, cols) in columns {
        let list = cols
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let order = (1..=cols.len())
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = conn
            .prepare(&format!("SELECT {list} FROM \"{table}\" ORDER BY {order}"))
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        let n = cols.len();
        let got = stmt
            .query_map([], |r| {
                let values: Vec<rusqlite::types::Value> =
                    (0..n).map(|i| r.get(i)).collect::<Result<_, _>>()?;
                Ok(format!("{table}: {values:?}"))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .expect("rows");
        rows.extend(got);
    }
    rows
}

fn tables(conn: &Connection) -> BTreeMap<String, Vec<String>> {
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("tables");
    names
        .into_iter()
        .map(|t| {
            let cols: Vec<String> = conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                .expect("columns");
            (t, cols)
        })
        .collect()
}

fn user_version(conn: &Connection) -> i64 {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("user_version")
}

#[test]
fn a_data_directory_of_the_previous_release_opens_with_everything_intact() {
    let port = free_port();
    let mut d = Daemon::with_config("", &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    let data = d.dir.path().join("data");
    copy_dir(&fixture_dir(), &data);
    let db = data.join("nianbao.sqlite");
    let (columns, before) = {
        let c = Connection::open(&db).expect("open fixture");
        assert_eq!(user_version(&c), FIXTURE_VERSION, "the fixture's release");
        let columns = tables(&c);
        (columns.clone(), snapshot(&c, &columns))
    };
    assert!(
        before
            .iter()
            .filter(|r| r.starts_with("submissions:"))
            .count()
            == 4
            && before.iter().filter(|r| r.starts_with("users:")).count() == 2
            && before.iter().filter(|r| r.starts_with("reviews:")).count() == 1,
        "the fixture is not what it should be"
    );

    // The new code opens it: its migrations run once, nothing of the old rows changes.
    let opened = nianbao::store::Store::open(&db).expect("the new code opens the fixture");
    let migrated = user_version(opened.connection());
    assert!(migrated > FIXTURE_VERSION);
    assert_eq!(snapshot(opened.connection(), &columns), before);
    drop(opened);
    let again = nianbao::store::Store::open(&db).expect("opened again");
    assert_eq!(user_version(again.connection()), migrated, "migrated once");
    assert_eq!(snapshot(again.connection(), &columns), before);
    drop(again);

    // The daemon runs on it: the users log in, pages and originals are there, the queued
    // messages go out (to the spool: no SMTP configured here), and nothing migrates.
    d.start();
    d.wait_count("SELECT count(*) FROM outbox WHERE state = 'pending'", 0, 30);
    assert!(!d.log().contains("migrated to version"), "{}", d.log());
    // Seven feedback mails, and the resent receipt file written into the agency's folder.
    assert_eq!(d.eml_files().len(), 7, "{:?}", d.eml_files());
    assert!(d.inbox().join("xss/回执/2022年报.txt.txt").is_file());
    let mut c = Client::new(port);
    assert_eq!(c.login("alice", "admin password 1").code, 303);
    let page = c.get("/submission/NB-2026-000002").text();
    assert!(
        page.contains("需修改") && page.contains("lc/年报.txt"),
        "{page}"
    );
    let original = c.get("/submission/NB-2026-000001/original");
    assert_eq!(original.code, 200);
    assert_eq!(
        nianbao::check::sha256_hex(&original.body),
        "d6d9394a41fa5ad371631446377ca316d59c2a7fdf5d48cbaad1e66b8c66d8ec"
    );
    let history = c.get("/submission/NB-2026-000001").text();
    assert!(
        history.contains("nianbao mail resend"),
        "review lost: {history}"
    );
    let mut viewer = Client::new(port);
    assert_eq!(viewer.login("bob", "viewer password 2").code, 303);
    assert_eq!(d.stop(), Some(0));
    let log_lines = d.log().lines().count();
    d.start();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while d.log().matches("watching").count() < 2 {
        assert!(std::time::Instant::now() < deadline, "{}", d.log());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(d.stop(), Some(0));
    let second: String = d
        .log()
        .lines()
        .skip(log_lines)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!second.contains("migrated to version"), "{second}");
    let c = Connection::open(&db).expect("open");
    assert_eq!(user_version(&c), migrated);
    assert_eq!(
        c.query_row("SELECT count(*) FROM submissions", [], |r| r
            .get::<_, i64>(0))
            .expect("count"),
        4
    );
}
