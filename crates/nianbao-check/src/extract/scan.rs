//! Scans: image-only PDF pages and photographed or scanned pages (.jpg, .png, .tif), read by
//! Tesseract OCR into the same grid → table path as a PDF drawn with borders.
//!
//! Agencies send the stamped copy (盖章扫描件) as often as the text. A person reads its tables
//! easily; nianbao used to refuse it. The reading here is built so that a wrong number is
//! never passed off as the agency's:
//!
//! 1. **Page image.** A PDF page is rendered by `pdftoppm` in colour; an image file is decoded
//!    in process (the `image` crate, with allocation limits). Grey is the *brightest* channel
//!    of each pixel, so a red seal (公章) over the date and signature fades to white while the
//!    black print under it stays. Images below ~220 dpi are doubled, so Tesseract sees print
//!    at the size it was trained on.
//! 2. **Even lighting.** A phone photo is darker at one edge: every pixel is divided by its
//!    neighbourhood's paper brightness (a high percentile per block, spread to its
//!    neighbours), so one threshold fits the whole page.
//! 3. **Deskew.** The angle whose projection makes the dark rows sharpest (the table's
//!    rulings dominate it) is searched to 0.02°; the page is turned back by it.
//! 4. **Rulings.** Runs of dark pixels longer than a third of an inch, joined row to row into
//!    bands no thicker than a border, become the same [`Segment`]s the PDF drawing gives,
//!    in points, and go to [`pdf_grid::grids`]. The rulings are then painted white so that
//!    Tesseract does not read them as `1` or `|`.
//! 5. **Text.** One Tesseract pass over the page (`chi_sim`, TSV word boxes with confidences)
//!    gives headings, narrative and the labels of the cells.
//! 6. **Numbers.** Every cell holding ink but no Chinese is cut out to its ink, and all of a
//!    page's such cells are pasted one under another into a strip read in a single call
//!    with a digits-only character set: one process per page instead of one per cell. A
//!    cell is *doubtful* when the strip's confidence is low or the two readings disagree;
//!    the other reading is kept as what it may be instead.
//!
//! Nothing is written to disk: images go to the helpers through pipes. Every helper runs
//! fenced by [`subprocess`] (timeout per page, memory limit, killed with its process group),
//! and scans are read one at a time (a setting), so that a burst of scans cannot take the
//! cores from text reports.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use super::pdf::Word;
use super::pdf_grid::{self, Segment};
use super::subprocess::{self, Limits, RunError};
use super::{Block, ExtractError, Extracted, Format, SourceRef};

mod glyphs;

/// Strip confidence (Tesseract's 0–100) below which a number is doubtful.
pub const MIN_CONFIDENCE: f32 = 70.0;
/// Strip confidence from which a disagreeing digits-only reading makes a cell doubtful.
const STRIP_SURE: f32 = 60.0;
/// Pages of one scan past which the rest is not read (a report has 4 to 12).
pub const MAX_PAGES: u32 = 40;
/// Pixels of one page image (a 600 dpi A4 page is 35 million).
const MAX_PIXELS: usize = 60_000_000;
/// The resolution pages are rendered and worked at.
const WORK_DPI: f64 = 300.0;

/// How scans are read: set once from the configuration (`[ocr]`).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Whether scans are read at all; off, a scan gets `file.scanned` as before.
    pub enabled: bool,
    /// Scans read at the same time.
    pub concurrent: usize,
    /// Wall-clock limit of each helper run for one page.
    pub page_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            enabled: true,
            concurrent: 1,
            page_timeout: Duration::from_secs(60),
        }
    }
}

struct Gate {
    state: Mutex<(usize, Settings)>,
    freed: Condvar,
}

fn gate() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(|| Gate {
        state: Mutex::new((0, Settings::default())),
        freed: Condvar::new(),
    })
}

/// Sets how scans are read (the daemon and `check` call it with the configuration).
pub fn configure(settings: Settings) {
    let g = gate();
    let mut state = g.state.lock().unwrap_or_else(|e| e.into_inner());
    state.1 = Settings {
        concurrent: settings.concurrent.max(1),
        ..settings
    };
    g.freed.notify_all();
}

fn settings() -> Settings {
    gate().state.lock().unwrap_or_else(|e| e.into_inner()).1
}

/// One scan's slot; dropping it lets the next scan in.
struct Slot;

impl Slot {
    fn take() -> Slot {
        let g = gate();
        let mut state = g.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.0 >= state.1.concurrent {
            state = g.freed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.0 += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let g = gate();
        let mut state = g.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 = state.0.saturating_sub(1);
        g.freed.notify_one();
    }
}

thread_local! {
    /// Set while `putting_off` runs on this thread: a scan met is not read.
    static PUTTING_OFF: Cell<bool> = const { Cell::new(false) };
    /// Set when a scan was met (and not read) under `putting_off`.
    static PUT_OFF: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with scans put off: a scan it meets is not read (its reader returns at once,
/// before any page is rendered), and the second value says whether that happened, so
/// that the caller throws `f`'s result away and leaves the file to the scan lane.
///
/// Why: the daemon's ingest workers answer text reports in milliseconds; one scan takes
/// seconds a page. A worker that read scans itself, or waited for the one OCR slot, held
/// its batch's text reports behind it, and a burst of scans held every worker. The
/// daemon's retry task reads the put-off scans one at a time instead (`Pipeline::resume`).
pub fn putting_off<T>(f: impl FnOnce() -> T) -> (T, bool) {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            PUTTING_OFF.with(|p| p.set(self.0));
        }
    }
    let _reset = Reset(PUTTING_OFF.with(|p| p.replace(true)));
    PUT_OFF.with(|p| p.set(false));
    let value = f();
    (value, PUT_OFF.with(|p| p.replace(false)))
}

/// True (and noted for `putting_off`) when scans are put off on this thread.
fn put_off() -> bool {
    let off = PUTTING_OFF.with(Cell::get);
    if off {
        PUT_OFF.with(|p| p.set(true));
    }
    off
}

/// Whether scans can be read here, and if not, why (for `config check` and the finding).
pub fn status() -> Result<(), String> {
    if !settings().enabled {
        return Err("配置中 [ocr] enabled = false".into());
    }
    static FOUND: OnceLock<Result<(), String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let limits = Limits {
                timeout: Duration::from_secs(20),
                max_output: 1024 * 1024,
                max_memory: 1024 * 1024 * 1024,
            };
            match subprocess::run("tesseract", &["--list-langs".as_ref()], None, limits) {
                Err(RunError::NotFound(_)) => {
                    Err("未安装 tesseract（Debian 软件包 tesseract-ocr）".into())
                }
                Err(e) => Err(format!("tesseract 无法运行：{e}")),
                Ok(out) => {
                    let langs = String::from_utf8_lossy(&out);
                    let has = |l: &str| langs.lines().any(|x| x.trim() == l);
                    if !has("chi_sim") {
                        Err("未安装简体中文识别数据（Debian 软件包 tesseract-ocr-chi-sim）".into())
                    } else if !has("eng") {
                        Err("未安装 tesseract 的英文/数字识别数据（tesseract-ocr-eng）".into())
                    } else {
                        Ok(())
                    }
                }
            }
        })
        .clone()
}

/// What OCR read in one table cell that holds a number.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrCell {
    /// The digits read (what the cell's value was taken from).
    pub text: String,
    /// Tesseract's confidence in them, 0–100.
    pub confidence: f32,
    /// Whether the reading is unsure: low confidence, or the page pass read other digits.
    pub doubtful: bool,
    /// What the other reading saw, when the two disagree.
    pub alternative: Option<String>,
}

/// What is known about a report read from a scan: each number cell's reading, by the cell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OcrReading {
    pub pages: u32,
    pub cells: BTreeMap<SourceRef, OcrCell>,
}

impl OcrReading {
    /// The reading of the cell `at`, when it is a number cell of a scan.
    pub fn cell(&self, at: &SourceRef) -> Option<&OcrCell> {
        self.cells.get(at)
    }
}

/// A grey page: 0 black, 255 white.
#[derive(Clone)]
struct Gray {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Gray {
    fn at(&self, x: usize, y: usize) -> u8 {
        self.px[y * self.w + x]
    }

    /// As a binary PGM, for the helpers' standard input.
    fn pgm(&self) -> Vec<u8> {
        let mut out = format!("P5\n{} {}\n255\n", self.w, self.h).into_bytes();
        out.extend_from_slice(&self.px);
        out
    }

