//! The template's printed labels are written in one place, `report/schema.rs`: every other
//! file of the checker and of the daemon takes them from there (issue 27). This test collects
//! the printed row and column labels from the schema's own data and fails when one of them is
//! written by hand in a string literal elsewhere: a literal that is the label, or that names
//! it the way messages do, in the template's quotes (`表二“（七）总计”行`, `“行政复议—总计”`).
//! A label merely used as a word of a sentence (`无权制定规章`) is not its name.
//!
//! Not searched: `report/schema.rs`; test code (files named `tests.rs`, and what follows a
//! `#[cfg(test)]` line); comments; and the rule catalogue's prose (the `what:` and `why:` of
//! a `Rule`), which are `&'static str` documentation read as a whole (`nianbao rules`, the
//! README's rule table) rather than messages built from the template.

use std::path::{Path, PathBuf};

use nianbao_check::report::schema::{
    APP_COLUMNS, APP_ROWS, T1_2019, T1_2021, T1_HEADERS_2019, T1_HEADERS_2021, T3_COLUMNS,
    T3_GROUPS,
};

/// Labels that are also ordinary words of the messages and the reader, so that a literal
/// holding them is no sign of a hand-written label. Keep this short.
const ORDINARY: &[&str] = &[
    // Table 2's and table 3's last column, and every total a message speaks of (`的总计`).
    "总计",
    // Table 2's 法人或其他组织·其他 column: also the word "other" of many a sentence.
    "其他",
    // Table 3's first group, and the name of the procedure itself: the narrative's claims
    // and phrases (`未发生行政复议`) speak of the procedure, not of the table's row.
    "行政复议",
];

/// Every printed row and column label of the template, from the schema.
fn labels() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for row in &APP_ROWS {
        out.push(row.printed);
        out.extend(row.group);
    }
    for (_, printed, with_group) in &APP_COLUMNS {
        out.extend([*printed, *with_group]);
    }
    for row in T1_2021.iter().chain(&T1_2019) {
        out.push(row.label.printed);
        out.extend(row.columns.iter().map(|c| c.printed));
    }
    out.extend(
        T1_HEADERS_2021
            .iter()
            .chain(&T1_HEADERS_2019)
            .map(|l| l.printed),
    );
    out.extend(
        T3_GROUPS
            .iter()
            .chain(&T3_COLUMNS)
            .map(|(_, printed)| *printed),
    );
    out.retain(|l| cjk(l) >= 2 && !ORDINARY.contains(l));
    out.sort_unstable();
    out.dedup();
    out
}

fn cjk(s: &str) -> usize {
    s.chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count()
}

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A string literal of a source file: its 1-based line, its text (escapes as written), and
/// the field it is the value of (`what` in `what: "…"`), if any.
struct Literal {
    line: usize,
    text: String,
    field: Option<String>,
}

