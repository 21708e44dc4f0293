//! The daemon's daily upkeep (issue 23): the backup into `[backup] dir` with its rotation,
//! and the retention of archived originals (`[retention] archive_years`). Done at start
//! and then once an hour if the China day has changed; asleep in between.

use std::sync::Arc;
use std::time::Duration;

use super::{Pipeline, now_utc};

/// How often the upkeep looks whether a new day has begun.
const EVERY: Duration = Duration::from_secs(3600);

pub(super) async fn upkeep(pipeline: Arc<Pipeline>) {
    let mut stop = pipeline.stop_signal();
    let mut last_day = None;
    loop {
        let today = crate::time::china_now().date();
        if last_day != Some(today) {
            let done = pipeline
                .blocking(|p| {
                    let config = p.config();
                    if let Some(what) = crate::backup::daily(&p.paths.db, &config.backup)? {
                        tracing::info!("daily {what}");
                    }
                    retention(p, &config)
                })
                .await;
            match done {
                Ok(()) => last_day = Some(today),
                // Tried again at the next look (a full backup disk, a folder not there yet).
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "daily upkeep failed"),
            }
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            () = crate::recovery::stopped(&mut stop) => return,
        }
    }
}

/// `[retention] archive_years`: removes the originals of old report years (see
/// `crate::retention`), logs it and tells the admin once per sweep that removed any.
fn retention(p: &Pipeline, config: &crate::config::Config) -> anyhow::Result<()> {
    let filing = config.filing_year_or_current();
    let now = now_utc();
    let swept = crate::retention::sweep(
        p.store().connection(),
        &config.retention,
        i64::from(filing) - 1,
        &now,
        |sha| p.paths.archived(sha),
    )?;
    let Some(s) = swept.filter(|s| s.submissions > 0) else {
        return Ok(());
    };
    tracing::info!(
        files = s.files,
        bytes = s.bytes,
        submissions = s.submissions,
        before_year = s.before_year,
        archive_years = config.retention.archive_years,
        "retention: archived originals of old report years removed; records kept"
    );
    let queued = p.queue_admin_notice(
        &format!("notice/retention/{now}"),
        format!(
            "【归档清理】已删除 {} 年度以前的 {} 份原件",
            s.before_year, s.files
        ),
        format!(
            "按 [retention] archive_years = {} 的设置，已从归档目录删除 {} 年度以前报告的原件 {} 份（共 {} 字节，涉及 {} 份提交）。\n\n这些提交的审核记录、读取结果、问题清单、邮件和各单位的回执文件均保留；控制台的提交页面注明原件已删除。",
            config.retention.archive_years, s.before_year, s.files, s.bytes, s.submissions
        ),
    )?;
    if queued {
        p.mail_wakeup.kick();
    }
    Ok(())
}

/// The deepest folder level below the inbox the look-out walks.
const MAX_DEPTH: usize = 8;

/// A file found in the inbox: its path below the inbox, identity, and age (since its
/// status last changed: when it arrived, was renamed or chmod'ed there; an mtime kept by
/// the copy would make a fresh drop look old).
struct Waiting {
    rel: String,
    identity: String,
    age_s: u64,
}

/// The inbox's look-out (issue 23): every `rescan_interval_s`, counts the files still in
/// the inbox (what the watcher would take: no ignored names, no `回执`, no links), sets the
/// `nianbao_inbox_*` gauges, and tells the admin once about files left there unanswered
/// for longer than `stuck_after_s` (a file the daemon's user cannot read, a permission
/// problem on the share).
pub(super) async fn inbox_lookout(pipeline: Arc<Pipeline>) {
    let mut stop = pipeline.stop_signal();
    let told = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    loop {
        let every = pipeline.config().rescan_interval_s.at_least_one();
        let told = Arc::clone(&told);
        let looked = pipeline
            .blocking(move |p| {
                let mut told = told.lock().unwrap_or_else(|e| e.into_inner());
                look_at_inbox(p, &mut told)
            })
            .await;
        if let Err(e) = looked {
            tracing::warn!(error = %format!("{e:#}"), "cannot look at the inbox's waiting files");
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = crate::recovery::stopped(&mut stop) => return,
        }
    }
}

fn look_at_inbox(p: &Pipeline, told: &mut std::collections::HashSet<String>) -> anyhow::Result<()> {
    let config = p.config();
    let mut found = Vec::new();
    walk(&config.inbox, "", 0, &mut found);
    let limit = config.stuck_after_s.count().max(1);
    let oldest = found.iter().map(|w| w.age_s).max().unwrap_or(0);
    let mut overdue: Vec<&Waiting> = found.iter().filter(|w| w.age_s > limit).collect();
    p.metrics
        .inbox_waiting
        .set(i64::try_from(overdue.len()).unwrap_or(i64::MAX));
    p.metrics
        .inbox_oldest_age
        .set(i64::try_from(oldest).unwrap_or(i64::MAX));
    // Forget files that left; tell about the ones newly overdue, in one notice.
    told.retain(|id| overdue.iter().any(|w| w.identity == *id));
    overdue.retain(|w| !told.contains(&w.identity));
    if overdue.is_empty() {
        return Ok(());
    }
    overdue.sort_by(|a, b| a.rel.cmp(&b.rel));
    let ids: Vec<&str> = overdue.iter().map(|w| w.identity.as_str()).collect();
    let key = format!(
        "notice/inbox-waiting/{}",
        &crate::check::sha256_hex(ids.join("\n").as_bytes())[..16]
    );
    let list: Vec<String> = overdue
        .iter()
        .take(50)
        .map(|w| {
            format!(
                "- {}（已等待 {} 秒）",
                crate::escape::controls(&w.rel),
                w.age_s
            )
        })
        .collect();
    let more = overdue.len().saturating_sub(list.len());
    tracing::warn!(
        files = overdue.len(),
        first = %crate::escape::controls(&overdue[0].rel),
        stuck_after_s = limit,
        "files left in the inbox unanswered; the admin is told"
    );
    p.queue_admin_notice(
        &key,
        format!("【收件箱有文件未处理】{} 个文件", overdue.len()),
        format!(
            "以下文件在收件箱中已超过 {limit} 秒仍未处理，各单位也尚未收到回执：\n{}{}\n\n常见原因：审核程序的用户无权读取这些文件（共享的权限、属组或 create mask 设置不当），或文件属于共享以外的账号。请检查并修正文件权限；文件可读后会自动处理，无需重新提交。",
            list.join("\n"),
            if more > 0 {
                format!("\n……另有 {more} 个")
            } else {
                String::new()
            }
        ),
    )?;
    p.mail_wakeup.kick();
    told.extend(overdue.iter().map(|w| w.identity.clone()));
    Ok(())
}

/// The files below `dir` the watcher would take, without following links.
fn walk(dir: &std::path::Path, rel: &str, depth: usize, out: &mut Vec<Waiting>) {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if crate::watch::is_ignored_name(&name) || name == crate::watch::RECEIPT_DIR {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if kind.is_dir() && depth < MAX_DEPTH {
            walk(&entry.path(), &path, depth + 1, out);
        } else if kind.is_file()
            && let Ok(meta) = entry.metadata()
        {
            out.push(Waiting {
                rel: path,
                identity: crate::watch::FileIdentity::of(&meta).key(),
                age_s: now.saturating_sub(u64::try_from(meta.ctime()).unwrap_or(0)),
            });
        }
    }
}
