//! Steps 1 and 2: a settled inbox file becomes an archived, recorded submission.
//!
//! It owns everything that touches an agency's inbox folder, which is hostile input: the
//! link-free open, the copy into the content-addressed archive (sha256 name, mode 0640), the
//! flush to disk before anything is recorded, the record (group commit per batch), and the
//! removal of exactly the archived inode from the inbox; also the refusal of files that must
//! not be taken (hard links, strangers' files).
//!
//! Why the seam is here: once a submission is recorded, nothing after it reads the inbox
//! again; the checking (`pipeline`) works from the archive and the database only.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use anyhow::Context as _;
use sha2::{Digest, Sha256};

use super::pipeline::{Checking, Lane, ToCheck};
use super::{Pipeline, now_utc};
use crate::check::current_year;
use crate::store::{MessageKind, NewSubmission, OutboxMessage, SubmissionState};
use crate::watch::{FileIdentity, Ready};

impl Pipeline {
    /// Steps 1–3 for completed inbox files, taken together (group commit): each is copied
    /// into the archive, the copies are flushed to disk, each is checked (no lock held),
    /// then one transaction records them all and stores their outcomes, and only then do
    /// they leave the inbox. The order per file is the same as alone (durable archive,
    /// durable record with its outcome, removal), so a crash anywhere loses nothing and
    /// records nothing twice; what changes is that a burst costs one commit per batch
    /// instead of one per file and one more for the records. A batch is whatever is ready:
    /// a lone file is not held back waiting for others.
    /// Returns how many files it recorded.
    pub fn ingest_batch(&self, batch: &[Ready]) -> anyhow::Result<usize> {
        // Over 80 lines on purpose: the order per file (durable archive,
        // one commit for the batch's records, then removal) is the crash-safety argument, and it is
        // read here in one place; the steps share the batch's staged files and the transaction.
        struct Staged {
            path: PathBuf,
            identity: FileIdentity,
            key: String,
            sha256: String,
            size: u64,
            rel: String,
            agency: Option<crate::config::Agency>,
            owner: crate::store::Owner,
        }
        let mut staged: Vec<Staged> = Vec::new();
        for ready in batch {
            let path = &ready.path;
            let meta = match std::fs::symlink_metadata(path) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    tracing::debug!(path = %path.display(), "vanished before it was taken");
                    continue;
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot stat {}", path.display()));
                }
            };
            if !meta.file_type().is_file() {
                continue;
            }
            let identity = FileIdentity::of(&meta);
            if identity != ready.identity {
                tracing::debug!(path = %path.display(), "changed since it settled; waiting for it again");
                continue;
            }
            let key = identity.key();
            let seen = self.store().by_source_identity(&key)?;
            if let Some(sub) = seen {
                // Recorded before a crash, or its removal failed: finish, never record twice.
                self.remove_from_inbox(path, &identity);
                if sub.state == SubmissionState::Archived {
                    self.process(&sub, Lane::Ingest)?;
                }
                continue;
            }
            let archived = {
                let _busy = self.busy_file("archiving", path.display().to_string());
                let _copying = self.archiving.read().unwrap_or_else(|e| e.into_inner());
                self.archive(path, &identity)?
            };
            let Some((sha256, size)) = archived else {
                continue;
            };
            let rel = path
                .strip_prefix(&self.config().inbox)
                .unwrap_or(path)
                .to_string_lossy()
                .into_owned();
            staged.push(Staged {
                path: path.clone(),
                identity,
                key,
                sha256,
                size,
                rel,
                agency: self.agency_of(path),
                owner: crate::store::Owner::of_uid(std::os::unix::fs::MetadataExt::uid(&meta)),
            });
        }
        if staged.is_empty() {
            return Ok(0);
        }
        self.flush_archive(staged.iter().map(|st| st.sha256.as_str()))?;
        let received_at = now_utc();
        let news: Vec<NewSubmission<'_>> = staged
            .iter()
            .map(|st| NewSubmission {
                agency_folder: st.agency.as_ref().map(|a| a.folder.as_str()),
                agency_name: st.agency.as_ref().map(|a| a.name.as_str()),
                original_name: &st.rel,
                size: st.size,
                sha256: &st.sha256,
                source_identity: &st.key,
                received_at: &received_at,
                owner: Some(st.owner.clone()),
            })
            .collect();
        // Checked before anything is locked or written (the checker reads the archive, and
        // last year's report); then recorded and stored in one transaction: one durable
        // commit for the batch. The files leave the inbox only after it, so a crash before
        // it leaves them to be taken again, and one after it finds them recorded
        // (`by_source_identity` above).
        let paths: Vec<(PathBuf, FileIdentity)> = staged
            .iter()
            .map(|st| (st.path.clone(), st.identity))
            .collect();
        let mut checked = Vec::with_capacity(staged.len());
        for st in &staged {
            if self.is_stopping() {
                // At a stop the batch is left in the inbox, unrecorded, for the next start.
                return Ok(0);
            }
            let _busy = self.busy_file("checking", st.rel.clone());
            let file = ToCheck {
                sha256: &st.sha256,
                size: st.size as i64,
                original_name: &st.rel,
                agency_folder: st.agency.as_ref().map(|a| a.folder.as_str()),
            };
            match self.check_archived(&file, Lane::Ingest) {
                Ok(Checking::Checked(c)) => checked.push(Some(*c)),
                // Recorded with the batch, left `archived` for the scan lane.
                Ok(Checking::PutOff) => checked.push(None),
                // A copy missing or damaged already, or an error: each file its own way,
                // as before group commit (recorded, then `process` fails or retries it).
                Ok(Checking::Unusable(_)) | Err(_) => {
                    return self.record_then_process(&paths, &news);
                }
            }
        }
        let mut put_off = Vec::new();
        let stored = (|| -> anyhow::Result<_> {
            let mut store = self.store();
            let batch = store.batch()?;
            let subs = batch.record_all(&news, current_year())?;
            let checked_at = now_utc();
            let mut stored = Vec::with_capacity(subs.len());
            for (sub, checked) in subs.into_iter().zip(checked) {
                let Some(checked) = checked else {
                    put_off.push(sub.original_name.clone());
                    continue;
                };
                // The same bytes from the same agency earlier, in this batch or before.
                let original =
                    batch.original_of(sub.agency_folder.as_deref(), &sub.sha256, sub.id)?;
                if let Some(original) = &original {
                    let held = batch.is_held(original.id)?;
                    let messages = self.duplicate_messages(&sub, original, held);
                    batch.store_duplicate(
                        sub.id,
                        original,
                        &checked_at,
                        &messages,
                        &sub.receipt,
                    )?;
                } else {
                    let staged = self.stage(&sub, &checked, batch.connection());
                    batch.store_outcome_held(
                        sub.id,
                        &checked.result,
                        checked.check_ms,
                        &checked_at,
                        &staged.messages,
                        &sub.receipt,
                        staged.hold().as_ref(),
                    )?;
                }
                stored.push((sub, checked, original));
            }
            batch.commit()?;
            Ok(stored)
        })();
        let stored = match stored {
            Ok(stored) => stored,
            Err(e) => {
                // Nothing of the batch was written (rolled back). Each file its own way, as
                // before group commit: one that cannot be stored stays `archived`, for the
                // retry, and does not hold back the others.
                tracing::warn!(error = %format!("{e:#}"), files = staged.len(), "cannot store the batch in one transaction; recording and checking each file on its own");
                return self.record_then_process(&paths, &news);
            }
        };
        self.metrics.committed();
        for st in &staged {
            self.remove_from_inbox(&st.path, &st.identity);
            self.metrics.files_seen.inc();
        }
        for name in &put_off {
            self.put_off(name);
        }
        for (sub, checked, original) in &stored {
            match original {
                Some(original) => self.counted_duplicate(sub, original),
                None => self.counted_checked(sub, checked),
            }
        }
        Ok(stored.len())
    }

    /// The way of a batch before group commit of outcomes: one transaction records the
    /// files, they leave the inbox, then each is checked and stored on its own (`process`).
    fn record_then_process(
        &self,
        paths: &[(PathBuf, FileIdentity)],
        news: &[NewSubmission<'_>],
    ) -> anyhow::Result<usize> {
        let subs = self.store().record_all(news, current_year())?;
        for (path, identity) in paths {
            self.remove_from_inbox(path, identity);
            self.metrics.files_seen.inc();
        }
        self.metrics.committed();
        // Each recorded file is checked even if another one fails: a failure leaves only
        // its own submission, in state `archived`, for the retry (`resume`, on a timer).
        let mut first_error = None;
        for sub in &subs {
            // At a stop the rest waits, recorded, for the next start (`resume`).
            if self.is_stopping() {
                break;
            }
            if let Err(e) = self.process(sub, Lane::Ingest) {
                first_error.get_or_insert(e.context(format!(
                    "receipt {}: archived and recorded, not yet checked",
                    sub.receipt
                )));
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(subs.len()),
        }
    }

    /// Makes the archive copies of a batch durable before any of them is recorded: each
    /// file, then each folder that received one (once per folder). Not `syncfs`: that
    /// waits for every dirty page of the whole file system, which on a shared server (or
    /// beside a test writing 200 MB) stalls for seconds.
    pub(super) fn flush_archive<'a>(
        &self,
        sha256s: impl Iterator<Item = &'a str>,
    ) -> anyhow::Result<()> {
        let mut folders: Vec<PathBuf> = Vec::new();
        for sha in sha256s {
            let dest = self.paths.archived(sha);
            std::fs::File::open(&dest)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("cannot flush {} to disk", dest.display()))?;
            if let Some(parent) = dest.parent()
                && !folders.iter().any(|f| f == parent)
            {
                folders.push(parent.to_path_buf());
            }
        }
        for folder in folders {
            // The renames into the folder must survive a power cut too.
            std::fs::File::open(&folder)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("cannot flush {} to disk", folder.display()))?;
        }
        Ok(())
    }

    /// Removes the archived file from the inbox, and nothing else. Word and WPS save by
    /// renaming a new version over the name, at any moment, so "check, then unlink the
    /// name" could delete a version renamed in between (a preempted thread makes that
    /// window milliseconds long). Instead the entry is first renamed, atomically, to a
    /// private name in the same folder (`aside_name`); what was moved is then looked at
    /// there (`fstatat` without following links, through the folder opened link-free):
    /// the archived inode (device, inode, size, mtime) is unlinked, anything else is a
    /// newer version and goes back under its name (`RENAME_NOREPLACE`) for the watcher.
    ///
    /// If yet another version took the name while the newer one was aside, the one aside
    /// stays under its private name, which the watcher does not ignore: it is archived as
    /// a file of its own rather than lost. So does anything left aside by a crash; the
    /// archived inode is recognised by its identity then and only removed.
    pub(super) fn remove_from_inbox(&self, path: &Path, archived: &FileIdentity) {
        let removed = (|| -> anyhow::Result<Option<String>> {
            let Some((dir, name)) = self.inbox_entry(path)? else {
                return Ok(None);
            };
            let aside = aside_name(&name)?;
            match dir.rename(name.as_os_str(), aside.as_os_str()) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                other => other?,
            }
            match dir.stat(aside.as_os_str())? {
                None => Ok(None),
                Some(st)
                    if crate::safe_fs::identity(&st) == *archived
                        && crate::safe_fs::kind_name(&st) == "file" =>
                {
                    dir.unlink(aside.as_os_str())?;
                    Ok(None)
                }
                Some(_) => match dir.rename_noreplace(&aside, &name) {
                    Ok(()) => Ok(Some(
                        "replaced by a newer version since it was archived; the newer one is left for the watcher".into(),
                    )),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Some(format!(
                        "replaced twice while being removed; the middle version is kept as {}",
                        aside.to_string_lossy()
                    ))),
                    Err(e) => Err(e.into()),
                },
            }
        })();
        match removed {
            Ok(None) => {}
            Ok(Some(what)) => tracing::info!(path = %path.display(), "{what}"),
            Err(e) => tracing::warn!(
                path = %path.display(),
                error = %format!("{e:#}"),
                "archived, but cannot remove it from the inbox (check the folder's permissions); it will not be taken twice"
            ),
        }
    }

    /// The folder of an inbox file, opened from the inbox down without following any link,
    /// and the file's name in it. `None` when a folder on the way is gone or is not a real
    /// folder (never followed).
    pub(super) fn inbox_entry(
        &self,
        path: &Path,
    ) -> anyhow::Result<Option<(crate::safe_fs::Dir, std::ffi::OsString)>> {
        let inbox = &self.config().inbox;
        let rel = path.strip_prefix(inbox).unwrap_or(path);
        let (Some(parent), Some(name)) = (rel.parent(), rel.file_name()) else {
            return Ok(None);
        };
        let root = crate::safe_fs::Dir::open(inbox)
            .with_context(|| format!("cannot open the inbox {}", inbox.display()))?;
        match root.open_below(parent, false) {
            Ok(dir) => Ok(Some((dir, name.to_os_string()))),
            Err(crate::safe_fs::DirError::Io { source, .. })
                if source.kind() != std::io::ErrorKind::NotFound =>
            {
                Err(source).with_context(|| format!("cannot open the folder of {}", path.display()))
            }
            Err(e) => {
                tracing::debug!(path = %path.display(), error = %e, "its folder is gone or not a folder");
                Ok(None)
            }
        }
    }

    /// Copies the file into the archive (mode 0640), hashing as it goes. `None` when it
    /// changed or went away (the watcher will declare it again once it settles), or when it
    /// is refused (see `refusal`).
    ///
    /// The bytes come from one descriptor, opened without following links through the
    /// link-free folder, whose `fstat` must show the settled identity before the copy and
    /// again after it: a file swapped between the watcher's look and the open, or written
    /// to during the copy, is not archived under the settled identity.
    pub(super) fn archive(
        &self,
        path: &Path,
        identity: &FileIdentity,
    ) -> anyhow::Result<Option<(String, u64)>> {
        // Over 80 lines on purpose: one file's way into the archive: each check (link, size,
        // growth) guards the copy that follows it, in order, on the same open file.
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        let Some((dir, name)) = self.inbox_entry(path)? else {
            return Ok(None);
        };
        let mut src = match dir.open_read(name.as_os_str()) {
            Ok(f) => f,
            // Gone, or now a link (ELOOP): not the file that settled.
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    || e.raw_os_error() == Some(libc::ELOOP) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
        };
        let meta = src
            .metadata()
            .with_context(|| format!("cannot stat {}", path.display()))?;
        if !meta.file_type().is_file() || FileIdentity::of(&meta) != *identity {
            return Ok(None);
        }
        if let Some(reason) = self.refusal(&meta)? {
            self.refuse(path, identity, &reason)?;
            return Ok(None);
        }
        // Over the limit: answered from its size, never copied (a sparse 10 GiB file costs
        // the agency nothing and would fill the data disk).
        let limit = self.config().max_file_bytes();
        if identity.size > limit {
            self.too_large(path, identity, limit)?;
            return Ok(None);
        }
        let tmp_dir = self.paths.archive.join("tmp");
        std::fs::create_dir_all(&tmp_dir)?;
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let tmp = tmp_dir.join(format!("{}-{n}", std::process::id()));
        let mut dst = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o640)
            .open(&tmp)
            .with_context(|| format!("cannot write the archive {}", tmp.display()))?;
        // Exactly 0640 whatever the umask: the archive is the daemon's (and its group's).
        dst.set_permissions(std::fs::Permissions::from_mode(0o640))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        loop {
            let k = src.read(&mut buf)?;
            if k == 0 {
                break;
            }
            if size + k as u64 > identity.size {
                // Grown since it settled: never more than the settled size (at most the
                // limit) is archived; the watcher declares it again once it settles.
                drop(dst);
                let _ = std::fs::remove_file(&tmp);
                return Ok(None);
            }
            hasher.update(&buf[..k]);
            dst.write_all(&buf[..k])?;
            size += k as u64;
        }
        // Made durable by `flush_archive` for the whole batch, before anything is recorded.
        drop(dst);
        let after = src.metadata().map(|m| FileIdentity::of(&m)).ok();
        if after.as_ref() != Some(identity) || size != identity.size {
            let _ = std::fs::remove_file(&tmp);
            return Ok(None);
        }
        let digest = hasher.finalize();
        let sha256 = hex::encode(digest);
        let dest = self.paths.archived(&sha256);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(&tmp, &dest)?;
        Ok(Some((sha256, size)))
    }

    /// Why an inbox file is not taken, if it is not: a file with more than one hard link
    /// (a link to `/etc/passwd` or someone else's file made in the share), or one owned
    /// by nobody who drops files here: its owner must be the inbox's owner or the daemon's
    /// own user, or its group the inbox's group (the share's group, README "Guarantees").
    pub(super) fn refusal(&self, meta: &std::fs::Metadata) -> anyhow::Result<Option<String>> {
        use std::os::unix::fs::MetadataExt as _;
        if meta.nlink() > 1 {
            return Ok(Some(format!(
                "它有 {} 个硬链接，可能是系统中其他文件的链接（has {} hard links）",
                meta.nlink(),
                meta.nlink()
            )));
        }
        let inbox = &self.config().inbox;
        let owner = std::fs::metadata(inbox)
            .with_context(|| format!("cannot stat the inbox {}", inbox.display()))?;
        let daemon = rustix::process::geteuid().as_raw();
        if meta.uid() == owner.uid() || meta.gid() == owner.gid() || meta.uid() == daemon {
            return Ok(None);
        }
        Ok(Some(format!(
            "它的属主（uid {}，gid {}）既不是收件箱的属主或属组，也不是本服务的用户（owned by a stranger）",
            meta.uid(),
            meta.gid()
        )))
    }

    /// Leaves a refused file where it is: logged once per identity, and the admin told once
    /// (the notice's key is the identity, so a restart does not tell again).
    pub(super) fn refuse(
        &self,
        path: &Path,
        identity: &FileIdentity,
        reason: &str,
    ) -> anyhow::Result<()> {
        if !self.first_refusal(identity) {
            return Ok(());
        }
        tracing::warn!(path = %path.display(), reason, "refused: left in place, not archived, not removed; the admin is told");
        let Some(admin) = &self.config().mail.admin else {
            return Ok(());
        };
        let rel = path.strip_prefix(&self.config().inbox).unwrap_or(path);
        let notice = OutboxMessage {
            kind: MessageKind::Notice,
            recipient: admin.clone(),
            subject: format!("【拒收文件】{}", rel.display()),
            body_text: format!(
                "收件箱中的文件 {} 没有被接收：{reason}。

文件留在原处，没有归档，也没有删除。如果它确是报送的年度报告，请报送单位把文件另存为一个新文件后重新放入；否则请查明是谁放入了这个文件，并将其删除。",
                rel.display()
            ),
            body_html: None,
            html_from: None,
        };
        self.store()
            .queue_message(None, &format!("refused/{}", identity.key()), &notice)?;
        Ok(())
    }
}

