//! The daemon's HTTP server (`[http] listen`), on the real daemon: `/metrics` checked by a
//! real parser (`promtool check metrics`, Debian package `prometheus`), also while a burst
//! of files is being ingested; `/readyz` turning 503 with the reason while another process
//! holds the database's write lock, and back; `/healthz`; unknown paths; no port opened
//! without the key; the deprecated `[metrics] listen`; the server's threads asleep while
//! idle.

mod harness;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use harness::http::promtool_accepts;
use harness::{CHECKED, Daemon, distinct_report, fixture};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A daemon of the harness with its HTTP server on a free port.
fn daemon_with_http() -> (Daemon, u16) {
    let port = free_port();
    let d = Daemon::with_config("", &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    (d, port)
}

/// One HTTP/1.1 request (`Connection: close`): (status code, body), or `None` when nothing
/// listens.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    s.read_to_string(&mut response).expect("response");
    let (head, body) = response.split_once("\r\n\r\n").expect("head and body");
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    Some((code, body.to_string()))
}

/// Waits until the server answers `path` (the daemon is starting).
fn wait_get(port: u16, path: &str) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(answer) = get(port, path) {
            return answer;
        }
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Polls `path` until its status is `code`; the last body.
fn wait_status(port: u16, path: &str, code: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (got, body) = wait_get(port, path);
        if got == code {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{path} still {got} ({body}), expected {code}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The value of the sample line `name` (with its labels) in `page`.
fn sample(page: &str, name: &str) -> f64 {
    page.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{page}"))
}

/// Listening TCP sockets of process `pid` (from its descriptors and /proc/net/tcp{,6}).
fn listening_sockets(pid: u32) -> usize {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fds")
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().into_owned();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|t| t.lines().skip(1).map(str::to_string).collect::<Vec<_>>())
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(3) == Some(&"0A") && f.get(9).is_some_and(|i| inodes.contains(*i))
        })
        .count()
}

