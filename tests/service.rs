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

/// Runs a command, failing the test with its output when it fails.
fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The binary under test packaged by cargo-deb as version `version` into `out`.
fn package(version: &str, out: &std::path::Path) {
    let cargo_deb =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/tools/bin/cargo-deb");
    let program = if cargo_deb.exists() {
        cargo_deb.into_os_string()
    } else {
        "cargo-deb".into()
    };
    // --profile dev: the binary `cargo test` has just built (target/debug/nianbao), so the
    // test needs no release build of its own.
    run(Command::new(program)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "--no-build",
            "--fast",
            "--profile",
            "dev",
            "--deb-version",
            version,
            "-o",
        ])
        .arg(out));
}

/// What the test installed on the machine, removed again however the test ends.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .args(["-u", "nianbao", "-x", "nianbao"])
            .status();
        let _ = Command::new("apt-get")
            .args(["purge", "-y", "-qq", "nianbao"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output();
        let _ = std::fs::remove_dir_all("/srv/nianbao");
        let _ = std::fs::remove_dir_all("/etc/nianbao");
        let _ = std::fs::remove_dir_all("/var/lib/nianbao");
    }
}

/// The installed daemon, run as systemd would run the unit (user nianbao, the packaged
/// configuration), until `until` holds or 30 s pass; then stopped with SIGTERM. Its log goes
/// to `log` (a pipe would outlive `runuser` in the daemon and block the wait).
fn run_installed(log: &std::path::Path, until: impl Fn() -> bool) {
    let mut child = Command::new("runuser")
        .args(["-u", "nianbao", "--", "/usr/bin/nianbao", "run", "--config"])
        .arg("/etc/nianbao/nianbao.toml")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log"))
        .spawn()
        .expect("runuser");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut ok = true;
    while !until() {
        if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
            ok = false;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = Command::new("pkill")
        .args(["-TERM", "-u", "nianbao", "-x", "nianbao"])
        .status();
    let _ = child.wait();
    assert!(
        ok,
        "the installed daemon did not get there:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Puts `bytes` into `folder` as `name`, owned by the share's user as a file saved over
/// Samba would be (a file of another owner is refused, see tests/file_modes.rs): written
/// under a temporary name the watcher ignores, handed over, then renamed.
fn drop_as_share_user(folder: &std::path::Path, name: &str, bytes: &[u8]) {
    let tmp = folder.join(format!("{name}.tmp"));
    std::fs::write(&tmp, bytes).expect("write");
    run(Command::new("chown").arg("nianbao:nianbao").arg(&tmp));
    std::fs::rename(&tmp, folder.join(name)).expect("rename");
}

fn submissions() -> i64 {
    let db = rusqlite::Connection::open("/var/lib/nianbao/nianbao.sqlite").expect("the database");
    db.query_row("SELECT count(*) FROM submissions", [], |r| r.get(0))
        .expect("count")
}

/// `apt install ./new.deb` over the old package keeps the admin's configuration, the
/// database and the archive, and the upgraded daemon goes on from them (issue 23, item 19).
///
/// It installs a package on the machine, so it runs only where asked: `NIANBAO_DEB_TEST=1`,
/// which `test.sh` sets when it runs as root on a machine without a nianbao package (CI's
/// clean container). Both packages hold the binary under test; what changes between them is
/// the version, which is what dpkg's upgrade path (conffiles, maintainer scripts, the unit)
/// acts on. The data's own upgrade from an older release is tests/upgrade.rs.
#[test]
fn the_deb_upgrades_over_the_old_one_keeping_configuration_and_data() {
    if std::env::var_os("NIANBAO_DEB_TEST").is_none() {
        eprintln!("skipped: installs a package; test.sh sets NIANBAO_DEB_TEST=1 where it may");
        return;
    }
    assert!(
        Command::new("dpkg-query")
            .args(["-W", "nianbao"])
            .output()
            .is_ok_and(|o| !o.status.success()),
        "a nianbao package is installed on this machine: the test would replace it"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (old, new) = (dir.path().join("old.deb"), dir.path().join("new.deb"));
    package("0.0.1-1", &old);
    package(&format!("{}-1", env!("CARGO_PKG_VERSION")), &new);
    let _installed = Installed;
    let apt = |deb: &std::path::Path| {
        run(Command::new("apt-get")
            .args(["install", "-y", "-qq", "--allow-downgrades"])
            .arg(deb)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    apt(&old);
    let version = || run(Command::new("dpkg-query").args(["-W", "-f=${Version}", "nianbao"]));
    assert_eq!(version(), "0.0.1-1");
    assert!(
        std::path::Path::new("/lib/systemd/system/nianbao.service").exists()
            || std::path::Path::new("/usr/lib/systemd/system/nianbao.service").exists()
    );

    // The admin's edit: mail to .eml files (no relay here), a short settle time, a note.
    let config = std::fs::read_to_string("/etc/nianbao/nianbao.toml").expect("the conffile");
    let start = config.find("[mail.smtp]").expect("the smtp section");
    let end = config[start..]
        .find("\n\n")
        .map_or(config.len(), |e| start + e);
    let edited = format!(
        "# 管理员修改：本机试运行\n{}{}",
        config[..start].replace("settle_ms = 2000", "settle_ms = 300"),
        &config[end..]
    );
    std::fs::write("/etc/nianbao/nianbao.toml", &edited).expect("edit the conffile");
    // What systemd's StateDirectory= would create; there is no systemd in the container.
    run(Command::new("install").args([
        "-d",
        "-o",
        "nianbao",
        "-g",
        "nianbao",
        "-m",
        "0750",
        "/var/lib/nianbao",
    ]));

    // A report dropped and answered by the old package.
    let folder = std::path::Path::new("/srv/nianbao/inbox/xisaishan-zsj");
    run(Command::new("install")
        .args(["-d", "-o", "nianbao", "-g", "nianbao"])
        .arg(folder));
    let report = fixture("000_d016082c1b868431.txt");
    drop_as_share_user(folder, "2022年报.txt", &report);
    let receipts = folder.join("回执");
    let log = dir.path().join("daemon.log");
    run_installed(&log, || {
        std::fs::read_dir(&receipts).is_ok_and(|d| d.count() == 1)
    });
    assert_eq!(submissions(), 1);
    let archived = |dir: &std::path::Path| -> Vec<Vec<u8>> {
        walk(dir)
            .into_iter()
            .filter_map(|p| std::fs::read(p).ok())
            .collect()
    };
    let archive_before = archived(std::path::Path::new("/var/lib/nianbao/archive"));
    assert!(archive_before.contains(&report), "the original archived");

    // The upgrade.
    apt(&new);
    assert_eq!(version(), format!("{}-1", env!("CARGO_PKG_VERSION")));
    assert_eq!(
        std::fs::read_to_string("/etc/nianbao/nianbao.toml").expect("the conffile"),
        edited,
        "the admin's configuration kept"
    );
    assert_eq!(submissions(), 1, "the database kept");
    assert_eq!(
        archived(std::path::Path::new("/var/lib/nianbao/archive")),
        archive_before,
        "the archive kept"
    );
    let group = run(Command::new("stat").args(["-c", "%G %a", "/etc/nianbao/nianbao.toml"]));
    assert_eq!(group.trim(), "nianbao 640");

    // The upgraded daemon goes on: the next report gets the next receipt number.
    let mut second = report.clone();
    second.extend_from_slice("\n（更正版）\n".as_bytes());
    drop_as_share_user(folder, "2022年报（更正）.txt", &second);
    run_installed(&log, || {
        std::fs::read_dir(&receipts).is_ok_and(|d| d.count() == 2)
    });
    assert_eq!(submissions(), 2);
    let receipts_text: String = walk(&receipts)
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    assert!(
        receipts_text.contains("000001") && receipts_text.contains("000002"),
        "{receipts_text}"
    );
}

/// Every file under `dir`, sorted.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
