//! Each configured agency's inbox folder, made at start and at every reload: the admin of
//! a district with 30 agencies should not have to run 30 `mkdir`s (issue 24).
//!
//! Made as the README's share set-up asks (mode 2770: the owner and the share's group read
//! and write, new entries take the folder's group), with the inbox's group. Nothing is
//! ever removed (an agency taken out of the configuration keeps its folder and its files),
//! and an entry already there under the name (a folder, a file, a link) is left as it is.

use std::path::Path;

use crate::config::Config;
use crate::safe_fs::Dir;

/// The mode of a new agency folder: `directory mask = 2770` of the share.
pub const AGENCY_FOLDER_MODE: u32 = 0o2770;

/// Creates the folders of configured agencies that have none; returns the folders made.
/// A failure is logged (the daemon goes on: a file dropped there later is found all the
/// same once the folder exists).
pub fn create_agency_folders(config: &Config) -> Vec<String> {
    let inbox = match Dir::open(&config.inbox) {
        Ok(dir) => dir,
        Err(e) => {
            tracing::warn!(inbox = %config.inbox.display(), error = %e, "cannot open the inbox to create the agencies' folders");
            return Vec::new();
        }
    };
    let mut made = Vec::new();
    for agency in &config.agencies {
        // `Config::check` allows only one plain name per agency; checked again here since
        // this writes.
        if Path::new(&agency.folder).components().count() != 1 || agency.folder.contains('/') {
            continue;
        }
        match inbox.create_folder(&agency.folder, AGENCY_FOLDER_MODE) {
            Ok(true) => made.push(agency.folder.clone()),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(folder = %agency.folder, error = %e, "cannot create the agency's folder in the inbox")
            }
        }
    }
    if !made.is_empty() {
        tracing::info!(folders = ?made, "created the configured agencies' folders in the inbox");
    }
    made
}
