//! `nianbao config check`: the configuration read and checked as `nianbao run` reads it,
//! then what it sets up (agencies, OCR, deadlines) in plain words.

use std::path::Path;
use std::process::ExitCode;

use nianbao::config::Config;

pub(super) fn check(config: &Path) -> ExitCode {
    match Config::load(config)
        .map_err(anyhow::Error::from)
        .and_then(|c| {
            nianbao::preflight::check(&c)?;
            Ok(c)
        }) {
        Ok(c) => {
            if c.metrics.listen.is_some() {
                eprintln!(
                    "nianbao: warning: {}",
                    nianbao::config::METRICS_LISTEN_RENAMED
                );
            }
            println!(
                "{}: OK ({} agencies{}; inbox {}; data {}; mail {})",
                config.display(),
                c.agencies.len(),
                if c.regions.is_empty() {
                    String::new()
                } else {
                    format!(
                        " in {} regions ({} without a region)",
                        c.regions.len(),
                        c.agencies.iter().filter(|a| a.region.is_none()).count()
                    )
                },
                c.inbox.display(),
                c.data_dir.display(),
                if c.mail.smtp.is_some() {
                    "SMTP"
                } else {
                    ".eml spool"
                }
            );
            println!("{}", c.ocr.describe());
            print!(
                "{}",
                nianbao::deadlines::describe(&c, nianbao::time::china_now().date())
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            ExitCode::from(2)
        }
    }
}
