//! Spreadsheets (.xlsx, .xls/.et, .ods) via calamine: the report pasted into one or more
//! sheets, tables as cell grids, narrative and headings as single cells.
//!
//! A sheet has no paragraphs, so they are told by shape: a row with one filled cell outside
//! a table is a paragraph (title, heading, narrative); consecutive rows with several filled
//! cells are a table, and a one-cell row inside a table stays in it (the `第二十条第（五）项`
//! rows of table 1), unless it is a section heading. Merged cells appear once, at their
//! top-left, as in docx and html; cells a merge covers are left out, so that an empty cell
//! always means the agency left it blank. Numbers stored as numbers, as text or as formulas
//! (their cached value) all read the same.
//!
//! calamine builds a dense grid per sheet, so a sheet claiming a million rows is a memory
//! bomb: xlsx sheets are therefore streamed cell by cell with a cap, and every zip container
//! is measured before calamine opens it.

use std::collections::{BTreeMap, HashSet};
use std::io::{Cursor, Read};

use calamine::{Data, DataRef, Dimensions, Reader, SheetType, SheetVisible};

use super::{Block, Cell, ExtractError, Extracted, Format, SourceRef};

/// Filled cells in one workbook beyond this are not a report.
const MAX_CELLS: usize = 200_000;
/// Any part of a zip container larger than this, uncompressed, is refused (zip bombs).
const MAX_PART: u64 = 64 * 1024 * 1024;
/// All parts together.
const MAX_TOTAL: u64 = 256 * 1024 * 1024;
const MAX_ENTRIES: usize = 10_000;
/// A one-cell row longer than this is narrative, even inside a table.
const PARAGRAPH_CHARS: usize = 40;

/// The spreadsheet kinds calamine reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Xlsx,
    Xls,
    Ods,
}

/// One sheet: its filled cells by (row, col), 0-based, and its merged areas.
struct Sheet {
    cells: BTreeMap<(u32, u32), String>,
    merges: Vec<Dimensions>,
    /// Cells a merge covers, where the format lists them instead of the merges (ODS).
    covered: HashSet<(u32, u32)>,
}

pub fn extract(bytes: &[u8], kind: Kind) -> Result<Extracted, ExtractError> {
    if kind != Kind::Xls {
        measure_zip(bytes)?;
    }
    // calamine is careful, but a panic on a malformed workbook must cost a finding, never
    // the daemon's worker thread.
    let sheets =
        std::panic::catch_unwind(|| read(bytes, kind)).map_err(|_| ExtractError::Corrupt {
            detail: "表格文件结构异常，无法读取".into(),
        })??;
    let mut blocks = Vec::new();
    for (index, sheet) in sheets.iter().enumerate() {
        blocks.extend(sheet_blocks(sheet, index as u32 + 1));
    }
    Ok(Extracted {
        format: match kind {
            Kind::Xlsx => Format::Xlsx,
            Kind::Xls => Format::Xls,
            Kind::Ods => Format::Ods,
        },
        encoding: None,
        blocks,
        ocr: None,
    })
}

/// Decompresses every part once, counting, before calamine trusts the declared sizes.
fn measure_zip(bytes: &[u8]) -> Result<(), ExtractError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ExtractError::Corrupt {
            detail: format!("不是完整的表格文件压缩包：{e}"),
        })?;
    if archive.len() > MAX_ENTRIES {
        return Err(ExtractError::Hostile {
            detail: format!("压缩包内有 {} 个文件", archive.len()),
        });
    }
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|e| ExtractError::Corrupt {
            detail: format!("压缩包第 {} 个文件无法读取：{e}", i + 1),
        })?;
        let name = entry
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| format!("第 {} 个文件", i + 1));
        let n =
            std::io::copy(&mut entry.take(MAX_PART + 1), &mut std::io::sink()).map_err(|e| {
                ExtractError::Corrupt {
                    detail: format!("{name} 无法解压：{e}"),
                }
            })?;
        total += n;
        if n > MAX_PART || total > MAX_TOTAL {
            return Err(ExtractError::Hostile {
                detail: format!("{name} 解压后超过 {} MB", MAX_PART / 1024 / 1024),
            });
        }
    }
    Ok(())
}

fn corrupt(e: impl std::fmt::Display) -> ExtractError {
    ExtractError::Corrupt {
        detail: format!("表格无法读取：{e}"),
    }
}

