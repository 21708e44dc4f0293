//! The console in a real browser (issue 16): headless Chromium from Debian driven through
//! chromedriver (WebDriver, the `fantoccini` crate) against the real daemon on 127.0.0.1,
//! with reports dropped into its inbox and the real SMTP test server (aiosmtpd) receiving
//! its mail. The office logs in, reads the counts, searches, opens a rejected report and
//! finds the wrong cell, downloads the original, resends the answer, overrules the verdict
//! with a reason that reaches the agency, sees a missing agency's reminder (the clock set
//! by `NIANBAO_TEST_NOW`), logs out and is refused.
//!
//! Issue 26: the officer's season: hold → 不适用 → release with the decision in the
//! agency's mail exactly once, a file at the inbox's top level given to its agency, and
//! the comparison chosen by default.
//!
//! Issue 25: a scan is held; the officer sees its page beside the tables as read, corrects
//! one cell with a reason, releases, and the agency's mail carries the corrected value.
//!
//! With `NIANBAO_SCREENSHOTS=DIR` the overview and a submission page are saved there as
//! PNG (how `docs/console-*.png` are made).

mod harness;
#[path = "support/image_pdf.rs"]
mod image_pdf;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use harness::http::free_port;
use harness::smtp::{SmtpServer, received, wait_received};
use harness::{CHECKED, Daemon, SETTLE_MS, distinct_report, fixture};
use sha2::{Digest, Sha256};

const PASSWORD: &str = "season-2023-pass";

/// chromedriver on a free port, ended with the test.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Driver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian chromium-driver, installed by .ci/run)");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium whose downloads go to `downloads`.
async fn browser(driver: &Driver, downloads: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=zh-CN"],
            "prefs": {
                "download.default_directory": downloads.to_string_lossy(),
                "download.prompt_for_download": false,
            },
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session with headless Chromium")
}

/// `nianbao user add NAME --role admin` with the password piped in.
fn add_admin(d: &Daemon, name: &str) {
    harness::web::user_add(d, name, "admin", PASSWORD);
}

