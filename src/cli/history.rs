//! `nianbao import` (last year's reports as history) and `nianbao compare OLD NEW`; the work
//! is done by the library modules `nianbao::import` and `nianbao::compare`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use nianbao::import::{Outcome, Summary};

pub fn import(dir: &Path, year: i32, config: Option<&Path>) -> ExitCode {
    let config = match super::load_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let store = match super::open_store(&config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // Drawn on stderr, and not at all when stderr is not a terminal (indicatif checks).
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} 份 {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let summary = nianbao::import::import(&store, &config, dir, year, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let summary = match summary {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            return ExitCode::from(2);
        }
    };
    if write_summary(&mut std::io::stdout().lock(), dir, &summary).is_err() {
        return ExitCode::from(2);
    }
    if summary.complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn write_summary(out: &mut impl Write, dir: &Path, s: &Summary) -> std::io::Result<()> {
    writeln!(
        out,
        "{}：{} 年度报告作为往年历史导入（不是报送，不发邮件）",
        dir.display(),
        s.year
    )?;
    let list = |out: &mut dyn Write, title: &str, pick: &dyn Fn(&Outcome) -> Option<String>| {
        let lines: Vec<String> = s
            .files
            .iter()
            .filter_map(|f| pick(&f.outcome).map(|why| format!("  {}  {why}", f.file)))
            .collect();
        if lines.is_empty() {
            return Ok(());
        }
        writeln!(out, "{title}")?;
        lines.iter().try_for_each(|l| writeln!(out, "{l}"))
    };
    list(
        out,
        "未匹配单位（把文件放进单位的文件夹，或在配置中加入该单位，然后重新导入）：",
        &|o| match o {
            Outcome::Unmatched { agency, candidates } => {
                let mut why = match agency {
                    Some(a) => format!("报告标题中的单位：{a}"),
                    None => "报告标题中没有单位名称".to_string(),
                };
                if !candidates.is_empty() {
                    why.push_str(&format!("（可能是：{}）", candidates.join("、")));
                }
                Some(why)
            }
            _ => None,
        },
    )?;
    list(
        out,
        &format!("年度不符（只导入 {} 年度的报告）：", s.year),
        &|o| match o {
            Outcome::WrongYear { year } => {
                Some(year.map_or("报告标题中没有年度".to_string(), |y| {
                    format!("报告年度：{y}")
                }))
            }
            _ => None,
        },
    )?;
    list(out, "无法读取：", &|o| match o {
        Outcome::Unreadable { reason } => Some(reason.clone()),
        _ => None,
    })?;
    let c = s.counts();
    super::check::write_counts(
        out,
        &[
            "文件",
            "已导入",
            "已存在",
            "未匹配单位",
            "无法读取",
            "年度不符",
        ],
        &[
            s.files.len(),
            c.imported,
            c.already_there,
            c.unmatched,
            c.unreadable,
            c.wrong_year,
        ],
    )
}

pub fn compare(old: &Path, new: &Path, json: bool) -> ExitCode {
    let read = |path: &Path| -> Result<nianbao::report::Report, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let result = nianbao::check::check_bytes(&bytes, &path.display().to_string());
        result.readable_report().cloned().ok_or_else(|| {
            let why = result
                .findings
                .first()
                .map_or(String::new(), |f| format!(": {}", f.message));
            format!("{}: not readable as a report{why}", path.display())
        })
    };
    let (old_report, new_report) = match (read(old), read(new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("nianbao: {e}");
            return ExitCode::from(2);
        }
    };
    let c = nianbao::compare::compare(
        &old.display().to_string(),
        &old_report,
        &new.display().to_string(),
        &new_report,
    );
    let text = if json {
        match serde_json::to_string_pretty(&c) {
            Ok(t) => t + "\n",
            Err(e) => {
                eprintln!("nianbao: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        nianbao::compare::render(&c)
    };
    // A closed stdout (piped into `head`) is not an error worth a message.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    ExitCode::SUCCESS
}
