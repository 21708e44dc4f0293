//! Issue 23, "Abuse": the daemon and its console under hostile use. Each test drives the
//! real daemon (real folders, SQLite, HTTP on 127.0.0.1, aiosmtpd) with small limits.

mod harness;

use std::time::{Duration, Instant};

use calamine::{Data, Reader, Xlsx};
use harness::web::{self, Client};
use harness::{CHECKED, Daemon, distinct_report};

/// `nianbao <args> --config <the daemon's>`: stdout, after asserting success.
fn cli_ok(d: &Daemon, args: &[&str]) -> Vec<u8> {
    let (code, out, err) = d.cli(args);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    out.into_bytes()
}

/// Waits until `f` holds (or panics with `what` and the log after `secs`).
fn wait_for(d: &Daemon, what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            Instant::now() < deadline,
            "{what} not within {secs} s\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

// Item 4: CSV formula injection.

const EVIL_NAME: &str = "=HYPERLINK(\"http://evil\",\"点我\")";
const EVIL_FOLDER: &str = "+cmd|' -C calc'!A0";

/// Every field of a CSV export: none may start with a formula character unless it is a
/// plain number; the evil names are there, neutralised with a leading `'`.
fn assert_csv_safe(csv: &[u8]) {
    let text = String::from_utf8(csv.to_vec()).expect("utf-8");
    let cells: Vec<String> = text
        .trim_start_matches('\u{FEFF}')
        .lines()
        .flat_map(harness::csv_fields)
        .collect();
    for cell in &cells {
        let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
        assert!(
            !risky || cell.parse::<f64>().is_ok(),
            "a cell opens as a formula: {cell:?}"
        );
    }
    assert!(cells.contains(&format!("'{EVIL_NAME}")), "{cells:?}");
    assert!(cells.contains(&format!("'{EVIL_FOLDER}")), "{cells:?}");
    assert!(
        cells.iter().any(|c| c == "2"),
        "numbers stay numbers: {cells:?}"
    );
}

#[test]
fn csv_export_neutralises_formulas_and_xlsx_stays_text() {
    let port = web::free_port();
    let mut d = Daemon::with_config(
        "",
        &format!(
            "[[agency]]\nfolder = \"evil\"\nname = {EVIL_NAME:?}\n\
             [http]\nlisten = \"127.0.0.1:{port}\"\n"
        ),
    );
    for folder in ["evil", EVIL_FOLDER] {
        std::fs::create_dir_all(d.inbox().join(folder)).expect("folder");
    }
    std::fs::write(d.inbox().join("evil/2022年报.txt"), distinct_report(1)).expect("write");
    std::fs::write(
        d.inbox().join(EVIL_FOLDER).join("2022年报.txt"),
        distinct_report(2),
    )
    .expect("write");
    d.start();
    d.wait_count(CHECKED, 2, 60);

    assert_csv_safe(&cli_ok(&d, &["export", "--year", "2022"]));
    let mut client = Client::new(port);
    let reply = client.get("/export/2022.csv");
    assert_eq!(reply.code, 200, "{}", reply.text());
    assert_csv_safe(&reply.body);

    // xlsx: text cells are strings (never formulas), the names exactly as given.
    let path = d.dir.path().join("2022.xlsx");
    cli_ok(
        &d,
        &[
            "export",
            "--year",
            "2022",
            "--format",
            "xlsx",
            "--output",
            &path.display().to_string(),
        ],
    );
    let mut workbook: Xlsx<_> = calamine::open_workbook(&path).expect("open xlsx");
    let formulas = workbook.worksheet_formula("2022年度").expect("formulas");
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no formula in the workbook"
    );
    let range = workbook.worksheet_range("2022年度").expect("sheet");
    let cells: Vec<&Data> = range.rows().flatten().collect();
    for name in [EVIL_NAME, EVIL_FOLDER] {
        assert!(
            cells.contains(&&Data::String(name.to_string())),
            "{name} is a text cell"
        );
    }
    assert!(cells.contains(&&Data::Float(2.0)), "numbers stay numbers");
    assert_eq!(d.stop(), Some(0));
}

// Item 1: a sparse (or just oversized) file is answered from its size, never copied.

