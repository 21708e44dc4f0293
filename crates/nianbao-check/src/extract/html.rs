//! HTML pages saved from government portals: paragraphs and real `<table>`s with rowspan
//! and colspan, in document order.
//!
//! Portals often wrap the whole page in layout tables; a table that holds another table is
//! walked as a container, so the report's data tables inside it are found. Page chrome
//! (menus, breadcrumbs) is emitted as text: the report stage ignores what is not the report.

use ego_tree::NodeRef;
use scraper::{ElementRef, Html, Node};

use super::{Block, Cell, ExtractError, Extracted, Format, SourceRef};

/// Larger rowspan/colspan values are clamped (a hostile `colspan=100000` would allocate).
const MAX_SPAN: usize = 200;
/// Rows or columns of one table beyond this are not read.
const MAX_GRID: usize = 2000;
/// Pages nested deeper are refused before parsing: html5ever's tree building is quadratic
/// in the depth (50,000 nested `<div>` took two minutes), real pages stay under 100.
const MAX_DEPTH: usize = 1000;

/// Whether the bytes are an HTML page rather than plain text.
pub fn looks_like_html(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let text = match encoding_rs::Encoding::for_bom(head) {
        Some((enc, bom)) => enc.decode_without_bom_handling(&head[bom..]).0.into_owned(),
        None if head.len() > 1 && (head[0] == 0 || head[1] == 0) => {
            // UTF-16 without BOM: look at the ASCII bytes only.
            head.iter()
                .filter(|&&b| b != 0)
                .map(|&b| b as char)
                .collect()
        }
        None => String::from_utf8_lossy(head).into_owned(),
    };
    let lower = text.trim_start().to_ascii_lowercase();
    lower.starts_with("<!doctype html")
        || lower.starts_with("<html")
        || lower.contains("<html")
        || lower.contains("<body")
        || lower.contains("<table")
}

pub fn extract(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let (text, encoding) = decode(bytes)?;
    let depth = approximate_depth(&text);
    if depth > MAX_DEPTH {
        return Err(ExtractError::Hostile {
            detail: format!("网页标签嵌套约 {depth} 层"),
        });
    }
    let document = Html::parse_document(&text);
    let mut walker = Walker::default();
    walker.walk(*document.root_element());
    walker.flush();
    Ok(Extracted {
        format: Format::Html,
        encoding: Some(super::text::display_name(encoding)),
        blocks: walker.blocks,
        ocr: None,
    })
}

/// BOM, then the page's `<meta charset>`, then detection.
fn decode(bytes: &[u8]) -> Result<(String, &'static encoding_rs::Encoding), ExtractError> {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return Ok((
            enc.decode_without_bom_handling(&bytes[bom..])
                .0
                .into_owned(),
            enc,
        ));
    }
    if let Some(enc) = meta_charset(&bytes[..bytes.len().min(4096)]) {
        let enc = if enc == encoding_rs::GBK || enc == encoding_rs::GB18030 {
            encoding_rs::GB18030
        } else {
            enc
        };
        return Ok((enc.decode_without_bom_handling(bytes).0.into_owned(), enc));
    }
    super::text::decode_text(bytes)
}

/// The charset named by `<meta charset=…>` or `content="…; charset=…"`.
fn meta_charset(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("charset") {
        rest = &rest[i + "charset".len()..];
        let value = rest.trim_start().strip_prefix('=')?.trim_start();
        let value = value.trim_start_matches(['"', '\'']);
        let end = value
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(value.len());
        if let Some(enc) = encoding_rs::Encoding::for_label(&value.as_bytes()[..end]) {
            return Some(enc);
        }
    }
    None
}

/// The deepest tag nesting, counted from the markup without parsing it: opening tags
/// minus closing ones, ignoring void and self-closed elements. Over-counts unclosed `<p>`
/// and `<li>`, which is fine for a limit this far above real pages.
fn approximate_depth(text: &str) -> usize {
    const VOID: [&str; 14] = [
        "br", "img", "meta", "link", "input", "hr", "col", "area", "base", "wbr", "source",
        "param", "embed", "track",
    ];
    let mut depth = 0usize;
    let mut max = 0usize;
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if let Some(after) = rest.strip_prefix('/') {
            depth = depth.saturating_sub(1);
            rest = after;
            continue;
        }
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        if name_len == 0 {
            continue;
        }
        let name = rest[..name_len].to_ascii_lowercase();
        let tag_end = rest.find('>').unwrap_or(rest.len());
        let self_closed = rest[..tag_end].ends_with('/');
        if !self_closed && !VOID.contains(&name.as_str()) {
            depth += 1;
            max = max.max(depth);
        }
    }
    max
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "dt"
            | "dd"
            | "section"
            | "article"
            | "blockquote"
            | "pre"
            | "tr"
            | "td"
            | "th"
            | "ul"
            | "ol"
            | "header"
            | "footer"
            | "nav"
            | "main"
            | "aside"
            | "table"
            | "tbody"
            | "thead"
            | "tfoot"
            | "caption"
            | "center"
            | "form"
            | "hr"
            | "address"
            | "figure"
            | "figcaption"
    )
}

