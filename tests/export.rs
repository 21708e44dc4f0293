//! `nianbao export` of the corpus reports, ingested by the real daemon, opened back: CSV
//! parsed, xlsx read with calamine, JSON decoded; the right figures and totals.

mod harness;

use std::process::Command;

use calamine::{Data, Reader, Xlsx};
use harness::{CHECKED, Daemon, csv_fields as fields, fixture};

const AGENCIES: &str = "[[agency]]\nfolder = \"xianning\"\nname = \"咸宁市政务服务和大数据管理局\"\n\
[[agency]]\nfolder = \"guancheng\"\nname = \"管城回族区政务服务大数据管理局\"\n\
[[agency]]\nfolder = \"gongshu\"\nname = \"杭州市拱墅区数据资源管理局\"\n\
[[agency]]\nfolder = \"huaian\"\nname = \"淮安市人民政府\"\n";

fn export(d: &Daemon, args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("export")
        .args(args)
        .arg("--config")
        .arg(d.dir.path().join("nianbao.toml"))
        .output()
        .expect("export");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn export_of_the_corpus() {
    let mut d = Daemon::with_config("", AGENCIES);
    // Filed in 2025: the 2024 report is this season's, the older ones are late (a warning).
    let config = d.dir.path().join("nianbao.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace("filing_year = 2023", "filing_year = 2025"),
    )
    .expect("config");
    for (folder, file) in [
        ("xss", "000_d016082c1b868431.txt"),
        ("lc", "001_41152148c7aabaad.txt"),
        ("xianning", "002_5ddfc993aefd2777.txt"),
        ("guancheng", "003_16d03b1718509b6f.txt"),
        ("gongshu", "004_757d2e34bde1553b.txt"),
        ("huaian", "005_huaian-2024.pdftotext.txt"),
    ] {
        std::fs::create_dir_all(d.inbox().join(folder)).expect("folder");
        std::fs::write(d.inbox().join(folder).join(file), fixture(file)).expect("w");
    }
    d.start();
    d.wait_count(CHECKED, 6, 30);
    assert_eq!(d.stop(), Some(0));

    // 2022: 000 (accepted), 001 (rejected: its table 2 is damaged), 002 (accepted).
    let csv = String::from_utf8(export(&d, &["--year", "2022"])).expect("utf-8");
    let csv = csv.strip_prefix('\u{FEFF}').expect("BOM for Excel");
    assert!(
        csv.ends_with("\r\n") && csv.matches("\r\n").count() == csv.matches('\n').count(),
        "every line ends with CRLF (RFC 4180)"
    );
    let lines: Vec<Vec<String>> = csv.lines().map(fields).collect();
    let header = &lines[0];
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let row = |agency: &str| {
        lines
            .iter()
            .find(|l| l[0] == agency)
            .unwrap_or_else(|| panic!("no row {agency}"))
    };
    assert_eq!(lines.len(), 1 + 6 + 1, "header, six agencies, total");
    let issued = col("表一 行政规范性文件 本年制发件数");
    let in_force = col("表一 行政规范性文件 现行有效件数");
    let punishment = col("表一 行政处罚 本年处理决定数量");
    let new_natural = col("表二 一、本年新收政府信息公开申请数量 自然人");
    assert_eq!(row("西塞山区政数局")[col("审核结果")], "已受理");
    assert_eq!(row("西塞山区政数局")[issued], "2");
    assert_eq!(row("老城区人民政府办公室")[col("审核结果")], "需修改");
    assert_eq!(row("老城区人民政府办公室")[new_natural], "15");
    assert_eq!(
        row("老城区人民政府办公室")[col("表二 （一）予以公开 自然人")],
        "",
        "unread, not invented"
    );
    assert_eq!(row("咸宁市政务服务和大数据管理局")[punishment], "2");
    assert_eq!(
        row("淮安市人民政府")[col("审核结果")],
        "未提交",
        "no 2022 report"
    );
    let total = lines.last().expect("total");
    assert!(total[0].contains("2 份已受理报告"), "{:?}", total[0]);
    assert_eq!(total[issued], "3", "2 (000) + 1 (002)");
    assert_eq!(total[in_force], "10", "6 + 4");
    assert_eq!(total[punishment], "2");
    assert_eq!(
        total[new_natural], "0",
        "001's 15 is not in the total: it was not accepted"
    );

    // 2024 as xlsx: the 淮安 figures, read back with calamine.
    let path = d.dir.path().join("2024.xlsx");
    export(
        &d,
        &[
            "--year",
            "2024",
            "--format",
            "xlsx",
            "--output",
            &path.display().to_string(),
        ],
    );
    let mut workbook: Xlsx<_> = calamine::open_workbook(&path).expect("open xlsx");
    let range = workbook.worksheet_range("2024年度").expect("sheet");
    let rows: Vec<&[Data]> = range.rows().collect();
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let huaian = rows
        .iter()
        .find(|r| r[0] == "淮安市人民政府")
        .expect("huaian row");
    let total = rows.last().expect("total");
    for (name, value) in [
        ("表二 一、本年新收政府信息公开申请数量 总计", 3119.0),
        ("表二 （七）总计 自然人", 2932.0),
        ("表三 行政复议 总计", 351.0),
        ("表一 行政许可 本年处理决定数量", 447228.0),
        ("表一 行政事业性收费 本年收费金额（单位：万元）", 96171.6),
    ] {
        assert_eq!(huaian[col(name)], Data::Float(value), "{name}");
        assert_eq!(total[col(name)], Data::Float(value), "total {name}");
    }

    // JSON: the same, for scripts.
    let json: serde_json::Value =
        serde_json::from_slice(&export(&d, &["--year", "2023", "--format", "json"])).expect("json");
    assert_eq!(json["accepted"], 1);
    assert_eq!(json["template"], "2021");
}
