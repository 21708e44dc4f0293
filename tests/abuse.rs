//! Issue 23, "Abuse": the daemon and its console under hostile use. Each test drives the
//! real daemon (real folders, SQLite, HTTP on 127.0.0.1, aiosmtpd) with small limits.

mod harness;

use std::time::{Duration, Instant};

use calamine::{Data, Reader, Xlsx};
use harness::web::{self, Client};
use harness::{CHECKED, Daemon, distinct_report};

/// `nianbao <args> --config <the daemon's>`: stdout, after asserting success.
fn cli_ok(d: &Daemon, args: &[&str]) -> Vec<u8> {
    let (code, out, err) = d.cli(args);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    out.into_bytes()
}

/// Waits until `f` holds (or panics with `what` and the log after `secs`).
fn wait_for(d: &Daemon, what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            Instant::now() < deadline,
            "{what} not within {secs} s\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

// Item 4: CSV formula injection.

const EVIL_NAME: &str = "=HYPERLINK(\"http://evil\",\"点我\")";
const EVIL_FOLDER: &str = "+cmd|' -C calc'!A0";

/// Every field of a CSV export: none may start with a formula character unless it is a
/// plain number; the evil names are there, neutralised with a leading `'`.
fn assert_csv_safe(csv: &[u8]) {
    let text = String::from_utf8(csv.to_vec()).expect("utf-8");
    let cells: Vec<String> = text
        .trim_start_matches('\u{FEFF}')
        .lines()
        .flat_map(harness::csv_fields)
        .collect();
    for cell in &cells {
        let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
        assert!(
            !risky || cell.parse::<f64>().is_ok(),
            "a cell opens as a formula: {cell:?}"
        );
    }
    assert!(cells.contains(&format!("'{EVIL_NAME}")), "{cells:?}");
    assert!(cells.contains(&format!("'{EVIL_FOLDER}")), "{cells:?}");
    assert!(
        cells.iter().any(|c| c == "2"),
        "numbers stay numbers: {cells:?}"
    );
}

#[test]
fn csv_export_neutralises_formulas_and_xlsx_stays_text() {
    let port = web::free_port();
    let mut d = Daemon::with_config(
        "",
        &format!(
            "[[agency]]\nfolder = \"evil\"\nname = {EVIL_NAME:?}\n\
             [http]\nlisten = \"127.0.0.1:{port}\"\n"
        ),
    );
    for folder in ["evil", EVIL_FOLDER] {
        std::fs::create_dir_all(d.inbox().join(folder)).expect("folder");
    }
    std::fs::write(d.inbox().join("evil/2022年报.txt"), distinct_report(1)).expect("write");
    std::fs::write(
        d.inbox().join(EVIL_FOLDER).join("2022年报.txt"),
        distinct_report(2),
    )
    .expect("write");
    d.start();
    d.wait_count(CHECKED, 2, 60);

    assert_csv_safe(&cli_ok(&d, &["export", "--year", "2022"]));
    let mut client = Client::new(port);
    let reply = client.get("/export/2022.csv");
    assert_eq!(reply.code, 200, "{}", reply.text());
    assert_csv_safe(&reply.body);

    // xlsx: text cells are strings (never formulas), the names exactly as given.
    let path = d.dir.path().join("2022.xlsx");
    cli_ok(
        &d,
        &[
            "export",
            "--year",
            "2022",
            "--format",
            "xlsx",
            "--output",
            &path.display().to_string(),
        ],
    );
    let mut workbook: Xlsx<_> = calamine::open_workbook(&path).expect("open xlsx");
    let formulas = workbook.worksheet_formula("2022年度").expect("formulas");
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no formula in the workbook"
    );
    let range = workbook.worksheet_range("2022年度").expect("sheet");
    let cells: Vec<&Data> = range.rows().flatten().collect();
    for name in [EVIL_NAME, EVIL_FOLDER] {
        assert!(
            cells.contains(&&Data::String(name.to_string())),
            "{name} is a text cell"
        );
    }
    assert!(cells.contains(&&Data::Float(2.0)), "numbers stay numbers");
    assert_eq!(d.stop(), Some(0));
}

// Item 1: a sparse (or just oversized) file is answered from its size, never copied.

/// Bytes under `dir`, recursively (apparent sizes).
fn bytes_under(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => bytes_under(&e.path()),
                    _ => e.metadata().map_or(0, |m| m.len()),
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The `.eml` files whose text contains `needle`.
fn emls_with(d: &Daemon, needle: &str) -> usize {
    d.eml_files()
        .iter()
        .filter(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).contains(needle))
        .count()
}

#[test]
fn an_oversized_sparse_file_is_answered_from_its_size_and_never_copied() {
    let mut d = Daemon::new(); // max_file_mb = 1
    let big = d.inbox().join("xss/2022年报.pdf");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(64 << 20))
        .expect("sparse file");
    std::fs::write(d.inbox().join("lc/2022年报.txt"), distinct_report(3)).expect("write");
    d.start();
    d.wait_count(CHECKED, 1, 30);
    // The agency is told (the subject is encoded; its recipient is not).
    wait_for(&d, "the answer to the oversized file", 30, || {
        emls_with(&d, "gkb@xss.example.cn") == 1
    });
    let archived = bytes_under(&d.dir.path().join("data/archive"));
    assert!(
        archived < 1 << 20,
        "{archived} bytes in the archive: the oversized file was copied"
    );
    assert!(big.exists(), "not archived, so not removed");
    assert_eq!(
        d.count("SELECT count(*) FROM submissions WHERE agency_folder = 'xss'"),
        0
    );
    // Rescans (every second) and a restart do not answer it again.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(d.stop(), Some(0));
    d.start();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(emls_with(&d, "gkb@xss.example.cn"), 1, "told once");
    let (_, text, _) = harness::smtp::parts(
        &std::fs::read(
            d.eml_files()
                .iter()
                .find(|p| {
                    String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default())
                        .contains("gkb@xss.example.cn")
                })
                .expect("the answer"),
        )
        .expect("read"),
    );
    assert!(text.contains("超过 1048576 字节的上限"), "{text}");
    assert!(text.contains("文件仍在原文件夹中"), "{text}");
    assert!(bytes_under(&d.dir.path().join("data/archive")) < 1 << 20);
    assert_eq!(d.stop(), Some(0));
}
