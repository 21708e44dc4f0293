//! One daemon per `data_dir`. Two daemons on the same data folder both deliver the same
//! outbox, and every email goes out twice; so the daemon takes an exclusive `flock` on
//! `data_dir/nianbao.lock` before it touches anything, and keeps it until it exits (the
//! kernel drops it when the process dies, even by `kill -9`, so a crash never leaves a
//! stale lock behind). The file holds the holder's pid, for the message of the second one.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file's name under `data_dir`.
pub const LOCK_FILE: &str = "nianbao.lock";

/// Held for as long as the daemon runs; dropping it releases the lock.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock of `data_dir`, or says which process holds it.
    pub fn acquire(data_dir: &Path) -> anyhow::Result<DataDirLock> {
        let path: PathBuf = data_dir.join(LOCK_FILE);
        // Not truncated on open: the pid in it belongs to whoever holds the lock.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| anyhow::anyhow!("cannot open the lock file {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let who = if holder.is_empty() {
                    "another process".to_string()
                } else {
                    format!("another nianbao (pid {holder})")
                };
                anyhow::bail!(
                    "{who} is already running on the data folder {} (it holds {}); \
                     two daemons would send every email twice. Stop the other one first \
                     (`systemctl stop nianbao`, or `kill {holder}`), or give this one another data_dir",
                    data_dir.display(),
                    path.display()
                );
            }
            Err(TryLockError::Error(e)) => {
                anyhow::bail!("cannot lock {}: {e}", path.display());
            }
        }
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .map_err(|e| anyhow::anyhow!("cannot write the lock file {}: {e}", path.display()))?;
        Ok(DataDirLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_folder_is_refused_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        let err = DataDirLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        DataDirLock::acquire(dir.path()).unwrap();
    }
}
