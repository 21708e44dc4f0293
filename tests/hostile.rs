//! Agency folders are hostile input: the real daemon against links planted where it writes
//! receipts, a `回执` that is not a folder, versions renamed over a report while it is taken,
//! names at the 255-byte limit, and hard links to files outside the inbox.

mod harness;

use std::collections::HashSet;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use harness::{CHECKED, Daemon, distinct_report};
use sha2::{Digest, Sha256};

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every regular file below `dir` (not following links) with the hash of its bytes.
fn tree_hashes(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("ls").flatten() {
            let kind = e.file_type().expect("type");
            if kind.is_dir() {
                stack.push(e.path());
            } else if kind.is_file() {
                out.push((e.path(), sha256(&std::fs::read(e.path()).expect("read"))));
            }
        }
    }
    out.sort();
    out
}

/// Waits until no message is pending in the outbox.
fn wait_outbox_settled(d: &Daemon, secs: u64) {
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE state = 'pending'",
        0,
        secs,
    );
}

fn outbox_count(d: &Daemon, filter: &str) -> i64 {
    d.count(&format!("SELECT count(*) FROM outbox WHERE {filter}"))
}

fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

#[test]
fn planted_links_change_nothing_outside_the_agency_folder() {
    let mut d = Daemon::new();
    let data = d.dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data");
    let outside = d.dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("outside");
    std::fs::write(outside.join("victim.txt"), "not yours").expect("w");
    std::fs::write(outside.join("other.txt"), "not yours either").expect("w");
    // xss: the whole receipt folder is a link to a folder outside.
    symlink(&outside, &d.inbox().join("xss/回执"));
    // lc: a real receipt folder, with the receipt's temporary name (as it was) aimed at the
    // database and the receipt's final name aimed at a file outside.
    let receipts = d.inbox().join("lc/回执");
    std::fs::create_dir_all(&receipts).expect("mkdir");
    let db = data.join("nianbao.sqlite");
    symlink(&db, &receipts.join(".b.txt.txt.tmp"));
    symlink(&outside.join("other.txt"), &receipts.join("回执_b.txt.txt"));
    // Both aimed at the database and a file outside under the other name too.
    symlink(
        &outside.join("victim.txt"),
        &receipts.join(".c.txt.txt.tmp"),
    );
    symlink(&db, &receipts.join("回执_c.txt.txt"));
    d.start();
    d.wait_count("SELECT 1", 1, 10);
    let before = tree_hashes(&outside);
    std::fs::write(d.inbox().join("xss/a.txt"), distinct_report(1)).expect("w");
    std::fs::write(d.inbox().join("lc/b.txt"), distinct_report(2)).expect("w");
    std::fs::write(d.inbox().join("lc/c.txt"), distinct_report(3)).expect("w");
    d.wait_count(CHECKED, 3, 30);
    wait_outbox_settled(&d, 30);
    assert_eq!(tree_hashes(&outside), before, "{}", d.log());
    // The receipts of lc are real files in lc/回执, the links they replaced are gone.
    for name in ["回执_b.txt.txt", "回执_c.txt.txt"] {
        let p = receipts.join(name);
        let meta = std::fs::symlink_metadata(&p).expect("receipt");
        assert!(meta.file_type().is_file(), "{name} is not a plain file");
        let text = std::fs::read_to_string(&p).expect("read");
        assert!(text.contains("NB-"), "{text}");
    }
    // xss: its receipt was not written; the admin is told once; its mail still went.
    assert_eq!(
        outbox_count(
            &d,
            "kind = 'receipt' AND recipient LIKE 'xss/%' AND state = 'failed'"
        ),
        1
    );
    assert_eq!(
        outbox_count(&d, "subject LIKE '【回执目录异常】xss/回执%'"),
        1
    );
    assert_eq!(
        outbox_count(&d, "recipient = 'gkb@xss.example.cn' AND state = 'sent'"),
        1
    );
    assert_eq!(d.stop(), Some(0));
    // The database is whole, and the daemon starts on it and takes the next file.
    let conn = rusqlite::Connection::open(&db).expect("open db");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok");
    drop(conn);
    d.start();
    std::fs::write(d.inbox().join("lc/d.txt"), distinct_report(4)).expect("w");
    d.wait_count(CHECKED, 4, 30);
    assert_eq!(tree_hashes(&outside), before);
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn a_file_named_like_the_receipt_folder_is_reported_once_and_mail_still_goes() {
    let mut d = Daemon::new();
    let blocker = d.inbox().join("xss/回执");
    std::fs::write(&blocker, "a file, not a folder").expect("w");
    d.start();
    for i in 0..3 {
        std::fs::write(
            d.inbox().join(format!("xss/r{i}.txt")),
            distinct_report(10 + i),
        )
        .expect("w");
    }
    d.wait_count(CHECKED, 3, 30);
    wait_outbox_settled(&d, 30);
    // Every feedback mail went, every receipt was refused at once (not retried), and the
    // admin heard about the folder once, not once per receipt.
    assert_eq!(
        outbox_count(&d, "recipient = 'gkb@xss.example.cn' AND state = 'sent'"),
        3
    );
    // (Three receipt files, and the rewrites marking r0's and r1's superseded.)
    let receipts = outbox_count(&d, "kind = 'receipt'");
    assert!(receipts >= 3, "{receipts}");
    assert_eq!(
        outbox_count(&d, "kind = 'receipt' AND state = 'failed' AND attempts = 1"),
        receipts
    );
    assert_eq!(outbox_count(&d, "kind = 'notice'"), 1, "{}", d.log());
    assert_eq!(
        outbox_count(&d, "subject LIKE '【回执目录异常】xss/回执%'"),
        1
    );
    assert_eq!(
        std::fs::read_to_string(&blocker).expect("read"),
        "a file, not a folder"
    );
    assert_eq!(d.stop(), Some(0));
}

/// `rename(from, to)` that swaps when `to` exists (RENAME_EXCHANGE), so the version it
/// replaces is kept at `from`; `false` when `to` was not there (then a plain rename).
fn rename_keeping_the_old(from: &Path, to: &Path) -> bool {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, from, CWD, to, RenameFlags::EXCHANGE) {
        Ok(()) => true,
        Err(rustix::io::Errno::NOENT) => {
            std::fs::rename(from, to).expect("rename");
            false
        }
        Err(e) => panic!("renameat2: {e}"),
    }
}

