//! `check` on each real report of tests/fixtures: extraction, reading, validation.
//! Target (issue 2): under 1 ms per text report, under 5 ms per docx, on 2 cores.

use criterion::{Criterion, criterion_group, criterion_main};

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "txt" || x == "docx" || x == "html")
        })
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some((name, std::fs::read(&p).ok()?))
        })
        .collect();
    files.sort();
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
