//! `nianbao check DIR`: folders read recursively, as the daemon would see them, with a summary.

use std::process::Command;

fn nianbao() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nianbao"))
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A folder of agencies: two reports at two depths, a receipt folder, a temporary file, a
/// file that is no report, and a link out of the folder that must not be followed.
fn folder() -> (tempfile::TempDir, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for sub in ["甲街道", "乙镇/2024", "回执"] {
        std::fs::create_dir_all(root.join(sub)).expect("mkdir");
    }
    std::fs::copy(
        fixture("005_huaian-2024.pdftotext.txt"),
        root.join("甲街道/年报.txt"),
    )
    .expect("copy");
    std::fs::copy(
        fixture("001_41152148c7aabaad.txt"),
        root.join("乙镇/2024/年报.txt"),
    )
    .expect("copy");
    std::fs::write(root.join("回执/年报.txt.txt"), "回执").expect("write");
    std::fs::write(root.join("甲街道/~$年报.docx"), "lock").expect("write");
    std::fs::write(root.join("乙镇/说明.txt"), "这不是年度报告，只是一段说明。").expect("write");
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        fixture("000_d016082c1b868431.txt"),
        outside.path().join("外部.txt"),
    )
    .expect("copy");
    std::os::unix::fs::symlink(outside.path(), root.join("链接")).expect("symlink");
    (dir, outside)
}

#[test]
fn a_folder_is_read_recursively_with_a_summary() {
    let (dir, _outside) = folder();
    let out = nianbao()
        .args(["check", "--filing-year", "2025"])
        .arg(dir.path())
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("甲街道/年报.txt"), "{stdout}");
    assert!(stdout.contains("乙镇/2024/年报.txt"), "{stdout}");
    assert!(stdout.contains("乙镇/说明.txt"), "{stdout}");
    for skipped in ["回执", "~$年报", "外部.txt"] {
        assert!(!stdout.contains(skipped), "{skipped} was read:\n{stdout}");
    }
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| *l != "汇总")
        .skip(1)
        .collect();
    assert_eq!(table.len(), 2, "{stdout}");
    let counts: Vec<&str> = table[1].split_whitespace().collect();
    // 3 files: 淮安 accepted, 001 needs changes (a lost column), 说明 is no report.
    assert_eq!(counts, ["3", "1", "1", "1"], "{stdout}");
    // Header and numbers line up in a terminal (CJK characters are two columns wide).
    let width = |s: &str| unicode_width::UnicodeWidthStr::width(s);
    assert_eq!(width(table[0]), width(table[1]), "{table:?}");
}

#[test]
fn json_lines_stay_clean_and_the_summary_goes_to_stderr() {
    let (dir, _outside) = folder();
    let out = nianbao()
        .args(["check", "--json", "--filing-year", "2025"])
        .arg(dir.path())
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("汇总"), "{stderr}");
}

#[test]
fn an_empty_folder_is_an_error_that_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = nianbao()
        .arg("check")
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no report files found"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn show_aligns_table_2_in_terminal_columns() {
    let out = nianbao()
        .args(["check", "--show"])
        .arg(fixture("005_huaian-2024.pdftotext.txt"))
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let width = |s: &str| unicode_width::UnicodeWidthStr::width(s);
    // Every line of table 2 puts its separators at the same terminal columns as the header.
    let columns = |line: &str| -> Vec<usize> {
        line.match_indices(" | ")
            .map(|(i, _)| width(&line[..i]))
            .collect()
    };
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.contains("表二"))
        .skip(1)
        .take_while(|l| !l.contains("表三"))
        .collect();
    assert!(table.len() > 20, "{stdout}");
    let header = columns(table[0]);
    assert_eq!(header.len(), 6, "{}", table[0]);
    for line in &table[1..] {
        assert_eq!(columns(line), header, "misaligned: {line}\n{}", table[0]);
    }
}