/// The string literals of Rust source `src` (plain, raw and byte strings; comments and
/// character literals skipped).
fn literals(src: &str) -> Vec<Literal> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |i: usize, s: &str| {
        s.chars()
            .enumerate()
            .all(|(k, c)| chars.get(i + k) == Some(&c))
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if at(i, "//") {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if at(i, "/*") {
            let mut depth = 0;
            while i < chars.len() {
                if at(i, "/*") {
                    depth += 1;
                    i += 2;
                } else if at(i, "*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if c == '\'' {
            // A character literal ('"', '\'', '\u{4e00}'), or a lifetime.
            if chars.get(i + 1) == Some(&'\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if c == '"' || ((c == 'r' || c == 'b') && starts_raw_or_byte(&chars, i)) {
            let previous = chars[..i].last().copied().unwrap_or(' ');
            if c != '"' && (previous.is_alphanumeric() || previous == '_') {
                i += 1;
                continue;
            }
            let field = field_before(&chars[..i]);
            let start_line = line;
            let mut j = i;
            if chars[j] == 'b' {
                j += 1;
            }
            let mut text = String::new();
            if chars[j] == 'r' {
                j += 1;
                let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
                j += hashes + 1;
                let close: String = std::iter::once('"')
                    .chain("#".repeat(hashes).chars())
                    .collect();
                while j < chars.len() && !at(j, &close) {
                    text.push(chars[j]);
                    j += 1;
                }
                j += close.chars().count();
            } else {
                j += 1;
                while j < chars.len() && chars[j] != '"' {
                    if chars[j] == '\\' {
                        text.push(chars[j]);
                        j += 1;
                    }
                    text.push(chars[j]);
                    j += 1;
                }
                j += 1;
            }
            line += text.matches('\n').count();
            out.push(Literal {
                line: start_line,
                text,
                field,
            });
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// Whether `r"`, `r#"`, `b"`, `br"` or `br#"` starts at `i`.
fn starts_raw_or_byte(chars: &[char], i: usize) -> bool {
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) == Some(&'r') {
        j += 1;
        while chars.get(j) == Some(&'#') {
            j += 1;
        }
    }
    j > i && chars.get(j) == Some(&'"')
}

/// The field a literal starting after `before` is the value of: `what` for `what: "…"`.
fn field_before(before: &[char]) -> Option<String> {
    let rest: String = before
        .iter()
        .rev()
        .skip_while(|c| c.is_whitespace())
        .collect();
    let rest = rest.strip_prefix(':')?;
    let name: String = rest
        .chars()
        .skip_while(|c| c.is_whitespace())
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then(|| name.chars().rev().collect())
}

/// Whether `literal` is `label` or names it in the template's quotes.
fn names(literal: &str, label: &str) -> bool {
    literal == label
        || literal.contains(&format!("“{label}"))
        || literal.contains(&format!("{label}”"))
}

#[test]
fn printed_labels_are_only_written_in_the_schema() {
    let labels = labels();
    assert!(labels.len() > 50, "the schema's labels: {labels:?}");
    let checker = Path::new(env!("CARGO_MANIFEST_DIR"))
        .canonicalize()
        .unwrap();
    let daemon = checker.join("../..").canonicalize().unwrap();
    let mut files = Vec::new();
    rust_files(&checker.join("src"), &mut files);
    rust_files(&daemon.join("src"), &mut files);
    assert!(files.len() > 50, "{} files", files.len());
    let schema = checker.join("src/report/schema.rs");
    let mut offenders = Vec::new();
    for file in &files {
        if *file == schema || file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let src = std::fs::read_to_string(file).unwrap();
        // Test code starts at the first `#[cfg(test)]` line.
        let end = src
            .lines()
            .scan(0, |offset, l| {
                let start = *offset;
                *offset += l.len() + 1;
                Some((start, l))
            })
            .find(|(_, l)| l.trim() == "#[cfg(test)]")
            .map_or(src.len(), |(start, _)| start);
        for literal in literals(&src[..end]) {
            if matches!(literal.field.as_deref(), Some("what" | "why")) {
                continue;
            }
            for label in labels.iter().filter(|l| names(&literal.text, l)) {
                let shown = file.strip_prefix(&daemon).unwrap_or(file);
                offenders.push(format!(
                    "{}:{}: “{label}” (take it from report::schema)",
                    shown.display(),
                    literal.line
                ));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "printed labels of the template written by hand:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_literal_reader_finds_what_it_should() {
    let src = "let a = '\"'; // \"（七）总计\"\nlet b = r#\"表二“（七）总计”行\"#;\n/* \"x\" */ let c = \"y\\\"z\";\nRule { what: \"规章\" }";
    let found: Vec<(usize, String, Option<String>)> = literals(src)
        .into_iter()
        .map(|l| (l.line, l.text, l.field))
        .collect();
    assert_eq!(
        found,
        [
            (2, "表二“（七）总计”行".to_string(), None),
            (3, "y\\\"z".to_string(), None),
            (4, "规章".to_string(), Some("what".to_string())),
        ]
    );
    assert!(names("表二“（七）总计”行", "（七）总计"));
    assert!(names("规章", "规章"));
    assert!(!names("无权制定规章", "规章"));
}
