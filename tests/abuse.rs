//! Issue 23, "Abuse": the daemon and its console under hostile use. Each test drives the
//! real daemon (real folders, SQLite, HTTP on 127.0.0.1, aiosmtpd) with small limits.

mod harness;

use calamine::{Data, Reader, Xlsx};
use harness::web::{self, Client};
use harness::{CHECKED, Daemon, distinct_report};

/// `nianbao <args> --config <the daemon's>`: stdout, after asserting success.
fn cli_ok(d: &Daemon, args: &[&str]) -> Vec<u8> {
    let (code, out, err) = d.cli(args);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    out.into_bytes()
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
