//! `nianbao run` with no configuration file, in a folder as its working directory: the
//! README's first command (`./inbox`, `./data`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `nianbao run` in `dir`, logging to `dir/<name>`: (child, log).
pub fn run_on_defaults(dir: &Path, name: &str) -> (Child, PathBuf) {
    let log = dir.join(name);
    let child = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("run")
        .current_dir(dir)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&log).expect("log")))
        .spawn()
        .expect("nianbao run");
    (child, log)
}

/// Waits (a minute at most) until the log holds `text`; the log so far.
pub fn wait_log(log: &Path, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen = std::fs::read_to_string(log).unwrap_or_default();
        if seen.contains(text) {
            return seen;
        }
        assert!(Instant::now() < deadline, "no `{text}` in\n{seen}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// SIGTERM, and the exit status.
pub fn terminate(mut child: Child) -> Option<i32> {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    child.wait().ok()?.code()
}
