//! `systemctl reload` (SIGHUP) reaches the console (issue 24, item 2): after a reload the
//! console knows a new agency, and a review decision goes to an agency's new address.
//! The real daemon, its SQLite file, the console over HTTP.

mod harness;

use std::time::{Duration, Instant};

use harness::web::{Client, csrf_of, free_port, receipt_of, user_add};
use harness::{CHECKED, Daemon, fixture};

#[test]
fn reload_reaches_the_console_pages_and_its_review_mail() {
    let port = free_port();
    let mut d = Daemon::with_config("", &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    user_add(&d, "alice", "admin", "alice's long password");
    std::fs::write(
        d.inbox().join("lc/b.txt"),
        fixture("001_41152148c7aabaad.txt"),
    )
    .expect("drop");
    d.start();
    d.wait_count(CHECKED, 1, 60);
    let mut alice = Client::new(port);
    assert_eq!(alice.login("alice", "alice's long password").code, 303);
    assert_eq!(alice.get("/agency/neu").code, 404, "no such agency yet");

    // A new agency, and lc's addresses changed; then `systemctl reload`.
    let config = d.dir.path().join("nianbao.toml");
    let text = std::fs::read_to_string(&config).expect("config").replace(
        "email = [\"a@lc.example.cn\", \"b@lc.example.cn\"]",
        "email = [\"new@lc.example.cn\"]",
    ) + "[[agency]]\nfolder = \"neu\"\nname = \"新设单位\"\nemail = [\"gkb@neu.example.cn\"]\n";
    std::fs::write(&config, text).expect("config");
    d.reload();

    let page = alice.get("/agency/neu");
    assert_eq!(page.code, 200, "{}", page.text());
    assert!(page.text().contains("新设单位"), "{}", page.text());
    let overview = alice.get("/").text();
    assert!(overview.contains("新设单位"), "{overview}");

    // A decision on lc's report goes to lc's address as it is now.
    let receipt = receipt_of(&d, "lc");
    let csrf = csrf_of(&alice.get(&format!("/submission/{receipt}")).text());
    let r = alice.post(
        &format!("/submission/{receipt}/review"),
        &[
            ("csrf", &csrf),
            ("action", "accept"),
            ("reason", "经电话核实，予以受理"),
        ],
    );
    assert_eq!(r.code, 303, "{}", r.text());
    let to = |who: &str| {
        d.count(&format!(
            "SELECT count(*) FROM outbox WHERE kind = 'review' AND recipient = '{who}'"
        ))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while to("new@lc.example.cn") == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(to("new@lc.example.cn"), 1, "{}", d.log());
    assert_eq!(to("a@lc.example.cn") + to("b@lc.example.cn"), 0);
    assert_eq!(d.stop(), Some(0));
}
