//! `check` (extraction, reading, validation) per report: each real report of tests/fixtures,
//! and generated reports as .docx and .html (the generator of tests/support).
//! Targets (issue 2): under 1 ms per text report, under 5 ms per docx, on 2 cores.

use criterion::{Criterion, criterion_group, criterion_main};
use nianbao::report::Template;
use rand::SeedableRng;

#[path = "../tests/support/mod.rs"]
mod support;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
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
    ] {
        let options = support::Options::default();
        files.push((
            name.to_string(),
            support::render(&report, layout, encoding, &options),
        ));
    }
    files
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    for (name, bytes) in fixtures() {
        group.bench_function(&name, |b| {
            b.iter(|| nianbao::check::check_bytes(std::hint::black_box(&bytes), &name))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
