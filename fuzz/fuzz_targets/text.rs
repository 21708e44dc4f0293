//! Any bytes named `.txt`: sniffing, decoding, tokenizing, reading, validating.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // PDF and legacy Office bytes go to pdftotext/LibreOffice: not ours, and slow.
    if nianbao_check::extract::uses_helper(data, "report.txt") {
        return;
    }
    let result = nianbao_check::check::check_bytes(data, "report.txt");
    // Whatever was read must serialize: the JSON contract never fails.
    let _ = messages_len(&result);
});

fn messages_len(r: &nianbao_check::check::CheckResult) -> usize {
    r.findings.iter().map(|f| f.message.len()).sum()
}
