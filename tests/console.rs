//! The office's web console (issue 16, first slice) on the real daemon with a real SQLite
//! file: reports dropped into the inbox, pages and downloads fetched over HTTP from
//! 127.0.0.1. Overview counts, search, sorting, escaping of hostile names, the download's
//! bytes, 404s for anything but a receipt, CSRF, login, logout, the login throttle, and the
//! refusal to start on a public address without users.

mod harness;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::web::{Client, count, csrf_of, enc, free_port, receipt_of, request, user_add};
use harness::{CHECKED, Daemon, distinct_report, fixture};

const HOSTILE_FILE: &str = "<img src=x onerror=alert(1)><script>alert(1).txt";

/// A daemon with three more agencies (a 街道 and a 镇 among them, one named with markup),
/// its console on a free loopback port, and four reports checked: xss and jd accepted, lc
/// rejected, mk accepted under a hostile file name; hs has sent nothing.
fn season(http_extra: &str) -> (Daemon, u16) {
    let port = free_port();
    let mut d = Daemon::with_config(
        "",
        &format!(
            "[[agency]]\nfolder = \"jd\"\nname = \"东湖街道办事处\"\nemail = [\"gk@jd.example.cn\"]\n\
             [[agency]]\nfolder = \"mk\"\nname = \"<b>坏</b>街道<script>alert(2)</script>\"\n\
             [[agency]]\nfolder = \"hs\"\nname = \"花山镇人民政府\"\n\
             [http]\nlisten = \"127.0.0.1:{port}\"\n{http_extra}"
        ),
    );
    for f in ["jd", "mk", "hs"] {
        std::fs::create_dir_all(d.inbox().join(f)).expect("folder");
    }
    let drops: [(&str, Vec<u8>); 4] = [
        ("xss/a.txt", fixture("000_d016082c1b868431.txt")),
        ("lc/b.txt", fixture("001_41152148c7aabaad.txt")),
        ("jd/c.txt", distinct_report(1)),
        (&format!("mk/{HOSTILE_FILE}"), distinct_report(2)),
    ];
    for (path, bytes) in &drops {
        std::fs::write(d.inbox().join(path), bytes).expect("drop");
    }
    d.start();
    d.wait_count(CHECKED, 4, 60);
    d.wait_count("SELECT count(*) FROM outbox WHERE state = 'pending'", 0, 30);
    (d, port)
}

