//! `nianbao status`: the office's overview of who has submitted what.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::config::Config;
use crate::escape::controls;
use crate::store::{Store, Submission, SubmissionState, Verdict};

/// One agency's standing for a report year.
#[derive(Debug, Clone, Serialize)]
pub struct AgencyStatus {
    pub folder: Option<String>,
    pub name: Option<String>,
    pub configured: bool,
    pub submitted: bool,
    /// The latest submission that counts (not a duplicate, not superseded).
    pub receipt: Option<String>,
    pub file: Option<String>,
    pub received_at: Option<String>,
    pub verdict: Option<Verdict>,
    pub errors: Option<i64>,
    pub warnings: Option<i64>,
    /// How many files this agency sent for the year, duplicates included.
    pub submissions: usize,
    /// The agency's deadline for this report year (`YYYY-MM-DD`, China time; see
    /// the `deadlines` module); `None` for files with no agency.
    pub deadline: Option<String>,
    /// Not submitted, and the deadline has passed (逾期).
    pub overdue: bool,
    /// The verdict is an officer's (人工复核), not the checker's.
    pub reviewed: bool,
    /// The latest submission counted is held for review (待复核).
    pub held: bool,
    /// 退回未改: the report counted was returned as 需修改 `[reminders] rework_days` or more
    /// days ago, and no new version came.
    pub rework: bool,
    /// When no report counts (`submitted` false): the agency's latest file of any kind, and
    /// what happened to it (held, unreadable, another year). 未提交 means this is `None`.
    pub received: Option<Received>,
}

/// A file an agency sent that does not count as its report of the year.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub receipt: String,
    pub file: String,
    pub received_at: String,
    /// The report year read from it, if any.
    pub year: Option<i64>,
    /// `held`, `unreadable`, `wrong_year`, `failed` or `pending`.
    pub kind: &'static str,
    /// What happened to it, in Chinese (`无法读取，待复核`, `年度不符（2021 年度报告）`).
    pub what: String,
}

impl Received {
    fn of(s: &Submission, held: bool) -> Received {
        let (kind, mut what) = match (s.state, s.year) {
            (SubmissionState::Failed, _) => ("failed", "无法审核（处理失败）".to_string()),
            (SubmissionState::Archived, _) => ("pending", "正在审核".to_string()),
            (_, Some(y)) => ("wrong_year", format!("年度不符（{y} 年度报告）")),
            (_, None) => ("unreadable", "无法读取".to_string()),
        };
        let kind = if held {
            what.push_str("，待复核");
            "held"
        } else {
            kind
        };
        Received {
            receipt: s.receipt.clone(),
            file: s.original_name.clone(),
            received_at: s.received_at.clone(),
            year: s.year,
            kind,
            what,
        }
    }
}

/// The report year of the season: the year before the filing year (`filing_year`, or
/// this year in China).
pub fn season_year(config: &Config) -> i32 {
    crate::season::current(config).report_year()
}

/// One submission as listed in `status --json`.
#[derive(Debug, Clone, Serialize)]
pub struct SubmissionStatus {
    pub receipt: String,
    pub agency: Option<String>,
    pub agency_folder: Option<String>,
    pub file: String,
    pub sha256: String,
    pub received_at: String,
    pub year: Option<i64>,
    pub state: SubmissionState,
    pub verdict: Option<Verdict>,
    pub errors: Option<i64>,
    pub warnings: Option<i64>,
    pub duplicate_of: Option<String>,
    pub superseded: bool,
    /// The verdict is an officer's (人工复核).
    pub reviewed: bool,
}

/// Submissions for a report year other than the one shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherYear {
    pub year: i64,
    pub submissions: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub year: i32,
    pub submissions: Vec<SubmissionStatus>,
    pub agencies: Vec<AgencyStatus>,
    /// Files at the inbox's top level, of this year or unread, waiting for an admin to
    /// give them to an agency (待归属); no agency's, and out of the season's counts.
    pub unassigned: Vec<SubmissionStatus>,
    /// Years with submissions that this overview does not show (a 2022 report dropped in
    /// the 2024 season is not "nothing received"), newest first.
    pub other_years: Vec<OtherYear>,
}

