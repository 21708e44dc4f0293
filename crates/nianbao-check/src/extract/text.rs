//! Plain text in any encoding agencies use: UTF-8, GB18030/GBK, UTF-16 (with or without BOM).
//!
//! The encoding is detected, never assumed: a BOM wins; then UTF-16 is recognised by its
//! zero bytes (Chinese text in UTF-16 has many ASCII digits and line breaks, each with a zero
//! byte on one side); then valid UTF-8; then `chardetng` with the `cn` hint, which without
//! the hint mistakes short GBK samples for EUC-JP (see shared/notes/dependencies.md §2.3).

use encoding_rs::{Encoding, GB18030, UTF_8, UTF_16BE, UTF_16LE};

use super::{Block, ExtractError, Extracted, Format, SourceRef};

/// Reads a text file into one [`Block::Text`] per line.
pub fn extract(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let (text, encoding) = decode_text(bytes)?;
    let blocks = text
        .lines()
        .enumerate()
        .map(|(i, line)| Block::Text {
            text: line.trim_end_matches('\r').to_string(),
            at: SourceRef::Line(u32::try_from(i + 1).unwrap_or(u32::MAX)),
        })
        .collect();
    Ok(Extracted {
        format: Format::Txt,
        encoding: Some(display_name(encoding)),
        blocks,
        ocr: None,
    })
}

/// The encoding's name as the JSON contract spells it (`GB18030`, not encoding_rs's
/// lowercase `gb18030`).
pub fn display_name(encoding: &'static Encoding) -> &'static str {
    if encoding == GB18030 {
        "GB18030"
    } else {
        encoding.name()
    }
}

/// Decodes `bytes` as text, detecting the encoding. Also used for HTML without a charset.
pub fn decode_text(bytes: &[u8]) -> Result<(String, &'static Encoding), ExtractError> {
    let encoding = detect(bytes);
    let (text, had_errors) = encoding.decode_without_bom_handling(strip_bom(bytes, encoding));
    if had_errors {
        // A file that decodes with replacement characters in more than a handful of places is
        // not text in any encoding we know: refuse it rather than read garbage.
        let bad = text.chars().filter(|&c| c == '\u{FFFD}').count();
        if bad > 16 && bad * 50 > text.chars().count() {
            return Err(ExtractError::UnknownFormat {
                detail: format!("无法按 {} 解码的文本（{bad} 处乱码）", encoding.name()),
            });
        }
    }
    let text = text.into_owned();
    if text.chars().any(|c| c == '\0') {
        return Err(ExtractError::UnknownFormat {
            detail: "包含空字符的二进制数据".into(),
        });
    }
    Ok((text, encoding))
}

fn strip_bom<'a>(bytes: &'a [u8], encoding: &'static Encoding) -> &'a [u8] {
    match Encoding::for_bom(bytes) {
        Some((bom_encoding, len)) if bom_encoding == encoding => &bytes[len..],
        _ => bytes,
    }
}

fn detect(bytes: &[u8]) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return encoding;
    }
    if let Some(encoding) = utf16_without_bom(bytes) {
        return encoding;
    }
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let guess = detector.guess(Some(b"cn"), chardetng::Utf8Detection::Allow);
    // GBK and GB2312 are subsets of GB18030; decoding with the superset never loses text.
    if guess == encoding_rs::GBK {
        GB18030
    } else {
        guess
    }
}

/// UTF-16 without a BOM: most code units of Chinese report text with digits, tabs and line
/// breaks have a zero byte, always on the same side.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let sample = &bytes[..bytes.len().min(8192)];
    let units = sample.len() / 2;
    let zero_even = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let zero_odd = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    // At least a tenth of the units must be ASCII (digits, breaks), all on one side.
    let threshold = units / 10 + 1;
    // CJK code points such as 一 (U+4E00) put a zero byte on the other side now and then.
    if zero_odd >= threshold && zero_even * 3 < zero_odd {
        Some(UTF_16LE)
    } else if zero_even >= threshold && zero_odd * 3 < zero_even {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Whether `bytes` plausibly is text: a BOM, UTF-16, or few control characters.
pub fn looks_like_text(bytes: &[u8]) -> bool {
    if Encoding::for_bom(bytes).is_some() || utf16_without_bom(bytes).is_some() {
        return true;
    }
    let sample = &bytes[..bytes.len().min(8192)];
    if sample.contains(&0) {
        return false;
    }
    let control = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    control * 100 <= sample.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "某区政数局2022年政府信息公开工作年度报告\n一、总体情况\n\t0\n";

    #[test]
    fn detects_each_encoding() {
        let (gbk, _, _) = GB18030.encode(SAMPLE);
        let (text, enc) = decode_text(&gbk).unwrap();
        assert_eq!(enc, GB18030);
        assert_eq!(text, SAMPLE);

        let (text, enc) = decode_text(SAMPLE.as_bytes()).unwrap();
        assert_eq!(enc, UTF_8);
        assert_eq!(text, SAMPLE);

        let le: Vec<u8> = SAMPLE
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let (text, enc) = decode_text(&le).unwrap();
        assert_eq!(enc, UTF_16LE);
        assert_eq!(text, SAMPLE);

        let mut be = vec![0xFE, 0xFF];
        be.extend(SAMPLE.encode_utf16().flat_map(|u| u.to_be_bytes()));
        let (text, enc) = decode_text(&be).unwrap();
        assert_eq!(enc, UTF_16BE);
        assert_eq!(text, SAMPLE);

        let mut bom8 = vec![0xEF, 0xBB, 0xBF];
        bom8.extend_from_slice(SAMPLE.as_bytes());
        let (text, enc) = decode_text(&bom8).unwrap();
        assert_eq!(enc, UTF_8);
        assert_eq!(text, SAMPLE);
    }

    #[test]
    fn binary_is_not_text() {
        let noise: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert!(!looks_like_text(&noise));
    }
}