/// Bytes under `dir`, recursively (apparent sizes).
fn bytes_under(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => bytes_under(&e.path()),
                    _ => e.metadata().map_or(0, |m| m.len()),
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The `.eml` files whose text contains `needle`.
fn emls_with(d: &Daemon, needle: &str) -> usize {
    d.eml_files()
        .iter()
        .filter(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).contains(needle))
        .count()
}

#[test]
fn an_oversized_sparse_file_is_answered_from_its_size_and_never_copied() {
    let mut d = Daemon::new(); // max_file_mb = 1
    let big = d.inbox().join("xss/2022年报.pdf");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(64 << 20))
        .expect("sparse file");
    std::fs::write(d.inbox().join("lc/2022年报.txt"), distinct_report(3)).expect("write");
    d.start();
    d.wait_count(CHECKED, 1, 30);
    // The agency is told (the subject is encoded; its recipient is not).
    wait_for(&d, "the answer to the oversized file", 30, || {
        emls_with(&d, "gkb@xss.example.cn") == 1
    });
    let archived = bytes_under(&d.dir.path().join("data/archive"));
    assert!(
        archived < 1 << 20,
        "{archived} bytes in the archive: the oversized file was copied"
    );
    assert!(big.exists(), "not archived, so not removed");
    assert_eq!(
        d.count("SELECT count(*) FROM submissions WHERE agency_folder = 'xss'"),
        0
    );
    // Rescans (every second) and a restart do not answer it again.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(d.stop(), Some(0));
    d.start();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(emls_with(&d, "gkb@xss.example.cn"), 1, "told once");
    let (_, text, _) = harness::smtp::parts(
        &std::fs::read(
            d.eml_files()
                .iter()
                .find(|p| {
                    String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default())
                        .contains("gkb@xss.example.cn")
                })
                .expect("the answer"),
        )
        .expect("read"),
    );
    assert!(text.contains("超过 1048576 字节的上限"), "{text}");
    assert!(text.contains("文件仍在原文件夹中"), "{text}");
    assert!(bytes_under(&d.dir.path().join("data/archive")) < 1 << 20);
    assert_eq!(d.stop(), Some(0));
}

// Item 2: the download of an original is streamed from the file.

/// The daemon's resident memory now (VmRSS), in KiB.
fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// `GET path` read in 1 MiB pieces, the daemon's RSS sampled every 8 MiB: (Content-Length,
/// body bytes received, whether every byte was zero, highest RSS seen in KiB).
fn download_sampling(port: u16, path: &str, pid: u32) -> (u64, u64, bool, u64) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut buf = vec![0u8; 1 << 20];
    let mut head = Vec::new();
    let mut body = 0u64;
    let mut zero = true;
    let mut peak = rss_kb(pid);
    let mut next_sample = 0u64;
    loop {
        let k = match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => k,
        };
        let mut piece = &buf[..k];
        if !head.ends_with(b"\r\n\r\n") {
            let split = piece
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(piece.len(), |p| p + 4);
            head.extend_from_slice(&piece[..split]);
            piece = &piece[split..];
        }
        zero &= piece.iter().all(|&b| b == 0);
        body += piece.len() as u64;
        if body >= next_sample {
            peak = peak.max(rss_kb(pid));
            next_sample += 8 << 20;
        }
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("Content-Length");
    (length, body, zero, peak)
}

