//! Word 2007+ (.docx): body paragraphs and real tables with merged cells, in reading order.
//!
//! A streaming walk over `word/document.xml` with quick-xml: no DOM, bounded memory. Word
//! splits a paragraph's text into many runs (`某市某局`, `2025`, `年…`), so runs are joined per
//! paragraph. Merged cells follow Word's own encoding: `w:gridSpan` widens a cell, a
//! `w:vMerge` without `restart` continues the cell above and is emitted as no cell at all,
//! so that an empty cell always means the agency left it blank.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::{Block, Cell, ExtractError, Extracted, Format, SourceRef};

/// `word/document.xml` larger than this, uncompressed, is refused (zip bombs).
const MAX_DOCUMENT_XML: u64 = 64 * 1024 * 1024;
/// More entries than this is not a Word document.
const MAX_ENTRIES: usize = 10_000;
/// Tables nested deeper than this are refused (hostile recursion).
const MAX_TABLE_DEPTH: usize = 32;

pub fn extract(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let xml = document_xml(bytes)?;
    let blocks = walk(&xml)?;
    Ok(Extracted {
        format: Format::Docx,
        encoding: None,
        blocks,
        ocr: None,
    })
}

fn document_xml(bytes: &[u8]) -> Result<String, ExtractError> {
    let corrupt = |detail: String| ExtractError::Corrupt { detail };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| corrupt(format!("不是完整的 Word 文档压缩包：{e}")))?;
    if archive.len() > MAX_ENTRIES {
        return Err(ExtractError::Hostile {
            detail: format!("压缩包内有 {} 个文件", archive.len()),
        });
    }
    let entry = archive
        .by_name("word/document.xml")
        .map_err(|_| corrupt("缺少正文 word/document.xml".into()))?;
    let too_large = || ExtractError::Hostile {
        detail: format!("正文解压后超过 {} MB", MAX_DOCUMENT_XML / 1024 / 1024),
    };
    // Refused before inflating when it says so; the declared size can lie, so at most one
    // byte past the limit is read to know.
    let declared = entry.size();
    if declared > MAX_DOCUMENT_XML {
        return Err(too_large());
    }
    let xml = super::read_bounded(entry, declared, MAX_DOCUMENT_XML)
        .map_err(|e| corrupt(format!("正文无法解压：{e}")))?;
    if xml.len() as u64 > MAX_DOCUMENT_XML {
        return Err(too_large());
    }
    match String::from_utf8(xml) {
        Ok(s) => Ok(s),
        Err(e) => Ok(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// A table being read: its rows, the current row and cell, the grid column.
struct TableState {
    index: u32,
    rows: Vec<Vec<Cell>>,
    row: Vec<Cell>,
    /// Next grid column in the current row (0-based).
    col: u32,
    /// The current cell: text, whether it continues a merge, its span.
    cell: Option<CellState>,
}

struct CellState {
    text: String,
    continuation: bool,
    span: u32,
    start_col: u32,
    /// Text of tables nested in this cell.
    nested: String,
}

struct Walker {
    blocks: Vec<Block>,
    tables: Vec<TableState>,
    table_count: u32,
    paragraph_count: u32,
    /// Text of the paragraph being read, if inside one.
    paragraph: Option<String>,
    /// Inside `w:t`/`w:delText`/drawings etc.: whether text is taken.
    in_text: bool,
    skip_depth: usize,
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.try_get_attribute(key)
        .ok()
        .flatten()
        .map(|a| a.value.into_owned())
}

fn walk(xml: &str) -> Result<Vec<Block>, ExtractError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(false);
    let mut w = Walker {
        blocks: Vec::new(),
        tables: Vec::new(),
        table_count: 0,
        paragraph_count: 0,
        paragraph: None,
        in_text: false,
        skip_depth: 0,
    };
    loop {
        let event = reader.read_event().map_err(|e| ExtractError::Corrupt {
            detail: format!("正文 XML 有误（位置 {}）：{e}", reader.buffer_position()),
        })?;
        match event {
            Event::Start(e) => {
                let name = e.name();
                let name = local(name.as_ref());
                if w.skip_depth > 0 {
                    w.skip_depth += 1;
                    continue;
                }
                w.start(name, &e, false)?;
            }
            Event::Empty(e) => {
                if w.skip_depth > 0 {
                    continue;
                }
                let name = e.name();
                let name = local(name.as_ref());
                w.start(name, &e, true)?;
                w.end(name);
            }
            Event::End(e) => {
                if w.skip_depth > 0 {
                    w.skip_depth -= 1;
                    continue;
                }
                let name = e.name();
                w.end(local(name.as_ref()));
            }
            Event::Text(t) if w.in_text && w.skip_depth == 0 => {
                let text = t.xml_content(quick_xml::XmlVersion::Implicit1_0);
                w.push_text(&text);
            }
            Event::CData(t) if w.in_text && w.skip_depth == 0 => {
                w.push_text(&t.into_inner());
            }
            Event::GeneralRef(r) if w.in_text && w.skip_depth == 0 => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match r.xml_content(quick_xml::XmlVersion::Implicit1_0).as_ref() {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "apos" => Some('\''),
                        "quot" => Some('"'),
                        _ => None,
                    },
                };
                if let Some(c) = c {
                    w.push_text(c.encode_utf8(&mut [0; 4]));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    // An unclosed table at the end (truncated XML that still parsed): keep what was read.
    while !w.tables.is_empty() {
        w.end("tbl");
    }
    Ok(w.blocks)
}

impl Walker {
    fn start(&mut self, name: &str, e: &BytesStart<'_>, empty: bool) -> Result<(), ExtractError> {
        match name {
            // Text boxes, drawings, deleted text, field codes: not the report's text.
            "drawing" | "pict" | "txbxContent" | "del" | "delText" | "instrText" | "Choice"
            | "footnoteReference" | "object"
                if !empty =>
            {
                self.skip_depth = 1;
            }
            "p" => self.paragraph = Some(String::new()),
            "t" => self.in_text = !empty,
            "tab" if self.paragraph.is_some() => self.push_text("\t"),
            "br" | "cr" if self.paragraph.is_some() => self.push_text("\n"),
            "tbl" => {
                if self.tables.len() >= MAX_TABLE_DEPTH {
                    return Err(ExtractError::Hostile {
                        detail: format!("表格嵌套超过 {MAX_TABLE_DEPTH} 层"),
                    });
                }
                self.table_count += 1;
                self.tables.push(TableState {
                    index: self.table_count,
                    rows: Vec::new(),
                    row: Vec::new(),
                    col: 0,
                    cell: None,
                });
            }
            "tr" => {
                if let Some(t) = self.tables.last_mut() {
                    t.row.clear();
                    t.col = 0;
                }
            }
            "gridBefore" => {
                if let Some(t) = self.tables.last_mut() {
                    t.col += attr(e, "w:val")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0u32)
                        .min(1000);
                }
            }
            "tc" => {
                if let Some(t) = self.tables.last_mut() {
                    t.cell = Some(CellState {
                        text: String::new(),
                        continuation: false,
                        span: 1,
                        start_col: t.col,
                        nested: String::new(),
                    });
                }
            }
            "gridSpan" => {
                if let Some(c) = self.tables.last_mut().and_then(|t| t.cell.as_mut()) {
                    c.span = attr(e, "w:val")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1u32)
                        .clamp(1, 1000);
                }
            }
            "vMerge" => {
                if let Some(c) = self.tables.last_mut().and_then(|t| t.cell.as_mut()) {
                    c.continuation = attr(e, "w:val").is_none_or(|v| v == "continue");
                }
            }
            "hMerge" => {
                if let Some(c) = self.tables.last_mut().and_then(|t| t.cell.as_mut()) {
                    c.continuation = attr(e, "w:val").is_none_or(|v| v == "continue");
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, name: &str) {
        match name {
            "t" => self.in_text = false,
            "p" => {
                let Some(text) = self.paragraph.take() else {
                    return;
                };
                let in_table = !self.tables.is_empty();
                match self.tables.last_mut().and_then(|t| t.cell.as_mut()) {
                    Some(cell) => {
                        if !cell.text.is_empty() {
                            cell.text.push('\n');
                        }
                        cell.text.push_str(&text);
                    }
                    None if !in_table => {
                        self.paragraph_count += 1;
                        if !text.trim().is_empty() {
                            self.blocks.push(Block::Text {
                                text,
                                at: SourceRef::Paragraph(self.paragraph_count),
                            });
                        }
                    }
                    None => {}
                }
            }
            "tc" => {
                let Some(t) = self.tables.last_mut() else {
                    return;
                };
                let Some(cell) = t.cell.take() else { return };
                t.col = cell.start_col + cell.span;
                if cell.continuation {
                    return;
                }
                let mut text = cell.text;
                if !cell.nested.is_empty() {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(&cell.nested);
                }
                let row = t.rows.len() as u32 + 1;
                t.row.push(Cell {
                    text,
                    at: SourceRef::Cell {
                        table: t.index,
                        row,
                        col: cell.start_col + 1,
                    },
                });
            }
            "tr" => {
                if let Some(t) = self.tables.last_mut() {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                }
            }
            "tbl" => {
                let Some(t) = self.tables.pop() else { return };
                match self.tables.last_mut().and_then(|outer| outer.cell.as_mut()) {
                    // A table inside a cell: its text joins the cell's.
                    Some(cell) => {
                        let text: Vec<String> = t
                            .rows
                            .iter()
                            .map(|r| {
                                r.iter()
                                    .map(|c| c.text.as_str())
                                    .collect::<Vec<_>>()
                                    .join("\t")
                            })
                            .collect();
                        if !cell.nested.is_empty() {
                            cell.nested.push('\n');
                        }
                        cell.nested.push_str(&text.join("\n"));
                    }
                    None => self.blocks.push(Block::Table { rows: t.rows }),
                }
            }
            _ => {}
        }
    }

    fn push_text(&mut self, s: &str) {
        if let Some(p) = self.paragraph.as_mut() {
            p.push_str(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn docx(body: &str) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("[Content_Types].xml", options).unwrap();
        zip.write_all(b"<?xml version=\"1.0\"?><Types/>").unwrap();
        zip.start_file("word/document.xml", options).unwrap();
        write!(
            zip,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"w\"><w:body>{body}</w:body></w:document>"
        )
        .unwrap();
        zip.finish().unwrap();
        buf.into_inner()
    }

    fn p(text: &str) -> String {
        format!("<w:p><w:r><w:t>{text}</w:t></w:r></w:p>")
    }

    #[test]
    fn runs_join_and_entities_decode() {
        let body = "<w:p><w:r><w:t>某市某局</w:t></w:r><w:r><w:t xml:space=\"preserve\">2025</w:t></w:r>\
                    <w:r><w:t>年&amp;报告&#x4E00;</w:t></w:r></w:p>";
        let ex = extract(&docx(body)).unwrap();
        assert_eq!(
            ex.blocks,
            vec![Block::Text {
                text: "某市某局2025年&报告一".into(),
                at: SourceRef::Paragraph(1)
            }]
        );
    }

    #[test]
    fn merged_cells_and_grid_columns() {
        let tc =
            |props: &str, text: &str| format!("<w:tc><w:tcPr>{props}</w:tcPr>{}</w:tc>", p(text));
        let body = format!(
            "{}<w:tbl><w:tr>{}{}</w:tr><w:tr>{}{}{}</w:tr></w:tbl>",
            p("标题"),
            tc(
                "<w:gridSpan w:val=\"2\"/><w:vMerge w:val=\"restart\"/>",
                "合并"
            ),
            tc("", "申请人情况"),
            tc("<w:gridSpan w:val=\"2\"/><w:vMerge/>", ""),
            tc("", ""),
            tc("", "7"),
        );
        let ex = extract(&docx(&body)).unwrap();
        let Block::Table { rows } = &ex.blocks[1] else {
            panic!("{:?}", ex.blocks)
        };
        let cell = |text: &str, row, col| Cell {
            text: text.into(),
            at: SourceRef::Cell { table: 1, row, col },
        };
        assert_eq!(rows[0], vec![cell("合并", 1, 1), cell("申请人情况", 1, 3)]);
        // The vMerge continuation is no cell; the empty cell is a blank cell.
        assert_eq!(rows[1], vec![cell("", 2, 3), cell("7", 2, 4)]);
    }

    #[test]
    fn nested_table_text_joins_the_cell() {
        let inner = format!(
            "<w:tbl><w:tr><w:tc>{}</w:tc><w:tc>{}</w:tc></w:tr></w:tbl>",
            p("a"),
            p("b")
        );
        let body = format!(
            "<w:tbl><w:tr><w:tc>{}{inner}</w:tc></w:tr></w:tbl>",
            p("外")
        );
        let ex = extract(&docx(&body)).unwrap();
        assert_eq!(ex.blocks.len(), 1);
        let Block::Table { rows } = &ex.blocks[0] else {
            panic!()
        };
        assert_eq!(rows[0][0].text, "外\na\tb");
    }

    #[test]
    fn truncated_and_missing_parts_are_corrupt() {
        let bytes = docx(&p("正文"));
        for cut in [bytes.len() / 2, 30, 4] {
            assert!(
                matches!(extract(&bytes[..cut]), Err(ExtractError::Corrupt { .. })),
                "{cut}"
            );
        }
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut buf);
        zip.start_file("other.xml", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"x").unwrap();
        zip.finish().unwrap();
        assert!(matches!(
            extract(buf.get_ref()),
            Err(ExtractError::Corrupt { .. })
        ));
        let bad_xml = docx("<w:p><w:r><w:t>a</w:r></w:p>");
        assert!(matches!(
            extract(&bad_xml),
            Err(ExtractError::Corrupt { .. })
        ));
    }

    #[test]
    fn zip_bomb_is_refused() {
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("word/document.xml", options).unwrap();
        let chunk = vec![b' '; 1024 * 1024];
        for _ in 0..(MAX_DOCUMENT_XML / chunk.len() as u64 + 2) {
            zip.write_all(&chunk).unwrap();
        }
        zip.finish().unwrap();
        let bytes = buf.into_inner();
        assert!(bytes.len() < 1024 * 1024, "compressed to {}", bytes.len());
        assert!(matches!(extract(&bytes), Err(ExtractError::Hostile { .. })));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut body = String::new();
        for _ in 0..(MAX_TABLE_DEPTH + 1) {
            body.push_str("<w:tbl><w:tr><w:tc>");
        }
        assert!(matches!(
            extract(&docx(&body)),
            Err(ExtractError::Hostile { .. })
        ));
    }
}
