//! The officer's season on the console (issue 26): every agency's latest submission of any
//! kind on the overview, files at the inbox's top level assigned to an agency, the compare
//! default, and the interface in Chinese. Real daemon, real SQLite file, pages over HTTP.

mod harness;

use harness::web::{Client, count, csrf_of, enc, free_port, user_add};
use harness::{CHECKED, Daemon, fixture};

/// Corpus report 000 (a 2022 report) moved to 2021.
fn report_of_2021() -> Vec<u8> {
    String::from_utf8(fixture("000_d016082c1b868431.txt"))
        .expect("utf-8")
        .replace("2021", "2020")
        .replace("2022", "2021")
        .into_bytes()
}

/// The overview's row of the agency named `name` (its `<tr>`).
fn row<'a>(page: &'a str, name: &str) -> &'a str {
    let at = page
        .find(&format!(">{name}<"))
        .unwrap_or_else(|| panic!("no row for {name}\n{page}"));
    let start = page[..at].rfind("<tr").expect("row start");
    let end = page[at..].find("</tr>").expect("row end") + at;
    &page[start..end]
}

fn logged_in(port: u16) -> Client {
    let mut c = Client::new(port);
    assert_eq!(c.login("alice", "alice's long password").code, 303);
    c
}

/// A season (report year 2022) with `[review] hold = "uncertain"`: 西塞山 sent a good
/// report, 老城区 a photo (unreadable, held), 东湖街道 last year's report (2021), 花山镇
/// and 区教育局 nothing; `extra` files dropped too. Returns once all are checked.
fn season(extra: &[(&str, Vec<u8>)]) -> (Daemon, u16) {
    let port = free_port();
    let mut d = Daemon::with_config(
        "",
        &format!(
            "[[agency]]\nfolder = \"jd\"\nname = \"东湖街道办事处\"\nemail = [\"gk@jd.example.cn\"]\n\
             [[agency]]\nfolder = \"hs\"\nname = \"花山镇人民政府\"\n\
             [[agency]]\nfolder = \"jy\"\nname = \"区教育局\"\nemail = [\"jy@jy.example.cn\"]\n\
             [http]\nlisten = \"127.0.0.1:{port}\"\n[review]\nhold = \"uncertain\"\n"
        ),
    );
    for f in ["jd", "hs", "jy"] {
        std::fs::create_dir_all(d.inbox().join(f)).expect("folder");
    }
    user_add(&d, "alice", "admin", "alice's long password");
    let mut drops: Vec<(&str, Vec<u8>)> = vec![
        ("xss/a.txt", fixture("000_d016082c1b868431.txt")),
        (
            "lc/scan.jpg",
            b"\xff\xd8\xff\xe0\x00\x10JFIF\x00 not really a photo".to_vec(),
        ),
        ("jd/2021.txt", report_of_2021()),
    ];
    drops.extend(extra.iter().cloned());
    for (path, bytes) in &drops {
        std::fs::write(d.inbox().join(path), bytes).expect("drop");
    }
    d.start();
    d.wait_count(CHECKED, drops.len() as i64, 60);
    (d, port)
}

