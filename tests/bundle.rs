//! Several offices, one picture (issue 28, part 2): a district's nianbao writes its season
//! as a signed bundle, the city's nianbao merges it into the district's region. Counts,
//! verdicts, findings and who reviewed what are the same on both sides; a second import
//! changes nothing; a bundle changed on the way, or signed with another key, is refused
//! and changes nothing either.

mod harness;

use harness::web::{Client, csrf_of, free_port, receipt_of, user_add};
use harness::{CHECKED, Daemon, csv_fields, distinct_report, fixture};
use rusqlite::Connection;

const KEY: &str = "0123456789abcdef0123456789abcdef-shared-by-both-offices";
const OFFICE: &str = "西塞山区政务公开办";

/// Every row that an import may touch, in a fixed order (what "changes nothing" compares).
fn dump(db: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT receipt, agency_folder, agency_name, state, verdict, errors, warnings,
                superseded_by, duplicate_of, origin, origin_receipt, year, sha256
         FROM submissions ORDER BY id",
        "SELECT submission_id, tbl, cells FROM cell_tables ORDER BY submission_id, tbl",
        "SELECT submission_id, findings FROM finding_lists ORDER BY submission_id",
        "SELECT submission_id, action, verdict, finding_seq, reason, reviewer, decided_at
         FROM reviews ORDER BY id",
        "SELECT folder, region, origin FROM agency_regions ORDER BY folder",
    ] {
        let mut stmt = db.prepare(sql).expect("prepare");
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let mut line = Vec::new();
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    line.push(format!("{v:?}"));
                }
                Ok(line.join("|"))
            })
            .expect("query")
            .collect::<Result<Vec<_>, _>>()
            .expect("rows");
        out.extend(rows);
    }
    out
}

/// Per submission, by its receipt at the district: (folder, verdict, superseded by,
/// errors, warnings, findings JSON, reviews (who, what, why, when)).
type Facts = Vec<(String, String)>;

fn facts(db: &Connection, imported: bool) -> Facts {
    let sql = format!(
        "SELECT {receipt}, s.verdict, (SELECT {receipt_n} FROM submissions n
                WHERE n.id = s.superseded_by),
                s.errors, s.warnings, s.state,
                (SELECT findings FROM finding_lists f WHERE f.submission_id = s.id),
                (SELECT group_concat(cells, ';') FROM cell_tables c WHERE c.submission_id = s.id),
                (SELECT group_concat(reviewer || '/' || action || '/' || reason || '/' ||
                        decided_at, ';') FROM reviews r WHERE r.submission_id = s.id)
         FROM submissions s WHERE s.year = 2022 {filter} ORDER BY 1",
        receipt = if imported {
            "s.origin_receipt"
        } else {
            "s.receipt"
        },
        receipt_n = if imported {
            "n.origin_receipt"
        } else {
            "n.receipt"
        },
        filter = if imported {
            "AND s.origin IS NOT NULL"
        } else {
            ""
        },
    );
    let mut stmt = db.prepare(&sql).expect("prepare");
    stmt.query_map([], |r| {
        let receipt: String = r.get(0)?;
        let mut rest = Vec::new();
        for i in 1..9 {
            let v: rusqlite::types::Value = r.get(i)?;
            rest.push(format!("{v:?}"));
        }
        Ok((receipt, rest.join("|")))
    })
    .expect("query")
    .collect::<Result<Vec<_>, _>>()
    .expect("rows")
}

