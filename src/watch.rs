//! Watching the drop folder: tell the ingest stage, once per drop, that a file is completely
//! written.
//!
//! Kernel events (inotify via notify's recommended watcher) only *suggest* paths; whether a
//! file is complete is decided by looking at it: size and mtime unchanged for `settle`, and it
//! opens. Events are lost on queue overflow and never arrive from other hosts on Samba/NFS
//! shares, so the whole inbox is also rescanned at start, on overflow, when a folder appears,
//! and every `rescan` period; `poll_only` drops the events altogether. Symlinks are never
//! followed: an agency folder replaced by a link to `/etc` is not read.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher as _};

/// Deeper files are not looked at: the inbox is `inbox/<agency>/<file>`, with a little slack
/// for agencies that keep subfolders.
const MAX_DEPTH: usize = 4;

pub struct WatchConfig {
    pub inbox: PathBuf,
    /// A file is ready once its size and mtime are unchanged for this long and it opens.
    pub settle: Duration,
    /// Full rescan period (network shares send no events).
    pub rescan: Duration,
    /// No kernel events at all, only a full scan every `poll_interval` (Samba/NFS mounts).
    pub poll_only: bool,
    pub poll_interval: Duration,
    /// Folder names never descended into (the receipts folder `回执`).
    pub ignore_dirs: Vec<String>,
}

/// A completed file: its path and identity when it was declared ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    pub path: PathBuf,
    pub identity: FileIdentity,
}

/// What makes one drop of a file distinct from another under the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileIdentity {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
}

impl FileIdentity {
    pub fn of(meta: &std::fs::Metadata) -> FileIdentity {
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        }
    }

    /// `dev:ino:mtime_ns:size`, as stored with the submission.
    pub fn key(&self) -> String {
        format!("{}:{}:{}:{}", self.dev, self.ino, self.mtime_ns, self.size)
    }
}

/// The folder of receipt files in each agency folder: the daemon writes there, the
/// watcher never reads it.
pub const RECEIPT_DIR: &str = "回执";

/// Whether a file or folder name is never a report: office lock files, temporary and
/// partial downloads, hidden files, desktop litter.
pub fn is_ignored_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    name.starts_with("~$")
        || name.starts_with(".~lock")
        || name.starts_with('.')
        || [
            ".tmp",
            ".part",
            ".crdownload",
            ".swp",
            ".download",
            ".partial",
        ]
        .iter()
        .any(|ext| lower.ends_with(ext))
        || matches!(lower.as_str(), "thumbs.db" | "desktop.ini" | ".ds_store")
}

#[derive(Debug, Clone, Default)]
pub struct WatchStats {
    pub seen: u64,
    pub ready: u64,
    pub rescans: u64,
    /// Times the settler's loop went to sleep: what an idle daemon must keep low.
    pub wakeups: u64,
}

#[derive(Default)]
struct Counters {
    seen: AtomicU64,
    ready: AtomicU64,
    rescans: AtomicU64,
    wakeups: AtomicU64,
}

enum Hint {
    Path(PathBuf),
    Rescan,
    Retry(PathBuf),
    /// Wakes the settler so that it sees the stop flag at once (it may sleep until the
    /// next rescan when nothing is pending).
    Wake,
}

/// See [`Watcher::retry_handle`].
#[derive(Clone)]
pub struct RetryHandle(Sender<Hint>);

impl RetryHandle {
    pub fn retry(&self, path: PathBuf) {
        let _ = self.0.send(Hint::Retry(path));
    }
}

pub struct Watcher {
    retry: Sender<Hint>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    _events: Option<notify::RecommendedWatcher>,
    counters: Arc<Counters>,
}

