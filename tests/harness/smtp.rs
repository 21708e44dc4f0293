//! The real SMTP server of the tests: aiosmtpd on 127.0.0.1 (`tests/smtp_server.py`), and
//! what it received.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The test SMTP server: a Python process listening on `port`, storing mail in `dir`.
pub struct SmtpServer {
    child: Child,
}

impl SmtpServer {
    pub fn start(port: u16, dir: &Path) -> SmtpServer {
        SmtpServer::start_with(port, dir, &[])
    }

    /// With more arguments for `tests/smtp_server.py` (e.g. `--data-delay 6`).
    pub fn start_with(port: u16, dir: &Path, args: &[&str]) -> SmtpServer {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--dir")
            .arg(dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 tests/smtp_server.py (needs `pip install aiosmtpd`, done by .ci/run)");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        assert_eq!(
            line.trim(),
            "READY",
            "SMTP server did not start (is aiosmtpd installed?)"
        );
        SmtpServer { child }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Received messages: (envelope recipients, raw bytes).
pub fn received(dir: &Path) -> Vec<(Vec<String>, Vec<u8>)> {
    super::eml_files_in(dir)
        .into_iter()
        .filter_map(|p| {
            let envelope: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(p.with_extension("json")).ok()?)
                    .ok()?;
            let to = envelope["to"]
                .as_array()?
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            Some((to, std::fs::read(&p).ok()?))
        })
        .collect()
}

pub fn wait_received(dir: &Path, n: usize, secs: u64) -> Vec<(Vec<String>, Vec<u8>)> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let got = received(dir);
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn smtp_config(port: u16) -> String {
    format!(
        "[mail.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\ntimeout_s = 5\n"
    )
}

/// Subject, plain text and HTML parts of a message, decoded.
pub fn parts(raw: &[u8]) -> (String, String, String) {
    use mailparse::MailHeaderMap;
    let mail = mailparse::parse_mail(raw).expect("parse mail");
    let subject = mail.headers.get_first_value("Subject").unwrap_or_default();
    let mut text = String::new();
    let mut html = String::new();
    for part in std::iter::once(&mail).chain(mail.subparts.iter()) {
        match part.ctype.mimetype.as_str() {
            "text/plain" => text = part.get_body().unwrap_or_default(),
            "text/html" => html = part.get_body().unwrap_or_default(),
            _ => {}
        }
    }
    (subject, text, html)
}

/// (subject, plain text) of each message received by `to`.
pub fn mails_to(dir: &Path, to: &str) -> Vec<(String, String)> {
    received(dir)
        .iter()
        .filter(|(rcpt, _)| rcpt.iter().any(|r| r == to))
        .map(|(_, raw)| {
            let (subject, text, _) = parts(raw);
            (subject, text)
        })
        .collect()
}
