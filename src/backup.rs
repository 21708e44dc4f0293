//! Backups of the database (issue 23): `nianbao db backup FILE` and the daily backup into
//! `[backup] dir`, both through SQLite's online backup API (a consistent copy while the
//! daemon writes: a `cp` of a WAL database during a burst can be damaged), each copy
//! checked with `PRAGMA integrity_check` before it takes its name; and `nianbao db restore
//! FILE`, refused while a daemon holds the data folder.
//!
//! What to back up is the database and the archive (`data_dir/archive`: the originals, by
//! sha256, never rewritten: copy it with `rsync` or any file backup). The outbox spool and
//! the lock file need no backup.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use rusqlite::{Connection, OpenFlags};

pub use crate::config::BackupConfig;
use crate::store::PRIVATE_MODE;

/// Copies the database `db` to `dest` with the online backup API in one step (a read
/// transaction: a consistent snapshot, which writers in WAL mode do not wait for), then
/// checks the copy; only a sound copy is renamed to `dest` (0640, flushed). Returns the
/// copy's size in bytes.
pub fn backup(db: &Path, dest: &Path) -> anyhow::Result<u64> {
    let src = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open the database {}", db.display()))?;
    src.busy_timeout(Duration::from_secs(10))?;
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .with_context(|| format!("{}: not a file name", dest.display()))?;
    let tmp = dir.join(format!(
        ".{}.nb-backup-{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    let made = copy_checked(&src, &tmp);
    if made.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    let size = made?;
    std::fs::rename(&tmp, dest)
        .with_context(|| format!("cannot rename the backup to {}", dest.display()))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(size)
}

fn copy_checked(src: &Connection, tmp: &Path) -> anyhow::Result<u64> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_MODE)
        .custom_flags(libc::O_NOFOLLOW)
        .open(tmp)
        .with_context(|| format!("cannot create {}", tmp.display()))?;
    file.set_permissions(std::fs::Permissions::from_mode(PRIVATE_MODE))?;
    drop(file);
    {
        let mut dst = Connection::open(tmp)?;
        let backup = rusqlite::backup::Backup::new(src, &mut dst)?;
        // All pages in one step: one read transaction, so the copy is one snapshot and is
        // never restarted by the daemon's writes.
        loop {
            match backup.step(-1)? {
                rusqlite::backup::StepResult::Done => break,
                rusqlite::backup::StepResult::More => {}
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        drop(backup);
        // The copy carries the source's WAL mode: one self-contained file instead (the
        // daemon turns WAL on again when it opens a restored copy).
        let _: String = dst.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    }
    if let Some(problem) = integrity(tmp)? {
        bail!("the copy is not sound ({problem}); the backup was not kept");
    }
    let file = std::fs::File::open(tmp)?;
    file.sync_all()?;
    Ok(file.metadata()?.len())
}

/// `PRAGMA integrity_check` of the database file `path`: `None` when sound.
pub fn integrity(path: &Path) -> anyhow::Result<Option<String>> {
    let c = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let rows: Vec<String> = c
        .prepare("PRAGMA integrity_check(20)")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok((rows != ["ok"]).then(|| rows.join("; ")))
}

/// Replaces the database of `data_dir` by the backup `file`, while holding the data
/// folder's lock (so it is refused while a daemon runs, and no daemon starts meanwhile).
/// The backup must be sound; the database it replaces is kept beside it as
/// `nianbao.sqlite.before-restore-<UTC time>`. Returns that name, if there was one.
pub fn restore(data_dir: &Path, file: &Path) -> anyhow::Result<Option<PathBuf>> {
    let _lock = crate::store::lock::DataDirLock::acquire(data_dir).map_err(|e| {
        anyhow::anyhow!(
            "守护进程正在运行，不能恢复：请先停止服务（systemctl stop nianbao）再恢复。/ \
             the daemon is running: {e:#}"
        )
    })?;
    if let Some(problem) = integrity(file)? {
        bail!(
            "备份文件 {} 已损坏（{problem}），未恢复 / the backup is damaged",
            file.display()
        );
    }
    let db = data_dir.join(crate::store::DB_FILE);
    let tmp = data_dir.join(format!(
        ".nianbao.sqlite.nb-restore-{}.tmp",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    let src = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let copied = copy_checked(&src, &tmp);
    drop(src);
    if copied.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    copied?;
    let mut kept = None;
    if db.exists() {
        // Opened and closed once: a WAL left by a crash is folded into the file it belongs
        // to before that file is set aside (never applied to the restored one).
        if let Ok(c) = Connection::open(&db) {
            let _ = c.pragma_update(None, "wal_checkpoint", "TRUNCATE");
        }
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string();
        let aside = data_dir.join(format!("{}.before-restore-{stamp}", crate::store::DB_FILE));
        std::fs::rename(&db, &aside)
            .with_context(|| format!("cannot set {} aside", db.display()))?;
        kept = Some(aside);
    }
    for suffix in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
    std::fs::rename(&tmp, &db).with_context(|| format!("cannot write {}", db.display()))?;
    if let Ok(d) = std::fs::File::open(data_dir) {
        let _ = d.sync_all();
    }
    Ok(kept)
}

/// The daily backup's file name for a China date.
fn daily_name(date: jiff::civil::Date) -> String {
    format!("nianbao-{date}.sqlite")
}

/// Whether `name` is a daily backup's (`nianbao-YYYY-MM-DD.sqlite`).
fn is_daily(name: &str) -> bool {
    name.strip_prefix("nianbao-")
        .and_then(|n| n.strip_suffix(".sqlite"))
        .is_some_and(|d| d.parse::<jiff::civil::Date>().is_ok())
}

/// Today's backup into `config.dir` unless it is there, then the rotation: the newest
/// `keep` daily backups stay. Returns what it did, for the log (nothing when off).
pub fn daily(db: &Path, config: &BackupConfig) -> anyhow::Result<Option<String>> {
    let Some(dir) = &config.dir else {
        return Ok(None);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let today = dir.join(daily_name(crate::time::china_now().date()));
    let mut done = None;
    if !today.exists() {
        let size = backup(db, &today)?;
        done = Some(format!("backup {} ({size} bytes)", today.display()));
    }
    let mut dailies: Vec<String> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| is_daily(n))
        .collect();
    dailies.sort();
    let surplus = dailies.len().saturating_sub(config.keep.max(1));
    for old in &dailies[..surplus] {
        std::fs::remove_file(dir.join(old))
            .with_context(|| format!("cannot remove the old backup {old}"))?;
        tracing::info!(file = %old, "old daily backup removed (keep = {})", config.keep);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_names() {
        let d: jiff::civil::Date = "2026-01-05".parse().expect("date");
        assert_eq!(daily_name(d), "nianbao-2026-01-05.sqlite");
        assert!(is_daily("nianbao-2026-01-05.sqlite"));
        assert!(!is_daily("nianbao-2026-13-05.sqlite"));
        assert!(!is_daily("nianbao.sqlite"));
    }
}