impl Watcher {
    /// Starts watching, with a full scan first so that files dropped while the daemon was
    /// down are found. Ready files go to `ready`; a full channel slows the watcher down, it
    /// never makes it buffer without bound.
    pub fn start(config: WatchConfig, ready: SyncSender<Ready>) -> anyhow::Result<Watcher> {
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let (hints_tx, hints_rx) = mpsc::channel::<Hint>();
        let events = if config.poll_only {
            None
        } else {
            kernel_events(&config.inbox, hints_tx.clone())
        };
        let mut settler = Settler {
            config,
            ready,
            hints: hints_rx,
            stop: Arc::clone(&stop),
            counters: Arc::clone(&counters),
            candidates: HashMap::new(),
            declared: HashMap::new(),
            warned: HashSet::new(),
        };
        let thread = std::thread::Builder::new()
            .name("watch".into())
            .spawn(move || settler.run())?;
        Ok(Watcher {
            retry: hints_tx,
            stop,
            thread: Some(thread),
            _events: events,
            counters,
        })
    }

    /// Stops the watcher and waits for its thread (at most one tick, or a pending send
    /// giving up).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.retry.send(Hint::Wake);
        self._events = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// A handle to give a declared file back: ingest could not take it (an I/O or database
    /// error), so it is declared again at the next scan while it is still there.
    pub fn retry_handle(&self) -> RetryHandle {
        RetryHandle(self.retry.clone())
    }

    /// Whether the watching thread still runs (for the systemd watchdog).
    pub fn is_alive(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    pub fn stats(&self) -> WatchStats {
        WatchStats {
            seen: self.counters.seen.load(Ordering::Relaxed),
            ready: self.counters.ready.load(Ordering::Relaxed),
            rescans: self.counters.rescans.load(Ordering::Relaxed),
            wakeups: self.counters.wakeups.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.retry.send(Hint::Wake);
    }
}

/// Whether an event can mean that a file appeared, changed or went away.
///
/// notify's inotify backend also subscribes to `IN_OPEN` and reports `IN_CLOSE_NOWRITE`
/// and reads: those come from every reader, the watcher's own rescans included. Letting
/// them through made each rescan's directory reads wake the next rescan, a loop that kept
/// an idle daemon at a full core.
pub fn is_change(kind: &notify::EventKind) -> bool {
    use notify::EventKind;
    use notify::event::{AccessKind, AccessMode};
    match kind {
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
        // close-write: a writer finished; the only access that says something changed.
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        // Unknown kinds (`Any`, `Other`, e.g. a queue overflow) might be changes.
        EventKind::Any | EventKind::Other => true,
    }
}

/// notify's recommended watcher, forwarding the paths of changes as hints (reads and opens
/// are dropped, see [`is_change`]). `None` (rescans only) when it cannot watch, e.g. past
/// the inotify watch limit.
fn kernel_events(inbox: &Path, hints: Sender<Hint>) -> Option<notify::RecommendedWatcher> {
    let handler = move |event: notify::Result<notify::Event>| match event {
        Ok(event) => {
            if event.need_rescan() {
                let _ = hints.send(Hint::Rescan);
            }
            if !is_change(&event.kind) {
                return;
            }
            for path in event.paths {
                let _ = hints.send(Hint::Path(path));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "file system events lost; the next rescan catches up");
            let _ = hints.send(Hint::Rescan);
        }
    };
    let config = notify::Config::default().with_follow_symlinks(false);
    let mut watcher = match notify::RecommendedWatcher::new(handler, config) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot use file system events; relying on rescans");
            return None;
        }
    };
    if let Err(e) = watcher.watch(inbox, RecursiveMode::Recursive) {
        tracing::warn!(
            inbox = %inbox.display(),
            error = %e,
            "cannot watch the inbox for events (raise fs.inotify.max_user_watches, or use watch = \"poll\"); relying on rescans"
        );
        return None;
    }
    Some(watcher)
}

/// A file seen but not yet declared: what it looked like, and since when.
struct Candidate {
    size: u64,
    mtime_ns: i128,
    since: Instant,
}

struct Settler {
    config: WatchConfig,
    ready: SyncSender<Ready>,
    hints: Receiver<Hint>,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    candidates: HashMap<PathBuf, Candidate>,
    /// Declared once per identity: not again while it is unchanged (ingest removes it).
    declared: HashMap<PathBuf, FileIdentity>,
    /// Problems already logged, so that a rescan every minute does not flood the log.
    warned: HashSet<PathBuf>,
}

