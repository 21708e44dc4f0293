//! Legacy Word and WPS (.doc, .wps), OpenDocument text (.odt), and spreadsheets calamine
//! cannot open (.et): converted by LibreOffice, headless, then read like their modern twins.
//!
//! Nobody should hand-write a .doc reader in 2026: LibreOffice reads them all. It runs as a
//! bounded subprocess (see `subprocess`): one conversion at a time, a private profile, a
//! timeout, an address-space limit, its whole process group killed on timeout. When it is not
//! installed the submitter is told the one thing that always works: save as .docx.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::ExtractError;
use super::subprocess::{self, Limits, RunError};

const LIMITS: Limits = Limits {
    timeout: Duration::from_secs(120),
    max_output: 1024 * 1024,
    max_memory: 4 * 1024 * 1024 * 1024,
};

/// LibreOffice shares state through its profile: one conversion at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Which LibreOffice output filter to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Docx,
    Xlsx,
}

/// `bytes` (a file LibreOffice can open, named `*.{ext}`) converted to `target`.
pub fn convert(bytes: &[u8], ext: &str, target: Target) -> Result<Vec<u8>, ExtractError> {
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let work = std::env::temp_dir().join(format!(
        "nianbao-convert-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = convert_in(&work, bytes, ext, target);
    let _ = std::fs::remove_dir_all(&work);
    drop(guard);
    result
}

fn convert_in(
    work: &Path,
    bytes: &[u8],
    ext: &str,
    target: Target,
) -> Result<Vec<u8>, ExtractError> {
    let failed = |detail: String| ExtractError::Corrupt { detail };
    let out = work.join("out");
    std::fs::create_dir_all(&out).map_err(|e| failed(format!("无法创建临时目录：{e}")))?;
    let input: PathBuf = work.join(format!("input.{ext}"));
    std::fs::write(&input, bytes).map_err(|e| failed(format!("无法写入临时文件：{e}")))?;
    let profile = format!(
        "-env:UserInstallation=file://{}",
        work.join("profile").display()
    );
    let filter = match target {
        Target::Docx => "docx",
        Target::Xlsx => "xlsx",
    };
    let args = [
        "--headless".as_ref(),
        "--norestore".as_ref(),
        "--nolockcheck".as_ref(),
        "--nodefault".as_ref(),
        profile.as_ref(),
        "--convert-to".as_ref(),
        filter.as_ref(),
        "--outdir".as_ref(),
        out.as_os_str(),
        input.as_os_str(),
    ];
    match subprocess::run("soffice", &args, None, LIMITS) {
        Ok(_) => {}
        Err(RunError::NotFound(_)) => {
            return Err(ExtractError::Unsupported {
                format: "旧版 Word/WPS（.doc/.wps/.et）",
                hint: "请另存为 .docx 后重新提交",
            });
        }
        Err(RunError::Timeout { secs, .. }) => {
            return Err(ExtractError::Hostile {
                detail: format!("文件在 {secs} 秒内未能转换"),
            });
        }
        Err(e) => return Err(failed(format!("LibreOffice 无法转换：{e}"))),
    }
    let converted = out.join(format!("input.{filter}"));
    std::fs::read(&converted).map_err(|_| ExtractError::Corrupt {
        detail:
            "LibreOffice 无法打开该文件（已损坏，或并非 Word/WPS 文档），请另存为 .docx 后重新提交"
                .into(),
    })
}
