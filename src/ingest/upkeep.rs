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
    let filing = if config.filing_year > 0 {
        config.filing_year
    } else {
        crate::check::current_year()
    };
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
