//! PDF tables read by their drawn grid.
//!
//! The tables of an annual report are drawn with borders, and the borders are vector paths
//! in the page's content: the cells are in the file, whatever the generator did with the
//! text. [`super::pdf_draw`] runs each page's content stream (graphics state, `cm`, Form
//! XObjects) and hands every painted path here in page space, y from the top like
//! poppler's word boxes. From it:
//!
//! 1. **Rulings** ([`emit`]): strokes along one axis no thicker than [`MAX_THICKNESS`],
//!    and thin filled shapes (Word, WPS and Chromium draw a border as a filled bar, Chromium's
//!    default `border=1` as a bevelled quadrilateral), each as a horizontal or vertical
//!    segment. White paint is no border.
//! 2. **Grids** ([`grids`]): coordinates within [`SNAP`] are one line (double borders of a
//!    table with cell spacing are one ruling); collinear pieces that touch are joined; a
//!    table is a connected set of rulings with a complete outer frame. Cells are the
//!    rectangles between consecutive lines; a missing inner side merges two of them (row and
//!    column spans). A merged area that is not a rectangle refuses the grid.
//! 3. **Cells** ([`fill`]): each poppler word goes to the cell that holds its centre, words
//!    of a cell joined top to bottom, then left to right. A table cut by a page break goes on
//!    in the first table of the next page when the column lines agree, its repeated header
//!    rows left out.
//!
//! What comes out is the same [`Block::Table`] docx and html give. Words outside every grid
//! stay for the text-geometry reader. Every count is bounded (segments, lines per page, grid
//! size, `q` depth, content operations): past a bound the grid is given up, never the file.

use super::pdf::Word;
use super::{Cell, SourceRef};

/// Thickest stroke or filled bar taken as a ruling, in points.
pub const MAX_THICKNESS: f64 = 2.5;
/// Coordinates closer than this (points) are one line.
pub const SNAP: f64 = 2.5;
/// Segments of a whole document past which the grid is given up.
pub const MAX_SEGMENTS: usize = 200_000;
/// Graphics states (`q`) nested deeper than this give the grid up.
pub const MAX_DEPTH: usize = 256;
/// Points of one path past which it is no border (a drawing, a chart).
const MAX_PATH_POINTS: usize = 4_096;
/// Horizontal or vertical lines of one page past which its grids are not looked for.
const MAX_LINES_PER_PAGE: usize = 2_000;
/// Rows or columns of one grid.
const MAX_GRID: usize = 400;

/// Why the drawing gave no rulings.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("the PDF could not be read: {0}")]
    Malformed(String),
    #[error("more than {MAX_SEGMENTS} ruling segments")]
    TooManySegments,
    #[error("graphics states nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("more than {} content operations", super::pdf_draw::MAX_OPS)]
    TooManyOps,
    #[error("too much page content")]
    TooMuchContent,
}

/// A ruling: a horizontal segment at `y = at` from `x = from` to `to`, or a vertical one at
/// `x = at`; points, y from the page's top.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub page: u32,
    pub horizontal: bool,
    pub at: f64,
    pub from: f64,
    pub to: f64,
}

/// A path being read: its paint, matrix and sub-paths (points in user space, each
/// sub-path marked when it has a curve).
pub(super) struct Path {
    /// Line width in page space for a stroke, `None` for a fill.
    pub(super) stroke: Option<f64>,
    pub(super) matrix: [f64; 6],
    pub(super) invisible: bool,
    pub(super) subpaths: Vec<(Vec<(f64, f64)>, bool)>,
    points: usize,
}

impl Path {
    pub(super) fn new(stroke: Option<f64>, matrix: [f64; 6], invisible: bool) -> Self {
        Path {
            stroke,
            matrix,
            invisible,
            subpaths: Vec::new(),
            points: 0,
        }
    }

    /// A curve: its sub-path is no ruling.
    pub(super) fn curve(&mut self) {
        if let Some((_, curved)) = self.subpaths.last_mut() {
            *curved = true;
        }
    }

    /// `h`: back to the sub-path's first point (a stroke draws the closing side).
    pub(super) fn close(&mut self) {
        if let Some(first) = self.subpaths.last().and_then(|(pts, _)| pts.first()) {
            let first = *first;
            self.point(first, false);
        }
    }

    pub(super) fn point(&mut self, p: (f64, f64), new: bool) {
        self.points += 1;
        if self.points > MAX_PATH_POINTS {
            self.invisible = true;
            self.subpaths.clear();
            return;
        }
        if self.invisible {
            return;
        }
        match self.subpaths.last_mut() {
            Some((pts, _)) if !new => pts.push(p),
            _ => self.subpaths.push((vec![p], false)),
        }
    }
}

