//! The whole pipeline under a filing-season burst, measured from outside, as an operator would
//! see it: the real daemon binary, a real inbox, the SQLite file it commits to.
//!
//! `bench/pipeline [--files N] [--agencies A] [--mix text|all] [--settle-ms S] [--idle K]
//!  [--soak-secs T] [--workers W] [--dir D]` (or `cargo bench --bench pipeline -- …`). It
//!
//! 1. generates N distinct reports (the corpus files with a varied title, and the test
//!    generator's random reports in the text layouts; with `--mix all` also html, docx,
//!    xlsx and pdf) into a staging folder on the inbox's file system;
//! 2. starts `nianbao run` and waits for its READY=1 (sd_notify);
//! 3. renames every file into the inbox at once and polls the database until all N are
//!    committed: throughput (from the first rename, and sustained: from the first commit),
//!    the commit-time distribution, the daemon's peak RSS (VmHWM) and its CPU time per
//!    file (utime + stime from `/proc/<pid>/stat`, over the burst);
//! 4. drops K more files one by one while idle, each timed from its rename (the write is
//!    complete then) to its commit: p50/p99 beside `settle_ms`;
//! 5. with `--soak-secs`, keeps dropping files at a steady rate and samples RSS each second;
//! 6. measures the floor on the same files: read, SHA-256, insert the bytes into SQLite in
//!    one transaction per file with the daemon's pragmas (WAL, synchronous=FULL), on one
//!    thread per core.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nianbao::report::Template;
use rand::SeedableRng;
use rusqlite::Connection;

#[path = "../tests/support/mod.rs"]
mod support;

struct Args {
    files: usize,
    agencies: usize,
    all_formats: bool,
    settle_ms: u64,
    idle: usize,
    soak_secs: u64,
    /// The daemon's `workers` (0: two per core, the default).
    workers: u64,
    /// Where inbox, staging and data go (default target/bench-pipeline).
    dir: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        files: 10_000,
        agencies: 200,
        all_formats: false,
        settle_ms: 2000,
        idle: 100,
        soak_secs: 0,
        workers: 0,
        dir: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(k) = it.next() {
        let mut value = || -> u64 {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{k} needs a number"))
        };
        match k.as_str() {
            "--files" => a.files = value() as usize,
            "--agencies" => a.agencies = value().max(1) as usize,
            "--settle-ms" => a.settle_ms = value(),
            "--idle" => a.idle = value() as usize,
            "--soak-secs" => a.soak_secs = value(),
            "--workers" => a.workers = value(),
            "--dir" => a.dir = it.next().map(PathBuf::from),
            "--mix" => {
                a.all_formats = it.next().is_some_and(|v| v == "all");
            }
            // cargo bench passes --bench; criterion-style filters are ignored.
            _ => {}
        }
    }
    a
}

/// Distinct report files: (file name, bytes).
fn generate(n: usize, all_formats: bool, seed: u64) -> Vec<(String, Vec<u8>)> {
    use support::{Layout, Options, TextEncoding};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let corpus: Vec<Vec<u8>> = (0..5)
        .filter_map(|i| {
            let name = std::fs::read_dir(dir)
                .ok()?
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|f| f.starts_with(&format!("00{i}_")) && f.ends_with(".txt"))?;
            std::fs::read(Path::new(dir).join(name)).ok()
        })
        .collect();
    let text_layouts = [
        (Layout::WordText, TextEncoding::Utf8),
        (Layout::TabRows, TextEncoding::Gb18030),
        (Layout::PortalCopy, TextEncoding::Utf8Bom),
        (Layout::PdfText, TextEncoding::Utf16LeBom),
    ];
    let other_layouts = [Layout::Html, Layout::Docx, Layout::Xlsx, Layout::Pdf];
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            // One in five is a real corpus report, made distinct by a line of its own.
            if i % 5 == 0 && !corpus.is_empty() {
                let mut bytes = corpus[(i / 5) % corpus.len()].clone();
                bytes.extend_from_slice(format!("\n附：第{i}号\n").as_bytes());
                return (format!("r{i}.txt"), bytes);
            }
            let template = if i % 3 == 0 {
                Template::V2019
            } else {
                Template::V2021
            };
            let report = support::random_report(&mut rng, template);
            let options = Options {
                defects: vec![],
                seed: seed ^ i as u64,
            };
            let (layout, encoding) = if all_formats && i % 2 == 1 {
                (
                    other_layouts[(i / 2) % other_layouts.len()],
                    TextEncoding::Utf8,
                )
            } else {
                text_layouts[i % text_layouts.len()]
            };
            let bytes = support::render(&report, layout, encoding, &options);
            (format!("r{i}.{}", layout.extension()), bytes)
        })
        .collect()
}

