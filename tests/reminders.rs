//! Deadlines and reminders (催报, issue 16) on the real daemon with a real SQLite file and
//! the `.eml` spool: the clock is moved by restarting the daemon with another
//! `NIANBAO_TEST_NOW` (debug builds only). A missing agency gets exactly one reminder per
//! stage and recipient, an agency that submitted gets none, a restart sends nothing twice,
//! reminders off send nothing; the overview shows 逾期 after the deadline and the agency page
//! lists the reminders; `config check` prints the schedule.

mod harness;

use std::path::PathBuf;

use harness::http::{free_port, wait_get};
use harness::{CHECKED, Daemon, SETTLE_MS, report_for};

const AGENCIES: &str = "
[[agency]]
folder = \"czj\"
name = \"市财政局\"
email = [\"a@czj.example.cn\", \"b@czj.example.cn\"]

[[agency]]
folder = \"xss\"
name = \"西塞山区政数局\"
email = [\"gkb@xss.example.cn\"]

[[agency]]
folder = \"hs\"
name = \"花山镇人民政府\"
email = [\"hs@hs.example.cn\"]

[[agency]]
folder = \"quiet\"
name = \"某局\"
";

const REMINDERS_ON: &str = "
[reminders]
enabled = true
days_before = 7
on_the_day = true
overdue_after_days = 1
time = \"09:00\"
";

/// A daemon with the agencies above, the console on a free port and `reminders` (no
/// `filing_year`: the test clock decides the season).
fn daemon(reminders: &str) -> (Daemon, u16) {
    let d = Daemon::new();
    let port = free_port();
    std::fs::write(
        d.dir.path().join("nianbao.toml"),
        format!(
            "inbox = {:?}\ndata_dir = {:?}\nsettle_ms = {SETTLE_MS}\nrescan_interval_s = 1\n\
             [mail]\nadmin = \"admin@office.example.cn\"\n[http]\nlisten = \"127.0.0.1:{port}\"\n\
             {reminders}\n{AGENCIES}",
            d.inbox(),
            d.dir.path().join("data")
        ),
    )
    .expect("config");
    for f in ["czj", "xss", "hs", "quiet"] {
        std::fs::create_dir_all(d.inbox().join(f)).expect("folder");
    }
    // Daemon::new made a folder `lc` for the harness's own agencies: not one of these.
    std::fs::remove_dir(d.inbox().join("lc")).expect("lc");
    (d, port)
}

const LOOKED: &str = "reminders (催报) looked at for the day";

/// Starts the daemon at `now` (UTC) and waits until its mail task has looked at the
/// reminders of the day (the `n`-th time in the log, counting earlier runs).
fn run_at(d: &mut Daemon, now: &str, n: usize) {
    d.start_env(&[("NIANBAO_TEST_NOW", now)]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while d.log().matches(LOOKED).count() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "reminders not looked at ({n})\n{}",
            d.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Runs the daemon at `now` until it has looked at the day's reminders (the `looked`-th
/// time), stops it, and checks that there are still `total` reminders, queued and spooled.
fn nothing_new(d: &mut Daemon, now: &str, looked: usize, total: i64) {
    run_at(d, now, looked);
    assert_eq!(d.stop(), Some(0));
    let log = d.log();
    let last = log
        .lines()
        .rfind(|l| l.contains(LOOKED))
        .unwrap_or_default();
    assert!(last.contains("queued=0"), "{last}");
    assert_eq!(d.count(REMINDERS), total);
    assert_eq!(spooled(d).len(), usize::try_from(total).unwrap_or(0));
}

const REMINDERS: &str = "SELECT count(*) FROM outbox WHERE kind = 'reminder'";
const SENT: &str = "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND state = 'sent'";

/// The reminders written to the spool: (file name, To, decoded subject).
fn spooled(d: &Daemon) -> Vec<(String, String, String)> {
    d.eml_files()
        .into_iter()
        .filter_map(|p: PathBuf| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            if !name.starts_with("reminder_") {
                return None;
            }
            let bytes = std::fs::read(&p).expect("eml");
            let mail = mailparse::parse_mail(&bytes).expect("parse eml");
            let header = |h: &str| {
                mail.headers
                    .iter()
                    .find(|x| x.get_key().eq_ignore_ascii_case(h))
                    .map(|x| x.get_value())
                    .unwrap_or_default()
            };
            Some((name, header("To"), header("Subject")))
        })
        .collect()
}

/// Runs the daemon at `now` (see [`run_at`]) until `sent` reminders are sent: their keys.
fn reminded_at(d: &mut Daemon, now: &str, looked: usize, sent: i64) -> Vec<String> {
    run_at(d, now, looked);
    d.wait_count(SENT, sent, 30);
    keys(d)
}

fn keys(d: &Daemon) -> Vec<String> {
    let db = d.db().expect("db");
    let mut stmt = db
        .prepare(
            "SELECT idempotency_key FROM outbox WHERE kind = 'reminder' ORDER BY idempotency_key",
        )
        .expect("prepare");
    stmt.query_map([], |r| r.get::<_, String>(0))
        .expect("query")
        .map(|k| k.expect("key"))
        .collect()
}

/// Two of each stage for 市财政局 (two addresses), none for the others.
#[test]
fn a_missing_agency_gets_one_reminder_per_stage_and_nothing_twice() {
    let (mut d, port) = daemon(REMINDERS_ON);

    // 25 January 2027, 08:30 in Beijing: the early reminder (due since the 24th) waits for
    // 09:00. 西塞山区政数局 submits its 2026 report.
    d.start_env(&[("NIANBAO_TEST_NOW", "2027-01-25T00:30:00Z")]);
    std::fs::write(d.inbox().join("xss/2026年报.txt"), report_for(2026)).expect("drop");
    d.wait_count(CHECKED, 1, 30);
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE kind = 'feedback' AND state = 'sent'",
        1,
        30,
    );
    assert_eq!(d.stop(), Some(0));
    assert_eq!(d.count(REMINDERS), 0, "before 09:00\n{}", d.log());
    assert!(!d.log().contains(LOOKED), "{}", d.log());

    // 10:00 the same day: the early reminder, to both addresses of 市财政局 only.
    assert_eq!(
        reminded_at(&mut d, "2027-01-25T02:00:00Z", 1, 2),
        [
            "reminder/2026/czj/before/a@czj.example.cn",
            "reminder/2026/czj/before/b@czj.example.cn",
        ]
    );
    let sent = spooled(&d);
    assert_eq!(sent.len(), 2, "{sent:?}");
    for (_, to, subject) in &sent {
        assert!(to.ends_with("@czj.example.cn"), "{to}");
        assert!(subject.contains("2027年1月31日"), "{subject}");
        assert!(subject.contains("2026年度"), "{subject}");
    }
    let body = d
        .db()
        .expect("db")
        .query_row(
            "SELECT body_text FROM outbox WHERE kind = 'reminder' LIMIT 1",
            [],
            |r| r.get::<_, String>(0),
        )
        .expect("body");
    assert!(body.starts_with("市财政局："), "{body}");
    assert!(body.contains("还有 6 天"), "{body}");
    // The admin's summary of the day names who was reminded and who has no address.
    let summary = d
        .db()
        .expect("db")
        .query_row(
            "SELECT recipient || ' ' || body_text FROM outbox
             WHERE idempotency_key = 'reminder-summary/2027-01-25'",
            [],
            |r| r.get::<_, String>(0),
        )
        .expect("summary");
    assert!(summary.starts_with("admin@office.example.cn "), "{summary}");
    assert!(
        summary.contains("市财政局（czj）：2026 年度，提前提醒"),
        "{summary}"
    );
    assert!(summary.contains("未配置邮箱"), "{summary}");
    assert!(summary.contains("某局（quiet）"), "{summary}");
    assert!(!summary.contains("西塞山区"), "{summary}");
    assert_eq!(d.stop(), Some(0));

    // A restart the same day sends nothing again.
    nothing_new(&mut d, "2027-01-25T03:00:00Z", 2, 2);

    // The day of the deadline: the second reminder.
    assert_eq!(reminded_at(&mut d, "2027-01-31T02:00:00Z", 3, 4).len(), 4);
    assert_eq!(d.stop(), Some(0));

    // Two days after: the overdue notice, once; 花山镇人民政府 (a government, due 31 March)
    // and 西塞山区政数局 (submitted) get nothing, nor 某局 (no address).
    assert_eq!(
        reminded_at(&mut d, "2027-02-02T02:00:00Z", 4, 6),
        [
            "reminder/2026/czj/before/a@czj.example.cn",
            "reminder/2026/czj/before/b@czj.example.cn",
            "reminder/2026/czj/day/a@czj.example.cn",
            "reminder/2026/czj/day/b@czj.example.cn",
            "reminder/2026/czj/overdue/a@czj.example.cn",
            "reminder/2026/czj/overdue/b@czj.example.cn",
        ]
    );
    let overdue: Vec<_> = spooled(&d)
        .into_iter()
        .filter(|(name, _, _)| name.contains("_overdue_"))
        .collect();
    assert_eq!(overdue.len(), 2, "{overdue:?}");
    assert!(overdue[0].2.contains("逾期"), "{overdue:?}");

    // The overview: 市财政局 and 某局 are overdue, 花山镇 only missing.
    let (code, page) = wait_get(port, "/");
    assert_eq!(code, 200, "{page}");
    assert!(page.contains("2026 年度报告报送情况"), "{page}");
    assert!(page.contains(r#"id="count-missing">3<"#), "{page}");
    assert!(page.contains(r#"id="count-overdue">2<"#), "{page}");
    assert!(page.contains(r#"id="count-accepted">1<"#), "{page}");
    assert_eq!(page.matches(">逾期</td>").count(), 2, "{page}");
    assert_eq!(page.matches(">未提交</td>").count(), 1, "{page}");
    // The agency page lists its reminders with their state.
    let (code, agency) = wait_get(port, "/agency/czj");
    assert_eq!(code, 200, "{agency}");
    assert_eq!(
        agency.matches(r#"<tr class="reminder">"#).count(),
        6,
        "{agency}"
    );
    for text in [
        "提前提醒",
        "当日提醒",
        "逾期通知",
        "已发送",
        "a@czj.example.cn",
    ] {
        assert!(agency.contains(text), "{text}\n{agency}");
    }
    let (_, quiet) = wait_get(port, "/agency/xss");
    assert!(quiet.contains("未发过催报提醒"), "{quiet}");
    assert_eq!(d.stop(), Some(0));

    // And once more, later still: nothing new.
    nothing_new(&mut d, "2027-02-10T02:00:00Z", 5, 6);

    assert_eq!(
        d.count("SELECT count(*) FROM outbox WHERE idempotency_key LIKE 'reminder-summary/%'"),
        3,
        "one summary a day with reminders"
    );

    // `nianbao status` says 逾期 too.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["status", "--config"])
        .arg(d.dir.path().join("nianbao.toml"))
        .env("NIANBAO_TEST_NOW", "2027-02-10T02:00:00Z")
        .output()
        .expect("status");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("市财政局：未提交（逾期，截止 2027-01-31）"),
        "{shown}"
    );
    assert!(shown.contains("  花山镇人民政府：未提交\n"), "{shown}");
    assert!(shown.contains("（其中逾期 2）"), "{shown}");
}

#[test]
fn reminders_off_send_nothing_but_the_overview_shows_overdue() {
    let (mut d, port) = daemon("");
    run_at(&mut d, "2027-01-31T02:00:00Z", 0);
    let (code, page) = wait_get(port, "/");
    assert_eq!(code, 200, "{page}");
    assert!(page.contains(r#"id="count-overdue">0<"#), "{page}");
    assert_eq!(d.stop(), Some(0));
    run_at(&mut d, "2027-02-01T02:00:00Z", 0);
    let (_, page) = wait_get(port, "/");
    assert!(page.contains(r#"id="count-overdue">3<"#), "{page}");
    // Six seconds: more than one round of the mail task (5 s).
    std::thread::sleep(std::time::Duration::from_secs(6));
    assert_eq!(d.stop(), Some(0));
    assert_eq!(d.count(REMINDERS), 0, "{}", d.log());
    assert!(!d.log().contains(LOOKED), "{}", d.log());
    assert!(spooled(&d).is_empty());
}

#[test]
fn config_check_prints_the_schedule() {
    let check = |reminders: &str| -> String {
        let (d, _) = daemon(reminders);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_nianbao"))
            .args(["config", "check", "--config"])
            .arg(d.dir.path().join("nianbao.toml"))
            .env("NIANBAO_TEST_NOW", "2027-01-10T02:00:00Z")
            .output()
            .expect("config check");
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let on = check(REMINDERS_ON);
    for line in [
        "2026 年度报告，2027 年报送",
        "  政府部门：截止 2027-01-31，提前提醒 2027-01-24，当日提醒 2027-01-31，逾期通知 2027-02-01\n",
        "  人民政府：截止 2027-03-31，提前提醒 2027-03-24，当日提醒 2027-03-31，逾期通知 2027-04-01\n",
        "  市财政局（czj）：政府部门，截止 2027-01-31，",
        "  花山镇人民政府（hs）：人民政府（按名称推定），截止 2027-03-31，",
        "  某局（quiet）：政府部门，截止 2027-01-31，提前提醒 2027-01-24，当日提醒 2027-01-31，逾期通知 2027-02-01；未配置邮箱，不发提醒\n",
        "催报提醒：已开启",
    ] {
        assert!(on.contains(line), "{line}\n{on}");
    }
    let off = check("");
    assert!(off.contains("  政府部门：截止 2027-01-31\n"), "{off}");
    assert!(off.contains("催报提醒：未开启"), "{off}");
    // A deadline of its own, and a leap day in a year without one.
    let own = check("[deadlines]\ngovernment = \"02-29\"\n");
    assert!(own.contains("  人民政府：截止 2027-02-28\n"), "{own}");
}
