//! The daemon's daily upkeep (issue 23): the backup into `[backup] dir` with its rotation,
//! and the retention of archived originals (`[retention] archive_years`). Done at start
//! and then once an hour if the China day has changed; asleep in between.

use std::sync::Arc;
use std::time::Duration;

use super::Pipeline;

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
                    Ok(())
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