#[test]
fn a_large_original_is_downloaded_in_bounded_memory_and_checked_on_the_way() {
    // 256 MiB; `ABUSE_DOWNLOAD_MIB=2048` for the measurement in BENCHMARKS.md.
    let mib: u64 = std::env::var("ABUSE_DOWNLOAD_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let size: u64 = mib << 20;
    let port = web::free_port();
    let mut d = Daemon::with_config("", &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    std::fs::write(d.inbox().join("xss/2022年报.txt"), distinct_report(4)).expect("write");
    d.start();
    d.wait_count(CHECKED, 1, 30);
    assert_eq!(d.stop(), Some(0));
    // The archived original becomes a 256 MiB (sparse) file, as if that had been received.
    let receipt = web::receipt_of(&d, "xss");
    let big = d.dir.path().join("big");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(size))
        .expect("sparse file");
    let sha = harness::sha256sum(&big);
    let archived = d.dir.path().join("data/archive").join(&sha[..2]).join(&sha);
    std::fs::create_dir_all(archived.parent().expect("folder")).expect("folder");
    std::fs::rename(&big, &archived).expect("place");
    d.db_rw()
        .execute(
            "UPDATE submissions SET sha256 = ?1, size = ?2 WHERE receipt = ?3",
            rusqlite::params![sha, size as i64, receipt],
        )
        .expect("update");
    d.start();
    Client::new(port);
    let pid = d.pid().expect("pid");
    let before = rss_kb(pid);
    let path = format!("/submission/{receipt}/original");
    let (length, got, zero, peak) = download_sampling(port, &path, pid);
    assert_eq!((length, got, zero), (size, size, true), "the whole file");
    eprintln!("RSS before the download {before} KiB, highest during it {peak} KiB");
    assert!(
        peak < before + 64 * 1024,
        "RSS grew from {before} to {peak} KiB during a {size}-byte download"
    );

    // A swapped copy (one byte changed) is cut off before its end, never served whole.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&archived)
        .and_then(|mut f| {
            use std::io::{Seek, Write};
            f.seek(std::io::SeekFrom::Start(size / 2))?;
            f.write_all(b"x")
        })
        .expect("swap a byte");
    let (length, got, _, _) = download_sampling(port, &path, pid);
    assert_eq!(length, size);
    assert!(
        got < size,
        "a copy that is not the file received was served whole"
    );
    assert_eq!(d.stop(), Some(0));
}

// Item 5: DNS rebinding.

/// One raw HTTP/1.1 request (`head` without the final blank line): (status, whole reply).
fn raw(port: u16, head: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        s,
        "{head}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("request");
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let code = reply
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, reply)
}

#[test]
fn requests_for_another_host_name_or_from_another_origin_are_refused() {
    let port = web::free_port();
    let mut d = Daemon::with_config("", &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    std::fs::write(d.inbox().join("xss/2022年报.txt"), distinct_report(5)).expect("write");
    d.start();
    d.wait_count(CHECKED, 1, 30);
    let receipt = web::receipt_of(&d, "xss");
    Client::new(port);
    let get =
        |host: &str, path: &str| raw(port, &format!("GET {path} HTTP/1.1\r\nHost: {host}"), "");
    let original = format!("/submission/{receipt}/original");
    for path in ["/export/2022.csv", original.as_str(), "/"] {
        let (code, reply) = get(&format!("attacker.example:{port}"), path);
        assert_eq!(code, 403, "{path} for attacker.example: {reply}");
        assert!(reply.contains("主机名"), "{reply}");
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "localhost".to_string(),
    ] {
        assert_eq!(get(&host, "/export/2022.csv").0, 200, "{host}");
    }
    // A review POST: refused for another host, and from another site's page.
    let page = get(
        &format!("localhost:{port}"),
        &format!("/submission/{receipt}"),
    )
    .1;
    let csrf = web::csrf_of(&page);
    let cookie = page
        .lines()
        .filter_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or(l.strip_prefix("Set-Cookie: "))
        })
        .map(|c| c.split(';').next().unwrap_or("").to_string())
        .collect::<Vec<_>>()
        .join("; ");
    let form = format!("csrf={csrf}");
    let post = |host: &str, origin: Option<&str>| {
        let mut head = format!(
            "POST /submission/{receipt}/resend HTTP/1.1\r\nHost: {host}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nCookie: {cookie}"
        );
        if let Some(o) = origin {
            head.push_str(&format!("\r\nOrigin: {o}"));
        }
        raw(port, &head, &form).0
    };
    let queued = || d.count("SELECT count(*) FROM outbox WHERE idempotency_key LIKE '%/resend/%'");
    assert_eq!(post(&format!("attacker.example:{port}"), None), 403);
    assert_eq!(
        post(
            &format!("localhost:{port}"),
            Some(&format!("http://attacker.example:{port}"))
        ),
        403
    );
    assert_eq!(post(&format!("localhost:{port}"), Some("null")), 403);
    assert_eq!(queued(), 0, "nothing queued by a refused POST");
    let ok = post(
        &format!("localhost:{port}"),
        Some(&format!("http://localhost:{port}")),
    );
    assert_eq!(ok, 303, "the console's own form");
    assert!(queued() > 0);
    assert_eq!(d.stop(), Some(0));
}

// Item 6: a flood of anonymous visits evicts no logged-in session.

