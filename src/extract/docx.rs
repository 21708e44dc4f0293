//! Word 2007+ (.docx): paragraphs and real tables with merged cells.

use super::{ExtractError, Extracted};

pub fn extract(_bytes: &[u8]) -> Result<Extracted, ExtractError> {
    Err(ExtractError::Unsupported {
        format: "docx",
        hint: "not yet",
    })
}