fn too_many() -> ExtractError {
    ExtractError::Hostile {
        detail: format!("表格中有超过 {MAX_CELLS} 个非空单元格"),
    }
}

/// The names of the visible worksheets (no chart sheets, no hidden scratch sheets).
fn visible_names(sheets: &[calamine::Sheet]) -> Vec<String> {
    sheets
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet && matches!(s.visible, SheetVisible::Visible))
        .map(|s| s.name.clone())
        .collect()
}

/// Keeps a filled cell, counting cells across the workbook against [`MAX_CELLS`].
fn add(
    cells: &mut BTreeMap<(u32, u32), String>,
    count: &mut usize,
    pos: (u32, u32),
    text: String,
) -> Result<(), ExtractError> {
    if !text.is_empty() {
        *count += 1;
        if *count > MAX_CELLS {
            return Err(too_many());
        }
        cells.insert(pos, text);
    }
    Ok(())
}

/// The visible worksheets, in workbook order.
fn read(bytes: &[u8], kind: Kind) -> Result<Vec<Sheet>, ExtractError> {
    let mut out = Vec::new();
    let mut count = 0usize;
    match kind {
        Kind::Xlsx => {
            let mut wb = calamine::Xlsx::new(Cursor::new(bytes)).map_err(corrupt)?;
            let names = visible_names(wb.sheets_metadata());
            for name in names {
                let merges = wb.merge_cells_by_sheet_name(&name).map_err(corrupt)?;
                let mut cells = BTreeMap::new();
                let mut reader = wb.worksheet_cells_reader(&name).map_err(corrupt)?;
                while let Some(cell) = reader.next_cell().map_err(corrupt)? {
                    let value: Data = match cell.get_value() {
                        DataRef::SharedString(s) => Data::String((*s).to_string()),
                        other => Data::from(other.clone()),
                    };
                    add(&mut cells, &mut count, cell.get_position(), show(&value))?;
                }
                out.push(Sheet {
                    cells,
                    merges,
                    covered: HashSet::new(),
                });
            }
        }
        Kind::Xls | Kind::Ods => {
            let mut covered = if kind == Kind::Ods {
                ods_covered(bytes)?
            } else {
                Default::default()
            };
            let mut wb = match kind {
                Kind::Xls => {
                    calamine::Sheets::Xls(calamine::Xls::new(Cursor::new(bytes)).map_err(corrupt)?)
                }
                _ => {
                    calamine::Sheets::Ods(calamine::Ods::new(Cursor::new(bytes)).map_err(corrupt)?)
                }
            };
            let names = visible_names(wb.sheets_metadata());
            for name in names {
                let range = wb.worksheet_range(&name).map_err(corrupt)?;
                let merges = match &wb {
                    calamine::Sheets::Xls(x) => {
                        x.merge_cells_by_sheet_name(&name).unwrap_or_default()
                    }
                    _ => Vec::new(),
                };
                let mut cells = BTreeMap::new();
                let (r0, c0) = range.start().unwrap_or((0, 0));
                for (r, c, value) in range.used_cells() {
                    add(
                        &mut cells,
                        &mut count,
                        (r0 + r as u32, c0 + c as u32),
                        show(value),
                    )?;
                }
                out.push(Sheet {
                    cells,
                    merges,
                    covered: covered.remove(&name).unwrap_or_default(),
                });
            }
        }
    }
    Ok(out)
}

