//! The daemon's runtime (issue 15): a stop in the middle of a burst, a mail server that
//! accepts connections and never answers, a part that hangs. On the real daemon, its real
//! database, real files, and real TCP servers on 127.0.0.1 that misbehave on purpose.

mod harness;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use harness::{CHECKED, Daemon, distinct_report, fixture};

/// How a [`MisbehavingServer`] treats its clients.
#[derive(Clone)]
enum Behaviour {
    /// Accepts the connection and never says a word (not even the greeting).
    Silent,
    /// Speaks SMTP, but never answers `RCPT TO` for this address (the connection hangs).
    StallOn(String),
}

/// A mail server over TCP on 127.0.0.1 that misbehaves as told and records what it
/// delivered (one entry per accepted recipient).
struct MisbehavingServer {
    port: u16,
    /// Connections accepted so far.
    accepted: Arc<AtomicUsize>,
    /// Connections hanging right now (never answered).
    hanging: Arc<AtomicUsize>,
    delivered: Arc<Mutex<Vec<String>>>,
}

impl MisbehavingServer {
    fn start(behaviour: Behaviour) -> MisbehavingServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = MisbehavingServer {
            port,
            accepted: Arc::default(),
            hanging: Arc::default(),
            delivered: Arc::default(),
        };
        let (accepted, hanging, delivered) = (
            Arc::clone(&server.accepted),
            Arc::clone(&server.hanging),
            Arc::clone(&server.delivered),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                accepted.fetch_add(1, Ordering::SeqCst);
                let (behaviour, hanging, delivered) = (
                    behaviour.clone(),
                    Arc::clone(&hanging),
                    Arc::clone(&delivered),
                );
                std::thread::spawn(move || serve(stream, &behaviour, &hanging, &delivered));
            }
        });
        server
    }

    fn delivered(&self) -> Vec<String> {
        self.delivered.lock().expect("lock").clone()
    }
}

/// Holds a connection without answering until the client closes it.
fn hang(mut stream: TcpStream, hanging: &AtomicUsize) {
    hanging.fetch_add(1, Ordering::SeqCst);
    let mut buf = [0u8; 1024];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
    hanging.fetch_sub(1, Ordering::SeqCst);
}

fn serve(
    stream: TcpStream,
    behaviour: &Behaviour,
    hanging: &AtomicUsize,
    delivered: &Mutex<Vec<String>>,
) {
    let stall = match behaviour {
        Behaviour::Silent => return hang(stream, hanging),
        Behaviour::StallOn(address) => address.clone(),
    };
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut lines = BufReader::new(stream);
    let mut say = |text: &str| out.write_all(format!("{text}\r\n").as_bytes()).is_ok();
    if !say("220 misbehaving.test ESMTP") {
        return;
    }
    let mut recipients: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if !matches!(lines.read_line(&mut line), Ok(n) if n > 0) {
            return;
        }
        let upper = line.trim_end().to_ascii_uppercase();
        let ok = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            say("250 misbehaving.test")
        } else if upper.starts_with("RCPT TO:") {
            let address = line
                .trim_end()
                .split(['<', '>'])
                .nth(1)
                .unwrap_or_default()
                .to_string();
            if address == stall {
                return hang(lines.into_inner(), hanging);
            }
            recipients.push(address);
            say("250 OK")
        } else if upper.starts_with("DATA") {
            if !say("354 go ahead") {
                return;
            }
            loop {
                line.clear();
                if !matches!(lines.read_line(&mut line), Ok(n) if n > 0) {
                    return;
                }
                if line.trim_end() == "." {
                    break;
                }
            }
            delivered.lock().expect("lock").extend(recipients.drain(..));
            say("250 queued")
        } else if upper.starts_with("QUIT") {
            let _ = say("221 bye");
            return;
        } else {
            say("250 OK")
        };
        if !ok {
            return;
        }
    }
}

