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
mod legacy;
mod pdf;
mod pdf_draw;
mod pdf_grid;
mod scan;
mod sheet;
mod subprocess;
mod text;

use std::fmt;

use serde::Serialize;

pub use pdf::blocks_of_tsv;
pub use pdf_draw::blocks_of_drawing;
pub use scan::{
    OcrCell, OcrReading, Settings as OcrSettings, configure as configure_ocr,
    page_count as scan_page_count, page_png as scan_page_png, putting_off as putting_off_scans,
    status as ocr_status,
};
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
    /// Excel 97–2003 and WPS spreadsheets (.xls, .et).
    Xls,
    /// OpenDocument spreadsheet (.ods).
    Ods,
    /// Word 97–2003 and WPS documents (.doc, .wps), read through LibreOffice.
    Doc,
    /// OpenDocument text (.odt), read through LibreOffice.
    Odt,
    /// A scanned or photographed page (.jpg, .png, .tif), read by OCR.
    Image,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Txt => "txt",
            Format::Html => "html",
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Pdf => "pdf",
            Format::Xls => "xls",
            Format::Ods => "ods",
            Format::Doc => "doc",
            Format::Odt => "odt",
            Format::Image => "image",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a piece of text came from, precise enough for a clerk to find it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SourceRef {
    /// 1-based line of a text file.
    Line(u32),
    /// 1-based paragraph of a document (docx, html).
    Paragraph(u32),
    /// A table cell, all 1-based: the n-th table of the document, its row and column.
    Cell { table: u32, row: u32, col: u32 },
    /// A visual line of a PDF page, both 1-based.
    PageLine { page: u32, line: u32 },
    /// A cell of a table a PDF draws with borders, read by its grid (all 1-based): the page
    /// its row starts on, the n-th such table of the document, its row and column.
    PdfCell {
        page: u32,
        table: u32,
        row: u32,
        col: u32,
    },
    /// A spreadsheet cell, all 1-based: the n-th visible sheet, its row and column.
    Sheet { sheet: u32, row: u32, col: u32 },
}

/// `1` -> `A`, `27` -> `AA`: spreadsheet column letters.
fn column_letters(mut col: u32) -> String {
    let mut s = Vec::new();
    while col > 0 {
        let r = (col - 1) % 26;
        s.push(b'A' + r as u8);
        col = (col - 1) / 26;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
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
            SourceRef::PageLine { page, line } => format!("第{page}页第{line}行"),
            SourceRef::PdfCell {
                page,
                table,
                row,
                col,
            } => format!("第{page}页，第{table}个表格第{row}行第{col}列"),
            SourceRef::Sheet { sheet, row, col } => {
                format!("第{sheet}个工作表第{row}行第{}列", column_letters(col))
            }
        }
    }

    /// Where to look, as messages to a clerk say it: [`SourceRef::describe`], except that a
    /// PDF is named by its page only. A line number means something only in a text file;
    /// the lines of a PDF are the extractor's, not what the clerk sees (issue 24), so rows
    /// are named by their template label and the page.
    pub fn place(&self) -> String {
        match *self {
            SourceRef::PageLine { page, .. } => format!("第{page}页"),
            _ => self.describe(),
        }
    }

    /// The 1-based line, for text formats and PDF (the line on its page).
    pub fn line(&self) -> Option<u32> {
        match *self {
            SourceRef::Line(n) | SourceRef::PageLine { line: n, .. } => Some(n),
            _ => None,
        }
    }

    /// The 1-based page of a PDF.
    pub fn page(&self) -> Option<u32> {
        match *self {
            SourceRef::PageLine { page, .. } | SourceRef::PdfCell { page, .. } => Some(page),
            _ => None,
        }
    }

    /// A compact cell reference (`T2R4C3`) for formats with real tables.
    pub fn cell(&self) -> Option<String> {
        match *self {
            SourceRef::Cell { table, row, col }
            | SourceRef::PdfCell {
                table, row, col, ..
            } => Some(format!("T{table}R{row}C{col}")),
            SourceRef::Sheet { sheet, row, col } => {
                Some(format!("S{sheet}!{}{row}", column_letters(col)))
            }
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
    /// For a scan read by OCR: what was read in each number cell, with its confidence.
    /// `None` for every file with a text layer.
    pub ocr: Option<OcrReading>,
}

/// Why a file could not be read at all. Each message says what the submitter can do.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("文件为空（0 字节），请重新提交完整的年度报告文件。")]
    Empty,
    #[error("文件过大（{size} 字节，上限 {limit} 字节），请确认提交的是年度报告本身。")]
    TooLarge { size: u64, limit: u64 },
    #[error(
        "无法识别的文件格式（{detail}）。请提交 .docx、.doc、.wps、.xlsx、.xls、.pdf、.html 或 .txt 格式的年度报告。"
    )]
    UnknownFormat { detail: String },
    #[error("暂不支持 {format} 格式：{}", sentence(.hint))]
    Unsupported {
        format: &'static str,
        hint: &'static str,
    },
    #[error("文件已损坏或不完整（{detail}），请重新保存后再提交。")]
    Corrupt { detail: String },
    #[error("文件内容异常（{detail}），已拒绝读取以保护系统，请重新保存后再提交。")]
    Hostile { detail: String },
    #[error(
        "扫描件，无法读取文字（{pages} 页中只找到 {chars} 个文字），请提交可编辑的文本版本（.docx 或由 Word/WPS 直接导出的 PDF）。"
    )]
    Scanned { pages: u32, chars: usize },
    #[error("PDF 已加密或禁止复制文字，无法读取，请提交未加密的版本。")]
    Encrypted,
}

