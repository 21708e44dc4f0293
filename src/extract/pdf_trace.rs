//! The drawing of a PDF, traced by MuPDF (`mutool trace`), for the tables' grids
//! ([`super::pdf_grid`]), and the blocks of a PDF: tables read by their grid, the rest of
//! the words by the text-geometry reader ([`super::pdf`]), in page order.
//!
//! `mutool` runs fenced like `pdftotext` (see `subprocess`). It must seek in its input, so
//! the file is handed over as an in-memory file (`memfd`), never written to disk. Without
//! `mutool`, or when it fails, every table is read by text geometry as before; the JSON of
//! `check` says which reader read each table.

use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::Block;
use super::pdf::{Word, positioned_lines};
use super::pdf_grid;
use super::subprocess::{self, Limits};

const LIMITS: Limits = Limits {
    timeout: Duration::from_secs(30),
    max_output: 256 * 1024 * 1024,
    max_memory: 1024 * 1024 * 1024,
};

/// `mutool trace` of `bytes`, or `None` (logged) when it cannot be had.
pub(super) fn trace(bytes: &[u8]) -> Option<Vec<u8>> {
    static MISSING_LOGGED: AtomicBool = AtomicBool::new(false);
    let fd = match rustix::fs::memfd_create("nianbao-pdf", rustix::fs::MemfdFlags::CLOEXEC) {
        Ok(fd) => fd,
        Err(e) => {
            tracing::warn!("PDF grid: no in-memory file for mutool: {e}");
            return None;
        }
    };
    let mut file = std::fs::File::from(fd);
    if let Err(e) = file.write_all(bytes) {
        tracing::warn!("PDF grid: writing the in-memory file: {e}");
        return None;
    }
    let path = format!("/dev/fd/{}", file.as_raw_fd());
    match subprocess::run_passing_fd(
        "mutool",
        &["trace".as_ref(), OsStr::new(&path)],
        None,
        Some(file.as_raw_fd()),
        LIMITS,
    ) {
        Ok(out) => Some(out),
        Err(subprocess::RunError::NotFound(_)) => {
            if !MISSING_LOGGED.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "mutool (mupdf-tools) is not installed: PDF tables are read by text geometry only"
                );
            }
            None
        }
        Err(e) => {
            tracing::warn!("PDF grid: {e}; tables read by text geometry");
            None
        }
    }
}

/// The blocks of a PDF: tables read by their grid where `trace` draws one, every other
/// word by text geometry, in page order.
pub(super) fn blocks(trace: Option<&[u8]>, words: Vec<Word>) -> Vec<Block> {
    let trace = trace.map(String::from_utf8_lossy);
    let grids = match trace.as_deref().map(pdf_grid::segments) {
        Some(Ok(segments)) => pdf_grid::grids(&segments),
        Some(Err(e)) => {
            tracing::warn!("PDF grid given up: {e}; tables read by text geometry");
            Vec::new()
        }
        None => Vec::new(),
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

/// The blocks of a trace and the words of `pdftotext -tsv`, without running either
/// program: for the fuzzer.
pub fn blocks_of_trace(trace: &[u8], tsv: &str) -> Vec<Block> {
    blocks(Some(trace), super::pdf::words_of_tsv(tsv))
}
