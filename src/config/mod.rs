//! The daemon's configuration: a TOML file where every key has a default.
//!
//! Unknown keys are an error naming the key and the file: a misspelt `settle_ms` that is
//! silently ignored would leave the admin wondering for weeks why nothing changed.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub mod bundle;
pub mod data;
pub mod deadlines;
pub mod problems;
pub mod regions;
pub mod values;

pub use bundle::BundleConfig;
pub use data::{BackupConfig, RetentionConfig};
pub use deadlines::{AgencyKind, DeadlinesConfig, RemindersConfig};
pub use regions::Region;
use values::de;
pub use values::{ListenAddr, Millis, Minutes, MonthDay, Secs, Span, TimeOfDay};

/// The whole configuration. `Config::default()` is what `nianbao run` uses without a file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The drop folder: one subfolder per agency.
    pub inbox: PathBuf,
    /// SQLite database, archive of originals, mail spool. Must be on a local disk: SQLite's
    /// WAL mode needs shared memory, which network shares do not give reliably.
    pub data_dir: PathBuf,
    /// A file is read once its size and modification time have not changed for this long.
    pub settle_ms: Millis,
    /// Full rescan of the inbox; network shares send no change events.
    pub rescan_interval_s: Secs,
    /// Larger files are archived and answered, not read.
    pub max_file_mb: u64,
    /// How the inbox is watched: `auto` (kernel events plus rescans), `poll` (stat every
    /// file each `poll_interval_ms`; for Samba/NFS mounts where events from other hosts never
    /// arrive).
    pub watch: WatchMode,
    pub poll_interval_ms: Millis,
    /// Batches of reports read and checked at once (0: two per core).
    pub workers: usize,
    /// A piece of work (checking one file, copying one into the archive) running longer
    /// than this is taken as stuck: the systemd watchdog is no longer fed and `/readyz`
    /// says so. Checking is bounded far below it (converters are killed after 2 minutes).
    pub stuck_after_s: Secs,
    /// The year reports are filed in (0: the current year). A report for year N is expected
    /// in year N+1.
    pub filing_year: i32,
    pub mail: Mail,
    pub http: HttpConfig,
    /// Officer review (人工复核): whether feedback waits for it.
    pub review: ReviewConfig,
    /// Scans read by OCR (Tesseract): on or off, how many at once, time per page.
    pub ocr: OcrConfig,
    /// The office itself: who an agency contacts (named in every message to it).
    pub office: OfficeConfig,
    /// Deprecated: the old name of `[http]` (see `Config::http_listen`).
    pub metrics: MetricsConfig,
    /// Deadlines per kind of agency (used by the `deadlines` module).
    pub deadlines: DeadlinesConfig,
    /// Reminder mails before, on and after the deadline (off unless enabled).
    pub reminders: RemindersConfig,
    /// The daily backup of the database (off unless `dir` is set; see the `backup` module).
    pub backup: BackupConfig,
    /// How long archived originals are kept (everything unless set; see the `retention`
    /// module).
    pub retention: RetentionConfig,
    #[serde(rename = "agency")]
    pub agencies: Vec<Agency>,
    /// The region tree (`[[region]]`, see the `region` module): empty, everything is one
    /// list.
    #[serde(rename = "region")]
    pub regions: Vec<Region>,
    /// Exchange of signed bundles between offices (see the `bundle` module).
    pub bundle: BundleConfig,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            inbox: PathBuf::from("inbox"),
            data_dir: PathBuf::from("data"),
            settle_ms: Millis::new(2000),
            rescan_interval_s: Secs::new(60),
            max_file_mb: 50,
            watch: WatchMode::Auto,
            poll_interval_ms: Millis::new(1000),
            workers: 0,
            stuck_after_s: Secs::new(600),
            filing_year: 0,
            mail: Mail::default(),
            http: HttpConfig::default(),
            review: ReviewConfig::default(),
            ocr: OcrConfig::default(),
            office: OfficeConfig::default(),
            metrics: MetricsConfig::default(),
            deadlines: Default::default(),
            reminders: Default::default(),
            backup: Default::default(),
            retention: Default::default(),
            agencies: Vec::new(),
            regions: Vec::new(),
            bundle: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WatchMode {
    Auto,
    Poll,
}

