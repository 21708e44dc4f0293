//! Which part of the daemon works, for the systemd watchdog and `/readyz`.
//!
//! A part is alive while its task runs and none of its pieces of blocking work (checking
//! one submission, copying one file) has been running for longer than `stuck_after_s`.
//! Checking has its own bounds (converters are killed after two minutes), so a piece that
//! runs far longer is stuck: a read that never returns (a FIFO, a hung network share), a
//! lock that is never released. The watchdog is then no longer fed, and systemd restarts
//! the daemon; `/readyz` names the part and what it was doing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A piece of blocking work under way.
struct Busy {
    part: &'static str,
    /// What it works on, as `/readyz` may say it to anyone: a receipt number, never an
    /// inbox path.
    what: String,
    /// The inbox path, when there is one: for the log only, once it seems stuck.
    detail: Option<String>,
    since: Instant,
    logged: bool,
}

#[derive(Default)]
pub struct Liveness {
    stuck_after_s: AtomicU64,
    next: AtomicU64,
    busy: Mutex<HashMap<u64, Busy>>,
    ended: Mutex<Vec<&'static str>>,
    stopping: AtomicBool,
}

impl Liveness {
    pub fn new(stuck_after: Duration) -> Liveness {
        let l = Liveness::default();
        l.set_stuck_after(stuck_after);
        l
    }

    /// Taken from the configuration at start and at every reload.
    pub fn set_stuck_after(&self, stuck_after: Duration) {
        self.stuck_after_s
            .store(stuck_after.as_secs().max(1), Ordering::Relaxed);
    }

    fn stuck_after(&self) -> Duration {
        Duration::from_secs(self.stuck_after_s.load(Ordering::Relaxed).max(1))
    }

    /// Notes that `part` began `what`; the work is over when the guard is dropped (also
    /// by a panic).
    /// `what` must not name an inbox path (see [`Liveness::enter_file`]).
    pub fn enter(&self, part: &'static str, what: impl Into<String>) -> BusyGuard<'_> {
        self.enter_with(part, what.into(), None)
    }

    /// [`Liveness::enter`] for a file of the inbox not recorded yet: `/readyz` says "a new
    /// file", the log names `path` if the work seems stuck.
    pub fn enter_file(&self, part: &'static str, path: impl Into<String>) -> BusyGuard<'_> {
        self.enter_with(
            part,
            "a new file of the inbox (no receipt yet; its path is in the log)".into(),
            Some(path.into()),
        )
    }

    fn enter_with(
        &self,
        part: &'static str,
        what: String,
        detail: Option<String>,
    ) -> BusyGuard<'_> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.busy.lock().unwrap_or_else(|e| e.into_inner()).insert(
            id,
            Busy {
                part,
                what,
                detail,
                since: Instant::now(),
                logged: false,
            },
        );
        BusyGuard { liveness: self, id }
    }

    /// Notes that the task of `part` has ended.
    pub fn ended(&self, part: &'static str) {
        self.ended
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(part);
    }

    /// From now on the parts end on purpose.
    pub fn stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Why the daemon is not working, if it is not: a part that ended, or a piece of work
    /// that has run for longer than `stuck_after_s`.
    pub fn problem(&self) -> Option<String> {
        if self.stopping.load(Ordering::SeqCst) {
            return Some("the daemon is stopping".into());
        }
        if let Some(part) = self.ended.lock().unwrap_or_else(|e| e.into_inner()).first() {
            return Some(format!("the {part} has stopped; see the log"));
        }
        let limit = self.stuck_after();
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        let mut stuck = 0;
        for b in busy.values_mut().filter(|b| b.since.elapsed() > limit) {
            stuck += 1;
            if !b.logged {
                b.logged = true;
                tracing::warn!(
                    part = b.part,
                    work = %b.what,
                    path = %b.detail.as_deref().map(crate::escape::controls).unwrap_or_default(),
                    secs = b.since.elapsed().as_secs(),
                    "work seems stuck"
                );
            }
        }
        let oldest = busy.values().min_by_key(|b| b.since)?;
        let secs = oldest.since.elapsed().as_secs();
        (oldest.since.elapsed() > limit).then(|| {
            format!(
                "the {} has been busy for {secs} s with {} (stuck_after_s = {}; {stuck} piece{} \
                 of work running that long): it seems stuck, e.g. on a read that never \
                 returns; restart the service, and see the log",
                oldest.part,
                oldest.what,
                limit.as_secs(),
                if stuck == 1 { "" } else { "s" }
            )
        })
    }
}

/// See [`Liveness::enter`].
pub struct BusyGuard<'a> {
    liveness: &'a Liveness,
    id: u64,
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.liveness
            .busy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

/// Spawns the task of a part on the current runtime; when it ends, for whatever reason
/// (a panic included), `liveness` learns of it.
pub fn spawn_part<F>(
    liveness: &Arc<Liveness>,
    part: &'static str,
    task: F,
) -> tokio::task::JoinHandle<()>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    struct Ended(Arc<Liveness>, &'static str);
    impl Drop for Ended {
        fn drop(&mut self) {
            self.0.ended(self.1);
        }
    }
    let ended = Ended(Arc::clone(liveness), part);
    tokio::spawn(async move {
        let _ended = ended;
        task.await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_work_is_stuck_ended_parts_are_named() {
        let l = Liveness::new(Duration::from_secs(1));
        assert_eq!(l.problem(), None);
        {
            let _busy = l.enter("ingest worker", "receipt 2026-000001");
            assert_eq!(l.problem(), None, "fresh work is not stuck");
            std::thread::sleep(Duration::from_millis(1100));
            let p = l.problem().expect("stuck after 1 s");
            assert!(
                p.contains("ingest worker") && p.contains("2026-000001"),
                "{p}"
            );
        }
        assert_eq!(l.problem(), None, "the guard ended the work");
        l.ended("watcher");
        assert!(
            l.problem()
                .is_some_and(|p| p.contains("watcher has stopped"))
        );
    }
}
