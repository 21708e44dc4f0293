//! File operations inside folders that someone else controls.
//!
//! Every agency can create, rename and replace anything in its own inbox folder, symbolic
//! links included, at any moment. A path like `inbox/xss/回执/a.txt` is resolved again by the
//! kernel on every call, so checking it first and then using it is a race the agency can
//! win. Here a path is walked once, one component at a time, each opened relative to the
//! folder before it with `O_NOFOLLOW` (`O_DIRECTORY` for folders), and everything after
//! that happens through the opened folder's descriptor (`openat`, `renameat`, `unlinkat`,
//! `fstatat` without following links): a link planted anywhere is refused, never followed.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::{Component, Path};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;

use crate::watch::FileIdentity;

/// An open folder; every name given to its methods is one entry directly inside it.
pub struct Dir {
    fd: OwnedFd,
}

/// Why a folder could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// A component exists but is not a real folder: a symbolic link, a file, a device.
    /// It is never followed or written through; `identity` tells one such entry from the
    /// next (for a notice given once per entry).
    #[error("{path} is a {what}, not a folder; it is never followed or written through")]
    NotAFolder {
        path: String,
        what: &'static str,
        identity: FileIdentity,
    },
    #[error("cannot open the folder {path}: {source}")]
    Io { path: String, source: io::Error },
}

impl Dir {
    /// Opens a folder given by the administrator (the configured inbox, `data_dir`):
    /// links in that path are the administrator's choice and are followed.
    pub fn open(path: &Path) -> io::Result<Dir> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Dir { fd })
    }

    /// Opens `rel` below this folder one component at a time, none of which may be a link
    /// or anything but a folder. With `create`, missing components are made (mode 0777
    /// less the umask, like `mkdir -p`).
    pub fn open_below(&self, rel: &Path, create: bool) -> Result<Dir, DirError> {
        let mut walked = String::new();
        let mut current: Option<Dir> = None;
        for part in rel.components() {
            let Component::Normal(name) = part else {
                return Err(DirError::Io {
                    path: rel.display().to_string(),
                    source: io::Error::new(io::ErrorKind::InvalidInput, "not a plain path"),
                });
            };
            if !walked.is_empty() {
                walked.push('/');
            }
            walked.push_str(&name.to_string_lossy());
            let parent = current.as_ref().unwrap_or(self);
            let io_error = |e: Errno| DirError::Io {
                path: walked.clone(),
                source: e.into(),
            };
            let next = match parent.open_dir(name) {
                Err(Errno::NOENT) if create => {
                    match rustix::fs::mkdirat(&parent.fd, name, Mode::from_raw_mode(0o777)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(io_error(e)),
                    }
                    parent.open_dir(name)
                }
                other => other,
            };
            let next = match next {
                Ok(dir) => dir,
                // O_NOFOLLOW on a link gives ELOOP, O_DIRECTORY on anything else ENOTDIR.
                Err(e @ (Errno::LOOP | Errno::NOTDIR)) => {
                    return Err(match parent.stat(name) {
                        Ok(Some(st)) => DirError::NotAFolder {
                            path: walked.clone(),
                            what: kind_name(&st),
                            identity: identity(&st),
                        },
                        _ => io_error(e),
                    });
                }
                Err(e) => return Err(io_error(e)),
            };
            current = Some(next);
        }
        Ok(match current {
            Some(dir) => dir,
            None => Dir {
                fd: self.fd.try_clone().map_err(|source| DirError::Io {
                    path: ".".into(),
                    source,
                })?,
            },
        })
    }

    fn open_dir(&self, name: impl rustix::path::Arg) -> rustix::io::Result<Dir> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Dir { fd })
    }

    /// Opens an entry for reading without following a link. `O_NONBLOCK` so that a FIFO
    /// swapped in for a file cannot make the open wait forever; the caller checks the
    /// descriptor's `fstat` for a regular file.
    pub fn open_read(&self, name: impl rustix::path::Arg) -> io::Result<File> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(File::from(fd))
    }

    /// The entry itself (`fstatat` with `AT_SYMLINK_NOFOLLOW`); `None` when there is none.
    pub fn stat(&self, name: impl rustix::path::Arg) -> rustix::io::Result<Option<Stat>> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(st)),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Renames an entry within this folder, replacing what is at `to`.
    pub fn rename(
        &self,
        from: impl rustix::path::Arg,
        to: impl rustix::path::Arg,
    ) -> io::Result<()> {
        Ok(rustix::fs::renameat(&self.fd, from, &self.fd, to)?)
    }

    /// Renames an entry within this folder unless `to` exists (`RENAME_NOREPLACE`; on a
    /// file system without it, a check first and a plain rename, a race it cannot close).
    pub fn rename_noreplace(&self, from: &std::ffi::OsStr, to: &std::ffi::OsStr) -> io::Result<()> {
        use rustix::fs::RenameFlags;
        match rustix::fs::renameat_with(&self.fd, from, &self.fd, to, RenameFlags::NOREPLACE) {
            Err(Errno::INVAL | Errno::NOSYS) => {
                if self.stat(to)?.is_some() {
                    return Err(Errno::EXIST.into());
                }
                self.rename(from, to)
            }
            other => Ok(other?),
        }
    }

    /// Removes an entry (never a folder) from this folder.
    pub fn unlink(&self, name: impl rustix::path::Arg) -> io::Result<()> {
        Ok(rustix::fs::unlinkat(&self.fd, name, AtFlags::empty())?)
    }

    /// Writes `bytes` as `name` in this folder atomically: a new file under a random
    /// temporary name (`O_CREAT | O_EXCL | O_NOFOLLOW`: nothing planted under that name is
    /// opened, let alone truncated), fsync, then `renameat` over `name`, which replaces
    /// whatever entry is there (a link included) without touching what it points to.
    /// The temporary name is short (`.nb-<16 hex>.tmp`) so that any `name` that fits the
    /// 255-byte limit can be written.
    pub fn write_atomic(&self, name: &str, bytes: &[u8], mode: u32) -> io::Result<()> {
        self.write_atomic_mode(name, bytes, mode, false)
    }

    /// [`Dir::write_atomic`] with exactly `mode`, whatever the umask (`fchmod` before the
    /// bytes are written): for the daemon's private files.
    pub fn write_atomic_exact(&self, name: &str, bytes: &[u8], mode: u32) -> io::Result<()> {
        self.write_atomic_mode(name, bytes, mode, true)
    }

    fn write_atomic_mode(
        &self,
        name: &str,
        bytes: &[u8],
        mode: u32,
        exact: bool,
    ) -> io::Result<()> {
        let mut attempts = 0;
        let (tmp, fd) = loop {
            let tmp = format!(".nb-{}.tmp", random_hex()?);
            match rustix::fs::openat(
                &self.fd,
                tmp.as_str(),
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(mode),
            ) {
                Ok(fd) => break (tmp, fd),
                Err(Errno::EXIST) if attempts < 8 => attempts += 1,
                Err(e) => return Err(e.into()),
            }
        };
        let written = (|| {
            if exact {
                rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode))?;
            }
            let mut file = File::from(fd);
            file.write_all(bytes)?;
            file.sync_all()?;
            rustix::fs::renameat(&self.fd, tmp.as_str(), &self.fd, name)?;
            Ok(())
        })();
        if written.is_err() {
            let _ = self.unlink(tmp.as_str());
        }
        written
    }
}

