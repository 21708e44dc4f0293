//! `docs/check-json.md` is the contract of `nianbao check --json`: this test keeps it true.

use std::collections::BTreeSet;
use std::process::Command;

use nianbao::report::{AppColumn, AppRow};

fn doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/check-json.md"))
        .expect("docs/check-json.md")
}

/// The ids in the first column of the page's row table.
fn documented_rows(doc: &str) -> BTreeSet<String> {
    doc.lines()
        .skip_while(|l| !l.starts_with("| id | row |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(1).map(|c| c.trim().to_string()))
        .collect()
}

/// The backticked ids of the "column ids" paragraph.
fn documented_columns(doc: &str) -> BTreeSet<String> {
    let start = doc.find("- column ids").expect("column ids paragraph");
    let para = &doc[start..];
    let para = &para[..para.find("\n- ").unwrap_or(para.len())];
    // The ids follow the colon; `location.column` before it names the key.
    let para = &para[para.find("):").map_or(0, |i| i + 2)..];
    para.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The JSON example of the page.
fn example(doc: &str) -> serde_json::Value {
    let start = doc.find("```json").expect("example") + "```json".len();
    let end = start + doc[start..].find("```").expect("end of example");
    // The example's Chinese message uses typographic quotes inside a JSON string as plain
    // quotes; read it leniently by dropping the message line.
    let text: String = doc[start..end]
        .lines()
        .filter(|l| !l.trim_start().starts_with("\"message\""))
        .map(|l| l.replace("\"actual\": \"10\",", "\"actual\": \"10\""))
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&text).expect("the example is JSON")
}

fn keys(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn row_and_column_ids_are_the_programs() {
    let doc = doc();
    let rows: BTreeSet<String> = AppRow::ALL.iter().map(|r| r.id().to_string()).collect();
    assert_eq!(documented_rows(&doc), rows);
    let columns: BTreeSet<String> = AppColumn::ALL.iter().map(|c| c.id().to_string()).collect();
    assert_eq!(documented_columns(&doc), columns);
}

#[test]
fn the_output_has_every_documented_key_and_only_catalogued_rules() {
    let doc = doc();
    let example = example(&doc);
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["check", "--json"])
        .arg(format!("{fixture}001_41152148c7aabaad.txt"))
        .arg(format!("{fixture}005_huaian-2024.pdftotext.txt"))
        .output()
        .expect("run");
    let catalogue = String::from_utf8_lossy(
        &Command::new(env!("CARGO_BIN_EXE_nianbao"))
            .arg("rules")
            .output()
            .expect("rules")
            .stdout,
    )
    .into_owned();
    let documented_rows = documented_rows(&doc);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    for got in &lines {
        let missing: Vec<String> = keys(&example).difference(&keys(got)).cloned().collect();
        assert!(missing.is_empty(), "top-level keys missing: {missing:?}");
        let report_missing: Vec<String> = keys(&example["report"])
            .difference(&keys(&got["report"]))
            .cloned()
            .collect();
        assert!(
            report_missing.is_empty(),
            "report keys missing: {report_missing:?}"
        );
        for row in keys(&got["report"]["applications"]) {
            assert!(documented_rows.contains(&row), "undocumented row id {row}");
        }
        for f in got["findings"].as_array().expect("findings") {
            for key in ["rule", "severity", "location", "message"] {
                assert!(f.get(key).is_some(), "finding without {key}: {f}");
            }
            let rule = f["rule"].as_str().expect("rule id");
            assert!(
                catalogue
                    .lines()
                    .any(|l| l.starts_with(&format!("{rule} "))),
                "rule {rule} is not in the catalogue"
            );
            let severity = f["severity"].as_str().expect("severity");
            assert!(matches!(severity, "error" | "warning"), "{severity}");
        }
    }
}

/// The backticked reader names of the `table_readers` paragraph.
fn documented_readers(doc: &str) -> BTreeSet<String> {
    let start = doc
        .find("- `table_readers`")
        .expect("table_readers paragraph");
    let para = &doc[start..];
    let para = &para[..para.find("\n- ").unwrap_or(para.len())];
    let para = &para[para.find("one of:").expect("the list of readers")..];
    para.split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(str::to_string)
        .collect()
}

/// Every table names its reader: a text file its text, the published WPS PDF (tables drawn
/// with borders) its grid; every reader named is a documented one.
#[test]
fn table_readers_name_the_reader_of_each_table() {
    let doc = doc();
    let documented = documented_readers(&doc);
    assert_eq!(
        documented,
        ["cells", "grid", "mixed", "text", "text_geometry"]
            .map(String::from)
            .into(),
    );
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["check", "--json"])
        .arg(format!("{fixture}005_huaian-2024.pdftotext.txt"))
        .arg(format!("{fixture}005_huaian-2024.pdf"))
        .output()
        .expect("run");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let readers = |v: &serde_json::Value| -> Vec<(u64, String)> {
        v["table_readers"]
            .as_array()
            .expect("table_readers")
            .iter()
            .map(|t| {
                let reader = t["reader"].as_str().expect("reader").to_string();
                assert!(documented.contains(&reader), "undocumented reader {reader}");
                (t["table"].as_u64().expect("table"), reader)
            })
            .collect()
    };
    let all =
        |reader: &str| -> Vec<(u64, String)> { (1..=3).map(|t| (t, reader.to_string())).collect() };
    assert_eq!(lines.len(), 2);
    assert_eq!(readers(&lines[0]), all("text"));
    assert_eq!(readers(&lines[1]), all("grid"));
}

#[test]
fn check_help_points_to_the_contract_that_exists() {
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["check", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("docs/check-json.md"), "{help}");
    for format in ["pdf", "xlsx", "docx", "html", "txt"] {
        assert!(
            help.contains(format),
            "--help does not name {format}:\n{help}"
        );
    }
    assert!(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/check-json.md")).exists()
    );
}