#[test]
fn two_hundred_resaves_by_rename_lose_no_version() {
    use rand::{Rng, SeedableRng};
    let mut d = Daemon::new();
    // Short settle, so that many versions settle and are taken during the loop.
    let config = d.dir.path().join("nianbao.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace("settle_ms = 300", "settle_ms = 40")).expect("w");
    d.start();
    d.wait_count("SELECT 1", 1, 10);
    let report = d.inbox().join("xss/年报.txt");
    // Ignored by the watcher (`*.tmp`), like Word's and WPS's own temporary files.
    let tmp = d.inbox().join("xss/年报.txt.tmp");
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    let mut versions: Vec<String> = Vec::new();
    // Versions the agency itself replaced (it would have lost them without the daemon).
    let mut displaced: HashSet<String> = HashSet::new();
    for i in 0..200 {
        let bytes = distinct_report(1000 + i);
        versions.push(sha256(&bytes));
        std::fs::write(&tmp, &bytes).expect("w");
        if rename_keeping_the_old(&tmp, &report) {
            displaced.insert(sha256(&std::fs::read(&tmp).expect("read")));
            std::fs::remove_file(&tmp).expect("rm");
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(0..=80)));
    }
    // Everything left settles and is taken: the folder holds no file any more.
    let files_left = || -> Vec<PathBuf> {
        std::fs::read_dir(d.inbox().join("xss"))
            .expect("ls")
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !files_left().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(files_left().is_empty(), "{:?}", files_left());
    let archived: HashSet<String> = d
        .db()
        .expect("db")
        .prepare("SELECT sha256 FROM submissions")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("hashes");
    let lost: Vec<usize> = versions
        .iter()
        .enumerate()
        .filter(|(_, v)| !archived.contains(*v) && !displaced.contains(*v))
        .map(|(i, _)| i)
        .collect();
    assert!(
        lost.is_empty(),
        "versions deleted without being archived: {lost:?} ({} archived, {} replaced by the agency)",
        archived.len(),
        displaced.len()
    );
    assert!(
        archived.len() > 5,
        "too few versions taken ({}) for the test to mean anything",
        archived.len()
    );
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn a_250_byte_name_gets_its_receipt() {
    let mut d = Daemon::new();
    d.start();
    d.wait_count("SELECT 1", 1, 10);
    // 80 CJK characters and ".txt": 244 bytes; its receipt name `回执_<name>.txt` is 255.
    let name = format!("{}.txt", "报".repeat(80));
    assert_eq!(name.len(), 244);
    // 253 bytes: its receipt name must be cut to fit.
    let longer = format!("{}.txt", "告".repeat(83));
    std::fs::write(d.inbox().join("xss").join(&name), distinct_report(20)).expect("w");
    std::fs::write(d.inbox().join("xss").join(&longer), distinct_report(21)).expect("w");
    d.wait_count(CHECKED, 2, 30);
    wait_outbox_settled(&d, 30);
    assert_eq!(outbox_count(&d, "state != 'sent'"), 0, "{}", d.log());
    let receipts = d.inbox().join("xss/回执");
    let text = std::fs::read_to_string(receipts.join(format!("回执_{name}.txt"))).expect("receipt");
    assert!(text.contains("NB-"), "{text}");
    let cut: Vec<String> = std::fs::read_dir(&receipts)
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("回执_告"))
        .collect();
    assert_eq!(cut.len(), 1, "{cut:?}");
    assert!(cut[0].len() <= 255 && cut[0].ends_with(".txt"), "{cut:?}");
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn hard_links_and_strangers_files_are_refused_and_archives_are_0640() {
    let mut d = Daemon::new();
    let outside = d.dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let secret = outside.join("secret.txt");
    // A valid report, so that only the refusal can keep it out.
    std::fs::write(&secret, distinct_report(30)).expect("w");
    let secret_hash = sha256(&std::fs::read(&secret).expect("read"));
    let link = d.inbox().join("xss/link.txt");
    std::fs::hard_link(&secret, &link).expect("hard link");
    // A file of nobody who drops files here: neither the inbox's owner or group, nor the
    // daemon's user (the daemon runs as the test's user). Only root can make one.
    let stranger = d.inbox().join("xss/stranger.txt");
    let root = rustix::process::geteuid().is_root();
    if root {
        std::fs::write(&stranger, distinct_report(33)).expect("w");
        std::os::unix::fs::chown(&stranger, Some(54321), Some(54321)).expect("chown");
    }
    let refused: usize = if root { 2 } else { 1 };
    d.start();
    std::fs::write(d.inbox().join("xss/ok.txt"), distinct_report(31)).expect("w");
    d.wait_count(CHECKED, 1, 30);
    // Several rescans (every second) later: still refused, logged once, told once.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(d.count("SELECT count(*) FROM submissions"), 1);
    assert_eq!(
        d.count("SELECT count(*) FROM submissions WHERE original_name = 'xss/ok.txt'"),
        1
    );
    assert!(link.exists(), "the refused link was removed");
    assert_eq!(std::fs::metadata(&secret).expect("stat").nlink(), 2);
    assert_eq!(sha256(&std::fs::read(&secret).expect("read")), secret_hash);
    assert_eq!(
        d.log().matches("refused: left in place").count(),
        refused,
        "{}",
        d.log()
    );
    assert_eq!(
        outbox_count(&d, "subject LIKE '【拒收文件】xss/link.txt'"),
        1
    );
    if root {
        assert!(stranger.exists(), "the stranger's file was removed");
        assert_eq!(
            outbox_count(&d, "subject LIKE '【拒收文件】xss/stranger.txt'"),
            1
        );
    }
    // The archive copy of what was taken is 0640.
    let sha: String = d
        .db()
        .expect("db")
        .query_row("SELECT sha256 FROM submissions", [], |r| r.get(0))
        .expect("sha");
    let archived = d.dir.path().join("data/archive").join(&sha[..2]).join(&sha);
    let mode = std::fs::metadata(&archived)
        .expect("archived")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640, "{mode:o}");
    // A restart looks at it again, and does not tell the admin again.
    assert_eq!(d.stop(), Some(0));
    d.start();
    std::fs::write(d.inbox().join("xss/ok2.txt"), distinct_report(32)).expect("w");
    d.wait_count(CHECKED, 2, 30);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        outbox_count(&d, "subject LIKE '【拒收文件】%'"),
        refused as i64
    );
    assert!(link.exists());
    assert_eq!(d.stop(), Some(0));
}
