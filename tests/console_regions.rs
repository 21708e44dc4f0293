//! Regions (issue 28, part 1) on the real daemon: a user limited to a district sees and
//! acts on the district's subtree only. Every console route (`nianbao::console::ROUTES`,
//! the list the router is built from) is tried as that user against another district's
//! submission, agency and region: a route added without a case here fails the test. The
//! overview rolls child regions up with drill-down, the export has a 地区 column and
//! subtotals, and `config check` names every mistake in the tree.

mod harness;

use harness::web::{Client, count, csrf_of, enc, free_port, receipt_of, user_add, user_add_args};
use harness::{CHECKED, Daemon, csv_fields, distinct_report, fixture};

const PASSWORD: &str = "district-pass-2023";

/// `nianbao user add NAME --role ROLE --region REGION`: (success, stdout + stderr).
fn user_add_in(d: &Daemon, name: &str, role: &str, region: &str) -> (bool, String) {
    user_add_args(d, &[name, "--role", role, "--region", region], PASSWORD)
}

/// The city (黄石市) with two districts: 西塞山区 (xss, and 八泉街道 below it with bq) and
/// 老城区 (lc); the city's own 财政局 (czj) has no region. xss and bq accepted, lc
/// rejected, czj accepted. Users: `city` (admin, everything), `xs` (admin of 西塞山区).
fn city() -> (Daemon, u16) {
    let port = free_port();
    let mut d = Daemon::with_config(
        "",
        &format!(
            "[[agency]]\nfolder = \"bq\"\nname = \"八泉街道办事处\"\nregion = \"八泉街道\"\n\
             [[agency]]\nfolder = \"czj\"\nname = \"市财政局\"\n\
             [[region]]\nname = \"黄石市\"\n\
             [[region]]\nname = \"西塞山区\"\nparent = \"黄石市\"\n\
             [[region]]\nname = \"老城区\"\nparent = \"黄石市\"\n\
             [[region]]\nname = \"八泉街道\"\nparent = \"西塞山区\"\n\
             [http]\nlisten = \"127.0.0.1:{port}\"\n"
        ),
    );
    place_harness_agencies(&d);
    for f in ["bq", "czj"] {
        std::fs::create_dir_all(d.inbox().join(f)).expect("folder");
    }
    for (path, bytes) in [
        ("xss/a.txt", fixture("000_d016082c1b868431.txt")),
        ("lc/b.txt", fixture("001_41152148c7aabaad.txt")),
        ("bq/c.txt", distinct_report(1)),
        ("czj/d.txt", distinct_report(2)),
    ] {
        std::fs::write(d.inbox().join(path), bytes).expect("drop");
    }
    user_add(&d, "city", "admin", PASSWORD);
    let (ok, out) = user_add_in(&d, "xs", "admin", "西塞山区");
    assert!(ok, "{out}");
    assert!(out.contains("限于地区 西塞山区"), "{out}");
    d.start();
    d.wait_count(CHECKED, 4, 60);
    d.wait_count("SELECT count(*) FROM outbox WHERE state = 'pending'", 0, 30);
    (d, port)
}

/// The harness's two agencies (xss, lc) put in their districts.
fn place_harness_agencies(d: &Daemon) {
    let path = d.dir.path().join("nianbao.toml");
    let text = std::fs::read_to_string(&path).expect("config");
    let text = text
        .replacen(
            "name = \"西塞山区政数局\"\n",
            "name = \"西塞山区政数局\"\nregion = \"西塞山区\"\n",
            1,
        )
        .replacen(
            "name = \"老城区人民政府办公室\"\n",
            "name = \"老城区人民政府办公室\"\nregion = \"老城区\"\n",
            1,
        );
    std::fs::write(&path, text).expect("config");
}

fn logged_in(port: u16, name: &str) -> Client {
    let mut c = Client::new(port);
    let r = c.login(name, PASSWORD);
    assert_eq!(r.code, 303, "{name}: {}", r.text());
    c
}

/// What must never show to the user of 西塞山区: 老城区's agency, receipt and file.
fn assert_no_other_district(path: &str, body: &str, lc_receipt: &str) {
    for secret in ["老城区人民政府办公室", lc_receipt, "市财政局"] {
        assert!(!body.contains(secret), "{path} shows {secret}:\n{body}");
    }
}

