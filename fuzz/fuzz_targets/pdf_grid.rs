//! Fuzzed `mutool trace` output (the drawing of the pages: paths, their paint and matrices)
//! and `pdftotext -tsv` words through the grid reader of bordered PDF tables (rulings, grid
//! with spans, words into cells, tables joined over page breaks), then reading and
//! validation. The input is the trace, a NUL byte, then the TSV. Malformed XML, huge path
//! counts and deep nesting must give the text-geometry reader, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let trace = &data[..cut];
    let tsv = String::from_utf8_lossy(data.get(cut + 1..).unwrap_or_default());
    let blocks = nianbao::extract::blocks_of_trace(trace, &tsv);
    let extracted = nianbao::extract::Extracted {
        format: nianbao::extract::Format::Pdf,
        encoding: None,
        blocks,
    };
    let _ = nianbao::report::parse(&extracted);
});
