//! Officer review on the console (issue 16): resend, overruling a verdict, a finding marked
//! not applicable, feedback held for review and released, and decisions made while held
//! (issue 26: whatever the order of hold, decisions, release and restarts, each decision
//! reaches the agency exactly once, in the released feedback); against the real daemon, its
//! SQLite file and the real SMTP test server (aiosmtpd) on 127.0.0.1.

mod harness;

use std::time::{Duration, Instant};

use harness::smtp::{SmtpServer, mails_to, parts, received, smtp_config, wait_received};
use harness::web::{Client, count, csrf_of, free_port, receipt_of, user_add};
use harness::{CHECKED, Daemon, fixture};

/// A daemon with SMTP to a fresh test server, the console on a free loopback port, the
/// admin alice and the viewer bob, and `extra` configuration; started with the report
/// `fixture_name` dropped as `path`, once it is checked and `mails` messages arrived.
/// The fixture as the review tests drop it: 000 as the report of two hints they were written
/// for (narrative.figure, narrative.fee_mention), its three half-width semicolons of line 4
/// made full-width (they are a third hint since issue 28, `wording.ascii_punctuation`).
fn dropped(fixture_name: &str) -> Vec<u8> {
    let bytes = fixture(fixture_name);
    if !fixture_name.starts_with("000_") {
        return bytes;
    }
    String::from_utf8_lossy(&bytes)
        .replace("情况;", "情况；")
        .into_bytes()
}

fn started(
    extra: &str,
    path: &str,
    fixture_name: &str,
    mails: usize,
) -> (Daemon, SmtpServer, tempfile::TempDir, u16) {
    let smtp_port = free_port();
    let mail_dir = tempfile::tempdir().expect("tempdir");
    let server = SmtpServer::start(smtp_port, mail_dir.path());
    let port = free_port();
    let mut d = Daemon::with_config(
        "",
        &format!(
            "{}[http]\nlisten = \"127.0.0.1:{port}\"\n{extra}",
            smtp_config(smtp_port)
        ),
    );
    user_add(&d, "alice", "admin", "alice's long password");
    user_add(&d, "bob", "viewer", "bob's long password");
    std::fs::write(d.inbox().join(path), dropped(fixture_name)).expect("drop");
    d.start();
    d.wait_count(CHECKED, 1, 60);
    let got = wait_received(mail_dir.path(), mails, 30);
    assert_eq!(got.len(), mails, "{}", d.log());
    (d, server, mail_dir, port)
}

fn logged_in(port: u16, name: &str, password: &str) -> Client {
    let mut c = Client::new(port);
    assert_eq!(c.login(name, password).code, 303, "login {name}");
    c
}

/// The CSRF token of the visitor's session, from a page it sees.
fn token(c: &mut Client, path: &str) -> String {
    let page = c.get(path);
    assert_eq!(page.code, 200, "{path}: {}", page.text());
    csrf_of(&page.text())
}

