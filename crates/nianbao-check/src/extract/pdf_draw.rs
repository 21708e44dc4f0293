//! The drawing of a PDF read in process by `lopdf`, for the tables' grids
//! ([`super::pdf_grid`]), and the blocks of a PDF: tables read by their grid, the rest of
//! the words by the text-geometry reader ([`super::pdf`]), in page order.
//!
//! Only the paths are read: each page's content stream is decoded and run with a small
//! graphics state (`q`/`Q`, `cm`, line width, fill and stroke colour, `gs` alpha), Form
//! XObjects (`Do`) followed with their `/Matrix` and resources. Text, images, shadings and
//! fonts are skipped, nothing is rendered. Points go to page space, y from the top of the
//! CropBox like poppler's word boxes. A page with `/Rotate` other than 0 draws no grid.
//!
//! The file is hostile until proven otherwise: every count is bounded (operations, content
//! bytes, `q` depth, Form XObject depth, segments) and the whole reading runs under
//! `catch_unwind`, so a PDF that breaks the reader costs its grid (every table is then read
//! by text geometry, as the JSON says), never the daemon.

use std::panic::{AssertUnwindSafe, catch_unwind};

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use super::Block;
use super::pdf::{Word, positioned_lines};
use super::pdf_grid::{self, MAX_DEPTH, MAX_SEGMENTS, Path, Segment, TraceError};

/// Content operations of a whole document past which its grid is given up.
pub const MAX_OPS: usize = 2_000_000;
/// Decoded content bytes of one page (or Form XObject), and of the whole document.
const MAX_CONTENT: usize = 32 * 1024 * 1024;
const MAX_CONTENT_TOTAL: usize = 128 * 1024 * 1024;
/// Form XObjects inside Form XObjects.
const MAX_FORM_DEPTH: usize = 12;
/// Bytes any stream may inflate to while the document loads.
const MAX_STREAM: usize = 64 * 1024 * 1024;

