//! Fuzzed markup as an HTML page: DOM walk, rowspan/colspan grids, reading, validation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut page = b"<!DOCTYPE html><html><body>".to_vec();
    page.extend_from_slice(data);
    let _ = nianbao_check::check::check_bytes(&page, "report.html");
});