/// Every report year with submissions, newest first (`status --all`); `default` too, so
/// that missing agencies of the season are listed even before anything arrived.
pub fn years(store: &Store, default: i32) -> anyhow::Result<Vec<i32>> {
    let mut years: Vec<i32> = store
        .submission_years()?
        .into_iter()
        .filter_map(|y| i32::try_from(y).ok())
        .chain([default])
        .collect();
    years.sort_unstable_by(|a, b| b.cmp(a));
    years.dedup();
    Ok(years)
}

/// The overview for report year `year`: every submission of that year (and those whose
/// year could not be read), and every agency, configured or seen.
pub fn status(store: &Store, config: &Config, year: i32) -> anyhow::Result<Status> {
    // Over 80 lines on purpose: builds the whole status in one pass over the season's submissions
    // and the inbox (indexes built once, see below): split, the indexes would pass between every
    // step.
    let all = store.submissions(None)?;
    // Looked up by id and grouped by folder once: a season of 3,000 agencies and 20,000
    // files must not cost agencies × files comparisons (the console draws this per request).
    let receipts: HashMap<i64, &str> = all.iter().map(|s| (s.id, s.receipt.as_str())).collect();
    let receipt_of =
        |id: Option<i64>| id.and_then(|id| receipts.get(&id).map(|r| (*r).to_string()));
    let of_year: Vec<&Submission> = all
        .iter()
        .filter(|s| s.year.is_none_or(|y| y == i64::from(year)))
        .collect();
    let mut by_folder: HashMap<Option<String>, Vec<&Submission>> = HashMap::new();
    for s in &of_year {
        by_folder
            .entry(s.agency_folder.clone())
            .or_default()
            .push(s);
    }
    let of_folder = |folder: Option<&str>| {
        by_folder
            .get(&folder.map(str::to_string))
            .map_or(&[][..], Vec::as_slice)
    };
    // The latest file of any kind of each folder: in the season's own overview, a report
    // of another year is what the agency sent (未提交 means nothing received).
    let season = season_year(config) == year;
    let mut latest_any: HashMap<Option<&str>, &Submission> = HashMap::new();
    for s in all.iter().filter(|s| season || s.year.is_none()) {
        latest_any.insert(s.agency_folder.as_deref(), s);
    }
    let held: HashSet<i64> = crate::store::review::held_ids(store.connection())?
        .into_iter()
        .collect();
    let configured: HashSet<&str> = config.agencies.iter().map(|a| a.folder.as_str()).collect();
    let submissions: Vec<SubmissionStatus> = of_year
        .iter()
        .map(|s| SubmissionStatus {
            receipt: s.receipt.clone(),
            agency: s.agency_name.clone(),
            agency_folder: s.agency_folder.clone(),
            file: s.original_name.clone(),
            sha256: s.sha256.clone(),
            received_at: s.received_at.clone(),
            year: s.year,
            state: s.state,
            verdict: s.verdict,
            errors: s.errors,
            warnings: s.warnings,
            duplicate_of: receipt_of(s.duplicate_of),
            superseded: s.superseded_by.is_some(),
            reviewed: s.reviewed,
        })
        .collect();
    let mut agencies: Vec<AgencyStatus> = config
        .agencies
        .iter()
        .map(|a| {
            agency_status(
                Some(&a.folder),
                Some(&a.name),
                true,
                of_folder(Some(&a.folder)),
            )
        })
        .collect();
    // Folders that sent files but are not configured, folders of the inbox not configured
    // (on built-in defaults every folder is an agency), and files with no agency at all.
    let mut unknown: Vec<Option<String>> = of_year
        .iter()
        .map(|s| s.agency_folder.clone())
        .chain(inbox_folders(config).into_iter().map(Some))
        .filter(|f| f.as_deref().is_some_and(|f| !configured.contains(f)))
        .collect();
    unknown.sort();
    unknown.dedup();
    for folder in unknown {
        let mine = of_folder(folder.as_deref());
        let name = mine.iter().find_map(|s| s.agency_name.clone());
        agencies.push(agency_status(
            folder.as_deref(),
            name.as_deref(),
            false,
            mine,
        ));
    }
    let mut other_years: Vec<OtherYear> = Vec::new();
    for y in all.iter().filter_map(|s| s.year) {
        if y == i64::from(year) {
            continue;
        }
        match other_years.iter_mut().find(|o| o.year == y) {
            Some(o) => o.submissions += 1,
            None => other_years.push(OtherYear {
                year: y,
                submissions: 1,
            }),
        }
    }
    other_years.sort_by_key(|o| std::cmp::Reverse(o.year));
    for a in &mut agencies {
        a.held = a.receipt.as_deref().is_some_and(|r| {
            of_folder(a.folder.as_deref())
                .iter()
                .any(|s| s.receipt == r && held.contains(&s.id))
        });
        if !a.submitted
            && let Some(s) = latest_any.get(&a.folder.as_deref())
        {
            a.received = Some(Received::of(s, held.contains(&s.id)));
        }
    }
    mark_overdue(&mut agencies, config, year, crate::time::china_now().date());
    let unassigned = submissions
        .iter()
        .filter(|s: &&SubmissionStatus| s.agency_folder.is_none() && s.duplicate_of.is_none())
        .cloned()
        .collect();
    Ok(Status {
        year,
        unassigned,
        submissions,
        agencies,
        other_years,
    })
}