/// The optional HTTP server: `/metrics`, `/healthz`, `/readyz` (see the `http` module) and
/// the office's web console (see the `console` module).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// `"127.0.0.1:9464"`: serve there; absent: no server, no port opened.
    #[serde(deserialize_with = "de::listen")]
    pub listen: Option<ListenAddr>,
    /// Serve the office's web console beside the metrics (`false`: only `/metrics`,
    /// `/healthz`, `/readyz`, e.g. for a scrape from another host without console users).
    pub console: bool,
    /// Console users in this file (written by `nianbao user add`) instead of the database.
    pub users_file: Option<PathBuf>,
    /// A console session ends after this many minutes without a request.
    pub session_idle_min: Minutes,
    /// The console is reached through an HTTPS proxy: its cookie is marked `Secure`.
    pub behind_tls: bool,
    /// The console's address as users reach it (`https://nianbao.office.example/`): its
    /// host name is accepted in `Host` and `Origin` besides the listen address and loopback
    /// names (DNS rebinding, see `console::origin`).
    pub public_url: Option<String>,
    /// Proxies whose `X-Forwarded-For` names the client (the login throttle's key);
    /// exact addresses. Without them, the peer address is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Set by `nianbao run` without a configuration file, never read from one: the console
    /// on [`DEFAULT_LISTEN`] is a convenience, so a port already taken is a warning there,
    /// not a failure to start.
    #[serde(skip)]
    pub listen_is_default: bool,
}

/// Where `nianbao run` on built-in defaults serves the console: this machine only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9464";

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            listen: None,
            console: true,
            users_file: None,
            session_idle_min: Minutes::new(30),
            behind_tls: false,
            public_url: None,
            trusted_proxies: Vec::new(),
            listen_is_default: false,
        }
    }
}

/// `[office]`: the supervising office (政务公开办).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OfficeConfig {
    /// Who the agencies contact: named at the end of every message to them.
    pub contact: Option<Contact>,
}

/// `[office.contact]`: a person at the office, with a phone and a mailbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Contact {
    pub name: String,
    pub phone: String,
    pub email: String,
}

impl OfficeConfig {
    /// "如有疑问，请联系政务公开办王丽（电话 0714-6221234，邮箱 gkb@x.cn）。", or, with no
    /// contact configured, the office by its role.
    pub fn contact_line(&self) -> String {
        let Some(c) = &self.contact else {
            return "如有疑问，请与政务公开办联系。".to_string();
        };
        let clean = |s: &str| crate::escape::clean(s.trim());
        let ways: Vec<String> = [("电话", &c.phone), ("邮箱", &c.email)]
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k} {}", clean(v)))
            .collect();
        let name = if c.name.trim().is_empty() {
            "政务公开办".to_string()
        } else {
            format!("政务公开办{}", clean(&c.name))
        };
        if ways.is_empty() {
            format!("如有疑问，请联系{name}。")
        } else {
            format!("如有疑问，请联系{name}（{}）。", ways.join("，"))
        }
    }
}

/// `[ocr]`: scans (image-only PDFs, .jpg/.png/.tif) read by Tesseract (see
/// `crate::extract::scan`). OCR is CPU-heavy: one scan at a time keeps a core free for the
/// text reports dropped meanwhile on a 2-core server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OcrConfig {
    /// Read scans at all; off, a scan is answered `file.scanned` as before.
    pub enabled: bool,
    /// Scans read at the same time.
    pub concurrent: usize,
    /// Limit of each helper run (rendering or OCR) for one page, in seconds.
    pub page_timeout_s: Secs,
}