/// `[mail]` keys and `[mail.smtp]` for a server on `port` with a `timeout_s` of 2 s and
/// retries after 1 s, 2 s, …
fn mail_keys(port: u16) -> String {
    format!(
        "retry_base_s = 1\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\ntimeout_s = 2\n"
    )
}

/// A daemon mailing through a [`MisbehavingServer`], with a report dropped for xss.
fn report_to_misbehaving_server(behaviour: Behaviour) -> (MisbehavingServer, Daemon) {
    let server = MisbehavingServer::start(behaviour);
    let mut d = Daemon::with_config(&mail_keys(server.port), "");
    d.start();
    std::fs::write(
        d.inbox().join("xss/report.txt"),
        fixture("000_d016082c1b868431.txt"),
    )
    .expect("drop");
    (server, d)
}

/// Sends SIGTERM and returns how long the daemon took to exit, and its exit code.
fn terminate(child: &mut std::process::Child) -> (Duration, Option<i32>) {
    let started = Instant::now();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return (started.elapsed(), status.code());
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            return (started.elapsed(), None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The daemon of `d`, started by hand so that the test can time its stop.
fn spawn(d: &Daemon, vars: &[(&str, &str)]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("run")
        .arg("--config")
        .arg(d.dir.path().join("nianbao.toml"))
        .env("RUST_LOG", "info")
        .envs(vars.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(d.dir.path().join("daemon.log"))
                .expect("log"),
        ))
        .spawn()
        .expect("start nianbao run")
}

fn wait_until(secs: u64, what: &str, d: &Daemon, mut pred: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if pred() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what}: not within {secs} s\n{}", d.log());
}

#[test]
fn sigterm_during_a_2000_file_burst_stops_within_5_s_and_a_restart_stores_each_once() {
    let d = Daemon::new();
    let n = 2000;
    let mut child = spawn(&d, &[]);
    wait_until(60, "watching", &d, || d.log().contains("watching"));
    for i in 0..n {
        let folder = if i % 2 == 0 { "xss" } else { "lc" };
        std::fs::write(
            d.inbox().join(format!("{folder}/r{i:04}.txt")),
            distinct_report(5000 + i),
        )
        .expect("drop");
    }
    // In the middle of the burst: some stored, most not yet.
    wait_until(120, "a first part of the burst stored", &d, || {
        d.count("SELECT count(*) FROM submissions") >= 100
    });
    let (took, code) = terminate(&mut child);
    let stored_at_stop = d.count("SELECT count(*) FROM submissions");
    eprintln!("stopped {took:?} after SIGTERM with {stored_at_stop} of {n} stored");
    assert_eq!(code, Some(0), "{}", d.log());
    assert!(
        took <= Duration::from_secs(5),
        "the stop took {took:?}\n{}",
        d.log()
    );
    assert!(
        stored_at_stop < n as i64,
        "the burst was over before the stop ({stored_at_stop} stored): nothing was tested"
    );
    let log = d.log();
    assert!(log.contains("stopping") && log.contains("stopped"), "{log}");

    let mut child = spawn(&d, &[]);
    d.wait_count(CHECKED, n as i64, 300);
    assert_eq!(
        d.count("SELECT count(*) FROM submissions"),
        n as i64,
        "each file stored once"
    );
    assert_eq!(
        d.count("SELECT count(DISTINCT original_name) FROM submissions"),
        n as i64
    );
    assert_eq!(
        d.count("SELECT count(DISTINCT sha256) FROM submissions"),
        n as i64
    );
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE kind != 'receipt' AND state = 'sent'",
        d.count("SELECT count(*) FROM outbox WHERE kind != 'receipt'"),
        120,
    );
    // One answer per recipient per submission: xss has one address, lc two.
    assert_eq!(
        d.count("SELECT count(*) FROM outbox WHERE kind = 'feedback'"),
        (n / 2 + 2 * (n / 2)) as i64
    );
    let (_, code) = terminate(&mut child);
    assert_eq!(code, Some(0));
    for folder in ["xss", "lc"] {
        let left: Vec<String> = std::fs::read_dir(d.inbox().join(folder))
            .expect("folder")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["回执"], "{folder} still holds files");
    }
}

