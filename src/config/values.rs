//! Values of the configuration that are written as text (`"08:00"`, `"01-31"`,
//! `"127.0.0.1:9464"`), and lengths of time written as numbers (`settle_ms = 2000`), parsed once, when the file is read: the rest of the daemon holds
//! them typed and never parses them again.
//!
//! A value that does not parse is refused by its key's reader (`deserialize_with`), whose
//! message is the plain words the admin has always read, e.g.
//! `[mail] digest_time = "25:00": use HH:MM, e.g. "08:00"`. The reader gives the part
//! after the key, starting with `= ` ([`VALUE_MESSAGE`]); `config::problems` puts the key
//! (and the line) in front of it.

use std::fmt;
use std::time::Duration;

use jiff::civil::{Date, Time};
use serde::{Deserialize, Deserializer};

/// How a value's own message begins (the key is put in front of it, see the module's doc).
pub const VALUE_MESSAGE: &str = "= ";

/// A time of day on the office's clock (China time), written `"HH:MM"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay(Time);

impl TimeOfDay {
    /// `"09:00"`.
    pub const NINE: TimeOfDay = TimeOfDay(Time::constant(9, 0, 0, 0));

    /// `hour` 0–23, `minute` 0–59.
    pub fn new(hour: i8, minute: i8) -> Option<TimeOfDay> {
        Time::new(hour, minute, 0, 0).ok().map(TimeOfDay)
    }

    /// `"08:00"` (or `"8:0"`): hours under 24, minutes under 60.
    pub fn parse(s: &str) -> Option<TimeOfDay> {
        let (h, m) = s.split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        if h >= 24 || m >= 60 {
            return None;
        }
        TimeOfDay::new(i8::try_from(h).ok()?, i8::try_from(m).ok()?)
    }

    pub fn time(self) -> Time {
        self.0
    }

    /// Whether this time has come on the day of `now` (to the minute).
    pub fn has_come(self, now: &jiff::ZonedDateTime) -> bool {
        now.time() >= self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

/// A day of the year, written `"MM-DD"`: any day of the month in a leap year (`"02-29"`
/// too; see [`MonthDay::in_year`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MonthDay {
    month: i8,
    day: i8,
}

impl MonthDay {
    /// `"01-31"`: government departments' deadline.
    pub const JANUARY_31: MonthDay = MonthDay { month: 1, day: 31 };
    /// `"03-31"`: people's governments' deadline.
    pub const MARCH_31: MonthDay = MonthDay { month: 3, day: 31 };

    /// `month` 1–12 and a day it has in a leap year.
    pub fn new(month: i8, day: i8) -> Option<MonthDay> {
        // 2000 is a leap year: 02-29 is a valid day.
        Date::new(2000, month, day)
            .ok()
            .map(|_| MonthDay { month, day })
    }

    /// `"01-31"`: two digits each.
    pub fn parse(s: &str) -> Option<MonthDay> {
        let (m, d) = s.split_once('-')?;
        if m.len() != 2 || d.len() != 2 {
            return None;
        }
        MonthDay::new(m.parse().ok()?, d.parse().ok()?)
    }

    pub fn month(self) -> i8 {
        self.month
    }

    pub fn day(self) -> i8 {
        self.day
    }

    /// This day in `year`; 29 February in a year without it is the 28th (the last day of
    /// February).
    pub fn in_year(self, year: i32) -> Option<Date> {
        let year = i16::try_from(year).ok()?;
        let first = Date::new(year, self.month, 1).ok()?;
        Date::new(year, self.month, self.day.min(first.days_in_month())).ok()
    }
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

/// Where the HTTP server listens: `"127.0.0.1:9464"`, `"[::1]:9464"`, or a host name and a
/// port (`"localhost:9464"`, resolved when the server binds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenAddr {
    text: String,
    port: u16,
}

impl ListenAddr {
    /// A host (not empty) and a port after the last `:`.
    pub fn parse(s: &str) -> Option<ListenAddr> {
        let (host, port) = s.rsplit_once(':')?;
        let port = port.parse::<u16>().ok()?;
        (!host.is_empty()).then(|| ListenAddr {
            text: s.to_string(),
            port,
        })
    }

    /// As written: what the server binds (`host:port`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Reads a text and parses it, or refuses it with `= "<text>": <why>`.
fn read<'de, D: Deserializer<'de>, T>(
    d: D,
    parse: fn(&str) -> Option<T>,
    why: &str,
) -> Result<T, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).ok_or_else(|| serde::de::Error::custom(format!("{VALUE_MESSAGE}{text:?}: {why}")))
}