/// The rulings of one finished path.
pub(super) fn emit(p: Path, page: u32, out: &mut Vec<Segment>) {
    if p.invisible {
        return;
    }
    let [a, b, c, d, e, f] = p.matrix;
    let map = |(x, y): (f64, f64)| (a * x + c * y + e, b * x + d * y + f);
    for (pts, curved) in &p.subpaths {
        if *curved {
            continue;
        }
        let pts: Vec<(f64, f64)> = pts.iter().copied().map(map).collect();
        match p.stroke {
            Some(width) if width <= MAX_THICKNESS => {
                for w in pts.windows(2) {
                    let ((x0, y0), (x1, y1)) = (w[0], w[1]);
                    if (y1 - y0).abs() <= 0.5 && (x1 - x0).abs() >= 1.0 {
                        out.push(Segment {
                            page,
                            horizontal: true,
                            at: (y0 + y1) / 2.0,
                            from: x0.min(x1),
                            to: x0.max(x1),
                        });
                    } else if (x1 - x0).abs() <= 0.5 && (y1 - y0).abs() >= 1.0 {
                        out.push(Segment {
                            page,
                            horizontal: false,
                            at: (x0 + x1) / 2.0,
                            from: y0.min(y1),
                            to: y0.max(y1),
                        });
                    }
                }
            }
            Some(_) => {}
            None => {
                if pts.len() < 2 {
                    continue;
                }
                let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
                for &(x, y) in &pts {
                    x0 = x0.min(x);
                    y0 = y0.min(y);
                    x1 = x1.max(x);
                    y1 = y1.max(y);
                }
                let (w, h) = (x1 - x0, y1 - y0);
                if h <= MAX_THICKNESS && w > h && w >= 1.0 {
                    out.push(Segment {
                        page,
                        horizontal: true,
                        at: (y0 + y1) / 2.0,
                        from: x0,
                        to: x1,
                    });
                } else if w <= MAX_THICKNESS && h > w && h >= 1.0 {
                    out.push(Segment {
                        page,
                        horizontal: false,
                        at: (x0 + x1) / 2.0,
                        from: y0,
                        to: y1,
                    });
                }
            }
        }
    }
}

/// A cell of a grid: its first row and column and how many it spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub row: usize,
    pub col: usize,
    pub rows: usize,
    pub cols: usize,
}

/// A table drawn on one page: its column and row lines and its cells, row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub page: u32,
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    pub cells: Vec<Span>,
}

#[derive(Debug, Clone, Copy)]
struct Line {
    at: f64,
    from: f64,
    to: f64,
    /// Drawn, not only the open end of a table cut by a page break ([`open_ends`]).
    drawn: bool,
}

/// Representatives of `values` grouped by chains closer than [`SNAP`]: (low, high, mean).
fn clusters(mut values: Vec<f64>) -> Vec<(f64, f64, f64)> {
    values.sort_by(f64::total_cmp);
    let mut out: Vec<(f64, f64, f64, usize)> = Vec::new();
    for v in values {
        match out.last_mut() {
            Some((_, hi, sum, n)) if v - *hi <= SNAP => {
                *hi = v;
                *sum += v;
                *n += 1;
            }
            _ => out.push((v, v, v, 1)),
        }
    }
    out.into_iter()
        .map(|(lo, hi, sum, n)| (lo, hi, sum / n as f64))
        .collect()
}

/// Segments of one orientation snapped to their clusters and joined where they touch.
fn lines(segments: &[&Segment]) -> Vec<Line> {
    let reps = clusters(segments.iter().map(|s| s.at).collect());
    let snap = |v: f64| {
        let i = reps.partition_point(|c| c.1 < v);
        reps.get(i).map_or(v, |c| c.2)
    };
    let mut snapped: Vec<Line> = segments
        .iter()
        .map(|s| Line {
            at: snap(s.at),
            from: s.from,
            to: s.to,
            drawn: s.page != 0,
        })
        .collect();
    snapped.sort_by(|a, b| a.at.total_cmp(&b.at).then(a.from.total_cmp(&b.from)));
    let mut out: Vec<Line> = Vec::new();
    for l in snapped {
        match out.last_mut() {
            Some(last) if last.at == l.at && l.from <= last.to + SNAP => {
                last.to = last.to.max(l.to);
                last.drawn |= l.drawn;
            }
            _ => out.push(l),
        }
    }
    out
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (a, b) = (find(parent, a), find(parent, b));
    if a != b {
        parent[a.max(b)] = a.min(b);
    }
}

/// The bordered tables of `segments`, page by page, top to bottom.
pub fn grids(segments: &[Segment]) -> Vec<Grid> {
    let mut pages: Vec<u32> = segments.iter().map(|s| s.page).collect();
    pages.sort_unstable();
    pages.dedup();
    let mut out = Vec::new();
    for page in pages {
        let on: Vec<&Segment> = segments.iter().filter(|s| s.page == page).collect();
        let mut found: Vec<Grid> = pieces(&on)
            .iter()
            .flat_map(|piece| piece_grids(page, piece))
            .collect();
        found.sort_by(|a, b| a.ys[0].total_cmp(&b.ys[0]));
        out.extend(found);
    }
    out
}

/// Most segments of one page split into pieces (every pair is compared); past it the page
/// is one piece (each piece is still split into tables later).
const MAX_PIECE_SEGMENTS: usize = 4_000;

