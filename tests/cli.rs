//! `nianbao check` and `nianbao rules` as a user runs them: the real binary, real files.

mod harness;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use harness::sha256sum;
use serde_json::Value;

fn nianbao(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(args)
        .output()
        .expect("run nianbao")
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn json_contract_for_an_accepted_report() {
    let path = fixture("000_d016082c1b868431.txt");
    let out = nianbao(&["check", "--json", "--filing-year", "2023", &path]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = &json_lines(&out)[0];
    assert_eq!(v["file"], path.as_str());
    assert_eq!(v["format"], "txt");
    assert_eq!(v["encoding"], "UTF-8");
    assert_eq!(v["sha256"], sha256sum(Path::new(&path)).as_str());
    assert_eq!(v["template"], "2021");
    let r = &v["report"];
    assert_eq!(r["agency"], "区政数局");
    assert_eq!(r["year"], 2022);
    let t1 = &r["active_disclosure"];
    assert_eq!(t1["normative_documents"]["issued"], 2);
    assert_eq!(t1["normative_documents"]["in_force"], 6);
    assert_eq!(t1["regulations"]["repealed"], 0);
    assert_eq!(t1["administrative_licensing"], 0);
    assert_eq!(t1["administrative_fees"], "0", "fees are a decimal string");
    let apps = r["applications"].as_object().expect("applications object");
    assert_eq!(apps.len(), 25, "every 2021 row id is present");
    assert_eq!(apps["new_received"].as_array().map(Vec::len), Some(7));
    assert!(apps.contains_key("other_overdue_correction"));
    assert!(!apps.contains_key("other_handling"), "2019-only row");
    assert_eq!(r["reviews_and_litigation"]["review"]["total"], 0);
    assert_eq!(
        r["reviews_and_litigation"]["litigation_after_review"]["pending"],
        0
    );
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["rule"].as_str()).collect())
        .unwrap_or_default();
    // Line 4's half-width semicolons among full-width marks: `wording.ascii_punctuation`.
    assert_eq!(
        rules,
        [
            "narrative.figure",
            "narrative.fee_mention",
            "wording.ascii_punctuation"
        ]
    );
    assert_eq!(v["findings"][0]["severity"], "warning");
}

#[test]
fn filing_season_and_previous_year() {
    let path = fixture("002_5ddfc993aefd2777.txt");
    let rules = |args: &[&str]| -> Vec<String> {
        let out = nianbao(args);
        json_lines(&out)[0]["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["rule"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        rules(&["check", "--json", "--filing-year", "2023", &path]),
        Vec::<String>::new()
    );
    assert_eq!(
        rules(&["check", "--json", "--filing-year", "2026", &path]),
        ["season.year"]
    );
    let out = nianbao(&["check", "--json", "--filing-year", "2022", &path]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a report for the current year is an error"
    );
    // 001 (2021's carried forward 1 natural person) as last year of 002 (carried over 0).
    let out = nianbao(&[
        "check",
        "--json",
        "--filing-year",
        "2023",
        "--previous",
        &fixture("001_41152148c7aabaad.txt"),
        &path,
    ]);
    let v = &json_lines(&out)[0];
    let carry: Vec<&Value> = v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| f["rule"] == "history.carry_over")
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        carry.len(),
        0,
        "001 is a 2022 report, not 2021: no cross-year rule applies"
    );
}

#[test]
fn json_contract_for_a_damaged_report() {
    let path = fixture("001_41152148c7aabaad.txt");
    let out = nianbao(&["check", "--json", &path]);
    assert_eq!(out.status.code(), Some(1));
    let v = &json_lines(&out)[0];
    let apps = &v["report"]["applications"];
    assert_eq!(
        apps["granted"],
        Value::Null,
        "an unreadable row is null, never invented"
    );
    assert_eq!(apps["new_received"][0], 15);
    let findings = v["findings"].as_array().expect("findings");
    let granted = findings
        .iter()
        .find(|f| f["location"]["row"] == "granted")
        .expect("finding for granted");
    assert_eq!(granted["rule"], "table.row_values");
    assert_eq!(granted["severity"], "error");
    assert_eq!(granted["location"]["table"], 2);
    assert_eq!(granted["location"]["line"], 54);
    assert_eq!(granted["expected"], "7");
    assert_eq!(granted["actual"], "6");
    assert!(
        granted["message"]
            .as_str()
            .is_some_and(|m| m.contains("予以公开"))
    );
    // Errors come before warnings.
    let severities: Vec<&str> = findings
        .iter()
        .filter_map(|f| f["severity"].as_str())
        .collect();
    let first_warning = severities
        .iter()
        .position(|s| *s == "warning")
        .unwrap_or(severities.len());
    assert!(severities[first_warning..].iter().all(|s| *s == "warning"));
}

