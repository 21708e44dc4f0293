//! Fuzzed drawings (a whole PDF, when the input starts with `%PDF`, or one page's content
//! stream: paths, paint, `q`/`Q`, `cm`, Form XObjects) and `pdftotext -tsv` words through
//! the in-process content-stream reader and the grid reader of bordered PDF tables (rulings,
//! grid with spans, words into cells, tables joined over page breaks), then reading and
//! validation. The input is the drawing, a NUL byte, then the TSV (a PDF is binary: its own
//! NUL bytes cut it short, which is one more malformed PDF). Malformed streams, huge path
//! counts and deep nesting must give the text-geometry reader, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let drawing = &data[..cut];
    let tsv = String::from_utf8_lossy(data.get(cut + 1..).unwrap_or_default());
    let blocks = nianbao_check::extract::blocks_of_drawing(drawing, &tsv);
    let extracted = nianbao_check::extract::Extracted {
        format: nianbao_check::extract::Format::Pdf,
        encoding: None,
        blocks,
        ocr: None,
    };
    let _ = nianbao_check::report::parse(&extracted);
});
