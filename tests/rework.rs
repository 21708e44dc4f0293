//! 退回未改 (issue 26, item 9): a report returned as 需修改 and not followed by a new
//! version within `[reminders] rework_days` gets one reminder per address, the overview
//! counts it and `status` (the admin's digest) lists it; a restart sends nothing twice.
//! Real daemon, SQLite file and `.eml` spool; the clock moved by `NIANBAO_TEST_NOW`.

mod harness;

use harness::http::wait_get;
use harness::web::{count, free_port};
use harness::{CHECKED, Daemon, fixture};

const REWORK: &str = "SELECT count(*) FROM outbox WHERE kind = 'reminder'
     AND idempotency_key LIKE 'reminder/2022/lc/rework/%'";

#[test]
fn a_returned_report_not_corrected_in_time_is_chased_once() {
    let port = free_port();
    let mut d = Daemon::with_config(
        "",
        &format!(
            "[http]\nlisten = \"127.0.0.1:{port}\"\n\
             [reminders]\nenabled = true\ndays_before = 0\non_the_day = false\n\
             overdue_after_days = 0\ntime = \"09:00\"\nrework_days = 10\n"
        ),
    );
    std::fs::write(
        d.inbox().join("lc/b.txt"),
        fixture("001_41152148c7aabaad.txt"),
    )
    .expect("drop");
    std::fs::write(
        d.inbox().join("xss/a.txt"),
        fixture("000_d016082c1b868431.txt"),
    )
    .expect("drop");
    // Returned on 2023-01-05 (China time): nine days later, not yet.
    d.start_env(&[("NIANBAO_TEST_NOW", "2023-01-05T02:00:00Z")]);
    d.wait_count(CHECKED, 2, 60);
    assert_eq!(d.stop(), Some(0));
    d.start_env(&[("NIANBAO_TEST_NOW", "2023-01-14T02:00:00Z")]);
    wait_get(port, "/healthz");
    d.wait_log("reminders (催报) looked at for the day", 30);
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(d.count(REWORK), 0, "nine days: not yet");
    let (_, page) = wait_get(port, "/");
    assert_eq!(count(&page, "count-rework"), 0, "{page}");
    assert_eq!(d.stop(), Some(0));

    // Ten days later: lc's two addresses are reminded, once.
    for _ in 0..2 {
        d.start_env(&[("NIANBAO_TEST_NOW", "2023-01-15T02:00:00Z")]);
        wait_get(port, "/healthz");
        d.wait_count(REWORK, 2, 30);
        let (_, page) = wait_get(port, "/");
        assert_eq!(count(&page, "count-rework"), 1, "{page}");
        assert_eq!(d.stop(), Some(0));
    }
    assert_eq!(d.count(REWORK), 2, "nothing twice");
    let body: String = d
        .db()
        .expect("db")
        .query_row(
            "SELECT body_text FROM outbox WHERE idempotency_key LIKE 'reminder/2022/lc/rework/%'",
            [],
            |r| r.get(0),
        )
        .expect("the reminder");
    assert!(
        body.contains("您单位2022年度政府信息公开工作年报经审核需修改，尚未重新报送"),
        "{body}"
    );
    let (code, out, err) = d.cli(&["status"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("退回未改"), "the digest's text: {out}");
    assert_eq!(
        d.count("SELECT count(*) FROM outbox WHERE idempotency_key LIKE 'reminder/2022/xss/%'"),
        0
    );
}