/// The readers of the keys holding such values, each with the example its message gives.
pub mod de {
    use super::*;

    const MM_DD: &str = "/ 截止日期格式应为 \"月-日\"";

    /// `[mail] digest_time`.
    pub fn digest_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TimeOfDay>, D::Error> {
        read(d, TimeOfDay::parse, "use HH:MM, e.g. \"08:00\"").map(Some)
    }

    /// `[reminders] time`.
    pub fn reminders_time<'de, D: Deserializer<'de>>(d: D) -> Result<TimeOfDay, D::Error> {
        read(d, TimeOfDay::parse, "use HH:MM, e.g. \"09:00\"")
    }

    /// `[deadlines] department` and `government`.
    pub fn kind_deadline<'de, D: Deserializer<'de>>(d: D) -> Result<MonthDay, D::Error> {
        read(
            d,
            MonthDay::parse,
            &format!("use \"MM-DD\", e.g. \"01-31\" {MM_DD}"),
        )
    }

    /// `[[agency]] deadline`.
    pub fn agency_deadline<'de, D: Deserializer<'de>>(d: D) -> Result<Option<MonthDay>, D::Error> {
        read(
            d,
            MonthDay::parse,
            &format!("use \"MM-DD\", e.g. \"02-15\" {MM_DD}"),
        )
        .map(Some)
    }

    /// `[http] listen` and `[metrics] listen`.
    pub fn listen<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ListenAddr>, D::Error> {
        read(
            d,
            ListenAddr::parse,
            "give an address and port, e.g. \"127.0.0.1:9464\"",
        )
        .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day() {
        assert_eq!(TimeOfDay::parse("08:00"), TimeOfDay::new(8, 0));
        assert_eq!(
            TimeOfDay::parse("23:59").map(|t| t.to_string()),
            Some("23:59".into())
        );
        for bad in ["24:00", "08:60", "0800", "", "a:b", "-1:00"] {
            assert_eq!(TimeOfDay::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn month_days_and_leap_days() {
        assert_eq!(MonthDay::parse("01-31"), MonthDay::new(1, 31));
        let leap = MonthDay::parse("02-29").expect("02-29");
        assert_eq!(
            leap.in_year(2027).map(|d| d.to_string()),
            Some("2027-02-28".into())
        );
        assert_eq!(
            leap.in_year(2028).map(|d| d.to_string()),
            Some("2028-02-29".into())
        );
        for bad in ["1-31", "02-30", "13-01", "0131", ""] {
            assert_eq!(MonthDay::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn listen_addresses_as_today() {
        for good in ["127.0.0.1:9464", "[::1]:9464", "localhost:80", "0.0.0.0:0"] {
            assert_eq!(
                ListenAddr::parse(good).map(|l| l.to_string()),
                Some(good.into())
            );
        }
        for bad in ["localhost", ":9464", "127.0.0.1:99999", "127.0.0.1:"] {
            assert_eq!(ListenAddr::parse(bad), None, "{bad}");
        }
    }
}

/// A length of time written as a whole number in the unit its key names (`settle_ms`,
/// `rescan_interval_s`, `session_idle_min`): read as that number, held as a count of
/// `MS` milliseconds, and given to the rest of the daemon as a [`Duration`]. The key keeps
/// its unit in its name, so the file stays what admins have always written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(transparent)]
pub struct Span<const MS: u64>(u64);

/// A [`Span`] written in milliseconds (`*_ms`).
pub type Millis = Span<1>;
/// A [`Span`] written in seconds (`*_s`).
pub type Secs = Span<1_000>;
/// A [`Span`] written in minutes (`*_min`).
pub type Minutes = Span<60_000>;

impl<const MS: u64> Span<MS> {
    pub const fn new(count: u64) -> Span<MS> {
        Span(count)
    }

    /// The number as written in the file.
    pub const fn count(self) -> u64 {
        self.0
    }

    pub const fn get(self) -> Duration {
        Duration::from_millis(self.0.saturating_mul(MS))
    }

    /// At least one unit: for the waits a zero would turn into a busy loop.
    pub fn at_least_one(self) -> Duration {
        Duration::from_millis(self.0.max(1).saturating_mul(MS))
    }
}

impl<const MS: u64> PartialEq<u64> for Span<MS> {
    fn eq(&self, other: &u64) -> bool {
        self.0 == *other
    }
}

impl<const MS: u64> fmt::Display for Span<MS> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