    fn scaled(&self, f: f64) -> Gray {
        let w = ((self.w as f64) * f).round().max(1.0) as usize;
        let h = ((self.h as f64) * f).round().max(1.0) as usize;
        let mut px = vec![255u8; w * h];
        for y in 0..h {
            let sy = ((y as f64 + 0.5) / f - 0.5).clamp(0.0, (self.h - 1) as f64);
            let (y0, fy) = (sy.floor() as usize, sy - sy.floor());
            let y1 = (y0 + 1).min(self.h - 1);
            for x in 0..w {
                let sx = ((x as f64 + 0.5) / f - 0.5).clamp(0.0, (self.w - 1) as f64);
                let (x0, fx) = (sx.floor() as usize, sx - sx.floor());
                let x1 = (x0 + 1).min(self.w - 1);
                let top = f64::from(self.at(x0, y0)) * (1.0 - fx) + f64::from(self.at(x1, y0)) * fx;
                let bot = f64::from(self.at(x0, y1)) * (1.0 - fx) + f64::from(self.at(x1, y1)) * fx;
                px[y * w + x] = (top * (1.0 - fy) + bot * fy).round() as u8;
            }
        }
        Gray { w, h, px }
    }
}

/// The brightest channel of each pixel: black print stays black, a red seal goes white.
fn gray_of_rgb(w: usize, h: usize, rgb: &[u8]) -> Gray {
    let px = rgb
        .chunks_exact(3)
        .map(|p| p[0].max(p[1]).max(p[2]))
        .collect();
    Gray { w, h, px }
}

/// A P5 or P6 image from `pdftoppm`.
fn parse_pnm(bytes: &[u8]) -> Option<Gray> {
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if start == i {
            return None;
        }
        fields.push(std::str::from_utf8(&bytes[start..i]).ok()?);
    }
    let body = bytes.get(i + 1..)?;
    let w: usize = fields[1].parse().ok()?;
    let h: usize = fields[2].parse().ok()?;
    if w == 0 || h == 0 || w.checked_mul(h)? > MAX_PIXELS || fields[3] != "255" {
        return None;
    }
    match fields[0] {
        "P5" => Some(Gray {
            w,
            h,
            px: body.get(..w * h)?.to_vec(),
        }),
        "P6" => Some(gray_of_rgb(w, h, body.get(..w * h * 3)?)),
        _ => None,
    }
}

/// Divides each pixel by its neighbourhood's paper brightness: even lighting for a photo.
fn flatten(g: &Gray, dpi: f64) -> Gray {
    let b = ((dpi / 6.0) as usize).max(16);
    let (bw, bh) = (g.w.div_ceil(b), g.h.div_ceil(b));
    let mut paper = vec![255u8; bw * bh];
    for by in 0..bh {
        for bx in 0..bw {
            let mut hist = [0u32; 256];
            let mut n = 0u32;
            for y in (by * b..((by + 1) * b).min(g.h)).step_by(2) {
                for x in (bx * b..((bx + 1) * b).min(g.w)).step_by(2) {
                    hist[usize::from(g.at(x, y))] += 1;
                    n += 1;
                }
            }
            let mut seen = 0;
            let mut v = 255;
            for (level, count) in hist.iter().enumerate().rev() {
                seen += count;
                if seen * 10 >= n {
                    v = level as u8;
                    break;
                }
            }
            paper[by * bw + bx] = v;
        }
    }
    // A block covered by print borrows its neighbours' paper.
    let mut spread = paper.clone();
    for by in 0..bh {
        for bx in 0..bw {
            let mut m = 0;
            for dy in by.saturating_sub(1)..(by + 2).min(bh) {
                for dx in bx.saturating_sub(1)..(bx + 2).min(bw) {
                    m = m.max(paper[dy * bw + dx]);
                }
            }
            spread[by * bw + bx] = m.max(64);
        }
    }
    let mut px = vec![255u8; g.w * g.h];
    let half = b as f64 / 2.0;
    for y in 0..g.h {
        let fy = ((y as f64 - half) / b as f64).clamp(0.0, (bh - 1) as f64);
        let (y0, ty) = (fy.floor() as usize, fy - fy.floor());
        let y1 = (y0 + 1).min(bh - 1);
        for x in 0..g.w {
            let fx = ((x as f64 - half) / b as f64).clamp(0.0, (bw - 1) as f64);
            let (x0, tx) = (fx.floor() as usize, fx - fx.floor());
            let x1 = (x0 + 1).min(bw - 1);
            let p = |xx: usize, yy: usize| f64::from(spread[yy * bw + xx]);
            let bg = (p(x0, y0) * (1.0 - tx) + p(x1, y0) * tx) * (1.0 - ty)
                + (p(x0, y1) * (1.0 - tx) + p(x1, y1) * tx) * ty;
            let v = f64::from(g.at(x, y)) * 255.0 / bg.max(1.0);
            px[y * g.w + x] = v.min(255.0) as u8;
        }
    }
    Gray { w: g.w, h: g.h, px }
}

/// A page word read with less confidence than this is garbled: it neither makes a cell a
/// label nor gives a number cell its value (the digits-only strip then reads it, doubtful).
const GARBLED: f32 = 30.0;

/// A cell read with this confidence, and not doubtful, teaches the report's digit shapes.
const SHAPE_SURE: f32 = 90.0;

/// Darker than this (after [`flatten`]) is ink.
const INK: u8 = 150;

/// Darker than this may be a ruling's pixel: a thin line blurred and shaded in a photo stays
/// lighter than print (see [`rulings`]).
const RULING_INK: u8 = 185;

/// The skew of the page in degrees: the angle whose projection of the ink is sharpest.
fn skew(g: &Gray) -> f64 {
    let step = ((g.w * g.h / 2_000_000) as f64).sqrt().max(1.0) as usize * 2;
    let mut ink = Vec::new();
    for y in (0..g.h).step_by(step) {
        for x in (0..g.w).step_by(step) {
            if g.at(x, y) < INK {
                ink.push((x as f64, y as f64));
            }
        }
    }
    if ink.len() < 100 {
        return 0.0;
    }
    let score = |deg: f64| -> f64 {
        let t = deg.to_radians().tan();
        let mut bins: BTreeMap<i64, f64> = BTreeMap::new();
        for &(x, y) in &ink {
            // Bins as wide as the sampling step: narrower ones favour 0°, where every
            // sample row falls on a bin of its own.
            *bins
                .entry(((y - x * t) / step as f64).round() as i64)
                .or_default() += 1.0;
        }
        bins.values().map(|c| c * c).sum()
    };
    let best = |from: f64, to: f64, by: f64| -> f64 {
        let mut best = (f64::MIN, 0.0);
        let n = ((to - from) / by).round() as i64;
        for i in 0..=n {
            let a = from + by * i as f64;
            let s = score(a);
            if s > best.0 {
                best = (s, a);
            }
        }
        best.1
    };
    let coarse = best(-3.0, 3.0, 0.2);
    best(coarse - 0.2, coarse + 0.2, 0.025)
}

/// The page turned back by `deg` about its centre (bilinear, white outside).
fn rotate(g: &Gray, deg: f64) -> Gray {
    let (s, c) = deg.to_radians().sin_cos();
    let (cx, cy) = (g.w as f64 / 2.0, g.h as f64 / 2.0);
    let mut px = vec![255u8; g.w * g.h];
    for y in 0..g.h {
        let dy = y as f64 - cy;
        for x in 0..g.w {
            let dx = x as f64 - cx;
            let sx = cx + dx * c - dy * s;
            let sy = cy + dx * s + dy * c;
            if sx < 0.0 || sy < 0.0 || sx >= (g.w - 1) as f64 || sy >= (g.h - 1) as f64 {
                continue;
            }
            let (x0, y0) = (sx as usize, sy as usize);
            let (tx, ty) = (sx - x0 as f64, sy - y0 as f64);
            let p = |xx: usize, yy: usize| f64::from(g.at(xx, yy));
            let v = (p(x0, y0) * (1.0 - tx) + p(x0 + 1, y0) * tx) * (1.0 - ty)
                + (p(x0, y0 + 1) * (1.0 - tx) + p(x0 + 1, y0 + 1) * tx) * ty;
            px[y * g.w + x] = v.round() as u8;
        }
    }
    Gray { w: g.w, h: g.h, px }
}