/// The agency folders present in the inbox: top-level folders the watcher reads (no
/// symlinks, no hidden or temporary names, not `回执`). Empty when the inbox cannot be
/// listed (e.g. `status` run elsewhere than the daemon).
pub fn inbox_folders(config: &Config) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(&config.inbox) else {
        return Vec::new();
    };
    let mut folders: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| !crate::watch::is_ignored_name(name) && name != crate::watch::RECEIPT_DIR)
        .collect();
    folders.sort();
    folders
}

fn agency_status(
    folder: Option<&str>,
    name: Option<&str>,
    configured: bool,
    subs: &[&Submission],
) -> AgencyStatus {
    let mine: Vec<&&Submission> = subs
        .iter()
        .filter(|s| s.agency_folder.as_deref() == folder)
        .collect();
    let latest = mine.iter().rev().find(|s| {
        s.state == SubmissionState::Checked && s.superseded_by.is_none() && s.year.is_some()
    });
    AgencyStatus {
        folder: folder.map(str::to_string),
        name: name.map(str::to_string),
        configured,
        submitted: latest.is_some(),
        receipt: latest.map(|s| s.receipt.clone()),
        file: latest.map(|s| s.original_name.clone()),
        received_at: latest.map(|s| s.received_at.clone()),
        verdict: latest.and_then(|s| s.verdict),
        errors: latest.and_then(|s| s.errors),
        warnings: latest.and_then(|s| s.warnings),
        submissions: mine.len(),
        deadline: None,
        overdue: false,
        reviewed: latest.is_some_and(|s| s.reviewed),
        held: false,
        rework: false,
        received: None,
    }
}

/// Sets each agency's deadline for report year `year` (filed in `year + 1`), and whether
/// it is overdue on `today`.
pub fn mark_overdue(
    agencies: &mut [AgencyStatus],
    config: &Config,
    year: i32,
    today: jiff::civil::Date,
) {
    // By folder once: `Config::agency` is a scan, and the console draws 3,000 rows.
    let configured: HashMap<&str, &crate::config::Agency> = config
        .agencies
        .iter()
        .map(|a| (a.folder.as_str(), a))
        .collect();
    for a in agencies {
        let Some(folder) = &a.folder else { continue };
        let mut agency = match configured.get(folder.as_str()) {
            Some(agency) => (*agency).clone(),
            None => config.agency_or_folder(folder),
        };
        if !a.configured
            && let Some(name) = &a.name
        {
            agency.name.clone_from(name);
        }
        let deadline = crate::config::deadlines::deadline_of(config, &agency, year + 1);
        a.overdue = !a.submitted
            && deadline.is_some_and(|d| crate::config::deadlines::is_overdue(d, today));
        a.deadline = deadline.map(|d| d.to_string());
        let rework = i64::from(config.reminders.rework_days);
        a.rework = rework > 0
            && a.submitted
            && !a.held
            && a.verdict == Some(crate::store::Verdict::Rejected)
            && a.received_at
                .as_deref()
                .map(crate::time::china_time)
                .and_then(|t| {
                    t.get(..10)
                        .and_then(|d| d.parse::<jiff::civil::Date>().ok())
                })
                .and_then(|d| d.until(today).ok())
                .is_some_and(|span| i64::from(span.get_days()) >= rework);
    }
}

