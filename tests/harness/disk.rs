//! A small data disk for the tests: a tmpfs mounted (as root) and filled to the last byte.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Unmounts the tmpfs when the test ends, however it ends.
pub struct Unmount(pub PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Mounts a tmpfs of `size` (e.g. `"8m"`) on `dir`; `None` (the test is skipped, and says
/// so) without root or when mounting fails.
pub fn small_disk(dir: &Path, size: &str) -> Option<Unmount> {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return None;
    }
    std::fs::create_dir_all(dir).expect("mkdir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .status();
    if !mounted.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot mount a tmpfs here (no CAP_SYS_ADMIN?)");
        return None;
    }
    Some(Unmount(dir.to_path_buf()))
}

/// Fills the file system of `path` with a file of zeros until it is full.
pub fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let small = [0u8; 512];
    while f.write_all(&small).is_ok() {}
    let _ = f.sync_all();
}
