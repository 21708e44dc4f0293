//! The console under a national season's data: 3,000 agencies and 20,000 submissions, timed
//! from a client on the same machine (loopback: what the server takes).
//!
//! `bench/console [--agencies A] [--submissions S] [--requests R] [--dir D]` (or
//! `cargo bench --bench console -- …`). It
//!
//! 1. writes a configuration with A agencies (a third 街道办事处, a third 镇人民政府, the rest
//!    departments) and `[http] listen` on a free port, starts `nianbao run` once so that it
//!    creates its database, and stops it;
//! 2. inserts S checked submissions spread over the agencies and three report years (one
//!    in ten a duplicate, one in eight superseded by a later version, a third rejected),
//!    the way the pipeline stores them, in one transaction;
//! 3. starts the daemon again and times R requests of each page: the overview, the
//!    overview searched for "街道" and for "镇" sorted by errors, the season's summary
//!    (`/summary/2025`), an agency page, a
//!    submission page; p50, p95 and max in milliseconds.
//!
//! With `--tree`, the agencies sit in a three-level `[[region]]` tree (issue 28): one city,
//! 10 districts, 10 streets in each; one agency in 20 is the city's own, one in 20 a
//! district's, the rest a street's. The overview is then also timed at the city, at a
//! district and at a street (each with its child regions rolled up).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Args {
    agencies: usize,
    submissions: usize,
    requests: usize,
    dir: Option<PathBuf>,
    tree: bool,
}

fn args() -> Args {
    let mut a = Args {
        agencies: 3_000,
        submissions: 20_000,
        requests: 50,
        dir: None,
        tree: false,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(k) = it.next() {
        let mut number = || -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{k} needs a number"))
        };
        match k.as_str() {
            "--agencies" => a.agencies = number(),
            "--submissions" => a.submissions = number(),
            "--requests" => a.requests = number(),
            "--dir" => a.dir = it.next().map(PathBuf::from),
            "--tree" => a.tree = true,
            // `cargo bench` passes --bench.
            "--bench" => {}
            other => panic!("unknown option {other}"),
        }
    }
    a
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn agency_name(i: usize) -> String {
    match i % 3 {
        0 => format!("第{i}街道办事处"),
        1 => format!("第{i}镇人民政府"),
        _ => format!("第{i}区政务服务数据管理局"),
    }
}

const CITY: &str = "黄石市";

fn district(d: usize) -> String {
    format!("第{d}区")
}

fn street(s: usize) -> String {
    format!("第{}区第{}街道", s / 10, s % 10)
}

/// The region of agency `i` in the `--tree` layout.
fn region_of(i: usize) -> String {
    match i % 20 {
        0 => CITY.to_string(),
        1 => district((i / 20) % 10),
        _ => street(i % 100),
    }
}

/// The `[[region]]` entries of the `--tree` layout.
fn regions() -> String {
    let mut out = format!("[[region]]\nname = \"{CITY}\"\n");
    for d in 0..10 {
        out.push_str(&format!(
            "[[region]]\nname = \"{}\"\nparent = \"{CITY}\"\n",
            district(d)
        ));
        for s in 0..10 {
            out.push_str(&format!(
                "[[region]]\nname = \"{}\"\nparent = \"{}\"\n",
                street(d * 10 + s),
                district(d)
            ));
        }
    }
    out
}

fn start(bin: &Path, dir: &Path) -> Child {
    Command::new(bin)
        .arg("run")
        .arg("--config")
        .arg(dir.join("nianbao.toml"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nianbao")
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

/// `GET path`: the status, the body's length, and how long the answer took.
fn get(port: u16, path: &str) -> Option<(u16, usize, Duration)> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&response);
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, response.len(), took))
}

fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if get(port, "/healthz").is_some_and(|(s, _, _)| s == 200) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the daemon did not answer within 120 s");
}

