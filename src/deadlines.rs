//! Deadlines and reminders (催报): when each agency's report is due, whether it is overdue,
//! and the reminder mails to agencies that have not submitted.
//!
//! The regulation's defaults (政府信息公开条例 第四十九条): government departments
//! (政府部门) by 31 January, people's governments (人民政府) by 31 March, of the filing year
//! (the report year + 1). `[deadlines]` sets them; each `[[agency]]` may have a `kind` or a
//! `deadline = "MM-DD"` of its own. An agency without a `kind` gets `default_kind`, unless
//! `guess_kind` (on by default) finds its name (or folder) ending in 人民政府, 街道办事处, 镇 or
//! 乡: such an agency is taken as a people's government. `config check` shows every agency's
//! kind and whether it was guessed.
//!
//! A deadline is a day in China time (Asia/Shanghai): a report received on it is on time; the
//! agency is overdue (逾期) from the next day on if it has not submitted (`status` decides:
//! no checked submission of the year that counts).
//!
//! Reminders (`[reminders]`, off on built-in defaults): `days_before` days before its
//! deadline, an agency that has not submitted gets a polite reminder; a second on the day;
//! an overdue notice `overdue_after_days` after it. Each goes through the outbox under the
//! idempotency key `reminder/<year>/<folder>/<stage>/<recipient>`, so it is queued once,
//! whatever restarts in between. They are queued by the mail task's rounds, from
//! `[reminders] time` (China time) on; a stage missed while the daemon was down is sent late
//! as long as the next stage is not due yet (the overdue notice: up to 30 days late). Only
//! agencies with configured addresses get them; the admin gets one summary on a day with
//! reminders, naming also the agencies due one that have no address.

use jiff::civil::Date;
use rusqlite::Connection;

pub use crate::config::deadlines::{deadline_of, is_overdue, kind_of};
use crate::config::{Agency, AgencyKind, Config, RemindersConfig};
use crate::store::{MessageKind, OutboxMessage, Store};

/// The overdue notice is sent late (the daemon was down, reminders were turned on later)
/// for at most this many days after its day: not to an agency added in November for last
/// season's report.
const OVERDUE_LATE_DAYS: i64 = 30;

/// The three reminders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `days_before` days before the deadline.
    Before,
    /// On the day of the deadline.
    OnTheDay,
    /// `overdue_after_days` after the deadline.
    Overdue,
    /// `rework_days` after a report was returned as 需修改 without a new version (退回未改).
    Rework,
}

impl Stage {
    /// The word in the idempotency key.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Before => "before",
            Stage::OnTheDay => "day",
            Stage::Overdue => "overdue",
            Stage::Rework => "rework",
        }
    }

    pub fn parse(word: &str) -> Option<Stage> {
        [
            Stage::Before,
            Stage::OnTheDay,
            Stage::Overdue,
            Stage::Rework,
        ]
        .into_iter()
        .find(|s| s.as_str() == word)
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::Before => "提前提醒",
            Stage::OnTheDay => "当日提醒",
            Stage::Overdue => "逾期通知",
            Stage::Rework => "退回未改提醒",
        }
    }
}

fn add_days(date: Date, days: i64) -> Option<Date> {
    date.checked_add(jiff::Span::new().days(days)).ok()
}

/// The reminders of a deadline and the day each is due, in order (those switched off left
/// out).
pub fn schedule(r: &RemindersConfig, deadline: Date) -> Vec<(Stage, Date)> {
    let mut out = Vec::new();
    if r.days_before > 0
        && let Some(d) = add_days(deadline, -i64::from(r.days_before))
    {
        out.push((Stage::Before, d));
    }
    if r.on_the_day {
        out.push((Stage::OnTheDay, deadline));
    }
    if r.overdue_after_days > 0
        && let Some(d) = add_days(deadline, i64::from(r.overdue_after_days))
    {
        out.push((Stage::Overdue, d));
    }
    out
}

