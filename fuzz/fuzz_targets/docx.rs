//! Fuzzed bytes as `word/document.xml` inside a valid zip: the docx XML walker and merged
//! cells, then reading and validation.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        if zip.start_file("word/document.xml", options).is_err() || zip.write_all(data).is_err() {
            return;
        }
        if zip.finish().is_err() {
            return;
        }
    }
    let _ = nianbao_check::check::check_bytes(buf.get_ref(), "report.docx");
    // The raw bytes too, as a .docx: truncated and hostile zips.
    if !nianbao_check::extract::uses_helper(data, "report.docx") {
        let _ = nianbao_check::check::check_bytes(data, "report.docx");
    }
});
