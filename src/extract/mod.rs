//! File bytes -> a flat list of [`Block`]s: paragraphs and tables, in reading order.
//!
//! Each supported format has its own file. The format is decided from the content (magic
//! bytes, markup), and only then from the file name, because agencies rename files freely
//! (a `.doc` that is really a `.docx`, an `.htm` saved as `.txt`).
//!
//! Extraction never interprets the report: it only says what text is where, so that the
//! `report` stage can match template labels whatever the file format was.

mod docx;
mod html;
mod text;

use std::fmt;

use serde::Serialize;

pub use text::{decode_text, display_name};

/// Largest input any extractor reads. Bigger files are refused before reading; the daemon has
/// its own, usually lower, configured limit.
pub const MAX_INPUT_BYTES: usize = 256 * 1024 * 1024;

/// The formats nianbao can read, as named in the JSON output (`format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Txt,
    Html,
    Docx,
    Xlsx,
    Pdf,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Txt => "txt",
            Format::Html => "html",
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Pdf => "pdf",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a piece of text came from, precise enough for a clerk to find it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceRef {
    /// 1-based line of a text file.
    Line(u32),
    /// 1-based paragraph of a document (docx, html).
    Paragraph(u32),
    /// A table cell, all 1-based: the n-th table of the document, its row and column.
    Cell { table: u32, row: u32, col: u32 },
}

impl SourceRef {
    /// The reference as a clerk reads it: `第12行`, `第3段`, `第2个表格第4行第3列`.
    pub fn describe(&self) -> String {
        match *self {
            SourceRef::Line(n) => format!("第{n}行"),
            SourceRef::Paragraph(n) => format!("第{n}段"),
            SourceRef::Cell { table, row, col } => {
                format!("第{table}个表格第{row}行第{col}列")
            }
        }
    }

    /// The 1-based line, for text formats.
    pub fn line(&self) -> Option<u32> {
        match *self {
            SourceRef::Line(n) => Some(n),
            _ => None,
        }
    }

    /// A compact cell reference (`T2R4C3`) for formats with real tables.
    pub fn cell(&self) -> Option<String> {
        match *self {
            SourceRef::Cell { table, row, col } => Some(format!("T{table}R{row}C{col}")),
            _ => None,
        }
    }
}

/// One cell of a real table. Merged cells appear once, at their top-left position; the
/// positions they cover below or to the right hold no cell at all (not an empty one), so an
/// empty `text` always means the agency left the cell blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub at: SourceRef,
}

/// A unit of the document in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph or a line of text. Text formats give one block per line, tabs kept: the
    /// report stage splits them, since in text files tabs are cell borders.
    Text { text: String, at: SourceRef },
    /// A table with real cell boundaries (docx, html, xlsx): `rows[r]` holds the cells that
    /// start in row `r`, left to right.
    Table { rows: Vec<Vec<Cell>> },
}

/// What an extractor made of a file.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub format: Format,
    /// The detected text encoding for text formats (`UTF-8`, `GB18030`, `UTF-16LE`, …).
    pub encoding: Option<&'static str>,
    pub blocks: Vec<Block>,
}

/// Why a file could not be read at all. Each message says what the submitter can do.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("文件为空（0 字节），请重新提交完整的年度报告文件")]
    Empty,
    #[error("文件过大（{size} 字节，上限 {limit} 字节），请确认提交的是年度报告本身")]
    TooLarge { size: u64, limit: u64 },
    #[error(
        "无法识别的文件格式（{detail}）。请提交 .docx、.xlsx、.pdf、.html 或 .txt 格式的年度报告"
    )]
    UnknownFormat { detail: String },
    #[error("暂不支持 {format} 格式：{hint}")]
    Unsupported {
        format: &'static str,
        hint: &'static str,
    },
    #[error("文件已损坏或不完整（{detail}），请重新保存后再提交")]
    Corrupt { detail: String },
    #[error("文件内容异常（{detail}），已拒绝读取以保护系统，请重新保存后再提交")]
    Hostile { detail: String },
}

impl ExtractError {
    /// A stable machine id for the JSON output and the rule catalogue.
    pub fn rule_id(&self) -> &'static str {
        match self {
            ExtractError::Empty => "file.empty",
            ExtractError::TooLarge { .. } => "file.too_large",
            ExtractError::UnknownFormat { .. } => "file.unknown_format",
            ExtractError::Unsupported { .. } => "file.unsupported_format",
            ExtractError::Corrupt { .. } => "file.corrupt",
            ExtractError::Hostile { .. } => "file.hostile",
        }
    }
}

/// The format of `bytes`, from magic bytes and markup; `name` (the file name) only breaks
/// ties between formats that share a container (zip) or have no magic (text).
pub fn sniff(bytes: &[u8], name: &str) -> Result<Format, ExtractError> {
    let lower = name.to_lowercase();
    if bytes.starts_with(b"%PDF-") {
        return Ok(Format::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        // Office Open XML: tell Word from Excel by the parts inside, not the extension.
        if contains(bytes, b"word/") {
            return Ok(Format::Docx);
        }
        if contains(bytes, b"xl/") {
            return Ok(Format::Xlsx);
        }
        if lower.ends_with(".docx") {
            return Ok(Format::Docx);
        }
        if lower.ends_with(".xlsx") {
            return Ok(Format::Xlsx);
        }
        return Err(ExtractError::UnknownFormat {
            detail: "ZIP 压缩包，但不是 Word 或 Excel 文档".into(),
        });
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(ExtractError::Unsupported {
            format: "旧版 Office（.doc/.xls/.wps）",
            hint: "请在 Word 或 WPS 中另存为 .docx 后重新提交",
        });
    }
    if bytes.starts_with(b"MZ") || bytes.starts_with(b"\x7fELF") {
        return Err(ExtractError::UnknownFormat {
            detail: "可执行程序，不是文档".into(),
        });
    }
    for magic in [
        &b"\x89PNG"[..],
        b"\xFF\xD8\xFF",
        b"GIF8",
        b"Rar!",
        b"7z\xBC\xAF",
        b"\x1F\x8B",
    ] {
        if bytes.starts_with(magic) {
            return Err(ExtractError::UnknownFormat {
                detail: "图片或压缩文件，不是文本文档".into(),
            });
        }
    }
    if html::looks_like_html(bytes) {
        return Ok(Format::Html);
    }
    if text::looks_like_text(bytes) {
        return Ok(Format::Txt);
    }
    Err(ExtractError::UnknownFormat {
        detail: "二进制数据，不是文本".into(),
    })
}

/// Reads `bytes` (the whole file) into blocks.
pub fn extract(bytes: &[u8], name: &str) -> Result<Extracted, ExtractError> {
    if bytes.is_empty() {
        return Err(ExtractError::Empty);
    }
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ExtractError::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_INPUT_BYTES as u64,
        });
    }
    match sniff(bytes, name)? {
        Format::Txt => text::extract(bytes),
        Format::Html => html::extract(bytes),
        Format::Docx => docx::extract(bytes),
        Format::Xlsx => Err(ExtractError::Unsupported {
            format: "Excel (.xlsx)",
            hint: "Excel 读取尚未启用，请提交 .docx 或 .txt 版本",
        }),
        Format::Pdf => Err(ExtractError::Unsupported {
            format: "PDF",
            hint: "PDF 读取尚未启用，请提交 .docx 或 .txt 版本",
        }),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