/// The cells each sheet of an ODS file marks as covered by a merge
/// (`table:covered-table-cell`), by sheet name; calamine reads them as empty cells.
fn ods_covered(
    bytes: &[u8],
) -> Result<std::collections::HashMap<String, HashSet<(u32, u32)>>, ExtractError> {
    use quick_xml::events::Event;
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
    let entry = archive.by_name("content.xml").map_err(corrupt)?;
    let declared = entry.size();
    let mut xml = super::read_bounded(entry, declared, MAX_PART).map_err(corrupt)?;
    xml.truncate(usize::try_from(MAX_PART).unwrap_or(usize::MAX));
    let xml = String::from_utf8_lossy(&xml);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut out = std::collections::HashMap::new();
    let mut sheet: Option<(String, HashSet<(u32, u32)>)> = None;
    let (mut row, mut col) = (0u32, 0u32);
    let mut row_repeat = 1u32;
    let repeat = |e: &quick_xml::events::BytesStart<'_>, key: &str| -> u32 {
        e.try_get_attribute(key)
            .ok()
            .flatten()
            .and_then(|a| a.value.parse().ok())
            .unwrap_or(1u32)
            .max(1)
    };
    loop {
        let event = reader.read_event().map_err(corrupt)?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => match e.name().as_ref() {
                "table:table" => {
                    let name = e
                        .try_get_attribute("table:name")
                        .ok()
                        .flatten()
                        .map(|a| a.value.into_owned())
                        .unwrap_or_default();
                    sheet = Some((name, HashSet::new()));
                    row = 0;
                }
                "table:table-row" => {
                    col = 0;
                    row_repeat = repeat(e, "table:number-rows-repeated");
                    if empty {
                        row = row.saturating_add(row_repeat);
                    }
                }
                "table:table-cell" => {
                    col = col.saturating_add(repeat(e, "table:number-columns-repeated"));
                }
                "table:covered-table-cell" => {
                    let n = repeat(e, "table:number-columns-repeated");
                    if let Some((_, set)) = sheet.as_mut() {
                        for c in col..col.saturating_add(n).min(col.saturating_add(1_000)) {
                            if set.len() < MAX_CELLS {
                                set.insert((row, c));
                            }
                        }
                    }
                    col = col.saturating_add(n);
                }
                _ => {}
            },
            Event::End(ref e) => match e.name().as_ref() {
                "table:table-row" => row = row.saturating_add(row_repeat),
                "table:table" => {
                    if let Some((name, set)) = sheet.take() {
                        out.insert(name, set);
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// A cell as the report parser should see it: integers without `.0`, decimals as Excel
/// shows them (`96171.6`), text trimmed.
fn show(value: &Data) -> String {
    match value {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => {
            // Binary floats print their noise (0.1 + 0.2); 10 significant digits is what
            // Excel's General format shows.
            let s = format!("{:.10}", f);
            let s = s.trim_end_matches('0').trim_end_matches('.');
            s.to_string()
        }
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::Error(e) => format!("#{e:?}"),
        other => other.to_string(),
    }
}

/// The blocks of one sheet: paragraphs and tables, top to bottom.
fn sheet_blocks(sheet: &Sheet, number: u32) -> Vec<Block> {
    let covered: HashSet<(u32, u32)> = sheet
        .covered
        .iter()
        .copied()
        .chain(sheet.merges.iter().flat_map(|m| {
            let (r0, c0) = m.start;
            let (r1, c1) = m.end;
            (r0..=r1.min(r0 + 10_000))
                .flat_map(move |r| (c0..=c1.min(c0 + 1_000)).map(move |c| (r, c)))
                .filter(move |&p| p != (r0, c0))
        }))
        .collect();
    let at = |(row, col): (u32, u32)| SourceRef::Sheet {
        sheet: number,
        row: row + 1,
        col: col + 1,
    };
    // Rows in order, each with its filled cells.
    let mut rows: BTreeMap<u32, Vec<(u32, &str)>> = BTreeMap::new();
    for (&(r, c), text) in &sheet.cells {
        if !covered.contains(&(r, c)) {
            rows.entry(r).or_default().push((c, text));
        }
    }
    let mut blocks = Vec::new();
    let mut table: Vec<u32> = Vec::new();
    let mut last_row: Option<u32> = None;
    let flush = |table: &mut Vec<u32>, blocks: &mut Vec<Block>| {
        if table.is_empty() {
            return;
        }
        let cols = table
            .iter()
            .flat_map(|r| rows[r].iter().map(|&(c, _)| c))
            .chain(
                sheet
                    .merges
                    .iter()
                    .filter(|m| table.contains(&m.start.0))
                    .map(|m| m.start.1),
            );
        let (min, max) = cols.fold((u32::MAX, 0), |(lo, hi), c| (lo.min(c), hi.max(c)));
        let grid = table
            .iter()
            .map(|&r| {
                (min..=max)
                    .filter(|&c| !covered.contains(&(r, c)))
                    .map(|c| Cell {
                        text: sheet.cells.get(&(r, c)).cloned().unwrap_or_default(),
                        at: at((r, c)),
                    })
                    .collect()
            })
            .collect();
        blocks.push(Block::Table { rows: grid });
        table.clear();
    };
    for (&r, cells) in &rows {
        let adjacent = last_row.is_some_and(|l| r == l + 1);
        last_row = Some(r);
        if !adjacent {
            flush(&mut table, &mut blocks);
        }
        let paragraph = match cells.as_slice() {
            [(_, text)] => {
                table.is_empty()
                    || text.chars().count() > PARAGRAPH_CHARS
                    || super::is_section_heading(text)
            }
            _ => false,
        };
        if paragraph {
            flush(&mut table, &mut blocks);
            let (c, text) = cells[0];
            blocks.push(Block::Text {
                text: text.to_string(),
                at: at((r, c)),
            });
        } else {
            table.push(r);
        }
    }
    flush(&mut table, &mut blocks);
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    type Pos = (u32, u32);

    fn sheet(cells: &[(Pos, &str)], merges: &[(Pos, Pos)]) -> Sheet {
        Sheet {
            cells: cells.iter().map(|&(p, t)| (p, t.to_string())).collect(),
            covered: HashSet::new(),
            merges: merges
                .iter()
                .map(|&(start, end)| Dimensions { start, end })
                .collect(),
        }
    }

    fn table_texts(b: &Block) -> Vec<Vec<String>> {
        match b {
            Block::Table { rows } => rows
                .iter()
                .map(|r| r.iter().map(|c| c.text.clone()).collect())
                .collect(),
            Block::Text { text, .. } => vec![vec![format!("text:{text}")]],
        }
    }

    #[test]
    fn paragraphs_tables_merges_and_blanks() {
        let s = sheet(
            &[
                ((0, 0), "某局2024年政府信息公开工作年度报告"),
                ((2, 0), "二、主动公开政府信息情况"),
                ((3, 0), "第二十条第（一）项"),
                ((4, 0), "信息内容"),
                ((4, 1), "本年制发件数"),
                ((4, 3), "现行有效件数"),
                ((5, 0), "规章"),
                ((5, 1), "1"),
                ((5, 3), "11"),
                ((6, 0), "第二十条第（五）项"),
                ((7, 0), "行政许可"),
                ((7, 1), "5"),
            ],
            // 第二十条 rows span the table; 行政许可's value spans three columns.
            &[((3, 0), (3, 3)), ((6, 0), (6, 3)), ((7, 1), (7, 3))],
        );
        let b = sheet_blocks(&s, 1);
        let shown: Vec<_> = b.iter().map(table_texts).collect();
        assert_eq!(
            shown,
            vec![
                vec![vec!["text:某局2024年政府信息公开工作年度报告".to_string()]],
                vec![vec!["text:二、主动公开政府信息情况".to_string()]],
                vec![vec!["text:第二十条第（一）项".to_string()]],
                vec![
                    vec!["信息内容", "本年制发件数", "", "现行有效件数"]
                        .into_iter()
                        .map(String::from)
                        .collect(),
                    // The blank (本年废止件数) stays a blank cell.
                    vec!["规章", "1", "", "11"]
                        .into_iter()
                        .map(String::from)
                        .collect(),
                    vec!["第二十条第（五）项".to_string()],
                    vec!["行政许可".to_string(), "5".to_string()],
                ],
            ]
        );
        let Block::Table { rows } = &b[3] else {
            panic!("table expected")
        };
        assert_eq!(rows[1][3].at.describe(), "第1个工作表第6行第D列");
    }

    #[test]
    fn numbers_show_as_written() {
        assert_eq!(show(&Data::Float(3119.0)), "3119");
        assert_eq!(show(&Data::Float(96171.6)), "96171.6");
        assert_eq!(show(&Data::Float(0.1 + 0.2)), "0.3");
        assert_eq!(show(&Data::Int(-2)), "-2");
        assert_eq!(show(&Data::String(" 12 ".into())), "12");
    }

    #[test]
    fn garbage_is_corrupt_not_a_panic() {
        for kind in [Kind::Xlsx, Kind::Xls, Kind::Ods] {
            let e = extract(b"PK\x03\x04 not really a workbook", kind).unwrap_err();
            assert!(matches!(e, ExtractError::Corrupt { .. }), "{kind:?}: {e:?}");
        }
    }
}