impl Dir {
    /// Creates the folder `name` directly in this one, with exactly `mode` (whatever the
    /// umask) and this folder's group. `Ok(false)` when an entry of that name is there
    /// already, whatever it is: it is left alone, never replaced, never followed.
    pub fn create_folder(&self, name: &str, mode: u32) -> io::Result<bool> {
        match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(mode)) {
            Ok(()) => {}
            Err(Errno::EXIST) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        let made = self.open_dir(name)?;
        let group = rustix::fs::fstat(&self.fd)?.st_gid;
        if rustix::fs::fstat(&made.fd)?.st_gid != group {
            // Only a group the daemon's user is in can be given; otherwise the folder
            // keeps the daemon's group and the share's `force group` still applies.
            let gid = rustix::fs::Gid::from_raw(group);
            if let Err(e) = rustix::fs::fchown(&made.fd, None, Some(gid)) {
                tracing::warn!(folder = name, error = %e, "cannot give the new folder the inbox's group");
            }
        }
        rustix::fs::fchmod(&made.fd, Mode::from_raw_mode(mode))?;
        Ok(true)
    }

    /// Removes the temporary files `write_atomic` left in this folder when the daemon was
    /// killed mid-write: names of exactly its pattern, regular files (a link is never
    /// followed, nor removed), owned by this process's user, which an agency cannot forge.
    /// Returns how many went.
    pub fn remove_own_temps(&self) -> io::Result<usize> {
        let me = rustix::process::geteuid();
        let mut removed = 0;
        let mut entries = rustix::fs::Dir::read_from(&self.fd)?;
        while let Some(entry) = entries.read() {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !is_own_temp(&name) {
                continue;
            }
            match self.stat(name.as_str()) {
                Ok(Some(st))
                    if FileType::from_raw_mode(st.st_mode) == FileType::RegularFile
                        && st.st_uid == me.as_raw() =>
                {
                    self.unlink(name.as_str())?;
                    removed += 1;
                }
                _ => {}
            }
        }
        Ok(removed)
    }
}

