//! Delivery without a mail server: each message becomes an `.eml` file (RFC 5322, UTF-8,
//! RFC 2047 subject) under `data_dir/outbox/`, named by its idempotency key, so writing it
//! again after a crash replaces the same file instead of adding a second one.

use std::path::{Path, PathBuf};

use crate::safe_fs::Dir;

/// Longest file name kept whole; a longer one is cut and made unique again by a hash of the
/// whole key (file names may not exceed 255 bytes, and keys carry the agency's file name).
const MAX_NAME: usize = 200;

/// The file name of a message's idempotency key.
fn file_name(key: &str) -> String {
    let name: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.len() <= MAX_NAME {
        return name;
    }
    let hash = crate::check::sha256_hex(key.as_bytes());
    // ASCII only: any byte is a character boundary.
    format!("{}-{}", &name[..MAX_NAME - 17], &hash[..16])
}

/// Writes `bytes` atomically as `dir/<name>` (see `Dir::write_atomic`), creating `dir`; the
/// file is exactly 0640 whatever the umask (a message holds a report's findings and the
/// agency's addresses).
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    Dir::open(dir)?.write_atomic_exact(name, bytes, crate::store::PRIVATE_MODE)?;
    Ok(dir.join(name))
}

/// Writes one message as `<key>.eml`.
pub fn write(dir: &Path, key: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    write_atomic(dir, &format!("{}.eml", file_name(key)), bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_keys_make_distinct_names_that_fit() {
        let long = "a".repeat(300);
        let a = file_name(&format!("NB-1/receipt/{long}1"));
        let b = file_name(&format!("NB-1/receipt/{long}2"));
        assert_ne!(a, b);
        assert!(a.len() + ".eml".len() <= 255);
        assert_eq!(
            file_name("NB-2023-000001/feedback/a@b.cn"),
            "NB-2023-000001_feedback_a_b.cn"
        );
    }
}
