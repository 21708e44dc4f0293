//! HTML pages saved from portals: paragraphs and real `<table>`s with rowspan/colspan.

use super::{ExtractError, Extracted};

pub fn looks_like_html(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]).to_lowercase();
    head.contains("<html") || head.contains("<!doctype html") || head.contains("<table")
}

pub fn extract(_bytes: &[u8]) -> Result<Extracted, ExtractError> {
    Err(ExtractError::Unsupported {
        format: "html",
        hint: "not yet",
    })
}