impl Settler {
    fn run(&mut self) {
        // Ticks are cheap (only due candidates are looked at), so they can be short: a file
        // is declared at most 50 ms after its settle time.
        let tick =
            (self.config.settle / 40).clamp(Duration::from_millis(10), Duration::from_millis(50));
        let period = if self.config.poll_only {
            self.config.poll_interval.min(self.config.rescan)
        } else {
            self.config.rescan
        };
        self.scan();
        let mut last_scan = Instant::now();
        let mut woken_by: Option<Hint> = None;
        let mut last_settle = Instant::now() - Duration::from_secs(1);
        let mut next_due: Option<Instant> = None;
        while !self.stop.load(Ordering::SeqCst) {
            let mut rescan = false;
            loop {
                let hint = match woken_by.take() {
                    Some(h) => Ok(h),
                    None => self.hints.try_recv(),
                };
                match hint {
                    Ok(Hint::Rescan) => rescan = true,
                    Ok(Hint::Wake) => {}
                    Ok(Hint::Retry(p)) => {
                        self.declared.remove(&p);
                    }
                    Ok(Hint::Path(p)) => {
                        // A folder created or moved in: its files came with it, unannounced.
                        // Not for folders never read (`回执`, hidden): the receipts the
                        // daemon writes would otherwise start a rescan each.
                        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir())
                            && !self.in_ignored_folder(&p)
                        {
                            rescan = true;
                        } else {
                            self.consider(&p);
                        }
                    }
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            if rescan || last_scan.elapsed() >= period {
                self.scan();
                last_scan = Instant::now();
            }
            // During a burst events wake the loop thousands of times a second; looking
            // through all candidates at most every 5 ms keeps that linear.
            if last_settle.elapsed() >= Duration::from_millis(5) {
                next_due = self.settle();
                last_settle = Instant::now();
            }
            // Sleep until the next candidate is due or an event arrives, at most a tick:
            // a file is taken as soon as it has settled, not up to a tick later. With
            // nothing pending, sleep until the next rescan: an idle daemon wakes only for
            // events and rescans.
            let wait = match next_due {
                Some(due) => due
                    .saturating_duration_since(Instant::now())
                    .clamp(Duration::from_millis(1), tick),
                None if self.candidates.is_empty() => period
                    .saturating_sub(last_scan.elapsed())
                    .max(Duration::from_millis(1)),
                None => tick,
            };
            self.counters.wakeups.fetch_add(1, Ordering::Relaxed);
            match self.hints.recv_timeout(wait) {
                Ok(h) => woken_by = Some(h),
                Err(RecvTimeoutError::Timeout) => {}
                // Kernel events and retries are gone: rescans still find every file.
                Err(RecvTimeoutError::Disconnected) => std::thread::sleep(wait.min(tick)),
            }
        }
    }

    /// Whether `path` lies in (or is) a folder the watcher never reads: `回执`, hidden and
    /// temporary names.
    fn in_ignored_folder(&self, path: &Path) -> bool {
        path.strip_prefix(&self.config.inbox).is_ok_and(|rel| {
            rel.components().any(|part| {
                let name = part.as_os_str().to_string_lossy();
                is_ignored_name(&name) || self.config.ignore_dirs.iter().any(|d| *d == name)
            })
        })
    }

    /// Whether `path` is a regular file inside the inbox, reached without any symlink, in
    /// no ignored folder, with an acceptable name.
    fn admissible(&self, path: &Path) -> bool {
        let Ok(rel) = path.strip_prefix(&self.config.inbox) else {
            return false;
        };
        let parts: Vec<_> = rel.components().collect();
        if parts.is_empty() || parts.len() > MAX_DEPTH {
            return false;
        }
        let mut at = self.config.inbox.clone();
        for (i, part) in parts.iter().enumerate() {
            let name = part.as_os_str().to_string_lossy();
            if is_ignored_name(&name) || self.config.ignore_dirs.iter().any(|d| *d == name) {
                return false;
            }
            at.push(part);
            match std::fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => return false,
                Ok(m) if i + 1 == parts.len() => return m.file_type().is_file(),
                Ok(m) if !m.is_dir() => return false,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    }

    fn consider(&mut self, path: &Path) {
        if self.candidates.contains_key(path) || !self.admissible(path) {
            return;
        }
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return;
        };
        if self.declared.get(path) == Some(&FileIdentity::of(&meta)) {
            return;
        }
        self.counters.seen.fetch_add(1, Ordering::Relaxed);
        self.candidates.insert(
            path.to_path_buf(),
            Candidate {
                size: meta.size(),
                mtime_ns: FileIdentity::of(&meta).mtime_ns,
                since: Instant::now(),
            },
        );
    }

    /// Walks the inbox without following symlinks; adds every new file as a candidate and
    /// forgets declarations of files that are gone.
    fn scan(&mut self) {
        self.counters.rescans.fetch_add(1, Ordering::Relaxed);
        let mut present: HashSet<PathBuf> = HashSet::new();
        let mut stack = vec![(self.config.inbox.clone(), 0usize)];
        while let Some((dir, depth)) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) => {
                    if self.warned.insert(dir.clone()) {
                        tracing::warn!(dir = %dir.display(), error = %e, "cannot list this folder; will retry");
                    }
                    continue;
                }
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if is_ignored_name(&name) {
                    continue;
                }
                let path = entry.path();
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_symlink() {
                    if self.warned.insert(path.clone()) {
                        tracing::warn!(path = %path.display(), "symbolic link in the inbox: never followed, never read");
                    }
                } else if kind.is_dir() {
                    if depth + 1 < MAX_DEPTH && !self.config.ignore_dirs.contains(&name) {
                        stack.push((path, depth + 1));
                    }
                } else if kind.is_file() {
                    present.insert(path.clone());
                    self.consider(&path);
                }
            }
        }
        self.declared.retain(|p, _| present.contains(p));
        self.warned.retain(|p| p.exists());
    }

    /// Declares every candidate unchanged for `settle` that opens.
    ///
    /// A candidate is looked at again only once `settle` has passed since it was last seen
    /// to change: size and mtime equal to what they were then mean no write in between,
    /// and any write means waiting a full `settle` again. So a burst of 50,000 files costs
    /// one `stat` per file per `settle`, not one per file per tick.
    ///
    /// Returns when the next remaining candidate falls due, for the loop's sleep.
    fn settle(&mut self) -> Option<Instant> {
        let now = Instant::now();
        let mut done: Vec<PathBuf> = Vec::new();
        let mut ready: Vec<Ready> = Vec::new();
        let mut next_due: Option<Instant> = None;
        let settle = self.config.settle;
        let mut wait_for = |since: Instant| {
            let due = since + settle;
            next_due = Some(next_due.map_or(due, |d: Instant| d.min(due)));
        };
        for (path, c) in self.candidates.iter_mut() {
            if now.duration_since(c.since) < settle {
                wait_for(c.since);
                continue;
            }
            let meta = match std::fs::symlink_metadata(path) {
                Ok(m) if m.file_type().is_file() => m,
                _ => {
                    tracing::debug!(path = %path.display(), "gone before it settled");
                    done.push(path.clone());
                    continue;
                }
            };
            let identity = FileIdentity::of(&meta);
            if identity.size != c.size || identity.mtime_ns != c.mtime_ns {
                c.size = identity.size;
                c.mtime_ns = identity.mtime_ns;
                c.since = now;
                wait_for(now);
                continue;
            }
            match std::fs::File::open(path) {
                Ok(_) => {
                    done.push(path.clone());
                    ready.push(Ready {
                        path: path.clone(),
                        identity,
                    });
                }
                Err(e) => {
                    if self.warned.insert(path.clone()) {
                        tracing::warn!(path = %path.display(), error = %e, "cannot open this file (permissions?); will retry");
                    }
                    c.since = now;
                    wait_for(now);
                }
            }
        }
        for path in done {
            self.candidates.remove(&path);
        }
        for r in ready {
            tracing::debug!(path = %r.path.display(), size = r.identity.size, "complete");
            self.declared.insert(r.path.clone(), r.identity);
            self.counters.ready.fetch_add(1, Ordering::Relaxed);
            if !self.send(r) {
                return next_due;
            }
        }
        next_due
    }

    /// Hands a file to ingest; waits while the pipeline is busy, gives up on stop.
    fn send(&self, mut r: Ready) -> bool {
        loop {
            match self.ready.try_send(r) {
                Ok(()) => return true,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    if self.stop.load(Ordering::SeqCst) {
                        return false;
                    }
                    r = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn config(inbox: &Path, poll_only: bool) -> WatchConfig {
        WatchConfig {
            inbox: inbox.to_path_buf(),
            settle: Duration::from_millis(300),
            rescan: Duration::from_millis(700),
            poll_only,
            poll_interval: Duration::from_millis(100),
            ignore_dirs: vec!["回执".into()],
        }
    }

    /// Everything declared within `wait`.
    fn collect(rx: &Receiver<Ready>, wait: Duration) -> Vec<Ready> {
        let deadline = Instant::now() + wait;
        let mut out = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(r) => out.push(r),
                Err(_) => break,
            }
        }
        out
    }

    fn names(ready: &[Ready]) -> Vec<String> {
        let mut v: Vec<String> = ready
            .iter()
            .map(|r| {
                r.path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn present_at_start_once_each_and_ignored_names_never() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("inbox");
        std::fs::create_dir_all(inbox.join("a/回执")).unwrap();
        std::fs::write(inbox.join("a/r1.txt"), "1").unwrap();
        std::fs::write(inbox.join("top.txt"), "2").unwrap();
        for junk in [
            "~$r.docx",
            ".~lock.r.docx#",
            "x.tmp",
            "y.part",
            "z.crdownload",
            ".hidden",
            "Thumbs.db",
            "desktop.ini",
        ] {
            std::fs::write(inbox.join("a").join(junk), "j").unwrap();
        }
        std::fs::write(inbox.join("a/回执/r1.txt.txt"), "receipt").unwrap();
        let outside = dir.path().join("secret.txt");
        std::fs::write(&outside, "s").unwrap();
        std::os::unix::fs::symlink(&outside, inbox.join("a/link.txt")).unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/passwd"), "root").unwrap();
        std::os::unix::fs::symlink(dir.path().join("etc"), inbox.join("evil")).unwrap();
        let (tx, rx) = mpsc::sync_channel(16);
        let w = Watcher::start(config(&inbox, false), tx).unwrap();
        // Several rescans happen in this time: still once each.
        let got = collect(&rx, Duration::from_millis(2500));
        assert_eq!(names(&got), ["r1.txt", "top.txt"]);
        assert!(w.stats().rescans >= 2);
        w.stop();
    }

    #[test]
    fn slow_writer_is_declared_once_complete() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().to_path_buf();
        let (tx, rx) = mpsc::sync_channel(16);
        let w = Watcher::start(config(&inbox, false), tx).unwrap();
        let path = inbox.join("slow.txt");
        let mut f = std::fs::File::create(&path).unwrap();
        for _ in 0..5 {
            f.write_all(&[b'x'; 1000]).unwrap();
            f.flush().unwrap();
            std::thread::sleep(Duration::from_millis(150));
        }
        drop(f);
        let got = collect(&rx, Duration::from_millis(1500));
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].identity.size, 5000);
        w.stop();
    }

    #[test]
    fn new_folders_and_moved_in_folders() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("inbox");
        std::fs::create_dir_all(&inbox).unwrap();
        let (tx, rx) = mpsc::sync_channel(16);
        let w = Watcher::start(config(&inbox, false), tx).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        std::fs::create_dir_all(inbox.join("new")).unwrap();
        std::fs::write(inbox.join("new/a.txt"), "a").unwrap();
        let staging = dir.path().join("staging");
        std::fs::create_dir_all(&staging).unwrap();
        for n in ["b.txt", "c.txt", "d.txt"] {
            std::fs::write(staging.join(n), n).unwrap();
        }
        std::fs::rename(&staging, inbox.join("moved")).unwrap();
        let got = collect(&rx, Duration::from_millis(2000));
        assert_eq!(names(&got), ["a.txt", "b.txt", "c.txt", "d.txt"]);
        w.stop();
    }

    #[test]
    fn deleted_before_settling_never_and_replaced_again() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().to_path_buf();
        let (tx, rx) = mpsc::sync_channel(16);
        let w = Watcher::start(config(&inbox, false), tx).unwrap();
        std::fs::write(inbox.join("gone.txt"), "x").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        std::fs::remove_file(inbox.join("gone.txt")).unwrap();
        std::fs::write(inbox.join("same.txt"), "v1").unwrap();
        let got = collect(&rx, Duration::from_millis(1200));
        assert_eq!(names(&got), ["same.txt"]);
        // A new version under the same name is a new drop.
        std::fs::remove_file(inbox.join("same.txt")).unwrap();
        std::fs::write(inbox.join("same.txt"), "version two").unwrap();
        let again = collect(&rx, Duration::from_millis(1500));
        assert_eq!(names(&again), ["same.txt"]);
        assert_eq!(again[0].identity.size, 11);
        w.stop();
    }

    #[test]
    fn poll_only_mode_finds_files() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().to_path_buf();
        let (tx, rx) = mpsc::sync_channel(16);
        let w = Watcher::start(config(&inbox, true), tx).unwrap();
        std::fs::create_dir_all(inbox.join("a")).unwrap();
        std::fs::write(inbox.join("a/p.txt"), "p").unwrap();
        let got = collect(&rx, Duration::from_millis(1500));
        assert_eq!(names(&got), ["p.txt"]);
        w.stop();
    }

    #[test]
    fn a_thousand_files_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().to_path_buf();
        std::fs::create_dir_all(inbox.join("a")).unwrap();
        let (tx, rx) = mpsc::sync_channel(8);
        let w = Watcher::start(config(&inbox, false), tx).unwrap();
        for i in 0..1000 {
            std::fs::write(inbox.join(format!("a/{i}.txt")), i.to_string()).unwrap();
        }
        let got = collect(&rx, Duration::from_millis(4000));
        let unique: HashSet<&PathBuf> = got.iter().map(|r| &r.path).collect();
        assert_eq!(got.len(), 1000);
        assert_eq!(unique.len(), 1000);
        w.stop();
    }

    #[test]
    fn idle_watcher_sleeps_until_the_next_rescan() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().to_path_buf();
        for i in 0..50 {
            std::fs::create_dir_all(inbox.join(format!("a{i}/回执"))).unwrap();
            std::fs::write(inbox.join(format!("a{i}/回执/r.txt")), "r").unwrap();
        }
        let (tx, rx) = mpsc::sync_channel(16);
        let mut cfg = config(&inbox, false);
        cfg.rescan = Duration::from_secs(60);
        let w = Watcher::start(cfg, tx).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let before = w.stats();
        // Nothing arrives and the next rescan is a minute away: no scan, (almost) no wake-up.
        // Reads of the inbox (our own scans, anyone's `ls`) are no reason to wake.
        for i in 0..50 {
            std::fs::read_dir(inbox.join(format!("a{i}")))
                .unwrap()
                .for_each(drop);
            std::fs::read(inbox.join(format!("a{i}/回执/r.txt"))).unwrap();
        }
        std::thread::sleep(Duration::from_millis(1500));
        let after = w.stats();
        assert_eq!(after.rescans, before.rescans, "{before:?} {after:?}");
        assert!(after.wakeups - before.wakeups <= 2, "{before:?} {after:?}");
        // A real change still wakes it at once.
        std::fs::write(inbox.join("a1/new.txt"), "n").unwrap();
        let got = collect(&rx, Duration::from_millis(1500));
        assert_eq!(names(&got), ["new.txt"]);
        let started = Instant::now();
        w.stop();
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn stop_returns_even_with_a_full_channel() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().to_path_buf();
        for i in 0..5 {
            std::fs::write(inbox.join(format!("{i}.txt")), "x").unwrap();
        }
        let (tx, _rx) = mpsc::sync_channel(1);
        let w = Watcher::start(config(&inbox, false), tx).unwrap();
        std::thread::sleep(Duration::from_millis(600));
        let started = Instant::now();
        w.stop();
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