/// The page's rulings in pieces that touch each other, before any snapping. Coordinates are
/// snapped within a piece only: a table drawn with separate cell borders (HTML's
/// `border-collapse: separate`, Chromium) has its lines in pairs 2–3 pt apart, and beside
/// another such table on the page the pairs of both would chain into one column line that
/// fits neither table.
fn pieces<'a>(on: &[&'a Segment]) -> Vec<Vec<&'a Segment>> {
    if on.len() > MAX_PIECE_SEGMENTS {
        return vec![on.to_vec()];
    }
    // Crossing (or ending on) each other, or one going on from the other along its line
    // (a side of a cell whose neighbour's sides meet it from one side only).
    let touch = |a: &Segment, b: &Segment| {
        if a.horizontal == b.horizontal {
            (a.at - b.at).abs() <= SNAP && a.from <= b.to + SNAP && b.from <= a.to + SNAP
        } else {
            let (h, v) = if a.horizontal { (a, b) } else { (b, a) };
            v.at >= h.from - SNAP
                && v.at <= h.to + SNAP
                && h.at >= v.from - SNAP
                && h.at <= v.to + SNAP
        }
    };
    let mut parent: Vec<usize> = (0..on.len()).collect();
    for i in 0..on.len() {
        for j in i + 1..on.len() {
            if touch(on[i], on[j]) {
                union(&mut parent, i, j);
            }
        }
    }
    let mut by_root: std::collections::BTreeMap<usize, Vec<&Segment>> =
        std::collections::BTreeMap::new();
    for (i, s) in on.iter().enumerate() {
        by_root.entry(find(&mut parent, i)).or_default().push(s);
    }
    by_root.into_values().collect()
}

/// The tables of one piece of a page's rulings.
fn piece_grids(page: u32, on: &[&Segment]) -> Vec<Grid> {
    let of =
        |h: bool| -> Vec<&Segment> { on.iter().copied().filter(|s| s.horizontal == h).collect() };
    let vl = lines(&of(false));
    if vl.len() > MAX_LINES_PER_PAGE {
        return Vec::new();
    }
    let open = open_ends(&vl);
    let mut horizontal = of(true);
    horizontal.extend(open.iter());
    let hl = lines(&horizontal);
    if hl.len() > MAX_LINES_PER_PAGE {
        return Vec::new();
    }
    let mut parent: Vec<usize> = (0..hl.len() + vl.len()).collect();
    for (i, h) in hl.iter().enumerate() {
        for (j, v) in vl.iter().enumerate() {
            if v.at >= h.from - SNAP
                && v.at <= h.to + SNAP
                && h.at >= v.from - SNAP
                && h.at <= v.to + SNAP
            {
                union(&mut parent, i, hl.len() + j);
            }
        }
    }
    let mut roots: Vec<usize> = (0..parent.len()).map(|i| find(&mut parent, i)).collect();
    let members = roots.clone();
    roots.sort_unstable();
    roots.dedup();
    roots
        .into_iter()
        .filter_map(|root| {
            let hs: Vec<Line> = (0..hl.len())
                .filter(|&i| members[i] == root)
                .map(|i| hl[i])
                .collect();
            let vs: Vec<Line> = (0..vl.len())
                .filter(|&j| members[hl.len() + j] == root)
                .map(|j| vl[j])
                .collect();
            grid(page, &hs, &vs)
        })
        .collect()
}

/// Where a page break cuts a table, the cells that go on over the break (a group label
/// merged over many rows) have no side there, and a column of them may touch no other
/// ruling at all. Where two or more vertical lines end at the same height, that height
/// closes them: a horizontal segment across them, marked not drawn (page 0), which alone
/// never makes a table.
fn open_ends(vl: &[Line]) -> Vec<Segment> {
    let mut out = Vec::new();
    for end in [true, false] {
        let mut ends: Vec<(f64, f64)> = vl
            .iter()
            .map(|v| (if end { v.to } else { v.from }, v.at))
            .collect();
        ends.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut i = 0;
        while i < ends.len() {
            let mut j = i + 1;
            while j < ends.len() && ends[j].0 - ends[j - 1].0 <= SNAP {
                j += 1;
            }
            if j - i >= 2 {
                let xs = ends[i..j].iter().map(|e| e.1);
                let from = xs.clone().fold(f64::MAX, f64::min);
                let to = xs.fold(f64::MIN, f64::max);
                out.push(Segment {
                    page: 0,
                    horizontal: true,
                    at: ends[i..j].iter().map(|e| e.0).sum::<f64>() / (j - i) as f64,
                    from,
                    to,
                });
            }
            i = j;
        }
    }
    out
}

