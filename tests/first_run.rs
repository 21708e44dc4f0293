//! What a new user and an admin meet first (issue 24, items 1–7): the README's run command
//! on built-in defaults, configured folders, `config check`, reload through the console.

mod harness;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::defaults::{run_on_defaults, terminate, wait_log};
use harness::fixture;

fn checked(dir: &Path) -> i64 {
    let Ok(c) = rusqlite::Connection::open_with_flags(
        dir.join("data/nianbao.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    ) else {
        return 0;
    };
    c.query_row(
        "SELECT count(*) FROM submissions WHERE state != 'archived'",
        [],
        |r| r.get(0),
    )
    .unwrap_or(0)
}

/// Moves a complete report into `folder` (as a copy from another folder of the same disk
/// would arrive) and waits until the daemon has stored `n` submissions: the time it took,
/// or `None` after `limit`.
fn drop_and_wait(
    dir: &Path,
    folder: &Path,
    name: &str,
    n: i64,
    limit: Duration,
) -> Option<Duration> {
    let staging = dir.join("staging");
    std::fs::create_dir_all(&staging).expect("staging");
    let bytes = String::from_utf8(fixture("000_d016082c1b868431.txt"))
        .expect("utf-8")
        .replacen("我局严格按照", &format!("我局（{name}）严格按照"), 1);
    std::fs::write(staging.join(name), bytes).expect("write");
    let start = Instant::now();
    std::fs::rename(staging.join(name), folder.join(name)).expect("move in");
    while start.elapsed() < limit {
        if checked(dir) >= n {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Item 1: with the built-in `./inbox` (a relative path) the kernel's events were compared
/// with the relative inbox and thrown away, so a file was found only by the rescan a
/// minute later. The rescan is 60 s on defaults: a file stored within 30 s was found by
/// its event, in a folder there at start and in one created after.
#[test]
fn relative_inbox_on_defaults_answers_from_kernel_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("inbox/early")).expect("mkdir");
    let (child, log) = run_on_defaults(dir.path(), "daemon.log");
    wait_log(&log, "watching");
    let limit = Duration::from_secs(30);
    let early = drop_and_wait(
        dir.path(),
        &dir.path().join("inbox/early"),
        "a.txt",
        1,
        limit,
    );
    let late_folder = dir.path().join("inbox/late");
    std::fs::create_dir(&late_folder).expect("mkdir late");
    // The new folder's watch is added by the event of its creation.
    std::thread::sleep(Duration::from_millis(500));
    let late = drop_and_wait(dir.path(), &late_folder, "b.txt", 2, limit);
    let seen = std::fs::read_to_string(&log).unwrap_or_default();
    eprintln!("folder at start: {early:?}; folder created after: {late:?}");
    assert_eq!(terminate(child), Some(0));
    assert!(
        early.is_some(),
        "not stored within {limit:?} (folder at start)\n{seen}"
    );
    assert!(
        late.is_some(),
        "not stored within {limit:?} (folder created after)\n{seen}"
    );
}

/// Runs `nianbao <args>` with `stdin` on its standard input: (exit code, stdout, stderr).
fn nianbao(args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("nianbao");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Item 7: `user add` printed "已添加用户 wangli（admin，管理员）：the database". It says, in
/// Chinese, which file the user went to: the database's path, or the users file's.
#[test]
fn user_add_says_in_chinese_where_the_user_went() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("nianbao.toml");
    std::fs::write(
        &config,
        format!(
            "inbox = {:?}\ndata_dir = {:?}\n",
            dir.path().join("inbox"),
            dir.path().join("data")
        ),
    )
    .expect("config");
    let config = config.to_string_lossy().into_owned();
    let (code, out, err) = nianbao(
        &[
            "user", "add", "wangli", "--role", "admin", "--config", &config,
        ],
        "a long password\n",
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let db = dir.path().join("data/nianbao.sqlite");
    let db = db.to_string_lossy();
    assert!(out.contains(&*db), "{out}");
    // Nothing English but the name, the role's keyword and the path.
    let rest = out
        .replace(&*db, "")
        .replace("wangli", "")
        .replace("admin", "");
    assert!(!rest.chars().any(|c| c.is_ascii_alphabetic()), "{out}");
    assert!(out.contains("管理员"), "{out}");
    // In a users file: that file is named.
    let users = dir.path().join("users.toml");
    let with_file = dir.path().join("file.toml");
    std::fs::write(
        &with_file,
        format!(
            "data_dir = {:?}\n[http]\nusers_file = {:?}\n",
            dir.path().join("data"),
            users
        ),
    )
    .expect("config");
    let (code, out, err) = nianbao(
        &[
            "user",
            "add",
            "lisi",
            "--config",
            &with_file.to_string_lossy(),
        ],
        "another password\n",
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let users = users.to_string_lossy();
    assert!(out.contains(&*users), "{out}");
    let rest = out
        .replace(&*users, "")
        .replace("lisi", "")
        .replace("viewer", "");
    assert!(!rest.chars().any(|c| c.is_ascii_alphabetic()), "{out}");
}

/// Item 5: `config check` said OK to a console on a non-loopback address with no user,
/// which `run` refuses. It refuses it too, with `run`'s words; once a user is there, both
/// go ahead.
#[test]
fn config_check_refuses_what_run_refuses_with_the_same_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = harness::http::free_port();
    let config = dir.path().join("nianbao.toml");
    std::fs::write(
        &config,
        format!(
            "inbox = {:?}\ndata_dir = {:?}\n[http]\nlisten = \"0.0.0.0:{port}\"\n",
            dir.path().join("inbox"),
            dir.path().join("data")
        ),
    )
    .expect("config");
    let config = config.to_string_lossy().into_owned();
    let (code, out, check_err) = nianbao(&["config", "check", "--config", &config], "");
    assert_ne!(code, Some(0), "config check passed it: {out}{check_err}");
    let message = check_err
        .lines()
        .find(|l| l.contains("0.0.0.0"))
        .unwrap_or_else(|| panic!("no message naming the address: {check_err}"))
        .trim_start_matches("nianbao: ")
        .to_string();
    let (code, _, run_err) = nianbao(&["run", "--config", &config], "");
    assert_eq!(code, Some(1), "{run_err}");
    assert!(
        run_err.contains(&message),
        "run said something else:\n{run_err}\nconfig check said:\n{message}"
    );
    // With a user, config check passes it.
    let (code, out, err) = nianbao(
        &[
            "user", "add", "wangli", "--role", "admin", "--config", &config,
        ],
        "a long password\n",
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = nianbao(&["config", "check", "--config", &config], "");
    assert_eq!(code, Some(0), "{out}{err}");
}

/// Item 4: configured agency folders were not created; the admin ran 30 `mkdir`s. They are
/// made at start and at reload (mode 2770, the inbox's group: the README's share set-up),
/// a link in the way is never followed, and a folder whose agency left the configuration
/// stays.
#[test]
fn configured_agency_folders_are_created_at_start_and_reload() {
    use std::os::unix::fs::MetadataExt as _;
    let mut d = harness::Daemon::with_config(
        "",
        "[[agency]]\nfolder = \"fresh\"\nname = \"新设单位\"\n\
         [[agency]]\nfolder = \"linked\"\nname = \"链接单位\"\n",
    );
    let outside = d.dir.path().join("outside");
    std::fs::create_dir(&outside).expect("outside");
    std::fs::set_permissions(
        &outside,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("chmod");
    std::os::unix::fs::symlink(&outside, d.inbox().join("linked")).expect("link");
    d.start();
    d.wait_log("watching", 60);
    let inbox_gid = std::fs::metadata(d.inbox()).expect("inbox").gid();
    let fresh = std::fs::symlink_metadata(d.inbox().join("fresh")).expect("fresh created");
    assert!(fresh.is_dir());
    assert_eq!(fresh.mode() & 0o7777, 0o2770);
    assert_eq!(fresh.gid(), inbox_gid);
    let linked = std::fs::symlink_metadata(d.inbox().join("linked")).expect("link");
    assert!(linked.file_type().is_symlink(), "the link was replaced");
    assert_eq!(
        std::fs::metadata(&outside).expect("outside").mode() & 0o7777,
        0o700,
        "the link was followed"
    );
    // Reload with a new agency and without `fresh`: the new folder appears, `fresh` stays.
    let config = d.dir.path().join("nianbao.toml");
    let text = std::fs::read_to_string(&config).expect("config").replace(
        "[[agency]]\nfolder = \"fresh\"\nname = \"新设单位\"\n",
        "[[agency]]\nfolder = \"later\"\nname = \"后加单位\"\n",
    );
    std::fs::write(&config, text).expect("config");
    d.reload();
    assert!(d.inbox().join("later").is_dir(), "{}", d.log());
    assert!(d.inbox().join("fresh").is_dir());
    assert_eq!(d.stop(), Some(0));
}

/// Item 6: configuration errors came one at a time, in serde's words ("invalid type:
/// string …, expected a sequence"). `config check` (and `run`) list every problem of the
/// file at once, each with its line and key and what is expected, in plain words.
#[test]
fn config_errors_come_all_at_once_with_line_key_and_plain_words() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("nianbao.toml");
    std::fs::write(
        &config,
        "settle_ms = \"2000\"\n\
         rescan_intervall_s = 60\n\
         [[agency]]\n\
         folder = \"xss\"\n\
         name = \"西塞山区政数局\"\n\
         email = \"gkb@xss.example.cn\"\n",
    )
    .expect("config");
    let config = config.to_string_lossy().into_owned();
    for args in [
        vec!["config", "check", "--config", &config],
        vec!["run", "--config", &config],
    ] {
        let (code, out, err) = nianbao(&args, "");
        assert_ne!(code, Some(0), "{args:?}: {out}{err}");
        for needle in [
            "第 1 行 settle_ms：应为不带引号的整数，例如 settle_ms = 2000",
            "第 2 行 rescan_intervall_s：不认识这个键",
            "第 6 行 [[agency]] 第 1 个 email：email 是列表，要写在方括号里：email = [\"gkb@xss.example.cn\"]",
        ] {
            assert!(err.contains(needle), "{args:?}: no {needle:?} in\n{err}");
        }
        assert!(!err.contains("invalid type"), "{err}");
    }
}