/// The reminder due on `today`, if any: the latest stage whose day has come, as long as the
/// next one's has not (a stage missed while the daemon was down is not sent after the next
/// one is due); the overdue notice stays due for [`OVERDUE_LATE_DAYS`].
pub fn due_stage(r: &RemindersConfig, deadline: Date, today: Date) -> Option<Stage> {
    let stages = schedule(r, deadline);
    let latest = stages.iter().rposition(|(_, day)| *day <= today)?;
    let stage = stages[latest].0;
    // The early reminder is only for the days before the deadline.
    if stage == Stage::Before && today >= deadline {
        return None;
    }
    // The reminder of the day only on the day.
    if stage == Stage::OnTheDay && today > deadline {
        return None;
    }
    if stage == Stage::Overdue
        && add_days(stages[latest].1, OVERDUE_LATE_DAYS).is_none_or(|last| today > last)
    {
        return None;
    }
    Some(stage)
}

/// `2027年1月31日`
pub fn chinese_date(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// The reminder mail: (subject, body).
pub fn message(
    stage: Stage,
    agency: &Agency,
    year: i32,
    deadline: Date,
    today: Date,
) -> (String, String) {
    let due = chinese_date(deadline);
    let what = format!("{year}年度政府信息公开工作年度报告");
    let days = |a: Date, b: Date| a.until(b).map(|s| s.get_days()).unwrap_or(0);
    let (subject, lead) = match stage {
        Stage::Before => (
            format!("【催报提醒】请于{due}（含）前报送{what}"),
            format!(
                "贵单位的{what}应于{due}（含）前报送，距截止日期还有 {} 天。截至今日（{}），我们尚未收到贵单位的报告，请抓紧准备并按时报送。",
                days(today, deadline),
                chinese_date(today)
            ),
        ),
        Stage::OnTheDay => (
            format!("【催报提醒】今天是{what}的报送截止日"),
            format!(
                "今天（{due}）是{what}的报送截止日。截至目前，我们尚未收到贵单位的报告，请于今天内报送。"
            ),
        ),
        Stage::Overdue => (
            format!("【逾期提醒】{what}已逾期未报送"),
            format!(
                "贵单位的{what}应于{due}（含）前报送，现已逾期 {} 天，我们仍未收到贵单位的报告。请尽快报送；如有特殊情况，请及时说明（联系方式见文末）。",
                days(deadline, today)
            ),
        ),
        // `deadline` is the day the report to correct was received.
        Stage::Rework => (
            format!("【退回未改】{what}经审核需修改，尚未重新报送"),
            format!(
                "您单位{year}年度政府信息公开工作年报经审核需修改，尚未重新报送。该报告于{due}收到，审核结果为“需修改”，至今（{}）已 {} 天未收到修改后的版本。请按审核意见修改后尽快重新报送；退回后未及时修改会影响年度报告工作的考核。",
                chinese_date(today),
                days(deadline, today)
            ),
        ),
    };
    let body = format!(
        "{}：\n\n您好！{lead}\n\n报送方式：将报告文件（Word、WPS、PDF、Excel 或网页均可）放入共享文件夹中贵单位的文件夹“{}”，系统会自动审核并回复审核意见。\n\n如已通过其他途径报送，请忽略本邮件。感谢您的支持与配合！\n\n（本邮件由年报审核系统自动发送。）\n",
        agency.name, agency.folder
    );
    (subject, body)
}

/// The filing years whose reminders can fall on `today`: the configured one, or this year
/// and the next (an early reminder of a 01-31 deadline can fall in December).
fn filing_years(config: &Config, today: Date) -> Vec<i32> {
    if config.filing_year > 0 {
        vec![config.filing_year]
    } else {
        let y = i32::from(today.year());
        vec![y, y + 1]
    }
}

/// Queues the reminders due on `today` (China time) for every configured agency with
/// addresses that has not submitted. Idempotent: each (year, folder, stage, recipient) is
/// queued at most once, ever. When any was queued and there is an admin, the admin gets one
/// summary of the day (`reminder-summary/<day>`): who was reminded, and which agencies due a
/// reminder have no address (to be called).
///
/// An agency whose report is on its way is not reminded yet: a file waiting in its inbox
/// folder (dropped while the daemon was down, or still settling) or a submission archived
/// but not yet checked. Such an agency is `deferred`, and the caller looks again at its next
/// round. Returns how many reminders were queued now, and whether any agency was deferred.
pub fn queue_due(store: &Store, config: &Config, today: Date) -> anyhow::Result<(usize, bool)> {
    // Over 80 lines on purpose: one round over every agency and stage, in one pass over the
    // season's status: the reminders, the 退回未改 notices and the admin's summary are gathered
    // together so that the summary names exactly what was queued.
    if !config.reminders.enabled {
        return Ok((0, false));
    }
    let mut queued = 0;
    let mut deferred = false;
    let (mut reminded, mut unreachable) = (Vec::new(), Vec::new());
    for filing in filing_years(config, today) {
        let year = filing - 1;
        let due: Vec<(&Agency, Date, Stage)> = config
            .agencies
            .iter()
            .filter_map(|a| {
                let deadline = deadline_of(config, a, filing)?;
                Some((a, deadline, due_stage(&config.reminders, deadline, today)?))
            })
            .collect();
        if due.is_empty() {
            continue;
        }
        let status = crate::status::status(store, config, year)?;
        for (agency, deadline, stage) in due {
            let submitted = status
                .agencies
                .iter()
                .any(|s| s.folder.as_deref() == Some(agency.folder.as_str()) && s.submitted);
            if submitted {
                continue;
            }
            if waiting_in_inbox(config, &agency.folder) || store.has_unchecked(&agency.folder)? {
                deferred = true;
                continue;
            }
            let line = format!(
                "  {}（{}）：{year} 年度，{}，截止 {deadline}",
                agency.name,
                agency.folder,
                stage.label()
            );
            if agency.email.is_empty() {
                unreachable.push(line);
                continue;
            }
            let mail = message(stage, agency, year, deadline, today);
            let fresh = queue_to_each(store, agency, &mail, |recipient| ReminderKey {
                year,
                folder: agency.folder.clone(),
                stage,
                receipt: None,
                recipient: recipient.to_string(),
            })?;
            if fresh > 0 {
                reminded.push(format!("{line}（{fresh} 个地址）"));
            }
            queued += fresh;
        }
    }
    // 退回未改: a report returned as 需修改, no new version within `rework_days`.
    for filing in filing_years(config, today) {
        if config.reminders.rework_days == 0 {
            break;
        }
        let year = filing - 1;
        let status = crate::status::status(store, config, year)?;
        for a in status.agencies.iter().filter(|a| a.rework) {
            let (Some(folder), Some(receipt)) = (&a.folder, &a.receipt) else {
                continue;
            };
            let Some(agency) = config.agency(folder) else {
                continue;
            };
            let received = a
                .received_at
                .as_deref()
                .map(crate::time::china_time)
                .and_then(|t| t.get(..10).and_then(|d| d.parse::<Date>().ok()))
                .unwrap_or(today);
            let line = format!(
                "  {}（{}）：{year} 年度，{}，回执 {receipt}",
                agency.name,
                agency.folder,
                Stage::Rework.label()
            );
            if agency.email.is_empty() {
                unreachable.push(line);
                continue;
            }
            let mail = message(Stage::Rework, agency, year, received, today);
            // Once per returned report and recipient.
            let fresh = queue_to_each(store, agency, &mail, |recipient| ReminderKey {
                year,
                folder: folder.clone(),
                stage: Stage::Rework,
                receipt: Some(receipt.clone()),
                recipient: recipient.to_string(),
            })?;
            if fresh > 0 {
                reminded.push(format!("{line}（{fresh} 个地址）"));
            }
            queued += fresh;
        }
    }
    if let (Some(admin), false) = (&config.mail.admin, reminded.is_empty()) {
        let mut body = format!(
            "今天（{}）发出的催报提醒：\n{}\n",
            chinese_date(today),
            reminded.join("\n")
        );
        if !unreachable.is_empty() {
            body.push_str(&format!(
                "\n应催报但未配置邮箱的单位（请电话联系，或在配置中补充 email）：\n{}\n",
                unreachable.join("\n")
            ));
        }
        let m = OutboxMessage {
            kind: MessageKind::Notice,
            recipient: admin.clone(),
            subject: format!(
                "【催报汇总】{today} 向 {} 个单位发出催报提醒",
                reminded.len()
            ),
            body_text: body,
            body_html: None,
            html_from: None,
        };
        store.queue_message(None, &format!("reminder-summary/{today}"), &m)?;
    }
    Ok((queued, deferred))
}

/// Queues a reminder (subject, body) to each of the agency's addresses under `key(address)`;
/// returns how many were new.
fn queue_to_each(
    store: &Store,
    agency: &Agency,
    (subject, body): &(String, String),
    key: impl Fn(&str) -> ReminderKey,
) -> anyhow::Result<usize> {
    let mut fresh = 0;
    for recipient in &agency.email {
        let m = OutboxMessage {
            kind: MessageKind::Reminder,
            recipient: recipient.clone(),
            subject: subject.clone(),
            body_text: body.clone(),
            body_html: None,
            html_from: None,
        };
        let key = key(recipient).to_string();
        if store.queue_message(None, &key, &m)? {
            fresh += 1;
            tracing::info!(agency = %agency.folder, key = %key, "reminder queued");
        }
    }
    Ok(fresh)
}

/// Whether a file is waiting in the agency's inbox folder: a regular file (not a link)
/// whose name the watcher would take.
fn waiting_in_inbox(config: &Config, folder: &str) -> bool {
    std::fs::read_dir(config.inbox.join(folder)).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            e.file_type().is_ok_and(|t| t.is_file())
                && !crate::watch::is_ignored_name(&e.file_name().to_string_lossy())
        })
    })
}