/// The season: the harness's two agencies (xss, lc) and three more, a department with an
/// address that has sent nothing (czj: reminded), a 街道 and a 镇; xss and jd accepted, lc
/// rejected. The clock is a week before the departments' deadline, at 10:00 China time.
fn season(smtp_port: u16, http_port: u16) -> Daemon {
    let d = Daemon::new();
    std::fs::write(
        d.dir.path().join("nianbao.toml"),
        format!(
            "inbox = {:?}\ndata_dir = {:?}\nsettle_ms = {SETTLE_MS}\nrescan_interval_s = 1\n\
             filing_year = 2023\nworkers = 2\n\
             [mail]\nadmin = \"admin@office.example.cn\"\nreceipt_files = false\n\
             [mail.smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"none\"\ntimeout_s = 5\n\
             [http]\nlisten = \"127.0.0.1:{http_port}\"\n\
             [reminders]\nenabled = true\ndays_before = 7\ntime = \"09:00\"\n\
             [[agency]]\nfolder = \"xss\"\nname = \"西塞山区政数局\"\nemail = [\"gkb@xss.example.cn\"]\n\
             [[agency]]\nfolder = \"lc\"\nname = \"老城区人民政府办公室\"\nemail = [\"a@lc.example.cn\"]\n\
             [[agency]]\nfolder = \"jd\"\nname = \"东湖街道办事处\"\nemail = [\"gk@jd.example.cn\"]\n\
             [[agency]]\nfolder = \"hs\"\nname = \"花山镇人民政府\"\n\
             [[agency]]\nfolder = \"czj\"\nname = \"市财政局\"\nkind = \"department\"\nemail = [\"gk@czj.example.cn\"]\n",
            d.inbox(),
            d.dir.path().join("data"),
        ),
    )
    .expect("config");
    for f in ["jd", "hs", "czj"] {
        std::fs::create_dir_all(d.inbox().join(f)).expect("folder");
    }
    d
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Clicks the element `what` names (found by `at`).
async fn click(c: &Client, at: Locator<'_>, what: &str) {
    c.find(at)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {what}: {e}"));
}

/// Clicks what navigates (a link, a form's button) and returns once the next page has
/// loaded: WebDriver's click may return before the navigation it starts, and the old
/// page's elements would then be read as the new one's.
async fn follow(c: &Client, at: Locator<'_>, what: &str) {
    c.execute("window.__nbOldPage = true;", vec![])
        .await
        .expect("mark the page");
    click(c, at, what).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let loaded = c
            .execute(
                "return window.__nbOldPage === undefined && document.readyState === 'complete';",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if loaded {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: no new page after 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs `walk` in a headless Chromium logged in as gkb on the console at `http_port`
/// (with the browser's download folder), then closes the browser.
fn in_browser(http_port: u16, walk: impl AsyncFnOnce(&Client, &str, &Path)) {
    let driver = Driver::start();
    let downloads = tempfile::tempdir().expect("tempdir");
    let base = format!("http://127.0.0.1:{http_port}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let c = browser(&driver, downloads.path()).await;
        log_in(&c, &base).await;
        walk(&c, &base, downloads.path()).await;
        c.close().await.expect("close the browser");
    });
}

/// Opens the console, is sent to the login page, and logs in as gkb.
async fn log_in(c: &Client, base: &str) {
    c.goto(&format!("{base}/")).await.expect("open");
    assert!(
        c.current_url()
            .await
            .expect("url")
            .path()
            .starts_with("/login")
    );
    type_into(c, Locator::Css("input[name=name]"), "gkb", "name field").await;
    type_into(
        c,
        Locator::Css("input[name=password]"),
        PASSWORD,
        "password field",
    )
    .await;
    follow(
        c,
        Locator::Css("form[action='/login'] button"),
        "login button",
    )
    .await;
}

/// Chooses the option `value` of the list `what` names (found by `css`).
async fn choose(c: &Client, css: &str, value: &str, what: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("choose {value} in {what}: {e}"));
}

/// Types `text` into the field `what` names (found by `at`).
async fn type_into(c: &Client, at: Locator<'_>, text: &str, what: &str) {
    c.find(at)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into {what}: {e}"));
}

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .expect("text")
}

async fn screenshot(c: &Client, name: &str) {
    if let Some(dir) = std::env::var_os("NIANBAO_SCREENSHOTS") {
        let png = c.screenshot().await.expect("screenshot");
        std::fs::write(PathBuf::from(dir).join(name), png).expect("save screenshot");
    }
}

/// The file that appears in `dir` once Chromium is done with it: it writes
/// `*.crdownload` and may create the final name empty first, so the file must be alone,
/// not partial, and of `size` bytes.
fn downloaded(dir: &Path, size: usize) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let done: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        if let [one] = done.as_slice()
            && one.extension().is_none_or(|x| x != "crdownload")
            && std::fs::metadata(one).is_ok_and(|m| m.len() == size as u64)
        {
            return one.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no complete download in {done:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits up to 30 s for `done`.
fn wait_for(done: impl Fn() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "no {what} within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The text of a received message, every text part decoded.
fn body_text(raw: &[u8]) -> String {
    let mail = mailparse::parse_mail(raw).expect("parse mail");
    let mut text = mail.get_body().unwrap_or_default();
    for part in &mail.subparts {
        text.push_str(&part.get_body().unwrap_or_default());
    }
    text
}

#[test]
fn the_office_works_the_season_in_a_browser() {
    let mail = tempfile::tempdir().expect("tempdir");
    let smtp_port = free_port();
    let _smtp = SmtpServer::start(smtp_port, mail.path());
    let http_port = free_port();
    let mut d = season(smtp_port, http_port);
    add_admin(&d, "gkb");
    let rejected = fixture("001_41152148c7aabaad.txt");
    for (path, bytes) in [
        ("xss/a.txt", fixture("000_d016082c1b868431.txt")),
        ("lc/b.txt", rejected.clone()),
        ("jd/c.txt", distinct_report(1)),
    ] {
        std::fs::write(d.inbox().join(path), bytes).expect("drop");
    }
    d.start_env(&[("NIANBAO_TEST_NOW", "2023-01-24T02:00:00Z")]);
    d.wait_count(CHECKED, 3, 60);
    // Three answers and czj's reminder.
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE state = 'sent' AND kind IN ('feedback', 'reminder')",
        4,
        60,
    );
    let lc_receipt: String = d
        .db()
        .expect("db")
        .query_row(
            "SELECT receipt FROM submissions WHERE agency_folder = 'lc'",
            [],
            |r| r.get(0),
        )
        .expect("lc's receipt");

    in_browser(
        http_port,
        async |c: &Client, base: &str, downloads: &Path| {
            // The overview of report year 2022, with the right counts.
            let h1 = text_of(c, "h1").await;
            assert!(h1.contains("2022"), "{h1}");
            assert_eq!(text_of(c, "#count-accepted").await, "2");
            assert_eq!(text_of(c, "#count-rejected").await, "1");
            assert_eq!(text_of(c, "#count-missing").await, "2", "hs and czj");
            assert_eq!(text_of(c, "#count-agencies").await, "5");
            screenshot(c, "console-overview.png").await;

            // Search "街道": only 东湖街道办事处.
            type_into(c, Locator::Css("input[name=q]"), "街道", "search").await;
            follow(c, Locator::Css("form.search button"), "search button").await;
            let rows = c
                .find_all(Locator::Css("table.overview tbody tr"))
                .await
                .expect("rows");
            assert_eq!(rows.len(), 1);
            assert!(
                rows[0]
                    .text()
                    .await
                    .expect("row")
                    .contains("东湖街道办事处")
            );

            // The rejected report: its page has the wrong cell highlighted.
            c.goto(&format!("{base}/")).await.expect("overview");
            follow(
                c,
                Locator::LinkText(&lc_receipt),
                "lc's receipt in the overview",
            )
            .await;
            let verdict = text_of(c, "#verdict").await;
            assert!(
                verdict.contains("需修改") || verdict.contains("退回"),
                "{verdict}"
            );
            let marked = c
                .find_all(Locator::Css("td[style*='#ffd6d6']"))
                .await
                .expect("cells");
            assert!(!marked.is_empty(), "no highlighted cell");
            let title = marked[0].attr("title").await.expect("title");
            assert!(title.is_some_and(|t| !t.is_empty()), "the cell says why");
            screenshot(c, "console-submission.png").await;
            if std::env::var_os("NIANBAO_SCREENSHOTS").is_some() {
                let cell = serde_json::to_value(&marked[0]).expect("element");
                c.execute(
                    "arguments[0].scrollIntoView({block: 'center'});",
                    vec![cell],
                )
                .await
                .expect("scroll to the cell");
                screenshot(c, "console-cells.png").await;
            }

            // The original, downloaded: the same bytes as dropped.
            click(c, Locator::LinkText("下载原件"), "download link").await;
            let file = downloaded(downloads, rejected.len());
            assert_eq!(
                sha256(&std::fs::read(&file).expect("downloaded file")),
                sha256(&rejected)
            );

            // Resend: the answer goes out again, at once.
            let to_lc = || {
                received(mail.path())
                    .into_iter()
                    .filter(|(to, _)| to.iter().any(|t| t == "a@lc.example.cn"))
                    .count()
            };
            assert_eq!(to_lc(), 1, "lc's first answer");
            follow(
                c,
                Locator::Css("form[action$='/resend'] button"),
                "resend button",
            )
            .await;
            wait_for(|| to_lc() == 2, "the resent answer at the SMTP server");

            // Overrule the verdict with a reason: the agency's mail carries it.
            let reason = "经核实，第（六）项按本地口径填报，已向上级报备";
            type_into(
                c,
                Locator::Css("form.review:has(input[value=accept]) textarea"),
                reason,
                "the reason of 予以受理",
            )
            .await;
            follow(
                c,
                Locator::Css("form.review:has(input[value=accept]) button"),
                "予以受理",
            )
            .await;
            wait_for(|| to_lc() == 3, "the decision at the SMTP server");
            let decision = received(mail.path())
                .into_iter()
                .filter(|(to, _)| to.iter().any(|t| t == "a@lc.example.cn"))
                .map(|(_, raw)| body_text(&raw))
                .find(|body| body.contains(reason));
            assert!(decision.is_some(), "no mail to lc carries the reason");
            let verdict = text_of(c, "#verdict").await;
            assert!(verdict.contains("已受理"), "{verdict}");

            // The missing department was reminded once, and its page says so.
            c.goto(&format!("{base}/agency/czj")).await.expect("czj");
            let page = c.source().await.expect("page");
            assert_eq!(
                page.matches("gk@czj.example.cn").count(),
                2,
                "its address and one reminder: {page}"
            );

            // Log out; the console is closed afterwards.
            follow(
                c,
                Locator::Css("form[action='/logout'] button"),
                "logout button",
            )
            .await;
            c.goto(&format!("{base}/submission/{lc_receipt}"))
                .await
                .expect("open");
            assert!(
                c.current_url()
                    .await
                    .expect("url")
                    .path()
                    .starts_with("/login")
            );
        },
    );
    let reminders: Vec<_> = wait_received(mail.path(), 4, 10)
        .into_iter()
        .filter(|(to, _)| to.iter().any(|t| t == "gk@czj.example.cn"))
        .collect();
    assert_eq!(reminders.len(), 1, "one reminder for czj");
    assert_eq!(d.stop(), Some(0));
}

/// The receipts of `folder`'s submissions, oldest first (`None`: the inbox's top level).
fn receipts_of(d: &Daemon, folder: Option<&str>) -> Vec<String> {
    let db = d.db().expect("db");
    let mut stmt = db
        .prepare("SELECT receipt FROM submissions WHERE agency_folder IS ?1 ORDER BY id")
        .expect("query");
    stmt.query_map([folder], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("receipts")
}

/// Issue 26: every feedback held for review; the officer marks a hint 不适用 on the held
/// report and releases it (the agency's mail carries the decision exactly once), gives a
/// file at the inbox's top level to its agency, and finds the comparison of two versions
/// chosen for it.
#[test]
fn the_officer_holds_decides_releases_assigns_and_compares_in_a_browser() {
    let mail = tempfile::tempdir().expect("tempdir");
    let smtp_port = free_port();
    let _smtp = SmtpServer::start(smtp_port, mail.path());
    let http_port = free_port();
    let mut d = season(smtp_port, http_port);
    let config = d.dir.path().join("nianbao.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        format!(
            "{text}[[agency]]\nfolder = \"jy\"\nname = \"区教育局\"\nemail = [\"jy@jy.example.cn\"]\n\
             [review]\nhold = \"all\"\n"
        ),
    )
    .expect("config");
    std::fs::create_dir_all(d.inbox().join("jy")).expect("folder");
    add_admin(&d, "gkb");
    d.start_env(&[("NIANBAO_TEST_NOW", "2023-01-24T02:00:00Z")]);
    let drops: [(&str, Vec<u8>); 4] = [
        ("xss/a.txt", fixture("000_d016082c1b868431.txt")),
        ("jd/v1.txt", distinct_report(1)),
        ("jd/v2.txt", distinct_report(2)),
        ("教育局年报2025.txt", distinct_report(3)),
    ];
    for (i, (path, bytes)) in drops.iter().enumerate() {
        std::fs::write(d.inbox().join(path), bytes).expect("drop");
        d.wait_count(CHECKED, i as i64 + 1, 60);
    }
    let xss = receipts_of(&d, Some("xss")).remove(0);
    let jd = receipts_of(&d, Some("jd"));
    let top = receipts_of(&d, None).remove(0);
    let reason = "数字已与统计口径核对一致";
    let to_xss = || -> Vec<String> {
        received(mail.path())
            .into_iter()
            .filter(|(to, _)| to.iter().any(|t| t == "gkb@xss.example.cn"))
            .map(|(_, raw)| body_text(&raw))
            .collect()
    };
    wait_for(
        || to_xss().len() == 1,
        "the acknowledgement of the held report",
    );

    in_browser(http_port, async |c: &Client, base: &str, _: &Path| {
        screenshot(c, "console-season-overview.png").await;

        // Hold → 不适用 → release, from the 待复核 queue.
        c.goto(&format!("{base}/review"))
            .await
            .expect("review queue");
        follow(c, Locator::LinkText(&xss), "the held report").await;
        type_into(
            c,
            Locator::Css("#review-items li:first-child input[name=reason]"),
            reason,
            "the first item's reason",
        )
        .await;
        follow(
            c,
            Locator::Css("#review-items li:first-child button"),
            "标为不适用",
        )
        .await;
        let confirm = text_of(c, "#confirm").await;
        assert!(confirm.contains("不适用"), "{confirm}");
        let marked = text_of(c, "#review-items li:first-child").await;
        assert!(marked.contains("已标为不适用"), "{marked}");
        screenshot(c, "console-review.png").await;
        follow(c, Locator::Css("#release-section button"), "发出审核意见").await;
        assert!(text_of(c, "#confirm").await.contains("已发出"));
        wait_for(|| to_xss().len() == 2, "the released feedback");
        tokio::time::sleep(Duration::from_secs(6)).await;
        let mails = to_xss();
        assert_eq!(mails.len(), 2, "the acknowledgement and the feedback only");
        // Once in the text part and once in the HTML part of the same mail.
        for (part, body) in mails.iter().flat_map(|m| {
            let (text, html) = m.split_once("<!DOCTYPE").unwrap_or((m.as_str(), ""));
            [("text", text.to_string()), ("html", html.to_string())]
        }) {
            assert!(
                body.matches(reason).count() <= 1,
                "the decision told twice in one {part} part: {mails:?}"
            );
        }
        let told: usize = mails.iter().map(|m| m.matches(reason).count()).sum();
        assert_eq!(
            told, 2,
            "the decision reached the agency once, text and HTML: {mails:?}"
        );
        assert_eq!(
            mails.iter().filter(|m| m.contains(reason)).count(),
            1,
            "in one mail: {mails:?}"
        );

        // The file at the top level, given to 区教育局.
        c.goto(&format!("{base}/")).await.expect("overview");
        assert_eq!(text_of(c, "#count-unassigned").await, "1");
        follow(
            c,
            Locator::Css(&format!("#unassigned ~ table a[href$='{top}']")),
            "the top-level file",
        )
        .await;
        choose(c, "#assign select", "jy", "the agency selector").await;
        type_into(
            c,
            Locator::Css("#assign input[name=reason]"),
            "文件名为教育局，经电话确认",
            "reason",
        )
        .await;
        follow(c, Locator::Css("#assign button"), "归属到该单位").await;
        assert!(text_of(c, "#confirm").await.contains("归属"));
        c.goto(&format!("{base}/")).await.expect("overview");
        assert_eq!(text_of(c, "#count-unassigned").await, "0");
        let row = c
            .find(Locator::XPath("//tr[td/a[text()='区教育局']]"))
            .await
            .expect("区教育局's row")
            .text()
            .await
            .expect("row");
        assert!(row.contains(&top), "{row}");

        // The comparison chosen by default: the two versions of 2022.
        c.goto(&format!("{base}/agency/jd")).await.expect("jd");
        let chosen = |name: &'static str| {
            let c = c.clone();
            async move {
                c.find(Locator::Css(&format!("select[name={name}]")))
                    .await
                    .expect("selector")
                    .prop("value")
                    .await
                    .expect("value")
                    .unwrap_or_default()
            }
        };
        assert_eq!(chosen("old").await, jd[0]);
        assert_eq!(chosen("new").await, jd[1]);
        let page = c.source().await.expect("page");
        assert!(
            !page.contains("无法对比") && page.contains("compare-differing"),
            "{page}"
        );

        // The season on one printable page.
        c.goto(&format!("{base}/summary/2022"))
            .await
            .expect("summary");
        assert!(text_of(c, "#summary-counts").await.contains("已受理"));
        screenshot(c, "console-summary.png").await;
    });
    assert_eq!(d.stop(), Some(0));
}

/// Issue 28: a district's officer (gkb, limited to 西塞山区) in the city's console. The city
/// has two districts, 西塞山区 (xss, and 八泉街道 below it with bq) and 老城区 (lc).
#[test]
fn a_district_user_sees_only_the_district_in_a_browser() {
    let http_port = free_port();
    let mut d = Daemon::new();
    std::fs::write(
        d.dir.path().join("nianbao.toml"),
        format!(
            "inbox = {:?}\ndata_dir = {:?}\nsettle_ms = {SETTLE_MS}\nrescan_interval_s = 1\n\
             filing_year = 2023\nworkers = 2\n\
             [mail]\nadmin = \"admin@office.example.cn\"\nreceipt_files = false\n\
             [http]\nlisten = \"127.0.0.1:{http_port}\"\n\
             [[region]]\nname = \"黄石市\"\n\
             [[region]]\nname = \"西塞山区\"\nparent = \"黄石市\"\n\
             [[region]]\nname = \"八泉街道\"\nparent = \"西塞山区\"\n\
             [[region]]\nname = \"老城区\"\nparent = \"黄石市\"\n\
             [[agency]]\nfolder = \"xss\"\nname = \"西塞山区政数局\"\nregion = \"西塞山区\"\n\
             [[agency]]\nfolder = \"bq\"\nname = \"八泉街道办事处\"\nregion = \"八泉街道\"\n\
             [[agency]]\nfolder = \"lc\"\nname = \"老城区人民政府办公室\"\nregion = \"老城区\"\n",
            d.inbox(),
            d.dir.path().join("data"),
        ),
    )
    .expect("config");
    let (ok, out) = harness::web::user_add_args(
        &d,
        &["gkb", "--role", "admin", "--region", "西塞山区"],
        PASSWORD,
    );
    assert!(ok, "user add: {out}");
    std::fs::create_dir_all(d.inbox().join("bq")).expect("folder");
    for (path, bytes) in [
        ("xss/a.txt", fixture("000_d016082c1b868431.txt")),
        ("bq/c.txt", distinct_report(1)),
        ("lc/b.txt", fixture("001_41152148c7aabaad.txt")),
    ] {
        std::fs::write(d.inbox().join(path), bytes).expect("drop");
    }
    d.start();
    d.wait_count(CHECKED, 3, 60);
    let lc = receipts_of(&d, Some("lc")).remove(0);
    let xss = receipts_of(&d, Some("xss")).remove(0);

    in_browser(
        http_port,
        async |c: &Client, base: &str, _downloads: &Path| {
            // The district's overview: its agency, its street as a row, nothing of 老城区.
            assert!(text_of(c, "h1").await.contains("西塞山区"));
            assert_eq!(text_of(c, "#count-agencies").await, "2");
            let body = text_of(c, "body").await;
            assert!(body.contains("西塞山区政数局"), "{body}");
            assert!(
                !body.contains("老城区人民政府办公室") && !body.contains(&lc),
                "{body}"
            );
            let street = text_of(c, "#regions").await;
            assert!(street.contains("八泉街道"), "{street}");
            follow(c, Locator::LinkText("八泉街道"), "the street's row").await;
            assert!(text_of(c, "body").await.contains("八泉街道办事处"));
            assert_eq!(text_of(c, "#region-at").await, "八泉街道");
            let csrf = c
                .find(Locator::Css("input[name=csrf]"))
                .await
                .expect("csrf field")
                .attr("value")
                .await
                .expect("value")
                .expect("a token");

            // Another district's submission, download and export, opened in the browser.
            let lc_enc = lc.clone();
            for path in [
                format!("/submission/{lc_enc}"),
                format!("/submission/{lc_enc}/original"),
                "/agency/lc".to_string(),
                "/export/2022.csv?region=%E8%80%81%E5%9F%8E%E5%8C%BA".to_string(),
                "/?region=%E8%80%81%E5%9F%8E%E5%8C%BA".to_string(),
            ] {
                c.goto(&format!("{base}{path}")).await.expect("open");
                let text = text_of(c, "body").await;
                assert!(text.contains("403"), "{path}: {text}");
                assert!(!text.contains("老城区人民政府办公室"), "{path}: {text}");
            }
            c.goto(&format!("{base}/")).await.expect("back");

            // The same, and its POSTs, as status codes (the session's CSRF token given).
            let status = async |method: &str, path: &str| -> i64 {
                c.execute_async(
                    "const [url, method, csrf, done] = arguments;
                 const body = method === 'POST'
                   ? new URLSearchParams({csrf, action: 'accept', reason: '越权',
                                          folder: 'xss'})
                   : undefined;
                 fetch(url, {method, body, redirect: 'manual', credentials: 'same-origin'})
                   .then(r => done(r.status), e => done(String(e)));",
                    vec![
                        serde_json::json!(format!("{base}{path}")),
                        serde_json::json!(method),
                        serde_json::json!(csrf),
                    ],
                )
                .await
                .expect("fetch")
                .as_i64()
                .unwrap_or(-1)
            };
            for (method, path) in [
                ("GET", format!("/submission/{lc}")),
                ("GET", format!("/submission/{lc}/original")),
                (
                    "GET",
                    "/export/2022.xlsx?region=%E8%80%81%E5%9F%8E%E5%8C%BA".to_string(),
                ),
                ("POST", format!("/submission/{lc}/resend")),
                ("POST", format!("/submission/{lc}/review")),
                ("POST", format!("/submission/{lc}/assign")),
            ] {
                assert_eq!(status(method, &path).await, 403, "{method} {path}");
            }
            // Its own district is open: its submission, its export.
            assert_eq!(status("GET", &format!("/submission/{xss}")).await, 200);
            assert_eq!(status("GET", "/export/2022.csv").await, 200);
        },
    );
    d.stop();
}

#[test]
fn the_officer_corrects_a_scans_cell_beside_its_page_and_releases_in_a_browser() {
    let mail = tempfile::tempdir().expect("tempdir");
    let smtp_port = free_port();
    let _smtp = SmtpServer::start(smtp_port, mail.path());
    let http_port = free_port();
    let mut d = season(smtp_port, http_port);
    add_admin(&d, "gkb");
    d.start();
    std::fs::write(
        d.inbox().join("xss/年报盖章扫描件.pdf"),
        image_pdf::scanned_fixture(200),
    )
    .expect("drop");
    d.wait_count(CHECKED, 1, 240);
    let to_xss = || -> Vec<String> {
        received(mail.path())
            .into_iter()
            .filter(|(to, _)| to.iter().any(|t| t == "gkb@xss.example.cn"))
            .map(|(_, raw)| body_text(&raw))
            .collect()
    };
    wait_for(|| to_xss().len() == 1, "the acknowledgement of the scan");
    assert!(to_xss()[0].contains("已收到，正在审核"), "{:?}", to_xss());
    let receipt = receipts_of(&d, Some("xss")).remove(0);
    let cell =
        "SELECT value FROM cells WHERE tbl = 2 AND row = 'carried_over' AND col = 'natural_person'";
    let read = d.count(cell);
    let fixed = read + 1;

    in_browser(http_port, async |c: &Client, base: &str, _: &Path| {
        c.goto(&format!("{base}/submission/{receipt}"))
            .await
            .expect("open the scan");
        // The first page is shown beside the tables (the browser loads and decodes it).
        c.execute(
            "document.querySelector('div.scan-pages img').scrollIntoView();",
            vec![],
        )
        .await
        .expect("scroll to the page");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let shown = c
                .execute(
                    "const i = document.querySelector('div.scan-pages img'); \
                     return i !== null && i.complete && i.naturalWidth > 500;",
                    vec![],
                )
                .await
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if shown {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the scan's page image did not load"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(text_of(c, "#scan-tables").await.contains("自然人"));
        screenshot(c, "console-scan-review.png").await;
        choose(
            c,
            "#correct-any select[name=cell]",
            "2/carried_over/natural_person",
            "the cell list",
        )
        .await;
        type_into(
            c,
            Locator::Css("#correct-any input[name=value]"),
            &fixed.to_string(),
            "value field",
        )
        .await;
        type_into(
            c,
            Locator::Css("#correct-any input[name=reason]"),
            "对照扫描件第 4 页",
            "reason field",
        )
        .await;
        follow(c, Locator::Css("#correct-any button"), "更正").await;
        assert!(text_of(c, "#confirm").await.contains("已更正识别结果"));
        let history = text_of(c, "#history").await;
        assert!(
            history.contains(&format!(
                "识别为 {read}，经核对更正为 {fixed}（理由：对照扫描件第 4 页）"
            )),
            "{history}"
        );
        follow(c, Locator::Css("#release-section button"), "发出审核意见").await;
        assert!(text_of(c, "#confirm").await.contains("审核意见已发出"));
    });
    assert_eq!(d.count(cell), fixed);
    wait_for(|| to_xss().len() == 2, "the released feedback");
    let feedback = to_xss()
        .into_iter()
        .find(|m| !m.contains("已收到，正在审核"))
        .expect("the feedback");
    assert!(
        feedback.contains(&format!("识别为 {read}，经核对更正为 {fixed}")),
        "{feedback}"
    );
    assert!(feedback.contains("本报告由扫描件识别读取"), "{feedback}");
    assert_eq!(d.stop(), Some(0));
}
