//! China time, configuration checks, control characters, zero-config agencies and the
//! years `status` shows, against the real daemon binary, its SQLite file and real folders.
//!
//! The clock: debug builds honour `NIANBAO_TEST_NOW` (an RFC 3339 instant the daemon's clock
//! starts from); the tests run the debug binary.

mod harness;

use std::path::Path;
use std::process::{Command, Output};

use harness::{CHECKED, Daemon, SETTLE_MS, report_for};

fn nianbao(args: &[&str], config: &Path, env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(args)
        .arg("--config")
        .arg(config)
        .envs(env.iter().copied())
        .output()
        .expect("run nianbao")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A daemon whose configuration is `body` after its inbox and data folder (and a short
/// settle time): no agencies unless `body` has some, `filing_year` only if it says so.
fn daemon(body: &str) -> Daemon {
    let d = Daemon::new();
    std::fs::write(
        d.dir.path().join("nianbao.toml"),
        format!(
            "inbox = {:?}\ndata_dir = {:?}\nsettle_ms = {SETTLE_MS}\nrescan_interval_s = 1\n{body}",
            d.inbox(),
            d.dir.path().join("data")
        ),
    )
    .expect("config");
    d
}

fn config_path(d: &Daemon) -> std::path::PathBuf {
    d.dir.path().join("nianbao.toml")
}

fn one(d: &Daemon, sql: &str) -> String {
    d.db()
        .expect("db")
        .query_row(sql, [], |r| r.get::<_, String>(0))
        .expect(sql)
}

// ---- 2. The year is China's ----

/// 07:30 on 1 January 2026 in Beijing is 23:30 on 31 December 2025 in UTC: the 2025 report
/// is due now, and is accepted with a 2026 receipt number.
#[test]
fn new_years_morning_in_beijing_files_the_year_just_ended() {
    let mut d = daemon("");
    std::fs::create_dir_all(d.inbox().join("xss")).expect("folder");
    d.start_env(&[("NIANBAO_TEST_NOW", "2025-12-31T23:30:00Z")]);
    std::fs::write(d.inbox().join("xss/2025年报.txt"), report_for(2025)).expect("drop");
    d.wait_count(CHECKED, 1, 30);
    assert_eq!(
        one(&d, "SELECT verdict FROM submissions"),
        "accepted",
        "{}",
        d.log()
    );
    assert!(one(&d, "SELECT receipt FROM submissions").starts_with("NB-2026-"));
    assert_eq!(
        d.count("SELECT count(*) FROM findings WHERE rule = 'season.year'"),
        0
    );
    // `status` by default shows the year due in China: 2025.
    let out = nianbao(
        &["status"],
        &config_path(&d),
        &[("NIANBAO_TEST_NOW", "2025-12-31T23:30:00Z")],
    );
    let shown = text(&out);
    assert!(shown.starts_with("2025 年度"), "{shown}");
    assert!(shown.contains("已受理"), "{shown}");
    assert_eq!(d.stop(), Some(0));
}

/// 23:30 on 31 December 2025 in Beijing (15:30 UTC): 2025 has not ended, the report is
/// refused and numbered in 2025.
#[test]
fn new_years_eve_in_beijing_the_year_has_not_ended() {
    let mut d = daemon("");
    std::fs::create_dir_all(d.inbox().join("xss")).expect("folder");
    d.start_env(&[("NIANBAO_TEST_NOW", "2025-12-31T15:30:00Z")]);
    std::fs::write(d.inbox().join("xss/2025年报.txt"), report_for(2025)).expect("drop");
    d.wait_count(CHECKED, 1, 30);
    assert_eq!(one(&d, "SELECT verdict FROM submissions"), "rejected");
    assert!(one(&d, "SELECT receipt FROM submissions").starts_with("NB-2025-"));
    assert_eq!(
        d.count("SELECT count(*) FROM findings WHERE rule = 'season.year'"),
        1
    );
    assert_eq!(d.stop(), Some(0));
}

// ---- 3 and 4. Configuration checks ----

#[test]
fn config_check_refuses_bad_senders_and_admins() {
    let d = daemon("");
    for (mail, needle) in [
        (
            "[mail]\nfrom = \"政务公开办 <gkb@office.example.cn>\\r\\nBcc: x@evil.example.cn\"",
            "from",
        ),
        (
            "[mail]\nfrom = \"gkb@office.example.cn, x@evil.example.cn\"",
            "from",
        ),
        ("[mail]\nfrom = \"gkb@office.example.cn\\n\"", "from"),
        (
            "[mail]\nadmin = \"admin@office.example.cn, x@evil.example.cn\"",
            "admin",
        ),
        ("[mail]\nadmin = \"admin@office.example.cn\\r\\n\"", "admin"),
    ] {
        let path = d.dir.path().join("bad.toml");
        std::fs::write(&path, mail).expect("config");
        let out = nianbao(&["config", "check"], &path, &[]);
        assert_eq!(out.status.code(), Some(2), "{mail}: {}", text(&out));
        assert!(text(&out).contains(needle), "{mail}: {}", text(&out));
        // `run` refuses it too, before touching anything.
        let out = nianbao(&["run"], &path, &[]);
        assert_eq!(out.status.code(), Some(2), "{mail}: {}", text(&out));
        assert!(text(&out).contains(needle), "{mail}: {}", text(&out));
    }
    let good = d.dir.path().join("good.toml");
    std::fs::write(
        &good,
        "[mail]\nfrom = \"政务公开办 <gkb@office.example.cn>\"\nadmin = \"admin@office.example.cn\"",
    )
    .expect("config");
    let out = nianbao(&["config", "check"], &good, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn config_check_refuses_folders_the_watcher_never_reads() {
    let d = daemon("");
    for folder in [".hidden", "回执", "~$x", "a.tmp", "x.part", "a/b", "..", ""] {
        let path = d.dir.path().join("bad.toml");
        std::fs::write(
            &path,
            format!("[[agency]]\nfolder = {folder:?}\nname = \"东湖区财政局\"\n"),
        )
        .expect("config");
        let out = nianbao(&["config", "check"], &path, &[]);
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(2), "{folder:?}: {shown}");
        assert!(shown.contains("东湖区财政局"), "{folder:?}: {shown}");
        assert!(
            shown.contains(&format!("{folder:?}")),
            "{folder:?}: {shown}"
        );
    }
}

// ---- 5. Control characters ----

#[test]
fn control_characters_in_file_names_are_escaped_in_log_and_status() {
    let mut d = daemon("filing_year = 2023\n");
    std::fs::create_dir_all(d.inbox().join("xss")).expect("folder");
    d.start();
    let name = "bad\u{1b}[31mred\u{7}\nINFO fake record.txt";
    std::fs::write(d.inbox().join("xss").join(name), report_for(2022)).expect("drop");
    d.wait_count(CHECKED, 1, 30);
    assert_eq!(d.stop(), Some(0));
    let log = d.log();
    assert!(
        !log.chars().any(|c| c.is_control() && c != '\n'),
        "raw control characters in the log:\n{log:?}"
    );
    let checked: Vec<&str> = log.lines().filter(|l| l.contains("checked")).collect();
    assert_eq!(checked.len(), 1, "{log}");
    assert!(
        checked[0].contains("bad\\x1b[31mred\\x07\\nINFO fake record.txt"),
        "{log}"
    );
    assert!(
        !log.lines().any(|l| l.starts_with("INFO fake")),
        "a name split a record:\n{log}"
    );

    let out = nianbao(&["status"], &config_path(&d), &[]);
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n'),
        "{shown:?}"
    );
    assert!(
        shown.contains("bad\\x1b[31mred\\x07\\nINFO fake record.txt"),
        "{shown}"
    );
    // JSON keeps the real name (JSON escapes it itself).
    let out = nianbao(&["status", "--json"], &config_path(&d), &[]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["submissions"][0]["file"], format!("xss/{name}"));
}

// ---- 6. Zero-config agencies ----

#[test]
fn without_agencies_each_folder_is_an_agency_of_its_own() {
    let mut d = daemon(
        "filing_year = 2023\n[[agency]]\nfolder = \"lc\"\nname = \"老城区人民政府办公室\"\n",
    );
    for f in ["a", "b", "lc", "quiet"] {
        std::fs::create_dir_all(d.inbox().join(f)).expect("folder");
    }
    d.start();
    std::fs::write(d.inbox().join("a/r.txt"), report_for(2022)).expect("drop");
    std::fs::write(d.inbox().join("b/r.txt"), report_for(2022)).expect("drop");
    std::fs::write(d.inbox().join("root.txt"), report_for(2022)).expect("drop");
    d.wait_count(CHECKED, 3, 30);
    assert_eq!(d.stop(), Some(0));
    // Same bytes in two folders: two agencies, so neither is a duplicate of the other.
    assert_eq!(
        d.count("SELECT count(*) FROM submissions WHERE agency_folder = 'a' AND agency_name = 'a' AND duplicate_of IS NULL"),
        1
    );
    assert_eq!(
        d.count("SELECT count(*) FROM submissions WHERE agency_folder = 'b' AND agency_name = 'b' AND duplicate_of IS NULL"),
        1
    );
    assert_eq!(
        d.count("SELECT count(*) FROM submissions WHERE agency_folder IS NULL"),
        1
    );
    let out = nianbao(&["status"], &config_path(&d), &[]);
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    for line in [
        "  a：已受理",
        "  b：已受理",
        "  老城区人民政府办公室：未提交",
        "  quiet：未提交",
    ] {
        assert!(shown.contains(line), "{line}\n{shown}");
    }
    assert!(shown.contains("收件箱根目录"), "{shown}");
}

// ---- 7. Other years in `status` ----

#[test]
fn status_points_to_other_years_and_shows_all() {
    let mut d = daemon("filing_year = 2026\n");
    std::fs::create_dir_all(d.inbox().join("xss")).expect("folder");
    d.start();
    std::fs::write(d.inbox().join("xss/old.txt"), report_for(2022)).expect("drop");
    d.wait_count(CHECKED, 1, 30);
    assert_eq!(d.stop(), Some(0));

    let out = nianbao(&["status"], &config_path(&d), &[]);
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(shown.starts_with("2025 年度"), "{shown}");
    assert!(
        shown.contains("另有 2022 年度 1 份，用 --year 2022 查看"),
        "{shown}"
    );

    let out = nianbao(&["status", "--json"], &config_path(&d), &[]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        json["other_years"],
        serde_json::json!([{"year": 2022, "submissions": 1}])
    );

    let out = nianbao(&["status", "--all"], &config_path(&d), &[]);
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(shown.contains("2025 年度报告报送情况"), "{shown}");
    assert!(shown.contains("2022 年度报告报送情况"), "{shown}");
    assert!(shown.contains("xss：已受理"), "{shown}");
    assert!(!shown.contains("另有"), "{shown}");

    let out = nianbao(&["status", "--all", "--json"], &config_path(&d), &[]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let years: Vec<i64> = json
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| s["year"].as_i64().expect("year"))
        .collect();
    assert_eq!(years, [2025, 2022]);
}