/// Whether `name` is a temporary name of `write_atomic`: `.nb-<16 hex>.tmp`.
pub fn is_own_temp(name: &str) -> bool {
    name.strip_prefix(".nb-")
        .and_then(|rest| rest.strip_suffix(".tmp"))
        .is_some_and(|hex| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The identity (device, inode, size, mtime) of a `stat`, as the watcher records it.
// The field types differ between architectures; the casts are lossless on Linux.
#[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
pub fn identity(st: &Stat) -> FileIdentity {
    FileIdentity {
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
        size: st.st_size as u64,
        mtime_ns: i128::from(st.st_mtime as i64) * 1_000_000_000
            + i128::from(st.st_mtime_nsec as u64),
    }
}

/// What an entry is, in words for a log line or a notice.
pub fn kind_name(st: &Stat) -> &'static str {
    match FileType::from_raw_mode(st.st_mode as _) {
        FileType::Symlink => "symbolic link",
        FileType::RegularFile => "file",
        FileType::Directory => "folder",
        _ => "special file",
    }
}

/// 16 hex digits from the kernel's random source: temporary names nobody can plant ahead.
pub fn random_hex() -> io::Result<String> {
    let mut buf = [0u8; 8];
    rustix::rand::getrandom(&mut buf, rustix::rand::GetRandomFlags::empty())?;
    Ok(hex::encode(buf))
}

/// `name` cut at a character boundary so that it plus `suffix` fits `max` bytes.
pub fn fit_name(name: &str, suffix: &str, max: usize) -> String {
    let room = max.saturating_sub(suffix.len());
    let mut end = name.len().min(room);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{suffix}", &name[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_own_temporary_files_are_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::NamedTempFile::new().expect("outside");
        let temp = ".nb-0123456789abcdef.tmp";
        std::fs::write(dir.path().join(temp), "half").expect("temp");
        std::fs::write(dir.path().join(".nb-xyz.tmp"), "not ours").expect("other");
        std::fs::write(dir.path().join("a.txt.txt"), "receipt").expect("receipt");
        std::os::unix::fs::symlink(outside.path(), dir.path().join(".nb-fedcba9876543210.tmp"))
            .expect("link");
        let removed = Dir::open(dir.path())
            .expect("open")
            .remove_own_temps()
            .expect("clean");
        assert_eq!(removed, 1);
        assert!(!dir.path().join(temp).exists());
        for kept in [".nb-xyz.tmp", "a.txt.txt", ".nb-fedcba9876543210.tmp"] {
            assert!(
                dir.path().join(kept).symlink_metadata().is_ok(),
                "{kept} was removed"
            );
        }
        assert!(outside.path().exists());
    }

    #[test]
    fn fit_name_cuts_at_a_character_boundary() {
        // 84 CJK characters: 252 bytes; with ".txt" 256, one byte too many.
        let name = "报".repeat(84);
        let fitted = fit_name(&name, ".txt", 255);
        assert_eq!(fitted, format!("{}.txt", "报".repeat(83)));
        assert!(fitted.len() <= 255);
        assert_eq!(fit_name("a.docx", ".txt", 255), "a.docx.txt");
    }

    #[test]
    fn a_link_folder_is_refused_and_a_link_at_the_final_name_is_replaced_not_followed() {
        let outside = tempfile::tempdir().expect("tempdir");
        let secret = outside.path().join("secret");
        std::fs::write(&secret, b"keep").expect("write");
        let inbox = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(inbox.path().join("a")).expect("mkdir");
        std::os::unix::fs::symlink(outside.path(), inbox.path().join("a/回执")).expect("ln");
        std::os::unix::fs::symlink(&secret, inbox.path().join("a/r.txt")).expect("ln");
        let root = Dir::open(inbox.path()).expect("open");
        let err = root
            .open_below(Path::new("a/回执"), true)
            .err()
            .expect("a link is refused");
        assert!(
            matches!(
                err,
                DirError::NotAFolder {
                    what: "symbolic link",
                    ..
                }
            ),
            "{err}"
        );
        // The final name a link: replaced, its target untouched.
        let a = root.open_below(Path::new("a"), false).expect("a");
        a.write_atomic("r.txt", b"receipt", 0o644).expect("write");
        assert_eq!(std::fs::read(&secret).expect("read"), b"keep");
        assert_eq!(
            std::fs::read(inbox.path().join("a/r.txt")).expect("read"),
            b"receipt"
        );
        assert!(
            !std::fs::symlink_metadata(inbox.path().join("a/r.txt"))
                .expect("stat")
                .file_type()
                .is_symlink()
        );
        // No temporary file left behind.
        let left: Vec<_> = std::fs::read_dir(inbox.path().join("a"))
            .expect("ls")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 2, "{left:?}");
    }
}
