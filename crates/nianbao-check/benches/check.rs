//! `check` (extraction, reading, validation) per report: each real report of tests/fixtures
//! (text and the 淮安 PDF), and generated reports in every format (the generator of
//! tests/support; .doc through LibreOffice when it is installed).
//! Targets (issue 2): under 1 ms per text report, under 5 ms per docx, on 2 cores.

use criterion::{Criterion, criterion_group, criterion_main};
use nianbao::report::Template;
use rand::SeedableRng;

// The generators of the daemon's tests (tests/support) name the checker by the name the
// daemon re-exports it under.
extern crate nianbao_check as nianbao;

#[path = "../../../tests/support/mod.rs"]
mod support;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt" || x == "pdf"))
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some((name, std::fs::read(&p).ok()?))
        })
        .collect();
    files.sort();
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let report = support::random_report(&mut rng, Template::V2021);
    for (layout, encoding, name) in [
        (
            support::Layout::Docx,
            support::TextEncoding::Utf8,
            "generated.docx",
        ),
        (
            support::Layout::Html,
            support::TextEncoding::Gb18030,
            "generated-gb18030.html",
        ),
        (
            support::Layout::PdfText,
            support::TextEncoding::Utf16LeBom,
            "generated-pdftext-utf16.txt",
        ),
        (
            support::Layout::Xlsx,
            support::TextEncoding::Utf8,
            "generated.xlsx",
        ),
        (
            support::Layout::Pdf,
            support::TextEncoding::Utf8,
            "generated-stsong.pdf",
        ),
    ] {
        let options = support::Options::default();
        files.push((
            name.to_string(),
            support::render(&report, layout, encoding, &options),
        ));
    }
    if let Some(doc) = libreoffice_doc(&report) {
        files.push(("generated.doc (LibreOffice)".to_string(), doc));
    }
    if let Some(pdf) = chromium_pdf(&report) {
        files.push(("generated-chromium.pdf (borders)".to_string(), pdf));
    }
    files
}

/// The generated report's HTML printed to PDF by headless Chromium (tables drawn with
/// borders, over several pages), if it is installed.
fn chromium_pdf(report: &nianbao::report::Report) -> Option<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!("nianbao-bench-chromium-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let html = support::render(
        report,
        support::Layout::Html,
        support::TextEncoding::Utf8,
        &support::Options::default(),
    );
    std::fs::write(dir.join("r.html"), html).ok()?;
    let ok = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--print-to-pdf={}", dir.join("r.pdf").display()))
        .arg(format!("file://{}", dir.join("r.html").display()))
        .output()
        .ok()?
        .status
        .success();
    let pdf = if ok {
        std::fs::read(dir.join("r.pdf")).ok()
    } else {
        None
    };
    let _ = std::fs::remove_dir_all(&dir);
    pdf
}

/// The generated report saved as Word 97 by LibreOffice, if it is installed.
fn libreoffice_doc(report: &nianbao::report::Report) -> Option<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!("nianbao-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let docx = support::render(
        report,
        support::Layout::Docx,
        support::TextEncoding::Utf8,
        &support::Options::default(),
    );
    std::fs::write(dir.join("r.docx"), docx).ok()?;
    let ok = std::process::Command::new("soffice")
        .args(["--headless", "--convert-to", "doc", "--outdir"])
        .arg(&dir)
        .arg(dir.join("r.docx"))
        .output()
        .ok()?
        .status
        .success();
    let doc = if ok {
        std::fs::read(dir.join("r.doc")).ok()
    } else {
        None
    };
    let _ = std::fs::remove_dir_all(&dir);
    doc
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    // LibreOffice takes about a second a file: ten samples are enough.
    group.sample_size(10);
    let files = fixtures();
    for (name, bytes) in &files {
        group.bench_function(name, |b| {
            b.iter(|| nianbao::check::check_bytes(std::hint::black_box(bytes), name))
        });
    }
    group.finish();
    // The in-process part a PDF adds beside `pdftotext`: its drawing read by lopdf, the
    // rulings and grids (no words).
    let mut group = c.benchmark_group("pdf drawing");
    for (name, bytes) in files.iter().filter(|(_, b)| b.starts_with(b"%PDF")) {
        group.bench_function(name, |b| {
            b.iter(|| nianbao::extract::blocks_of_drawing(std::hint::black_box(bytes), ""))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
