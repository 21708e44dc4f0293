//! Delivery without a mail server: each message becomes an `.eml` file (RFC 5322, UTF-8,
//! RFC 2047 subject) under `data_dir/outbox/`, named by its idempotency key, so writing it
//! again after a crash replaces the same file instead of adding a second one.

use std::io::Write;
use std::path::{Path, PathBuf};

use lettre::Message;
use lettre::message::header::ContentType;

/// Builds the RFC 5322 bytes of a plain-text message.
pub fn build(from: &str, to: &str, subject: &str, body: &str) -> anyhow::Result<Vec<u8>> {
    let message = Message::builder()
        .from(from.parse()?)
        .to(to.parse()?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_string())?;
    Ok(message.formatted())
}

/// Writes one message atomically (temporary file, fsync, rename) and returns its path.
pub fn write(dir: &Path, key: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
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
    let path = dir.join(format!("{name}.eml"));
    let tmp = dir.join(format!(".{name}.eml.tmp"));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}
