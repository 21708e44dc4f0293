//! Issue 23, item 9: a password or role change ends that user's sessions, on the real
//! daemon with `nianbao user add` run as a separate process.

mod harness;

use harness::Daemon;
use harness::web::{Client, free_port, user_add};

#[test]
fn a_password_or_role_change_ends_the_users_sessions() {
    let port = free_port();
    let mut d = Daemon::with_config("", &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    user_add(&d, "alice", "admin", "correct horse battery");
    user_add(&d, "bob", "admin", "bob's long password");
    d.start();

    let mut alice = Client::new(port);
    assert_eq!(alice.login("alice", "correct horse battery").code, 303);
    let mut bob = Client::new(port);
    assert_eq!(bob.login("bob", "bob's long password").code, 303);
    assert_eq!(alice.get("/").code, 200);
    assert_eq!(bob.get("/").code, 200);

    // A new password for alice (same role): her session ends, bob's does not.
    user_add(&d, "alice", "admin", "a brand new password");
    let r = alice.get("/");
    assert_eq!(r.code, 303, "old session still valid: {}", r.text());
    assert_eq!(r.header("location"), Some("/login"));
    assert_eq!(bob.get("/").code, 200, "another user's session stays");
    assert_eq!(alice.login("alice", "correct horse battery").code, 401);
    assert_eq!(alice.login("alice", "a brand new password").code, 303);
    assert_eq!(alice.get("/").code, 200);

    // A role change for bob (same password): his session ends too.
    user_add(&d, "bob", "viewer", "bob's long password");
    let r = bob.get("/");
    assert_eq!(
        r.code,
        303,
        "session kept across a role change: {}",
        r.text()
    );
    assert_eq!(alice.get("/").code, 200);
    assert_eq!(bob.login("bob", "bob's long password").code, 303);
    assert!(bob.get("/").text().contains("只读"));
    assert_eq!(d.stop(), Some(0));
}
