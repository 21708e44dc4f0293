//! `[deadlines]` and `[reminders]`: when reports are due and when agencies are reminded;
//! each agency's kind and deadline as they follow from the configuration (the reminders
//! themselves: the `deadlines` module).

use serde::Deserialize;

use jiff::civil::Date;

use super::values::{MonthDay, TimeOfDay, de};
use super::{Agency, Config};

/// What kind of agency reports: the regulation gives the two kinds different deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgencyKind {
    /// 政府部门: a department of a government (a bureau, an office).
    Department,
    /// 人民政府: a people's government (a district, a town, a street office).
    Government,
}

impl AgencyKind {
    pub fn label(self) -> &'static str {
        match self {
            AgencyKind::Department => "政府部门",
            AgencyKind::Government => "人民政府",
        }
    }
}

/// `[deadlines]`: the deadline of each kind, as `"MM-DD"` of the filing year.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeadlinesConfig {
    #[serde(deserialize_with = "de::kind_deadline")]
    pub department: MonthDay,
    #[serde(deserialize_with = "de::kind_deadline")]
    pub government: MonthDay,
    /// The kind of an agency without `kind` (and not guessed).
    pub default_kind: AgencyKind,
    /// Take an agency without `kind` whose name or folder ends in 人民政府, 街道办事处, 镇 or
    /// 乡 as a people's government.
    pub guess_kind: bool,
}

impl Default for DeadlinesConfig {
    fn default() -> DeadlinesConfig {
        DeadlinesConfig {
            department: MonthDay::JANUARY_31,
            government: MonthDay::MARCH_31,
            default_kind: AgencyKind::Department,
            guess_kind: true,
        }
    }
}

/// `[reminders]`: the reminder mails (催报). Off unless `enabled`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemindersConfig {
    pub enabled: bool,
    /// The first reminder this many days before the deadline (0: none).
    pub days_before: u32,
    /// A second reminder on the day of the deadline.
    pub on_the_day: bool,
    /// The overdue notice this many days after the deadline (0: none).
    pub overdue_after_days: u32,
    /// Reminders of a day are queued from this time on (China time, `"HH:MM"`).
    #[serde(deserialize_with = "de::reminders_time")]
    pub time: TimeOfDay,
    /// A report returned as 需修改 and not followed by a new version within this many days
    /// is 退回未改: its agency is reminded once (0: no such reminder).
    pub rework_days: u32,
}

impl Default for RemindersConfig {
    fn default() -> RemindersConfig {
        RemindersConfig {
            enabled: false,
            days_before: 7,
            on_the_day: true,
            overdue_after_days: 1,
            time: TimeOfDay::NINE,
            rework_days: 10,
        }
    }
}

/// The most days a reminder may come before or after its deadline.
pub const MAX_DAYS: u32 = 90;

/// What serde cannot say about `[reminders]`.
pub fn problems(r: &RemindersConfig) -> Vec<String> {
    let mut out = Vec::new();
    if r.days_before > MAX_DAYS || r.overdue_after_days > MAX_DAYS {
        out.push(format!(
            "[reminders] days_before and overdue_after_days are at most {MAX_DAYS} days"
        ));
    }
    out
}

/// Whether a name is that of a people's government by its ending.
fn looks_like_government(name: &str) -> bool {
    ["人民政府", "街道办事处", "镇", "乡"]
        .iter()
        .any(|end| name.trim().ends_with(end))
}

/// An agency's kind, and whether it was guessed from its name (see the module's doc).
pub fn kind_of(config: &Config, agency: &Agency) -> (AgencyKind, bool) {
    if let Some(kind) = agency.kind {
        return (kind, false);
    }
    let d = &config.deadlines;
    if d.guess_kind
        && d.default_kind == AgencyKind::Department
        && (looks_like_government(&agency.name) || looks_like_government(&agency.folder))
    {
        return (AgencyKind::Government, true);
    }
    (d.default_kind, false)
}

/// An agency's deadline for the reports filed in `filing_year`: its own, or its kind's.
pub fn deadline_of(config: &Config, agency: &Agency, filing_year: i32) -> Option<Date> {
    let day = match agency.deadline {
        Some(own) => own,
        None => match kind_of(config, agency).0 {
            AgencyKind::Department => config.deadlines.department,
            AgencyKind::Government => config.deadlines.government,
        },
    };
    day.in_year(filing_year)
}

/// Whether an agency that has not submitted is overdue on `today`: from the day after its
/// deadline on.
pub fn is_overdue(deadline: Date, today: Date) -> bool {
    today > deadline
}