#[test]
fn the_overview_shows_what_each_agency_sent_and_missing_means_nothing_received() {
    let (mut d, port) = season(&[]);
    let mut c = logged_in(port);
    let page = c.get("/").text();
    assert_eq!(count(&page, "count-missing"), 2, "花山镇, 区教育局\n{page}");
    assert_eq!(count(&page, "count-accepted"), 1, "{page}");
    assert_eq!(
        count(&page, "count-received"),
        2,
        "the photo and the 2021 report"
    );

    let photo = row(&page, "老城区人民政府办公室");
    assert!(photo.contains("NB-"), "its receipt: {photo}");
    assert!(photo.contains("scan.jpg"), "{photo}");
    assert!(
        photo.contains("无法读取") && photo.contains("待复核"),
        "{photo}"
    );
    assert!(
        !photo.contains("逾期") && !photo.contains("未提交"),
        "{photo}"
    );

    let old = row(&page, "东湖街道办事处");
    assert!(
        old.contains("2021.txt") && old.contains("年度不符"),
        "{old}"
    );
    assert!(old.contains("2021 年度"), "{old}");
    assert!(!old.contains("逾期") && !old.contains("未提交"), "{old}");

    let none = row(&page, "花山镇人民政府");
    assert!(none.contains("逾期") || none.contains("未提交"), "{none}");
    // The hint `status` gives.
    assert!(page.contains("另有 2021 年度 1 份"), "{page}");
    let (code, out, err) = d.cli(&["status"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("另有 2021 年度 1 份"), "{out}");
    assert!(
        out.contains("年度不符") && out.contains("无法读取"),
        "{out}"
    );
    let _ = enc("");
    let _ = csrf_of;
    assert_eq!(d.stop(), Some(0));
}

/// The one submission with no agency (a file at the inbox's top level).
fn unassigned(d: &Daemon) -> String {
    d.db()
        .expect("db")
        .query_row(
            "SELECT receipt FROM submissions WHERE agency_folder IS NULL",
            [],
            |r| r.get(0),
        )
        .expect("a top-level submission")
}

#[test]
fn a_top_level_file_waits_apart_until_an_admin_gives_it_to_its_agency() {
    let (mut d, port) = season(&[("教育局年报2025.txt", harness::distinct_report(7))]);
    let receipt = unassigned(&d);
    let mut c = logged_in(port);
    let page = c.get("/").text();
    assert_eq!(count(&page, "count-accepted"), 1, "only 西塞山: {page}");
    assert_eq!(
        count(&page, "count-agencies"),
        5,
        "the top-level file is no agency: {page}"
    );
    assert_eq!(count(&page, "count-unassigned"), 1, "{page}");
    let waiting = page.split("id=\"unassigned\"").nth(1).expect("待归属 list");
    assert!(
        waiting.contains("教育局年报2025.txt") && waiting.contains(&receipt),
        "{waiting}"
    );
    assert!(page.contains("待归属"), "{page}");
    let csv = c.get("/export/2022.csv").text();
    assert!(csv.contains("合计（1 份已受理报告）"), "{csv}");
    assert!(!csv.contains("未归属"), "{csv}");

    // Assigned to 区教育局 with a reason.
    let sub_page = format!("/submission/{receipt}");
    let text = c.get(&sub_page).text();
    assert!(text.contains("id=\"assign\""), "{text}");
    let csrf = csrf_of(&text);
    let assign = format!("/submission/{receipt}/assign");
    let r = c.post(
        &assign,
        &[("csrf", &csrf), ("folder", "jy"), ("reason", "")],
    );
    assert_eq!(r.code, 409, "a reason is required");
    let r = c.post(
        &assign,
        &[
            ("csrf", &csrf),
            ("folder", "jy"),
            ("reason", "文件名为教育局，经电话确认"),
        ],
    );
    assert_eq!(r.code, 303, "{}", r.text());
    let page = c.get("/").text();
    assert_eq!(count(&page, "count-accepted"), 2, "{page}");
    assert_eq!(count(&page, "count-unassigned"), 0, "{page}");
    let jy = row(&page, "区教育局");
    assert!(jy.contains(&receipt) && jy.contains("已受理"), "{jy}");
    let text = c.get(&sub_page).text();
    assert!(
        text.contains("文件名为教育局，经电话确认"),
        "the history: {text}"
    );
    // A second assignment is refused.
    let r = c.post(
        &assign,
        &[("csrf", &csrf), ("folder", "hs"), ("reason", "改")],
    );
    assert_eq!(r.code, 409);
    // The agency is answered as usual.
    d.wait_count(
        "SELECT count(*) FROM outbox WHERE recipient = 'jy@jy.example.cn' AND kind = 'feedback'
           AND state = 'sent' AND body_text LIKE '区教育局：%' AND subject LIKE '【已受理】%'",
        1,
        30,
    );
    let csv = c.get("/export/2022.csv").text();
    assert!(csv.contains("合计（2 份已受理报告）"), "{csv}");
    let (_, out, _) = d.cli(&["status"]);
    assert!(!out.contains("未归属"), "{out}");
    assert_eq!(d.stop(), Some(0));
}

/// The receipts of `folder`'s submissions, oldest first.
fn receipts(d: &Daemon, folder: &str) -> Vec<String> {
    let db = d.db().expect("db");
    let mut stmt = db
        .prepare("SELECT receipt FROM submissions WHERE agency_folder = ?1 ORDER BY id")
        .expect("query");
    stmt.query_map([folder], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("receipts")
}

/// The receipt selected in the compare form's `name` selector.
fn selected(page: &str, name: &str) -> String {
    let select = page
        .split(&format!("<select name=\"{name}\">"))
        .nth(1)
        .and_then(|s| s.split("</select>").next())
        .unwrap_or_else(|| panic!("no {name} selector\n{page}"));
    let at = select
        .find(" selected")
        .unwrap_or_else(|| panic!("nothing selected in {name}: {select}"));
    let value = select[..at].rsplit("value=\"").next().expect("value");
    value.split('"').next().expect("receipt").to_string()
}

#[test]
fn the_compare_default_is_the_previous_year_else_the_two_latest_versions() {
    let (mut d, port) = season(&[]);
    // 东湖街道 sent 2021, now two versions of 2022; 西塞山 a second version of 2022.
    for (i, path) in ["jd/v1.txt", "xss/b.txt", "jd/v2.txt"].iter().enumerate() {
        std::fs::write(d.inbox().join(path), harness::distinct_report(10 + i)).expect("drop");
        d.wait_count(CHECKED, 4 + i as i64, 60);
    }
    let mut c = logged_in(port);
    let jd = receipts(&d, "jd");
    let page = c.get("/agency/jd").text();
    assert_eq!(selected(&page, "old"), jd[0], "last year's report");
    assert_eq!(selected(&page, "new"), jd[2], "the newest");
    assert!(!page.contains("无法对比"), "{page}");
    let xss = receipts(&d, "xss");
    let page = c.get("/agency/xss").text();
    assert_eq!(
        selected(&page, "old"),
        xss[0],
        "no previous year: the older version"
    );
    assert_eq!(selected(&page, "new"), xss[1]);
    assert!(!page.contains("无法对比"), "{page}");
    assert!(page.contains("id=\"compare-differing\""), "{page}");
    assert_eq!(d.stop(), Some(0));
}

/// What a reader sees of a page: the text between tags (scripts and styles dropped), and
/// the placeholders, titles and alternative texts of its elements.
fn visible(page: &str) -> String {
    let mut out = String::new();
    let mut rest = page;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        let close = rest[open..].find('>').map_or(rest.len(), |c| open + c + 1);
        let tag = &rest[open..close];
        for attr in ["placeholder=\"", "title=\"", "alt=\""] {
            if let Some(v) = tag.split(attr).nth(1).and_then(|v| v.split('"').next()) {
                out.push(' ');
                out.push_str(v);
            }
        }
        rest = &rest[close..];
        for skipped in ["<style", "<script"] {
            if tag.starts_with(skipped) {
                let end = format!("</{}>", &skipped[1..]);
                rest = rest.find(&end).map_or("", |e| &rest[e..]);
            }
        }
    }
    out.push_str(rest);
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
}

/// The ASCII words (two letters or more) of `text` that are not part of a name in `data`
/// (receipts, files, folders, addresses, users, digests, rule ids), a file's extension nor
/// a format's name.
fn english(text: &str, data: &[String]) -> Vec<String> {
    const FORMATS: [&str; 4] = ["CSV", "Excel", "JSON", "SHA"];
    let mut out: Vec<String> = Vec::new();
    let mut start: Option<usize> = None;
    for (i, ch) in text.char_indices().chain([(text.len(), ' ')]) {
        match (ch.is_ascii_alphabetic(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let w = &text[s..i];
                // A file name's extension (`.docx`) is part of a file name.
                let extension = text[..s].ends_with('.');
                if w.len() >= 2
                    && !extension
                    && !FORMATS.contains(&w)
                    && !data.iter().any(|d| d.contains(w))
                {
                    out.push(w.to_string());
                }
                start = None;
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn every_page_reads_in_chinese() {
    let port = free_port();
    let mut d = Daemon::with_config(
        "",
        &format!(
            "[[agency]]\nfolder = \"hs\"\nname = \"花山镇人民政府\"\nemail = [\"hs@hs.example.cn\"]\n\
             [[agency]]\nfolder = \"jy\"\nname = \"区教育局\"\nemail = [\"jy@jy.example.cn\"]\n\
             [http]\nlisten = \"127.0.0.1:{port}\"\n[review]\nhold = \"uncertain\"\n\
             [reminders]\nenabled = true\ndays_before = 7\non_the_day = true\n\
             overdue_after_days = 1\ntime = \"09:00\"\n"
        ),
    );
    for f in ["hs", "jy"] {
        std::fs::create_dir_all(d.inbox().join(f)).expect("folder");
    }
    user_add(&d, "alice", "admin", "alice's long password");
    user_add(&d, "bob", "viewer", "bob's long password");
    for (path, bytes) in [
        ("xss/a.txt", fixture("000_d016082c1b868431.txt")),
        ("xss/a copy.txt", fixture("000_d016082c1b868431.txt")),
        ("lc/b.txt", fixture("001_41152148c7aabaad.txt")),
        ("lc/scan.jpg", b"\xff\xd8\xff\xe0 not a photo".to_vec()),
        ("top.txt", harness::distinct_report(3)),
    ] {
        std::fs::write(d.inbox().join(path), bytes).expect("drop");
    }
    d.start_env(&[("NIANBAO_TEST_NOW", "2023-02-01T02:00:00Z")]);
    d.wait_count(CHECKED, 5, 60);
    d.wait_count("SELECT count(*) FROM outbox WHERE kind = 'reminder'", 1, 30);
    let mut c = logged_in(port);
    // A decision, so that the history shows.
    let lc = harness::web::receipt_of(&d, "lc");
    let csrf = csrf_of(&c.get(&format!("/submission/{lc}")).text());
    let r = c.post(
        &format!("/submission/{lc}/review"),
        &[("csrf", &csrf), ("action", "accept"), ("reason", "经核实")],
    );
    assert_eq!(r.code, 303);

    let db = d.db().expect("db");
    let column = |sql: &str| -> Vec<String> {
        let mut stmt = db.prepare(sql).expect("query");
        stmt.query_map([], |r| r.get::<_, Option<String>>(0))
            .expect("rows")
            .filter_map(|r| r.ok().flatten())
            .collect()
    };
    let receipts = column("SELECT receipt FROM submissions");
    let mut data: Vec<String> = [
        "SELECT receipt FROM submissions",
        "SELECT original_name FROM submissions",
        "SELECT agency_folder FROM submissions",
        "SELECT sha256 FROM submissions",
        "SELECT recipient FROM outbox",
        "SELECT subject FROM outbox",
        "SELECT DISTINCT rule FROM findings",
        // The file owners' account names (on a Samba share, the agencies' accounts).
        "SELECT owner_name FROM submissions WHERE owner_name IS NOT NULL",
    ]
    .iter()
    .flat_map(|q| column(q))
    .collect();
    data.extend(["alice", "bob", "hs", "jy"].map(String::from));

    let mut pages: Vec<String> = [
        "/",
        "/?year=2021",
        "/review",
        "/mail",
        "/agency/hs",
        "/agency/jy",
        "/agency/xss",
        "/agency/lc",
        "/submission/NB-2023-999999",
        "/export/x",
    ]
    .map(String::from)
    .to_vec();
    pages.extend(receipts.iter().map(|r| format!("/submission/{r}")));
    let mut found = Vec::new();
    for path in &pages {
        let text = c.get(path).text();
        for w in english(&visible(&text), &data) {
            found.push(format!("{path}: {w}"));
        }
    }
    // A refused action, the viewer's pages and the login page.
    let refused = c.post(
        &format!("/submission/{lc}/review"),
        &[("csrf", &csrf), ("action", "release")],
    );
    assert_eq!(refused.code, 409);
    found.extend(
        english(&visible(&refused.text()), &data)
            .into_iter()
            .map(|w| format!("409: {w}")),
    );
    let mut bob = Client::new(port);
    assert_eq!(bob.login("bob", "bob's long password").code, 303);
    let text = bob.get(&format!("/submission/{lc}")).text();
    found.extend(
        english(&visible(&text), &data)
            .into_iter()
            .map(|w| format!("viewer: {w}")),
    );
    let login = Client::new(port).get("/login").text();
    found.extend(
        english(&visible(&login), &data)
            .into_iter()
            .map(|w| format!("/login: {w}")),
    );
    assert!(
        found.is_empty(),
        "English words on the pages:\n{}",
        found.join("\n")
    );
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn the_agency_page_and_the_export_say_deadline_lateness_and_review() {
    let (mut d, port) = season(&[]);
    let mut c = logged_in(port);
    let page = c.get("/agency/jy").text();
    let facts = page
        .split("id=\"agency-facts\"")
        .nth(1)
        .and_then(|t| t.split("</dl>").next())
        .unwrap_or_else(|| panic!("no facts\n{page}"));
    assert!(facts.contains("jy@jy.example.cn"), "{facts}");
    assert!(facts.contains("政府部门"), "{facts}");
    assert!(
        facts.contains("2023-01-31"),
        "the deadline of the 2022 reports: {facts}"
    );
    let town = c.get("/agency/hs").text();
    assert!(
        town.contains("人民政府") && town.contains("2023-03-31"),
        "{town}"
    );
    assert!(town.contains("未登记邮箱"), "{town}");

    let csv = String::from_utf8(c.get("/export/2022.csv").body).expect("utf-8");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines
        .next()
        .expect("header")
        .trim_start_matches('\u{feff}')
        .split(',')
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
    };
    let (received, deadline, late, days, reviewed) = (
        col("收到时间（北京时间）"),
        col("截止日期"),
        col("逾期"),
        col("逾期天数"),
        col("人工复核"),
    );
    let xss: Vec<&str> = csv
        .lines()
        .find(|l| l.starts_with("西塞山区政数局"))
        .expect("xss line")
        .split(',')
        .collect();
    // Received now (2026), long after the 2023-01-31 deadline.
    assert!(
        xss[received].starts_with("20") && xss[received].len() == 19,
        "{xss:?}"
    );
    assert_eq!(xss[deadline], "2023-01-31");
    assert_eq!(xss[late], "是");
    assert!(xss[days].parse::<i64>().is_ok_and(|n| n > 365), "{xss:?}");
    assert_eq!(xss[reviewed], "否");
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn the_season_at_a_glance_is_drawn_without_script_and_printed_as_a_summary() {
    let (mut d, port) = season(&[]);
    let mut c = logged_in(port);
    let r = c.get("/");
    let csp = r
        .header("content-security-policy")
        .expect("CSP")
        .to_string();
    assert!(csp.contains("script-src 'none'"), "{csp}");
    let page = r.text();
    for id in ["season-bar", "season-days", "season-top"] {
        assert!(page.contains(&format!("<svg id=\"{id}\"")), "{id}\n{page}");
    }
    assert!(!page.contains("<script"), "{page}");
    let bar = page
        .split("id=\"season-bar\"")
        .nth(1)
        .and_then(|t| t.split("</svg>").next())
        .expect("bar");
    assert!(
        bar.contains("已受理 1") && bar.contains("已收到未受理 2"),
        "{bar}"
    );
    let top = page
        .split("id=\"season-top\"")
        .nth(1)
        .and_then(|t| t.split("</svg>").next())
        .expect("top");
    assert!(top.contains("1 个单位"), "西塞山's hints: {top}");
    let days = page
        .split("id=\"season-days\"")
        .nth(1)
        .and_then(|t| t.split("</svg>").next())
        .expect("days");
    assert!(
        days.contains("部门截止 01-31") && days.contains("政府截止 03-31"),
        "{days}"
    );

    let summary = c.get("/summary/2022");
    assert_eq!(summary.code, 200);
    let summary = summary.text();
    assert!(
        summary.contains("id=\"summary-counts\"") && summary.contains("<svg id=\"season-top\""),
        "{summary}"
    );
    let out = d.dir.path().join("summary.xlsx");
    let (code, _, err) = d.cli(&[
        "summary",
        "--year",
        "2022",
        "--format",
        "xlsx",
        "-o",
        out.to_str().expect("path"),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        std::fs::read(&out).expect("xlsx").starts_with(b"PK"),
        "a zip (xlsx)"
    );
    let (code, html, err) = d.cli(&["summary", "--year", "2022", "--format", "html"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        html.contains("<svg id=\"season-bar\"") && !html.contains("<script"),
        "{html}"
    );
    assert_eq!(d.stop(), Some(0));
}