/// The grid of one connected set of rulings, if it is a table with a whole frame and
/// rectangular cells.
fn grid(page: u32, hs: &[Line], vs: &[Line]) -> Option<Grid> {
    if !hs.iter().any(|l| l.drawn) {
        return None;
    }
    let positions = |ls: &[Line]| {
        let mut v: Vec<f64> = ls.iter().map(|l| l.at).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let (xs, ys) = (positions(vs), positions(hs));
    if xs.len() < 2 || ys.len() < 2 || xs.len() > MAX_GRID + 1 || ys.len() > MAX_GRID + 1 {
        return None;
    }
    let covers = |ls: &[Line], at: f64, from: f64, to: f64| {
        ls.iter()
            .any(|l| l.at == at && l.from <= from + SNAP && l.to >= to - SNAP)
    };
    let (nr, nc) = (ys.len() - 1, xs.len() - 1);
    // h[r][c]: the line at ys[r] over column c; v[r][c]: the line at xs[c] beside row r.
    let h: Vec<Vec<bool>> = (0..=nr)
        .map(|r| {
            (0..nc)
                .map(|c| covers(hs, ys[r], xs[c], xs[c + 1]))
                .collect()
        })
        .collect();
    let v: Vec<Vec<bool>> = (0..nr)
        .map(|r| {
            (0..=nc)
                .map(|c| covers(vs, xs[c], ys[r], ys[r + 1]))
                .collect()
        })
        .collect();
    let frame = (0..nc).all(|c| h[0][c] && h[nr][c]) && (0..nr).all(|r| v[r][0] && v[r][nc]);
    if !frame {
        return None;
    }
    let mut parent: Vec<usize> = (0..nr * nc).collect();
    for r in 0..nr {
        for c in 0..nc {
            if c + 1 < nc && !v[r][c + 1] {
                union(&mut parent, r * nc + c, r * nc + c + 1);
            }
            if r + 1 < nr && !h[r + 1][c] {
                union(&mut parent, r * nc + c, (r + 1) * nc + c);
            }
        }
    }
    // Each area: its bounding rows and columns and how many elementary cells it holds.
    let mut areas: std::collections::BTreeMap<usize, (usize, usize, usize, usize, usize)> =
        std::collections::BTreeMap::new();
    for r in 0..nr {
        for c in 0..nc {
            let root = find(&mut parent, r * nc + c);
            let a = areas.entry(root).or_insert((r, c, r, c, 0));
            a.0 = a.0.min(r);
            a.1 = a.1.min(c);
            a.2 = a.2.max(r);
            a.3 = a.3.max(c);
            a.4 += 1;
        }
    }
    let mut cells = Vec::with_capacity(areas.len());
    for (r0, c0, r1, c1, n) in areas.into_values() {
        if (r1 - r0 + 1) * (c1 - c0 + 1) != n {
            return None;
        }
        cells.push(Span {
            row: r0,
            col: c0,
            rows: r1 - r0 + 1,
            cols: c1 - c0 + 1,
        });
    }
    cells.sort_by_key(|s| (s.row, s.col));
    Some(Grid {
        page,
        xs,
        ys,
        cells,
    })
}

/// A table read from its grid, placed where its first part starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Filled {
    pub page: u32,
    pub top: f64,
    pub rows: Vec<Vec<Cell>>,
    /// Each cell's place on its page, `[left, top, right, bottom]` in points: where a scan's
    /// reader finds what it read for the cell.
    pub places: Vec<(SourceRef, [f64; 4])>,
}

/// The grid whose area holds the point, and its cell there.
fn locate(grids: &[Grid], page: u32, x: f64, y: f64) -> Option<(usize, usize)> {
    grids.iter().enumerate().find_map(|(gi, g)| {
        let (x0, x1) = (g.xs[0], *g.xs.last()?);
        let (y0, y1) = (g.ys[0], *g.ys.last()?);
        if g.page != page || x < x0 || x > x1 || y < y0 || y > y1 {
            return None;
        }
        let c = g.xs.partition_point(|&v| v <= x).clamp(1, g.xs.len() - 1) - 1;
        let r = g.ys.partition_point(|&v| v <= y).clamp(1, g.ys.len() - 1) - 1;
        let ci = g.cells.iter().position(|s| {
            (s.row..s.row + s.rows).contains(&r) && (s.col..s.col + s.cols).contains(&c)
        })?;
        Some((gi, ci))
    })
}

/// A cell's words as one text: visual lines top to bottom, words left to right; Chinese
/// joined without spaces, a label wrapped over five lines one label.
fn cell_text(mut words: Vec<&Word>) -> String {
    words.sort_by(|a, b| a.top.total_cmp(&b.top));
    let mut lines: Vec<(f64, f64, Vec<&Word>)> = Vec::new();
    for w in words {
        let bottom = w.top + w.height;
        match lines.last_mut() {
            Some((top, bot, ws))
                if (bot.min(bottom) - top.max(w.top)) >= 0.5 * w.height.min(*bot - *top) =>
            {
                *top = top.min(w.top);
                *bot = bot.max(bottom);
                ws.push(w);
            }
            _ => lines.push((w.top, bottom, vec![w])),
        }
    }
    let mut text = String::new();
    for (_, _, mut ws) in lines {
        ws.sort_by(|a, b| a.left.total_cmp(&b.left));
        let mut right: Option<f64> = None;
        for w in ws {
            if let Some(r) = right {
                let gap = w.left - r;
                if gap > 0.15 * w.height && !super::pdf::is_cjk_edge(&text, &w.text) {
                    text.push(' ');
                }
            } else if !text.is_empty() && !super::pdf::is_cjk_edge(&text, &w.text) {
                text.push(' ');
            }
            text.push_str(&w.text);
            right = Some(w.left + w.width);
        }
    }
    text
}

/// Whether grid `b` (first on its page) goes on from grid `a` (last on the page before):
/// the same outer sides, and most column lines of the one with fewer found in the other
/// (a part may lack a line where its rows merge two columns).
fn continues(a: &Grid, b: &Grid) -> bool {
    let near = |x: f64, y: f64| (x - y).abs() <= 2.0 * SNAP;
    let (Some(al), Some(bl)) = (a.xs.last(), b.xs.last()) else {
        return false;
    };
    let (few, many) = if a.xs.len() <= b.xs.len() {
        (&a.xs, &b.xs)
    } else {
        (&b.xs, &a.xs)
    };
    let shared = few
        .iter()
        .filter(|&&x| many.iter().any(|&y| near(x, y)))
        .count();
    b.page == a.page + 1 && near(a.xs[0], b.xs[0]) && near(*al, *bl) && 2 * shared >= few.len()
}

