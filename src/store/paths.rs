//! Where the daemon keeps things under `data_dir`: the database, the archive of originals,
//! the `.eml` spool.

use std::path::{Path, PathBuf};

/// Where the daemon keeps things under `data_dir`.
pub struct Paths {
    pub db: PathBuf,
    pub archive: PathBuf,
    pub outbox: PathBuf,
}

impl Paths {
    pub fn new(data_dir: &Path) -> Paths {
        Paths {
            db: data_dir.join(super::DB_FILE),
            archive: data_dir.join("archive"),
            outbox: data_dir.join("outbox"),
        }
    }

    /// The archived original of a submission.
    pub fn archived(&self, sha256: &str) -> PathBuf {
        self.archive
            .join(sha256.get(..2).unwrap_or("xx"))
            .join(sha256)
    }
}
