//! The formats beyond text, html and docx: spreadsheets, PDF, legacy Word/WPS. Random valid
//! reports are rendered in each (directly, or through LibreOffice as agencies' own software
//! would), read back identically, and hostile files of each kind get a finding.
//!
//! Needs poppler-utils, poppler-data and LibreOffice (writer and calc); `.ci/run` installs
//! them. Seeded: set NIANBAO_SEED to replay.

mod support;

use std::path::Path;
use std::process::Command;

use nianbao::check::{CheckResult, check_bytes_with};
use nianbao::report::Template;
use nianbao::validate::Context;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::{Layout, Options, TextEncoding, random_report, render, tables_of};

fn seed() -> u64 {
    std::env::var("NIANBAO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_125)
}

fn check(bytes: &[u8], name: &str, year: i32) -> CheckResult {
    check_bytes_with(
        bytes,
        name,
        &Context {
            previous: None,
            filing_year: year + 1,
            same_year: None,
        },
    )
}

/// Renders `per_template` reports of each template in `layout` and checks each reads back.
fn round_trip(layout: Layout, per_template: usize, expect_format: &str) {
    let base = seed();
    let mut rng = StdRng::seed_from_u64(base ^ layout as u64);
    let mut cases = 0;
    for template in [Template::V2021, Template::V2019] {
        for i in 0..per_template {
            let report = random_report(&mut rng, template);
            let options = Options {
                defects: vec![],
                seed: base ^ (cases as u64),
            };
            let bytes = render(&report, layout, TextEncoding::Utf8, &options);
            let name = format!("report.{}", layout.extension());
            let r = check(&bytes, &name, report.year.unwrap_or(2023));
            let ctx = format!("seed {base} ({layout:?}, {template:?}, #{i})");
            assert_eq!(r.format.map(|f| f.as_str()), Some(expect_format), "{ctx}");
            let read = r
                .report
                .as_ref()
                .unwrap_or_else(|| panic!("{ctx}: not read: {:#?}", r.findings));
            assert_eq!(tables_of(read), tables_of(&report), "{ctx}");
            assert!(r.findings.is_empty(), "{ctx}: {:#?}", r.findings);
            cases += 1;
        }
    }
    assert_eq!(cases, 2 * per_template);
}

#[test]
fn xlsx_reads_back_identically() {
    round_trip(Layout::Xlsx, 15, "xlsx");
}

#[test]
fn pdf_with_a_non_embedded_cjk_font_reads_back_identically() {
    round_trip(Layout::Pdf, 15, "pdf");
}

/// Converts every file in `dir` named `*.{from}` with LibreOffice, in one run.
fn soffice(dir: &Path, from: &str, to: &str) {
    let inputs: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == from))
        .collect();
    let out = dir.join(to.split(':').next().unwrap_or(to));
    let status = Command::new("soffice")
        .arg("--headless")
        .arg("--norestore")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.join("profile").display()
        ))
        .arg("--convert-to")
        .arg(to)
        .arg("--outdir")
        .arg(&out)
        .args(&inputs)
        .output()
        .expect("LibreOffice (soffice) must be installed: .ci/run installs it");
    assert!(status.status.success(), "{status:?}");
}

/// As agencies make them: Word/WPS documents saved as .doc or exported to PDF, workbooks
/// saved as .xls or .ods, all by LibreOffice from our docx and xlsx.
#[test]
fn libreoffice_made_files_read_back_identically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = seed();
    let mut rng = StdRng::seed_from_u64(base ^ 0x1ff1ce);
    let mut reports = Vec::new();
    for template in [Template::V2021, Template::V2019] {
        for i in 0..3 {
            let report = random_report(&mut rng, template);
            let options = Options {
                defects: vec![],
                seed: base ^ reports.len() as u64,
            };
            let name = format!("r{}", reports.len());
            for layout in [Layout::Docx, Layout::Xlsx] {
                let bytes = render(&report, layout, TextEncoding::Utf8, &options);
                std::fs::write(
                    dir.path().join(format!("{name}.{}", layout.extension())),
                    bytes,
                )
                .expect("write");
            }
            reports.push((name, report, template, i));
        }
    }
    soffice(dir.path(), "docx", "pdf");
    soffice(dir.path(), "docx", "doc");
    soffice(dir.path(), "xlsx", "xls");
    soffice(dir.path(), "xlsx", "ods");
    for (name, report, template, i) in &reports {
        for (ext, format) in [
            ("pdf", "pdf"),
            ("doc", "doc"),
            ("xls", "xls"),
            ("ods", "ods"),
        ] {
            let path = dir.path().join(ext).join(format!("{name}.{ext}"));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            let r = check(
                &bytes,
                &format!("{name}.{ext}"),
                report.year.unwrap_or(2023),
            );
            let ctx = format!("seed {base} ({ext}, {template:?}, #{i})");
            assert_eq!(r.format.map(|f| f.as_str()), Some(format), "{ctx}");
            let read = r
                .report
                .as_ref()
                .unwrap_or_else(|| panic!("{ctx}: not read: {:#?}", r.findings));
            assert_eq!(tables_of(read), tables_of(report), "{ctx}");
            assert!(r.findings.is_empty(), "{ctx}: {:#?}", r.findings);
        }
    }
}

fn rule_of(bytes: &[u8], name: &str) -> (String, String) {
    let r = check(bytes, name, 2024);
    assert!(r.report.is_none(), "{name}: read as a report");
    let f = r.findings.first().expect("a finding");
    (f.rule.to_string(), f.message.clone())
}