fn is_skipped(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "head"
            | "template"
            | "svg"
            | "iframe"
            | "select"
            | "option"
            | "button"
            | "object"
            | "embed"
            | "canvas"
    )
}

#[derive(Default)]
struct Walker {
    blocks: Vec<Block>,
    line: String,
    paragraphs: u32,
    tables: u32,
}

impl Walker {
    /// Document order with an explicit stack: deeply nested markup cannot overflow it.
    fn walk(&mut self, root: NodeRef<'_, Node>) {
        enum Step<'a> {
            Enter(NodeRef<'a, Node>),
            Leave,
        }
        let mut stack = vec![Step::Enter(root)];
        while let Some(step) = stack.pop() {
            let node = match step {
                Step::Leave => {
                    self.flush();
                    continue;
                }
                Step::Enter(node) => node,
            };
            match node.value() {
                Node::Text(t) => self.push(t),
                Node::Element(e) => {
                    let name = e.name();
                    if is_skipped(name) {
                        continue;
                    }
                    if name == "br" {
                        self.flush();
                        continue;
                    }
                    if name == "table"
                        && let Some(table) = ElementRef::wrap(node)
                        && !has_nested_table(table)
                    {
                        self.flush();
                        self.table(table);
                        continue;
                    }
                    let block = is_block(name);
                    if block {
                        self.flush();
                        stack.push(Step::Leave);
                    }
                    let children: Vec<NodeRef<'_, Node>> = node.children().collect();
                    stack.extend(children.into_iter().rev().map(Step::Enter));
                }
                _ => {}
            }
        }
    }

    fn push(&mut self, text: &str) {
        // Source line breaks inside a paragraph are just spaces in a browser.
        for (i, part) in text.split(['\n', '\r', '\t']).enumerate() {
            if i > 0 && !self.line.ends_with(' ') && !self.line.is_empty() {
                self.line.push(' ');
            }
            self.line.push_str(part);
        }
    }

    fn flush(&mut self) {
        let line = std::mem::take(&mut self.line);
        let trimmed = line.trim_matches(|c: char| c.is_ascii_whitespace());
        if !trimmed.is_empty() {
            self.paragraphs += 1;
            self.blocks.push(Block::Text {
                text: trimmed.to_string(),
                at: SourceRef::Paragraph(self.paragraphs),
            });
        }
    }

    /// A data table: cells placed on the grid, each once at its top-left position.
    fn table(&mut self, table: ElementRef<'_>) {
        self.tables += 1;
        let index = self.tables;
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        // occupied[r] = grid columns of row r covered by a rowspan from above.
        let mut occupied: Vec<Vec<bool>> = Vec::new();
        for tr in table
            .descendants()
            .filter_map(ElementRef::wrap)
            .filter(|e| e.value().name() == "tr")
        {
            let r = rows.len();
            if r >= MAX_GRID {
                break;
            }
            if occupied.len() <= r {
                occupied.resize(r + 1, Vec::new());
            }
            let mut row = Vec::new();
            let mut col = 0usize;
            for td in tr
                .children()
                .filter_map(ElementRef::wrap)
                .filter(|e| matches!(e.value().name(), "td" | "th"))
            {
                while occupied[r].get(col).copied().unwrap_or(false) {
                    col += 1;
                }
                if col >= MAX_GRID {
                    break;
                }
                let span = |name: &str| {
                    td.value()
                        .attr(name)
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .filter(|&n| n > 0)
                        .unwrap_or(1)
                        .min(MAX_SPAN)
                };
                let (rowspan, colspan) = (span("rowspan"), span("colspan"));
                for rr in r..(r + rowspan).min(MAX_GRID) {
                    if occupied.len() <= rr {
                        occupied.resize(rr + 1, Vec::new());
                    }
                    let needed = (col + colspan).min(MAX_GRID);
                    if occupied[rr].len() < needed {
                        occupied[rr].resize(needed, false);
                    }
                    for slot in &mut occupied[rr][col..needed] {
                        *slot = true;
                    }
                }
                row.push(Cell {
                    text: cell_text(td),
                    at: SourceRef::Cell {
                        table: index,
                        row: r as u32 + 1,
                        col: col as u32 + 1,
                    },
                });
                col += colspan;
            }
            rows.push(row);
        }
        self.blocks.push(Block::Table { rows });
    }
}

