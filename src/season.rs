//! Which filing season is shown (`status`, the console's overview, `config check`).
//!
//! A report of year N is filed in year N+1. With `filing_year` automatic, the season is
//! this calendar year's until its last deadline (the latest of the departments', the
//! governments' and every agency's own) has passed; from the day after, it is the coming
//! year's: on 7 December every deadline of the year is long past, and showing that season
//! marked nearly every agency 逾期 (issue 24). A configured `filing_year` is always shown.
//!
//! The checker's own sense of "which report year is due" (`validate::Context::filing_year`)
//! stays the calendar year: a report of the year not yet over is still refused.

use jiff::civil::Date;

use crate::config::Config;
use crate::config::deadlines::deadline_of;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Season {
    /// The year reports are filed in; the report year is the one before.
    pub filing: i32,
    /// With the automatic choice: the season before, and the day its last deadline fell
    /// on (it is over, its numbers one click away).
    pub previous: Option<(i32, Date)>,
}

impl Season {
    /// The report year shown: the one before the filing year.
    pub fn report_year(&self) -> i32 {
        self.filing - 1
    }

    /// One line for people: which season is shown, and that the previous one closed.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "当前报送季：{} 年度报告，{} 年报送",
            self.report_year(),
            self.filing
        );
        match self.previous {
            Some((filing, closed)) => s.push_str(&format!(
                "；上一季（{} 年度报告）已于 {closed} 截止（用 --year {} 查看）",
                filing - 1,
                filing - 1
            )),
            None => s.push_str("（配置的 filing_year）"),
        }
        s
    }
}

/// The last deadline of the season filed in `filing`: the latest of the kinds' and every
/// configured agency's own. `None` when none can be computed (checked configs always can).
pub fn last_deadline(config: &Config, filing: i32) -> Option<Date> {
    let kinds = [config.deadlines.department, config.deadlines.government]
        .into_iter()
        .filter_map(|day| day.in_year(filing));
    let own = config
        .agencies
        .iter()
        .filter_map(|a| deadline_of(config, a, filing));
    kinds.chain(own).max()
}

/// The season shown on `today` (China time).
pub fn season(config: &Config, today: Date) -> Season {
    if config.filing_year > 0 {
        return Season {
            filing: config.filing_year,
            previous: None,
        };
    }
    let year = i32::from(today.year());
    match last_deadline(config, year) {
        Some(last) if today > last => Season {
            filing: year + 1,
            previous: Some((year, last)),
        },
        _ => Season {
            filing: year,
            previous: last_deadline(config, year - 1).map(|last| (year - 1, last)),
        },
    }
}

/// The season shown now.
pub fn current(config: &Config) -> Season {
    season(config, crate::time::china_now().date())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().expect("date")
    }

    #[test]
    fn the_season_moves_on_after_its_last_deadline() {
        let mut config = Config::default();
        // Departments 01-31, governments 03-31 by default.
        let s = season(&config, date("2026-03-31"));
        assert_eq!((s.filing, s.report_year()), (2026, 2025));
        let s = season(&config, date("2026-04-01"));
        assert_eq!(s.filing, 2027);
        assert_eq!(s.previous, Some((2026, date("2026-03-31"))));
        let s = season(&config, date("2026-12-07"));
        assert_eq!(s.report_year(), 2026);
        // An agency's own later deadline keeps the season open.
        config.agencies.push(crate::config::Agency {
            folder: "late".into(),
            name: "晚交单位".into(),
            email: vec![],
            kind: None,
            deadline: crate::config::MonthDay::parse("05-15"),
            region: None,
        });
        assert_eq!(season(&config, date("2026-05-15")).filing, 2026);
        assert_eq!(season(&config, date("2026-05-16")).filing, 2027);
        // A configured year is shown whatever the day.
        config.filing_year = 2026;
        assert_eq!(season(&config, date("2026-12-07")).filing, 2026);
        assert_eq!(season(&config, date("2026-12-07")).previous, None);
    }
}
