//! `[backup]` and `[retention]`: copies of the database, and how long originals are kept
//! (what is done with them: the `backup` and `retention` modules).

use std::path::PathBuf;

use serde::Deserialize;

/// `[backup]`: the daily backup (off without `dir`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// A folder for one backup a day, `nianbao-YYYY-MM-DD.sqlite` (China date); best on
    /// another disk than data_dir.
    pub dir: Option<PathBuf>,
    /// How many daily backups are kept (the oldest beyond are removed).
    pub keep: usize,
}

impl Default for BackupConfig {
    fn default() -> BackupConfig {
        BackupConfig { dir: None, keep: 7 }
    }
}

/// `[retention]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Keep the originals of this many report years, this season's included (0: keep all).
    pub archive_years: u32,
}
