//! An idle daemon stays idle: with nothing arriving it wakes only for its own timers, not
//! for the reads of its own rescans (which inotify reports as open/close-nowrite events).
//!
//! Counts the daemon's context switches (every thread, from /proc) over an idle period and
//! compares them with what its timers allow; no wall-clock assertion.

mod harness;

use std::time::Duration;

use harness::{CHECKED, Daemon, fixture};

/// How long the idle period lasts.
const IDLE: Duration = Duration::from_secs(5);

/// Timer wake-ups the daemon's timers allow in [`IDLE`] on built-in defaults: the mail
/// task's round every 5 s (1), the status tick every 10 s (1), the rescan and the retry
/// every 60 s (1 between them, rounded up). Nothing else has a timer: the watcher waits
/// for events, the workers for files, HTTP for clients.
const TIMER_WAKEUPS: u64 = 3;

/// Context switches one timer wake-up may cost: the runtime thread that runs the task,
/// a thread of the blocking pool for its database query, and back.
const SWITCHES_PER_WAKEUP: u64 = 6;

/// Voluntary and involuntary context switches of every thread of `pid`.
fn context_switches(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .flat_map(|status| {
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

/// A daemon on built-in defaults (settle 2 s, rescan 60 s, no agencies), with `folders`
/// agency folders each holding a receipts folder of `receipts` files.
fn idle_daemon(folders: usize, receipts: usize) -> Daemon {
    let d = Daemon::new();
    let inbox = d.inbox();
    std::fs::write(
        d.dir.path().join("nianbao.toml"),
        format!(
            "inbox = {:?}\ndata_dir = {:?}\n",
            inbox,
            d.dir.path().join("data")
        ),
    )
    .expect("config");
    for i in 0..folders {
        let dir = inbox.join(format!("agency{i:03}/回执"));
        std::fs::create_dir_all(&dir).expect("folder");
        for j in 0..receipts {
            std::fs::write(dir.join(format!("r{j}.txt.txt")), "回执").expect("receipt");
        }
    }
    d
}

/// Waits until the daemon logs that it watches, and a little more for the first scan.
fn wait_watching(d: &Daemon) {
    for _ in 0..200 {
        if d.log().contains("watching") {
            std::thread::sleep(Duration::from_secs(1));
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("daemon did not start\n{}", d.log());
}

/// Context switches over the idle period, and the bound the timers allow (doubled, plus
/// a constant for the odd scheduler preemption).
fn measure(d: &Daemon) -> (u64, u64) {
    let pid = d.pid().expect("running");
    let before = context_switches(pid);
    std::thread::sleep(IDLE);
    let after = context_switches(pid);
    let bound = 2 * TIMER_WAKEUPS * SWITCHES_PER_WAKEUP + 20;
    eprintln!(
        "{} context switches in {IDLE:?}, bound {bound}",
        after - before
    );
    (after - before, bound)
}

/// Asserts that the daemon stayed within its timers' wake-ups over the idle period.
fn assert_idle(d: &Daemon, when: &str) {
    let (switches, bound) = measure(d);
    assert!(
        switches <= bound,
        "{switches} context switches in {IDLE:?} idle{when}, timers allow {bound}"
    );
}

#[test]
fn idle_daemon_wakes_only_for_its_timers() {
    let mut d = idle_daemon(100, 5);
    d.start();
    wait_watching(&d);
    assert_idle(&d, "");

    // After work: a report processed, its receipt written, its mail spooled; then idle
    // again.
    std::fs::write(
        d.inbox().join("agency001/report.txt"),
        fixture("000_d016082c1b868431.txt"),
    )
    .expect("drop");
    d.wait_count(CHECKED, 1, 30);
    d.wait_count("SELECT count(*) FROM outbox WHERE state = 'pending'", 0, 30);
    std::thread::sleep(Duration::from_secs(1));
    assert_idle(&d, " after a drop");
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn idle_empty_inbox_wakes_only_for_its_timers() {
    let mut d = idle_daemon(0, 0);
    d.start();
    wait_watching(&d);
    assert_idle(&d, "");
    assert_eq!(d.stop(), Some(0));
}