#[test]
fn anonymous_visits_create_no_session_and_evict_no_login() {
    let port = web::free_port();
    let mut d = Daemon::with_config("", &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    web::user_add(&d, "admin", "admin", "the admin's long password");
    d.start();
    let mut admin = Client::new(port);
    assert_eq!(admin.login("admin", "the admin's long password").code, 303);
    assert_eq!(admin.get("/").code, 200);
    // More anonymous visits of the login page than the server keeps sessions (10,000).
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..2_600 {
                    let r = web::request(port, "GET", "/login", None, None).expect("answer");
                    assert_eq!(r.code, 200);
                    assert!(
                        !r.headers
                            .iter()
                            .any(|(n, v)| n.eq_ignore_ascii_case("set-cookie")
                                && v.starts_with("nianbao_session=")),
                        "a session for an anonymous visit"
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("flood");
    }
    let home = admin.get("/");
    assert_eq!(home.code, 200, "the logged-in session survives the flood");
    // The login form still works from a fresh client (its CSRF token is a signed cookie).
    let mut other = Client::new(port);
    assert_eq!(other.login("admin", "the admin's long password").code, 303);
    assert_eq!(d.stop(), Some(0));
}

// Item 7: lockout per (user, client); the parallel race.

#[test]
fn wrong_passwords_lock_out_one_client_not_the_user_and_parallel_tries_are_counted() {
    let port = web::free_port();
    let mut d = Daemon::with_config(
        "",
        &format!("[http]\nlisten = \"127.0.0.1:{port}\"\ntrusted_proxies = [\"127.0.0.1\"]\n"),
    );
    web::user_add(&d, "admin", "admin", "the admin's long password");
    d.start();
    // Through the proxy (127.0.0.1), the attacker is 10.0.0.66, the admin 10.0.0.2.
    let login_as = |client: &str, password: &str| {
        let mut c = Client::new(port);
        let page = c.get("/login");
        let csrf = web::csrf_of(&page.text());
        let cookie = c.cookie.clone().expect("the form's cookie");
        let form = format!(
            "csrf={}&name=admin&password={}",
            web::enc(&csrf),
            web::enc(password)
        );
        let head = format!(
            "POST /login HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\n\
             X-Forwarded-For: {client}\r\nContent-Type: application/x-www-form-urlencoded"
        );
        move || raw(port, &head, &form).0
    };
    let attack = login_as("10.0.0.66", "wrong guess");
    let threads: Vec<_> = (0..300)
        .map(|_| {
            let attack = attack.clone();
            std::thread::spawn(attack)
        })
        .collect();
    let codes: Vec<u16> = threads
        .into_iter()
        .map(|t| t.join().expect("try"))
        .collect();
    let checked = d
        .log()
        .matches("console: wrong user name or password")
        .count();
    assert!(
        checked <= 5,
        "{checked} password checks for 300 parallel tries, 5 allowed"
    );
    assert_eq!(codes.iter().filter(|&&c| c == 401).count(), checked);
    assert_eq!(codes.iter().filter(|&&c| c == 429).count(), 300 - checked);
    // The same client stays refused; the real admin, another client, logs in.
    assert_eq!(attack(), 429);
    assert_eq!(login_as("10.0.0.2", "the admin's long password")(), 303);
    assert_eq!(d.stop(), Some(0));
}

// Item 8: a slow SMTP server gets each message once.

/// Copies received per Message-ID.
fn copies(dir: &std::path::Path) -> std::collections::HashMap<String, usize> {
    let mut out = std::collections::HashMap::new();
    for (_, raw) in harness::smtp::received(dir) {
        let text = String::from_utf8_lossy(&raw).into_owned();
        let id = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("Message-ID:")
                    .or(l.strip_prefix("Message-Id:"))
            })
            .unwrap_or("")
            .trim()
            .to_string();
        *out.entry(id).or_insert(0) += 1;
    }
    out
}