/// The export's lines by agency name: (verdict, values).
fn export_lines(csv: &str, verdict_at: usize) -> Vec<(String, String, Vec<String>)> {
    let mut lines: Vec<(String, String, Vec<String>)> = csv
        .trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .map(csv_fields)
        .filter(|f| !f[0].starts_with("合计") && !f[0].contains("小计"))
        .map(|f| {
            (
                f[verdict_at - 3].clone(),
                f[verdict_at].clone(),
                f[verdict_at + 8..].to_vec(),
            )
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn a_district_bundle_reaches_the_city_once_and_unchanged() {
    // The district: two agencies, xss in two versions (the second supersedes the first),
    // lc returned by the checker and then accepted by its officer with a reason.
    let port = free_port();
    let mut district = Daemon::new();
    let key = district.dir.path().join("bundle.key");
    std::fs::write(&key, format!("{KEY}\n")).expect("key");
    Daemon::config(
        district.dir.path(),
        "",
        &format!(
            "[bundle]\noffice = \"{OFFICE}\"\nkey_file = {key:?}\n\
             [http]\nlisten = \"127.0.0.1:{port}\"\n"
        ),
    );
    user_add(&district, "gkb", "admin", "district-officer-pass");
    for (path, bytes) in [
        ("xss/a.txt", fixture("000_d016082c1b868431.txt")),
        ("lc/b.txt", fixture("001_41152148c7aabaad.txt")),
    ] {
        std::fs::write(district.inbox().join(path), bytes).expect("drop");
    }
    district.start();
    district.wait_count(CHECKED, 2, 60);
    std::fs::write(district.inbox().join("xss/a2.txt"), distinct_report(3)).expect("drop");
    district.wait_count(CHECKED, 3, 60);
    district.wait_count(
        "SELECT count(*) FROM submissions WHERE superseded_by IS NOT NULL",
        1,
        60,
    );
    let lc = receipt_of(&district, "lc");
    let mut officer = Client::new(port);
    assert_eq!(officer.login("gkb", "district-officer-pass").code, 303);
    let csrf = csrf_of(&officer.get(&format!("/submission/{lc}")).text());
    let r = officer.post(
        &format!("/submission/{lc}/review"),
        &[
            ("csrf", &csrf),
            ("action", "accept"),
            ("reason", "表格经电话核实无误"),
        ],
    );
    assert_eq!(r.code, 303, "{}", r.text());
    district.stop();
    let bundle = district.dir.path().join("2022.nbbundle");
    let (code, _, err) = district.cli(&[
        "export",
        "--bundle",
        "--year",
        "2022",
        "-o",
        bundle.to_str().expect("path"),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("3 submissions"), "{err}");

    // The city: 西塞山区 is one of its regions; same key.
    let city = Daemon::new();
    let city_key = city.dir.path().join("bundle.key");
    std::fs::write(&city_key, KEY).expect("key");
    Daemon::config(
        city.dir.path(),
        "",
        &format!(
            "[bundle]\noffice = \"黄石市政务公开办\"\nkey_file = {city_key:?}\n\
             [[region]]\nname = \"黄石市\"\n\
             [[region]]\nname = \"西塞山区\"\nparent = \"黄石市\"\n"
        ),
    );
    let import = |file: &std::path::Path| {
        city.cli(&[
            "import",
            "--bundle",
            file.to_str().expect("path"),
            "--region",
            "西塞山区",
        ])
    };
    let (code, out, err) = import(&bundle);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("新增 3 份提交"), "{out}");
    let district_db = district.db().expect("district db");
    let city_db = city.db().expect("city db");
    // The same submissions, verdicts, findings, cells, versions and reviews.
    let there = facts(&district_db, false);
    assert_eq!(there.len(), 3);
    assert_eq!(facts(&city_db, true), there);
    assert!(
        there
            .iter()
            .any(|(r, f)| *r == lc && f.contains("gkb/accept/表格经电话核实无误")),
        "{there:?}"
    );
    // And the figures: the district's export equals the city's for the district.
    let (_, district_csv, _) = district.cli(&["export", "--year", "2022"]);
    let (code, city_csv, err) = city.cli(&["export", "--year", "2022", "--region", "西塞山区"]);
    assert_eq!(code, Some(0), "{err}");
    let district_lines = export_lines(&district_csv, 3);
    assert_eq!(district_lines.len(), 2);
    assert_eq!(export_lines(&city_csv, 4), district_lines);
    assert!(
        district_lines.iter().all(|(_, v, _)| v == "已受理"),
        "lc accepted by review: {district_lines:?}"
    );
    // The imported agencies are in the district's region.
    let regions: Vec<String> = city_db
        .prepare("SELECT region FROM agency_regions")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert!(!regions.is_empty() && regions.iter().all(|r| r == "西塞山区"));

    // A second import changes nothing.
    let before = dump(&city_db);
    let (code, out, err) = import(&bundle);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("没有变化") && out.contains("新增 0 份提交"),
        "{out}"
    );
    assert_eq!(dump(&city_db), before);

    // A bundle changed on the way is refused, and nothing changes.
    let bytes = std::fs::read(&bundle).expect("bundle");
    let text = String::from_utf8(bytes).expect("utf-8");
    let tampered_path = city.dir.path().join("tampered.nbbundle");
    std::fs::write(
        &tampered_path,
        text.replacen("\"rejected\"", "\"accepted\"", 1)
            .replacen("\"errors\":", "\"errors\": ", 1),
    )
    .expect("write");
    let (code, out, err) = import(&tampered_path);
    assert_eq!(code, Some(1), "{out}");
    assert!(err.contains("签名不符"), "{err}");
    assert!(err.contains("key_file"), "says what to check: {err}");
    assert_eq!(dump(&city_db), before);
    // So is one signed with another key.
    let other_key = city.dir.path().join("other.key");
    std::fs::write(&other_key, "another-key-of-at-least-32-bytes-xxxxxxxx").expect("key");
    let (code, _, err) = city.cli(&[
        "import",
        "--bundle",
        bundle.to_str().expect("path"),
        "--region",
        "西塞山区",
        "--key-file",
        other_key.to_str().expect("path"),
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("签名不符"), "{err}");
    // And a region the city does not have.
    let (code, _, err) = city.cli(&[
        "import",
        "--bundle",
        bundle.to_str().expect("path"),
        "--region",
        "老城区",
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("老城区"), "{err}");
    assert_eq!(dump(&city_db), before);
}

#[test]
fn the_city_does_not_act_on_an_imported_submission() {
    let mut district = Daemon::new();
    let key = district.dir.path().join("bundle.key");
    std::fs::write(&key, KEY).expect("key");
    Daemon::config(
        district.dir.path(),
        "",
        &format!("[bundle]\noffice = \"{OFFICE}\"\nkey_file = {key:?}\n"),
    );
    std::fs::write(
        district.inbox().join("lc/b.txt"),
        fixture("001_41152148c7aabaad.txt"),
    )
    .expect("drop");
    district.start();
    district.wait_count(CHECKED, 1, 60);
    district.stop();
    let bundle = district.dir.path().join("b");
    let (code, _, err) = district.cli(&[
        "export",
        "--bundle",
        "--year",
        "2022",
        "-o",
        bundle.to_str().expect("path"),
    ]);
    assert_eq!(code, Some(0), "{err}");

    let port = free_port();
    let mut city = Daemon::new();
    Daemon::config(
        city.dir.path(),
        "",
        &format!(
            "[bundle]\nkey_file = {key:?}\n[[region]]\nname = \"西塞山区\"\n\
             [http]\nlisten = \"127.0.0.1:{port}\"\n"
        ),
    );
    user_add(&city, "city", "admin", "city-officer-pass");
    let (code, out, err) = city.cli(&[
        "import",
        "--bundle",
        bundle.to_str().expect("path"),
        "--region",
        "西塞山区",
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    city.start();
    let receipt: String = city
        .db()
        .expect("db")
        .query_row("SELECT receipt FROM submissions", [], |r| r.get(0))
        .expect("imported");
    assert!(receipt.ends_with(&format!("@{OFFICE}")), "{receipt}");
    let mut c = Client::new(port);
    assert_eq!(c.login("city", "city-officer-pass").code, 303);
    let path = format!("/submission/{}", harness::web::enc(&receipt));
    let page = c.get(&path);
    assert_eq!(page.code, 200, "{}", page.text());
    let csrf = csrf_of(&page.text());
    for (action, fields) in [
        ("review", vec![("action", "accept"), ("reason", "市里改判")]),
        ("resend", vec![]),
    ] {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        let r = c.post(&format!("{path}/{action}"), &form);
        assert_eq!(r.code, 409, "{action}: {}", r.text());
        assert!(
            r.text().contains("由西塞山区政务公开办负责"),
            "{}",
            r.text()
        );
    }
    // The original stayed at the district: the download says where it is.
    let original = c.get(&format!("{path}/original"));
    assert_eq!(original.code, 404);
    assert!(
        original.text().contains("原件保存在西塞山区政务公开办"),
        "{}",
        original.text()
    );
    let made_up = c.get(&format!(
        "/submission/{}/original",
        harness::web::enc("NB-2023-999999@某办")
    ));
    assert_eq!(made_up.code, 404);
    assert!(!made_up.text().contains("某办"), "{}", made_up.text());
    assert_eq!(city.count("SELECT count(*) FROM reviews"), 0);
    assert_eq!(
        city.count("SELECT count(*) FROM outbox"),
        0,
        "no mail from the city"
    );
    city.stop();
}
