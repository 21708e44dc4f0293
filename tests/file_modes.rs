//! Issue 23, item 12: the database (with its WAL and shared-memory files) and the `.eml`
//! spool are created without world access and without group write, whatever the umask of
//! the one who runs the daemon (here: umask 000, the worst case). Its own test binary: the
//! umask is the whole process's.

mod harness;

use std::os::unix::fs::PermissionsExt as _;

use harness::{CHECKED, Daemon, distinct_report};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn database_and_spool_files_are_private_whatever_the_umask() {
    // SAFETY: umask has no preconditions; this binary has no other test.
    unsafe { libc::umask(0) };
    let mut d = Daemon::new();
    std::fs::write(d.inbox().join("xss/年报.txt"), distinct_report(1)).expect("w");
    d.start();
    d.wait_count(CHECKED, 1, 30);
    d.wait_count("SELECT count(*) FROM outbox WHERE state = 'pending'", 0, 30);
    let data = d.dir.path().join("data");
    let mut files = vec![
        data.join("nianbao.sqlite"),
        data.join("nianbao.sqlite-wal"),
        data.join("nianbao.sqlite-shm"),
    ];
    let emls = d.eml_files();
    assert!(!emls.is_empty(), "no .eml written\n{}", d.log());
    files.extend(emls);
    for f in &files {
        let m = mode(f);
        assert_eq!(m & 0o037, 0, "{} is {m:o}", f.display());
    }
    assert_eq!(d.stop(), Some(0));
}
