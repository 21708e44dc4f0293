//! Digits read by their shapes, learnt from the same report.
//!
//! Tesseract's models read a line of digits well and a lone one badly: on a blurred photo a
//! clear `21` came back as `2` (the strip, confidence 76) and a clear `0` in a shaded scan
//! as `加`, `6` or nothing, whatever the page segmentation mode. But a report prints the
//! same digits in the same font dozens of times per page, and most of them are read
//! surely. Those cells teach the shape of each digit as printed and scanned in this report;
//! every number cell is then read glyph by glyph against them (`scan::read_by_shapes`). What
//! is read this way never makes a cell sure: it decides which reading the officer is shown
//! first, and makes a cell doubtful where it reads other digits.

use super::{Gray, INK};

/// Side of the square a glyph is scaled into, in cells.
const SIDE: usize = 20;

/// How alike two glyphs must be (see [`alike`]: 1 for the same digit printed twice, 0.9
/// for a 6 and an 8) to be the same digit, and how much nearer than any other digit the
/// best one must be.
const ALIKE: f64 = 0.85;
const MARGIN: f64 = 0.05;

/// A box of pixels: left, top, right, bottom (inclusive).
type PixelBox = (usize, usize, usize, usize);

/// At most this many samples are kept per digit: enough for the page's variation, few
/// enough that a cell is compared in microseconds.
const SAMPLES: usize = 24;

/// One glyph: its ink scaled so that its height fills the square (centred across), that ink
/// thickened by one cell (for [`alike`], made once), how many cells it inks, and its height
/// in pixels.
#[derive(Debug, Clone)]
pub(super) struct Glyph {
    bits: Vec<bool>,
    near: Vec<bool>,
    ink: usize,
    height: usize,
}

impl Glyph {
    fn new(bits: Vec<bool>, height: usize) -> Glyph {
        let mut near = bits.clone();
        for y in 0..SIDE {
            for x in 0..SIDE {
                if bits[y * SIDE + x] {
                    for (dx, dy) in [(1i64, 0i64), (-1, 0), (0, 1), (0, -1)] {
                        let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                        if (0..SIDE as i64).contains(&nx) && (0..SIDE as i64).contains(&ny) {
                            near[ny as usize * SIDE + nx as usize] = true;
                        }
                    }
                }
            }
        }
        let ink = bits.iter().filter(|&&v| v).count();
        Glyph {
            bits,
            near,
            ink,
            height,
        }
    }
}

/// The glyphs of the ink box `(x0, y0, x1, y1)` of `g`, left to right: the 8-connected
/// pieces of ink, pieces over one another joined (a digit broken by blur). `None` when the
/// box holds something else than a line of digits of one height (a decimal point, a
/// stroke of a ruling, print run over from a neighbour).
pub(super) fn glyphs(
    g: &Gray,
    (x0, y0, x1, y1): (usize, usize, usize, usize),
) -> Option<Vec<Glyph>> {
    if x1 < x0 || y1 < y0 || x1 >= g.w || y1 >= g.h {
        return None;
    }
    let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
    let ink = |x: usize, y: usize| g.at(x0 + x, y0 + y) < INK;
    let mut label = vec![0usize; w * h];
    // Per piece: left, top, right, bottom.
    let mut boxes: Vec<PixelBox> = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if label[start] != 0 || !ink(start % w, start / w) {
            continue;
        }
        boxes.push((usize::MAX, usize::MAX, 0, 0));
        let id = boxes.len();
        label[start] = id;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            let b = &mut boxes[id - 1];
            *b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
            for ny in y.saturating_sub(1)..(y + 2).min(h) {
                for nx in x.saturating_sub(1)..(x + 2).min(w) {
                    let j = ny * w + nx;
                    if label[j] == 0 && ink(nx, ny) {
                        label[j] = id;
                        stack.push(j);
                    }
                }
            }
        }
    }
    // Pieces over one another (a digit broken in two by blur) are one glyph.
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by_key(|&i| boxes[i].0);
    let mut merged: Vec<(PixelBox, Vec<usize>)> = Vec::new();
    for i in order {
        let b = boxes[i];
        if let Some((m, ids)) = merged.last_mut() {
            let common = m.2.min(b.2) as i64 - m.0.max(b.0) as i64 + 1;
            let narrower = (m.2 - m.0).min(b.2 - b.0) as i64 + 1;
            if common * 2 >= narrower {
                *m = (m.0.min(b.0), m.1.min(b.1), m.2.max(b.2), m.3.max(b.3));
                ids.push(i + 1);
                continue;
            }
        }
        merged.push((b, vec![i + 1]));
    }
    let tallest = merged.iter().map(|(b, _)| b.3 - b.1 + 1).max()?;
    if tallest < 8 {
        return None;
    }
    let mut out = Vec::new();
    for ((l, t, r, b), ids) in merged {
        let (gw, gh) = (r - l + 1, b - t + 1);
        // A digit is as tall as the others: a decimal point or a speck is not.
        if gh * 5 < tallest * 4 || gw > gh * 2 {
            return None;
        }
        let scale = SIDE as f64 / gh as f64;
        let sw = ((gw as f64 * scale).round() as usize).clamp(1, SIDE);
        let left = (SIDE - sw) / 2;
        let mut bits = vec![false; SIDE * SIDE];
        for sy in 0..SIDE {
            for sx in 0..sw {
                let x = l + ((sx as f64 + 0.5) / scale) as usize;
                let y = t + ((sy as f64 + 0.5) / scale) as usize;
                if x <= r && y <= b && ids.contains(&label[y * w + x]) {
                    bits[sy * SIDE + left + sx] = true;
                }
            }
        }
        out.push(Glyph::new(bits, gh));
    }
    Some(out)
}