#[test]
fn exit_codes_for_many_files_and_missing_ones() {
    let ok = fixture("000_d016082c1b868431.txt");
    let bad = fixture("001_41152148c7aabaad.txt");
    let out = nianbao(&["check", "--json", &ok, &bad]);
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["file"], ok.as_str(), "order is kept");
    assert_eq!(lines[1]["file"], bad.as_str());

    let out = nianbao(&["check", "--json", &ok, "/nonexistent/report.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_lines(&out).len(), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/report.txt"));

    let out = nianbao(&["check"]);
    assert_eq!(out.status.code(), Some(2), "usage error");
}

#[test]
fn junk_gets_a_clear_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, bytes: &[u8]| -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        p
    };
    let empty = write("empty.txt", b"");
    let binary = write(
        "noise.docx",
        &(0..5000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    );
    let exe = write("report.doc", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00");
    let png = write("scan.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR");
    let prose = write(
        "letter.txt",
        "关于召开会议的通知\n各单位：定于下周一召开会议。\n".as_bytes(),
    );
    let truncated_zip = write(
        "cut.docx",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00word/document.xml",
    );
    let cases = [
        (&empty, "file.empty"),
        (&binary, "file.unknown_format"),
        (&exe, "file.unknown_format"),
        // A picture is read as a scan now (issue 25): a broken one is a damaged file.
        (&png, "file.corrupt"),
        (&prose, "structure.not_a_report"),
        (&truncated_zip, "file.corrupt"),
    ];
    for (path, rule) in cases {
        let out = nianbao(&["check", "--json", &path.display().to_string()]);
        assert_eq!(out.status.code(), Some(1), "{}", path.display());
        let v = &json_lines(&out)[0];
        let rules: Vec<&str> = v["findings"]
            .as_array()
            .map(|a| a.iter().filter_map(|f| f["rule"].as_str()).collect())
            .unwrap_or_default();
        assert!(rules.contains(&rule), "{}: {rules:?}", path.display());
        let message = v["findings"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "Chinese message: {message}"
        );
    }
}

#[test]
fn human_output_names_the_problem() {
    let out = nianbao(&["check", &fixture("003_16d03b1718509b6f.txt")]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("通过"), "{text}");
    assert!(text.contains("本年度止件数"), "{text}");
    let out = nianbao(&["check", "--show", &fixture("005_huaian-2024.pdftotext.txt")]);
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text
        .lines()
        .find(|l| l.contains("一、本年新收政府信息公开申请数量"))
        .unwrap_or_default();
    let cells: Vec<&str> = row
        .split('|')
        .map(|c| c.trim().rsplit(' ').next().unwrap_or_default())
        .collect();
    assert_eq!(cells, ["3001", "53", "0", "0", "61", "4", "3119"], "{text}");
}

#[test]
fn rules_lists_the_catalogue() {
    let out = nianbao(&["rules", "--markdown"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for id in nianbao::rules::all().iter().map(|r| r.id) {
        assert!(text.contains(&format!("`{id}`")), "{id} missing");
    }
}

#[test]
fn huge_file_is_answered_without_reading_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("huge.txt");
    // Sparse: 300 MB on paper, nothing on disk.
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(300 * 1024 * 1024).expect("set_len");
    let out = nianbao(&["check", "--json", &path.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let v = &json_lines(&out)[0];
    assert_eq!(v["findings"][0]["rule"], "file.too_large");
    assert!(
        v["findings"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("314572800"))
    );
}

/// The README's rule table is `nianbao rules --markdown`, verbatim: regenerate it with
/// `cargo run -- rules --markdown` when a rule changes.
#[test]
fn readme_rule_table_is_generated_from_code() {
    let out = nianbao(&["rules", "--markdown"]);
    let table = String::from_utf8_lossy(&out.stdout);
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    assert!(
        readme.contains(table.trim()),
        "README.md's rule table is out of date: paste the output of `nianbao rules --markdown`"
    );
}

/// On a server without poppler or LibreOffice, a PDF or a .doc is answered with the fix the
/// submitter can make, not a crash or a silent skip.
#[test]
fn missing_helpers_name_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut doc = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    doc.extend("WordDocument".encode_utf16().flat_map(|u| u.to_le_bytes()));
    let doc_path = dir.path().join("年报.doc");
    std::fs::write(&doc_path, doc).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["check", "--json"])
        .arg(&doc_path)
        .arg(fixture("005_huaian-2024.pdf"))
        // No pdftotext, no soffice on this PATH.
        .env("PATH", dir.path())
        .output()
        .expect("run nianbao");
    let v = json_lines(&out);
    assert_eq!(v.len(), 2, "{out:?}");
    assert_eq!(v[0]["format"], "doc");
    assert_eq!(v[0]["findings"][0]["rule"], "file.unsupported_format");
    let m = v[0]["findings"][0]["message"].as_str().unwrap_or_default();
    assert!(m.contains("请另存为 .docx 后重新提交"), "{m}");
    assert_eq!(v[1]["format"], "pdf");
    assert_eq!(v[1]["findings"][0]["rule"], "file.unsupported_format");
    let m = v[1]["findings"][0]["message"].as_str().unwrap_or_default();
    assert!(m.contains("poppler-utils"), "{m}");
}
