//! The console on built-in defaults, and an agency's two years side by side (issue 16), on
//! the real daemon.

mod harness;

use harness::defaults::{run_on_defaults, terminate, wait_log};
use harness::http::free_port;
use harness::web::Client;
use harness::{CHECKED, Daemon, fixture};

#[test]
fn on_built_in_defaults_the_console_is_on_loopback_and_a_taken_port_is_no_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The default port taken by someone else: the daemon runs without its console.
    let taken = std::net::TcpListener::bind(nianbao::config::DEFAULT_LISTEN);
    let (child, log) = run_on_defaults(dir.path(), "first.log");
    let seen = wait_log(&log, "watching");
    assert!(dir.path().join("inbox").is_dir() && dir.path().join("data").is_dir());
    if taken.is_ok() {
        assert!(seen.contains("no web console"), "{seen}");
    }
    assert_eq!(terminate(child), Some(0));
    // The port free (when this test could hold it, it lets go now): the console is there,
    // on 127.0.0.1 only, and the log says where.
    if taken.is_ok() {
        drop(taken);
        let (child, log) = run_on_defaults(dir.path(), "second.log");
        let seen = wait_log(&log, "watching");
        assert!(
            seen.contains("web console at http://127.0.0.1:9464/"),
            "{seen}"
        );
        let port = 9464;
        let mut c = Client::new(port);
        let page = c.get("/");
        assert_eq!(page.code, 200, "{}", page.text());
        assert!(page.text().contains("年度报告报送情况"));
        assert_eq!(terminate(child), Some(0));
    }
}

#[test]
fn an_agency_page_sets_two_years_side_by_side() {
    let port = free_port();
    let mut d = Daemon::with_config("", &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    // Two years of xss: a 2021 report and a 2022 one (different figures and words).
    std::fs::write(
        d.inbox().join("xss/2021.txt"),
        fixture("004_757d2e34bde1553b.txt"),
    )
    .expect("drop");
    d.start();
    d.wait_count(CHECKED, 1, 60);
    std::fs::write(
        d.inbox().join("xss/2022.txt"),
        fixture("000_d016082c1b868431.txt"),
    )
    .expect("drop");
    d.wait_count(CHECKED, 2, 60);
    let receipt = |year: i64| -> String {
        d.db()
            .expect("db")
            .query_row(
                "SELECT receipt FROM submissions WHERE agency_folder = 'xss' AND year = ?1",
                [year],
                |r| r.get(0),
            )
            .expect("receipt")
    };
    let (old, new) = (receipt(2021), receipt(2022));
    let mut c = Client::new(port);
    let page = c.get("/agency/xss").text();
    assert!(page.contains("两个年度对比"), "{page}");
    let differing = |page: &str| -> usize {
        page.split("id=\"compare-differing\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no count of differing values\n{page}"))
    };
    // By default the newest year against the one before it.
    assert!(
        page.contains(&format!("旧：<a href=\"/submission/{old}\">"))
            && page.contains(&format!("新：<a href=\"/submission/{new}\">")),
        "{page}"
    );
    assert!(differing(&page) > 0, "two agencies' figures all equal?");
    assert!(page.contains("class=\"differs\""));
    // A report against itself: nothing differs, every sentence is shared.
    let same = c.get(&format!("/agency/xss?old={new}&new={new}")).text();
    assert_eq!(differing(&same), 0);
    assert!(!same.contains("class=\"differs\""));
    assert_eq!(d.stop(), Some(0));
}