#[test]
fn a_slow_mail_server_gets_each_message_once() {
    use harness::smtp::{SmtpServer, free_port};
    let smtp_port = free_port();
    let port = web::free_port();
    let spool = tempfile::tempdir().expect("spool");
    // Answers 6 s after each message; the daemon's timeout_s is 2.
    let server = SmtpServer::start_with(smtp_port, spool.path(), &["--data-delay", "6"]);
    let smtp = |reply: &str| {
        format!(
            "retry_base_s = 1\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\n\
             security = \"none\"\ntimeout_s = 2\n{reply}"
        )
    };
    let mut d = Daemon::with_config(
        &smtp(""),
        &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"),
    );
    std::fs::write(d.inbox().join("xss/2022年报.txt"), distinct_report(6)).expect("write");
    d.start();
    // The longer reply timeout (600 s by default) waits for the 250: one copy, sent.
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE recipient = 'gkb@xss.example.cn' AND state = 'sent'",
        1,
        60,
    );
    std::thread::sleep(Duration::from_secs(8));
    let got = copies(spool.path());
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got.values().all(|&n| n == 1),
        "copies per Message-ID: {got:?}"
    );
    assert_eq!(
        d.count("SELECT attempts FROM outbox WHERE recipient = 'gkb@xss.example.cn'"),
        1
    );
    assert_eq!(d.stop(), Some(0));
    drop(server);

    // A server slower than reply_timeout_s: "sent, unconfirmed", never sent again.
    let config = d.dir.path().join("nianbao.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace(&smtp(""), &smtp("reply_timeout_s = 3\n")),
    )
    .expect("config");
    let spool = tempfile::tempdir().expect("spool");
    let _server = SmtpServer::start_with(smtp_port, spool.path(), &["--data-delay", "12"]);
    d.start();
    std::fs::write(d.inbox().join("lc/2022年报.txt"), distinct_report(7)).expect("write");
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE recipient LIKE '%@lc.example.cn' AND state = 'unconfirmed'",
        2,
        60,
    );
    std::thread::sleep(Duration::from_secs(15));
    let got = copies(spool.path());
    assert_eq!(got.len(), 2, "one message per recipient: {got:?}");
    assert!(
        got.values().all(|&n| n == 1),
        "copies per Message-ID: {got:?}"
    );
    assert_eq!(
        d.count("SELECT count(*) FROM outbox WHERE state IN ('failed', 'pending') AND recipient LIKE '%@lc.example.cn'"),
        0
    );
    let mut c = Client::new(port);
    let page = c.get("/mail").text();
    assert!(page.contains("已发出，未确认送达"), "{page}");
    assert_eq!(web::count(&page, "count-unconfirmed"), 2);
    let (_, queue, _) = d.cli(&["mail", "queue"]);
    assert!(queue.contains("已发出未确认送达 2"), "{queue}");
    assert_eq!(d.stop(), Some(0));
}

// Item 3: idle connections take neither the descriptors of ingest nor the server down.

/// Descriptors the process has open now.
fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

#[test]
fn two_thousand_idle_connections_leave_ingest_and_metrics_working() {
    const NOFILE: u64 = 400;
    let port = web::free_port();
    let mut d = Daemon::with_config("", &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    d.start_nofile(NOFILE);
    Client::new(port);
    let pid = d.pid().expect("pid");
    let at_rest = fds(pid);
    // 2,000 connections that send nothing (loopback, kept open by the test).
    let mut idle = Vec::with_capacity(2_000);
    for _ in 0..2_000 {
        // Bounded: a server that stopped accepting leaves connects hanging in the backlog.
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        if let Ok(s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(20)) {
            idle.push(s);
        }
    }
    // A burst of files meanwhile.
    for i in 0..100 {
        std::fs::write(
            d.inbox().join(format!("xss/{i:03}-2022年报.txt")),
            distinct_report(100 + i),
        )
        .expect("write");
    }
    let mut most = 0;
    let deadline = Instant::now() + Duration::from_secs(90);
    while d.count(CHECKED) < 100 {
        most = most.max(fds(pid));
        assert!(
            Instant::now() < deadline,
            "{} of 100 files checked with 2,000 idle connections open; highest descriptors {most}\n{}",
            d.count(CHECKED),
            d.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "descriptors: {at_rest} at rest, at most {most} under {} idle connections and a 100-file burst (limit {NOFILE})",
        idle.len()
    );
    assert!(!d.log().contains("Too many open files"), "{}", d.log());
    // The idle connections are closed after the header-read timeout; /metrics answers.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((200, body)) = harness::http::get(port, "/metrics")
            && body.contains("nianbao_files_total")
        {
            break;
        }
        assert!(Instant::now() < deadline, "/metrics does not answer");
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(idle);
    assert_eq!(d.stop(), Some(0));
}
