//! `nianbao check FILE...`: one-off checks, printed for people or as JSON.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use nianbao::width::{display_width, pad_right, right_aligned, truncate};

use nianbao::check::{CheckResult, check_bytes, check_bytes_with, current_year};
use nianbao::finding::Severity;
use nianbao::report::{AppColumn, AppRow, Report, schema};
use nianbao::validate::Context;

/// What happened to one file on the command line.
enum Outcome {
    Checked(Box<CheckResult>),
    Unreadable(String),
}

pub(super) fn check(
    files: &[PathBuf],
    json: bool,
    show: bool,
    previous: Option<&std::path::Path>,
    filing_year: Option<i32>,
    limit: u64,
) -> ExitCode {
    // Over 80 lines on purpose: the command from arguments to exit code: reading, checking in
    // parallel, printing (human, JSON, table) and the tally share the output streams and the
    // progress bar.
    let previous = match previous.map(|p| read_regular(p, limit)) {
        None => None,
        Some(Ok(Bounded::Bytes(bytes))) => {
            let name = previous
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            match check_bytes(&bytes, &name).report {
                Some(report) => Some(report),
                None => {
                    eprintln!(
                        "nianbao: {name}: not readable as a report; cross-year rules skipped"
                    );
                    None
                }
            }
        }
        Some(Ok(Bounded::TooLarge(size))) => {
            eprintln!("nianbao: --previous: 文件 {size} 字节，超过 {limit} 字节的上限，未读取");
            return ExitCode::from(2);
        }
        Some(Err(e)) => {
            eprintln!("nianbao: --previous: {e}");
            return ExitCode::from(2);
        }
    };
    let ctx = Context {
        previous: previous.as_ref(),
        filing_year: filing_year.unwrap_or_else(current_year),
        same_year: None,
    };
    let files = match nianbao::files::report_files(files) {
        Ok(files) if !files.is_empty() => files,
        Ok(_) => {
            eprintln!("nianbao: no report files found (folders are read recursively)");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("nianbao: {e}");
            return ExitCode::from(2);
        }
    };
    // Hidden when stderr is not a terminal (indicatif checks), and for a file or two.
    let bar = if files.len() > 3 {
        indicatif::ProgressBar::new(files.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} 份 {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let outcomes = check_parallel(&files, &ctx, limit, &bar);
    bar.finish_and_clear();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut status = 0u8;
    let mut tally = Tally::default();
    for (path, outcome) in files.iter().zip(outcomes) {
        tally.add(&outcome);
        match outcome {
            Outcome::Unreadable(msg) => {
                eprintln!("nianbao: {}: {msg}", path.display());
                status = 2;
            }
            Outcome::Checked(result) => {
                if !result.accepted() {
                    status = status.max(1);
                }
                let written = if json {
                    serde_json::to_string(&*result)
                        .map_err(std::io::Error::other)
                        .and_then(|s| writeln!(out, "{s}"))
                } else {
                    write_human(&mut out, &result, show)
                };
                if written.is_err() {
                    // stdout closed (e.g. piped into `head`): stop quietly.
                    return ExitCode::from(status);
                }
            }
        }
    }
    if files.len() > 1 {
        // JSON Lines stay machine-readable: the table goes to stderr then.
        let written = if json {
            tally.write(&mut std::io::stderr().lock())
        } else {
            tally.write(&mut out)
        };
        if written.is_err() {
            return ExitCode::from(status);
        }
    }
    ExitCode::from(status)
}

/// The summary of a folder: how many files were accepted, need changes, could not be read.
#[derive(Default)]
struct Tally {
    files: usize,
    accepted: usize,
    rejected: usize,
    unreadable: usize,
}

impl Tally {
    fn add(&mut self, outcome: &Outcome) {
        self.files += 1;
        match outcome {
            Outcome::Unreadable(_) => self.unreadable += 1,
            // Not a report at all (format, damage, scan): unreadable, not merely wrong.
            Outcome::Checked(r) if r.readable_report().is_none() => self.unreadable += 1,
            Outcome::Checked(r) if r.accepted() => self.accepted += 1,
            Outcome::Checked(_) => self.rejected += 1,
        }
    }

    fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let header = ["文件", "已受理", "需修改", "无法读取"];
        write_counts(
            out,
            &header,
            &[self.files, self.accepted, self.rejected, self.unreadable],
        )
    }
}

/// `汇总`, then a header and a line of counts, right-aligned by display width.
pub(super) fn write_counts(
    out: &mut impl Write,
    header: &[&str],
    counts: &[usize],
) -> std::io::Result<()> {
    let values: Vec<String> = counts.iter().map(usize::to_string).collect();
    writeln!(out, "汇总")?;
    let widths: Vec<usize> = header
        .iter()
        .zip(&values)
        .map(|(h, v)| display_width(h).max(v.len()))
        .collect();
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    writeln!(out, "{}", right_aligned(header, &widths, "  "))?;
    writeln!(out, "{}", right_aligned(&values, &widths, "  "))
}

/// Checks files on all cores, keeping their order.
fn check_parallel(
    files: &[PathBuf],
    ctx: &Context<'_>,
    limit: u64,
    bar: &indicatif::ProgressBar,
) -> Vec<Outcome> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    let chunk = files.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|paths| {
                scope.spawn(move || {
                    paths
                        .iter()
                        .map(|p| {
                            let outcome = check_path(p, ctx, limit);
                            bar.inc(1);
                            outcome
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Outcome::Unreadable("内部错误".into())])
            })
            .collect()
    })
}

