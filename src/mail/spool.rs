//! Delivery without a mail server: each message becomes an `.eml` file (RFC 5322, UTF-8,
//! RFC 2047 subject) under `data_dir/outbox/`, named by its idempotency key, so writing it
//! again after a crash replaces the same file instead of adding a second one.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The file name of a message's idempotency key.
fn file_name(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes `bytes` atomically (temporary file, fsync, rename) as `dir/<name>`.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// Writes one message as `<key>.eml`.
pub fn write(dir: &Path, key: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    write_atomic(dir, &format!("{}.eml", file_name(key)), bytes)
}