#[test]
fn a_district_user_is_refused_everything_of_another_district_on_every_route() {
    let (mut d, port) = city();
    let lc = receipt_of(&d, "lc");
    let xss = receipt_of(&d, "xss");
    let bq = receipt_of(&d, "bq");
    let czj = receipt_of(&d, "czj");
    let mut xs = logged_in(port, "xs");
    let csrf = csrf_of(&xs.get("/").text());
    let mut tried = 0;
    for &(method, path, reach) in nianbao::console::ROUTES {
        use nianbao::console::Reach;
        match (method, path) {
            ("get", "/submission/{receipt}") | ("get", "/submission/{receipt}/original") => {
                for other in [&lc, &czj] {
                    let p = path.replace("{receipt}", other);
                    let r = xs.get(&p);
                    assert_eq!(r.code, 403, "{p}: {}", r.text());
                    assert!(r.text().contains("不在您负责的地区范围内"), "{p}");
                }
                // The district's own, and the street below it, are open.
                for own in [&xss, &bq] {
                    let p = path.replace("{receipt}", own);
                    assert_eq!(xs.get(&p).code, 200, "{p}");
                }
            }
            ("get", "/submission/{receipt}/page/{page}") => {
                for other in [&lc, &czj] {
                    let p = path.replace("{receipt}", other).replace("{page}", "1");
                    let r = xs.get(&p);
                    assert_eq!(r.code, 403, "{p}: {}", r.text());
                }
                // The district's own report is no scan: no page image, said so.
                let p = path.replace("{receipt}", &xss).replace("{page}", "1");
                let r = xs.get(&p);
                assert_eq!(r.code, 404, "{p}");
                assert!(r.text().contains("不是扫描件"), "{p}: {}", r.text());
            }
            ("post", _) if reach == Reach::Submission => {
                let p = path.replace("{receipt}", &lc);
                let r = xs.post(
                    &p,
                    &[
                        ("csrf", &csrf),
                        ("action", "accept"),
                        ("reason", "越权"),
                        ("folder", "xss"),
                    ],
                );
                assert_eq!(r.code, 403, "{p}: {}", r.text());
            }
            ("get", "/agency/{folder}") => {
                for other in ["lc", "czj"] {
                    let r = xs.get(&format!("/agency/{other}"));
                    assert_eq!(r.code, 403, "/agency/{other}");
                }
                assert_eq!(xs.get("/agency/bq").code, 200);
            }
            ("get", "/") => {
                let page = xs.get("/").text();
                assert_no_other_district("/", &page, &lc);
                assert!(page.contains("西塞山区政数局"), "{page}");
                assert!(page.contains("id=\"user-region\">西塞山区<"), "{page}");
                assert_eq!(count(&page, "count-agencies"), 2, "xss and bq");
                assert_eq!(count(&page, "count-accepted"), 2);
                // Its child region has a row; another district is refused.
                assert!(page.contains("八泉街道"), "{page}");
                assert_eq!(xs.get(&format!("/?region={}", enc("老城区"))).code, 403);
                assert_eq!(xs.get(&format!("/?region={}", enc("黄石市"))).code, 403);
                assert_eq!(xs.get(&format!("/?region={}", enc("无此区"))).code, 403);
                // A search lists the whole subtree (the street's agency too), nothing else.
                let found = xs.get(&format!("/?q={}", enc("办"))).text();
                assert!(found.contains("八泉街道办事处"), "{found}");
                assert_no_other_district("/?q=办", &found, &lc);
                let street = xs.get(&format!("/?region={}", enc("八泉街道"))).text();
                assert!(street.contains("八泉街道办事处"), "{street}");
                assert!(!street.contains("西塞山区政数局"), "{street}");
            }
            ("get", "/export/{file}") => {
                for f in ["2022.csv", "2022.json", "2022.xlsx"] {
                    let r = xs.get(&format!("/export/{f}"));
                    assert_eq!(r.code, 200, "{f}");
                    if !f.ends_with("xlsx") {
                        assert_no_other_district(f, &r.text(), &lc);
                        assert!(r.text().contains("西塞山区政数局"), "{f}");
                    }
                    let other = format!("/export/{f}?region={}", enc("老城区"));
                    assert_eq!(xs.get(&other).code, 403, "{other}");
                }
            }
            ("get", "/review") | ("get", "/mail") | ("get", "/summary/{year}") => {
                let p = path.replace("{year}", "2022");
                let r = xs.get(&p);
                assert_eq!(r.code, 200, "{p}");
                assert_no_other_district(&p, &r.text(), &lc);
            }
            _ if reach == Reach::Public => {}
            other => panic!(
                "route {other:?} ({reach:?}) has no case in this test: say how a user of \
                 another region is kept out of it"
            ),
        }
        tried += 1;
    }
    assert_eq!(tried, nianbao::console::ROUTES.len());
    // Within the district the same user acts: the resend of xss's answer is done.
    let r = xs.post(&format!("/submission/{xss}/resend"), &[("csrf", &csrf)]);
    assert_eq!(r.code, 303, "{}", r.text());
    // The city sees everything, the districts as rows rolled up, and drills down.
    let mut city = logged_in(port, "city");
    let top = city.get("/").text();
    assert!(top.contains("市财政局"), "the city's own agency: {top}");
    assert!(top.contains("黄石市"), "{top}");
    let huangshi = city.get(&format!("/?region={}", enc("黄石市"))).text();
    let row = |page: &str, region: &str| -> Vec<String> {
        let at = page
            .find(&format!(">{region}</a></td>"))
            .unwrap_or_else(|| panic!("no row {region} in {page}"));
        page[at..]
            .split("</tr>")
            .next()
            .unwrap_or("")
            .split("<td class=\"num")
            .skip(1)
            .map(|c| {
                c.split('>')
                    .nth(1)
                    .unwrap_or("")
                    .split('<')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    };
    // 单位数, 已受理, 需修改, 未提交, 其中逾期.
    assert_eq!(row(&huangshi, "西塞山区"), ["2", "2", "0", "0", "0"]);
    assert_eq!(row(&huangshi, "老城区"), ["1", "0", "1", "0", "0"]);
    assert_eq!(city.get(&format!("/submission/{lc}")).code, 200);
    d.stop();
}

#[test]
fn the_export_has_a_region_column_and_subtotals() {
    let (mut d, _) = city();
    d.stop();
    let (code, csv, err) = d.cli(&["export", "--year", "2022"]);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(csv_fields(lines[0])[0], "地区");
    let xss = lines
        .iter()
        .find(|l| l.contains("西塞山区政数局"))
        .expect("xss line");
    assert_eq!(csv_fields(xss)[0], "西塞山区");
    let sub = |name: &str| -> Vec<String> {
        csv_fields(
            lines
                .iter()
                .find(|l| l.contains(&format!("小计：{name}")))
                .unwrap_or_else(|| panic!("no subtotal {name}:\n{csv}")),
        )
    };
    assert!(
        sub("黄石市")[0].contains("3 个单位，2 份已受理报告"),
        "{csv}"
    );
    assert!(
        sub("西塞山区")[0].contains("2 个单位，2 份已受理报告"),
        "{csv}"
    );
    assert!(
        sub("老城区")[0].contains("1 个单位，0 份已受理报告"),
        "{csv}"
    );
    let total = csv_fields(lines.last().expect("total"));
    assert!(total[0].contains("3 份已受理报告"), "{total:?}");
    // A value column: the district's subtotal is the sum of its two accepted lines.
    let first_value = 12;
    let value = |line: &[String]| line[first_value].parse::<f64>().unwrap_or(0.0);
    let bq = csv_fields(
        lines
            .iter()
            .find(|l| l.contains("八泉街道办事处"))
            .expect("bq"),
    );
    assert_eq!(
        value(&sub("西塞山区")),
        value(&csv_fields(xss)) + value(&bq)
    );
    // One district only.
    let (code, csv, err) = d.cli(&["export", "--year", "2022", "--region", "老城区"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(csv.contains("老城区人民政府办公室") && !csv.contains("西塞山区政数局"));
    let (code, _, err) = d.cli(&["export", "--year", "2022", "--region", "无此区"]);
    assert_ne!(code, Some(0));
    assert!(err.contains("无此区"), "{err}");
}

#[test]
fn config_check_names_every_mistake_in_the_tree() {
    let d = Daemon::with_config(
        "",
        "[[agency]]\nfolder = \"bq\"\nname = \"八泉街道办事处\"\nregion = \"八泉\"\n\
         [[region]]\nname = \"黄石市\"\n\
         [[region]]\nname = \"西塞山区\"\nparent = \"黄石\"\n\
         [[region]]\nname = \"甲\"\nparent = \"乙\"\n\
         [[region]]\nname = \"乙\"\nparent = \"甲\"\n",
    );
    let (code, out, err) = d.cli(&["config", "check"]);
    assert_ne!(code, Some(0), "{out}");
    assert!(err.contains("parent = \"黄石\" 不是已配置的地区"), "{err}");
    assert!(err.contains("成环：甲 → 乙 → 甲"), "{err}");
    assert!(err.contains("region = \"八泉\" 不是已配置的地区"), "{err}");
    // A good tree is said in the summary line.
    let (mut d_ok, _) = city();
    d_ok.stop();
    let (code, out, err) = d_ok.cli(&["config", "check"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("4 agencies in 4 regions (1 without a region)"),
        "{out}"
    );
    // A user's region that the configuration does not have.
    let d = Daemon::with_config("", "[[region]]\nname = \"黄石市\"\n");
    let (ok, out) = user_add_in(&d, "wang", "viewer", "黄石");
    assert!(!ok, "an unknown region is refused at once");
    assert!(out.contains("没有这个地区"), "{out}");
    let (ok, out) = user_add_in(&d, "wang", "viewer", "黄石市");
    assert!(ok, "{out}");
    let (_, list, _) = d.cli(&["user", "list"]);
    assert!(list.contains("wang\tviewer\t黄石市"), "{list}");
    std::fs::write(
        d.dir.path().join("nianbao.toml"),
        std::fs::read_to_string(d.dir.path().join("nianbao.toml"))
            .expect("config")
            .replace("name = \"黄石市\"", "name = \"黄石\""),
    )
    .expect("rename the region");
    let (code, _, err) = d.cli(&["config", "check"]);
    assert_ne!(code, Some(0));
    assert!(
        err.contains("用户 wang 限定在地区 \"黄石市\"") && err.contains("没有这个地区"),
        "{err}"
    );
}

#[test]
fn without_regions_nothing_changes() {
    let port = free_port();
    let mut d = Daemon::with_config("", &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    std::fs::write(
        d.inbox().join("xss/a.txt"),
        fixture("000_d016082c1b868431.txt"),
    )
    .expect("drop");
    d.start();
    d.wait_count(CHECKED, 1, 60);
    let mut c = Client::new(port);
    let page = c.get("/").text();
    assert!(!page.contains("region-trail"), "no tree shown: {page}");
    assert!(!page.contains("下级地区"));
    d.stop();
    let (code, csv, _) = d.cli(&["export", "--year", "2022"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        csv_fields(
            csv.trim_start_matches('\u{feff}')
                .lines()
                .next()
                .expect("header")
        )[0],
        "单位"
    );
    assert!(!csv.contains("小计"));
    let (_, json, _) = d.cli(&["export", "--year", "2022", "--format", "json"]);
    assert!(
        !json.contains("\"region\"") && !json.contains("subtotals"),
        "{json}"
    );
}

#[test]
fn a_user_whose_region_is_gone_sees_nothing_rather_than_everything() {
    let (mut d, port) = city();
    let mut xs = logged_in(port, "xs");
    assert!(xs.get("/").text().contains("西塞山区政数局"));
    // The tree is taken out of the configuration and reloaded: the user's region is gone.
    let path = d.dir.path().join("nianbao.toml");
    let text = std::fs::read_to_string(&path).expect("config");
    let without: String = text
        .split("[[region]]")
        .next()
        .expect("before the tree")
        .lines()
        .filter(|l| !l.starts_with("region = "))
        .map(|l| format!("{l}\n"))
        .collect();
    let http = text.split("[http]").nth(1).expect("the [http] table");
    std::fs::write(&path, format!("{without}[http]{http}")).expect("config");
    d.reload();
    let page = xs.get("/");
    assert_eq!(page.code, 200);
    assert_eq!(count(&page.text(), "count-agencies"), 0, "{}", page.text());
    for path in ["/", "/export/2022.csv", "/summary/2022", "/mail", "/review"] {
        let body = xs.get(path).text();
        for name in [
            "西塞山区政数局",
            "老城区人民政府办公室",
            "市财政局",
            "八泉街道办事处",
        ] {
            assert!(!body.contains(name), "{path} shows {name}");
        }
    }
    let lc = receipt_of(&d, "lc");
    assert_eq!(xs.get(&format!("/submission/{lc}")).code, 403);
    // The city's user, limited to nothing, sees everything as before the tree.
    let mut city = logged_in(port, "city");
    assert_eq!(count(&city.get("/").text(), "count-agencies"), 4);
    d.stop();
}

#[test]
fn every_console_route_is_declared_in_routes() {
    // The router is built from the same list as `ROUTES` (the `console_routes!` macro);
    // a route added beside it, with `.route(` of its own, would escape the test above.
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/console/mod.rs"))
            .expect("src/console/mod.rs");
    assert_eq!(
        source.matches(".route(").count(),
        1,
        "add console routes to console_routes![…] only (with their Reach), so that \
         tests/console_regions.rs tries them"
    );
    assert!(source.contains("router $(.route($path, $method($handler)))*"));
    assert!(nianbao::console::ROUTES.len() >= 15);
}

#[test]
fn a_new_region_for_a_user_ends_their_sessions() {
    let (mut d, port) = city();
    let mut xs = logged_in(port, "xs");
    assert_eq!(xs.get("/agency/xss").code, 200);
    let (ok, out) = user_add_in(&d, "xs", "admin", "老城区");
    assert!(ok, "{out}");
    let r = xs.get("/agency/xss");
    assert_eq!(r.code, 303, "the old session ended: {}", r.text());
    assert_eq!(r.header("location"), Some("/login"));
    let mut again = logged_in(port, "xs");
    assert_eq!(again.get("/agency/xss").code, 403);
    assert_eq!(again.get("/agency/lc").code, 200);
    d.stop();
}
