//! Fuzzed `pdftotext -tsv` output through the PDF row reconstruction (positions -> lines,
//! stacked headers, wrapped labels), then reading and validation of the lines. pdftotext
//! itself is poppler's and runs fenced in a subprocess; what nianbao adds is this.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tsv = String::from_utf8_lossy(data);
    let blocks = nianbao_check::extract::blocks_of_tsv(&tsv);
    let extracted = nianbao_check::extract::Extracted {
        format: nianbao_check::extract::Format::Pdf,
        encoding: None,
        blocks,
        ocr: None,
    };
    let _ = nianbao_check::report::parse(&extracted);
});