#[test]
fn a_server_that_never_answers_times_out_each_attempt_retries_and_never_delays_a_stop() {
    let (server, mut d) = report_to_misbehaving_server(Behaviour::Silent);
    d.wait_count(CHECKED, 1, 60);
    let feedback = "SELECT attempts FROM outbox WHERE kind = 'feedback'";
    // The first attempt ends with the timeout, the next comes later on its own.
    d.wait_count(feedback, 2, 60);
    let error: String = d
        .db()
        .expect("db")
        .query_row(
            "SELECT last_error FROM outbox WHERE kind = 'feedback'",
            [],
            |r| r.get(0),
        )
        .expect("error recorded");
    assert!(error.contains("did not answer within 2 s"), "{error}");
    assert_eq!(
        d.count("SELECT count(*) FROM outbox WHERE kind = 'feedback' AND state = 'pending'"),
        1,
        "a timeout is transient: still queued"
    );
    assert!(server.accepted.load(Ordering::SeqCst) >= 2);
    // A stop while an attempt hangs on the server.
    wait_until(30, "an attempt under way", &d, || {
        server.hanging.load(Ordering::SeqCst) > 0
    });
    let pid = d.pid().expect("running");
    let started = Instant::now();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
    let code = loop {
        if let Some(code) = d.exited() {
            break code;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no exit\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(0), "{}", d.log());
    assert!(
        started.elapsed() <= Duration::from_secs(5),
        "the stop waited {:?} for a server that never answers",
        started.elapsed()
    );
    // What was cut off is still queued for the next start, not lost.
    assert_eq!(
        d.count("SELECT count(*) FROM outbox WHERE kind = 'feedback' AND state = 'pending'"),
        1
    );
    assert!(server.delivered().is_empty());
}

#[test]
fn a_recipient_the_server_hangs_on_does_not_hold_up_other_recipients() {
    let (server, mut d) =
        report_to_misbehaving_server(Behaviour::StallOn("gkb@xss.example.cn".into()));
    wait_until(60, "the server hangs on xss's message", &d, || {
        server.hanging.load(Ordering::SeqCst) > 0
    });
    std::fs::write(d.inbox().join("lc/report.txt"), distinct_report(7)).expect("drop");
    wait_until(60, "lc's two messages delivered", &d, || {
        server.delivered().len() >= 2
    });
    let mut got = server.delivered();
    got.sort();
    assert_eq!(got, ["a@lc.example.cn", "b@lc.example.cn"]);
    // Delivered while xss's first attempt still hung: not yet timed out, not yet counted.
    let xss_attempts = d.count(
        "SELECT attempts FROM outbox WHERE kind = 'feedback' AND recipient = 'gkb@xss.example.cn'",
    );
    assert_eq!(
        xss_attempts, 0,
        "lc's mail waited for xss's attempt to time out"
    );
    // And xss's attempt does time out and is retried.
    d.wait_count(
        "SELECT attempts >= 1 FROM outbox WHERE kind = 'feedback' AND recipient = 'gkb@xss.example.cn'",
        1,
        30,
    );
    assert_eq!(d.stop(), Some(0));
}

/// Notifications received on `socket` during `window`.
fn notifications(socket: &UnixDatagram, window: Duration) -> Vec<String> {
    let deadline = Instant::now() + window;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 4096];
    while Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    got
}

/// Throws away what was sent before now (the socket buffers it while nobody reads).
fn drain(socket: &UnixDatagram) {
    socket.set_nonblocking(true).expect("nonblocking");
    let mut buf = vec![0u8; 4096];
    while socket.recv(&mut buf).is_ok() {}
    socket.set_nonblocking(false).expect("blocking");
}

fn pings(got: &[String]) -> usize {
    got.iter().filter(|m| m.contains("WATCHDOG=1")).count()
}