/// Whether reminders are to be looked at now: enabled, and `[reminders] time` has come on
/// the office's clock.
pub fn time_has_come(config: &Config, now: &jiff::ZonedDateTime) -> bool {
    config.reminders.enabled && config.reminders.time.has_come(now)
}

/// The idempotency key of one reminder to one address: queued once per key, and read back
/// for the agency page. Written as `reminder/<year>/<folder>/<stage>/<recipient>`, and for
/// a returned report `reminder/<year>/<folder>/rework/<receipt>/<recipient>` (once per
/// returned version). A folder, receipt and address hold no `/`. The text is what the
/// outbox stores: it must not change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderKey {
    pub year: i32,
    pub folder: String,
    pub stage: Stage,
    /// The returned report's receipt (the rework reminder only).
    pub receipt: Option<String>,
    pub recipient: String,
}

impl std::fmt::Display for ReminderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "reminder/{}/{}/{}/",
            self.year,
            self.folder,
            self.stage.as_str()
        )?;
        if let Some(receipt) = &self.receipt {
            write!(f, "{receipt}/")?;
        }
        f.write_str(&self.recipient)
    }
}

impl std::str::FromStr for ReminderKey {
    type Err = String;

    fn from_str(key: &str) -> Result<ReminderKey, String> {
        let parts: Vec<&str> = key.split('/').collect();
        let (year, folder, stage, rest) = match parts.as_slice() {
            ["reminder", year, folder, stage, rest @ ..] => (year, folder, stage, rest),
            _ => return Err("not reminder/<year>/<folder>/<stage>/…".into()),
        };
        let year = year.parse().map_err(|_| format!("year {year:?}"))?;
        let stage = Stage::parse(stage).ok_or_else(|| format!("stage {stage:?}"))?;
        let (receipt, recipient) = match (stage, rest) {
            (Stage::Rework, [receipt, recipient]) => (Some(receipt.to_string()), recipient),
            (Stage::Rework, _) => return Err("rework without <receipt>/<recipient>".into()),
            (_, [recipient]) => (None, recipient),
            _ => return Err("more parts than <stage>/<recipient>".into()),
        };
        Ok(ReminderKey {
            year,
            folder: folder.to_string(),
            stage,
            receipt,
            recipient: recipient.to_string(),
        })
    }
}