fn sample_pdf() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/005_huaian-2024.pdf"
    ))
    .expect("fixture")
}

#[test]
fn hostile_pdfs_get_findings() {
    // Truncated in the middle: poppler rebuilds what it can; pages 4–5 (the tables) are gone.
    let pdf = sample_pdf();
    let r = check(&pdf[..pdf.len() / 3], "cut.pdf", 2024);
    assert!(
        r.findings
            .iter()
            .any(|f| f.severity == nianbao::finding::Severity::Error),
        "truncated PDF accepted: {:#?}",
        r.findings
    );

    // An xref whose /Prev points at itself, and objects that reference each other.
    let looped = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
        2 0 obj << /Type /Pages /Kids [2 0 R] /Count 1 >> endobj\n\
        xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n\
        trailer << /Size 3 /Root 1 0 R /Prev 116 >>\nstartxref\n116\n%%EOF\n";
    let (rule, _) = rule_of(looped, "loop.pdf");
    assert!(
        ["file.scanned", "file.corrupt", "file.hostile"].contains(&rule.as_str()),
        "{rule}"
    );

    // Not a PDF after its first line.
    let (rule, _) = rule_of(b"%PDF-1.7\n\x00\x01garbage", "garbage.pdf");
    assert!(
        ["file.corrupt", "file.scanned"].contains(&rule.as_str()),
        "{rule}"
    );

    // A page with no text layer, as a scanner makes (here: no text at all).
    let blank = render_blank_pdf();
    let (rule, message) = rule_of(&blank, "scan.pdf");
    assert_eq!(rule, "file.scanned");
    assert!(message.contains("扫描件，无法读取文字"), "{message}");
}

/// A one-page PDF with nothing but a drawn rectangle.
fn render_blank_pdf() -> Vec<u8> {
    let content = "0 0 m 100 100 l S";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>".to_string(),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len() + 1
        ),
    ];
    support::render::pdf_file(&objects)
}

#[test]
fn encrypted_pdf_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("r.docx"), {
        let mut rng = StdRng::seed_from_u64(seed());
        let report = random_report(&mut rng, Template::V2021);
        render(
            &report,
            Layout::Docx,
            TextEncoding::Utf8,
            &Options::default(),
        )
    })
    .expect("write");
    soffice(
        dir.path(),
        "docx",
        r#"pdf:writer_pdf_Export:{"EncryptFile":{"type":"boolean","value":"true"},"DocumentOpenPassword":{"type":"string","value":"secret"}}"#,
    );
    let bytes = std::fs::read(dir.path().join("pdf").join("r.pdf")).expect("encrypted pdf");
    let (rule, message) = rule_of(&bytes, "r.pdf");
    assert_eq!(rule, "file.encrypted", "{message}");
    assert!(message.contains("未加密"), "{message}");
}

#[test]
fn hostile_workbooks_and_documents_get_findings() {
    use std::io::Write;
    // An xlsx whose sheet inflates to 200 MB of spaces (a few hundred KB on disk).
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        zip.start_file("[Content_Types].xml", opts).expect("zip");
        zip.write_all(b"<Types/>").expect("zip");
        zip.start_file("xl/workbook.xml", opts).expect("zip");
        zip.write_all(b"<workbook/>").expect("zip");
        zip.start_file("xl/worksheets/sheet1.xml", opts)
            .expect("zip");
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..200 {
            zip.write_all(&chunk).expect("zip");
        }
        zip.finish().expect("zip");
    }
    let bomb = buf.into_inner();
    assert!(bomb.len() < 2 << 20, "the bomb is small: {}", bomb.len());
    let (rule, message) = rule_of(&bomb, "bomb.xlsx");
    assert_eq!(rule, "file.hostile", "{message}");

    // A Windows program renamed to .doc and .wps.
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
    exe.extend(std::iter::repeat_n(0u8, 4096));
    for name in ["report.doc", "report.wps"] {
        let (rule, message) = rule_of(&exe, name);
        assert_eq!(rule, "file.unknown_format", "{name}: {message}");
    }

    // A compound file that is neither Word nor Excel, and a truncated .doc.
    let mut cfb = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    cfb.extend(std::iter::repeat_n(0u8, 1024));
    let (rule, _) = rule_of(&cfb, "x.doc");
    assert_eq!(rule, "file.unknown_format");
    let mut doc = cfb.clone();
    doc.extend("WordDocument".encode_utf16().flat_map(|u| u.to_le_bytes()));
    let (rule, message) = rule_of(&doc, "x.doc");
    assert_eq!(rule, "file.corrupt", "{message}");
    assert!(message.contains(".docx"), "{message}");
}

/// The published PDF of 淮安 and its text layer read to the same tables (hand-checked in
/// tests/corpus.rs), and the PDF is accepted.
#[test]
fn corpus_pdf_reads_like_its_text_layer() {
    let pdf = check(&sample_pdf(), "005_huaian-2024.pdf", 2024);
    let txt = check(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/005_huaian-2024.pdftotext.txt"
        ))
        .expect("fixture"),
        "005_huaian-2024.pdftotext.txt",
        2024,
    );
    let (a, b) = (
        pdf.report.as_ref().expect("pdf read"),
        txt.report.as_ref().expect("txt read"),
    );
    assert_eq!(tables_of(a), tables_of(b));
    assert_eq!(a.agency.as_deref(), Some("淮安市人民政府"));
    assert!(pdf.findings.is_empty(), "{:#?}", pdf.findings);
}
