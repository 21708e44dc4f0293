//! `nianbao import DIR --year Y`: last year's published reports (corpus files and generated
//! ones) become history, attributed by folder or by the name in the title; the real daemon
//! then checks next season's reports against them (`history.carry_over`). Importing twice
//! changes nothing, and no mail goes out: the real SMTP server receives nothing.

mod harness;
mod support;

use std::path::Path;
use std::process::Command;

use harness::smtp::{SmtpServer, free_port, received, smtp_config};
use harness::{CHECKED, Daemon, fixture};
use nianbao::report::{AppColumn, AppRow, AppValues, Report, Template};
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::{Layout, Options, TextEncoding, random_report, render};

const MORE_AGENCIES: &str = "\
[[agency]]\nfolder = \"gen\"\nname = \"鼓楼区人民政府办公室\"\nemail = [\"gkb@gl.example.cn\"]\n\
[[agency]]\nfolder = \"jn\"\nname = \"江宁区人民政府办公室\"\nemail = [\"gkb@jn.example.cn\"]\n\
[[agency]]\nfolder = \"ctl\"\nname = \"临平区人民政府办公室\"\nemail = [\"gkb@lp.example.cn\"]\n";

/// `nianbao import DIR --year 2022 --config FILE`: exit code, stdout, the summary's counts
/// (files, imported, already there, unmatched, unreadable, wrong year).
fn import(config: &Path, dir: &Path) -> (Option<i32>, String, Vec<usize>) {
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("import")
        .arg(dir)
        .args(["--year", "2022", "--config"])
        .arg(config)
        .output()
        .expect("run nianbao import");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let counts = stdout
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    (out.status.code(), stdout, counts)
}

/// A generated report of `agency` and `year`, all relations holding.
fn generated(seed: u64, agency: &str, year: i32) -> Report {
    let mut r = random_report(&mut StdRng::seed_from_u64(seed), Template::V2021);
    r.agency = Some(agency.to_string());
    r.year = Some(year);
    r.title = Some(format!("{agency}{year}年政府信息公开工作年度报告"));
    if let Some(p) = r.period.as_mut() {
        p.text = format!("统计期限自{year}年1月1日起至{year}年12月31日止");
        p.start = Some(format!("{year}-01-01"));
        p.end = Some(format!("{year}-12-31"));
    }
    r
}

fn total(mut v: AppValues) -> AppValues {
    v[6] = Some(v[..6].iter().map(|x| x.unwrap_or(0)).sum());
    v
}

/// Next year's report of `agency` after `previous`: its 上年结转 is `previous`'s 结转下年度,
/// one more 自然人 if `differ`; every relation of this year's own table 2 still holds, so
/// the only error about 上年结转 can come from last year's report.
fn next_year(seed: u64, agency: &str, previous: &Report, differ: bool) -> Report {
    let mut r = generated(seed, agency, previous.year.expect("year") + 1);
    let forward_before = *previous
        .applications
        .as_ref()
        .and_then(|a| a.get(AppRow::CarriedForward))
        .expect("previous report has 结转下年度");
    let mut carried = forward_before;
    if differ {
        carried[0] = Some(carried[0].unwrap_or(0) + 1);
    }
    let carried = total(carried);
    let apps = r.applications.as_mut().expect("table 2");
    let handled = *apps.get(AppRow::TotalHandled).expect("（七）总计");
    let mut forward = *apps.get(AppRow::CarriedForward).expect("四");
    let mut new = [Some(0); 7];
    for c in 0..6 {
        // 一 + 二 = （七） + 四.
        let (h, f, k) = (
            handled[c].unwrap_or(0),
            forward[c].unwrap_or(0),
            carried[c].unwrap_or(0),
        );
        let n = h + f - k;
        if n < 0 {
            forward[c] = Some(f - n);
        }
        new[c] = Some(n.max(0));
    }
    apps.rows.insert(AppRow::NewReceived, Some(total(new)));
    apps.rows.insert(AppRow::CarriedOver, Some(carried));
    apps.rows
        .insert(AppRow::CarriedForward, Some(total(forward)));
    r
}

fn bytes(r: &Report, layout: Layout) -> Vec<u8> {
    render(r, layout, TextEncoding::Utf8, &Options::default())
}

fn read(bytes: &[u8], name: &str) -> Report {
    nianbao::check::check_bytes(bytes, name)
        .report
        .expect("readable report")
}

type HistoryRow = (String, Option<String>, i64, String, String, String);

