//! The report files below a folder, found the way the daemon sees an inbox. Shared by
//! `nianbao check DIR` and `nianbao import DIR` so that both skip the same things.

use std::path::{Path, PathBuf};

/// Files named in `paths`, and every file below a folder named there, sorted by path.
/// Links inside a folder are not followed (a link to `/` must not walk the disk); names the
/// daemon ignores (temporary, hidden, lock files) and `回执` folders are skipped. A path that
/// is not a folder is kept as given, so that a missing file is reported by the caller.
pub fn report_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => walk(path, &mut out)
                .map_err(|e| format!("{}: cannot read the folder: {e}", path.display()))?,
            // Files, and paths that fail (reported per file as unreadable).
            _ => out.push(path.clone()),
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if crate::watch::is_ignored_name(&name) || name == "回执" {
            continue;
        }
        // `file_type` does not follow links: a link is neither a folder nor a file here.
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), out)?;
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_sorted_skipping_links_receipts_and_temporary_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/回执")).expect("mkdir");
        std::fs::create_dir_all(root.join("a")).expect("mkdir");
        std::fs::write(root.join("b/2.txt"), "x").expect("write");
        std::fs::write(root.join("b/回执/r.txt"), "x").expect("write");
        std::fs::write(root.join("a/1.txt"), "x").expect("write");
        std::fs::write(root.join("a/~$1.docx"), "x").expect("write");
        std::os::unix::fs::symlink("/etc", root.join("a/etc")).expect("symlink");
        let files = report_files(&[root.to_path_buf()]).expect("walk");
        assert_eq!(files, vec![root.join("a/1.txt"), root.join("b/2.txt")]);
    }
}