#[test]
fn overview_counts_search_sort_and_escaping() {
    let (mut d, port) = season("");
    std::fs::create_dir_all(d.inbox().join("新区")).expect("an unconfigured folder");
    let mut c = Client::new(port);
    assert!(
        d.log()
            .contains(&format!("web console at http://127.0.0.1:{port}/")),
        "{}",
        d.log()
    );
    let r = c.get("/");
    assert_eq!(r.code, 200, "{}", r.text());
    let csp = r.header("content-security-policy").expect("CSP");
    for part in [
        "default-src 'self'",
        "script-src 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let page = r.text();
    assert!(page.contains("2022 年度报告报送情况"), "{page}");
    assert_eq!(count(&page, "count-accepted"), 3, "xss, jd, mk");
    assert_eq!(count(&page, "count-rejected"), 1, "lc");
    assert_eq!(count(&page, "count-missing"), 2, "hs, and the folder 新区");
    assert_eq!(count(&page, "count-agencies"), 6);
    // A folder that has sent nothing is an agency with a page of its own.
    let new = c.get(&format!("/agency/{}", enc("新区")));
    assert_eq!(new.code, 200, "{}", new.text());
    assert!(new.text().contains("尚未提交"));
    // Names from the configuration and from the share are shown as text.
    assert!(
        page.contains("&lt;b&gt;坏&lt;/b&gt;街道&lt;script&gt;alert(2)&lt;/script&gt;"),
        "{page}"
    );
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(1).txt"),
        "{page}"
    );
    assert!(
        !page.contains("<script") && !page.contains("<img") && !page.contains("<b>坏"),
        "{page}"
    );

    let found = c.get(&format!("/?q={}", enc("街道"))).text();
    assert!(
        found.contains("东湖街道办事处") && found.contains("&lt;b&gt;坏"),
        "{found}"
    );
    for other in ["西塞山区政数局", "老城区人民政府办公室", "花山镇人民政府"]
    {
        assert!(
            !found.contains(other),
            "{other} in the 街道 search\n{found}"
        );
    }
    assert!(found.contains("“街道”：2 / 6 个单位"), "{found}");
    let town = c.get(&format!("/?q={}", enc("镇"))).text();
    assert!(
        town.contains("花山镇人民政府") && !town.contains("东湖街道办事处"),
        "{town}"
    );

    // Most errors first: the rejected 老城区 leads.
    let sorted = c.get("/?sort=-errors").text();
    let pos = |name: &str| sorted.find(name).unwrap_or_else(|| panic!("{name}"));
    assert!(
        pos("老城区人民政府办公室") < pos("西塞山区政数局"),
        "{sorted}"
    );
    let by_name = c.get("/?sort=status").text();
    assert!(by_name.find("需修改").is_some(), "{by_name}");

    // Other years are a click away, and an empty one is an empty season.
    let empty = c.get("/?year=2021").text();
    assert_eq!(count(&empty, "count-missing"), 6, "{empty}");
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn submission_page_download_agency_and_exports() {
    let (mut d, port) = season("");
    let mut c = Client::new(port);
    let lc = receipt_of(&d, "lc");
    let page = c.get(&format!("/submission/{lc}"));
    assert_eq!(page.code, 200, "{}", page.text());
    let page = page.text();
    let b = fixture("001_41152148c7aabaad.txt");
    let sha = nianbao::check::sha256_hex(&b);
    assert!(page.contains(&sha) && page.contains(&lc), "{page}");
    assert!(page.contains("id=\"verdict\">需修改<"), "{page}");
    // The mail's renderer, with a wrong cell highlighted in red.
    assert!(
        page.contains("表二 收到和处理政府信息公开申请情况"),
        "{page}"
    );
    assert!(
        page.contains("background:#ffd6d6"),
        "no highlighted cell\n{page}"
    );
    // The feedback, and its delivery to each recipient (the .eml spool counts as sent).
    for to in ["a@lc.example.cn", "b@lc.example.cn"] {
        assert!(page.contains(to), "{to}\n{page}");
    }
    assert!(
        page.contains("已发送") && page.contains("【需修改】"),
        "{page}"
    );

    let original = c.get(&format!("/submission/{lc}/original"));
    assert_eq!(original.code, 200);
    assert_eq!(nianbao::check::sha256_hex(&original.body), sha);
    let disposition = original.header("content-disposition").expect("disposition");
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''b.txt"),
        "{disposition}"
    );

    // The hostile name: escaped on the page, harmless in the header.
    let mk = receipt_of(&d, "mk");
    let page = c.get(&format!("/submission/{mk}")).text();
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{page}"
    );
    assert!(
        !page.contains("<img") && !page.contains("<script"),
        "{page}"
    );
    let hostile = c.get(&format!("/submission/{mk}/original"));
    assert_eq!(hostile.code, 200);
    assert_eq!(
        nianbao::check::sha256_hex(&hostile.body),
        nianbao::check::sha256_hex(&distinct_report(2))
    );
    let disposition = hostile.header("content-disposition").expect("disposition");
    assert!(
        disposition.contains(&format!("filename=\"{mk}.txt\"")),
        "{disposition}"
    );
    assert!(!disposition.contains('<'), "{disposition}");

    // By receipt only: paths, other shapes and unknown receipts are 404.
    for path in [
        "/submission/..%2F..%2Fetc%2Fpasswd/original".to_string(),
        "/submission/../../etc/passwd".to_string(),
        "/submission/%2E%2E/original".to_string(),
        format!("/submission/{lc}%2F..%2F..%2Fnianbao.toml/original"),
        "/submission/NB-2099-999999/original".to_string(),
        "/submission/NB-2099-999999".to_string(),
        format!("/submission/{}/original", sha),
        "/agency/nothing-here".to_string(),
        "/export/abc.csv".to_string(),
        "/export/2022.exe".to_string(),
    ] {
        let r = c.get(&path);
        assert_eq!(r.code, 404, "{path}: {}", r.text());
        assert!(!r.text().contains("[[agency]]"), "{path}");
    }

    let agency = c.get("/agency/lc").text();
    assert!(
        agency.contains("老城区人民政府办公室") && agency.contains(&lc),
        "{agency}"
    );

    // The same bytes again: a duplicate, whose page points to the first.
    std::fs::write(d.inbox().join("lc/b-again.txt"), &b).expect("drop");
    d.wait_count(CHECKED, 5, 60);
    let again = receipt_of(&d, "lc");
    assert_ne!(again, lc);
    let page = c.get(&format!("/submission/{again}")).text();
    assert!(page.contains("id=\"verdict\">重复提交<"), "{page}");
    assert!(
        page.contains(&format!("href=\"/submission/{lc}\"")),
        "{page}"
    );
    assert!(!page.contains("未发现问题"), "{page}");
    let agency = c.get("/agency/lc").text();
    assert!(agency.contains(&again) && agency.contains(&lc), "{agency}");

    let csv = c.get("/export/2022.csv");
    assert_eq!(csv.code, 200);
    assert!(csv.body.starts_with("\u{FEFF}".as_bytes()));
    let text = csv.text();
    assert!(
        text.contains("西塞山区政数局") && text.contains("花山镇人民政府"),
        "{text}"
    );
    assert!(
        csv.header("content-disposition")
            .is_some_and(|h| h.contains("nianbao-2022.csv")),
        "{:?}",
        csv.headers
    );
    let json: serde_json::Value =
        serde_json::from_slice(&c.get("/export/2022.json").body).expect("json export");
    assert_eq!(json["lines"].as_array().map(Vec::len), Some(5), "{json}");
    let xlsx = c.get("/export/2022.xlsx");
    assert_eq!(xlsx.code, 200);
    assert!(xlsx.body.starts_with(b"PK"), "an xlsx is a zip");

    // Without users on loopback nobody logs in (no logout button), but a POST still needs
    // its session's CSRF token.
    let home = c.get("/").text();
    assert!(
        home.contains("本机访问，未设置用户") && !home.contains("退出登录"),
        "{home}"
    );
    assert!(c.cookie.is_some(), "a session for the CSRF token");
    assert_eq!(c.post("/logout", &[]).code, 403);
    assert_eq!(c.post("/logout", &[("csrf", "0123")]).code, 403);
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn with_users_every_page_needs_a_login_and_logout_ends_it() {
    let port = free_port();
    let mut d = Daemon::with_config("", &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    user_add(&d, "alice", "admin", "correct horse battery");
    user_add(&d, "bob", "viewer", "bob's long password");
    std::fs::write(
        d.inbox().join("xss/a.txt"),
        fixture("000_d016082c1b868431.txt"),
    )
    .expect("drop");
    d.start();
    d.wait_count(CHECKED, 1, 60);
    let receipt = receipt_of(&d, "xss");
    let mut c = Client::new(port);
    for path in [
        "/".to_string(),
        "/?year=2022&q=x".to_string(),
        format!("/submission/{receipt}"),
        format!("/submission/{receipt}/original"),
        "/agency/xss".to_string(),
        "/export/2022.csv".to_string(),
        "/export/2022.xlsx".to_string(),
        "/export/2022.json".to_string(),
    ] {
        let r = c.get(&path);
        assert_eq!(r.code, 303, "{path}: {}", r.text());
        assert_eq!(r.header("location"), Some("/login"), "{path}");
    }
    // The metrics stay open for Prometheus.
    assert_eq!(c.get("/healthz").code, 200);
    assert_eq!(c.post("/logout", &[("csrf", "x")]).code, 403);

    let login = c.get("/login");
    assert_eq!(login.code, 200);
    let cookie = login.header("set-cookie").expect("cookie").to_string();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "not behind TLS: {cookie}");
    let pre_login = c.cookie.clone();
    let csrf = csrf_of(&login.text());
    let form = |csrf: &str, password: &str| {
        vec![
            ("csrf".to_string(), csrf.to_string()),
            ("name".to_string(), "alice".to_string()),
            ("password".to_string(), password.to_string()),
        ]
    };
    let post = |c: &mut Client, fields: Vec<(String, String)>| {
        let f: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        c.post("/login", &f)
    };
    assert_eq!(
        post(&mut c, form("", "correct horse battery")).code,
        403,
        "no CSRF token"
    );
    assert_eq!(
        post(&mut c, form("wrong", "correct horse battery")).code,
        403,
        "wrong CSRF token"
    );
    let wrong = post(&mut c, form(&csrf, "incorrect"));
    assert_eq!(wrong.code, 401, "{}", wrong.text());
    assert!(wrong.text().contains("用户名或密码错误"));
    let ok = post(&mut c, form(&csrf, "correct horse battery"));
    assert_eq!(ok.code, 303, "{}", ok.text());
    assert_eq!(ok.header("location"), Some("/"));
    assert_ne!(c.cookie, pre_login, "a login starts a new session");
    let home = c.get("/");
    assert_eq!(home.code, 200, "{}", home.text());
    let home = home.text();
    assert!(home.contains("alice") && home.contains("管理员"), "{home}");
    assert_eq!(c.get(&format!("/submission/{receipt}/original")).code, 200);

    // Logout: a POST with the session's token; the old cookie is refused afterwards.
    let session = c.cookie.clone();
    assert_eq!(c.post("/logout", &[]).code, 403, "logout without CSRF");
    assert_eq!(c.get("/").code, 200, "still logged in");
    let out = c.post("/logout", &[("csrf", &csrf_of(&home))]);
    assert_eq!(out.code, 303);
    assert_eq!(out.header("location"), Some("/login"));
    let after = request(port, "GET", "/", session.as_deref(), None).expect("answer");
    assert_eq!(after.code, 303, "the ended session is refused");
    assert_eq!(after.header("location"), Some("/login"));

    // A user removed while logged in is refused at the next request.
    let mut bob = Client::new(port);
    assert_eq!(bob.login("bob", "bob's long password").code, 303);
    let page = bob.get("/").text();
    assert!(page.contains("只读"), "{page}");
    let (code, _, stderr) = d.cli(&["user", "remove", "bob"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(bob.get("/").code, 303);
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn five_wrong_passwords_slow_down_further_tries() {
    let port = free_port();
    let mut d = Daemon::with_config("", &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    user_add(&d, "alice", "viewer", "correct horse battery");
    d.start();
    let mut c = Client::new(port);
    for i in 0..5 {
        let r = c.login("alice", &format!("guess {i}"));
        assert_eq!(r.code, 401, "try {i}: {}", r.text());
    }
    // The sixth try waits, right password or not, and says how long.
    let r = c.login("alice", "correct horse battery");
    assert_eq!(r.code, 429, "{}", r.text());
    let wait: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=30).contains(&wait), "{wait}");
    assert!(r.text().contains("秒后再试"), "{}", r.text());
    // Another name from the same client is checked (only slowed down): the lockout is per
    // (user, client), so that nobody can lock a user out for everyone (issue 23).
    assert_eq!(c.login("mallory", "whatever-else").code, 401);
    assert_eq!(c.get("/").code, 303, "not logged in");
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn a_public_address_without_users_refuses_to_start_and_names_the_fix() {
    let port = free_port();
    let mut d = Daemon::with_config("", &format!("[http]\nlisten = \"0.0.0.0:{port}\"\n"));
    d.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(code) = d.exited() {
            break code;
        }
        assert!(Instant::now() < deadline, "still running\n{}", d.log());
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(code, Some(1), "{}", d.log());
    let log = d.log();
    assert!(
        log.contains("not a loopback address") && log.contains("nianbao user add NAME"),
        "{log}"
    );
    // With a user it starts, and asks for a login.
    user_add(&d, "alice", "admin", "correct horse battery");
    d.start();
    let mut c = Client::new(port);
    let r = c.get("/");
    assert_eq!(r.code, 303);
    assert_eq!(r.header("location"), Some("/login"));
    assert_eq!(c.login("alice", "correct horse battery").code, 303);
    assert_eq!(c.get("/").code, 200);
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn users_in_a_users_file() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("console-users");
    let mut d = Daemon::with_config(
        "",
        &format!(
            "[http]\nlisten = \"127.0.0.1:{port}\"\nusers_file = {file:?}\nbehind_tls = true\n"
        ),
    );
    user_add(&d, "carol", "admin", "carol's long password");
    let text = std::fs::read_to_string(&file).expect("users file");
    assert!(text.contains("carol\tadmin\t$argon2id$"), "{text}");
    assert!(!text.contains("carol's long password"));
    let (code, out, err) = d.cli(&["user", "list"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "carol\tadmin");
    d.start();
    let mut c = Client::new(port);
    let login = c.get("/login");
    assert!(
        login
            .header("set-cookie")
            .is_some_and(|h| h.ends_with("; Secure")),
        "behind TLS: {:?}",
        login.headers
    );
    let csrf = csrf_of(&login.text());
    let r = c.post(
        "/login",
        &[
            ("csrf", &csrf),
            ("name", "carol"),
            ("password", "carol's long password"),
        ],
    );
    assert_eq!(r.code, 303, "{}", r.text());
    assert_eq!(c.get("/").code, 200);
    assert_eq!(d.cli(&["user", "remove", "carol"]).0, Some(0));
    let (code, _, err) = d.cli(&["user", "remove", "carol"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("没有用户 carol"), "{err}");
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn console_off_serves_only_the_metrics_on_any_address() {
    let port = free_port();
    let mut d = Daemon::with_config(
        "",
        &format!("[http]\nlisten = \"0.0.0.0:{port}\"\nconsole = false\n"),
    );
    d.start();
    let mut c = Client::new(port);
    assert_eq!(c.get("/metrics").code, 200);
    let r = c.get("/");
    assert_eq!(r.code, 404, "{}", r.text());
    assert!(r.header("content-security-policy").is_some());
    assert_eq!(c.get("/login").code, 404);
    assert_eq!(d.stop(), Some(0));
}

/// Reads the child's output until it contains `marker` (or panics after 30 s).
fn read_until(out: &mut impl Read, seen: &mut String, marker: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 256];
    while !seen.contains(marker) {
        assert!(Instant::now() < deadline, "no {marker:?} in {seen:?}");
        let n = out.read(&mut buf).expect("read");
        assert!(n > 0, "output ended before {marker:?}: {seen:?}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

/// `nianbao user add` on a terminal (a pty from `script`, util-linux): typing `first` and
/// `second` at its two prompts; (exit success, everything the terminal showed).
fn user_add_on_a_tty(d: &Daemon, name: &str, first: &str, second: &str) -> (bool, String) {
    let command = format!(
        "{} user add {name} --role admin --config {}",
        env!("CARGO_BIN_EXE_nianbao"),
        d.dir.path().join("nianbao.toml").display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script (util-linux)");
    let mut input = child.stdin.take().expect("stdin");
    let mut output = child.stdout.take().expect("stdout");
    let mut seen = String::new();
    read_until(&mut output, &mut seen, "password: ");
    input
        .write_all(format!("{first}\n").as_bytes())
        .expect("type");
    read_until(&mut output, &mut seen, "again: ");
    input
        .write_all(format!("{second}\n").as_bytes())
        .expect("type");
    let mut rest = String::new();
    output.read_to_string(&mut rest).expect("rest");
    seen.push_str(&rest);
    (child.wait().expect("wait").success(), seen)
}

#[test]
fn user_add_on_a_terminal_asks_twice_without_echo() {
    let d = Daemon::new();
    let (ok, shown) = user_add_on_a_tty(&d, "dora", "typed-secret-1", "typed-secret-2");
    assert!(!ok, "different passwords are refused\n{shown}");
    assert!(shown.contains("不一致"), "{shown}");
    let (ok, shown) = user_add_on_a_tty(&d, "dora", "typed-secret-1", "typed-secret-1");
    assert!(ok, "{shown}");
    assert!(
        !shown.contains("typed-secret"),
        "the password was echoed:\n{shown}"
    );
    let (code, out, err) = d.cli(&["user", "list"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "dora\tadmin");
}