/// What [`read_regular`] read: the bytes, or only the size when over the limit.
enum Bounded {
    Bytes(Vec<u8>),
    TooLarge(u64),
}

/// A file named or found for `check`: opened without blocking (a FIFO must not hang), then
/// refused unless it is a regular file (a device such as `/dev/zero` reports size 0 and
/// never ends), and read up to `limit` bytes only, whatever its size claimed.
fn read_regular(path: &std::path::Path, limit: u64) -> Result<Bounded, String> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| format!("cannot read: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if meta.is_dir() {
        return Err("is a directory".into());
    }
    if !meta.is_file() {
        return Err("不是普通文件（管道、设备或套接字），未读取 / not a regular file".into());
    }
    if meta.len() > limit {
        // Answered from its size, without reading it.
        return Ok(Bounded::TooLarge(meta.len()));
    }
    let mut bytes = Vec::new();
    std::io::Read::by_ref(&mut file)
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > limit {
        // Grew while it was read.
        return Ok(Bounded::TooLarge(bytes.len() as u64));
    }
    Ok(Bounded::Bytes(bytes))
}

fn check_path(path: &std::path::Path, ctx: &Context<'_>, limit: u64) -> Outcome {
    let name = path.display().to_string();
    match read_regular(path, limit) {
        Err(msg) => Outcome::Unreadable(msg),
        Ok(Bounded::TooLarge(size)) => Outcome::Checked(Box::new(too_large(&name, size, limit))),
        Ok(Bounded::Bytes(bytes)) => {
            Outcome::Checked(Box::new(check_bytes_with(&bytes, &name, ctx)))
        }
    }
}

/// The answer to a file over the size limit: `file.too_large` alone, no sha256.
fn too_large(name: &str, size: u64, limit: u64) -> CheckResult {
    let mut result = check_bytes(&[], name);
    result.findings = vec![nianbao::finding::Finding::new(
        &nianbao::rules::FILE_TOO_LARGE,
        Default::default(),
        nianbao::extract::ExtractError::TooLarge { size, limit }.to_string(),
    )];
    result.sha256.clear();
    result
}

