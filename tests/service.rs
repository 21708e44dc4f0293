//! The daemon under a service manager: sd_notify over a real datagram socket, as systemd
//! would listen (READY, WATCHDOG, RELOADING with the new configuration in effect, STOPPING),
//! and the unit file checked by `systemd-analyze verify` when it is installed.

mod harness;

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::{CHECKED, Daemon, fixture};

/// Datagrams received until `pred` holds for one of them (or `secs` pass).
fn until(socket: &UnixDatagram, secs: u64, pred: impl Fn(&str) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut got = Vec::new();
    let mut buf = vec![0u8; 4096];
    while Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            let done = pred(&msg);
            got.push(msg);
            if done {
                return got;
            }
        }
    }
    panic!("no matching notification within {secs} s; got {got:?}");
}

/// The daemon started as systemd would: NOTIFY_SOCKET on a datagram socket we listen on, a
/// 400 ms watchdog.
fn start_notified(d: &Daemon) -> (UnixDatagram, std::process::Child) {
    let socket_path = d.dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind notify socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let child = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("run")
        .arg("--config")
        .arg(d.dir.path().join("nianbao.toml"))
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "400000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    (socket, child)
}

#[test]
fn speaks_sd_notify_and_reloads_on_sighup() {
    let d = Daemon::new();
    let (socket, mut child) = start_notified(&d);
    let pid = child.id().to_string();
    let first = until(&socket, 15, |m| m.contains("READY=1"));
    assert!(
        first.iter().any(|m| m.contains("STATUS=watching")),
        "{first:?}"
    );
    // Reload with a new agency; files in its folder are attributed to it afterwards.
    let config = d.dir.path().join("nianbao.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("{text}\n[[agency]]\nfolder = \"new\"\nname = \"新登记局\"\nemail = [\"x@new.example.cn\"]\n")).expect("config");
    std::fs::create_dir_all(d.inbox().join("new")).expect("folder");
    Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .expect("kill -HUP");
    let reload = until(&socket, 10, |m| m.contains("RELOADING=1"));
    assert!(
        reload.last().is_some_and(|m| m.contains("MONOTONIC_USEC=")),
        "{reload:?}"
    );
    until(&socket, 10, |m| m.contains("READY=1"));
    std::fs::write(
        d.inbox().join("new/r.txt"),
        fixture("000_d016082c1b868431.txt"),
    )
    .expect("w");
    d.wait_count(CHECKED, 1, 20);
    assert_eq!(
        d.count("SELECT count(*) FROM submissions WHERE agency_folder = 'new'"),
        1,
        "new config in effect"
    );
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    until(&socket, 10, |m| m.contains("STOPPING=1"));
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break s;
        }
        assert!(Instant::now() < deadline, "did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn the_watchdog_is_fed_periodically() {
    let d = Daemon::new();
    let (socket, mut child) = start_notified(&d);
    until(&socket, 15, |m| m.contains("READY=1"));
    let started = Instant::now();
    let count = std::cell::Cell::new(0);
    until(&socket, 5, |m| {
        if m.contains("WATCHDOG=1") {
            count.set(count.get() + 1);
        }
        count.get() >= 5
    });
    // Five pings at ~200 ms intervals: not faster than the interval asks, not much slower.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[test]
fn the_unit_file_verifies() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("systemd-analyze not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/nianbao.service"
    ))
    .expect("unit");
    // verify checks that ExecStart exists: point it at the binary under test.
    let unit = unit.replace("/usr/bin/nianbao", env!("CARGO_BIN_EXE_nianbao"));
    let path = dir.path().join("nianbao.service");
    std::fs::write(&path, unit).expect("write");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("verify");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "{stderr}");
}
