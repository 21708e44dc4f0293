//! The office's calendar: now (a test clock in debug builds) in China Standard Time, and the
//! year reports are filed in.
//!
//! Years and filing deadlines follow China Standard Time (Asia/Shanghai): at 07:30 on
//! 1 January in Beijing it is still 31 December in UTC, and a report for the year just ended
//! must not be told that its year has not ended. The zone comes from `jiff` with its
//! time-zone data compiled in, so nothing depends on the host's (or a sandbox's)
//! `/usr/share/zoneinfo`. The daemon's `time` module builds its stored times on this clock.

use std::sync::OnceLock;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

/// The time zone of the office's calendar.
pub const ZONE: &str = "Asia/Shanghai";

/// Debug builds only: the daemon's clock starts at this RFC 3339 instant (and runs on from
/// there), so that tests can drop a file at 07:30 on 1 January in Beijing. Release builds
/// ignore it: a stray variable in a service's environment cannot move its calendar.
pub const TEST_CLOCK_ENV: &str = "NIANBAO_TEST_NOW";

/// The offset of the test clock from the real one, in seconds (0 without one).
fn test_offset_secs() -> i64 {
    static OFFSET: OnceLock<i64> = OnceLock::new();
    *OFFSET.get_or_init(|| {
        if !cfg!(debug_assertions) {
            return 0;
        }
        let Some(text) = std::env::var_os(TEST_CLOCK_ENV) else {
            return 0;
        };
        match text.to_string_lossy().parse::<Timestamp>() {
            Ok(at) => at.as_second() - Timestamp::now().as_second(),
            Err(e) => {
                eprintln!("nianbao: {TEST_CLOCK_ENV}: not an RFC 3339 time ({e}); ignored");
                0
            }
        }
    })
}

/// Now (the test clock in debug builds when set).
pub fn now() -> Timestamp {
    let real = Timestamp::now();
    match test_offset_secs() {
        0 => real,
        offset => real
            .checked_add(jiff::SignedDuration::from_secs(offset))
            .unwrap_or(real),
    }
}

/// The office's time zone. The data is bundled, so the lookup does not fail in practice;
/// if it ever did, China has had no daylight saving since 1991, so UTC+8 is the same zone.
pub fn china() -> TimeZone {
    static TZ: OnceLock<TimeZone> = OnceLock::new();
    TZ.get_or_init(|| {
        TimeZone::get(ZONE).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "no {ZONE} time-zone data; using UTC+8");
            TimeZone::fixed(jiff::tz::offset(8))
        })
    })
    .clone()
}

/// Now on the office's calendar.
pub fn china_now() -> ZonedDateTime {
    now().to_zoned_datetime(china())
}

/// The current calendar year in China: the year reports are filed in, and the year of
/// receipt numbers.
pub fn current_year() -> i32 {
    i32::from(china_now().year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_new_year_comes_eight_hours_before_utc() {
        // 2025-12-31T23:30:00Z is 07:30 on 1 January 2026 in Beijing.
        let t: Timestamp = "2025-12-31T23:30:00Z".parse().unwrap();
        let z = t.to_zoned_datetime(china());
        assert_eq!((z.year(), z.month(), z.day(), z.hour()), (2026, 1, 1, 7));
        let before: Timestamp = "2025-12-31T15:59:59Z".parse().unwrap();
        assert_eq!(before.to_zoned_datetime(china()).year(), 2025);
    }
}