#[test]
fn resend_goes_out_at_once_and_only_for_an_admin_with_a_token() {
    // Once the feedback arrived.
    let (mut d, _server, mail_dir, port) = started("", "xss/a.txt", "000_d016082c1b868431.txt", 1);
    let receipt = receipt_of(&d, "xss");
    let page = format!("/submission/{receipt}");
    let resend = format!("/submission/{receipt}/resend");

    // A viewer sees no buttons and is refused, with a valid token; so is a review.
    let mut bob = logged_in(port, "bob", "bob's long password");
    let bob_csrf = token(&mut bob, &page);
    assert!(!bob.get(&page).text().contains("重新发送反馈"));
    assert_eq!(bob.post(&resend, &[("csrf", &bob_csrf)]).code, 403);
    let review = format!("/submission/{receipt}/review");
    let refused = bob.post(
        &review,
        &[("csrf", &bob_csrf), ("action", "return"), ("reason", "x")],
    );
    assert_eq!(refused.code, 403, "{}", refused.text());
    assert!(refused.text().contains("管理员"), "{}", refused.text());

    // An admin without the token, or with another session's, is refused too.
    let mut alice = logged_in(port, "alice", "alice's long password");
    assert_eq!(alice.post(&resend, &[]).code, 403);
    assert_eq!(alice.post(&resend, &[("csrf", &bob_csrf)]).code, 403);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(received(mail_dir.path()).len(), 1, "nothing resent yet");

    let csrf = token(&mut alice, &page);
    assert!(alice.get(&page).text().contains("重新发送反馈"));
    // Each resend goes out at once: the mail task is woken, not left to its 5-second
    // round (three in a row within 2.5 s each would pass without the wake-up one time in
    // eight).
    for n in 1..=3 {
        let asked = Instant::now();
        let r = alice.post(&resend, &[("csrf", &csrf)]);
        assert_eq!(r.code, 303, "{}", r.text());
        assert_eq!(
            r.header("location"),
            Some(format!("{page}?done=resend#review").as_str()),
            "back to the page, confirming"
        );
        let got = wait_received(mail_dir.path(), 1 + n, 30);
        assert!(
            asked.elapsed() < Duration::from_millis(2500),
            "resend {n} arrived after {:?}",
            asked.elapsed()
        );
        assert_eq!(got.len(), 1 + n, "resent once each time");
    }
    let feedback = mails_to(mail_dir.path(), "gkb@xss.example.cn");
    assert_eq!(feedback.len(), 4);
    assert!(
        feedback.iter().all(|(s, _)| s.starts_with("【已受理】")),
        "{feedback:?}"
    );
    // Each resend has keys of its own: the feedback and the receipt file, three times.
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE idempotency_key LIKE '%/resend/%' AND state = 'sent'",
        6,
        30,
    );
    // The history says who resent.
    let text = alice.get(&page).text();
    assert!(
        text.contains("重新发送") && text.contains("alice"),
        "{text}"
    );
    // The mail queue page lists it as sent, linked from the overview.
    assert!(alice.get("/").text().contains("href=\"/mail\""));
    let queue = alice.get("/mail");
    assert_eq!(queue.code, 200);
    let queue = queue.text();
    assert_eq!(count(&queue, "count-pending"), 0, "{queue}");
    assert_eq!(count(&queue, "count-failed"), 0, "{queue}");
    assert!(
        queue.contains("gkb@xss.example.cn") && queue.contains(&receipt),
        "{queue}"
    );
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn overruling_a_rejected_report_mails_the_reason_and_counts_in_the_export() {
    // Once the feedback arrived at a@ and b@.
    let (mut d, _server, mail_dir, port) = started("", "lc/b.txt", "001_41152148c7aabaad.txt", 2);
    let receipt = receipt_of(&d, "lc");
    let page = format!("/submission/{receipt}");
    let review = format!("/submission/{receipt}/review");
    let mut alice = logged_in(port, "alice", "alice's long password");
    let text = alice.get(&page).text();
    assert!(text.contains("id=\"verdict\">需修改<"), "{text}");
    let csrf = csrf_of(&text);

    // A reason is required.
    let r = alice.post(
        &review,
        &[("csrf", &csrf), ("action", "accept"), ("reason", "  ")],
    );
    assert_eq!(r.code, 409, "{}", r.text());

    // A finding marked not applicable shows on the page, with its reason.
    let first: String = d
        .db()
        .expect("db")
        .query_row(
            "SELECT message FROM findings f JOIN submissions s ON s.id = f.submission_id
             WHERE s.receipt = ?1 AND f.seq = 0",
            [&receipt],
            |r| r.get(0),
        )
        .expect("first finding");
    let r = alice.post(
        &review,
        &[
            ("csrf", &csrf),
            ("action", "not_applicable"),
            ("finding", "0"),
            ("reason", "该项按本地口径填报，已报备"),
        ],
    );
    assert_eq!(r.code, 303, "{}", r.text());
    let text = alice.get(&page).text();
    let shown = text
        .split("id=\"not-applicable\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no not-applicable list\n{text}"));
    let escaped = first.replace('<', "&lt;").replace('>', "&gt;");
    assert!(
        shown.contains(&escaped) && shown.contains("该项按本地口径填报，已报备"),
        "{shown}"
    );
    assert!(text.contains("id=\"verdict\">需修改<"), "still rejected");
    assert!(
        text.contains("经复核不适用"),
        "marked in the list of findings"
    );

    // Overruled: accepted despite errors, with a reason that reaches both addresses.
    let reason = "表二数据经电话核实无误，予以受理";
    let r = alice.post(
        &review,
        &[("csrf", &csrf), ("action", "accept"), ("reason", reason)],
    );
    assert_eq!(r.code, 303, "{}", r.text());
    let got = wait_received(mail_dir.path(), 6, 30);
    assert_eq!(
        got.len(),
        6,
        "feedback, not-applicable and decision, each to a@ and b@"
    );
    for to in ["a@lc.example.cn", "b@lc.example.cn"] {
        let mails = mails_to(mail_dir.path(), to);
        let decision = mails
            .iter()
            .find(|(s, _)| s.starts_with("【人工复核：予以受理】"))
            .unwrap_or_else(|| panic!("no decision to {to}: {mails:?}"));
        assert!(
            decision.1.contains(reason) && decision.1.contains(&receipt),
            "{}",
            decision.1
        );
        assert!(
            mails
                .iter()
                .any(|(s, t)| s.starts_with("【人工复核：审核意见调整】")
                    && t.contains("该项按本地口径填报")),
            "{mails:?}"
        );
    }
    // The receipt file on the share says the decision, above the first feedback.
    d.wait_count("SELECT count(*) FROM outbox WHERE state != 'sent'", 0, 30);
    let file = std::fs::read_to_string(d.inbox().join("lc/回执/回执_b.txt.txt")).expect("receipt");
    assert!(
        file.starts_with("【人工复核：予以受理】")
            && file.contains(reason)
            && file.contains("以下为此前的审核意见")
            && file.contains("审核结果：需修改"),
        "{file}"
    );
    // Accepting again is refused: the verdict already is 已受理.
    let again = alice.post(
        &review,
        &[("csrf", &csrf), ("action", "accept"), ("reason", reason)],
    );
    assert_eq!(again.code, 409);

    // The effective verdict everywhere, marked as reviewed, and who decided.
    let text = alice.get(&page).text();
    assert!(text.contains("id=\"verdict\">已受理<"), "{text}");
    assert!(
        text.contains("经人工复核") && text.contains("alice") && text.contains(reason),
        "{text}"
    );
    let home = alice.get("/").text();
    assert_eq!(count(&home, "count-accepted"), 1, "{home}");
    assert_eq!(count(&home, "count-rejected"), 0, "{home}");
    assert!(alice.get("/agency/lc").text().contains("复核"));
    let (code, csv, err) = d.cli(&["export", "--year", "2022"]);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<Vec<&str>> = csv
        .lines()
        .map(|l| l.trim_start_matches('\u{FEFF}').split(',').collect())
        .collect();
    let col = |name: &str| {
        lines[0]
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let lc = lines
        .iter()
        .find(|l| l[0] == "老城区人民政府办公室")
        .expect("lc row");
    assert_eq!(lc[col("审核结果")], "已受理");
    assert_eq!(lc[col("人工复核")], "是");
    let xss = lines
        .iter()
        .find(|l| l[0] == "西塞山区政数局")
        .expect("xss");
    assert_eq!(xss[col("人工复核")], "否", "reviewed: 是 or 否 (issue 26)");
    let total = lines.last().expect("total");
    assert!(
        total[0].contains("1 份已受理报告") && total[0].contains("1 份审核结果经人工复核"),
        "{total:?}"
    );
    let (code, status, err) = d.cli(&["status", "--year", "2022"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        status.contains("[人工复核]") && status.contains("已受理 1"),
        "{status}"
    );
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn held_feedback_waits_for_the_release_and_goes_out_once() {
    // Once the first message arrived.
    let (mut d, _server, mail_dir, port) = started(
        "[review]\nhold = \"all\"\n",
        "xss/a.txt",
        "000_d016082c1b868431.txt",
        1,
    );
    std::thread::sleep(Duration::from_secs(6));
    let mails = mails_to(mail_dir.path(), "gkb@xss.example.cn");
    assert_eq!(mails.len(), 1, "only the receipt: {mails:?}");
    assert!(
        mails[0].0.starts_with("【已收到，正在审核】") && mails[0].1.contains("已收到，正在审核"),
        "{mails:?}"
    );
    assert!(!mails[0].1.contains("已受理"), "{}", mails[0].1);
    let receipt_file = d.inbox().join("xss/回执/回执_a.txt.txt");
    let file = std::fs::read_to_string(&receipt_file).expect("receipt file");
    assert!(
        file.contains("已收到，正在审核") && !file.contains("审核结果"),
        "{file}"
    );
    let receipt = receipt_of(&d, "xss");
    // `mail resend` does not send held feedback.
    let (code, _, err) = d.cli(&["mail", "resend", &receipt]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("held for review"), "{err}");
    let (code, queue, err) = d.cli(&["mail", "queue"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(queue.contains("暂缓（待复核）2"), "{queue}");

    // The 待复核 queue.
    let mut alice = logged_in(port, "alice", "alice's long password");
    let home = alice.get("/").text();
    assert_eq!(count(&home, "count-held"), 1, "{home}");
    let queue = alice.get("/review").text();
    assert_eq!(count(&queue, "count-review"), 1, "{queue}");
    assert!(queue.contains(&receipt), "{queue}");
    let mailq = alice.get("/mail").text();
    assert_eq!(
        count(&mailq, "count-held"),
        2,
        "feedback and receipt file: {mailq}"
    );

    // Released: the feedback goes out once, and the receipt file is the feedback.
    let page = format!("/submission/{receipt}");
    let text = alice.get(&page).text();
    assert!(text.contains("id=\"held\""), "{text}");
    let csrf = csrf_of(&text);
    let r = alice.post(
        &format!("/submission/{receipt}/review"),
        &[("csrf", &csrf), ("action", "release")],
    );
    assert_eq!(r.code, 303, "{}", r.text());
    assert_eq!(wait_received(mail_dir.path(), 2, 30).len(), 2);
    let mails = mails_to(mail_dir.path(), "gkb@xss.example.cn");
    assert!(
        mails.iter().any(|(s, _)| s.starts_with("【已受理】")),
        "{mails:?}"
    );
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE state IN ('pending', 'held')",
        0,
        30,
    );
    let file = std::fs::read_to_string(&receipt_file).expect("receipt file");
    assert!(file.contains("审核结果：已受理"), "{file}");
    assert_eq!(count(&alice.get("/").text(), "count-held"), 0);
    assert!(!alice.get(&page).text().contains("id=\"held\""));
    // A second release is refused.
    let again = alice.post(
        &format!("/submission/{receipt}/review"),
        &[("csrf", &csrf), ("action", "release")],
    );
    assert_eq!(again.code, 409);

    // A restart sends nothing again.
    assert_eq!(d.stop(), Some(0));
    d.start();
    Client::new(port);
    std::thread::sleep(Duration::from_secs(7));
    assert_eq!(received(mail_dir.path()).len(), 2, "nothing sent twice");
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn under_hold_uncertain_only_an_unreadable_file_waits() {
    // A report read with certainty: its feedback goes out at once.
    let (mut d, _server, mail_dir, port) = started(
        "[review]\nhold = \"uncertain\"\n",
        "xss/a.txt",
        "000_d016082c1b868431.txt",
        1,
    );
    assert!(
        mails_to(mail_dir.path(), "gkb@xss.example.cn")[0]
            .0
            .starts_with("【已受理】")
    );
    // An empty file cannot be read: held; both addresses hear that it is being reviewed.
    std::fs::write(d.inbox().join("lc/c.txt"), b"").expect("drop");
    d.wait_count(CHECKED, 2, 60);
    assert_eq!(wait_received(mail_dir.path(), 3, 30).len(), 3);
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(received(mail_dir.path()).len(), 3, "nothing more");
    for to in ["a@lc.example.cn", "b@lc.example.cn"] {
        let mails = mails_to(mail_dir.path(), to);
        assert_eq!(mails.len(), 1, "{to}: {mails:?}");
        assert!(mails[0].0.starts_with("【已收到，正在审核】"), "{mails:?}");
    }
    assert!(mails_to(mail_dir.path(), "admin@office.example.cn").is_empty());
    let receipt = receipt_of(&d, "lc");
    let mut bob = logged_in(port, "bob", "bob's long password");
    let queue = bob.get("/review").text();
    assert_eq!(count(&queue, "count-review"), 1, "{queue}");
    assert!(
        queue.contains(&receipt) && queue.contains("文件无法读取"),
        "{queue}"
    );
    let page = bob.get(&format!("/submission/{receipt}")).text();
    assert!(
        page.contains("id=\"held\"") && page.contains("文件无法读取（file.empty）"),
        "{page}"
    );
    // A viewer cannot release it.
    let r = bob.post(
        &format!("/submission/{receipt}/review"),
        &[("csrf", &csrf_of(&page)), ("action", "release")],
    );
    assert_eq!(r.code, 403);
    assert_eq!(d.stop(), Some(0));
}

// Issue 26, item 1: decisions made while the feedback is held.

const AGENCY: &str = "gkb@xss.example.cn";

/// A daemon holding every feedback, with a report of two hints (narrative.figure,
/// narrative.fee_mention) dropped into `xss/`; started once the "已收到，正在审核" arrived.
fn held() -> (Daemon, SmtpServer, tempfile::TempDir, u16, String) {
    let (d, server, mail_dir, port) = started(
        "[review]\nhold = \"all\"\n",
        "xss/a.txt",
        "000_d016082c1b868431.txt",
        1,
    );
    let receipt = receipt_of(&d, "xss");
    (d, server, mail_dir, port, receipt)
}

/// Posts a review action as alice (logged in afresh: a restart may lie in between).
fn act(port: u16, receipt: &str, fields: &[(&str, &str)]) -> u16 {
    let mut c = Client::new(port);
    assert_eq!(c.login("alice", "alice's long password").code, 303);
    let csrf = csrf_of(&c.get(&format!("/submission/{receipt}")).text());
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    c.post(&format!("/submission/{receipt}/review"), &all).code
}

/// Marks finding `seq` not applicable for `reason`.
fn not_applicable(port: u16, receipt: &str, seq: &str, reason: &str) {
    let fields = [
        ("action", "not_applicable"),
        ("finding", seq),
        ("reason", reason),
    ];
    assert_eq!(act(port, receipt, &fields), 303);
}

fn finding_seq(d: &Daemon, receipt: &str, rule: &str) -> String {
    d.db()
        .expect("db")
        .query_row(
            "SELECT f.seq FROM findings f JOIN submissions s ON s.id = f.submission_id
             WHERE s.receipt = ?1 AND f.rule = ?2",
            [receipt, rule],
            |r| r.get::<_, i64>(0),
        )
        .expect("finding")
        .to_string()
}

fn restart(d: &mut Daemon, port: u16) {
    assert_eq!(d.stop(), Some(0));
    d.start();
    harness::http::wait_get(port, "/healthz");
}

/// How many times the mails say `text`.
fn told(mails: &[(String, String)], text: &str) -> usize {
    mails.iter().map(|(_, t)| t.matches(text).count()).sum()
}

const REASON_FIGURE: &str = "数字已与统计口径核对一致";
const REASON_FEE: &str = "收费说明为法定表述";

#[test]
fn decisions_made_while_held_reach_the_agency_once_in_the_released_feedback() {
    let (mut d, _server, mail_dir, port, receipt) = held();
    let figure = finding_seq(&d, &receipt, "narrative.figure");
    let fee = finding_seq(&d, &receipt, "narrative.fee_mention");

    // hold → 不适用 → restart → 不适用 → release → restart.
    not_applicable(port, &receipt, &figure, REASON_FIGURE);
    restart(&mut d, port);
    not_applicable(port, &receipt, &fee, REASON_FEE);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        mails_to(mail_dir.path(), AGENCY).len(),
        1,
        "nothing before the release"
    );
    assert_eq!(act(port, &receipt, &[("action", "release")]), 303);
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE state IN ('pending', 'held')",
        0,
        30,
    );
    restart(&mut d, port);
    std::thread::sleep(Duration::from_secs(5));

    let mails = mails_to(mail_dir.path(), AGENCY);
    assert_eq!(mails.len(), 2, "the receipt and the feedback: {mails:?}");
    let (subject, text) = &mails[1];
    assert!(subject.starts_with("【已受理】"), "{subject}");
    for reason in [REASON_FIGURE, REASON_FEE] {
        assert_eq!(told(&mails, reason), 1, "{reason} told once: {mails:?}");
    }
    assert!(
        text.contains("未发现错误。") && !text.contains("条提示"),
        "no hint left: {text}"
    );
    // The HTML part leaves the findings out too.
    let html: Vec<String> = received(mail_dir.path())
        .iter()
        .map(|(_, raw)| parts(raw).2)
        .filter(|h| h.contains("【已受理】"))
        .collect();
    assert_eq!(html.len(), 1);
    // The HTML part leaves the findings out of its list too, and says the decisions with
    // their reasons in a paragraph of their own, as the text part does.
    let (before, note_and_list) = html[0]
        .split_once("人工复核：")
        .expect("the reviewed paragraph");
    let (note, list) = note_and_list.split_once("</p>").expect("paragraph end");
    assert!(
        note.contains(REASON_FEE) && note.contains(REASON_FIGURE),
        "{}",
        html[0]
    );
    assert!(
        !before.contains("信息处理费的收取情况") && !list.contains("信息处理费的收取情况"),
        "{}",
        html[0]
    );
    // The receipt file on the share says the same.
    let file = std::fs::read_to_string(d.inbox().join("xss/回执/回执_a.txt.txt")).expect("receipt");
    assert!(
        file.contains(REASON_FEE) && !file.contains("条提示"),
        "{file}"
    );
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn a_decision_after_the_release_goes_alone_and_once() {
    let (mut d, _server, mail_dir, port, receipt) = held();
    let fee = finding_seq(&d, &receipt, "narrative.fee_mention");

    // hold → release → restart → 不适用 → restart.
    assert_eq!(act(port, &receipt, &[("action", "release")]), 303);
    assert_eq!(wait_received(mail_dir.path(), 2, 30).len(), 2);
    restart(&mut d, port);
    not_applicable(port, &receipt, &fee, REASON_FEE);
    assert_eq!(wait_received(mail_dir.path(), 3, 30).len(), 3);
    restart(&mut d, port);
    std::thread::sleep(Duration::from_secs(5));

    let mails = mails_to(mail_dir.path(), AGENCY);
    assert_eq!(mails.len(), 3, "{mails:?}");
    assert!(
        mails[1].1.contains("有 2 条提示"),
        "sent before: {}",
        mails[1].1
    );
    assert!(
        mails[2].0.starts_with("【人工复核：审核意见调整】"),
        "{}",
        mails[2].0
    );
    let told: usize = mails
        .iter()
        .map(|(_, t)| t.matches(REASON_FEE).count())
        .sum();
    assert_eq!(told, 1, "{mails:?}");
    assert_eq!(d.stop(), Some(0));
}

// Issue 26, item 4: the review as the list of the mail's grouped findings.

#[test]
fn a_grouped_finding_is_marked_not_applicable_in_one_submit_and_confirmed() {
    // Once the feedback arrived at a@ and b@: 001 has a table with rows of lost columns.
    let (mut d, _server, mail_dir, port) = started("", "lc/b.txt", "001_41152148c7aabaad.txt", 2);
    let receipt = receipt_of(&d, "lc");
    let page = format!("/submission/{receipt}");
    let mut alice = logged_in(port, "alice", "alice's long password");
    let text = alice.get(&page).text();
    for section in ["verdict-section", "findings-section", "resend-section"] {
        assert!(
            text.contains(&format!("id=\"{section}\"")),
            "{section}\n{text}"
        );
    }
    assert!(
        !text.contains("<select name=\"finding\""),
        "no dropdown: {text}"
    );
    let items = text
        .split("id=\"review-items\"")
        .nth(1)
        .and_then(|t| t.split("</ol>").next())
        .expect("the list of items")
        .to_string();
    // The item of many findings: its form names all of them.
    let many = items
        .split("name=\"findings\" value=\"")
        .skip(1)
        .filter_map(|v| v.split('"').next())
        .max_by_key(|v| v.split(',').count())
        .expect("an item's findings")
        .to_string();
    let n = many.split(',').count();
    assert!(n >= 3, "a grouped item: {many}");
    let csrf = csrf_of(&text);
    let r = alice.post(
        &format!("/submission/{receipt}/review"),
        &[
            ("csrf", &csrf),
            ("action", "not_applicable"),
            ("findings", &many),
            ("reason", "该表按本地模板填报"),
        ],
    );
    assert_eq!(r.code, 303, "{}", r.text());
    let to = r.header("location").expect("location").to_string();
    assert!(to.contains("done=not_applicable"), "{to}");
    let after = alice.get(&to).text();
    assert!(after.contains("id=\"confirm\""), "{after}");
    assert!(
        !after.contains(&format!("value=\"{many}\"")),
        "the item's form is gone: {after}"
    );
    assert!(after.contains("已标为不适用"), "{after}");
    assert_eq!(
        d.count(&format!(
            "SELECT count(*) FROM reviews r JOIN submissions s ON s.id = r.submission_id
             WHERE s.receipt = '{receipt}' AND r.action = 'not_applicable'"
        )),
        n as i64,
        "one row per finding"
    );
    // One message per recipient, not one per finding.
    assert_eq!(wait_received(mail_dir.path(), 4, 30).len(), 4);
    std::thread::sleep(Duration::from_secs(3));
    let adjusted = mails_to(mail_dir.path(), "a@lc.example.cn")
        .into_iter()
        .filter(|(s, _)| s.starts_with("【人工复核：审核意见调整】"))
        .count();
    assert_eq!(adjusted, 1);
    assert_eq!(d.stop(), Some(0));
}

/// hold → every error marked 不适用 → release: the agency is told 已受理, and the office's
/// verdict says the same (before, it stayed 需修改: the overview and the 退回未改 reminders
/// would chase an agency told it was done).
#[test]
fn errors_all_marked_not_applicable_while_held_release_as_accepted_everywhere() {
    let (d, _server, mail_dir, port) = started(
        "[review]\nhold = \"all\"\n",
        "xss/a.txt",
        "001_41152148c7aabaad.txt",
        1,
    );
    let receipt = receipt_of(&d, "xss");
    let errors: String = d
        .db()
        .expect("db")
        .query_row(
            "SELECT group_concat(f.seq) FROM findings f JOIN submissions s
             ON s.id = f.submission_id WHERE s.receipt = ?1 AND f.severity = 'error'",
            [&receipt],
            |r| r.get(0),
        )
        .expect("the errors");
    assert!(errors.split(',').count() >= 2, "{errors}");
    let mut alice = logged_in(port, "alice", "alice's long password");
    let page = format!("/submission/{receipt}");
    let csrf = csrf_of(&alice.get(&page).text());
    let r = alice.post(
        &format!("{page}/review"),
        &[
            ("csrf", &csrf),
            ("action", "not_applicable"),
            ("findings", &errors),
            ("reason", "该表按本地模板填报"),
        ],
    );
    assert_eq!(r.code, 303, "{}", r.text());
    assert_eq!(act(port, &receipt, &[("action", "release")]), 303);
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE state IN ('pending', 'held')",
        0,
        30,
    );
    let mails = mails_to(mail_dir.path(), "gkb@xss.example.cn");
    let feedback: Vec<&(String, String)> = mails
        .iter()
        .filter(|(s, _)| s.starts_with("【已受理】"))
        .collect();
    assert_eq!(feedback.len(), 1, "{mails:?}");
    let home = alice.get("/").text();
    assert_eq!(count(&home, "count-accepted"), 1, "{home}");
    assert_eq!(count(&home, "count-rejected"), 0, "{home}");
    assert_eq!(
        d.count(&format!(
            "SELECT count(*) FROM reviews r JOIN submissions s ON s.id = r.submission_id
             WHERE s.receipt = '{receipt}' AND r.verdict = 'accepted'"
        )),
        1,
        "the verdict the agency was told is recorded: {home}"
    );
}