/// One reminder as the agency page lists it: the queued message, and the year and stage
/// its key names.
#[derive(Debug, Clone)]
pub struct SentReminder {
    pub year: i32,
    pub stage: Option<Stage>,
    pub message: crate::store::KindMessage,
}

/// The reminders queued for an agency folder, across years, newest first.
pub fn reminders_of(conn: &Connection, folder: &str) -> rusqlite::Result<Vec<SentReminder>> {
    let mut out = Vec::new();
    for m in crate::store::messages_of_kind(conn, MessageKind::Reminder)? {
        match m.key.parse::<ReminderKey>() {
            Ok(key) if key.folder == folder => out.push(SentReminder {
                year: key.year,
                stage: Some(key.stage),
                message: m,
            }),
            Ok(_) => {}
            Err(e) => tracing::warn!(key = %m.key, "a reminder's key not understood: {e}"),
        }
    }
    Ok(out)
}

/// The schedule of the filing season of `today` as `config check` shows it.
pub fn describe(config: &Config, today: Date) -> String {
    let season = crate::season::season(config, today);
    let filing = season.filing;
    let r = &config.reminders;
    let mut out = format!(
        "报送截止与催报 / deadlines and reminders: {} 年度报告，{filing} 年报送\n{}\n",
        filing - 1,
        season.describe()
    );
    let line = |deadline: Option<Date>| -> String {
        let Some(deadline) = deadline else {
            return "无效的截止日期".into();
        };
        let mut s = format!("截止 {deadline}");
        if r.enabled {
            for (stage, day) in schedule(r, deadline) {
                s.push_str(&format!("，{} {day}", stage.label()));
            }
        }
        s
    };
    for (kind, day) in [
        (AgencyKind::Department, config.deadlines.department),
        (AgencyKind::Government, config.deadlines.government),
    ] {
        let deadline = day.in_year(filing);
        out.push_str(&format!("  {}：{}\n", kind.label(), line(deadline)));
    }
    for a in &config.agencies {
        let (kind, guessed) = kind_of(config, a);
        let mut who = format!("  {}（{}）：", a.name, a.folder);
        if a.deadline.is_some() {
            who.push_str("自定截止日期，");
        } else {
            who.push_str(kind.label());
            if guessed {
                who.push_str("（按名称推定）");
            }
            who.push('，');
        }
        out.push_str(&who);
        out.push_str(&line(deadline_of(config, a, filing)));
        if r.enabled && a.email.is_empty() {
            out.push_str("；未配置邮箱，不发提醒");
        }
        out.push('\n');
    }
    if r.enabled {
        out.push_str(&format!(
            "催报提醒：已开启 / reminders on (每天 {} 北京时间起发出，只发给尚未提交且配置了邮箱的单位)\n",
            r.time
        ));
    } else {
        out.push_str(
            "催报提醒：未开启 / reminders off ([reminders] enabled = false); 逾期 is still shown\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn agency(folder: &str, name: &str) -> Agency {
        Agency {
            folder: folder.into(),
            name: name.into(),
            email: vec!["a@x.example.cn".into()],
            kind: None,
            deadline: None,
            region: None,
        }
    }

    #[test]
    fn mm_dd_and_leap_days() {
        use crate::config::MonthDay;
        assert_eq!(MonthDay::parse("01-31"), MonthDay::new(1, 31));
        let leap = MonthDay::parse("02-29").expect("02-29");
        for bad in ["02-30", "13-01", "1-31", "01/31", "", "00-10", "04-31"] {
            assert_eq!(MonthDay::parse(bad), None, "{bad}");
        }
        assert_eq!(leap.in_year(2028), Some(date("2028-02-29")));
        assert_eq!(leap.in_year(2027), Some(date("2027-02-28")));
        assert_eq!(leap.in_year(2100), Some(date("2100-02-28")));
    }

    #[test]
    fn kinds_and_deadlines() {
        let config = Config::default();
        let dept = agency("czj", "市财政局");
        let town = agency("hs", "花山镇人民政府");
        let street = agency("dh", "东湖街道办事处");
        let office = agency("lc", "老城区人民政府办公室");
        assert_eq!(kind_of(&config, &dept), (AgencyKind::Department, false));
        assert_eq!(kind_of(&config, &town), (AgencyKind::Government, true));
        assert_eq!(kind_of(&config, &street), (AgencyKind::Government, true));
        assert_eq!(kind_of(&config, &office), (AgencyKind::Department, false));
        assert_eq!(deadline_of(&config, &dept, 2027), Some(date("2027-01-31")));
        assert_eq!(deadline_of(&config, &town, 2027), Some(date("2027-03-31")));
        let mut own = agency("x", "某镇");
        own.deadline = crate::config::MonthDay::parse("02-29");
        assert_eq!(deadline_of(&config, &own, 2027), Some(date("2027-02-28")));
        assert_eq!(deadline_of(&config, &own, 2028), Some(date("2028-02-29")));
        let mut told = agency("y", "某镇");
        told.kind = Some(AgencyKind::Department);
        assert_eq!(deadline_of(&config, &told, 2027), Some(date("2027-01-31")));
        let mut no_guess = Config::default();
        no_guess.deadlines.guess_kind = false;
        assert_eq!(kind_of(&no_guess, &town), (AgencyKind::Department, false));
    }

    #[test]
    fn overdue_from_the_day_after() {
        let deadline = date("2027-01-31");
        assert!(!is_overdue(deadline, date("2027-01-31")));
        assert!(is_overdue(deadline, date("2027-02-01")));
        assert!(!is_overdue(deadline, date("2026-12-31")));
    }

    #[test]
    fn stages_across_month_and_year_boundaries() {
        let r = RemindersConfig {
            enabled: true,
            ..RemindersConfig::default()
        };
        let deadline = date("2027-01-31");
        assert_eq!(
            schedule(&r, deadline),
            [
                (Stage::Before, date("2027-01-24")),
                (Stage::OnTheDay, date("2027-01-31")),
                (Stage::Overdue, date("2027-02-01")),
            ]
        );
        let due = |d: &str| due_stage(&r, deadline, date(d));
        assert_eq!(due("2027-01-23"), None);
        assert_eq!(due("2027-01-24"), Some(Stage::Before));
        assert_eq!(due("2027-01-30"), Some(Stage::Before), "late, still before");
        assert_eq!(due("2027-01-31"), Some(Stage::OnTheDay));
        assert_eq!(due("2027-02-01"), Some(Stage::Overdue));
        assert_eq!(due("2027-03-03"), Some(Stage::Overdue), "30 days late");
        assert_eq!(due("2027-03-04"), None, "not later");
        // Ten days before 5 January is in December of the year before.
        let early = RemindersConfig {
            days_before: 10,
            ..r.clone()
        };
        assert_eq!(
            schedule(&early, date("2027-01-05"))[0],
            (Stage::Before, date("2026-12-26"))
        );
        // 2028 is a leap year: a day after 28 February is the 29th.
        assert_eq!(
            schedule(&r, date("2028-02-28"))[2],
            (Stage::Overdue, date("2028-02-29"))
        );
        assert_eq!(
            schedule(&r, date("2028-03-01"))[0],
            (Stage::Before, date("2028-02-23"))
        );
        // Stages switched off: the day's reminder missed is not sent the day after.
        let only_day = RemindersConfig {
            days_before: 0,
            overdue_after_days: 0,
            ..r.clone()
        };
        assert_eq!(due_stage(&only_day, deadline, date("2027-01-30")), None);
        assert_eq!(
            due_stage(&only_day, deadline, date("2027-01-31")),
            Some(Stage::OnTheDay)
        );
        assert_eq!(due_stage(&only_day, deadline, date("2027-02-01")), None);
        // Without the day's reminder, the early one stops at the deadline.
        let no_day = RemindersConfig {
            on_the_day: false,
            overdue_after_days: 3,
            ..r
        };
        assert_eq!(due_stage(&no_day, deadline, date("2027-01-31")), None);
        assert_eq!(due_stage(&no_day, deadline, date("2027-02-02")), None);
        assert_eq!(
            due_stage(&no_day, deadline, date("2027-02-03")),
            Some(Stage::Overdue)
        );
    }

    #[test]
    fn messages_are_polite_and_dated() {
        let a = agency("czj", "市财政局");
        let deadline = date("2027-01-31");
        let on = |stage, today| message(stage, &a, 2026, deadline, date(today));
        let (subject, body) = on(Stage::Before, "2027-01-24");
        assert!(subject.contains("2027年1月31日"), "{subject}");
        assert!(body.starts_with("市财政局："), "{body}");
        assert!(body.contains("还有 7 天"), "{body}");
        let (subject, body) = on(Stage::Overdue, "2027-02-03");
        assert!(subject.contains("逾期"), "{subject}");
        assert!(body.contains("逾期 3 天"), "{body}");
    }

    /// An early reminder of a 5 January deadline falls in December: the next season's, and
    /// it is queued once, on a real database.
    #[test]
    fn december_reminders_belong_to_the_next_season() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        let mut config = Config {
            inbox: dir.path().join("inbox"),
            agencies: vec![agency("czj", "市财政局")],
            ..Config::default()
        };
        config.agencies[0].deadline = crate::config::MonthDay::parse("01-05");
        config.reminders.enabled = true;
        config.reminders.days_before = 10;
        let today = date("2026-12-27");
        // A report waiting in the agency's folder (dropped while the daemon was down, not
        // yet checked): no reminder yet, and the day is looked at again.
        std::fs::create_dir_all(dir.path().join("inbox/czj/回执")).unwrap();
        std::fs::write(dir.path().join("inbox/czj/report.docx"), "r").unwrap();
        std::fs::write(dir.path().join("inbox/czj/~$report.docx"), "lock").unwrap();
        assert_eq!(queue_due(&store, &config, today).unwrap(), (0, true));
        std::fs::remove_file(dir.path().join("inbox/czj/report.docx")).unwrap();
        assert_eq!(queue_due(&store, &config, today).unwrap(), (1, false));
        assert_eq!(
            queue_due(&store, &config, today).unwrap(),
            (0, false),
            "once"
        );
        let key: String = store
            .connection()
            .query_row("SELECT idempotency_key FROM outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(key, "reminder/2026/czj/before/a@x.example.cn");
        let parsed: ReminderKey = key.parse().unwrap();
        assert_eq!(parsed.to_string(), key);
        let rework = "reminder/2026/czj/rework/NB-2026-000007/b@x.example.cn";
        let parsed: ReminderKey = rework.parse().unwrap();
        assert_eq!(
            (parsed.stage, parsed.receipt.as_deref()),
            (Stage::Rework, Some("NB-2026-000007"))
        );
        assert_eq!(parsed.to_string(), rework);
        for bad in [
            "reminder/2026/czj/rework/b@x.example.cn",
            "reminder/x/czj/before/a@x",
            "reminder/2026/czj/soon/a@x",
            "digest/2026/czj/before/a@x",
        ] {
            assert!(bad.parse::<ReminderKey>().is_err(), "{bad}");
        }
        let listed = reminders_of(store.connection(), "czj").unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].year, listed[0].stage),
            (2026, Some(Stage::Before))
        );
        assert!(reminders_of(store.connection(), "cz").unwrap().is_empty());
        // A fixed filing year looks at that season only; off sends nothing.
        config.filing_year = 2026;
        assert_eq!(queue_due(&store, &config, date("2026-12-28")).unwrap().0, 0);
        config.filing_year = 0;
        config.reminders.enabled = false;
        assert_eq!(queue_due(&store, &config, date("2027-01-05")).unwrap().0, 0);
    }

    #[test]
    fn bad_keys_are_refused() {
        for (text, needle) in [
            ("[deadlines]\ndepartment = \"1-31\"", "department"),
            ("[deadlines]\ngovernment = \"02-30\"", "government"),
            ("[deadlines]\ndefault_kind = \"bureau\"", "default_kind"),
            (
                "[[agency]]\nfolder = \"a\"\nname = \"x\"\ndeadline = \"31-01\"",
                "deadline",
            ),
            (
                "[[agency]]\nfolder = \"a\"\nname = \"x\"\nkind = \"town\"",
                "kind",
            ),
            ("[reminders]\ntime = \"9\"", "time"),
            ("[reminders]\ndays_before = 200", "at most"),
        ] {
            let result = toml::from_str::<Config>(text)
                .map_err(|e| e.to_string())
                .and_then(|c| c.check());
            let err = result.expect_err(text);
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