/// The overview as a clerk reads it.
pub fn render(status: &Status) -> String {
    // Over 80 lines on purpose: the clerk's text in the order it is read: each section is a few
    // lines of formatting over the same status.
    let mut out = format!("{} 年度报告报送情况\n", status.year);
    let (mut accepted, mut rejected, mut missing, mut overdue, mut received) = (0, 0, 0, 0, 0);
    let mut rework = 0;
    let reviewed = status.agencies.iter().filter(|a| a.reviewed).count();
    for a in &status.agencies {
        let who = a
            .name
            .as_deref()
            .or(a.folder.as_deref())
            .map_or("（收件箱根目录，未归属单位）".into(), controls);
        let line = match (a.submitted, a.verdict) {
            (false, _) if a.received.is_some() => {
                received += 1;
                let r = a.received.as_ref();
                format!(
                    "已收到  {}  {}（{}）",
                    controls(r.map_or("", |r| r.receipt.as_str())),
                    controls(r.map_or("", |r| r.file.as_str())),
                    r.map_or("", |r| r.what.as_str())
                )
            }
            (false, _) if a.overdue => {
                missing += 1;
                overdue += 1;
                format!(
                    "未提交（逾期，截止 {}）",
                    a.deadline.as_deref().unwrap_or("")
                )
            }
            (false, _) => {
                missing += 1;
                "未提交".to_string()
            }
            (true, Some(Verdict::Accepted)) => {
                accepted += 1;
                format!(
                    "已受理  {}  {}（{} 条提示）",
                    controls(a.receipt.as_deref().unwrap_or("")),
                    controls(a.file.as_deref().unwrap_or("")),
                    a.warnings.unwrap_or(0)
                )
            }
            (true, _) => {
                rejected += 1;
                if a.rework {
                    rework += 1;
                }
                format!(
                    "需修改{}  {}  {}（{} 个错误，{} 条提示）",
                    if a.rework { "（退回未改）" } else { "" },
                    controls(a.receipt.as_deref().unwrap_or("")),
                    controls(a.file.as_deref().unwrap_or("")),
                    a.errors.unwrap_or(0),
                    a.warnings.unwrap_or(0)
                )
            }
        };
        let note = if a.configured {
            ""
        } else {
            "  [未登记的文件夹]"
        };
        let mark = if a.reviewed { "  [人工复核]" } else { "" };
        out.push_str(&format!("  {who}：{line}{mark}{note}\n"));
    }
    out.push_str(&format!(
        "合计：已受理 {accepted}，需修改 {rejected}，未提交 {missing}{}{}；共收到文件 {} 个。\n",
        if overdue > 0 {
            format!("（其中逾期 {overdue}）")
        } else {
            String::new()
        },
        if received > 0 {
            format!("，已收到但未受理 {received}")
        } else {
            String::new()
        },
        status.submissions.len()
    ));
    if rework > 0 {
        out.push_str(&format!(
            "其中 {rework} 个单位退回未改：报告经审核需修改，超过期限仍未重新报送（标“退回未改”）。\n"
        ));
    }
    if reviewed > 0 {
        out.push_str(&format!(
            "其中 {reviewed} 个单位的审核结果经人工复核（标 [人工复核]）。\n"
        ));
    }
    for s in &status.unassigned {
        out.push_str(&format!(
            "  待归属（收件箱根目录的文件）：{}  {}，请在审核台归属到单位\n",
            controls(&s.receipt),
            controls(&s.file)
        ));
    }
    for o in &status.other_years {
        out.push_str(&format!(
            "另有 {} 年度 {} 份，用 --year {} 查看\n",
            o.year, o.submissions, o.year
        ));
    }
    out
}
