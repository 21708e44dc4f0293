//! Control characters from outside (file names, addresses, server replies) made visible
//! before they reach a terminal or a log.
//!
//! A file named with ESC can recolour or rewrite the admin's terminal when `status` prints
//! it; a newline in a name splits one log record into lines that read like records of their
//! own. Both are shown escaped instead: ESC as `\x1b`, newline as `\n`.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

/// Names from the share are untrusted: no control characters (header injection), bounded
/// length.
pub fn clean(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cleaned.chars().take(200).collect()
}

/// `s` with every control character escaped (`\n`, `\r`, `\t`, `\x1b`, `\u{85}`); the
/// backslash itself is left as it is, so ordinary Windows-style text reads unchanged.
pub fn controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c.is_control() && (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if c.is_control() => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// A log writer that escapes control characters inside each record and keeps the record's
/// own final newline, so that every log line of every module is one line with no raw
/// control characters. tracing's fmt layer hands over one whole record per write.
pub struct EscapingWriter<W: io::Write>(pub W);

impl<W: io::Write> io::Write for EscapingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, end) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (text.as_ref(), ""),
        };
        let mut escaped = controls(body).into_owned();
        escaped.push_str(end);
        self.0.write_all(escaped.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// The stderr log writer for tracing's fmt layer.
pub fn stderr() -> EscapingWriter<io::Stderr> {
    EscapingWriter(io::stderr())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn controls_are_shown_escaped() {
        assert_eq!(controls("报告.docx"), "报告.docx");
        assert!(matches!(controls("plain"), Cow::Borrowed(_)));
        assert_eq!(
            controls("a\u{1b}[31mb\u{7}c\nd\re\u{85}"),
            "a\\x1b[31mb\\x07c\\nd\\re\\u{85}"
        );
    }

    #[test]
    fn a_record_stays_one_line() {
        let mut w = EscapingWriter(Vec::new());
        w.write_all(b"INFO file=\"x\ny\x1b\" checked\n").unwrap();
        let out = String::from_utf8(w.0).unwrap();
        assert_eq!(out, "INFO file=\"x\\ny\\x1b\" checked\n");
    }
}