fn write_human(out: &mut impl Write, r: &CheckResult, show: bool) -> std::io::Result<()> {
    let what = r
        .report
        .as_ref()
        .map(|rep| {
            format!(
                "{} {}",
                rep.agency.as_deref().unwrap_or("（未识别单位）"),
                rep.year
                    .map_or("（未识别年度）".to_string(), |y| format!("{y}年"))
            )
        })
        .unwrap_or_default();
    let format = r.format.map_or("?", |f| f.as_str());
    let encoding = r.encoding.map(|e| format!(", {e}")).unwrap_or_default();
    let template = r
        .template
        .map(|t| format!("  模板 {}", t.as_str()))
        .unwrap_or_default();
    writeln!(out, "{}  [{format}{encoding}]  {what}{template}", r.file)?;
    let verdict = if r.accepted() { "通过" } else { "需修改" };
    writeln!(
        out,
        "  {verdict}：{} 个错误，{} 个提示",
        r.errors(),
        r.warnings()
    )?;
    for c in &r.likely_culprits {
        writeln!(out, "  → 最可能的原因：{}", c.message())?;
    }
    for f in &r.findings {
        let mark = match f.severity {
            Severity::Error => "✗ 错误",
            Severity::Warning => "! 提示",
        };
        writeln!(out, "  {mark} [{}] {}", f.rule, f.message)?;
    }
    if show && let Some(report) = &r.report {
        write_tables(out, report)?;
    }
    writeln!(out)
}

fn cell(v: Option<i64>) -> String {
    v.map_or("—".to_string(), |v| v.to_string())
}

fn write_tables(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    // Over 80 lines on purpose: the tables of a report, printed one after the other in the report's
    // order.
    writeln!(out, "  表一 主动公开政府信息情况")?;
    match &r.active_disclosure {
        Some(t) => {
            for row in schema::t1_rows(t.template()) {
                let values = t.row_values(row.label.id);
                let cells: Vec<String> = row
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(k, c)| {
                        let v = values.as_ref().and_then(|v| v.get(k).cloned().flatten());
                        let v = schema::T1Value::shown(&v).unwrap_or_else(|| "—".into());
                        format!("{} {v}", c.brief)
                    })
                    .collect();
                writeln!(out, "    {}：{}", row.label.printed, cells.join(" "))?;
            }
        }
        None => writeln!(out, "    （未读取）")?,
    }
    writeln!(out, "  表二 收到和处理政府信息公开申请情况")?;
    match &r.applications {
        Some(apps) => {
            // Aligned in terminal columns: labels and headers are CJK (two columns each).
            let header: Vec<&str> = AppColumn::ALL
                .iter()
                .map(|c| schema::app_column_printed(*c))
                .collect();
            let rows: Vec<(String, Option<Vec<String>>)> = AppRow::ALL
                .iter()
                .filter_map(|row| {
                    let values = apps.rows.get(row)?;
                    let cells = values
                        .as_ref()
                        .map(|v| v.iter().map(|x| cell(*x)).collect::<Vec<_>>());
                    // The longest labels (（六）'s) would push the numbers off the screen.
                    Some((truncate(schema::app_row(*row).printed, 36), cells))
                })
                .collect();
            let label_w = rows
                .iter()
                .map(|(l, _)| display_width(l))
                .max()
                .unwrap_or(0);
            let widths: Vec<usize> = header
                .iter()
                .enumerate()
                .map(|(k, h)| {
                    rows.iter()
                        .filter_map(|(_, v)| v.as_ref().map(|v| display_width(&v[k])))
                        .max()
                        .unwrap_or(0)
                        .max(display_width(h))
                })
                .collect();
            let line = |cells: Vec<&str>| right_aligned(&cells, &widths, " | ");
            writeln!(
                out,
                "    {}  {}",
                pad_right("", label_w),
                line(header.clone())
            )?;
            for (label, values) in &rows {
                let shown = match values {
                    Some(v) => line(v.iter().map(String::as_str).collect()),
                    None => "（未读取）".to_string(),
                };
                writeln!(out, "    {}  {shown}", pad_right(label, label_w))?;
            }
        }
        None => writeln!(out, "    （未读取）")?,
    }
    writeln!(
        out,
        "  表三 行政复议、行政诉讼情况（维持 纠正 其他 未结 总计）"
    )?;
    match &r.reviews_and_litigation {
        Some(t3) => {
            for ((_, g), (_, name)) in t3.groups().into_iter().zip(schema::T3_GROUPS) {
                let v: Vec<String> = g.values().iter().map(|x| cell(*x)).collect();
                writeln!(out, "    {name}：{}", v.join(" "))?;
            }
        }
        None => writeln!(out, "    （未读取）")?,
    }
    Ok(())
}
