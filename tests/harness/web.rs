//! The console over HTTP for the tests: one request at a time (`Connection: close`), a
//! client that keeps its session cookie, CSRF tokens read from the pages, and console users
//! added with `nianbao user add`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Daemon;

#[allow(unused_imports)] // not every test binary uses it
pub use super::smtp::free_port;

/// One HTTP response.
pub struct Reply {
    pub code: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request (`Connection: close`); `None` when nothing listens.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Option<Reply> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        head.push_str(&format!("Cookie: harness=1; {c}\r\n"));
    }
    if let Some(f) = form {
        head.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            f.len()
        ));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).ok()?;
    if let Some(f) = form {
        s.write_all(f.as_bytes()).ok()?;
    }
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head and body");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let code = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    if headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Some(Reply {
        code,
        headers,
        body,
    })
}

pub fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&raw[..end])
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 2 + size + 2..];
    }
}

/// A browser of sorts: keeps the session cookie it is given.
pub struct Client {
    pub port: u16,
    pub cookie: Option<String>,
}

impl Client {
    pub fn new(port: u16) -> Client {
        // Waits for the server (the daemon is starting).
        let deadline = Instant::now() + Duration::from_secs(30);
        while request(port, "GET", "/healthz", None, None).is_none() {
            assert!(Instant::now() < deadline, "nothing listens on {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Client { port, cookie: None }
    }

    pub fn send(&mut self, method: &str, path: &str, form: Option<&str>) -> Reply {
        let r = request(self.port, method, path, self.cookie.as_deref(), form).expect("answer");
        // A cookie jar of sorts: every cookie set is kept (the session's, the login form's
        // signed CSRF cookie), one set empty is dropped.
        let mut jar: Vec<(String, String)> = self
            .cookie
            .iter()
            .flat_map(|c| c.split("; "))
            .filter_map(|p| p.split_once('='))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        for (name, set) in &r.headers {
            if !name.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let pair = set.split(';').next().unwrap_or("");
            if let Some((n, v)) = pair.split_once('=') {
                jar.retain(|(name, _)| name != n);
                if !v.is_empty() {
                    jar.push((n.to_string(), v.to_string()));
                }
            }
        }
        let joined: Vec<String> = jar.iter().map(|(n, v)| format!("{n}={v}")).collect();
        self.cookie = (!joined.is_empty()).then(|| joined.join("; "));
        r
    }

    pub fn get(&mut self, path: &str) -> Reply {
        self.send("GET", path, None)
    }

    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let form: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        self.send("POST", path, Some(&form.join("&")))
    }

    /// Logs in through the login page; the reply to the login POST.
    pub fn login(&mut self, name: &str, password: &str) -> Reply {
        let page = self.get("/login");
        assert_eq!(page.code, 200, "{}", page.text());
        let csrf = csrf_of(&page.text());
        self.post(
            "/login",
            &[("csrf", &csrf), ("name", name), ("password", password)],
        )
    }
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The CSRF token in a page's forms.
pub fn csrf_of(page: &str) -> String {
    let start = page
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no csrf field in\n{page}"))
        + "name=\"csrf\" value=\"".len();
    page[start..].split('"').next().unwrap_or("").to_string()
}

/// `nianbao user add` with `args` (the name, then options) and the password piped in:
/// (success, stdout + stderr).
pub fn user_add_args(d: &Daemon, args: &[&str], password: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["user", "add"])
        .args(args)
        .arg("--config")
        .arg(d.dir.path().join("nianbao.toml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nianbao user add");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("password");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `nianbao user add NAME --role ROLE` with the password piped in; it must succeed.
pub fn user_add(d: &Daemon, name: &str, role: &str, password: &str) {
    let (ok, out) = user_add_args(d, &[name, "--role", role], password);
    assert!(ok, "user add: {out}");
}

pub fn receipt_of(d: &Daemon, folder: &str) -> String {
    d.db()
        .expect("db")
        .query_row(
            "SELECT receipt FROM submissions WHERE agency_folder = ?1 ORDER BY id DESC LIMIT 1",
            [folder],
            |r| r.get(0),
        )
        .expect("receipt")
}

pub fn count(page: &str, id: &str) -> usize {
    let marker = format!("id=\"{id}\">");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {id} in\n{page}"))
        + marker.len();
    page[start..]
        .split('<')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{id} not a number"))
}