impl Default for OcrConfig {
    fn default() -> OcrConfig {
        OcrConfig {
            enabled: true,
            concurrent: 1,
            page_timeout_s: Secs::new(60),
        }
    }
}

impl OcrConfig {
    /// Applies these settings to the scan reader (process-wide).
    pub fn apply(&self) {
        crate::extract::configure_ocr(crate::extract::OcrSettings {
            enabled: self.enabled,
            concurrent: self.concurrent.max(1),
            page_timeout: self.page_timeout_s.at_least_one(),
        });
    }

    /// One line for `config check`: whether scans are read here, and if not, why.
    pub fn describe(&self) -> String {
        self.apply();
        match crate::extract::ocr_status() {
            Ok(()) => format!(
                "OCR: on (scans read by tesseract, {} at a time, {} s per page; their feedback is always held for review)",
                self.concurrent.max(1),
                self.page_timeout_s.count().max(1)
            ),
            Err(why) => format!("OCR: off ({why}); scans are answered file.scanned"),
        }
    }
}

/// `[review]`: officer review on the console (see the `review` module).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewConfig {
    /// Which new submissions' feedback waits for an admin's release or decision (the
    /// agency gets "已收到，正在审核" at once): `off`, `uncertain` readings, or `all`.
    pub hold: HoldMode,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HoldMode {
    #[default]
    Off,
    Uncertain,
    All,
}

/// Said (log, `config check`) when a configuration still uses `[metrics] listen`.
pub const METRICS_LISTEN_RENAMED: &str =
    "[metrics] listen is the old name of [http] listen: rename it (it still works)";

/// `[metrics] listen`, the old name of `[http] listen`: still honoured (with a warning in
/// the log) so that an upgrade does not turn off the monitoring of a running installation,
/// or stop the service from starting, over a renamed key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    #[serde(deserialize_with = "de::listen")]
    pub listen: Option<ListenAddr>,
}

/// Who mail comes from, who gets what cannot be attributed, and how it is sent.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mail {
    pub from: String,
    /// Gets files that cannot be attributed to an agency or not read at all.
    pub admin: Option<String>,
    /// Absent: messages are written as `.eml` files under `data_dir/outbox/`.
    pub smtp: Option<Smtp>,
    /// First retry after a transient failure, in seconds; doubled at each attempt, at most
    /// six hours apart.
    pub retry_base_s: Secs,
    /// A message still not delivered after this many attempts is given up and reported to
    /// the admin.
    pub max_attempts: u32,
    /// Write a receipt file `回执/回执_<file>.txt` beside each agency's reports.
    pub receipt_files: bool,
    /// Daily digest to the admin at this time of day, China Standard Time (UTC+8), e.g.
    /// `"08:00"`; absent: no digest.
    #[serde(deserialize_with = "de::digest_time")]
    pub digest_time: Option<TimeOfDay>,
    /// The months (1–12) in which the digest is sent: the filing season.
    pub digest_months: Vec<u32>,
}

