//! The real daemon in a temporary folder, for integration tests: its own inbox, data folder,
//! configuration and log; stopped with SIGTERM or killed with SIGKILL.

#![allow(dead_code)]

pub mod defaults;
pub mod disk;
pub mod http;
pub mod smtp;
pub mod web;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::Connection;

pub struct Daemon {
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    /// Length of the log when the daemon was last started: [`Daemon::wait_log`] looks
    /// after it, so that a restarted daemon is not taken as ready by its last run's lines.
    log_mark: usize,
}

pub const SETTLE_MS: u64 = 300;

impl Daemon {
    pub fn config(dir: &Path, mail_keys: &str, extra: &str) -> PathBuf {
        let config = dir.join("nianbao.toml");
        let text = format!(
            "inbox = {:?}\ndata_dir = {:?}\nsettle_ms = {SETTLE_MS}\nrescan_interval_s = 1\n\
             max_file_mb = 1\nfiling_year = 2023\nworkers = 2\n\
             [mail]\nadmin = \"admin@office.example.cn\"\n{mail_keys}\n\
             [[agency]]\nfolder = \"xss\"\nname = \"西塞山区政数局\"\nemail = [\"gkb@xss.example.cn\"]\n\
             [[agency]]\nfolder = \"lc\"\nname = \"老城区人民政府办公室\"\nemail = [\"a@lc.example.cn\", \"b@lc.example.cn\"]\n\
             {extra}",
            dir.join("inbox"),
            dir.join("data"),
        );
        std::fs::write(&config, text).expect("config");
        config
    }

    pub fn new() -> Daemon {
        Daemon::with_config("", "")
    }

