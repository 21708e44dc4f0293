//! `nianbao compare OLD NEW` on real files: the corpus's 西塞山 report and next year's copy of
//! it with the year moved on, two table values changed and one sentence rewritten — the
//! 内容雷同 case an officer has to judge.

mod harness;

use std::path::Path;
use std::process::Command;

use harness::fixture;

fn compare(old: &Path, new: &Path, json: bool) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nianbao"));
    cmd.arg("compare").arg(old).arg(new);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().expect("run nianbao compare");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Fixture 000 (2022) and its copy for 2023: 行政规范性文件 制发 2 -> 3, 现行有效 6 -> 7, and
/// in section 五 "运维支撑经费不足。" rewritten.
fn copied_report(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let old_bytes = fixture("000_d016082c1b868431.txt");
    let old_text = String::from_utf8(old_bytes.clone()).expect("utf-8");
    let new_text = old_text
        .replace("2022", "2023")
        .replacen(
            "\t行政规范性文件\n\t2\n\t0\n\t6\n",
            "\t行政规范性文件\n\t3\n\t0\n\t7\n",
            1,
        )
        .replacen(
            "运维支撑经费不足。",
            "本年度网站运维经费得到区财政的专项保障。",
            1,
        );
    assert_ne!(new_text, old_text);
    let (old, new) = (dir.join("2022.txt"), dir.join("2023.txt"));
    std::fs::write(&old, old_bytes).expect("write");
    std::fs::write(&new, new_text).expect("write");
    (old, new)
}

#[test]
fn a_copied_report_shows_its_changed_cells_and_shared_sentences() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (old, new) = copied_report(dir.path());

    let (code, json) = compare(&old, &new, true);
    assert_eq!(code, Some(0), "{json}");
    let c: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(c["old"]["year"], 2022);
    assert_eq!(c["new"]["year"], 2023);
    let differing: Vec<(String, String, String, String)> = c["values"]
        .as_array()
        .expect("values")
        .iter()
        .filter(|v| v["differs"] == true)
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            (s("row"), s("column"), s("old"), s("new"))
        })
        .collect();
    assert_eq!(
        differing,
        vec![
            (
                "normative_documents".into(),
                "issued".into(),
                "2".into(),
                "3".into()
            ),
            (
                "normative_documents".into(),
                "in_force".into(),
                "6".into(),
                "7".into()
            ),
        ]
    );
    // Every value of the three tables is listed, not only the differing ones.
    let tables: Vec<u64> = c["values"]
        .as_array()
        .expect("values")
        .iter()
        .filter_map(|v| v["table"].as_u64())
        .collect();
    assert_eq!(
        [1, 2, 3].map(|t| tables.iter().filter(|&&x| x == t).count()),
        [10, 25 * 7, 15]
    );

    let sections = c["sections"].as_array().expect("sections");
    let overlap = |n: u64| {
        let s = sections.iter().find(|s| s["number"] == n).expect("section");
        (
            s["overlap"]["shared"].as_u64().expect("shared"),
            s["overlap"]["total"].as_u64().expect("total"),
        )
    };
    // Section 一 differs only in years and figures: every sentence is shared.
    let (shared, total) = overlap(1);
    assert!(total >= 10, "section 一 has its sentences: {total}");
    assert_eq!(shared, total);
    // Section 五: all but the rewritten sentence.
    let (shared, total) = overlap(5);
    assert!(total >= 10, "section 五 has its sentences: {total}");
    assert_eq!(shared, total - 1);
    // Section 六 is "无": too short to count.
    assert_eq!(overlap(6), (0, 0));
    let narrative = &c["narrative"];
    assert_eq!(
        narrative["shared"].as_u64().expect("shared") + 1,
        narrative["total"].as_u64().expect("total")
    );
    let new_text = std::fs::read_to_string(&new).expect("read");
    assert!(
        narrative["example"]
            .as_str()
            .is_some_and(|e| e.chars().count() > 20 && new_text.contains(e)),
        "the example is a sentence of NEW: {narrative}"
    );

    // The text form: the two marked lines, aligned, under their row label.
    let (code, text) = compare(&old, &new, false);
    assert_eq!(code, Some(0), "{text}");
    let marked: Vec<&str> = text.lines().filter(|l| l.ends_with('≠')).collect();
    assert_eq!(marked.len(), 2, "{text}");
    let cells = |l: &str| l.split_whitespace().map(String::from).collect::<Vec<_>>();
    assert_eq!(cells(marked[0]), ["本年制发件数", "2", "3", "≠"]);
    assert_eq!(cells(marked[1]), ["现行有效件数", "6", "7", "≠"]);
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| *l == marked[0]).expect("line");
    assert_eq!(lines[at - 1].trim(), "行政规范性文件");
    // Aligned by display width: every value line of table 1 has its mark column at the
    // same terminal column.
    let width = unicode_width::UnicodeWidthStr::width;
    assert_eq!(width(marked[0]), width(marked[1]));
    let row = lines
        .iter()
        .find(|l| l.trim_start().starts_with("本年处理决定数量"))
        .expect("a value line");
    assert_eq!(width(row) + 3, width(marked[0]), "{text}");
    let five = lines
        .iter()
        .find(|l| l.trim_start().starts_with("五、存在的主要问题及改进情况"))
        .expect("section 五 line");
    assert!(
        five.contains(&format!(" {}/{} 句相同", total - 1, total)),
        "{text}"
    );
}

#[test]
fn reports_of_different_agencies_share_no_sentences() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (old, new) = (dir.path().join("a.txt"), dir.path().join("b.pdf"));
    std::fs::write(&old, fixture("002_5ddfc993aefd2777.txt")).expect("write");
    std::fs::write(&new, fixture("005_huaian-2024.pdf")).expect("write");
    let (code, json) = compare(&old, &new, true);
    assert_eq!(code, Some(0), "{json}");
    let c: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(c["new"]["year"], 2024);
    assert!(c["narrative"]["total"].as_u64().expect("total") > 10);
    assert_eq!(c["narrative"]["shared"], 0, "{}", c["narrative"]);
}

#[test]
fn a_file_that_is_not_a_report_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = dir.path().join("old.txt");
    std::fs::write(&old, fixture("000_d016082c1b868431.txt")).expect("write");
    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, "会议纪要：无。\n").expect("write");
    let (code, _) = compare(&old, &junk, false);
    assert_eq!(code, Some(2));
    let (code, _) = compare(&old, &dir.path().join("missing.txt"), true);
    assert_eq!(code, Some(2));
}
