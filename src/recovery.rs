//! Keeping the daemon going when something keeps failing (a full disk, a read-only or
//! damaged database): repeated identical failures are logged once a minute instead of at
//! every attempt, retried with a growing pause instead of at once, and reported to the admin
//! once; and the daemon's timers sleep on tokio timers and notifications, so that waiting
//! costs nothing and a stop ends every wait at once.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a failure that keeps repeating is logged again.
pub const LOG_EVERY: Duration = Duration::from_secs(60);

/// The first pause after a failure; it doubles with each repeat, up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(500);

/// The longest pause between attempts: short enough that a freed disk is used soon.
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// Repeats after which the admin is told (one failure is often a passing one).
pub const NOTIFY_AFTER: u32 = 3;

/// What a failure means for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Write a log line now (the first of its kind, or a minute after the last line).
    pub log: bool,
    /// Times this failure has happened in a row, this one included.
    pub count: u32,
    /// Wait this long before trying the same again.
    pub pause: Duration,
    /// The admin should be told now (`Streak::notified` once that worked).
    pub notify: bool,
    /// When the run of failures began (UTC, RFC 3339): names the admin notice, once.
    pub since: String,
}

#[derive(Debug)]
struct Run {
    cause: String,
    count: u32,
    since: String,
    last_log: Instant,
    notified: bool,
}

/// A run of identical failures of one activity (ingesting, delivering, retrying).
#[derive(Debug, Default)]
pub struct Streak {
    run: Mutex<Option<Run>>,
}

impl Streak {
    /// Notes a failure whose root cause reads `cause` (identical causes are one run; the
    /// root cause, since the outer messages name changing temporary files).
    pub fn fail(&self, cause: &str) -> Failure {
        let mut run = self.run.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match run.as_mut() {
            Some(r) if r.cause == cause => {
                r.count = r.count.saturating_add(1);
                let log = now.duration_since(r.last_log) >= LOG_EVERY;
                if log {
                    r.last_log = now;
                }
                Failure {
                    log,
                    count: r.count,
                    pause: pause(r.count),
                    notify: !r.notified && r.count >= NOTIFY_AFTER,
                    since: r.since.clone(),
                }
            }
            _ => {
                let since = crate::time::now_utc();
                *run = Some(Run {
                    cause: cause.to_string(),
                    count: 1,
                    since: since.clone(),
                    last_log: now,
                    notified: false,
                });
                Failure {
                    log: true,
                    count: 1,
                    pause: pause(1),
                    notify: false,
                    since,
                }
            }
        }
    }

    /// The admin has been told about the current run.
    pub fn notified(&self) {
        if let Some(r) = self.run.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            r.notified = true;
        }
    }

    /// Notes a success: ends the run, if there was one.
    pub fn succeed(&self) -> Option<Ended> {
        let mut run = self.run.lock().unwrap_or_else(|e| e.into_inner());
        run.take().map(|r| Ended {
            count: r.count,
            notified: r.notified,
            since: r.since,
        })
    }
}

/// A run of failures that ended with a success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub count: u32,
    /// Whether the admin was told while it lasted.
    pub notified: bool,
    pub since: String,
}

fn pause(count: u32) -> Duration {
    FIRST_PAUSE
        .saturating_mul(1u32 << count.saturating_sub(1).min(10))
        .min(MAX_PAUSE)
}

/// A sleep that ends early when woken (`kick`) or stopped; waiting costs no CPU (a tokio
/// timer and a `Notify`, no polling).
#[derive(Debug, Default)]
pub struct Wakeup {
    stopped: AtomicBool,
    notify: tokio::sync::Notify,
}

impl Wakeup {
    /// Waits up to `timeout`, or until kicked or stopped. `false` once stopped.
    pub async fn wait(&self, timeout: Duration) -> bool {
        if self.is_stopped() {
            return false;
        }
        // A kick or stop that came before this wait left a permit: it returns at once.
        let _ = tokio::time::timeout(timeout, self.notify.notified()).await;
        !self.is_stopped()
    }

    /// Ends the current (or next) wait early.
    pub fn kick(&self) {
        self.notify.notify_one();
    }

    /// Ends every wait, now and later.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }
}

/// Returns once `stop` says `true` (at once if it already does, or if its sender is gone).
/// Holds no borrow of the channel across an await, unlike `wait_for`'s answer.
pub async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The root cause of an error, as one line: what identifies "the same failure again".
pub fn root_cause(e: &anyhow::Error) -> String {
    e.root_cause().to_string()
}

/// The message of a caught panic (`panic!` gives a `&str` or a `String`).
pub fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_failures_are_logged_once_paused_longer_and_notified_once() {
        let s = Streak::default();
        let first = s.fail("No space left on device (os error 28)");
        assert!(first.log && !first.notify);
        let second = s.fail("No space left on device (os error 28)");
        assert!(!second.log && !second.notify);
        assert!(second.pause > first.pause);
        let third = s.fail("No space left on device (os error 28)");
        assert!(!third.log && third.notify);
        s.notified();
        assert!(!s.fail("No space left on device (os error 28)").notify);
        for _ in 0..40 {
            assert!(s.fail("No space left on device (os error 28)").pause <= MAX_PAUSE);
        }
        // Another cause is a new run, logged at once.
        assert!(s.fail("database is locked").log);
        assert!(s.succeed().is_some_and(|e| e.count == 1 && !e.notified));
        assert_eq!(s.succeed(), None);
    }

    #[test]
    fn a_wakeup_ends_on_kick_and_on_stop() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let w = std::sync::Arc::new(Wakeup::default());
        w.kick();
        assert!(rt.block_on(w.wait(Duration::from_secs(60))));
        let w2 = std::sync::Arc::clone(&w);
        let t = rt.spawn(async move { w2.wait(Duration::from_secs(60)).await });
        std::thread::sleep(Duration::from_millis(50));
        w.stop();
        let ended = rt.block_on(async { tokio::time::timeout(Duration::from_secs(5), t).await });
        assert!(!ended.expect("the wait ended at the stop").unwrap());
        assert!(!rt.block_on(w.wait(Duration::from_secs(60))));
    }
}
