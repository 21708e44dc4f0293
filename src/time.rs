//! Time: "now" as stored (RFC 3339, UTC) and the calendar the office lives in.
//!
//! Years, receipt numbers, filing deadlines and the digest follow China Standard Time
//! (Asia/Shanghai): at 07:30 on 1 January in Beijing it is still 31 December in UTC, and a
//! report for the year just ended must not be told that its year has not ended. The zone
//! comes from `jiff` with its time-zone data compiled in, so the daemon does not depend on
//! the host's (or a sandbox's) `/usr/share/zoneinfo`.
//!
//! The clock itself (the test clock, the zone, the current year) is the checker's
//! (`nianbao_check::clock`), which needs it for the filing year: one clock for both.

use jiff::Timestamp;

pub use nianbao_check::clock::{TEST_CLOCK_ENV, ZONE, china, china_now, current_year, now};

/// Seconds since 1970-01-01 UTC.
pub fn now_secs() -> i64 {
    now().as_second()
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time.
pub fn rfc3339(secs: i64) -> String {
    match Timestamp::from_second(secs) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => "1970-01-01T00:00:00Z".to_string(),
    }
}

/// Now, UTC, as `YYYY-MM-DDTHH:MM:SSZ` (how times are stored).
pub fn now_utc() -> String {
    rfc3339(now_secs())
}

/// A stored UTC time (`2026-01-05T02:03:04Z`) on the office's clock (Asia/Shanghai).
pub fn china_time(utc: &str) -> String {
    match utc.parse::<jiff::Timestamp>() {
        Ok(t) => t
            .to_zoned_datetime(china())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        Err(_) => utc.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400 + 3723), "2000-02-29T01:02:03Z");
    }
}