/// Paints white every speck of ink too small to be print: dust and scanner noise (and a
/// 150 dpi speck, blown up to the working resolution) otherwise read as a decimal point
/// beside a digit, or as a character of its own in an empty cell, where Tesseract's page
/// pass then runs the neighbouring words together. Specks are the 8-connected pieces of
/// faint-or-darker pixels of at most `(dpi / 100)² · 4/3` pixels (12 at 300 dpi); the full
/// stop of 10.5 pt print is about twice that.
fn despeckle(g: &mut Gray, dpi: f64) {
    const FAINT: u8 = 200;
    let max_area = ((dpi / 100.0).powi(2) * 4.0 / 3.0).round().max(1.0) as usize;
    let (w, h) = (g.w, g.h);
    let mut seen = vec![false; w * h];
    let mut piece = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if seen[start] || g.px[start] >= FAINT {
            continue;
        }
        piece.clear();
        stack.push(start);
        seen[start] = true;
        let mut big = false;
        while let Some(i) = stack.pop() {
            if !big {
                piece.push(i);
                big = piece.len() > max_area;
            }
            let (x, y) = (i % w, i / w);
            for ny in y.saturating_sub(1)..(y + 2).min(h) {
                for nx in x.saturating_sub(1)..(x + 2).min(w) {
                    let j = ny * w + nx;
                    if !seen[j] && g.px[j] < FAINT {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        if !big {
            for &i in &piece {
                g.px[i] = 255;
            }
        }
    }
}

/// A ruling found in the image, in pixels: rows (or columns) `a0..=a1` across, `from..=to`
/// along.
#[derive(Debug, Clone, Copy)]
struct Band {
    a0: usize,
    a1: usize,
    from: usize,
    to: usize,
}

/// The long dark runs of `mask` (`w` wide, row by row), joined into bands.
fn bands(mask: &[bool], w: usize, h: usize, min_run: usize, max_thick: usize) -> Vec<Band> {
    let gap = 3;
    let mut out = Vec::new();
    let mut open: Vec<(Band, usize, usize)> = Vec::new();
    for y in 0..h {
        let row = &mask[y * w..(y + 1) * w];
        let mut runs = Vec::new();
        let mut start = None;
        let mut last = 0;
        for (x, &d) in row.iter().enumerate() {
            if d {
                match start {
                    Some(_) if x - last <= gap => {}
                    Some(s) => {
                        if last + 1 - s >= min_run {
                            runs.push((s, last));
                        }
                        start = Some(x);
                    }
                    None => start = Some(x),
                }
                last = x;
            }
        }
        if let Some(s) = start
            && last + 1 - s >= min_run
        {
            runs.push((s, last));
        }
        let mut next = Vec::new();
        for (f, t) in runs {
            let joined = open.iter().position(|(_, lf, lt)| {
                let overlap = (*lt).min(t) as i64 - (*lf).max(f) as i64;
                overlap > 0 && overlap as usize * 2 >= (t - f).min(lt - lf)
            });
            match joined {
                Some(i) => {
                    let (mut b, _, _) = open.swap_remove(i);
                    b.a1 = y;
                    b.from = b.from.min(f);
                    b.to = b.to.max(t);
                    next.push((b, f, t));
                }
                None => next.push((
                    Band {
                        a0: y,
                        a1: y,
                        from: f,
                        to: t,
                    },
                    f,
                    t,
                )),
            }
        }
        for (b, _, _) in open.drain(..) {
            if b.a1 + 1 - b.a0 <= max_thick {
                out.push(b);
            }
        }
        open = next;
    }
    out.extend(
        open.into_iter()
            .map(|(b, _, _)| b)
            .filter(|b| b.a1 + 1 - b.a0 <= max_thick),
    );
    out
}

/// The page's rulings: horizontal and vertical bands.
fn rulings(g: &Gray, dpi: f64) -> (Vec<Band>, Vec<Band>) {
    let min_run = (dpi * 0.33) as usize;
    let max_thick = ((dpi * 0.035) as usize).max(3);
    let pass = |ink: u8| {
        let mask: Vec<bool> = g.px.iter().map(|&p| p < ink).collect();
        let h = bands(&mask, g.w, g.h, min_run, max_thick);
        let mut t = vec![false; g.w * g.h];
        for y in 0..g.h {
            for x in 0..g.w {
                t[x * g.h + y] = mask[y * g.w + x];
            }
        }
        (h, bands(&t, g.h, g.w, min_run, max_thick))
    };
    let (mut h, mut v) = pass(INK);
    // A second look with a lighter threshold finds what a photo's blur and shade left
    // lighter than print: a ruling where the first found none, and the rest of one it
    // found only in pieces (each piece is drawn out to the lighter ruling's length).
    let (h2, v2) = pass(RULING_INK);
    for (found, more) in [(&mut h, h2), (&mut v, v2)] {
        let near = |a: &Band, b: &Band| {
            a.a0 <= b.a1 + max_thick && b.a0 <= a.a1 + max_thick && a.from <= b.to && b.from <= a.to
        };
        for b in more {
            let mut seen = false;
            for a in found.iter_mut().filter(|a| near(a, &b)) {
                a.from = a.from.min(b.from);
                a.to = a.to.max(b.to);
                seen = true;
            }
            if !seen {
                found.push(b);
            }
        }
    }
    (h, v)
}

/// One word of Tesseract's TSV, in pixels, with its confidence.
#[derive(Debug, Clone)]
struct OcrWord {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    conf: f32,
    text: String,
    /// Tesseract's block, paragraph and line: the lines of narrative are Tesseract's own.
    line: (u32, u32, u32),
}

/// The words of Tesseract's TSV. A flat character (一, 、, a comma) gets a box only as high
/// as its stroke, which can put it on the line above or below when lines are rebuilt from
/// positions: such a word takes its line's top and height.
fn parse_tesseract_tsv(tsv: &str) -> Vec<OcrWord> {
    let mut lines: BTreeMap<(String, String, String, String), (f64, f64)> = BTreeMap::new();
    let mut words = Vec::new();
    for line in tsv.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 12 {
            continue;
        }
        let key = (
            f[1].to_string(),
            f[2].to_string(),
            f[3].to_string(),
            f[4].to_string(),
        );
        let num = |i: usize| f[i].parse::<f64>().ok();
        let (Some(left), Some(top), Some(width), Some(height)) = (num(6), num(7), num(8), num(9))
        else {
            continue;
        };
        if f[0] == "4" {
            lines.insert(key, (top, height));
            continue;
        }
        let text = f[11].trim();
        if f[0] != "5" || text.is_empty() {
            continue;
        }
        let (top, height) = match lines.get(&key) {
            Some(&(lt, lh)) if height < 0.6 * lh => (lt, lh),
            _ => (top, height),
        };
        words.push(OcrWord {
            left,
            top,
            width,
            height,
            conf: f[10].parse().unwrap_or(0.0),
            text: text.to_string(),
            line: (
                f[2].parse().unwrap_or(0),
                f[3].parse().unwrap_or(0),
                f[4].parse().unwrap_or(0),
            ),
        });
    }
    words
}

/// The words without the phantom lines: Tesseract sometimes reads a bold heading's ink
/// twice, as a line of its own over the heading (`1 一 AN MA` over
/// 三、收到和处理政府信息公开申请情况, `\ \ 症 性` over 五、存在的主要问题及改进情况), and such
/// a line's `1` or `\` then stood as one more value of the table row above. A line outside
/// every table (`outside` says which words are) is a phantom when another line covers at
/// least half of its height and all its width, read with at least 20 more mean confidence.
fn drop_phantoms(words: Vec<OcrWord>, outside: impl Fn(&OcrWord) -> bool) -> Vec<OcrWord> {
    /// One Tesseract line: the box of its words, their confidence summed and counted, and
    /// whether all of them lie outside the tables.
    struct LineBox {
        left: f64,
        top: f64,
        right: f64,
        bottom: f64,
        conf: f32,
        words: usize,
        outside: bool,
    }
    let mut lines: BTreeMap<(u32, u32, u32), LineBox> = BTreeMap::new();
    for w in &words {
        let l = lines.entry(w.line).or_insert(LineBox {
            left: f64::MAX,
            top: f64::MAX,
            right: f64::MIN,
            bottom: f64::MIN,
            conf: 0.0,
            words: 0,
            outside: true,
        });
        l.left = l.left.min(w.left);
        l.top = l.top.min(w.top);
        l.right = l.right.max(w.left + w.width);
        l.bottom = l.bottom.max(w.top + w.height);
        l.conf += w.conf;
        l.words += 1;
        l.outside &= outside(w);
    }
    let mean = |l: &LineBox| l.conf / l.words as f32;
    let phantom: Vec<(u32, u32, u32)> = lines
        .iter()
        .filter(|(key, l)| {
            l.outside
                && lines.iter().any(|(other, m)| {
                    let common = l.bottom.min(m.bottom) - l.top.max(m.top);
                    other != *key
                        && common * 2.0 >= l.bottom - l.top
                        && m.left <= l.left + 1.0
                        && m.right + 1.0 >= l.right
                        && mean(m) >= mean(l) + 20.0
                })
        })
        .map(|(key, _)| *key)
        .collect();
    if !phantom.is_empty() {
        tracing::debug!(lines = phantom.len(), "phantom OCR lines dropped");
    }
    words
        .into_iter()
        .filter(|w| !phantom.contains(&w.line))
        .collect()
}

fn tesseract(image: &Gray, args: &[&str], timeout: Duration) -> Result<Vec<OcrWord>, RunError> {
    let mut all: Vec<&std::ffi::OsStr> = vec!["stdin".as_ref(), "stdout".as_ref()];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    all.push("tsv".as_ref());
    let limits = Limits {
        timeout,
        max_output: 16 * 1024 * 1024,
        max_memory: 2 * 1024 * 1024 * 1024,
    };
    let out = subprocess::run_env(
        "tesseract",
        &all,
        Some(&image.pgm()),
        limits,
        &[("OMP_THREAD_LIMIT", "1")],
    )?;
    Ok(parse_tesseract_tsv(&String::from_utf8_lossy(&out)))
}

fn is_cjk(c: char) -> bool {
    ('\u{3400}'..='\u{9fff}').contains(&c) || ('\u{f900}'..='\u{faff}').contains(&c)
}

/// A number cell to read: ink box in pixels, the page words inside, and whether the ink
/// touches the cell's edge.
type Crop = ((usize, usize, usize, usize), Vec<usize>, bool);

/// A number cell of a page: its ink box in pixels and both readings.
struct NumberCell {
    page: u32,
    /// The ink box in the page image's pixels.
    ink: (usize, usize, usize, usize),
    cell: OcrCell,
    /// The page pass read nothing in the cell (or only garbled words).
    unread_by_page: bool,
    /// The page pass read no digit in the cell (nothing, or only other characters).
    no_digit_by_page: bool,
    /// The cell's ink as glyphs, to be read by their shapes (see `glyphs`).
    glyphs: Option<Vec<glyphs::Glyph>>,
    /// The ink box in points as a word's: left, top, width, height.
    word: [f64; 4],
}

/// One page read: its words (points) and its number cells.
struct PageRead {
    segments: Vec<Segment>,
    words: Vec<Word>,
    /// Each word's Tesseract line, by its place: (page, left, top) bits.
    line_of: std::collections::HashMap<(u32, u64, u64), (u32, u32, u32)>,
    numbers: Vec<NumberCell>,
}

/// Reads one page image.
fn read_page(page: u32, raw: Gray, dpi: f64, timeout: Duration) -> Result<PageRead, RunError> {
    let (g, dpi) = if !(220.0..=450.0).contains(&dpi) {
        (raw.scaled(WORK_DPI / dpi), WORK_DPI)
    } else {
        (raw, dpi)
    };
    let g = flatten(&g, dpi);
    let angle = skew(&g);
    let mut g = if angle.abs() >= 0.04 {
        rotate(&g, angle)
    } else {
        g
    };
    let k = 72.0 / dpi;
    let (hb, vb) = rulings(&g, dpi);
    let mut segments = Vec::new();
    for (bands, horizontal) in [(&hb, true), (&vb, false)] {
        for b in bands {
            segments.push(Segment {
                page,
                horizontal,
                at: (b.a0 + b.a1) as f64 / 2.0 * k,
                from: b.from as f64 * k,
                to: b.to as f64 * k,
            });
        }
    }
    // Rulings painted white, so that the reader sees the print only.
    let pad = 4;
    for b in &hb {
        for y in b.a0.saturating_sub(pad)..(b.a1 + pad + 1).min(g.h) {
            for x in b.from..=b.to.min(g.w - 1) {
                g.px[y * g.w + x] = 255;
            }
        }
    }
    for b in &vb {
        for x in b.a0.saturating_sub(pad)..(b.a1 + pad + 1).min(g.w) {
            for y in b.from..=b.to.min(g.h - 1) {
                g.px[y * g.w + x] = 255;
            }
        }
    }
    despeckle(&mut g, dpi);
    let grids = pdf_grid::grids(&segments);
    let outside = |w: &OcrWord| {
        let (cx, cy) = ((w.left + w.width / 2.0) * k, (w.top + w.height / 2.0) * k);
        !grids.iter().any(|grid| {
            let (Some(x0), Some(x1), Some(y0), Some(y1)) = (
                grid.xs.first(),
                grid.xs.last(),
                grid.ys.first(),
                grid.ys.last(),
            ) else {
                return false;
            };
            cx >= *x0 && cx <= *x1 && cy >= *y0 && cy <= *y1
        })
    };
    let words = drop_phantoms(
        tesseract(&g, &["-l", "chi_sim", "--psm", "6"], timeout)?,
        outside,
    );
    // Number cells: ink and no Chinese in the page pass.
    let mut crops: Vec<Crop> = Vec::new();
    let mut taken = vec![false; words.len()];
    for grid in &grids {
        for s in &grid.cells {
            let inset = 8;
            let x0 = (grid.xs[s.col] / k) as usize + inset;
            let x1 = (grid.xs[s.col + s.cols] / k) as usize;
            let y0 = (grid.ys[s.row] / k) as usize + inset;
            let y1 = (grid.ys[s.row + s.rows] / k) as usize;
            if x1 <= x0 + 2 * inset || y1 <= y0 + 2 * inset || x1 > g.w || y1 > g.h {
                continue;
            }
            let (x1, y1) = (x1 - inset, y1 - inset);
            // The page words of the cell: centred anywhere in it (a word's box can reach
            // into the inset, the ink box cannot).
            let (cx0, cy0, cx1, cy1) = (x0 - inset, y0 - inset, x1 + inset, y1 + inset);
            let inside: Vec<usize> = words
                .iter()
                .enumerate()
                .filter(|(_, w)| {
                    let (cx, cy) = (w.left + w.width / 2.0, w.top + w.height / 2.0);
                    cx >= cx0 as f64 && cx <= cx1 as f64 && cy >= cy0 as f64 && cy <= cy1 as f64
                })
                .map(|(i, _)| i)
                .collect();
            // Words Tesseract itself gives up on (a line of numbers far apart can come out
            // as a row of unrelated characters at confidence 0) do not make a label.
            let text: String = inside
                .iter()
                .filter(|&&i| words[i].conf >= GARBLED)
                .map(|&i| words[i].text.as_str())
                .collect();
            let cjk = text.chars().filter(|&c| is_cjk(c)).count();
            let digits = text.chars().filter(char::is_ascii_digit).count();
            // A label has two characters or more; one Chinese character in a cell of
            // its own is as likely a digit misread (0 as 〇, 2 as 之).
            if cjk > 1 && cjk > digits {
                continue;
            }
            let (mut ix0, mut iy0, mut ix1, mut iy1) = (usize::MAX, usize::MAX, 0, 0);
            let mut count = 0;
            for y in y0..y1 {
                for x in x0..x1 {
                    if g.at(x, y) < INK {
                        count += 1;
                        ix0 = ix0.min(x);
                        iy0 = iy0.min(y);
                        ix1 = ix1.max(x);
                        iy1 = iy1.max(y);
                    }
                }
            }
            // A number is one line of print: ink taller than a quarter inch is a wrapped
            // label or a stamp, not a value.
            if count < 12 || iy1 <= iy0 + 2 || (iy1 - iy0) as f64 > dpi * 0.25 {
                continue;
            }
            for &i in &inside {
                taken[i] = true;
            }
            // Ink cut by the edge of the cell is the rest of a ruling or print run over
            // from a neighbour: whatever is read there is doubtful (a ruling reads as 1).
            let cut = ix0 <= x0 || ix1 + 1 >= x1 || iy0 <= y0 || iy1 + 1 >= y1;
            crops.push(((ix0, iy0, ix1, iy1), inside, cut));
        }
    }
    let mut numbers = Vec::new();
    for chunk in crops.chunks(80) {
        numbers.extend(read_numbers(page, &g, chunk, &words, timeout)?);
    }
    // A one-line cell in which no digit was read is print of another kind: read as
    // Chinese, a short label becomes text of the table instead of an empty number. So a
    // table header's 总计 in a tall cell, which the page pass left empty, and a row's
    // （一）予以公开 in a photo, of which the page pass kept one character (the rest it read
    // at confidence 0 to 22): then two Chinese characters are asked of the lone reading.
    let mut labels = Vec::new();
    let mut kept = Vec::new();
    for n in numbers {
        if n.cell.text.is_empty() && n.no_digit_by_page {
            let (text, _) = read_alone(&g, n.ink, &["-l", "chi_sim"], &["7"], timeout)?;
            let least = if n.unread_by_page { 1 } else { 2 };
            if text.chars().filter(|&c| is_cjk(c)).count() >= least {
                labels.push((n.ink, text));
                continue;
            }
        }
        kept.push(n);
    }
    let numbers: Vec<NumberCell> = kept
        .into_iter()
        .map(|mut n| {
            n.glyphs = glyphs::glyphs(&g, n.ink);
            n
        })
        .collect();
    let mut line_of = std::collections::HashMap::new();
    let mut out_words: Vec<Word> = words
        .iter()
        .zip(&taken)
        .filter(|(_, t)| !**t)
        .map(|(w, _)| {
            let word = Word {
                page,
                left: w.left * k,
                top: w.top * k,
                width: w.width * k,
                height: w.height * k,
                text: w.text.clone(),
            };
            line_of.insert((page, word.left.to_bits(), word.top.to_bits()), w.line);
            word
        })
        .collect();
    // The number cells' words are added once every page is read (`assemble`): their
    // glyphs may still be read against digits learnt on later pages.
    for ((x0, y0, x1, y1), text) in labels {
        out_words.push(Word {
            page,
            left: x0 as f64 * k,
            top: y0 as f64 * k,
            width: (x1 - x0) as f64 * k,
            height: (y1 - y0) as f64 * k,
            text,
        });
    }
    // The number cells' boxes in points, as their words will stand in the grid.
    let numbers = numbers
        .into_iter()
        .map(|mut n| {
            let (x0, y0, x1, y1) = n.ink;
            n.word = [
                x0 as f64 * k,
                y0 as f64 * k,
                (x1 - x0) as f64 * k,
                (y1 - y0) as f64 * k,
            ];
            n
        })
        .collect();
    Ok(PageRead {
        segments,
        words: out_words,
        line_of,
        numbers,
    })
}

/// Reads number cells pasted one under another into one strip, digits only.
fn read_numbers(
    page: u32,
    g: &Gray,
    crops: &[Crop],
    words: &[OcrWord],
    timeout: Duration,
) -> Result<Vec<NumberCell>, RunError> {
    if crops.is_empty() {
        return Ok(Vec::new());
    }
    // Crops side by side, a few to a line, each in a slot as high as the tallest and
    // separated by three heights: Tesseract reads lines of numbers far better than lone
    // digits stacked one per line.
    let hmax = crops
        .iter()
        .map(|((_, y0, _, y1), _, _)| y1 - y0 + 1)
        .max()
        .unwrap_or(1);
    let wmax = crops
        .iter()
        .map(|((x0, _, x1, _), _, _)| x1 - x0 + 1)
        .max()
        .unwrap_or(1);
    let per_line = 8;
    let (gap_x, gap_y, margin) = (hmax * 3, hmax * 2, hmax * 2);
    let slot_w = wmax + gap_x;
    let lines = crops.len().div_ceil(per_line);
    let width = margin * 2 + slot_w * per_line.min(crops.len());
    let height = margin * 2 + lines * (hmax + gap_y);
    if width.saturating_mul(height) > MAX_PIXELS / 4 {
        return Ok(Vec::new());
    }
    let mut strip = Gray {
        w: width,
        h: height,
        px: vec![255; width * height],
    };
    // Each crop's slot in the strip: left, top, right, bottom.
    let mut slots = Vec::new();
    for (n, ((x0, y0, x1, y1), _, _)) in crops.iter().enumerate() {
        let left = margin + (n % per_line) * slot_w;
        let top = margin + (n / per_line) * (hmax + gap_y) + (hmax - (y1 - y0 + 1)) / 2;
        for yy in *y0..=*y1 {
            for xx in *x0..=*x1 {
                strip.px[(top + yy - y0) * width + left + xx - x0] = g.at(xx, yy);
            }
        }
        let line_top = margin + (n / per_line) * (hmax + gap_y);
        slots.push((
            left.saturating_sub(gap_x / 2),
            line_top.saturating_sub(gap_y / 2),
            left + wmax + gap_x / 2,
            line_top + hmax + gap_y / 2,
        ));
    }
    let got = tesseract(
        &strip,
        &[
            "-l",
            "eng",
            "--psm",
            "6",
            "-c",
            "tessedit_char_whitelist=0123456789.",
        ],
        timeout,
    )?;
    let mut out = Vec::new();
    for (((x0, y0, x1, y1), inside, cut), (sl, st, sr, sb)) in crops.iter().zip(&slots) {
        let mut mine: Vec<&OcrWord> = got
            .iter()
            .filter(|w| {
                let (cx, cy) = (w.left + w.width / 2.0, w.top + w.height / 2.0);
                cx >= *sl as f64 && cx < *sr as f64 && cy >= *st as f64 && cy < *sb as f64
            })
            .collect();
        mine.sort_by(|a, b| a.left.total_cmp(&b.left));
        let text: String = mine.iter().map(|w| w.text.as_str()).collect();
        let confidence = mine
            .iter()
            .map(|w| w.conf)
            .fold(None, |m: Option<f32>, c| Some(m.map_or(c, |m| m.min(c))))
            .unwrap_or(0.0);
        let mut page_words: Vec<&OcrWord> = inside
            .iter()
            .map(|&i| &words[i])
            .filter(|w| w.conf >= GARBLED)
            .collect();
        page_words.sort_by(|a, b| a.left.total_cmp(&b.left));
        let page_raw: String = page_words.iter().map(|w| w.text.as_str()).collect();
        let page_text: String = page_raw
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '.')
            .collect::<String>()
            .trim_matches('.')
            .to_string();
        // A minus sign straight before the digits (a 增/减 column of the 2019 template) is
        // the page pass's alone: the other readings are of digits only, so they are
        // compared without it and it is put back on whatever is shown.
        let negative = page_raw
            .chars()
            .take_while(|c| !c.is_ascii_digit())
            .last()
            .is_some_and(|c| matches!(c, '-' | '－' | '−' | '–' | '—'))
            && !page_text.is_empty();
        let text = text.trim_matches('.').to_string();
        let page_conf = page_words
            .iter()
            .map(|w| w.conf)
            .fold(None, |m: Option<f32>, c| Some(m.map_or(c, |m| m.min(c))))
            .unwrap_or(0.0);
        // Where the two readings leave the value open (no page reading and a weak or empty
        // strip, or two readings that disagree), the cell is read a third time on its own:
        // the strip loses lone digits (a 0 between wide gaps), the page pass garbles a
        // line of numbers far apart.
        let no_digit_by_page = page_text.is_empty();
        let page_unsure = page_conf < MIN_CONFIDENCE
            || page_raw.chars().count() != page_text.chars().count() + usize::from(negative);
        let open = if page_text.is_empty() {
            text.is_empty() || confidence < MIN_CONFIDENCE
        } else {
            text != page_text && (!text.is_empty() || page_unsure)
        };
        let third = if open {
            Some(read_one(g, (*x0, *y0, *x1, *y1), timeout)?)
        } else {
            None
        };
        // The page pass reads print in its context and is the value; the digits-only strip
        // is the second opinion. Unsure: a weak page reading, anything but digits in it, no
        // page reading at all (then the strip's or the lone reading is taken), or a sure
        // strip that disagrees (then the lone reading decides which is shown first).
        let mut cell = if page_text.is_empty() {
            let (text, confidence) = match third {
                Some((one, c))
                    if !one.is_empty() && (text.is_empty() || one == text || c > confidence) =>
                {
                    (one, c)
                }
                _ => (text, confidence),
            };
            OcrCell {
                doubtful: true,
                alternative: None,
                text,
                confidence: confidence.min(page_conf),
            }
        } else {
            let disagree = !text.is_empty() && text != page_text;
            // The lone reading sides with the strip, or (no strip reading, an unsure page
            // reading) is sure of other digits, or surer than the page of them (a 0 read
            // `6)` at 46 by the page and 0 at 52 alone): it is shown first, the page's second.
            let other = match third {
                Some((one, c))
                    if !one.is_empty()
                        && one != page_text
                        && (c >= STRIP_SURE
                            || (text.is_empty() && page_unsure && c > page_conf)) =>
                {
                    (one == text || text.is_empty()).then_some((one, c))
                }
                // Or a page reading barely above garbled against a sure strip (906171.6 at
                // 30 against 96171.6 at 92), the lone reading not on the page's side.
                Some((one, _))
                    if disagree
                        && page_conf < STRIP_SURE
                        && confidence >= STRIP_SURE + 20.0
                        && one != page_text =>
                {
                    Some((text.clone(), confidence))
                }
                _ => None,
            };
            let doubtful =
                *cut || page_unsure || (disagree && confidence >= STRIP_SURE) || other.is_some();
            if let Some((text, confidence)) = other {
                OcrCell {
                    doubtful,
                    alternative: Some(page_text),
                    text,
                    confidence,
                }
            } else {
                OcrCell {
                    doubtful,
                    alternative: disagree.then_some(text),
                    text: page_text,
                    confidence: page_conf,
                }
            }
        };
        if negative {
            for t in std::iter::once(&mut cell.text).chain(cell.alternative.as_mut()) {
                if !t.is_empty() {
                    t.insert(0, '-');
                }
            }
        }
        out.push(NumberCell {
            page,
            ink: (*x0, *y0, *x1, *y1),
            cell,
            unread_by_page: page_words.is_empty(),
            no_digit_by_page,
            glyphs: None,
            word: [0.0; 4],
        });
    }
    Ok(out)
}

/// One number cell read on its own (its ink box in `g`, with a margin of its height), as
/// one line of digits: the text and Tesseract's least confidence in its words.
fn read_one(
    g: &Gray,
    ink: (usize, usize, usize, usize),
    timeout: Duration,
) -> Result<(String, f32), RunError> {
    // As one line; a lone digit that Tesseract drops as a line (it happens to a clear 7)
    // is then read as one word.
    read_alone(
        g,
        ink,
        &["-l", "eng", "-c", "tessedit_char_whitelist=0123456789"],
        &["7", "8"],
        timeout,
    )
}

/// The ink box `(x0, y0, x1, y1)` of `g` alone on white (a margin of its height), read with
/// `args` in each page segmentation mode of `modes` until one reads something: the text
/// and Tesseract's least confidence in its words.
fn read_alone(
    g: &Gray,
    (x0, y0, x1, y1): (usize, usize, usize, usize),
    args: &[&str],
    modes: &[&str],
    timeout: Duration,
) -> Result<(String, f32), RunError> {
    let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
    let pad = h;
    let mut one = Gray {
        w: w + 2 * pad,
        h: h + 2 * pad,
        px: vec![255; (w + 2 * pad) * (h + 2 * pad)],
    };
    for y in 0..h {
        for x in 0..w {
            one.px[(y + pad) * one.w + x + pad] = g.at(x0 + x, y0 + y);
        }
    }
    let mut got = Vec::new();
    for psm in modes {
        let mut all = args.to_vec();
        all.extend(["--psm", psm]);
        got = tesseract(&one, &all, timeout)?;
        if !got.is_empty() {
            break;
        }
    }
    got.sort_by(|a, b| a.left.total_cmp(&b.left));
    let text: String = got.iter().map(|w| w.text.as_str()).collect();
    let confidence = got.iter().map(|w| w.conf).fold(f32::MAX, f32::min);
    Ok((text, if got.is_empty() { 0.0 } else { confidence }))
}

/// What a failed helper means to the submitter.
fn error(e: RunError) -> ExtractError {
    match e {
        RunError::Timeout { secs, .. } => ExtractError::Hostile {
            detail: format!("扫描件的一页在 {secs} 秒内未能识别完"),
        },
        other => {
            // The helper's own words (English) go to the log; the clerk reads Chinese.
            tracing::warn!("scan not read: {other}");
            ExtractError::Corrupt {
                detail: "扫描件无法识别".to_string(),
            }
        }
    }
}

/// Fewer letters than this read on all pages: a blank page or a picture, no report.
const MIN_READ_CHARS: usize = 20;

/// `Err(file.scanned)` when OCR found next to nothing on the pages: the old answer, which
/// asks for a text version, fits a blank or unreadable scan better than any reading.
fn enough(pages: &[PageRead]) -> Result<(), Option<ExtractError>> {
    let chars: usize = pages
        .iter()
        .flat_map(|p| &p.words)
        .map(|w| w.text.chars().filter(|c| c.is_alphanumeric()).count())
        .sum();
    if chars < MIN_READ_CHARS {
        return Err(Some(ExtractError::Scanned {
            pages: u32::try_from(pages.len()).unwrap_or(u32::MAX),
            chars,
        }));
    }
    Ok(())
}

/// Every number cell is read once more glyph by glyph, against the digits of the report's
/// sure cells (see `glyphs`), a reading of its own beside the page pass and the strip.
/// - Where the page pass read no digit (Tesseract reads a lone digit badly), what the
///   shapes say is shown first, the others' second.
/// - Where the shapes say other digits than are shown, the cell is doubtful: a 0 the page
///   pass read as 5 at confidence 83, the strip unsure of its 0. When the shapes side with
///   the second reading, that one is shown first.
fn read_by_shapes(numbers: &mut [NumberCell]) {
    let mut shapes = glyphs::Shapes::default();
    for n in numbers.iter() {
        if !n.cell.doubtful
            && n.cell.confidence >= SHAPE_SURE
            && let Some(found) = &n.glyphs
        {
            shapes.learn(found, &n.cell.text);
        }
    }
    for n in numbers.iter_mut() {
        let Some(text) = n.glyphs.as_deref().and_then(|found| shapes.read(found)) else {
            continue;
        };
        if text == n.cell.text {
            continue;
        }
        n.cell.doubtful = true;
        if n.no_digit_by_page || n.cell.alternative.as_ref() == Some(&text) {
            let other = std::mem::replace(&mut n.cell.text, text);
            n.cell.alternative = (!other.is_empty()).then_some(other);
        }
    }
}

/// Puts the pages' reads together: grids and cells as for a PDF with borders.
fn assemble(format: Format, pages: Vec<PageRead>) -> Extracted {
    let n = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    let mut segments = Vec::new();
    let mut words = Vec::new();
    let mut numbers = Vec::new();
    let mut line_of = std::collections::HashMap::new();
    for p in pages {
        line_of.extend(p.line_of);
        segments.extend(p.segments);
        words.extend(p.words);
        numbers.extend(p.numbers);
    }
    read_by_shapes(&mut numbers);
    for n in numbers.iter().filter(|n| !n.cell.text.is_empty()) {
        let [left, top, width, height] = n.word;
        words.push(Word {
            page: n.page,
            left,
            top,
            width,
            height,
            text: n.cell.text.clone(),
        });
    }
    let grids = pdf_grid::grids(&segments);
    let (tables, rest) = pdf_grid::fill(&grids, words);
    let mut reading = OcrReading {
        pages: n,
        cells: BTreeMap::new(),
    };
    for t in &tables {
        let texts: BTreeMap<SourceRef, &str> = t
            .rows
            .iter()
            .flatten()
            .map(|c| (c.at, c.text.as_str()))
            .collect();
        for (at, [x0, y0, x1, y1]) in &t.places {
            let Some(page) = at.page() else { continue };
            if let Some(num) = numbers.iter().find(|nc| {
                let [left, top, width, height] = nc.word;
                let (cx, cy) = (left + width / 2.0, top + height / 2.0);
                nc.page == page && cx >= *x0 && cx <= *x1 && cy >= *y0 && cy <= *y1
            }) {
                reading.cells.insert(*at, num.cell.clone());
            } else if let Some(text) = texts
                .get(at)
                .filter(|t| t.chars().any(|c| c.is_ascii_digit()))
            {
                // Digits in a cell that was not read as a number cell (its ink looked like
                // a label, or too tall): never vouched for by the digits-only reading.
                reading.cells.insert(
                    *at,
                    OcrCell {
                        text: text.to_string(),
                        confidence: 0.0,
                        doubtful: true,
                        alternative: None,
                    },
                );
            }
        }
    }
    let mut placed: Vec<(u32, f64, Block)> = text_lines(rest, &line_of);
    placed.extend(
        tables
            .into_iter()
            .map(|t| (t.page, t.top, Block::Table { rows: t.rows })),
    );
    placed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    Extracted {
        format,
        encoding: None,
        blocks: placed.into_iter().map(|(_, _, b)| b).collect(),
        ocr: Some(reading),
    }
}

/// The words outside every table as Tesseract's own lines: its line finding follows the
/// print better than boxes regrouped, where a flat 一 or 、 can land on the line above.
/// Words of a line join without spaces between Chinese, with a space between Latin or
/// digits, and with a tab across a gap wider than two characters (a cell border).
fn text_lines(
    rest: Vec<Word>,
    line_of: &std::collections::HashMap<(u32, u64, u64), (u32, u32, u32)>,
) -> Vec<(u32, f64, Block)> {
    type Line = (u32, (u32, u32, u32));
    let mut lines: BTreeMap<Line, Vec<Word>> = BTreeMap::new();
    for w in rest {
        let key = line_of
            .get(&(w.page, w.left.to_bits(), w.top.to_bits()))
            .copied()
            .unwrap_or((u32::MAX, 0, 0));
        lines.entry((w.page, key)).or_default().push(w);
    }
    let mut out: Vec<(u32, f64, String)> = Vec::new();
    for ((page, _), mut words) in lines {
        words.sort_by(|a, b| a.left.total_cmp(&b.left));
        let top = words.iter().map(|w| w.top).fold(f64::MAX, f64::min);
        let mut text = String::new();
        let mut right: Option<(f64, f64)> = None;
        for w in &words {
            if let Some((r, h)) = right {
                let gap = w.left - r;
                let latin = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
                if gap > 2.0 * h.max(w.height) {
                    text.push('\t');
                } else if latin(text.chars().last()) && latin(w.text.chars().next()) {
                    text.push(' ');
                }
            }
            text.push_str(&w.text);
            right = Some((w.left + w.width, w.height));
        }
        out.push((page, top, text));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut blocks = Vec::new();
    let mut n = 0;
    let mut last_page = 0;
    for (page, top, text) in out {
        if page != last_page {
            last_page = page;
            n = 0;
        }
        n += 1;
        blocks.push((
            page,
            top,
            Block::Text {
                text,
                at: SourceRef::PageLine { page, line: n },
            },
        ));
    }
    blocks
}

/// Page `page` of a PDF rendered by pdftoppm at `dpi`, as PNM (greyscale or colour), or in
/// the format `as_format` asks for (`-png`).
fn render_page(
    bytes: &[u8],
    page: u32,
    dpi: u32,
    as_format: Option<&str>,
    limits: Limits,
) -> Result<Vec<u8>, RunError> {
    let (n, dpi) = (page.to_string(), dpi.to_string());
    let mut args: Vec<&std::ffi::OsStr> = vec!["-r".as_ref(), dpi.as_ref()];
    if let Some(format) = as_format {
        args.push(format.as_ref());
    }
    args.extend::<[&std::ffi::OsStr; 6]>([
        "-f".as_ref(),
        n.as_ref(),
        "-l".as_ref(),
        n.as_ref(),
        "-singlefile".as_ref(),
        "-".as_ref(),
    ]);
    subprocess::run("pdftoppm", &args, Some(bytes), limits)
}

/// Reads an image-only PDF of `pages` pages by OCR. `Err(None)` when OCR is off here (the
/// caller answers `file.scanned` as before).
pub fn read_pdf(bytes: &[u8], pages: u32) -> Result<Extracted, Option<ExtractError>> {
    // OCR off here: `file.scanned`; put off: the scan lane reads it.
    if status().is_err() || put_off() {
        return Err(None);
    }
    let settings = settings();
    let _slot = Slot::take();
    let mut read = Vec::new();
    for page in 1..=pages.clamp(1, MAX_PAGES) {
        let limits = Limits {
            timeout: settings.page_timeout,
            max_output: MAX_PIXELS * 3 + 64,
            max_memory: 2 * 1024 * 1024 * 1024,
        };
        let pnm = render_page(bytes, page, 300, None, limits).map_err(|e| Some(error(e)))?;
        let Some(image) = parse_pnm(&pnm) else {
            return Err(Some(ExtractError::Corrupt {
                detail: format!("扫描件第 {page} 页无法转为图像"),
            }));
        };
        read.push(
            read_page(page, image, WORK_DPI, settings.page_timeout).map_err(|e| Some(error(e)))?,
        );
    }
    enough(&read)?;
    Ok(assemble(Format::Pdf, read))
}

/// A picture decoded within the limits of a scanned page (20,000 pixels a side, the pixels
/// of [`MAX_PIXELS`]); `Err` says why in the clerk's words. The decoder's own words
/// (English, e.g. "Format error decoding Jpeg") go to the log.
fn decode_picture(bytes: &[u8]) -> Result<image::DynamicImage, &'static str> {
    let mut reader = image::ImageReader::new(Cursor::new(bytes));
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some((MAX_PIXELS * 4) as u64);
    reader.limits(limits);
    reader
        .with_guessed_format()
        .map_err(|e| {
            tracing::warn!("picture not read: {e}");
            "图片无法读取"
        })?
        .decode()
        .map_err(|e| {
            tracing::warn!("picture not decoded: {e}");
            "图片无法解码，可能不完整或不是真正的图片文件"
        })
}

/// Reads a scanned or photographed page (.jpg, .png, .tif) by OCR; `Err(None)` when OCR
/// is off here.
pub fn read_image(bytes: &[u8]) -> Result<Extracted, Option<ExtractError>> {
    // OCR off here: `file.scanned`; put off: the scan lane reads it.
    if status().is_err() || put_off() {
        return Err(None);
    }
    let settings = settings();
    let corrupt = |detail: String| Some(ExtractError::Corrupt { detail });
    let count = picture_pages(bytes).map_err(corrupt)?;
    let _slot = Slot::take();
    let mut pages = Vec::new();
    for page in 1..=count.min(MAX_PAGES) {
        let rgb = picture_page(bytes, page).map_err(corrupt)?;
        let (w, h) = (rgb.width() as usize, rgb.height() as usize);
        if w < 200 || h < 200 || w * h > MAX_PIXELS {
            return Err(corrupt(format!(
                "图片第 {page} 页尺寸 {w}×{h} 不像一页扫描件"
            )));
        }
        let gray = gray_of_rgb(w, h, rgb.as_raw());
        drop(rgb);
        // An A4 page: its short side is 8.27 inches.
        let dpi = w.min(h) as f64 / 8.27;
        pages.push(read_page(page, gray, dpi, settings.page_timeout).map_err(|e| Some(error(e)))?);
    }
    enough(&pages)?;
    Ok(assemble(Format::Image, pages))
}

/// Whether `bytes` are a TIFF file: a scanner's or a fax's, often of several pages.
fn is_tiff(bytes: &[u8]) -> bool {
    bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*")
}

/// How many pages a picture file holds: every page of a TIFF, one of any other picture.
fn picture_pages(bytes: &[u8]) -> Result<u32, String> {
    if !is_tiff(bytes) {
        return Ok(1);
    }
    let mut decoder = tiff_decoder(bytes)?;
    let mut count = 1;
    while decoder.more_images() && count < MAX_PAGES {
        decoder.next_image().map_err(tiff_error)?;
        count += 1;
    }
    Ok(count)
}

/// Page `page` (from 1) of a picture file, in colour.
fn picture_page(bytes: &[u8], page: u32) -> Result<image::RgbImage, String> {
    if !is_tiff(bytes) {
        if page != 1 {
            return Err(format!("图片只有一页，没有第 {page} 页"));
        }
        return decode_picture(bytes)
            .map(|p| p.to_rgb8())
            .map_err(str::to_string);
    }
    let mut decoder = tiff_decoder(bytes)?;
    for _ in 1..page {
        if !decoder.more_images() {
            return Err(format!("TIFF 图片没有第 {page} 页"));
        }
        decoder.next_image().map_err(tiff_error)?;
    }
    tiff_rgb(&mut decoder).map_err(|e| format!("TIFF 图片第 {page} 页{e}"))
}

fn tiff_decoder(bytes: &[u8]) -> Result<tiff::decoder::Decoder<Cursor<&[u8]>>, String> {
    let mut limits = tiff::decoder::Limits::default();
    limits.decoding_buffer_size = MAX_PIXELS * 4;
    tiff::decoder::Decoder::new(Cursor::new(bytes))
        .map(|d| d.with_limits(limits))
        .map_err(tiff_error)
}

fn tiff_error(e: tiff::TiffError) -> String {
    tracing::warn!("TIFF not read: {e}");
    "TIFF 图片无法读取，可能不完整或不是真正的图片文件".to_string()
}

/// The decoder's current page in colour: grey, black-and-white (a fax), grey or colour
/// with alpha, 8 or 16 bits. Other colour models (palette, CMYK, Lab) are refused by name.
fn tiff_rgb(
    decoder: &mut tiff::decoder::Decoder<Cursor<&[u8]>>,
) -> Result<image::RgbImage, String> {
    use tiff::ColorType as C;
    use tiff::decoder::DecodingResult as D;
    let unreadable = |e: tiff::TiffError| {
        tracing::warn!("TIFF page not decoded: {e}");
        "无法解码，可能不完整".to_string()
    };
    let (w, h) = decoder.dimensions().map_err(unreadable)?;
    if (w as usize).saturating_mul(h as usize) > MAX_PIXELS || w == 0 || h == 0 {
        return Err(format!("尺寸 {w}×{h} 不像一页扫描件"));
    }
    let colour = decoder.colortype().map_err(unreadable)?;
    let data = decoder.read_image().map_err(unreadable)?;
    let grey = |g: u8| [g, g, g];
    let px: Vec<u8> = match (colour, data) {
        (C::Gray(8), D::U8(v)) => v.into_iter().flat_map(grey).collect(),
        (C::Gray(16), D::U16(v)) => v.into_iter().flat_map(|g| grey((g >> 8) as u8)).collect(),
        (C::GrayA(8), D::U8(v)) => v.chunks_exact(2).flat_map(|p| grey(p[0])).collect(),
        (C::RGB(8), D::U8(v)) => v,
        (C::RGB(16), D::U16(v)) => v.into_iter().map(|c| (c >> 8) as u8).collect(),
        (C::RGBA(8), D::U8(v)) => v.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        (C::Gray(1), D::U8(v)) => {
            // Rows of bits, each row whole bytes; 1 is white (the decoder turns a
            // WhiteIsZero fax the right way round).
            let stride = (w as usize).div_ceil(8);
            let mut px = Vec::with_capacity(w as usize * h as usize * 3);
            for y in 0..h as usize {
                for x in 0..w as usize {
                    let bit = v
                        .get(y * stride + x / 8)
                        .map_or(1, |b| (b >> (7 - x % 8)) & 1);
                    px.extend(grey(if bit == 1 { 255 } else { 0 }));
                }
            }
            px
        }
        (colour, _) => {
            return Err(format!(
                "的颜色格式（{colour:?}）无法读取，请扫描为灰度或彩色"
            ));
        }
    };
    image::RgbImage::from_raw(w, h, px).ok_or_else(|| "的像素数与尺寸不符".to_string())
}

/// How many pages the console shows of a scan beside its reading (issue 25): a PDF's
/// pages (at most [`MAX_PAGES`], the pages read), or 1 for a picture; 0 when the file does
/// not open.
pub fn page_count(bytes: &[u8]) -> u32 {
    if is_tiff(bytes) {
        return picture_pages(bytes).unwrap_or(0);
    }
    if !bytes.starts_with(b"%PDF") {
        return u32::from(image::guess_format(bytes).is_ok());
    }
    let options = lopdf::LoadOptions {
        max_decompressed_size: Some(64 * 1024 * 1024),
        ..Default::default()
    };
    lopdf::Document::load_mem_with_options(bytes, options)
        .map(|d| {
            u32::try_from(d.get_pages().len())
                .unwrap_or(MAX_PAGES)
                .min(MAX_PAGES)
        })
        .unwrap_or(0)
}

/// Widest page image the console is sent, in pixels: legible beside the table, a few
/// hundred kilobytes.
const SHOWN_WIDTH: u32 = 1400;

/// Page `page` (from 1) of a scan as a PNG for the console, beside the table as read: a PDF
/// page rendered by pdftoppm at 120 dpi, or the picture itself made at most
/// [`SHOWN_WIDTH`] wide. `Err` says why in Chinese (a page past the end, a broken file).
pub fn page_png(bytes: &[u8], page: u32) -> Result<Vec<u8>, String> {
    if page == 0 || page > MAX_PAGES {
        return Err(format!("没有第 {page} 页。"));
    }
    if bytes.starts_with(b"%PDF") {
        let limits = Limits {
            timeout: settings().page_timeout,
            max_output: 64 * 1024 * 1024,
            max_memory: 1024 * 1024 * 1024,
        };
        return match render_page(bytes, page, 120, Some("-png"), limits) {
            Ok(png) if png.starts_with(b"\x89PNG") => Ok(png),
            Ok(_) => Err(format!("第 {page} 页无法转为图像。")),
            Err(e) => {
                tracing::warn!(page, error = %e, "a scan's page not rendered for the console");
                Err(format!("第 {page} 页无法转为图像（可能没有这一页）。"))
            }
        };
    }
    let picture = image::DynamicImage::ImageRgb8(
        picture_page(bytes, page).map_err(|detail| format!("{detail}。"))?,
    );
    let picture = if picture.width() > SHOWN_WIDTH {
        let h = (u64::from(picture.height()) * u64::from(SHOWN_WIDTH)
            / u64::from(picture.width().max(1))) as u32;
        picture.resize(SHOWN_WIDTH, h.max(1), image::imageops::FilterType::Triangle)
    } else {
        picture
    };
    let mut png = Vec::new();
    picture
        .to_rgb8()
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|_| "图片无法转为 PNG。".to_string())?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(line: u32, left: f64, top: f64, width: f64, height: f64, conf: f32) -> OcrWord {
        OcrWord {
            left,
            top,
            width,
            height,
            conf,
            text: format!("w{line}"),
            line: (1, 1, line),
        }
    }

    /// The 淮安 scan's heading: Tesseract read 三、收到和处理政府信息公开申请情况 (confidence
    /// 66 to 97) and, over its top half, a line `1 一 AN MA` (26 to 49).
    fn heading_and_phantom() -> Vec<OcrWord> {
        vec![
            word(1, 451.0, 1402.0, 50.0, 44.0, 26.0),
            word(1, 1070.0, 1402.0, 36.0, 44.0, 39.0),
            word(1, 1518.0, 1402.0, 17.0, 44.0, 49.0),
            word(2, 445.0, 1413.0, 91.0, 65.0, 92.0),
            word(2, 1068.0, 1413.0, 110.0, 64.0, 66.0),
            word(2, 1473.0, 1414.0, 107.0, 63.0, 97.0),
        ]
    }

    #[test]
    fn a_phantom_line_over_a_heading_is_dropped_and_the_heading_kept() {
        let kept = drop_phantoms(heading_and_phantom(), |_| true);
        assert_eq!(kept.len(), 3, "{kept:?}");
        assert!(kept.iter().all(|w| w.line == (1, 1, 2)), "{kept:?}");
    }

    #[test]
    fn lines_in_tables_beside_or_as_sure_are_not_phantoms() {
        // In a table, the cells decide (a garbled line of numbers there is still read).
        assert_eq!(drop_phantoms(heading_and_phantom(), |_| false).len(), 6);
        // A line reaching past the other's end is a line of its own.
        let mut beside = heading_and_phantom();
        beside[2].left = 1600.0;
        assert_eq!(drop_phantoms(beside, |_| true).len(), 6);
        // As sure as the line it overlaps: two lines of print, neither dropped.
        let mut sure = heading_and_phantom();
        for w in &mut sure[..3] {
            w.conf = 80.0;
        }
        assert_eq!(drop_phantoms(sure, |_| true).len(), 6);
        // Below the heading's middle: a line of its own.
        let mut below = heading_and_phantom();
        for w in &mut below[..3] {
            w.top = 1460.0;
        }
        assert_eq!(drop_phantoms(below, |_| true).len(), 6);
    }

    fn page_with_lines(angle: f64) -> Gray {
        let (w, h) = (1200, 900);
        let mut px = vec![235u8; w * h];
        let t = angle.to_radians().tan();
        for &y0 in &[100.0, 300.0, 500.0, 700.0] {
            for x in 100..1100 {
                let y = (y0 + x as f64 * t) as usize;
                for d in 0..3 {
                    px[(y + d) * w + x] = 20;
                }
            }
        }
        for &x in &[100usize, 600, 1097] {
            for y in 100..703 {
                for d in 0..3 {
                    px[y * w + x + d] = 20;
                }
            }
        }
        Gray { w, h, px }
    }

    #[test]
    fn skew_is_found_to_a_few_hundredths_of_a_degree() {
        for angle in [-1.0, -0.4, 0.0, 0.7, 1.0] {
            let found = skew(&page_with_lines(angle));
            assert!((found - angle).abs() < 0.06, "{angle}: {found}");
        }
    }

    #[test]
    fn a_drawn_table_gives_one_grid_and_thick_blocks_no_rulings() {
        let mut g = page_with_lines(0.0);
        // A solid dark block: no ruling.
        for y in 780..880 {
            for x in 100..700 {
                g.px[y * g.w + x] = 0;
            }
        }
        let (h, v) = rulings(&g, 300.0);
        assert_eq!(h.len(), 4, "{h:?}");
        assert_eq!(v.len(), 3, "{v:?}");
        let k = 72.0 / 300.0;
        let segments: Vec<Segment> = h
            .iter()
            .map(|b| (b, true))
            .chain(v.iter().map(|b| (b, false)))
            .map(|(b, horizontal)| Segment {
                page: 1,
                horizontal,
                at: (b.a0 + b.a1) as f64 / 2.0 * k,
                from: b.from as f64 * k,
                to: b.to as f64 * k,
            })
            .collect();
        let grids = pdf_grid::grids(&segments);
        assert_eq!(grids.len(), 1);
        assert_eq!(grids[0].cells.len(), 6);
    }

    #[test]
    fn uneven_lighting_is_flattened_and_a_red_seal_fades() {
        let (w, h) = (600, 600);
        // Paper from 250 on the left to 120 on the right, print at 40 % of its paper.
        let mut px = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let paper = 250.0 - 130.0 * x as f64 / w as f64;
                let ink = (x / 20) % 2 == 0 && (y / 20) % 5 == 0;
                px[y * w + x] = if ink { paper * 0.4 } else { paper } as u8;
            }
        }
        let f = flatten(&Gray { w, h, px }, 300.0);
        for y in (0..h).step_by(7) {
            for x in (0..w).step_by(7) {
                let ink = (x / 20) % 2 == 0 && (y / 20) % 5 == 0;
                assert_eq!(f.at(x, y) < INK, ink, "({x}, {y}) = {}", f.at(x, y));
            }
        }
        let red = gray_of_rgb(2, 1, &[220, 30, 30, 10, 10, 10]);
        assert!(red.px[0] > 200 && red.px[1] < 20);
    }

    /// A TIFF of `pages`, each `w`×`h`: grey pages whose shade is the page's number, the
    /// last one in colour.
    fn tiff_of(pages: u8, w: u32, h: u32) -> Vec<u8> {
        use tiff::encoder::{TiffEncoder, colortype};
        let mut out = Cursor::new(Vec::new());
        let mut encoder = TiffEncoder::new(&mut out).expect("encoder");
        for n in 1..=pages {
            let shade = n * 10;
            if n == pages {
                let rgb = vec![shade; (w * h * 3) as usize];
                encoder
                    .write_image::<colortype::RGB8>(w, h, &rgb)
                    .expect("page");
            } else {
                let grey = vec![shade; (w * h) as usize];
                encoder
                    .write_image::<colortype::Gray8>(w, h, &grey)
                    .expect("page");
            }
        }
        out.into_inner()
    }

    /// A scanner's multi-page TIFF: every page is counted, each is decoded on its own (the
    /// image crate alone sees only the first), the console shows each, and a page past the
    /// last is a plain answer.
    #[test]
    fn every_page_of_a_multi_page_tiff_is_a_page() {
        let tiff = tiff_of(3, 40, 30);
        assert!(is_tiff(&tiff));
        assert_eq!(page_count(&tiff), 3);
        for page in 1..=3u32 {
            let rgb = picture_page(&tiff, page).expect("page");
            assert_eq!((rgb.width(), rgb.height()), (40, 30));
            assert_eq!(rgb.get_pixel(5, 5).0, [page as u8 * 10; 3], "page {page}");
            assert!(page_png(&tiff, page).expect("png").starts_with(b"\x89PNG"));
        }
        let past = picture_page(&tiff, 4).expect_err("no page 4");
        assert!(past.contains("没有第 4 页"), "{past}");
        assert!(page_png(&tiff, 4).is_err());
        // Cut short: an answer, not a panic.
        let cut = &tiff[..tiff.len() / 2];
        assert!(picture_page(cut, 3).is_err());
        // One picture of another kind has one page.
        let png = page_png(&tiff, 1).expect("png");
        assert_eq!(page_count(&png), 1);
        assert!(
            picture_page(&png, 2)
                .expect_err("one page")
                .contains("只有一页")
        );
    }

    #[test]
    fn a_bad_pnm_is_none() {
        assert!(parse_pnm(b"P6\n10 10\n255\n").is_none());
        assert!(parse_pnm(b"P5\n99999 99999\n255\n").is_none());
        assert!(parse_pnm(b"").is_none());
        let ok = parse_pnm(b"P5\n2 1\n255\n\x00\xff").expect("pnm");
        assert_eq!(ok.px, vec![0, 255]);
    }
}