impl Default for Mail {
    fn default() -> Mail {
        Mail {
            from: "政务公开办 <nianbao@localhost>".to_string(),
            admin: None,
            smtp: None,
            retry_base_s: Secs::new(60),
            max_attempts: 12,
            receipt_files: true,
            digest_time: None,
            digest_months: vec![1, 2, 3, 4],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    #[serde(default)]
    pub security: Security,
    #[serde(default)]
    pub username: Option<String>,
    /// A file holding the password (never the password itself in the config).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Seconds for connecting and for each SMTP exchange.
    #[serde(default = "default_smtp_timeout")]
    pub timeout_s: Secs,
    /// Once the message is sent, how long to wait for the server's answer; past it the
    /// message is "sent, unconfirmed" and not sent again (see `mail::smtp`).
    #[serde(default = "default_smtp_reply_timeout")]
    pub reply_timeout_s: Secs,
}

fn default_smtp_port() -> u16 {
    465
}

fn default_smtp_reply_timeout() -> Secs {
    Secs::new(600)
}

fn default_smtp_timeout() -> Secs {
    Secs::new(30)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    #[default]
    Tls,
    Starttls,
    None,
}

/// One agency: its subfolder of the inbox, its name, where its feedback goes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    pub folder: String,
    pub name: String,
    #[serde(default)]
    pub email: Vec<String>,
    /// `department` (政府部门) or `government` (人民政府): which deadline applies.
    #[serde(default)]
    pub kind: Option<AgencyKind>,
    /// A deadline of its own, `"MM-DD"` of the filing year.
    #[serde(default, deserialize_with = "de::agency_deadline")]
    pub deadline: Option<MonthDay>,
    /// The `[[region]]` this agency belongs to (by name); none: the top of the tree.
    #[serde(default)]
    pub region: Option<String>,
}

/// A configuration that could not be used, with the file it came from.
#[derive(Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let err = |message: String| ConfigError {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
        // Every problem at once, each on a line of its own: first what does not read (with
        // its line, see `problems`), else what does not fit together.
        let all = |problems: Vec<String>| {
            err(format!(
                "配置有 {} 处问题：\n  {}",
                problems.len(),
                problems.join("\n  ")
            ))
        };
        let config = problems::parse(&text).map_err(all)?;
        let problems = config.problems();
        if !problems.is_empty() {
            return Err(all(problems));
        }
        Ok(config)
    }

    /// Consistency checks serde cannot express: the first problem (see [`Config::problems`]).
    pub fn check(&self) -> Result<(), String> {
        match self.problems().into_iter().next() {
            Some(first) => Err(first),
            None => Ok(()),
        }
    }

    /// Every problem serde cannot express, each naming its key: all of them at once, so
    /// that the admin fixes the file in one go.
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut at_least_one = |value: u64, what: &str| {
            if value == 0 {
                out.push(what.to_string());
            }
        };
        at_least_one(self.settle_ms.count(), "settle_ms must be at least 1");
        at_least_one(
            self.rescan_interval_s.count(),
            "rescan_interval_s must be at least 1",
        );
        at_least_one(self.max_file_mb, "max_file_mb must be at least 1");
        at_least_one(
            self.stuck_after_s.count(),
            "stuck_after_s must be at least 1 (600, the default, suits every format)",
        );
        let mut folders = std::collections::HashSet::new();
        for a in &self.agencies {
            if let Err(why) = check_folder(&a.folder) {
                out.push(format!(
                    "[[agency]] {:?} (name {:?}): folder = {:?} {why}",
                    a.folder, a.name, a.folder
                ));
            }
            if !folders.insert(a.folder.as_str()) {
                out.push(format!("[[agency]] folder = {:?} appears twice", a.folder));
            }
            for address in &a.email {
                if let Err(e) = check_address(address) {
                    out.push(format!("[[agency]] {:?}: email {address:?}: {e}", a.folder));
                }
            }
        }
        if let Err(e) = check_mailbox(&self.mail.from) {
            out.push(format!(
                "[mail] from = {:?}: {e}; give one sender, e.g. \"政务公开办 <gkb@example.gov.cn>\"",
                self.mail.from
            ));
        }
        if let Some(admin) = &self.mail.admin
            && let Err(e) = check_address(admin)
        {
            out.push(format!("[mail] admin {admin:?}: {e}"));
        }
        if self
            .mail
            .digest_months
            .iter()
            .any(|m| !(1..=12).contains(m))
        {
            out.push("[mail] digest_months: months are 1 to 12".into());
        }
        if let (Some(http), Some(old)) = (&self.http.listen, &self.metrics.listen)
            && http != old
        {
            out.push(format!(
                "[http] listen = {:?} and [metrics] listen = {:?} disagree; \
                 [metrics] listen is the old name of [http] listen: keep only [http] listen",
                http.as_str(),
                old.as_str()
            ));
        }
        out.extend(deadlines::problems(&self.reminders));
        if self.http.session_idle_min.count() == 0 {
            out.push("[http] session_idle_min must be at least 1".into());
        }
        if let Some(smtp) = &self.mail.smtp
            && smtp.host.is_empty()
        {
            out.push("[mail.smtp] host is empty".into());
        }
        out.extend(regions::problems(self));
        out.extend(bundle::problems(&self.bundle));
        out
    }

    /// Where the HTTP server listens: `[http] listen`, or else the deprecated
    /// `[metrics] listen`; `None`: no server.
    pub fn http_listen(&self) -> Option<&ListenAddr> {
        self.http.listen.as_ref().or(self.metrics.listen.as_ref())
    }

    /// The agency whose subfolder is `folder`.
    pub fn agency(&self, folder: &str) -> Option<&Agency> {
        self.agencies.iter().find(|a| a.folder == folder)
    }

    /// The agency of inbox folder `folder`: the configured one, or else an agency of its
    /// own named by the folder, with no addresses (its mail goes to the admin) until it is
    /// configured.
    pub fn agency_or_folder(&self, folder: &str) -> Agency {
        self.agency(folder).cloned().unwrap_or_else(|| Agency {
            folder: folder.to_string(),
            name: folder.to_string(),
            email: Vec::new(),
            kind: None,
            deadline: None,
            region: None,
        })
    }

    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_mb.saturating_mul(1024 * 1024)
    }

    /// The year reports are checked as filed in: `filing_year` when set, else this year
    /// (China time).
    pub fn filing_year_or_current(&self) -> i32 {
        if self.filing_year > 0 {
            self.filing_year
        } else {
            crate::time::current_year()
        }
    }
}

