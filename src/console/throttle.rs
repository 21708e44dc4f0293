//! The login throttle. Wrong passwords are counted per (user name, client): after
//! [`FREE_FAILURES`] in a row, that client waits before it may try that name again (30 s,
//! doubling, at most 15 min: 429 with `Retry-After`). Nobody else is locked out: another
//! client (the real admin) logs in as usual. Failures for one name from every client, or
//! from one client for every name, only slow each further try of that name or from that
//! client down by [`SLOW_DOWN`] (a global slow-down, never a lockout).
//!
//! A try is reserved before its password is checked (`begin`) and counted when the check
//! ends (`end`): parallel tries see each other, so a burst of simultaneous wrong logins
//! from one client gets exactly [`FREE_FAILURES`] password checks, not one per request.
//!
//! The client is the peer address, or behind a proxy listed in `[http] trusted_proxies`,
//! the last address of `X-Forwarded-For` that is not such a proxy.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong passwords in a row before tries are slowed down.
pub const FREE_FAILURES: u32 = 5;

/// The wait added to each try for a name with [`FREE_FAILURES`] or more recent failures
/// from any client.
pub const SLOW_DOWN: Duration = Duration::from_secs(1);

/// Entries kept at most; beyond, those quiet for an hour are forgotten.
const MAX_ENTRIES: usize = 10_000;

/// How long to wait after `failures` wrong passwords in a row.
pub fn delay_after(failures: u32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES).min(5);
    Duration::from_secs((30u64 << doublings).min(15 * 60))
}

#[derive(Default, Clone, Copy)]
struct Entry {
    failures: u32,
    in_flight: u32,
    last: Option<Instant>,
}

#[derive(Default)]
pub struct Throttle {
    inner: Mutex<Inner>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Recent {
    Name(String),
    Client(IpAddr),
}

#[derive(Default)]
struct Inner {
    /// Per (user name, client).
    pairs: HashMap<(String, IpAddr), Entry>,
    /// Per user name (from any client) and per client (for any name): recent failures,
    /// only for the slow-down.
    recent: HashMap<Recent, (u32, Instant)>,
}

/// A try reserved by [`Throttle::begin`]: end it with [`Try::end`]. One dropped without
/// (the client went away during the check) counts as a wrong password.
pub struct Try<'a> {
    throttle: &'a Throttle,
    key: (String, IpAddr),
    /// Wait this long before checking the password (the global slow-down).
    pub slow_down: Duration,
    ended: bool,
}

impl Try<'_> {
    /// Ends the try: `ok` clears the pair's failures, a wrong password counts.
    pub fn end(mut self, ok: bool, now: Instant) {
        self.ended = true;
        self.throttle.end(&self.key, ok, now);
    }
}

impl Drop for Try<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.throttle.end(&self.key, false, Instant::now());
        }
    }
}

impl Throttle {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves a try of `name` from `client` at `now`, or says how many seconds to wait.
    pub fn begin(&self, name: &str, client: IpAddr, now: Instant) -> Result<Try<'_>, u64> {
        let mut inner = self.lock();
        if inner.pairs.len() > MAX_ENTRIES {
            let hour = Duration::from_secs(3600);
            inner.pairs.retain(|_, e| {
                e.in_flight > 0 || e.last.is_none_or(|l| now.duration_since(l) < hour)
            });
            inner
                .recent
                .retain(|_, (_, l)| now.duration_since(*l) < hour);
        }
        let slowed = [Recent::Name(name.to_string()), Recent::Client(client)]
            .iter()
            .filter_map(|k| inner.recent.get(k))
            .any(|(n, last)| *n >= FREE_FAILURES && now.duration_since(*last) < delay_after(*n));
        let slow_down = if slowed { SLOW_DOWN } else { Duration::ZERO };
        let key = (name.to_string(), client);
        let e = inner.pairs.entry(key.clone()).or_default();
        let free = e.failures + e.in_flight < FREE_FAILURES;
        let waited = e.in_flight == 0 && e.last.is_none_or(|l| now >= l + delay_after(e.failures));
        if free || waited {
            e.in_flight += 1;
            return Ok(Try {
                throttle: self,
                key,
                slow_down,
                ended: false,
            });
        }
        if e.failures < FREE_FAILURES {
            // Other tries of this client are being checked: one of them may succeed.
            return Err(1);
        }
        let until = e
            .last
            .map_or(now, |l| l + delay_after(e.failures.max(FREE_FAILURES)));
        Err((until.saturating_duration_since(now).as_secs_f64().ceil() as u64).max(1))
    }

    fn end(&self, key: &(String, IpAddr), ok: bool, now: Instant) {
        let mut inner = self.lock();
        let recent = [Recent::Name(key.0.clone()), Recent::Client(key.1)];
        if let Some(e) = inner.pairs.get_mut(key) {
            e.in_flight = e.in_flight.saturating_sub(1);
            if ok {
                e.failures = 0;
            } else {
                e.failures = e.failures.saturating_add(1);
                e.last = Some(now);
            }
            if ok && e.in_flight == 0 {
                inner.pairs.remove(key);
            }
        }
        for k in recent {
            if ok {
                inner.recent.remove(&k);
            } else {
                let n = inner.recent.entry(k).or_insert((0, now));
                n.0 = n.0.saturating_add(1);
                n.1 = now;
            }
        }
    }
}

