//! Whether the data disk can take another file: `/readyz` is not ready when the archive or
//! the database could not be written (a full disk, no inode left), before ingest fails on
//! ENOSPC.

use std::path::Path;

/// Room kept beyond the largest file allowed: the database's own growth (a batch of
/// records, findings, messages) and its WAL.
const MARGIN: u64 = 1024 * 1024;

/// Why `dirs` (data_dir and its archive) cannot take a file of `largest` bytes, if they
/// cannot: less free space than the file and [`MARGIN`], or no inode left. Counts what an
/// unprivileged user may use (`f_bavail`). A folder that cannot be asked is not a problem
/// here (the write probe and ingest report their own errors).
pub fn problem(dirs: &[&Path], largest: u64) -> Option<String> {
    let need = largest.saturating_add(MARGIN);
    for dir in dirs {
        let Ok(st) = rustix::fs::statvfs(*dir) else {
            continue;
        };
        let free = st.f_bavail.saturating_mul(st.f_frsize);
        if free < need {
            return Some(format!(
                "the data disk is full: {} has {} KiB free, less than a file of max_file_mb \
                 and {} KiB for the database; the archive and the database cannot be written \
                 (free space there)",
                dir.display(),
                free / 1024,
                MARGIN / 1024
            ));
        }
        if st.f_files > 0 && st.f_favail == 0 {
            return Some(format!(
                "the data disk is full: {} has no inode left; the archive cannot take a file",
                dir.display()
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disk_with_room_is_fine_and_an_impossible_need_is_full() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(problem(&[dir.path()], 0), None);
        let p = problem(&[dir.path()], u64::MAX).expect("no disk has that much room");
        assert!(p.contains("full"), "{p}");
    }
}