    /// A daemon with more `[mail]` keys and more tables (e.g. `[mail.smtp]`) in its config.
    pub fn with_config(mail_keys: &str, extra: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("inbox/xss")).expect("inbox");
        std::fs::create_dir_all(dir.path().join("inbox/lc")).expect("inbox");
        Daemon::config(dir.path(), mail_keys, extra);
        Daemon {
            dir,
            child: None,
            log_mark: 0,
        }
    }

    pub fn start(&mut self) {
        self.start_with(Command::new(env!("CARGO_BIN_EXE_nianbao")));
    }

    /// Starts the daemon as an unprivileged user (nobody) when the tests run as root, so
    /// that file permissions apply to it; its folder is handed to that user first. Returns
    /// false when neither is possible (not root and no setpriv).
    pub fn start_unprivileged(&mut self) -> bool {
        // SAFETY: getuid has no preconditions.
        let root = unsafe { libc::getuid() } == 0;
        if !root {
            self.start();
            return true;
        }
        let chown = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(self.dir.path())
            .status();
        if !chown.is_ok_and(|s| s.success()) {
            return false;
        }
        let mut cmd = Command::new("setpriv");
        cmd.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            env!("CARGO_BIN_EXE_nianbao"),
        ]);
        self.start_with(cmd);
        true
    }

    /// Starts the daemon with more environment variables (e.g. the debug-build test clock
    /// `NIANBAO_TEST_NOW`).
    pub fn start_env(&mut self, vars: &[(&str, &str)]) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nianbao"));
        cmd.envs(vars.iter().copied());
        self.start_with(cmd);
    }

    /// Starts the daemon with a descriptor limit of `nofile` (soft and hard, by `prlimit`).
    pub fn start_nofile(&mut self, nofile: u64) {
        let mut cmd = Command::new("prlimit");
        cmd.arg(format!("--nofile={nofile}:{nofile}"))
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_nianbao"));
        self.start_with(cmd);
    }

    /// The daemon's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn start_with(&mut self, mut cmd: Command) {
        self.log_mark = self.log().len();
        let child = cmd
            .arg("run")
            .arg("--config")
            .arg(self.dir.path().join("nianbao.toml"))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.dir.path().join("daemon.log"))
                    .expect("log"),
            ))
            .spawn()
            .expect("start nianbao run");
        self.child = Some(child);
    }

    /// SIGTERM, and the exit status.
    pub fn stop(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("daemon did not stop within 10 s of SIGTERM\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The daemon's peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kb(&self) -> Option<u64> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    pub fn inbox(&self) -> PathBuf {
        self.dir.path().join("inbox")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    pub fn db(&self) -> Option<Connection> {
        let path = self.dir.path().join("data/nianbao.sqlite");
        if !path.exists() {
            return None;
        }
        let c =
            Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
        c.busy_timeout(Duration::from_secs(5)).ok()?;
        Some(c)
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db()
            .and_then(|c| c.query_row(sql, [], |r| r.get::<_, i64>(0)).ok())
            .unwrap_or(0)
    }

    /// Waits until `sql` counts `n` (or panics with the log after `secs`).
    pub fn wait_count(&self, sql: &str, n: i64, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.count(sql) == n {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "`{sql}` = {} after {secs} s, expected {n}\n{}",
            self.count(sql),
            self.log()
        );
    }

    pub fn eml_files(&self) -> Vec<PathBuf> {
        eml_files_in(&self.dir.path().join("data/outbox"))
    }
}

/// The `.eml` files in a folder, sorted (none when it does not exist).
pub fn eml_files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

/// A distinct valid report: corpus 000 with its title year kept and one narrative word
/// changed, so each copy has its own bytes.
pub fn distinct_report(i: usize) -> Vec<u8> {
    let text = String::from_utf8(fixture("000_d016082c1b868431.txt")).expect("utf-8");
    text.replacen("我局严格按照", &format!("我局（第{i}份）严格按照"), 1)
        .into_bytes()
}

/// Corpus report 000 (a correct 2022 report) moved to report year `year`.
pub fn report_for(year: i32) -> Vec<u8> {
    String::from_utf8(fixture("000_d016082c1b868431.txt"))
        .expect("utf-8")
        .replace("2022", &year.to_string())
        .replace("2021", &(year - 1).to_string())
        .into_bytes()
}

pub const CHECKED: &str = "SELECT count(*) FROM submissions WHERE state != 'archived'";

// Helpers of tests/recovery.rs.
impl Daemon {
    /// Whether the daemon has exited, and how (`None` while it runs).
    pub fn exited(&mut self) -> Option<Option<i32>> {
        let status = self.child.as_mut()?.try_wait().ok()??;
        self.child = None;
        Some(status.code())
    }

    /// Waits until the log contains `text` (or panics with the log after `secs`).
    pub fn wait_log(&self, text: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            let log = self.log();
            if log.get(self.log_mark..).unwrap_or(&log).contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "no `{text}` in the log of this run after {secs} s\n{}",
            self.log()
        );
    }

    /// `systemctl reload`: SIGHUP, then waits (30 s at most) until the log says that the
    /// configuration was reloaded once more.
    pub fn reload(&self) {
        const DONE: &str = "configuration reloaded";
        let before = self.log().matches(DONE).count();
        let pid = self.pid().expect("the daemon runs").to_string();
        let sent = Command::new("kill").args(["-HUP", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -HUP {pid}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.log().matches(DONE).count() == before {
            assert!(
                Instant::now() < deadline,
                "not reloaded in 30 s\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A writable connection to the daemon's database (for tests that damage or lock it).
    pub fn db_rw(&self) -> Connection {
        let c = Connection::open(self.dir.path().join("data/nianbao.sqlite")).expect("open db");
        c.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        c
    }

    /// Runs `nianbao <args> --config <its config>` to the end: (exit code, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
            .args(args)
            .arg("--config")
            .arg(self.dir.path().join("nianbao.toml"))
            .output()
            .expect("run nianbao");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// A CSV line split into fields (the export quotes only fields with `,`, `"` or breaks).
pub fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    out.push(field);
    out
}

/// SHA-256 by coreutils, independent of the crate's own hashing.
pub fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}
