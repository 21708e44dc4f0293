//! The season shown once the last one is over (issue 24, item 3): on 7 December, with
//! `filing_year` automatic, `config check`, `status` and the console show the coming
//! season (2026 reports, filed in 2027) and say that the 2025 reports' season closed, its
//! numbers one click away. The test clock `NIANBAO_TEST_NOW` (debug builds) sets the day.

mod harness;

use std::process::Command;

use harness::web::{Client, free_port};
use harness::{CHECKED, Daemon, report_for};

const DEC_7: &str = "2026-12-07T02:00:00Z";

fn cli(d: &Daemon, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(args)
        .arg("--config")
        .arg(d.dir.path().join("nianbao.toml"))
        .env("NIANBAO_TEST_NOW", DEC_7)
        .output()
        .expect("nianbao");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn on_7_december_the_coming_season_is_shown_and_the_last_one_closed() {
    let port = free_port();
    let mut d = Daemon::with_config("", &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    let config = d.dir.path().join("nianbao.toml");
    let text = std::fs::read_to_string(&config)
        .expect("config")
        .replace("filing_year = 2023", "filing_year = 0");
    std::fs::write(&config, text).expect("config");

    let (code, out, err) = cli(&d, &["config", "check"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("2026 年度报告，2027 年报送"), "{out}");
    assert!(
        out.contains("上一季（2025 年度报告）已于 2026-03-31 截止"),
        "{out}"
    );

    // Last season's report, received in the spring: counted under 2025, one click away.
    std::fs::write(d.inbox().join("xss/2025.txt"), report_for(2025)).expect("drop");
    d.start_env(&[("NIANBAO_TEST_NOW", DEC_7)]);
    d.wait_count(CHECKED, 1, 60);

    let (code, out, err) = cli(&d, &["status"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.starts_with("2026 年度报告报送情况"), "{out}");
    assert!(
        !out.contains("逾期"),
        "nobody is late for the 2026 reports yet:\n{out}"
    );

    let mut c = Client::new(port);
    let page = c.get("/");
    assert_eq!(page.code, 200, "{}", page.text());
    let page = page.text();
    assert!(page.contains("<h1>2026 年度报告报送情况</h1>"), "{page}");
    assert!(page.contains("2027 年报送"), "{page}");
    assert!(page.contains("已于 2026-03-31 截止"), "{page}");
    assert!(page.contains("href=\"/?year=2025\""), "{page}");
    let last = c.get("/?year=2025").text();
    assert!(last.contains("id=\"count-accepted\">1<"), "{last}");
    assert_eq!(d.stop(), Some(0));
}