/// Ink in common over ink in either, each glyph's ink against the other's thickened by one
/// cell, so that a stroke a cell thinner or shifted still meets its match.
fn alike(a: &Glyph, b: &Glyph) -> f64 {
    // Each glyph's own ink found in the other's thickened ink.
    let hit = |g: &Glyph, other: &Glyph| {
        g.bits
            .iter()
            .zip(&other.near)
            .filter(|(own, near)| **own && **near)
            .count()
    };
    let ink = a.ink + b.ink;
    if ink == 0 {
        return 0.0;
    }
    (hit(a, b) + hit(b, a)) as f64 / ink as f64
}

/// The digits of one report as its surely read cells print them.
#[derive(Debug, Default)]
pub(super) struct Shapes {
    samples: Vec<(char, Glyph)>,
}

impl Shapes {
    /// Learns the digits of a cell read surely as `text`, when its glyphs are one per
    /// digit.
    pub(super) fn learn(&mut self, found: &[Glyph], text: &str) {
        if text.is_empty()
            || !text.chars().all(|c| c.is_ascii_digit())
            || found.len() != text.chars().count()
        {
            return;
        }
        for (c, glyph) in text.chars().zip(found) {
            if self.samples.iter().filter(|(d, _)| *d == c).count() < SAMPLES {
                self.samples.push((c, glyph.clone()));
            }
        }
    }

    /// The digits of a cell's glyphs, when every glyph is of a height learnt and alike one
    /// digit clearly more than any other.
    pub(super) fn read(&self, found: &[Glyph]) -> Option<String> {
        let mut text = String::new();
        for glyph in found {
            let mut best = [0.0f64; 10];
            for (c, sample) in &self.samples {
                let h = sample.height as f64;
                if (glyph.height as f64 - h).abs() > h * 0.15 {
                    continue;
                }
                let d = c.to_digit(10)? as usize;
                best[d] = best[d].max(alike(glyph, sample));
            }
            let mut ranked: Vec<(usize, f64)> = best.iter().copied().enumerate().collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            let (digit, score) = ranked[0];
            if score < ALIKE || score - ranked[1].1 < MARGIN {
                return None;
            }
            text.push(char::from_digit(digit as u32, 10)?);
        }
        (!text.is_empty()).then_some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page with digits drawn as strokes: `0` a ring, `1` a bar with a foot, `7` a top
    /// bar and a diagonal, each 24 px high, 30 px apart, starting at `x`.
    fn page(digits: &str) -> (Gray, (usize, usize, usize, usize)) {
        let (w, h) = (40 + 30 * digits.len(), 60);
        let mut px = vec![255u8; w * h];
        let mut dot = |x: usize, y: usize| px[y * w + x] = 0;
        for (i, c) in digits.chars().enumerate() {
            let x0 = 20 + 30 * i;
            let y0 = 18;
            for t in 0..3 {
                match c {
                    '0' => {
                        for y in y0..y0 + 24 {
                            dot(x0 + t, y);
                            dot(x0 + 15 + t, y);
                        }
                        for x in x0..x0 + 18 {
                            dot(x, y0 + t);
                            dot(x, y0 + 21 + t);
                        }
                    }
                    '1' => {
                        for y in y0..y0 + 24 {
                            dot(x0 + 7 + t, y);
                        }
                        for x in x0 + 2..x0 + 16 {
                            dot(x, y0 + 21 + t);
                        }
                    }
                    _ => {
                        for x in x0..x0 + 18 {
                            dot(x, y0 + t);
                        }
                        for y in y0..y0 + 24 {
                            dot(x0 + 15 - (y - y0) * 12 / 24 + t, y);
                        }
                    }
                }
            }
        }
        let ink = (15, 12, w - 15, 48);
        (Gray { w, h, px }, ink)
    }

    #[test]
    fn digits_learnt_from_sure_cells_read_an_open_one() {
        let mut shapes = Shapes::default();
        let (g, ink) = page("107");
        shapes.learn(&glyphs(&g, ink).expect("glyphs"), "107");
        let (g, ink) = page("7001");
        assert_eq!(
            shapes.read(&glyphs(&g, ink).expect("glyphs")).as_deref(),
            Some("7001")
        );
    }

    #[test]
    fn a_digit_never_learnt_or_a_cell_of_other_shapes_is_not_read() {
        let mut shapes = Shapes::default();
        let (g, ink) = page("11");
        shapes.learn(&glyphs(&g, ink).expect("glyphs"), "11");
        // No 0 was learnt: a ring is not taken for the nearest digit known.
        let (g, ink) = page("10");
        assert_eq!(shapes.read(&glyphs(&g, ink).expect("glyphs")), None);
        // A learning whose glyphs do not match its text in number teaches nothing.
        let mut other = Shapes::default();
        other.learn(&glyphs(&g, ink).expect("glyphs"), "1");
        assert!(other.samples.is_empty());
        // A point among digits (a decimal) is not a line of digits of one height.
        let (mut g, ink) = page("10");
        for y in 38..42 {
            for x in 44..48 {
                g.px[y * g.w + x] = 0;
            }
        }
        assert!(glyphs(&g, ink).is_none());
        // A digit a sixth taller than those learnt is of other print.
        let mut tall = Shapes::default();
        let (g, ink) = page("1");
        tall.learn(&glyphs(&g, ink).expect("glyphs"), "1");
        let mut big = glyphs(&g, ink).expect("glyphs");
        big[0].height = big[0].height * 7 / 6;
        assert_eq!(tall.read(&big), None);
        big[0].height = glyphs(&g, ink).expect("glyphs")[0].height;
        assert_eq!(tall.read(&big).as_deref(), Some("1"));
    }
}