/// Why the watcher would never read an agency folder of this name, if it would not: the
/// agency's reports would lie in the inbox unanswered while its configuration looks fine.
fn check_folder(folder: &str) -> Result<(), String> {
    if folder.is_empty() || folder.contains(['/', '\\']) || folder == "." || folder == ".." {
        return Err("must be the name of one subfolder of the inbox (no / or ..)".into());
    }
    if folder.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    if folder == crate::watch::RECEIPT_DIR {
        return Err(format!(
            "is the receipts folder ({}), which the watcher never reads; choose another name",
            crate::watch::RECEIPT_DIR
        ));
    }
    if crate::watch::is_ignored_name(folder) {
        return Err("is a name the watcher ignores (hidden, temporary or lock-file names such as .x, ~$x, x.tmp, x.part); rename the folder".into());
    }
    Ok(())
}

/// One mailbox, as lettre will parse it when building a message: `name@domain` or
/// `Name <name@domain>`. lettre's parser stops at the first mailbox and ignores the rest, so
/// a list (`a@x.cn, b@x.cn`) or a line break (`a@x.cn\r\nBcc: ...`) would pass it and then
/// fail, or worse, at send time; both are refused here.
fn check_mailbox(mailbox: &str) -> Result<(), String> {
    use lettre::message::{Mailbox, Mailboxes};
    if mailbox.chars().any(char::is_control) {
        return Err("contains a line break or control character".into());
    }
    let list: Mailboxes = mailbox
        .parse()
        .map_err(|_| "not an address like name@example.gov.cn".to_string())?;
    if list.iter().count() != 1 {
        return Err("a list of addresses; give exactly one".into());
    }
    let parsed: Mailbox = mailbox
        .parse()
        .map_err(|_| "not an address like name@example.gov.cn".to_string())?;
    let email = parsed.email.to_string();
    let rest = mailbox.trim();
    if !(rest == email || rest.ends_with(&format!("<{email}>"))) {
        return Err("has something after the address; give exactly one".into());
    }
    Ok(())
}