struct Bench {
    root: PathBuf,
    child: Option<Child>,
}

impl Bench {
    fn inbox(&self) -> PathBuf {
        self.root.join("inbox")
    }
    fn db(&self) -> Connection {
        let c = Connection::open_with_flags(
            self.root.join("data/nianbao.sqlite"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open the daemon's database");
        c.busy_timeout(Duration::from_secs(5))
            .expect("busy timeout");
        c
    }
    fn committed(&self, db: &Connection) -> usize {
        db.query_row(
            "SELECT count(*) FROM submissions WHERE state != 'archived'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap_or(0) as usize
    }
    fn status(&self, key: &str) -> Option<u64> {
        let pid = self.child.as_ref()?.id();
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        s.lines()
            .find(|l| l.starts_with(key))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    /// CPU seconds the daemon has used so far (utime + stime of all its threads, from
    /// `/proc/<pid>/stat`).
    fn cpu_s(&self) -> Option<f64> {
        let pid = self.child.as_ref()?.id();
        let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // After the command name in parentheses: state is field 3; utime, stime are 14, 15.
        let rest = s.get(s.rfind(')')? + 2..)?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        Some((utime + stime) / hz)
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }
}

fn start(args: &Args) -> Bench {
    let root = args.dir.clone().unwrap_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/target/bench-pipeline"
        ))
    });
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("staging")).expect("staging");
    let mut config = format!(
        "inbox = {:?}\ndata_dir = {:?}\nsettle_ms = {}\nrescan_interval_s = 60\n\
         max_file_mb = 50\nworkers = {}\n[mail]\nadmin = \"admin@office.example.cn\"\n\
         receipt_files = false\n",
        root.join("inbox"),
        root.join("data"),
        args.settle_ms,
        args.workers
    );
    for a in 0..args.agencies {
        config.push_str(&format!(
            "[[agency]]\nfolder = \"a{a:04}\"\nname = \"第{a}局\"\nemail = [\"gk@a{a}.example.cn\"]\n"
        ));
        std::fs::create_dir_all(root.join(format!("inbox/a{a:04}"))).expect("inbox");
        std::fs::create_dir_all(root.join(format!("staging/a{a:04}"))).expect("staging");
    }
    std::fs::write(root.join("nianbao.toml"), config).expect("config");
    let socket_path = root.join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("notify socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let child = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("run")
        .arg("--config")
        .arg(root.join("nianbao.toml"))
        .env("NOTIFY_SOCKET", &socket_path)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(root.join("daemon.log")).expect("log"),
        ))
        .spawn()
        .expect("start the daemon");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 4096];
    loop {
        if let Ok(n) = socket.recv(&mut buf)
            && String::from_utf8_lossy(&buf[..n]).contains("READY=1")
        {
            break;
        }
        assert!(Instant::now() < deadline, "no READY=1 within 30 s");
    }
    Bench {
        root,
        child: Some(child),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Read, hash, insert: what no pipeline can beat on this disk.
fn floor(files: &[(String, PathBuf)], threads: usize, root: &Path) -> f64 {
    let db_path = root.join("floor.sqlite");
    let _ = std::fs::remove_file(&db_path);
    {
        let c = Connection::open(&db_path).expect("floor db");
        c.pragma_update(None, "journal_mode", "WAL").expect("wal");
        c.execute_batch(
            "CREATE TABLE files (id INTEGER PRIMARY KEY, name TEXT, sha256 TEXT, bytes BLOB)",
        )
        .expect("schema");
    }
    let started = Instant::now();
    std::thread::scope(|s| {
        for chunk in files.chunks(files.len().div_ceil(threads.max(1))) {
            let db_path = &db_path;
            s.spawn(move || {
                let c = Connection::open(db_path).expect("floor db");
                c.pragma_update(None, "synchronous", "FULL").expect("sync");
                c.busy_timeout(Duration::from_secs(30)).expect("busy");
                for (name, path) in chunk {
                    let bytes = std::fs::read(path).expect("read");
                    let sha = nianbao::check::sha256_hex(&bytes);
                    c.execute(
                        "INSERT INTO files (name, sha256, bytes) VALUES (?1, ?2, ?3)",
                        rusqlite::params![name, sha, bytes],
                    )
                    .expect("insert");
                }
            });
        }
    });
    files.len() as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let args = args();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    println!(
        "pipeline bench: {} files, {} agencies, {} formats, settle_ms {}, {} cores",
        args.files,
        args.agencies,
        if args.all_formats { "all" } else { "text" },
        args.settle_ms,
        threads
    );
    let bench = start(&args);
    let t = Instant::now();
    let files = generate(args.files + args.idle, args.all_formats, 2026);
    let mut staged: Vec<(String, PathBuf)> = Vec::new();
    for (i, (name, bytes)) in files.iter().enumerate() {
        let rel = format!("a{:04}/{name}", i % args.agencies);
        let path = bench.root.join("staging").join(&rel);
        std::fs::write(&path, bytes).expect("stage");
        staged.push((rel, path));
    }
    let total_bytes: usize = files.iter().map(|f| f.1.len()).sum();
    println!(
        "generated {} files ({:.1} MB) in {:.1} s",
        staged.len(),
        total_bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let (burst, idle) = staged.split_at(args.files);

    // The burst.
    let db = bench.db();
    let cpu0 = bench.cpu_s();
    let t0 = Instant::now();
    for (rel, path) in burst {
        std::fs::rename(path, bench.inbox().join(rel)).expect("move into the inbox");
    }
    let moved = t0.elapsed().as_secs_f64();
    let mut commits: Vec<(f64, usize)> = Vec::new();
    let mut last = 0;
    let deadline = Instant::now() + Duration::from_secs(600 + args.files as u64 / 50);
    while last < burst.len() {
        std::thread::sleep(Duration::from_millis(20));
        let n = bench.committed(&db);
        if n != last {
            commits.push((t0.elapsed().as_secs_f64(), n));
            last = n;
        }
        assert!(
            Instant::now() < deadline,
            "only {last} of {} committed",
            burst.len()
        );
    }
    let done = commits.last().map_or(0.0, |c| c.0);
    let first = commits.first().map_or(0.0, |c| c.0);
    let at = |share: f64| {
        let want = (burst.len() as f64 * share).ceil() as usize;
        commits
            .iter()
            .find(|c| c.1 >= want)
            .map_or(f64::NAN, |c| c.0)
    };
    let cpu_burst = bench.cpu_s().zip(cpu0).map(|(a, b)| a - b);
    let peak_burst_kb = bench.status("VmHWM:").unwrap_or(0);
    println!("\n## burst");
    println!("moved into the inbox in {moved:.2} s");
    println!(
        "throughput: {:.0} files/s from the first rename ({done:.2} s, settle included), \
         {:.0} files/s sustained (first to last commit, {:.2} s)",
        burst.len() as f64 / done,
        burst.len() as f64 / (done - first).max(1e-9),
        done - first
    );
    println!(
        "commit time after the move: first {first:.2} s, p50 {:.2} s, p99 {:.2} s, last {done:.2} s",
        at(0.5),
        at(0.99)
    );
    println!(
        "daemon peak RSS (VmHWM) to the last commit: {:.1} MB",
        peak_burst_kb as f64 / 1024.0
    );

    // The answers of the burst: written (eml spool) and marked sent.
    let mut drained = done;
    loop {
        let pending: i64 = db
            .query_row(
                "SELECT count(*) FROM outbox WHERE state = 'pending'",
                [],
                |r| r.get(0),
            )
            .unwrap_or(0);
        if pending == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        drained = t0.elapsed().as_secs_f64();
    }
    println!(
        "all answers written {drained:.2} s after the move ({:.0} messages/s after the last commit)",
        burst.len() as f64 / (drained - first).max(1e-9)
    );
    println!(
        "daemon peak RSS (VmHWM) with the answers written: {:.1} MB",
        bench.status("VmHWM:").unwrap_or(0) as f64 / 1024.0
    );
    if let (Some(burst_cpu), Some(all)) = (cpu_burst, bench.cpu_s().zip(cpu0).map(|(a, b)| a - b)) {
        println!(
            "daemon CPU: {:.2} ms per file to the last commit ({burst_cpu:.1} s), \
             {:.2} ms per file with the answers written ({all:.1} s)",
            burst_cpu * 1000.0 / burst.len() as f64,
            all * 1000.0 / burst.len() as f64
        );
    }

    // Idle means idle: the burst's archive and mail files are written back to disk first
    // (otherwise the first idle files wait behind 200 MB of writeback), then a second's rest.
    // SAFETY: sync(2) has no preconditions.
    unsafe { libc::sync() };
    std::thread::sleep(Duration::from_secs(1));

    // Idle latency: one file at a time, every 100 ms, each timed on its own.
    let mut latencies = Vec::new();
    if !idle.is_empty() {
        let mut pending: Vec<(String, Instant)> = Vec::new();
        let mut next = 0;
        let mut last_drop = Instant::now() - Duration::from_secs(1);
        let deadline = Instant::now() + Duration::from_secs(120 + idle.len() as u64);
        let mut stmt = db
            .prepare(
                "SELECT count(*) FROM submissions WHERE original_name = ?1 AND state != 'archived'",
            )
            .expect("stmt");
        while next < idle.len() || !pending.is_empty() {
            if next < idle.len() && last_drop.elapsed() >= Duration::from_millis(100) {
                let (rel, path) = &idle[next];
                std::fs::rename(path, bench.inbox().join(rel)).expect("move");
                pending.push((rel.clone(), Instant::now()));
                last_drop = Instant::now();
                next += 1;
            }
            pending.retain(|(rel, at)| {
                let done: i64 = stmt.query_row([rel], |r| r.get(0)).unwrap_or(0);
                if done > 0 {
                    latencies.push(at.elapsed().as_secs_f64() * 1000.0);
                    false
                } else {
                    true
                }
            });
            assert!(Instant::now() < deadline, "idle files not committed");
            std::thread::sleep(Duration::from_millis(2));
        }
        latencies.sort_by(f64::total_cmp);
        println!(
            "\n## idle latency ({} files, one every 100 ms)",
            latencies.len()
        );
        println!(
            "completed write -> committed: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms \
             (settle_ms {}; target p99 < settle_ms + 250 = {} ms)",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            latencies.last().copied().unwrap_or(f64::NAN),
            args.settle_ms,
            args.settle_ms + 250
        );
    }

    // Soak: steady drops, RSS each second.
    if args.soak_secs > 0 {
        let soak = generate(args.soak_secs as usize * 100, args.all_formats, 7);
        let started = Instant::now();
        let mut samples = Vec::new();
        let mut i = 0;
        while started.elapsed() < Duration::from_secs(args.soak_secs) {
            let second = Instant::now();
            for _ in 0..100 {
                if let Some((name, bytes)) = soak.get(i) {
                    let rel = format!("a{:04}/soak-{name}", i % args.agencies);
                    let tmp = bench.root.join("staging").join(&rel);
                    std::fs::write(&tmp, bytes).expect("stage");
                    std::fs::rename(&tmp, bench.inbox().join(&rel)).expect("move");
                    i += 1;
                }
            }
            if let Some(rss) = bench.status("VmRSS:") {
                samples.push(rss);
            }
            std::thread::sleep(Duration::from_secs(1).saturating_sub(second.elapsed()));
        }
        let mb = |kb: u64| kb as f64 / 1024.0;
        let tenth = (samples.len() / 10).max(1);
        let head: u64 = samples.iter().take(tenth).sum::<u64>() / tenth as u64;
        let tail: u64 = samples.iter().rev().take(tenth).sum::<u64>() / tenth as u64;
        println!("\n## soak ({} s, 100 files/s, {i} files)", args.soak_secs);
        println!(
            "RSS: first tenth {:.1} MB, last tenth {:.1} MB, max {:.1} MB",
            mb(head),
            mb(tail),
            mb(samples.iter().copied().max().unwrap_or(0))
        );
    }

    // The floor, on the same bytes.
    let floor_files: Vec<(String, PathBuf)> = burst
        .iter()
        .map(|(rel, _)| (rel.clone(), bench.inbox().join(rel)))
        .collect();
    // The daemon removed the files it took; the archive holds them by hash.
    let archive = bench.root.join("data/archive");
    let archived: Vec<(String, PathBuf)> = walk(&archive)
        .into_iter()
        .take(floor_files.len())
        .map(|p| (p.display().to_string(), p))
        .collect();
    let rate = floor(&archived, threads, &bench.root);
    println!("\n## floor");
    println!(
        "read + SHA-256 + INSERT of the bytes (WAL, synchronous=FULL, one transaction per \
         file, {threads} threads): {rate:.0} files/s over {} files",
        archived.len()
    );
    println!(
        "pipeline / floor: {:.2}x slower (sustained rate)",
        rate / (burst.len() as f64 / (done - first).max(1e-9))
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