#[test]
fn metrics_count_what_happened_and_promtool_accepts_them() {
    let (mut d, port) = daemon_with_http();
    std::fs::write(
        d.inbox().join("xss/a.txt"),
        fixture("000_d016082c1b868431.txt"),
    )
    .expect("w");
    std::fs::write(
        d.inbox().join("lc/b.txt"),
        fixture("001_41152148c7aabaad.txt"),
    )
    .expect("w");
    std::fs::write(d.inbox().join("lc/c.txt"), b"").expect("w");
    d.start();
    d.wait_count(CHECKED, 3, 30);
    d.wait_count("SELECT count(*) FROM outbox WHERE state = 'pending'", 0, 30);
    let (code, page) = wait_get(port, "/metrics");
    assert_eq!(code, 200, "{page}");
    promtool_accepts(&page);
    for line in [
        "nianbao_files_total{outcome=\"accepted\"} 1",
        "nianbao_files_total{outcome=\"rejected\"} 1",
        "nianbao_files_total{outcome=\"unreadable\"} 1",
        "nianbao_files_total{outcome=\"duplicate\"} 0",
        "nianbao_files_seen_total 3",
        "nianbao_check_seconds_count 3",
        "nianbao_outbox_depth 0",
        "nianbao_outbox_oldest_age_seconds 0",
        // xss: 1 address; lc: 2 addresses × 2 files; the unreadable one also to the admin.
        "nianbao_emails_total{result=\"sent\"} 6",
    ] {
        assert!(page.lines().any(|l| l == line), "{line} in\n{page}");
    }
    // The last commit: after the daemon started, not in the future.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    let committed = sample(&page, "nianbao_last_commit_timestamp_seconds");
    assert!(
        committed > now - 600.0 && committed <= now + 1.0,
        "{committed} vs {now}"
    );
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn metrics_stay_valid_during_a_burst_and_the_counters_grow() {
    const FILES: usize = 200;
    let (mut d, port) = daemon_with_http();
    d.start();
    assert_eq!(wait_get(port, "/healthz").0, 200);
    for i in 0..FILES {
        let folder = if i % 2 == 0 { "xss" } else { "lc" };
        std::fs::write(
            d.inbox().join(format!("{folder}/r{i:03}.txt")),
            distinct_report(i),
        )
        .expect("drop");
    }
    // Scrapes while the burst is worked through: every one parses, no counter goes back.
    let (mut last_seen, mut last_checked) = (0.0, 0.0);
    let mut scrapes_during = 0;
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let (code, page) = wait_get(port, "/metrics");
        assert_eq!(code, 200, "{page}");
        promtool_accepts(&page);
        let seen = sample(&page, "nianbao_files_seen_total");
        let checked = sample(&page, "nianbao_check_seconds_count");
        assert!(
            seen >= last_seen,
            "files_seen went back: {last_seen} -> {seen}"
        );
        assert!(
            checked >= last_checked,
            "checks went back: {last_checked} -> {checked}"
        );
        (last_seen, last_checked) = (seen, checked);
        if seen as usize >= FILES && checked as usize >= FILES {
            break;
        }
        if seen > 0.0 {
            scrapes_during += 1;
        }
        assert!(Instant::now() < deadline, "burst not done\n{page}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(scrapes_during > 0, "no scrape fell inside the burst");
    // Each file counted once: none checked twice by a worker and the retry.
    d.wait_count(CHECKED, FILES as i64, 60);
    let (_, page) = wait_get(port, "/metrics");
    for name in [
        "nianbao_files_seen_total",
        "nianbao_files_total{outcome=\"accepted\"}",
        "nianbao_check_seconds_count",
    ] {
        assert_eq!(sample(&page, name), FILES as f64, "{name}\n{page}");
    }
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn readyz_says_why_while_another_process_holds_the_database() {
    let (mut d, port) = daemon_with_http();
    d.start();
    assert_eq!(wait_status(port, "/readyz", 200), "ready\n");
    let conn = d.db_rw();
    conn.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let body = wait_status(port, "/readyz", 503);
    assert!(
        body.contains("not writable") && body.contains("locked"),
        "{body}"
    );
    // Liveness does not depend on the database.
    assert_eq!(get(port, "/healthz"), Some((200, "ok\n".to_string())));
    conn.execute_batch("ROLLBACK").expect("unlock");
    assert_eq!(wait_status(port, "/readyz", 200), "ready\n");
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn readyz_says_the_outbox_is_stuck() {
    let (mut d, port) = daemon_with_http();
    d.start();
    assert_eq!(wait_status(port, "/readyz", 200), "ready\n");
    // A message queued an hour ago that failed twice and waits for its next attempt.
    d.db_rw()
        .execute(
            "INSERT INTO outbox (kind, recipient, idempotency_key, subject, body_text, state,
                 attempts, next_attempt_at, last_error, created_at)
             VALUES ('notice', 'admin@office.example.cn', 'test/stuck', 's', 'b', 'pending',
                 2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+1 hour'), 'connection refused',
                 strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 hour'))",
            [],
        )
        .expect("insert");
    let body = wait_status(port, "/readyz", 503);
    assert!(
        body.contains("outbox is stuck") && body.contains("connection refused"),
        "{body}"
    );
    let (_, page) = wait_get(port, "/metrics");
    assert_eq!(sample(&page, "nianbao_outbox_depth"), 1.0, "{page}");
    let age = sample(&page, "nianbao_outbox_oldest_age_seconds");
    assert!((3500.0..3700.0).contains(&age), "{age}\n{page}");
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn healthz_answers_and_unknown_paths_are_404() {
    let (mut d, port) = daemon_with_http();
    d.start();
    assert_eq!(wait_get(port, "/healthz"), (200, "ok\n".to_string()));
    let (code, body) = wait_get(port, "/metrics/../etc/passwd");
    assert_eq!(code, 404, "{body}");
    let (code, body) = wait_get(port, "/no-such-page");
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("/metrics"), "{body}");
    let pid = d.pid().expect("running");
    assert_eq!(listening_sockets(pid), 1);
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn no_server_without_http_listen() {
    let mut d = Daemon::new();
    d.start();
    d.wait_log("watching", 30);
    let pid = d.pid().expect("running");
    assert_eq!(listening_sockets(pid), 0);
    assert!(!d.log().contains("HTTP server"), "{}", d.log());
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn the_old_metrics_listen_key_still_serves_and_warns() {
    let port = free_port();
    let mut d = Daemon::with_config("", &format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"));
    d.start();
    let (code, page) = wait_get(port, "/metrics");
    assert_eq!(code, 200);
    promtool_accepts(&page);
    assert!(
        d.log()
            .contains("[metrics] listen is the old name of [http] listen"),
        "{}",
        d.log()
    );
    let (code, _, stderr) = d.cli(&["config", "check"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("old name of [http] listen"), "{stderr}");
    assert_eq!(d.stop(), Some(0));
}

/// Voluntary and involuntary context switches of every thread of `pid`.
fn switches(pid: u32) -> u64 {
    let mut switches = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("tasks")
        .flatten()
    {
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        switches += status
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    switches
}

#[test]
fn the_daemon_and_its_server_sleep_while_nobody_asks() {
    let (mut d, port) = daemon_with_http();
    // The rescan and the retry at their default minute, not the tests' second.
    let config = d.dir.path().join("nianbao.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace("rescan_interval_s = 1\n", "rescan_interval_s = 60\n"),
    )
    .expect("config");
    d.start();
    assert_eq!(wait_get(port, "/metrics").0, 200);
    assert_eq!(wait_get(port, "/readyz").0, 200);
    std::thread::sleep(Duration::from_millis(500));
    let pid = d.pid().expect("running");
    let before = switches(pid);
    // Under the blocking pool's 10 s keep-alive: the threads that answered wait without
    // waking. The daemon's timers in 3 s: at most one mail round (5 s) and one status tick
    // (10 s), a few switches each.
    std::thread::sleep(Duration::from_secs(3));
    let after = switches(pid);
    // The old server woke every 50 ms (60 times in 3 s); a sleeping daemon a handful.
    assert!(
        after - before <= 30,
        "{} context switches of the daemon in 3 s idle",
        after - before
    );
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn a_client_holding_a_connection_open_does_not_hold_up_a_stop() {
    let (mut d, port) = daemon_with_http();
    d.start();
    assert_eq!(wait_get(port, "/healthz").0, 200);
    // Half a request, never finished: the server waits for the rest.
    let mut open = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    open.write_all(b"GET /metrics HTTP/1.1\r\nHost: loc")
        .expect("half a request");
    std::thread::sleep(Duration::from_millis(200));
    // The harness allows 10 s; the server's share is bounded at a few.
    assert_eq!(d.stop(), Some(0));
    assert!(d.log().contains("stopped"), "{}", d.log());
}