/// `GET path` on 127.0.0.1:`port`: (status, body).
fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn a_worker_stuck_on_a_fifo_and_a_locked_database_stop_the_watchdog_and_readyz_says_why() {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut d = Daemon::with_config("", &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    // A top-level key goes before the tables of the harness's configuration.
    let config = d.dir.path().join("nianbao.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("stuck_after_s = 2\n{text}")).expect("config");
    // A database, then a submission left archived whose archived copy is a FIFO: checking
    // it blocks in read() until someone opens the FIFO for writing.
    d.start();
    d.wait_log("watching", 60);
    assert_eq!(d.stop(), Some(0));
    let sha = "ab".repeat(32);
    d.db_rw()
        .execute(
            "INSERT INTO submissions (receipt, agency_folder, agency_name, original_name, size,
                 sha256, received_at, state)
             VALUES ('NB-2026-900777', 'xss', '西塞山区政数局', 'xss/fifo.txt', 10, ?1,
                     '2026-01-10T02:00:00Z', 'archived')",
            [&sha],
        )
        .expect("insert");
    let fifo = d
        .dir
        .path()
        .join(format!("data/archive/{}/{sha}", &sha[..2]));
    std::fs::create_dir_all(fifo.parent().expect("parent")).expect("mkdir");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());

    let socket_path = d.dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind notify socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let socket_var = socket_path.to_string_lossy().into_owned();
    d.start_env(&[
        ("NOTIFY_SOCKET", socket_var.as_str()),
        ("WATCHDOG_USEC", "1000000"),
    ]);
    // Ready, and pinging while the check is young.
    let first = notifications(&socket, Duration::from_secs(1));
    assert!(first.iter().any(|m| m.contains("READY=1")), "{first:?}");
    // Once the check has hung for longer than stuck_after_s, /readyz says so, and from
    // then on there are no more pings.
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        let (status, body) = get(port, "/readyz");
        if status == 503 {
            break body;
        }
        assert!(Instant::now() < deadline, "never unready: {body}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        body.contains("stuck") && body.contains("NB-2026-900777"),
        "{body}"
    );
    // A ping may have gone out between the last probe that passed and this answer.
    let _ = notifications(&socket, Duration::from_millis(600));
    drain(&socket);
    let stuck = notifications(&socket, Duration::from_secs(3));
    assert_eq!(pings(&stuck), 0, "fed while a worker is stuck: {stuck:?}");
    // Unblocked (the FIFO gets a writer that closes at once: end of file), it carries on
    // and the pings come back.
    drop(
        std::fs::OpenOptions::new()
            .write(true)
            .open(&fifo)
            .expect("open the FIFO for writing"),
    );
    let back = notifications(&socket, Duration::from_secs(3));
    assert!(pings(&back) >= 2, "not fed again: {back:?}\n{}", d.log());
    assert_eq!(get(port, "/readyz").0, 200);
    // Checked once unblocked (an empty copy that does not match its hash: failed).
    d.wait_count(
        "SELECT count(*) FROM submissions WHERE receipt = 'NB-2026-900777' AND state = 'archived'",
        0,
        30,
    );

    // Another process holds the database: no commit can happen, no pings.
    let holder = d.db_rw();
    holder
        .execute_batch("BEGIN EXCLUSIVE")
        .expect("lock the database");
    // The last passing probe is remembered for up to a second, and a ping may follow it.
    std::thread::sleep(Duration::from_millis(1500));
    drain(&socket);
    let locked = notifications(&socket, Duration::from_secs(3));
    assert_eq!(
        pings(&locked),
        0,
        "fed while the database is locked: {locked:?}"
    );
    let (status, body) = get(port, "/readyz");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("database"), "{body}");
    holder.execute_batch("ROLLBACK").expect("unlock");
    let again = notifications(&socket, Duration::from_secs(3));
    assert!(pings(&again) >= 2, "not fed again: {again:?}");
    assert_eq!(d.stop(), Some(0));
}