/// The column lines of all parts of a table, each part's mapped to them.
fn joint_columns(parts: &[&Grid]) -> (Vec<f64>, Vec<Vec<usize>>) {
    let reps = clusters(parts.iter().flat_map(|g| g.xs.iter().copied()).collect());
    let index = |x: f64| {
        reps.iter()
            .enumerate()
            .min_by(|a, b| (a.1.2 - x).abs().total_cmp(&(b.1.2 - x).abs()))
            .map_or(0, |(i, _)| i)
    };
    let maps = parts
        .iter()
        .map(|g| g.xs.iter().map(|&x| index(x)).collect())
        .collect();
    (reps.iter().map(|c| c.2).collect(), maps)
}

fn is_number(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-' | ' '))
}

/// Words into the cells of `grids`; tables cut by page breaks joined. Returns the tables
/// and the words outside every grid, in their order.
pub(super) fn fill(grids: &[Grid], words: Vec<Word>) -> (Vec<Filled>, Vec<Word>) {
    let mut inside: Vec<Vec<Vec<&Word>>> = grids
        .iter()
        .map(|g| vec![Vec::new(); g.cells.len()])
        .collect();
    let mut rest_at = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let (x, y) = (w.left + w.width / 2.0, w.top + w.height / 2.0);
        match locate(grids, w.page, x, y) {
            Some((g, c)) => inside[g][c].push(w),
            None => rest_at.push(i),
        }
    }
    let texts: Vec<Vec<String>> = inside
        .into_iter()
        .map(|cells| cells.into_iter().map(cell_text).collect())
        .collect();
    // Chains of grids continued over page breaks.
    let mut chains: Vec<Vec<usize>> = Vec::new();
    for (i, g) in grids.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &grids[p]);
        let first_on_page = prev.is_none_or(|p| p.page != g.page);
        let joins = first_on_page
            && prev.is_some_and(|p| continues(p, g))
            && !heading_between(grids, i, &words, &rest_at);
        match chains.last_mut() {
            Some(chain) if joins => chain.push(i),
            _ => chains.push(vec![i]),
        }
    }
    let mut tables = Vec::new();
    for (t, chain) in chains.iter().enumerate() {
        let parts: Vec<&Grid> = chain.iter().map(|&g| &grids[g]).collect();
        let (_, maps) = joint_columns(&parts);
        let first = chain[0];
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        let mut places = Vec::new();
        let key = |g: usize, map: &[usize]| -> Vec<Vec<(usize, usize, String)>> {
            let mut rows = vec![Vec::new(); grids[g].ys.len() - 1];
            for (s, text) in grids[g].cells.iter().zip(&texts[g]) {
                rows[s.row].push((map[s.col], map[s.col + s.cols], text.clone()));
            }
            rows
        };
        let header = key(first, &maps[0]);
        // The cells that reach the bottom of the part before: (first column, end column,
        // text), for the cells a page break cut.
        let mut open: Vec<(usize, usize, String)> = Vec::new();
        for (&g, map) in chain.iter().zip(&maps) {
            let grid = &grids[g];
            let keys = key(g, map);
            // Rows repeated from the table's head on a later page are left out, whole
            // cells only.
            let skip = if g == first {
                0
            } else {
                let mut k = 0;
                while k < keys.len()
                    && k < header.len()
                    && keys[k] == header[k]
                    && !keys[k].is_empty()
                {
                    k += 1;
                }
                while k > 0 && grid.cells.iter().any(|s| s.row < k && s.row + s.rows > k) {
                    k -= 1;
                }
                k
            };
            let nrows = grid.ys.len() - 1;
            let base = rows.len();
            rows.extend((skip..nrows).map(|_| Vec::new()));
            let mut reaching = Vec::new();
            for (ci, s) in grid.cells.iter().enumerate() {
                if s.row < skip {
                    continue;
                }
                let (col, end) = (map[s.col], map[s.col + s.cols]);
                let text = &texts[g][ci];
                // The rest of a label cell cut by the page break: covered, as in docx.
                let cut = if g != first && s.row == skip && text.is_empty() {
                    open.iter()
                        .find(|(c, e, t)| *c == col && *e == end && !t.is_empty() && !is_number(t))
                } else {
                    None
                };
                if s.row + s.rows == nrows {
                    let label = cut.map_or(text, |(_, _, t)| t);
                    reaching.push((col, end, label.clone()));
                }
                if cut.is_some() {
                    continue;
                }
                let r = base + s.row - skip;
                let at = SourceRef::PdfCell {
                    page: grid.page,
                    table: u32::try_from(t + 1).unwrap_or(u32::MAX),
                    row: u32::try_from(r + 1).unwrap_or(u32::MAX),
                    col: u32::try_from(col + 1).unwrap_or(u32::MAX),
                };
                places.push((
                    at,
                    [
                        grid.xs[s.col],
                        grid.ys[s.row],
                        grid.xs[s.col + s.cols],
                        grid.ys[s.row + s.rows],
                    ],
                ));
                rows[r].push(Cell {
                    text: text.clone(),
                    at,
                });
            }
            open = reaching;
        }
        for row in &mut rows {
            row.sort_by_key(|c| match c.at {
                SourceRef::PdfCell { col, .. } => col,
                _ => 0,
            });
        }
        tables.push(Filled {
            page: grids[first].page,
            top: grids[first].ys[0],
            rows,
            places,
        });
    }
    let mut keep = vec![false; words.len()];
    for i in rest_at {
        keep[i] = true;
    }
    let rest = words
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(w, _)| w)
        .collect();
    (tables, rest)
}