/// Percent-encodes a query value (the search words are Chinese).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn fill(db: &Path, agencies: usize, submissions: usize) {
    let mut conn = rusqlite::Connection::open(db).expect("open database");
    let tx = conn.transaction().expect("transaction");
    // A version points to the later one that supersedes it: checked at the commit.
    tx.execute_batch("PRAGMA defer_foreign_keys = ON")
        .expect("deferred foreign keys");
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO submissions (receipt, agency_folder, agency_name, original_name,
                     size, sha256, source_identity, received_at, state, duplicate_of, format,
                     encoding, template, year, verdict, errors, warnings, superseded_by,
                     checked_at, check_ms)
                 VALUES (?1, ?2, ?3, ?4, 40000, ?5, ?6, ?7, ?8, ?9, 'txt', 'UTF-8', '2021',
                     ?10, ?11, ?12, ?13, ?14, ?7, 3)",
            )
            .expect("prepare");
        for i in 0..submissions {
            let id = i as i64 + 1;
            let agency = i % agencies;
            let year = 2023 + (i / agencies) as i64 % 3;
            let folder = format!("a{agency:04}");
            let duplicate = i % 10 == 9;
            // Superseded by the next version of the same agency and year, if there is one.
            let superseded =
                (i % 8 == 0 && i + 3 * agencies < submissions).then(|| id + 3 * agencies as i64);
            let rejected = i % 3 == 0;
            insert
                .execute(rusqlite::params![
                    format!("NB-{}-{:06}", year + 1, i + 1),
                    folder,
                    agency_name(agency),
                    format!("{folder}/{year}年政府信息公开工作年度报告.docx"),
                    format!("{:064x}", i + 1),
                    format!("0:{i}:0:40000"),
                    format!("{}-01-{:02}T0{}:00:00Z", year + 1, 1 + i % 28, i % 10),
                    if duplicate { "duplicate" } else { "checked" },
                    duplicate.then_some(id - 1),
                    year,
                    if rejected { "rejected" } else { "accepted" },
                    if rejected { 1 + i % 5 } else { 0 } as i64,
                    (i % 4) as i64,
                    superseded,
                ])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

fn main() {
    let a = args();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_nianbao"));
    let dir = a
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/bench-console"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("inbox")).expect("inbox");
    let dir = dir.canonicalize().expect("dir");
    let port = free_port();
    let mut config = format!(
        "inbox = {:?}\ndata_dir = {:?}\nfiling_year = 2026\n[http]\nlisten = \"127.0.0.1:{port}\"\n",
        dir.join("inbox"),
        dir.join("data"),
    );
    for i in 0..a.agencies {
        config.push_str(&format!(
            "[[agency]]\nfolder = \"a{i:04}\"\nname = \"{}\"\n",
            agency_name(i)
        ));
        if a.tree {
            config.push_str(&format!("region = \"{}\"\n", region_of(i)));
        }
    }
    if a.tree {
        config.push_str(&regions());
    }
    std::fs::write(dir.join("nianbao.toml"), config).expect("config");
    println!(
        "machine: {} cores; {} agencies, {} submissions, {} requests per page{}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        a.agencies,
        a.submissions,
        a.requests,
        if a.tree {
            "; three-level region tree (1 city, 10 districts, 100 streets)"
        } else {
            ""
        }
    );
    let child = start(&bin, &dir);
    wait_ready(port);
    stop(child);
    let filled = Instant::now();
    fill(&dir.join("data/nianbao.sqlite"), a.agencies, a.submissions);
    println!(
        "filled the database in {:.1} s",
        filled.elapsed().as_secs_f64()
    );
    let child = start(&bin, &dir);
    wait_ready(port);
    let mut pages = vec![
        ("overview", "/?year=2025".to_string()),
        ("search 街道", format!("/?year=2025&q={}", encode("街道"))),
        (
            "search 镇, sorted by errors",
            format!("/?year=2025&q={}&sort=-errors", encode("镇")),
        ),
        ("summary", "/summary/2025".to_string()),
        ("agency page", "/agency/a0042".to_string()),
        ("submission page", "/submission/NB-2024-000043".to_string()),
    ];
    if a.tree {
        pages.extend([
            (
                "overview of the city (10 districts)",
                format!("/?year=2025&region={}", encode(CITY)),
            ),
            (
                "overview of a district (10 streets)",
                format!("/?year=2025&region={}", encode(&district(3))),
            ),
            (
                "overview of a street",
                format!("/?year=2025&region={}", encode(&street(37))),
            ),
            (
                "export of a district (CSV)",
                format!("/export/2025.csv?region={}", encode(&district(3))),
            ),
        ]);
    }
    println!("| page | p50 ms | p95 ms | max ms | answer |\n|---|---|---|---|---|");
    for (what, path) in &pages {
        // One to warm the caches (the page cache, SQLite's, the allocator's).
        let _ = get(port, path);
        let mut times = Vec::new();
        let mut answer = (0, 0);
        for _ in 0..a.requests {
            let (status, len, took) = get(port, path).expect("answer");
            answer = (status, len);
            times.push(took);
        }
        times.sort();
        println!(
            "| {what} | {:.1} | {:.1} | {:.1} | {} {} KB |",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            percentile(&times, 1.0),
            answer.0,
            answer.1 / 1024
        );
    }
    stop(child);
}