fn history_rows(d: &Daemon) -> Vec<HistoryRow> {
    let db = d.db().expect("database");
    let mut stmt = db
        .prepare(
            "SELECT agency_folder, agency_name, year, sha256, original_name, imported_at
             FROM history ORDER BY id",
        )
        .expect("history table");
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

#[test]
fn imported_history_fires_the_cross_year_rules_of_the_next_season() {
    let mut d = Daemon::with_config("", MORE_AGENCIES);
    let published = d.dir.path().join("published");
    for sub in ["xss", "gen", "other"] {
        std::fs::create_dir_all(published.join(sub)).expect("mkdir");
    }
    // The corpus: 西塞山's report in its folder; 老城's at the top, known by its title.
    let xss_2022 = fixture("000_d016082c1b868431.txt");
    let lc_2022 = fixture("001_41152148c7aabaad.txt");
    std::fs::write(published.join("xss/2022年报.txt"), &xss_2022).expect("write");
    std::fs::write(published.join("老城区2022年报.txt"), &lc_2022).expect("write");
    // Generated: 鼓楼 as docx in its folder; 江宁 as html at the top, by its title.
    let gen_2022 = generated(1, "鼓楼区人民政府办公室", 2022);
    let jn_2022 = generated(2, "江宁区人民政府办公室", 2022);
    std::fs::write(
        published.join("gen/report.docx"),
        bytes(&gen_2022, Layout::Docx),
    )
    .expect("write");
    std::fs::write(published.join("江宁.html"), bytes(&jn_2022, Layout::Html)).expect("write");
    // Skipped, each listed: an agency not configured, another year, not a report at all.
    std::fs::write(
        published.join("other/咸宁.txt"),
        fixture("002_5ddfc993aefd2777.txt"),
    )
    .expect("write");
    std::fs::write(
        published.join("xss/2023.txt"),
        fixture("003_16d03b1718509b6f.txt"),
    )
    .expect("write");
    std::fs::write(published.join("notes.txt"), "会议纪要：无。\n").expect("write");
    let config = d.dir.path().join("nianbao.toml");

    let (code, stdout, counts) = import(&config, &published);
    assert_eq!(code, Some(1), "some files were skipped\n{stdout}");
    assert_eq!(counts, vec![7, 4, 0, 1, 1, 1], "{stdout}");
    assert!(
        stdout.contains("other/咸宁.txt") && stdout.contains("咸宁市政务服务和大数据管理局"),
        "the unmatched file and the name in its title are listed\n{stdout}"
    );
    assert!(stdout.contains("xss/2023.txt  报告年度：2023"), "{stdout}");
    assert!(stdout.contains("notes.txt"), "{stdout}");
    let rows = history_rows(&d);
    let mut folders: Vec<(&str, &str)> =
        rows.iter().map(|r| (r.0.as_str(), r.4.as_str())).collect();
    folders.sort();
    assert_eq!(
        folders,
        vec![
            ("gen", "gen/report.docx"),
            ("jn", "江宁.html"),
            ("lc", "老城区2022年报.txt"),
            ("xss", "xss/2022年报.txt"),
        ]
    );
    assert!(rows.iter().all(|r| r.2 == 2022));
    assert_eq!(
        rows.iter().find(|r| r.0 == "xss").map(|r| r.3.clone()),
        Some(nianbao::check::sha256_hex(&xss_2022))
    );

    // Twice: the same rows, nothing new, all four said to be there already.
    let (_, stdout, counts) = import(&config, &published);
    assert_eq!(counts, vec![7, 0, 4, 1, 1, 1], "{stdout}");
    assert_eq!(history_rows(&d), rows);

    // History is not a submission: no receipt, no message, nobody has submitted 2022.
    assert_eq!(d.count("SELECT count(*) FROM submissions"), 0);
    assert_eq!(d.count("SELECT count(*) FROM outbox"), 0);
    let status = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["status", "--year", "2022", "--json", "--config"])
        .arg(&config)
        .output()
        .expect("status");
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    assert_eq!(status["submissions"], serde_json::json!([]), "{status}");
    let export = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["export", "--year", "2022", "--format", "json", "--config"])
        .arg(&config)
        .output()
        .expect("export");
    let export: serde_json::Value = serde_json::from_slice(&export.stdout).expect("export JSON");
    let lines = export["lines"].as_array().expect("lines");
    assert!(!lines.is_empty());
    assert!(
        lines.iter().all(|l| l["receipt"].is_null()),
        "imported reports are not exported as submitted: {export}"
    );
    assert_eq!(export["accepted"], 0);

    // Next season, through the real daemon: 上年结转 off by one for xss, lc and gen, equal
    // for jn; ctl has no history, so no cross-year rule can fire for it.
    for folder in ["gen", "jn", "ctl"] {
        std::fs::create_dir_all(d.inbox().join(folder)).expect("mkdir");
    }
    let xss_prev = read(&xss_2022, "xss.txt");
    let lc_prev = read(&lc_2022, "lc.txt");
    let drops = [
        (
            "xss",
            next_year(11, "西塞山区政数局", &xss_prev, true),
            Layout::Docx,
        ),
        (
            "lc",
            next_year(12, "老城区人民政府办公室", &lc_prev, true),
            Layout::TabRows,
        ),
        (
            "gen",
            next_year(13, "鼓楼区人民政府办公室", &gen_2022, true),
            Layout::Html,
        ),
        (
            "jn",
            next_year(14, "江宁区人民政府办公室", &jn_2022, false),
            Layout::WordText,
        ),
        (
            "ctl",
            next_year(15, "临平区人民政府办公室", &gen_2022, true),
            Layout::Docx,
        ),
    ];
    d.start();
    for (folder, report, layout) in &drops {
        let name = format!("2023年报.{}", layout.extension());
        std::fs::write(d.inbox().join(folder).join(name), bytes(report, *layout)).expect("drop");
    }
    d.wait_count(CHECKED, drops.len() as i64, 60);
    let db = d.db().expect("database");
    let mut stmt = db
        .prepare(
            "SELECT s.agency_folder, f.col, f.expected, f.actual FROM findings f
             JOIN submissions s ON s.id = f.submission_id
             WHERE f.rule = 'history.carry_over' ORDER BY s.agency_folder, f.col",
        )
        .expect("prepare");
    let fired: Vec<(String, String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let forward = |r: &Report, c: AppColumn| {
        r.applications
            .as_ref()
            .and_then(|a| a.get(AppRow::CarriedForward))
            .and_then(|v| v[c.index()])
            .expect("value")
    };
    let mut expected = Vec::new();
    for (folder, previous) in [("gen", &gen_2022), ("lc", &lc_prev), ("xss", &xss_prev)] {
        for c in [AppColumn::NaturalPerson, AppColumn::Total] {
            let last = forward(previous, c);
            expected.push((
                folder.to_string(),
                c.id().to_string(),
                last.to_string(),
                (last + 1).to_string(),
            ));
        }
    }
    expected.sort();
    assert_eq!(fired, expected, "{}", d.log());
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn import_sends_no_mail() {
    let mail_dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let _server = SmtpServer::start(port, mail_dir.path());
    let mut d = Daemon::with_config(&smtp_config(port), "");
    let published = d.dir.path().join("published");
    std::fs::create_dir_all(published.join("xss")).expect("mkdir");
    std::fs::create_dir_all(published.join("lc")).expect("mkdir");
    let xss_2022 = fixture("000_d016082c1b868431.txt");
    std::fs::write(published.join("xss/2022.txt"), &xss_2022).expect("write");
    std::fs::write(
        published.join("lc/2022.docx"),
        bytes(&generated(3, "老城区人民政府办公室", 2022), Layout::Docx),
    )
    .expect("write");
    let config = d.dir.path().join("nianbao.toml");
    let (code, stdout, counts) = import(&config, &published);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(counts, vec![2, 2, 0, 0, 0, 0], "{stdout}");
    // The import has exited: whatever it would have sent has been sent by now.
    assert!(received(mail_dir.path()).is_empty());
    assert_eq!(d.count("SELECT count(*) FROM outbox"), 0);
    assert_eq!(d.count("SELECT count(*) FROM submissions"), 0);

    // The same configuration does reach the server: a real submission is answered, and
    // every message received is that submission's.
    d.start();
    let next = next_year(21, "西塞山区政数局", &read(&xss_2022, "x.txt"), true);
    std::fs::write(
        d.inbox().join("xss/2023.txt"),
        bytes(&next, Layout::TabRows),
    )
    .expect("drop");
    d.wait_count(CHECKED, 1, 60);
    d.wait_count("SELECT count(*) FROM outbox WHERE state != 'sent'", 0, 60);
    // The receipt file (`回执/`) is an outbox row too, written to the folder, not mailed.
    let sent = d.count("SELECT count(*) FROM outbox WHERE kind != 'receipt'");
    assert!(sent >= 1);
    assert_eq!(
        d.count("SELECT count(DISTINCT submission_id) FROM outbox WHERE submission_id IS NOT NULL"),
        1
    );
    assert_eq!(received(mail_dir.path()).len() as i64, sent);
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn without_configured_agencies_the_folder_name_is_the_agency() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("nianbao.toml");
    std::fs::write(
        &config,
        format!("data_dir = {:?}\n", dir.path().join("data")),
    )
    .expect("config");
    let published = dir.path().join("published");
    std::fs::create_dir_all(published.join("xisaishan/2022")).expect("mkdir");
    std::fs::write(
        published.join("xisaishan/2022/年报.txt"),
        fixture("000_d016082c1b868431.txt"),
    )
    .expect("write");
    // At the top there is no folder, and no configured name to match the title against.
    std::fs::write(
        published.join("老城.txt"),
        fixture("001_41152148c7aabaad.txt"),
    )
    .expect("write");
    let (code, stdout, counts) = import(&config, &published);
    assert_eq!(code, Some(1), "{stdout}");
    assert_eq!(counts, vec![2, 1, 0, 1, 0, 0], "{stdout}");
    let db = rusqlite::Connection::open(dir.path().join("data/nianbao.sqlite")).expect("db");
    let (folder, name): (String, Option<String>) = db
        .query_row("SELECT agency_folder, agency_name FROM history", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("one row");
    assert_eq!(folder, "xisaishan");
    assert_eq!(name.as_deref(), Some("区政数局"));
}