/// The client of a request: `peer`, or behind a trusted proxy the last address of
/// `X-Forwarded-For` that is not a trusted proxy.
pub fn client(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    forwarded_for
        .into_iter()
        .flat_map(|v| v.rsplit(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn five_failures_are_free_then_the_wait_grows() {
        assert_eq!(delay_after(4), Duration::ZERO);
        assert_eq!(delay_after(5), Duration::from_secs(30));
        assert_eq!(delay_after(6), Duration::from_secs(60));
        assert_eq!(delay_after(100), Duration::from_secs(15 * 60));
        let t = Throttle::default();
        let now = Instant::now();
        let (a, b) = (ip("10.0.0.1"), ip("10.0.0.2"));
        for _ in 0..5 {
            let x = t.begin("admin", a, now).expect("free");
            assert_eq!(x.slow_down, Duration::ZERO);
            x.end(false, now);
        }
        assert_eq!(t.begin("admin", a, now).err(), Some(30));
        assert_eq!(
            t.begin("admin", a, now + Duration::from_secs(10)).err(),
            Some(20)
        );
        // The same client for another name is slowed down, not locked out.
        let spray = t.begin("alice", a, now).expect("another name");
        assert_eq!(spray.slow_down, SLOW_DOWN);
        spray.end(false, now);
        // Another client is not locked out, only slowed down.
        let other = t.begin("admin", b, now).expect("another client");
        assert_eq!(other.slow_down, SLOW_DOWN);
        other.end(true, now);
        // After the wait, one more try.
        let later = now + Duration::from_secs(31);
        let x = t.begin("admin", a, later).expect("after the wait");
        assert!(t.begin("admin", a, later).is_err(), "one at a time");
        x.end(false, later);
        assert_eq!(t.begin("admin", a, later).err(), Some(60));
    }

    #[test]
    fn parallel_tries_are_reserved() {
        let t = Throttle::default();
        let now = Instant::now();
        let a = ip("127.0.0.1");
        let held: Vec<Try<'_>> = (0..FREE_FAILURES)
            .map(|_| t.begin("x", a, now).expect("free"))
            .collect();
        assert!(
            t.begin("x", a, now).is_err(),
            "the sixth waits for the five"
        );
        for h in held {
            h.end(false, now);
        }
        assert!(t.begin("x", a, now).is_err());
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let proxy = ip("127.0.0.1");
        let xff = Some("1.2.3.4, 10.0.0.9");
        assert_eq!(client(proxy, xff, &[proxy]), ip("10.0.0.9"));
        assert_eq!(client(proxy, xff, &[proxy, ip("10.0.0.9")]), ip("1.2.3.4"));
        assert_eq!(client(ip("10.0.0.5"), xff, &[proxy]), ip("10.0.0.5"));
        assert_eq!(client(proxy, None, &[proxy]), proxy);
        assert_eq!(client(proxy, Some("junk"), &[proxy]), proxy);
    }
}