/// `s` ending with a full stop, as every message to a clerk does.
fn sentence(s: &str) -> String {
    if s.ends_with(['。', '！', '？']) {
        s.to_string()
    } else {
        format!("{s}。")
    }
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
            ExtractError::Scanned { .. } => "file.scanned",
            ExtractError::Encrypted => "file.encrypted",
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
        // OpenDocument puts its uncompressed `mimetype` part first.
        if contains(&bytes[..bytes.len().min(128)], b"opendocument.spreadsheet") {
            return Ok(Format::Ods);
        }
        if contains(&bytes[..bytes.len().min(128)], b"opendocument.text") {
            return Ok(Format::Odt);
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
        // A compound file: Word and WPS writer files hold a `WordDocument` stream, Excel
        // and WPS spreadsheets a `Workbook` (or BIFF5 `Book`) stream; names are UTF-16LE.
        if contains(bytes, &utf16(b"WordDocument")) {
            return Ok(Format::Doc);
        }
        if contains(bytes, &utf16(b"Workbook")) || contains(bytes, &utf16(b"Book")) {
            return Ok(Format::Xls);
        }
        return Err(ExtractError::UnknownFormat {
            detail: "旧版 Office 文件，但不是 Word、WPS 或 Excel 文档".into(),
        });
    }
    if bytes.starts_with(b"MZ") || bytes.starts_with(b"\x7fELF") {
        return Err(ExtractError::UnknownFormat {
            detail: "可执行程序，不是文档".into(),
        });
    }
    // Scanned or photographed pages, read by OCR.
    for magic in [
        &b"\x89PNG\r\n\x1a\n"[..],
        b"\xFF\xD8\xFF",
        b"II*\x00",
        b"MM\x00*",
    ] {
        if bytes.starts_with(magic) {
            return Ok(Format::Image);
        }
    }
    for magic in [&b"GIF8"[..], b"Rar!", b"7z\xBC\xAF", b"\x1F\x8B"] {
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

/// Whether reading `bytes` may start an external program (pdftotext, LibreOffice): the
/// fuzz targets leave those inputs out, since the programs are not ours and take
/// milliseconds to seconds per run.
pub fn uses_helper(bytes: &[u8], name: &str) -> bool {
    matches!(
        sniff(bytes, name),
        Ok(Format::Pdf | Format::Doc | Format::Odt | Format::Xls | Format::Image)
    )
}

/// Reads at most `max + 1` bytes from `reader` (one past the limit, so the caller knows it
/// was passed), starting from room for `size_hint` (a zip entry's declared size, which can
/// lie) and never growing the buffer past `max + 1`: `read_to_end` doubles it, so a part
/// one byte over a 64 MB limit took a 128 MB buffer, and the allocator copies on growth.
pub(crate) fn read_bounded(
    mut reader: impl std::io::Read,
    size_hint: u64,
    max: u64,
) -> std::io::Result<Vec<u8>> {
    let cap = usize::try_from(max.saturating_add(1)).unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(usize::try_from(size_hint).unwrap_or(cap).min(cap));
    let mut chunk = vec![0u8; 64 * 1024];
    while out.len() < cap {
        let want = chunk.len().min(cap - out.len());
        let n = match reader.read(&mut chunk[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if out.len() + n > out.capacity() {
            let grown = (out.capacity() * 2).max(out.len() + n).min(cap);
            out.reserve_exact(grown - out.len());
        }
        out.extend_from_slice(&chunk[..n]);
    }
    Ok(out)
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
        Format::Xlsx => sheet::extract(bytes, sheet::Kind::Xlsx),
        Format::Ods => sheet::extract(bytes, sheet::Kind::Ods),
        Format::Xls => match sheet::extract(bytes, sheet::Kind::Xls) {
            // WPS's .et is not always BIFF calamine knows: LibreOffice reads the rest.
            Err(ExtractError::Corrupt { .. }) => {
                let xlsx = legacy::convert(bytes, "xls", legacy::Target::Xlsx)?;
                let mut ex = sheet::extract(&xlsx, sheet::Kind::Xlsx)?;
                ex.format = Format::Xls;
                Ok(ex)
            }
            other => other,
        },
        format @ (Format::Doc | Format::Odt) => {
            // LibreOffice reads the content either way; the extension only names the file.
            let docx = legacy::convert(bytes, format.as_str(), legacy::Target::Docx)?;
            let mut ex = docx::extract(&docx)?;
            ex.format = format;
            Ok(ex)
        }
        Format::Pdf => pdf::extract(bytes),
        Format::Image => scan::read_image(bytes)
            .map_err(|e| e.unwrap_or(ExtractError::Scanned { pages: 1, chars: 0 })),
    }
}

fn utf16(ascii: &[u8]) -> Vec<u8> {
    ascii.iter().flat_map(|&b| [b, 0]).collect()
}

/// `一、…` to `十、…`: a section heading of the template, in any format.
pub(crate) fn is_section_heading(text: &str) -> bool {
    let t = text.trim_start();
    let numerals = t
        .chars()
        .take_while(|c| "一二三四五六七八九十".contains(*c))
        .count();
    numerals > 0 && t.chars().nth(numerals) == Some('、')
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::read_bounded;

    /// A part that inflates past its limit: one byte past the limit is read, and the
    /// buffer never grows beyond it, whatever the size the zip entry declared.
    #[test]
    fn a_bounded_read_stops_one_past_the_limit_and_never_grows_beyond() {
        for hint in [0, 10, 1000, u64::MAX] {
            let endless = std::io::repeat(b'x');
            let got = read_bounded(std::io::Read::take(endless, 5000), hint, 1000).expect("read");
            assert_eq!(got.len(), 1001, "hint {hint}");
            assert!(
                got.capacity() <= 1001,
                "hint {hint}: capacity {}",
                got.capacity()
            );
        }
        let short = read_bounded(&b"abc"[..], 1000, 1000).expect("read");
        assert_eq!(short, b"abc");
    }
}
