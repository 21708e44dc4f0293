//! Watching the drop folder: tell the ingest stage, once per drop, that a file is completely
//! written.
//!
//! Kernel events (inotify via notify's recommended watcher) only *suggest* paths; whether a
//! file is complete is decided by looking at it: size and mtime unchanged for `settle`, and it
//! opens. Events are lost on queue overflow and never arrive from other hosts on Samba/NFS
//! shares, so the whole inbox is also rescanned at start, on overflow, when a folder appears,
//! and every `rescan` period; `poll_only` drops the events altogether. Symlinks are never
//! followed: an agency folder replaced by a link to `/etc` is not read.

use std::collections::{HashMap, HashSet, VecDeque};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{Sender, UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::watch;
use tokio::task::JoinHandle;

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
/// partial downloads, hidden files, desktop litter, and the copies that sync tools and
/// editors make beside a document: Syncthing's `*.sync-conflict-*`, Nextcloud's and
/// Dropbox's `(conflicted copy …)` / `(…'s conflicted copy …)`, Word's `~WRL*.tmp` and
/// `*.wbk` backups. Such a copy is not a new version: the agency's own file stays the one
/// that counts, and the copy stays where it is.
pub fn is_ignored_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    name.starts_with("~$")
        || name.starts_with(".~lock")
        || name.starts_with('.')
        || lower.starts_with("~wrl")
        || lower.contains(".sync-conflict-")
        || lower.contains("conflicted copy")
        || [
            ".tmp",
            ".part",
            ".crdownload",
            ".swp",
            ".download",
            ".partial",
            ".wbk",
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
}

/// See [`Watcher::retry_handle`].
#[derive(Clone)]
pub struct RetryHandle(UnboundedSender<Hint>);

impl RetryHandle {
    pub fn retry(&self, path: PathBuf) {
        let _ = self.0.send(Hint::Retry(path));
    }
}

/// The watcher: a task on the daemon's runtime. Its file-system work (scans, `stat`s of
/// candidates) runs on the blocking pool, one piece at a time, so that a slow share never
/// holds up a runtime thread.
pub struct Watcher {
    hints: UnboundedSender<Hint>,
    task: JoinHandle<()>,
    counters: Arc<Counters>,
    probe: WatchProbe,
}

/// Whether the watcher works, asked without owning it (the watchdog, `/readyz`).
#[derive(Clone)]
pub struct WatchProbe {
    /// `false` once the task has ended, however.
    alive: Arc<AtomicBool>,
    /// Since when the current piece of file-system work runs (`None`: between pieces).
    busy_since: Arc<Mutex<Option<Instant>>>,
}

impl WatchProbe {
    /// Why the watcher is not working, if it is not: its task ended, or a scan has been
    /// running for longer than `stuck_after` (a share that never answers).
    pub fn problem(&self, stuck_after: Duration) -> Option<String> {
        if !self.alive.load(Ordering::SeqCst) {
            return Some("the watcher has stopped; see the log".into());
        }
        let busy = (*self.busy_since.lock().unwrap_or_else(|e| e.into_inner()))?.elapsed();
        (busy > stuck_after).then(|| {
            format!(
                "the watcher has been scanning the inbox for {} s (stuck_after_s = {}): a \
                 folder that never answers, e.g. a hung network share?",
                busy.as_secs(),
                stuck_after.as_secs()
            )
        })
    }
}

/// Marks the watcher dead when its task ends (a panic included).
struct Alive(Arc<AtomicBool>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Watcher {
    /// Spawns the watcher on the current tokio runtime (panics outside one), with a full
    /// scan first so that files dropped while the daemon was down are found. Ready files
    /// go to `ready`; while it is full they wait in the watcher (one entry per file in the
    /// inbox, each declared once) and events go on being read. It ends once `stop` says
    /// `true`.
    pub fn spawn(
        config: WatchConfig,
        ready: Sender<Ready>,
        stop: watch::Receiver<bool>,
    ) -> Watcher {
        let counters = Arc::new(Counters::default());
        let probe = WatchProbe {
            alive: Arc::new(AtomicBool::new(true)),
            busy_since: Arc::new(Mutex::new(None)),
        };
        let (hints_tx, hints_rx) = unbounded_channel::<Hint>();
        let events = if config.poll_only {
            None
        } else {
            kernel_events(&config.inbox, hints_tx.clone())
        };
        let settler = Settler {
            config,
            counters: Arc::clone(&counters),
            candidates: HashMap::new(),
            declared: HashMap::new(),
            warned: HashSet::new(),
            last_settle: None,
        };
        let alive = Alive(Arc::clone(&probe.alive));
        let busy_since = Arc::clone(&probe.busy_since);
        let task = tokio::spawn(async move {
            let _alive = alive;
            run(settler, events, hints_rx, ready, stop, busy_since).await;
        });
        Watcher {
            hints: hints_tx,
            task,
            counters,
            probe,
        }
    }

    /// A handle to give a declared file back: ingest could not take it (an I/O or database
    /// error), so it is declared again at the next scan while it is still there.
    pub fn retry_handle(&self) -> RetryHandle {
        RetryHandle(self.hints.clone())
    }

    /// Asks whether the watcher works (for the systemd watchdog and `/readyz`).
    pub fn probe(&self) -> WatchProbe {
        self.probe.clone()
    }

    pub fn stats(&self) -> WatchStats {
        WatchStats {
            seen: self.counters.seen.load(Ordering::Relaxed),
            ready: self.counters.ready.load(Ordering::Relaxed),
            rescans: self.counters.rescans.load(Ordering::Relaxed),
            wakeups: self.counters.wakeups.load(Ordering::Relaxed),
        }
    }

    /// Waits for the task to end (after `stop`), at most `limit`: a scan stuck in a
    /// hung share is left behind, not waited for.
    pub async fn join(self, limit: Duration) -> bool {
        tokio::time::timeout(limit, self.task).await.is_ok()
    }
}

/// The watcher's loop: wait for an event, a retry, the rescan timer, a candidate falling
/// due or the stop; then do the file-system work on the blocking pool and hand over what
/// is ready. Asleep (no timer but the rescan) while nothing is pending.
async fn run(
    mut settler: Settler,
    events: Option<notify::RecommendedWatcher>,
    mut hints: UnboundedReceiver<Hint>,
    ready: Sender<Ready>,
    mut stop: watch::Receiver<bool>,
    busy_since: Arc<Mutex<Option<Instant>>>,
) {
    // Over 80 lines on purpose: the watcher's event loop: one `select` over events, timers and
    // stop, with the state it keeps between rounds (pending candidates, the rescan clock).
    // Kept alive as long as the loop runs; dropping it ends the kernel events.
    let _events = events;
    let period = if settler.config.poll_only {
        settler.config.poll_interval.min(settler.config.rescan)
    } else {
        settler.config.rescan
    };
    let mut rescans = tokio::time::interval(period);
    rescans.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next_due: Option<Instant> = None;
    let mut received: Vec<Hint> = Vec::new();
    let mut hints_open = true;
    // Declared files not yet taken by the dispatcher. They wait here, not in a send
    // loop: while the loop waited to hand over a burst, the events of the files being
    // ingested (each renamed aside and removed) piled up unread, 180,000 of them and
    // 30 MB in a 50,000-file burst.
    let mut outgoing: VecDeque<Ready> = VecDeque::new();
    loop {
        let mut rescan = false;
        // Asleep until the next candidate falls due (a file is declared as soon as it has
        // settled), an event, or the rescan; with nothing pending the only timer is the
        // rescan. No tick in between: nothing changes for a candidate before it is due, and
        // waking every 50 ms while one settles cost 20 wake-ups a second.
        let due = next_due.map(tokio::time::Instant::from_std);
        tokio::select! {
            biased;
            _ = crate::recovery::stopped(&mut stop) => return,
            permit = ready.reserve(), if !outgoing.is_empty() => {
                let (Ok(permit), Some(r)) = (permit, outgoing.pop_front()) else {
                    return;
                };
                permit.send(r);
                continue;
            }
            _ = rescans.tick() => rescan = true,
            n = hints.recv_many(&mut received, 4096), if hints_open => {
                // Kernel events and retries are gone: rescans still find every file.
                if n == 0 {
                    hints_open = false;
                }
            }
            _ = tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)), if due.is_some() => {}
        }
        settler.counters.wakeups.fetch_add(1, Ordering::Relaxed);
        // During a burst, whatever else arrived goes along in the same piece of work.
        while let Ok(h) = hints.try_recv() {
            received.push(h);
            if received.len() >= 65_536 {
                break;
            }
        }
        let batch = std::mem::take(&mut received);
        *busy_since.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        let work = tokio::task::spawn_blocking(move || {
            let rescanned = settler.take(batch, rescan);
            let (declared, due) = settler.settle_due();
            (settler, rescanned, declared, due)
        })
        .await;
        *busy_since.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let declared;
        let rescanned;
        match work {
            Ok((s, r, d, due)) => {
                settler = s;
                rescanned = r;
                declared = d;
                next_due = due;
            }
            Err(e) => {
                tracing::error!(error = %e, "the watcher failed (a bug); stopping it");
                return;
            }
        }
        if rescanned && !rescan {
            // A scan forced by an event (a folder moved in) counts as the periodic one.
            rescans.reset();
        }
        outgoing.extend(declared);
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
fn kernel_events(inbox: &Path, hints: UnboundedSender<Hint>) -> Option<notify::RecommendedWatcher> {
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
    counters: Arc<Counters>,
    candidates: HashMap<PathBuf, Candidate>,
    /// Declared once per identity: not again while it is unchanged (ingest removes it).
    declared: HashMap<PathBuf, FileIdentity>,
    /// Problems already logged, so that a rescan every minute does not flood the log.
    warned: HashSet<PathBuf>,
    /// When the candidates were last looked through.
    last_settle: Option<Instant>,
}

impl Settler {
    /// Takes what arrived: retries, paths that changed, requests for a rescan; scans when
    /// asked to (`rescan`) or when a folder appeared. Returns whether it scanned.
    fn take(&mut self, hints: Vec<Hint>, mut rescan: bool) -> bool {
        for hint in hints {
            match hint {
                Hint::Rescan => rescan = true,
                Hint::Retry(p) => {
                    self.declared.remove(&p);
                }
                Hint::Path(p) => {
                    // A folder created or moved in: its files came with it, unannounced.
                    // Not for folders never read (`回执`, hidden): the receipts the daemon
                    // writes would otherwise start a rescan each.
                    if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir())
                        && !self.in_ignored_folder(&p)
                    {
                        rescan = true;
                    } else {
                        self.consider(&p);
                    }
                }
            }
        }
        if rescan {
            self.scan();
        }
        rescan
    }

    /// Looks through the candidates at most every 5 ms: during a burst events wake the
    /// loop thousands of times a second, and this keeps the cost linear. Returns the files
    /// declared and when the next candidate falls due.
    fn settle_due(&mut self) -> (Vec<Ready>, Option<Instant>) {
        let throttle = Duration::from_millis(5);
        if let Some(last) = self.last_settle
            && last.elapsed() < throttle
        {
            let due = (!self.candidates.is_empty()).then(|| last + throttle);
            return (Vec::new(), due);
        }
        self.last_settle = Some(Instant::now());
        self.settle()
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
    /// Returns the files declared, and when the next remaining candidate falls due (for the
    /// loop's sleep).
    fn settle(&mut self) -> (Vec<Ready>, Option<Instant>) {
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
        for r in &ready {
            tracing::debug!(path = %r.path.display(), size = r.identity.size, "complete");
            self.declared.insert(r.path.clone(), r.identity);
            self.counters.ready.fetch_add(1, Ordering::Relaxed);
        }
        (ready, next_due)
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

    /// A watcher on a runtime of its own, as the daemon runs it.
    struct Running {
        rt: tokio::runtime::Runtime,
        watcher: Option<Watcher>,
        rx: tokio::sync::mpsc::Receiver<Ready>,
        stop: watch::Sender<bool>,
    }

    impl Running {
        fn start(config: WatchConfig, capacity: usize) -> Running {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let (tx, rx) = tokio::sync::mpsc::channel(capacity);
            let (stop, stopped) = watch::channel(false);
            let watcher = {
                let _entered = rt.enter();
                Watcher::spawn(config, tx, stopped)
            };
            Running {
                rt,
                watcher: Some(watcher),
                rx,
                stop,
            }
        }

        /// Everything declared within `wait`.
        fn collect(&mut self, wait: Duration) -> Vec<Ready> {
            let deadline = Instant::now() + wait;
            let mut out = Vec::new();
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                let rx = &mut self.rx;
                match self
                    .rt
                    .block_on(async { tokio::time::timeout(left, rx.recv()).await })
                {
                    Ok(Some(r)) => out.push(r),
                    _ => break,
                }
            }
            out
        }

        fn stats(&self) -> WatchStats {
            self.watcher.as_ref().unwrap().stats()
        }

        /// Stops the watcher; whether it ended within two seconds.
        fn stop(mut self) -> bool {
            let _ = self.stop.send(true);
            let w = self.watcher.take().unwrap();
            self.rt.block_on(w.join(Duration::from_secs(2)))
        }
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
        let mut w = Running::start(config(&inbox, false), 16);
        // Several rescans happen in this time: still once each.
        let got = w.collect(Duration::from_millis(2500));
        assert_eq!(names(&got), ["r1.txt", "top.txt"]);
        assert!(w.stats().rescans >= 2);
        assert!(w.stop());
    }

    #[test]
    fn slow_writer_is_declared_once_complete() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().to_path_buf();
        let mut w = Running::start(config(&inbox, false), 16);
        let path = inbox.join("slow.txt");
        let mut f = std::fs::File::create(&path).unwrap();
        for _ in 0..5 {
            f.write_all(&[b'x'; 1000]).unwrap();
            f.flush().unwrap();
            std::thread::sleep(Duration::from_millis(150));
        }
        drop(f);
        let got = w.collect(Duration::from_millis(1500));
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].identity.size, 5000);
        assert!(w.stop());
    }

    #[test]
    fn new_folders_and_moved_in_folders() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("inbox");
        std::fs::create_dir_all(&inbox).unwrap();
        let mut w = Running::start(config(&inbox, false), 16);
        std::thread::sleep(Duration::from_millis(100));
        std::fs::create_dir_all(inbox.join("new")).unwrap();
        std::fs::write(inbox.join("new/a.txt"), "a").unwrap();
        let staging = dir.path().join("staging");
        std::fs::create_dir_all(&staging).unwrap();
        for n in ["b.txt", "c.txt", "d.txt"] {
            std::fs::write(staging.join(n), n).unwrap();
        }
        std::fs::rename(&staging, inbox.join("moved")).unwrap();
        let got = w.collect(Duration::from_millis(2000));
        assert_eq!(names(&got), ["a.txt", "b.txt", "c.txt", "d.txt"]);
        assert!(w.stop());
    }

    #[test]
    fn deleted_before_settling_never_and_replaced_again() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().to_path_buf();
        let mut w = Running::start(config(&inbox, false), 16);
        std::fs::write(inbox.join("gone.txt"), "x").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        std::fs::remove_file(inbox.join("gone.txt")).unwrap();
        std::fs::write(inbox.join("same.txt"), "v1").unwrap();
        let got = w.collect(Duration::from_millis(1200));
        assert_eq!(names(&got), ["same.txt"]);
        // A new version under the same name is a new drop.
        std::fs::remove_file(inbox.join("same.txt")).unwrap();
        std::fs::write(inbox.join("same.txt"), "version two").unwrap();
        let again = w.collect(Duration::from_millis(1500));
        assert_eq!(names(&again), ["same.txt"]);
        assert_eq!(again[0].identity.size, 11);
        assert!(w.stop());
    }

    #[test]
    fn poll_only_mode_finds_files() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().to_path_buf();
        let mut w = Running::start(config(&inbox, true), 16);
        std::fs::create_dir_all(inbox.join("a")).unwrap();
        std::fs::write(inbox.join("a/p.txt"), "p").unwrap();
        let got = w.collect(Duration::from_millis(1500));
        assert_eq!(names(&got), ["p.txt"]);
        assert!(w.stop());
    }

    #[test]
    fn a_thousand_files_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().to_path_buf();
        std::fs::create_dir_all(inbox.join("a")).unwrap();
        let mut w = Running::start(config(&inbox, false), 8);
        for i in 0..1000 {
            std::fs::write(inbox.join(format!("a/{i}.txt")), i.to_string()).unwrap();
        }
        let got = w.collect(Duration::from_millis(4000));
        let unique: HashSet<&PathBuf> = got.iter().map(|r| &r.path).collect();
        assert_eq!(got.len(), 1000);
        assert_eq!(unique.len(), 1000);
        assert!(w.stop());
    }

    #[test]
    fn idle_watcher_sleeps_until_the_next_rescan() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().to_path_buf();
        for i in 0..50 {
            std::fs::create_dir_all(inbox.join(format!("a{i}/回执"))).unwrap();
            std::fs::write(inbox.join(format!("a{i}/回执/r.txt")), "r").unwrap();
        }
        let mut cfg = config(&inbox, false);
        cfg.rescan = Duration::from_secs(60);
        let mut w = Running::start(cfg, 16);
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
        let got = w.collect(Duration::from_millis(1500));
        assert_eq!(names(&got), ["new.txt"]);
        assert!(w.stop(), "the watcher did not end within 2 s of the stop");
    }

    #[test]
    fn stop_returns_even_with_a_full_channel() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().to_path_buf();
        for i in 0..5 {
            std::fs::write(inbox.join(format!("{i}.txt")), "x").unwrap();
        }
        let w = Running::start(config(&inbox, false), 1);
        std::thread::sleep(Duration::from_millis(600));
        assert!(w.stop(), "the watcher did not end within 2 s of the stop");
    }
}