impl Pipeline {
    /// Whether `identity` is refused (or answered as too large) for the first time in this run.
    fn first_refusal(&self, identity: &FileIdentity) -> bool {
        self.refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(*identity)
    }

    /// Answers a file over `max_file_mb` from its size alone: it is neither copied nor
    /// removed (only archived files are removed), and the agency (or the admin, for a
    /// folder without addresses) is told once per identity, also across restarts (the
    /// messages' keys are the identity). Deleting it or saving a smaller version is the
    /// agency's move.
    fn too_large(&self, path: &Path, identity: &FileIdentity, limit: u64) -> anyhow::Result<()> {
        if !self.first_refusal(identity) {
            return Ok(());
        }
        let agency = self.agency_of(path);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (subject, body) = crate::mail::render(
            "",
            agency.as_ref().map(|a| a.name.as_str()),
            &name,
            &crate::mail::Outcome::TooLargeLeft {
                size: identity.size,
                limit,
            },
        );
        let messages = self.messages(agency.as_ref(), false, &subject, &body, None);
        let store = self.store();
        let mut queued = false;
        for m in &messages {
            let key = format!("too-large/{}/{}", identity.key(), m.recipient);
            queued |= store.queue_message(None, &key, m)?;
        }
        if queued {
            tracing::warn!(path = %path.display(), size = identity.size, limit, "over max_file_mb: answered from its size, not archived, left in place");
        }
        Ok(())
    }
}

/// The private name an inbox file is moved to while it is checked for removal: random
/// (nobody renames onto it by accident), not hidden and without an ignored ending (a file
/// left there by a crash is still seen by the watcher), with the original extension.
fn aside_name(name: &std::ffi::OsStr) -> anyhow::Result<std::ffi::OsString> {
    let ext = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .filter(|e| e.len() <= 16 && !crate::watch::is_ignored_name(&format!("x.{e}")))
        .map_or(String::new(), |e| format!(".{e}"));
    Ok(format!("nianbao-{}{ext}", crate::safe_fs::random_hex()?).into())
}