type Matrix = [f64; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `m × n`: first `m`, then `n` (PDF's row-vector convention, `cm` is `m × ctm`).
fn mul(m: Matrix, n: Matrix) -> Matrix {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

/// A paint colour: white (or fully transparent) paint draws no border.
#[derive(Clone)]
struct Paint {
    color: Vec<f64>,
    cmyk: bool,
    alpha: f64,
}

impl Paint {
    fn black() -> Self {
        Paint {
            color: vec![0.0],
            cmyk: false,
            alpha: 1.0,
        }
    }

    fn invisible(&self) -> bool {
        self.alpha <= 0.01
            || (!self.color.is_empty()
                && if self.cmyk {
                    self.color.iter().all(|&c| c <= 0.05)
                } else {
                    self.color.iter().all(|&c| c >= 0.95)
                })
    }

    /// `cs`/`CS`: the colour space's initial colour (black), or none that can be told white.
    fn space(&mut self, cmyk: Option<bool>) {
        self.cmyk = cmyk == Some(true);
        self.color = match cmyk {
            Some(true) => vec![0.0, 0.0, 0.0, 1.0],
            Some(false) => vec![0.0],
            None => Vec::new(),
        };
    }
}

#[derive(Clone)]
struct State {
    ctm: Matrix,
    width: f64,
    fill: Paint,
    stroke: Paint,
}

/// The resource dictionaries in force, nearest first.
#[derive(Clone, Copy)]
struct Resources<'a> {
    doc: Option<&'a Document>,
    dicts: &'a [&'a Dictionary],
}

impl<'a> Resources<'a> {
    fn deref(&self, o: &'a Object) -> Option<&'a Object> {
        match (o, self.doc) {
            (Object::Reference(_), Some(doc)) => doc.dereference(o).ok().map(|(_, o)| o),
            (Object::Reference(_), None) => None,
            _ => Some(o),
        }
    }

    /// The entry `name` of the resource category `kind`, and its object id.
    fn get(&self, kind: &[u8], name: &[u8]) -> Option<(Option<ObjectId>, &'a Object)> {
        self.dicts.iter().find_map(|d| {
            let cat = self.deref(d.get(kind).ok()?)?.as_dict().ok()?;
            let o = cat.get(name).ok()?;
            let id = o.as_reference().ok();
            Some((id, self.deref(o)?))
        })
    }
}

/// The reading of one document: its output and budgets.
struct Reader {
    page: u32,
    out: Vec<Segment>,
    ops: usize,
    content: usize,
}

fn num(o: &Object) -> Option<f64> {
    o.as_float().ok().map(f64::from).filter(|v| v.is_finite())
}

fn nums(ops: &[Object]) -> Vec<f64> {
    ops.iter().filter_map(num).collect()
}

fn matrix(ops: &[Object]) -> Option<Matrix> {
    match nums(ops)[..] {
        [a, b, c, d, e, f] if ops.len() == 6 => Some([a, b, c, d, e, f]),
        _ => None,
    }
}

/// Whether a colour space (a name or an array) has four components (`Some(true)`), has
/// a colour that can be told white (`Some(false)`: gray, RGB, ICC with 1 or 3), or neither.
fn space_kind(cs: &Object, res: &Resources<'_>, depth: usize) -> Option<bool> {
    let name = match cs {
        Object::Name(n) => n.as_slice(),
        Object::Array(a) => a.first().and_then(|o| o.as_name().ok()).unwrap_or_default(),
        _ => return None,
    };
    match name {
        b"DeviceCMYK" | b"CMYK" => Some(true),
        b"DeviceGray" | b"G" | b"DeviceRGB" | b"RGB" | b"CalGray" | b"CalRGB" | b"Lab" => {
            Some(false)
        }
        b"ICCBased" => {
            let stream = match cs {
                Object::Array(a) => a.get(1).and_then(|o| res.deref(o))?.as_stream().ok()?,
                _ => return None,
            };
            match stream.dict.get(b"N").and_then(Object::as_i64) {
                Ok(4) => Some(true),
                Ok(1 | 3) => Some(false),
                _ => None,
            }
        }
        b"Pattern" | b"Separation" | b"DeviceN" | b"Indexed" | b"I" => None,
        other if depth < 4 => {
            let (_, o) = res.get(b"ColorSpace", other)?;
            space_kind(o, res, depth + 1)
        }
        _ => None,
    }
}

impl Reader {
    fn new() -> Self {
        Reader {
            page: 0,
            out: Vec::new(),
            ops: 0,
            content: 0,
        }
    }

    fn emit(&mut self, path: Path) -> Result<(), TraceError> {
        pdf_grid::emit(path, self.page, &mut self.out);
        if self.out.len() > MAX_SEGMENTS {
            return Err(TraceError::TooManySegments);
        }
        Ok(())
    }

    /// Run one content stream in `state`; `forms` are the Form XObjects being run (no cycles).
    fn run(
        &mut self,
        content: &[u8],
        res: Resources<'_>,
        state: State,
        forms: &mut Vec<ObjectId>,
    ) -> Result<(), TraceError> {
        let mut gs = state;
        let mut stack: Vec<State> = Vec::new();
        let mut path = Path::new(None, IDENTITY, false);
        for op in lopdf::content::Content::decode_iter(content) {
            // Like MuPDF, what was drawn before a syntax error stays.
            let Ok(op) = op else { break };
            self.ops += 1;
            if self.ops > MAX_OPS {
                return Err(TraceError::TooManyOps);
            }
            let o = &op.operands;
            let n = nums(o);
            match op.operator.as_str() {
                "q" => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(TraceError::TooDeep);
                    }
                    stack.push(gs.clone());
                }
                "Q" => {
                    if let Some(s) = stack.pop() {
                        gs = s;
                    }
                }
                "cm" => {
                    if let Some(m) = matrix(o) {
                        gs.ctm = mul(m, gs.ctm);
                    }
                }
                "w" => {
                    if let [w] = n[..] {
                        gs.width = w;
                    }
                }
                "g" | "rg" | "k" | "G" | "RG" | "K" => {
                    let stroke = op.operator.starts_with(|c: char| c.is_ascii_uppercase());
                    let p = if stroke { &mut gs.stroke } else { &mut gs.fill };
                    p.cmyk = op.operator.eq_ignore_ascii_case("k");
                    p.color = n;
                }
                "cs" | "CS" => {
                    let kind = o.first().and_then(|cs| space_kind(cs, &res, 0));
                    let p = if op.operator == "CS" {
                        &mut gs.stroke
                    } else {
                        &mut gs.fill
                    };
                    p.space(kind);
                }
                "sc" | "scn" | "SC" | "SCN" => {
                    let p = if op.operator.starts_with('S') {
                        &mut gs.stroke
                    } else {
                        &mut gs.fill
                    };
                    // A pattern (a name operand) or a colour space not told white keeps
                    // no colour: visible.
                    let known = matches!(p.color.len(), 1 | 3 | 4);
                    p.color = if known && n.len() == o.len() && n.len() == p.color.len() {
                        n
                    } else {
                        Vec::new()
                    };
                }
                "gs" => {
                    if let Some((_, Object::Dictionary(d))) = o
                        .first()
                        .and_then(|n| n.as_name().ok())
                        .and_then(|n| res.get(b"ExtGState", n))
                    {
                        if let Some(a) = d.get(b"CA").ok().and_then(num) {
                            gs.stroke.alpha = a;
                        }
                        if let Some(a) = d.get(b"ca").ok().and_then(num) {
                            gs.fill.alpha = a;
                        }
                        if let Some(w) = d.get(b"LW").ok().and_then(num) {
                            gs.width = w;
                        }
                    }
                }
                "m" => {
                    if let [x, y] = n[..] {
                        path.point((x, y), true);
                    }
                }
                "l" => {
                    if let [x, y] = n[..] {
                        path.point((x, y), false);
                    }
                }
                "c" | "v" | "y" => path.curve(),
                "h" => path.close(),
                "re" => {
                    if let [x, y, w, h] = n[..] {
                        path.point((x, y), true);
                        path.point((x + w, y), false);
                        path.point((x + w, y + h), false);
                        path.point((x, y + h), false);
                        path.close();
                    }
                }
                paint @ ("S" | "s" | "f" | "F" | "f*" | "B" | "B*" | "b" | "b*" | "n") => {
                    let done = std::mem::replace(&mut path, Path::new(None, IDENTITY, false));
                    if paint == "n" {
                        continue;
                    }
                    let mut subpaths = done.subpaths;
                    if matches!(paint, "s" | "b" | "b*") {
                        // Closed before it is painted: the stroke draws the closing side.
                        if let Some((pts, _)) = subpaths.last_mut()
                            && let Some(&first) = pts.first()
                        {
                            pts.push(first);
                        }
                    }
                    let scale = (gs.ctm[0] * gs.ctm[3] - gs.ctm[1] * gs.ctm[2]).abs().sqrt();
                    let fill = !matches!(paint, "S" | "s");
                    let stroke = matches!(paint, "S" | "s" | "B" | "B*" | "b" | "b*");
                    if fill {
                        let mut p = Path::new(None, gs.ctm, gs.fill.invisible());
                        p.subpaths.clone_from(&subpaths);
                        self.emit(p)?;
                    }
                    if stroke {
                        let mut p =
                            Path::new(Some(gs.width * scale), gs.ctm, gs.stroke.invisible());
                        p.subpaths = subpaths;
                        self.emit(p)?;
                    }
                }
                "Do" => {
                    let Some((id, Object::Stream(form))) = o
                        .first()
                        .and_then(|n| n.as_name().ok())
                        .and_then(|n| res.get(b"XObject", n))
                    else {
                        continue;
                    };
                    if form.dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Form")
                        || forms.len() >= MAX_FORM_DEPTH
                        || id.is_some_and(|id| forms.contains(&id))
                    {
                        continue;
                    }
                    self.form(form, id, res, &gs, forms)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn form(
        &mut self,
        form: &Stream,
        id: Option<ObjectId>,
        res: Resources<'_>,
        gs: &State,
        forms: &mut Vec<ObjectId>,
    ) -> Result<(), TraceError> {
        let budget = MAX_CONTENT.min(MAX_CONTENT_TOTAL.saturating_sub(self.content));
        let content = if form.dict.get(b"Filter").is_ok() {
            form.decompressed_content_with_limit(budget)
                .map_err(|_| TraceError::TooMuchContent)?
        } else if form.content.len() <= budget {
            form.content.clone()
        } else {
            return Err(TraceError::TooMuchContent);
        };
        self.content += content.len();
        let m = form
            .dict
            .get(b"Matrix")
            .ok()
            .and_then(|m| res.deref(m))
            .and_then(|m| m.as_array().ok())
            .and_then(|m| matrix(m))
            .unwrap_or(IDENTITY);
        let own = form
            .dict
            .get(b"Resources")
            .ok()
            .and_then(|r| res.deref(r))
            .and_then(|r| r.as_dict().ok());
        let dicts: Vec<&Dictionary> = own.into_iter().chain(res.dicts.iter().copied()).collect();
        let inner = Resources {
            doc: res.doc,
            dicts: &dicts,
        };
        let mut state = gs.clone();
        state.ctm = mul(m, gs.ctm);
        forms.push(id.unwrap_or((0, 0)));
        let r = self.run(&content, inner, state, forms);
        forms.pop();
        r
    }
}

fn initial(ctm: Matrix) -> State {
    State {
        ctm,
        width: 1.0,
        fill: Paint::black(),
        stroke: Paint::black(),
    }
}

/// The rulings of one page's content stream without resources, on a page `height` points
/// high (y from its top): for tests and the fuzzer.
pub fn segments_of_content(
    content: &[u8],
    page: u32,
    height: f64,
) -> Result<Vec<Segment>, TraceError> {
    let mut r = Reader::new();
    r.page = page;
    let res = Resources {
        doc: None,
        dicts: &[],
    };
    r.run(
        content,
        res,
        initial([1.0, 0.0, 0.0, -1.0, 0.0, height]),
        &mut Vec::new(),
    )?;
    Ok(r.out)
}

/// A page attribute, inherited through the page tree.
fn inherited<'a>(doc: &'a Document, page: ObjectId, key: &[u8]) -> Option<&'a Object> {
    let mut id = page;
    for _ in 0..32 {
        let d = doc.get_dictionary(id).ok()?;
        if let Ok(o) = d.get(key) {
            return doc.dereference(o).ok().map(|(_, o)| o);
        }
        id = d.get(b"Parent").ok()?.as_reference().ok()?;
    }
    None
}

fn rect(o: Option<&Object>) -> Option<[f64; 4]> {
    let a = o?.as_array().ok()?;
    match nums(a)[..] {
        [x0, y0, x1, y1] if a.len() == 4 => Some([x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)]),
        _ => None,
    }
}

fn document(bytes: &[u8]) -> Result<Vec<Segment>, TraceError> {
    let options = lopdf::LoadOptions {
        max_decompressed_size: Some(MAX_STREAM),
        ..Default::default()
    };
    let doc = Document::load_mem_with_options(bytes, options)
        .map_err(|e| TraceError::Malformed(e.to_string()))?;
    let mut r = Reader::new();
    for (number, id) in doc.get_pages() {
        r.page = number;
        let rotate = inherited(&doc, id, b"Rotate").and_then(num).unwrap_or(0.0);
        if rotate.rem_euclid(360.0) != 0.0 {
            continue;
        }
        let Some(media) = rect(inherited(&doc, id, b"MediaBox")) else {
            continue;
        };
        // poppler's page space is the CropBox's (within the MediaBox), y from its top.
        let bx = match rect(inherited(&doc, id, b"CropBox")) {
            Some(c) => [
                c[0].max(media[0]),
                c[1].max(media[1]),
                c[2].min(media[2]),
                c[3].min(media[3]),
            ],
            None => media,
        };
        let budget = MAX_CONTENT.min(MAX_CONTENT_TOTAL.saturating_sub(r.content));
        let content = doc
            .get_page_content_with_limit(id, budget)
            .map_err(|_| TraceError::TooMuchContent)?;
        r.content += content.len();
        let (direct, ids) = doc.get_page_resources(id).unwrap_or((None, Vec::new()));
        let dicts: Vec<&Dictionary> = direct
            .into_iter()
            .chain(ids.iter().filter_map(|i| doc.get_dictionary(*i).ok()))
            .collect();
        let res = Resources {
            doc: Some(&doc),
            dicts: &dicts,
        };
        let ctm = [1.0, 0.0, 0.0, -1.0, -bx[0], bx[3]];
        r.run(&content, res, initial(ctm), &mut Vec::new())?;
    }
    Ok(r.out)
}

/// The rulings of every page of a PDF; an error (logged by the caller) gives up the grid.
pub fn rulings(bytes: &[u8]) -> Result<Vec<Segment>, TraceError> {
    catch_unwind(AssertUnwindSafe(|| document(bytes)))
        .unwrap_or_else(|_| Err(TraceError::Malformed("the PDF reader gave up".into())))
}

/// The blocks of a PDF: tables read by their grid where `rulings` draw one, every other
/// word by text geometry, in page order.
pub(super) fn blocks(rulings: Result<Vec<Segment>, TraceError>, words: Vec<Word>) -> Vec<Block> {
    let grids = match rulings {
        Ok(segments) => pdf_grid::grids(&segments),
        Err(e) => {
            tracing::warn!("PDF grid given up: {e}; tables read by text geometry");
            Vec::new()
        }
    };
    let (tables, rest) = pdf_grid::fill(&grids, words);
    let mut placed: Vec<(u32, f64, Block)> = positioned_lines(rest);
    placed.extend(
        tables
            .into_iter()
            .map(|t| (t.page, t.top, Block::Table { rows: t.rows })),
    );
    // Stable: lines keep their order, a table goes before the lines below its top.
    placed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    placed.into_iter().map(|(_, _, b)| b).collect()
}

/// The blocks of a PDF's drawing and the words of `pdftotext -tsv`, without running
/// poppler: for the fuzzer. `drawing` is a whole PDF (it starts with `%PDF`) or one page's
/// content stream on an A4 page.
pub fn blocks_of_drawing(drawing: &[u8], tsv: &str) -> Vec<Block> {
    let rulings = if drawing.starts_with(b"%PDF") {
        rulings(drawing)
    } else {
        catch_unwind(AssertUnwindSafe(|| segments_of_content(drawing, 1, 842.0)))
            .unwrap_or_else(|_| Err(TraceError::Malformed("the content reader gave up".into())))
    };
    blocks(rulings, super::pdf::words_of_tsv(tsv))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fuzz seed's small PDF: a 2 × 2 table drawn by a Form XObject that calls itself,
    /// moved by `cm`; a white bar; a black bar; a second page rotated by 90°.
    fn small_pdf() -> &'static [u8] {
        let seed = include_bytes!("../../../../fuzz/seeds/pdf_grid/small-form-table.bin");
        let cut = seed.iter().position(|&b| b == 0).unwrap_or(seed.len());
        &seed[..cut]
    }

    #[test]
    fn a_form_xobject_is_drawn_once_in_its_matrix_and_a_rotated_page_draws_nothing() {
        let s = rulings(small_pdf()).expect("rulings");
        assert!(s.iter().all(|s| s.page == 1), "{s:?}");
        let mut h: Vec<f64> = s.iter().filter(|s| s.horizontal).map(|s| s.at).collect();
        h.sort_by(f64::total_cmp);
        let v: Vec<f64> = s.iter().filter(|s| !s.horizontal).map(|s| s.at).collect();
        assert_eq!(h.len(), 4, "{s:?}");
        for (got, want) in h.iter().zip([162.0, 182.0, 202.0, 341.6]) {
            assert!((got - want).abs() < 0.01, "{h:?}");
        }
        assert_eq!(v, vec![60.0, 160.0, 260.0]);
        assert_eq!(pdf_grid::grids(&s).len(), 1);
    }

    #[test]
    fn broken_pdfs_lose_their_grid_only() {
        let pdf = small_pdf();
        for bytes in [&pdf[..pdf.len() / 2], b"%PDF-1.4 garbage", b""] {
            let _ = rulings(bytes);
        }
    }
}