/// Whether a section heading (`四、…`) stands between grid `i` and the grid before it, on
/// either page: then the two are different tables, whatever their columns.
fn heading_between(grids: &[Grid], i: usize, words: &[Word], rest: &[usize]) -> bool {
    let (Some(a), Some(b)) = (i.checked_sub(1).map(|p| &grids[p]), grids.get(i)) else {
        return false;
    };
    let a_bottom = a.ys.last().copied().unwrap_or(0.0);
    let b_top = b.ys[0];
    rest.iter().map(|&w| &words[w]).any(|w| {
        let between = (w.page == a.page && w.top > a_bottom) || (w.page == b.page && w.top < b_top);
        between && super::is_section_heading(&w.text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::pdf_draw::segments_of_content;

    /// One page's content, drawn in y-from-the-top coordinates on an A4 page.
    fn page(n: u32, body: &str) -> (u32, String) {
        (n, format!("1 0 0 -1 0 842 cm {body}"))
    }

    fn segments(pages: &[(u32, String)]) -> Result<Vec<Segment>, TraceError> {
        let mut out = Vec::new();
        for (n, content) in pages {
            out.extend(segments_of_content(content.as_bytes(), *n, 842.0)?);
        }
        Ok(out)
    }

    fn doc(pages: &[(u32, String)]) -> Vec<(u32, String)> {
        pages.to_vec()
    }

    fn line(x0: f64, y0: f64, x1: f64, y1: f64) -> String {
        format!("0 G .5 w {x0} {y0} m {x1} {y1} l S\n")
    }

    /// A thin filled rectangle, as Word and Chromium draw a border.
    fn bar(x: f64, y: f64, w: f64, h: f64) -> String {
        format!(
            "0 0 0 rg {x} {y} m {} {y} l {} {} l {x} {} l h f\n",
            x + w,
            x + w,
            y + h,
            y + h
        )
    }

    /// A stroked rectangle (`re S`) in a matrix scaling by `s`.
    fn boxed(x: f64, y: f64, w: f64, h: f64, s: f64) -> String {
        let (x, y, w, h) = (x / s, y / s, w / s, h / s);
        format!(
            "q {s} 0 0 {s} 0 0 cm {} w {x} {y} {w} {h} re S Q\n",
            0.5 / s
        )
    }

    const XS: [f64; 4] = [50.0, 150.0, 250.0, 350.0];
    const YS: [f64; 4] = [100.0, 130.0, 160.0, 190.0];

    /// Every ruling of a 3 × 3 table, as lines or as bars, leaving out those `skip` names
    /// (horizontal?, index of the line, index of the cell side along it).
    fn table(bars: bool, skip: &[(bool, usize, usize)]) -> String {
        let mut out = String::new();
        for (i, &y) in YS.iter().enumerate() {
            for c in 0..3 {
                if !skip.contains(&(true, i, c)) {
                    out.push_str(&if bars {
                        bar(XS[c], y - 0.4, XS[c + 1] - XS[c], 0.8)
                    } else {
                        line(XS[c], y, XS[c + 1], y)
                    });
                }
            }
        }
        for (i, &x) in XS.iter().enumerate() {
            for r in 0..3 {
                if !skip.contains(&(false, i, r)) {
                    out.push_str(&if bars {
                        bar(x - 0.4, YS[r], 0.8, YS[r + 1] - YS[r])
                    } else {
                        line(x, YS[r], x, YS[r + 1])
                    });
                }
            }
        }
        out
    }

    fn grids_of(pages: &[(u32, String)]) -> Vec<Grid> {
        grids(&segments(pages).expect("segments"))
    }

    fn spans(g: &Grid) -> Vec<(usize, usize, usize, usize)> {
        g.cells
            .iter()
            .map(|s| (s.row, s.col, s.rows, s.cols))
            .collect()
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 0.5)
    }

    /// A table drawn as Chromium draws `border-collapse: separate`: every cell its own
    /// rectangle, 2.25 pt apart, inside a frame 2.25 pt out; the frame's top left out, as on
    /// the page a table continues on.
    fn separate(xs: &[(f64, f64)], ys: &[(f64, f64)]) -> String {
        let mut out = String::new();
        for &(y0, y1) in ys {
            for &(x0, x1) in xs {
                out.push_str(&boxed(x0, y0, x1 - x0, y1 - y0, 1.0));
            }
        }
        let (left, right) = (xs[0].0 - 2.25, xs[xs.len() - 1].1 + 2.25);
        let (top, bottom) = (ys[0].0 - 0.25, ys[ys.len() - 1].1 + 2.25);
        out.push_str(&line(left, top, left, bottom));
        out.push_str(&line(right, top, right, bottom));
        out.push_str(&line(left, bottom, right, bottom));
        out
    }

    #[test]
    fn two_tables_with_separate_cell_borders_on_one_page_are_both_found() {
        // The right edge of the first (395, frame 397.25) and two column lines of the
        // second (399.5, 401.75) are each 2.25 pt apart: snapped over the whole page they
        // chained into one line that fitted neither table (a Chromium file of the tests).
        let first = separate(
            &[(67.0, 165.0), (167.25, 395.0)],
            &[(30.0, 70.0), (72.25, 115.0)],
        );
        let second = separate(
            &[
                (67.0, 367.0),
                (369.25, 399.5),
                (401.75, 546.0),
                (548.25, 574.0),
            ],
            &[(410.0, 450.0), (452.25, 500.0), (502.25, 540.0)],
        );
        let g = grids_of(&doc(&[page(1, &format!("{first}{second}"))]));
        assert_eq!(g.len(), 2, "{g:?}");
        assert_eq!((g[0].xs.len(), g[0].cells.len()), (3, 4), "{:?}", g[0]);
        assert_eq!((g[1].xs.len(), g[1].cells.len()), (5, 12), "{:?}", g[1]);
    }

    #[test]
    fn rulings_drawn_as_lines_as_bars_and_as_rectangles_give_one_grid() {
        let boxes: String = (0..3)
            .flat_map(|r| (0..3).map(move |c| (r, c)))
            .map(|(r, c)| boxed(XS[c], YS[r], XS[c + 1] - XS[c], YS[r + 1] - YS[r], 0.75))
            .collect();
        for xml in [
            doc(&[page(1, &table(false, &[]))]),
            doc(&[page(1, &table(true, &[]))]),
            doc(&[page(1, &boxes)]),
        ] {
            let g = grids_of(&xml);
            assert_eq!(g.len(), 1, "{xml:?}");
            assert!(close(&g[0].xs, &XS) && close(&g[0].ys, &YS), "{g:?}");
            assert_eq!(g[0].cells.len(), 9);
            assert!(g[0].cells.iter().all(|s| s.rows == 1 && s.cols == 1));
        }
    }

    #[test]
    fn missing_inner_rulings_merge_cells_across_rows_and_columns() {
        // No line between columns 1 and 2 in row 0 (a header over two columns), none
        // between rows 1 and 2 in column 0 (a group label over two rows).
        let g = grids_of(&doc(&[page(
            1,
            &table(false, &[(false, 1, 0), (true, 2, 0)]),
        )]));
        assert_eq!(g.len(), 1);
        assert_eq!(
            spans(&g[0]),
            [
                (0, 0, 1, 2),
                (0, 2, 1, 1),
                (1, 0, 2, 1),
                (1, 1, 1, 1),
                (1, 2, 1, 1),
                (2, 1, 1, 1),
                (2, 2, 1, 1)
            ]
        );
    }

    #[test]
    fn a_table_without_its_whole_frame_or_with_a_ragged_merge_has_no_grid() {
        // The right side of the frame is missing in one row.
        assert!(grids_of(&doc(&[page(1, &table(false, &[(false, 3, 1)]))])).is_empty());
        // Rules only across (a table ruled by rows alone).
        let across: String = YS.iter().map(|&y| line(XS[0], y, XS[3], y)).collect();
        assert!(grids_of(&doc(&[page(1, &across)])).is_empty());
        // An L-shaped area: no rectangle of cells.
        let ragged = table(false, &[(false, 1, 0), (true, 1, 0)]);
        assert!(grids_of(&doc(&[page(1, &ragged)])).is_empty());
    }

    #[test]
    fn white_thick_and_curved_paths_are_no_rulings() {
        let xml = doc(&[page(
            1,
            &[
                "1 1 1 rg 0 0 100 1 re f\n",
                "0 g 0 G 6 w 0 5 m 100 5 l S\n",
                "1 w 0 9 m 1 1 2 2 100 9 c 200 9 l S\n",
                "0 0 0 0 k 0 20 100 1 re f\n",
                "/DeviceCMYK cs 0 0 0 0 sc 0 30 100 1 re f\n",
                "/GS0 gs 1 1 1 RG 0 40 m 100 40 l S 0 50 100 1 re n\n",
            ]
            .concat(),
        )]);
        assert_eq!(segments(&xml).expect("segments"), Vec::new());
    }

    fn word(page: u32, left: f64, top: f64, text: &str) -> Word {
        Word {
            page,
            left,
            top,
            width: 10.0 * text.chars().count() as f64,
            height: 10.0,
            text: text.to_string(),
        }
    }

    fn texts(t: &Filled) -> Vec<Vec<String>> {
        t.rows
            .iter()
            .map(|r| r.iter().map(|c| c.text.clone()).collect())
            .collect()
    }

    #[test]
    fn a_table_split_over_two_pages_is_one_table_its_repeated_header_once() {
        for repeated in [true, false] {
            let first = table(false, &[]);
            let xml = doc(&[page(1, &first), page(2, &first)]);
            let g = grids_of(&xml);
            assert_eq!(g.len(), 2);
            let mut words = vec![word(1, 40.0, 60.0, "表二")];
            let rows = [("列名", "甲", "乙"), ("规章", "1", "2"), ("文件", "3", "4")];
            for (r, row) in rows.iter().enumerate() {
                for (c, text) in [row.0, row.1, row.2].iter().enumerate() {
                    words.push(word(1, XS[c] + 5.0, YS[r] + 10.0, text));
                }
            }
            let next: Vec<(&str, &str, &str)> = if repeated {
                vec![("列名", "甲", "乙"), ("许可", "5", "6"), ("处罚", "7", "8")]
            } else {
                vec![("许可", "5", "6"), ("处罚", "7", "8"), ("强制", "9", "0")]
            };
            for (r, row) in next.iter().enumerate() {
                for (c, text) in [row.0, row.1, row.2].iter().enumerate() {
                    words.push(word(2, XS[c] + 5.0, YS[r] + 10.0, text));
                }
            }
            words.push(word(2, 40.0, 300.0, "四、政府信息公开行政复议"));
            let (tables, rest) = fill(&g, words);
            assert_eq!(tables.len(), 1, "repeated {repeated}");
            let mut expected = vec![
                vec!["列名", "甲", "乙"],
                vec!["规章", "1", "2"],
                vec!["文件", "3", "4"],
                vec!["许可", "5", "6"],
                vec!["处罚", "7", "8"],
            ];
            if !repeated {
                expected.push(vec!["强制", "9", "0"]);
            }
            assert_eq!(texts(&tables[0]), expected, "repeated {repeated}");
            assert!(matches!(
                tables[0].rows[4][0].at,
                SourceRef::PdfCell {
                    page: 2,
                    table: 1,
                    row: 5,
                    col: 1
                }
            ));
            let rest: Vec<&str> = rest.iter().map(|w| w.text.as_str()).collect();
            assert_eq!(rest, ["表二", "四、政府信息公开行政复议"]);
        }
    }

    #[test]
    fn a_heading_between_two_tables_keeps_them_apart() {
        let t = table(false, &[]);
        let g = grids_of(&doc(&[page(1, &t), page(2, &t)]));
        let words = vec![
            word(1, 60.0, 110.0, "甲"),
            word(2, 40.0, 60.0, "四、政府信息公开行政复议、行政诉讼情况"),
            word(2, 60.0, 110.0, "乙"),
        ];
        let (tables, _) = fill(&g, words);
        assert_eq!(tables.len(), 2);
    }

    #[test]
    fn a_cell_joins_its_lines_and_a_vertical_label_is_one_text() {
        let g = grids_of(&doc(&[page(
            1,
            &table(false, &[(true, 1, 0), (true, 2, 0)]),
        )]));
        let mut words = vec![
            // A label wrapped over three lines in cell (0, 1).
            word(1, 155.0, 101.0, "（二）部分"),
            word(1, 155.0, 112.0, "公开（区分"),
            word(1, 155.0, 121.0, "处理的）"),
        ];
        // A group label one character per line down column 0, over the three rows.
        for (i, ch) in "三、本年度办理结果".chars().enumerate() {
            words.push(word(1, 55.0, 101.0 + 9.5 * i as f64, &ch.to_string()));
        }
        words.push(word(1, 160.0, 140.0, "Total"));
        words.push(word(1, 225.0, 140.0, "12"));
        let (tables, rest) = fill(&g, words);
        assert!(rest.is_empty());
        let t = texts(&tables[0]);
        assert_eq!(t[0][0], "三、本年度办理结果");
        assert_eq!(t[0][1], "（二）部分公开（区分处理的）");
        assert_eq!(t[1][0], "Total 12");
    }

    #[test]
    fn hostile_content_is_refused_not_followed() {
        let deep = page(1, &"q ".repeat(MAX_DEPTH + 10));
        assert!(matches!(segments(&[deep]), Err(TraceError::TooDeep)));
        // A syntax error ends the page: what was drawn before it stays.
        let broken = page(
            1,
            &format!("{} ( 0 0 m 9 9 l S", line(0.0, 10.0, 100.0, 10.0)),
        );
        assert_eq!(segments(&[broken]).expect("broken").len(), 1);
        let many = doc(&[page(
            1,
            &line(0.0, 10.0, 100.0, 10.0).repeat(MAX_SEGMENTS + 1),
        )]);
        assert!(matches!(segments(&many), Err(TraceError::TooManySegments)));
        // One path of twenty thousand points is no border: dropped past its bound.
        let long = format!("1 w 0 0 m {} S", "0 5 l 5 5 l ".repeat(10_000));
        assert_eq!(segments(&doc(&[page(1, &long)])).expect("long"), Vec::new());
        // Operations past their bound give the grid up.
        let ops = page(1, &"n ".repeat(super::super::pdf_draw::MAX_OPS + 1));
        assert!(matches!(segments(&[ops]), Err(TraceError::TooManyOps)));
        // A page of thousands of crossing lines: no grid looked for, quickly.
        let crossing: String = (0..3000)
            .map(|i| line(0.0, f64::from(i) * 3.0, 500.0, f64::from(i) * 3.0))
            .chain((0..3000).map(|i| line(f64::from(i) * 3.0, 0.0, f64::from(i) * 3.0, 500.0)))
            .collect();
        assert!(grids_of(&doc(&[page(1, &crossing)])).is_empty());
    }
}