/// A recipient: one plain `local@domain`, parsed as lettre parses it, no display name.
fn check_address(address: &str) -> Result<(), String> {
    let (local, domain) = address.rsplit_once('@').ok_or("no @")?;
    if local.is_empty() || domain.is_empty() || !domain.contains('.') {
        return Err("not an address like name@example.gov.cn".into());
    }
    if address
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
    {
        return Err("contains spaces, control characters or <>,;".into());
    }
    check_mailbox(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_is_valid_and_complete() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/nianbao.toml"));
        let config = Config::load(path).expect("config/nianbao.toml loads");
        assert_eq!(config.settle_ms, 2000);
        assert_eq!(config.agencies.len(), 2);
        let smtp = config
            .mail
            .smtp
            .as_ref()
            .expect("example documents [mail.smtp]");
        assert_eq!(smtp.security, Security::Tls);
    }

    #[test]
    fn unknown_key_names_key_and_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "inbox = \"/srv/in\"\nsettle_msec = 5\n").expect("write");
        let err = Config::load(&path).expect_err("unknown key");
        let text = err.to_string();
        assert!(text.contains("settle_msec"), "{text}");
        assert!(text.contains("bad.toml"), "{text}");
    }

    #[test]
    fn metrics_listen_is_the_old_name_of_http_listen() {
        let old: Config = toml::from_str("[metrics]\nlisten = \"127.0.0.1:9464\"").expect("old");
        assert_eq!(old.check(), Ok(()));
        assert_eq!(
            old.http_listen().map(ListenAddr::as_str),
            Some("127.0.0.1:9464")
        );
        let new: Config = toml::from_str("[http]\nlisten = \"127.0.0.1:9465\"").expect("new");
        assert_eq!(
            new.http_listen().map(ListenAddr::as_str),
            Some("127.0.0.1:9465")
        );
        assert_eq!(Config::default().http_listen(), None);
    }

    #[test]
    fn built_in_defaults_pass_the_checks() {
        assert_eq!(Config::default().check(), Ok(()));
        assert!(ListenAddr::parse(DEFAULT_LISTEN).is_some());
    }

    #[test]
    fn empty_file_is_all_defaults() {
        let config: Config = toml::from_str("").expect("empty");
        assert_eq!(config, Config::default());
    }

    #[test]
    fn bad_values_are_refused() {
        for (text, needle) in [
            ("settle_ms = 0", "settle_ms"),
            ("[[agency]]\nfolder = \"../etc\"\nname = \"x\"", "subfolder"),
            (
                "[[agency]]\nfolder = \"a\"\nname = \"x\"\nemail = [\"x@y.cn\\r\\nBcc: z@w.cn\"]",
                "email",
            ),
            (
                "[[agency]]\nfolder = \"a\"\nname = \"x\"\n[[agency]]\nfolder = \"a\"\nname = \"y\"",
                "twice",
            ),
            ("[mail.smtp]\nhost = \"h\"\nsecurity = \"ssl\"", "security"),
            ("[mail]\nfrom = \"a@x.cn\\r\\nBcc: z@w.cn\"", "line break"),
            ("[mail]\nfrom = \"a@x.cn, b@x.cn\"", "list"),
            ("[mail]\nadmin = \"a@x.cn,b@x.cn\"", "admin"),
            (
                "[[agency]]\nfolder = \"回执\"\nname = \"x\"",
                "receipts folder",
            ),
            ("[[agency]]\nfolder = \".hidden\"\nname = \"x\"", "ignores"),
            ("[[agency]]\nfolder = \"a.tmp\"\nname = \"x\"", "ignores"),
            ("[http]\nlisten = \"localhost\"", "address and port"),
            ("[http]\nsession_idle_min = 0", "session_idle_min"),
            (
                "[http]\nlisten = \"127.0.0.1:1\"\n[metrics]\nlisten = \"127.0.0.1:2\"",
                "old name",
            ),
        ] {
            let result = toml::from_str::<Config>(text)
                .map_err(|e| e.to_string())
                .and_then(|c| c.check());
            let err = result.expect_err(text);
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
