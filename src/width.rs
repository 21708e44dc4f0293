//! Text in terminal columns: CJK characters take two, so padding by `char` count misaligns
//! every table with Chinese labels. Used by `check --show`, `compare` and the summaries.

/// Columns in a terminal.
pub fn display_width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// `s` followed by spaces up to `width` terminal columns (labels).
pub fn pad_right(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(display_width(s))))
}

/// `s` preceded by spaces up to `width` terminal columns (numbers).
pub fn pad_left(s: &str, width: usize) -> String {
    format!("{}{s}", " ".repeat(width.saturating_sub(display_width(s))))
}

/// One line of a table of numbers: each cell right-aligned to its column's width, joined by
/// `separator`.
pub fn right_aligned(cells: &[&str], widths: &[usize], separator: &str) -> String {
    cells
        .iter()
        .zip(widths)
        .map(|(c, &w)| pad_left(c, w))
        .collect::<Vec<_>>()
        .join(separator)
}

/// `s` cut to at most `width` columns, with `…` where it was cut.
pub fn truncate(s: &str, width: usize) -> String {
    if display_width(s) <= width {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        if display_width(&out) + unicode_width::UnicodeWidthChar::width(c).unwrap_or(0) + 1 > width
        {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_counts_cjk_as_two_columns() {
        assert_eq!(pad_right("表二", 6), "表二  ");
        assert_eq!(pad_left("12", 4), "  12");
        assert_eq!(display_width(&pad_right("自然人", 10)), 10);
        assert_eq!(truncate("（二）部分公开", 9), "（二）部…");
        assert_eq!(truncate("自然人", 6), "自然人");
    }
}