fn has_nested_table(table: ElementRef<'_>) -> bool {
    table
        .descendants()
        .skip(1)
        .filter_map(ElementRef::wrap)
        .any(|e| e.value().name() == "table")
}

/// A cell's text; `<br>` and block elements inside it become line breaks.
fn cell_text(td: ElementRef<'_>) -> String {
    let mut out = String::new();
    for node in td.descendants() {
        match node.value() {
            Node::Text(t) => {
                let skipped = node
                    .ancestors()
                    .filter_map(ElementRef::wrap)
                    .any(|a| is_skipped(a.value().name()));
                if !skipped {
                    out.push_str(&t.replace(['\n', '\r', '\t'], " "));
                }
            }
            Node::Element(e) if matches!(e.name(), "br" | "p" | "div") && !out.is_empty() => {
                out.push('\n');
            }
            _ => {}
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(html: &str) -> Vec<Block> {
        extract(html.as_bytes()).unwrap().blocks
    }

    #[test]
    fn rowspan_and_colspan_give_grid_columns() {
        let html = "<table><tr><td rowspan=2 colspan=2>勾稽</td><td colspan=3>申请人情况</td></tr>\
                    <tr><td>自然人</td><td></td><td>总计</td></tr>\
                    <tr><td>一、本年新收</td><td>x</td><td>1</td><td>2</td><td>3</td></tr></table>";
        let b = blocks(html);
        let Block::Table { rows } = &b[0] else {
            panic!("{b:?}")
        };
        let cols: Vec<Vec<(String, u32)>> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| match c.at {
                        SourceRef::Cell { col, .. } => (c.text.clone(), col),
                        _ => (String::new(), 0),
                    })
                    .collect()
            })
            .collect();
        assert_eq!(
            cols[0],
            [("勾稽".to_string(), 1), ("申请人情况".to_string(), 3)]
        );
        assert_eq!(
            cols[1],
            [
                ("自然人".to_string(), 3),
                (String::new(), 4),
                ("总计".to_string(), 5)
            ]
        );
        assert_eq!(cols[2].len(), 5);
    }

    #[test]
    fn gb2312_page_decodes() {
        let page = "<html><head><meta charset=\"gb2312\"></head><body><p>某局2022年政府信息公开工作年度报告</p></body></html>";
        let (bytes, _, _) = encoding_rs::GBK.encode(page);
        let ex = extract(&bytes).unwrap();
        assert_eq!(ex.encoding, Some("GB18030"));
        assert_eq!(
            ex.blocks,
            vec![Block::Text {
                text: "某局2022年政府信息公开工作年度报告".into(),
                at: SourceRef::Paragraph(1)
            }]
        );
    }

    #[test]
    fn layout_tables_are_containers_and_scripts_skipped() {
        let html = "<html><body><script>var x = '<p>no</p>';</script><table><tr><td>\
                    <div>首页 &gt; 年报</div><p>一、总体情况</p>\
                    <table><tr><td>规章</td><td>0</td></tr></table><p>五、存在</p>\
                    </td></tr></table></body></html>";
        let b = blocks(html);
        let texts: Vec<&str> = b
            .iter()
            .filter_map(|b| match b {
                Block::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, ["首页 > 年报", "一、总体情况", "五、存在"]);
        assert!(
            b.iter()
                .any(|b| matches!(b, Block::Table { rows } if rows[0].len() == 2))
        );
    }

    #[test]
    fn hostile_spans_and_nesting_are_bounded() {
        let html = "<table><tr><td colspan=999999 rowspan=999999>x</td></tr></table>";
        assert!(!blocks(html).is_empty());
        let deep = "<div>".repeat(50_000) + "深" + &"</div>".repeat(50_000);
        assert!(matches!(
            extract(deep.as_bytes()),
            Err(ExtractError::Hostile { .. })
        ));
        let fine = "<div>".repeat(300) + "深" + &"</div>".repeat(300);
        let ex = extract(fine.as_bytes()).unwrap();
        assert!(
            ex.blocks
                .iter()
                .any(|b| matches!(b, Block::Text { text, .. } if text == "深"))
        );
    }

    #[test]
    fn text_reports_are_not_html() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|x| x == "txt") {
                assert!(
                    !looks_like_html(&std::fs::read(&path).unwrap()),
                    "{}",
                    path.display()
                );
            }
        }
        assert!(looks_like_html(b"  <!DOCTYPE html><html>"));
    }
}
