//! Subcommands: `check` (one-off checks), `rules` (the catalogue).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nianbao::width::{display_width, pad_right, right_aligned, truncate};

use nianbao::check::{CheckResult, check_bytes, check_bytes_with, current_year};
use nianbao::config::Config;
use nianbao::finding::Severity;
use nianbao::report::{AppColumn, AppRow, Report, schema};
use nianbao::validate::Context;

mod db;
mod history;
mod user;

#[derive(Parser)]
#[command(
    name = "nianbao",
    version,
    about = "审核政府信息公开工作年度报告 / checks government information-disclosure annual reports"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check report files, or whole folders of them, and print what is wrong with each.
    ///
    /// Folders are read recursively (links are not followed; temporary files, hidden files and
    /// 回执 folders are skipped, as the daemon skips them). With more than one file, a summary
    /// table ends the output (on stderr with --json); on a terminal a progress bar shows how far
    /// it is.
    ///
    /// Scans (a PDF without text layer, or a .jpg/.jpeg/.png/.tif/.tiff page) are read by OCR
    /// when tesseract is installed: every finding then says whether it is about the report or
    /// about the reading (`about`), doubtful cells are named (`read.doubtful`, 读取存疑), and the
    /// report gets `file.ocr`; the daemon holds such feedback for an officer's review. Without
    /// tesseract a scan gets `file.scanned`.
    ///
    /// Exit status: 0 when no file has an error, 1 when at least one has, 2 when a file could
    /// not be checked at all (missing, unreadable).
    Check {
        /// Report files or folders (txt in any encoding, html, docx, xlsx/xls/et/ods, pdf,
        /// doc/wps/odt through LibreOffice, scans: image-only pdf, jpg, png, tif by OCR).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print one JSON object per file (JSON Lines), as documented in docs/check-json.md.
        #[arg(long)]
        json: bool,
        /// Also print the tables as read.
        #[arg(long)]
        show: bool,
        /// Last year's report of the same agency, for the cross-year rules (上年结转, 现行有效).
        #[arg(long, value_name = "FILE")]
        previous: Option<PathBuf>,
        /// The year the reports are filed in (default: this year); a report for year N is
        /// expected in year N+1.
        #[arg(long, value_name = "YEAR")]
        filing_year: Option<i32>,
        /// A configuration file whose `max_file_mb` bounds what is read of each file (the
        /// daemon's limit; 50 MB without one).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Run the daemon: watch the inbox, check every report dropped into it, answer by mail.
    ///
    /// Without --config: ./inbox, ./data, and mail written as .eml files to ./data/outbox.
    Run {
        /// Configuration file (TOML; every key optional).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Who has submitted what: per agency the latest submission and verdict, and who is
    /// missing.
    Status {
        /// Configuration file (default: built-in defaults, ./data).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Report year (default: the year before the filing year).
        #[arg(long, conflicts_with = "all")]
        year: Option<i32>,
        /// Every report year with submissions, newest first.
        #[arg(long)]
        all: bool,
        /// Print JSON: `submissions` (every submission), `agencies` and `other_years`
        /// (with --all: a list, one such object per year).
        #[arg(long)]
        json: bool,
    },
    /// The figures of one report year: one row per agency with every table value and the
    /// verdict, and a total row over the accepted reports.
    Export {
        /// Report year.
        #[arg(long)]
        year: i32,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Write here instead of standard output (required for xlsx).
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Only the agencies of this `[[region]]` and the regions below it.
        #[arg(long, value_name = "REGION", conflicts_with = "bundle")]
        region: Option<String>,
        /// Write the year as a signed bundle for another office's `nianbao import
        /// --bundle` (submissions, reports, findings, review decisions) instead of a table.
        #[arg(long)]
        bundle: bool,
        /// The bundle's key (default: `[bundle] key_file`).
        #[arg(long, value_name = "FILE", requires = "bundle")]
        key_file: Option<PathBuf>,
    },
    /// The season on one page: counts, submissions per day, the most frequent findings.
    Summary {
        /// Report year.
        #[arg(long)]
        year: i32,
        #[arg(long, value_enum, default_value = "html")]
        format: SummaryFormat,
        /// Write here instead of standard output (required for xlsx).
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// The mail outbox: what waits, what failed; send a submission's messages again.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Database commands.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Import last year's published reports as history, for the cross-year rules of
    /// nianbao's first season (not submissions: no receipt, no mail, not in status or export).
    ///
    /// DIR is read recursively like `check DIR`. Each file goes to the agency whose folder it
    /// is in (the first folder below DIR that is a configured agency folder; without
    /// configured agencies, the folder name), or else whose configured name the report's
    /// title gives. Files of another year, unreadable or unattributable ones are listed and
    /// skipped. Running it again changes nothing.
    ///
    /// Exit status: 0 when every file is in the store, 1 when some were skipped, 2 when the
    /// import could not run (folder, configuration, database).
    ///
    /// With `--bundle FILE --region R`: merge another office's signed bundle (`nianbao
    /// export --bundle`) into region R instead. Its signature is checked first (`[bundle]
    /// key_file`); a changed bundle is refused. Importing it again changes nothing.
    Import {
        /// The folder of published reports (PDF, docx and every format `check` reads).
        #[arg(required_unless_present = "bundle", conflicts_with = "bundle")]
        dir: Option<PathBuf>,
        /// The report year of these reports, e.g. 2025 to check 2026's reports against.
        #[arg(long, required_unless_present = "bundle")]
        year: Option<i32>,
        /// Configuration file: the agencies and data_dir (default: built-in defaults).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// A bundle written by another office's `nianbao export --bundle`.
        #[arg(long, value_name = "FILE", requires = "region")]
        bundle: Option<PathBuf>,
        /// The `[[region]]` the bundle's agencies go to (and the regions below it).
        #[arg(long, value_name = "REGION", requires = "bundle")]
        region: Option<String>,
        /// The bundle's key (default: `[bundle] key_file`).
        #[arg(long, value_name = "FILE", requires = "bundle")]
        key_file: Option<PathBuf>,
    },
    /// Two reports side by side: tables 1–3 value by value with differences marked (≠), and
    /// per section the share of NEW's sentences found in OLD once years and numbers are
    /// masked. For judging a 内容雷同 (copied report) warning.
    ///
    /// Exit status: 0 when both were compared, 2 when one cannot be read as a report.
    Compare {
        /// The older report (e.g. last year's).
        old: PathBuf,
        /// The newer report.
        new: PathBuf,
        /// Print the comparison as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// The users of the web console (`[http] listen`): who may log in, and as what.
    User {
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// Print the rule catalogue (id, severity, what, why).
    Rules {
        /// As a Markdown table (the README's rule table).
        #[arg(long)]
        markdown: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Csv,
    Xlsx,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SummaryFormat {
    Html,
    Xlsx,
}

#[derive(Subcommand)]
enum MailCommand {
    /// List the outbox: waiting and failed messages first.
    Queue {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Queue a submission's messages (and receipt file) again; the running daemon sends them.
    Resend {
        /// The receipt number, e.g. NB-2026-000123.
        receipt: String,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Check the whole database file (`PRAGMA integrity_check`) and say whether it is sound.
    ///
    /// Exit status: 0 when it is, 1 when it is damaged (or cannot be read), 2 on usage.
    Check {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Copy the database to FILE while the daemon runs (SQLite's online backup), and check
    /// the copy (`PRAGMA integrity_check`). Back up `data_dir/archive` too (any file copy).
    ///
    /// Exit status: 0 when the copy is made and sound, 1 otherwise.
    Backup {
        file: PathBuf,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Replace the database by the backup FILE (checked first). Refused while the daemon
    /// runs: stop the service first. The replaced database is kept beside it.
    Restore {
        file: PathBuf,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Check a configuration file without starting the daemon.
    Check {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

/// The configuration from `--config`, or the built-in defaults.
pub(crate) fn load_config(path: Option<&std::path::Path>) -> Result<Config, ExitCode> {
    match path {
        None => Ok(Config::default()),
        Some(p) => Config::load(p).map_err(|e| {
            eprintln!("nianbao: {e}");
            ExitCode::from(2)
        }),
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check {
            files,
            json,
            show,
            previous,
            filing_year,
            config,
        } => match load_config(config.as_deref()) {
            Ok(c) => check(
                &files,
                json,
                show,
                previous.as_deref(),
                filing_year,
                c.max_file_bytes(),
            ),
            Err(code) => code,
        },
        Command::Run { config } => run(config.as_deref()),
        Command::Status {
            config,
            year,
            all,
            json,
        } => {
            let config = match load_config(config.as_deref()) {
                Ok(c) => c,
                Err(code) => return code,
            };
            status(&config, year, all, json)
        }
        Command::Mail { command } => mail(command),
        Command::Export {
            year,
            format,
            output,
            config,
            region,
            bundle,
            key_file,
        } => {
            if bundle {
                export_bundle(
                    config.as_deref(),
                    year,
                    key_file.as_deref(),
                    output.as_deref(),
                )
            } else {
                export(
                    config.as_deref(),
                    year,
                    format,
                    output.as_deref(),
                    region.as_deref(),
                )
            }
        }
        Command::Summary {
            year,
            format,
            output,
            config,
        } => summary(config.as_deref(), year, format, output.as_deref()),
        Command::Config {
            command: ConfigCommand::Check { config },
        } => match Config::load(&config)
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
        },
        Command::Db {
            command: DbCommand::Check { config },
        } => db_check(config.as_deref()),
        Command::Db {
            command: DbCommand::Backup { file, config },
        } => db::backup(&file, config.as_deref()),
        Command::Db {
            command: DbCommand::Restore { file, config },
        } => db::restore(&file, config.as_deref()),
        Command::Import {
            dir,
            year,
            config,
            bundle,
            region,
            key_file,
        } => match (dir, year, bundle, region) {
            (_, _, Some(bundle), Some(region)) => {
                import_bundle(&bundle, &region, key_file.as_deref(), config.as_deref())
            }
            (Some(dir), Some(year), _, _) => history::import(&dir, year, config.as_deref()),
            _ => {
                eprintln!(
                    "nianbao: give DIR --year Y (published reports), or --bundle FILE \
                     --region R (another office's bundle)"
                );
                ExitCode::from(2)
            }
        },
        Command::Compare { old, new, json } => history::compare(&old, &new, json),
        Command::User { command } => user::user(command),
        Command::Rules { markdown } => {
            print_rules(markdown);
            ExitCode::SUCCESS
        }
    }
}

/// What happened to one file on the command line.
enum Outcome {
    Checked(Box<CheckResult>),
    Unreadable(String),
}

fn check(
    files: &[PathBuf],
    json: bool,
    show: bool,
    previous: Option<&std::path::Path>,
    filing_year: Option<i32>,
    limit: u64,
) -> ExitCode {
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
fn write_counts(out: &mut impl Write, header: &[&str], counts: &[usize]) -> std::io::Result<()> {
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

fn run(path: Option<&std::path::Path>) -> ExitCode {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Under systemd (JOURNAL_STREAM set) logs go to journald with structured fields;
    // elsewhere, or without a journald socket, to stderr.
    let journald = std::env::var_os("JOURNAL_STREAM").and_then(|_| tracing_journald::layer().ok());
    match journald {
        Some(layer) => tracing_subscriber::registry()
            .with(filter)
            .with(layer)
            .init(),
        None => tracing_subscriber::registry()
            .with(filter)
            // Control characters in file names are escaped record by record (a newline
            // would split one record into lines); no colours, since ESC is escaped too.
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(nianbao::escape::stderr),
            )
            .init(),
    }
    let mut config = match load_config(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if path.is_none() {
        // Built-in defaults: the console on this machine only (without users it is open to
        // local users alone; any other address needs `[http] listen` and users).
        config.http.listen = nianbao::config::ListenAddr::parse(nianbao::config::DEFAULT_LISTEN);
        config.http.listen_is_default = true;
    }
    // What `config check` refuses too, in the same words (see nianbao::preflight).
    if let Err(e) = nianbao::preflight::check(&config) {
        tracing::error!("{e:#}");
        eprintln!("nianbao: {e:#}");
        return ExitCode::from(1);
    }
    match path {
        Some(p) => tracing::info!(config = %p.display(), "configuration loaded"),
        None => tracing::info!(
            inbox = %config.inbox.display(),
            data_dir = %config.data_dir.display(),
            "no --config: using built-in defaults; mail is written as .eml files to {}/outbox",
            config.data_dir.display()
        ),
    }
    config.ocr.apply();
    tracing::info!("{}", config.ocr.describe());
    match nianbao::ingest::run(config, path.map(|p| p.to_path_buf())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("nianbao: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn summary(
    config: Option<&std::path::Path>,
    year: i32,
    format: SummaryFormat,
    output: Option<&std::path::Path>,
) -> ExitCode {
    let result = match read_store(config, |store, config| {
        nianbao::summary::summary(store, config, year)
    }) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let result = result.and_then(|s| match format {
        SummaryFormat::Html => Ok(nianbao::summary::page(&s).into_bytes()),
        SummaryFormat::Xlsx => nianbao::summary::to_xlsx(&s),
    });
    write_out(result, output, matches!(format, SummaryFormat::Xlsx))
}

/// What `f` reads from the database of the configuration at `config` (read-only), or the
/// exit code of a configuration that cannot be loaded.
fn read_store<T>(
    config: Option<&std::path::Path>,
    f: impl FnOnce(&nianbao::store::Store, &nianbao::config::Config) -> anyhow::Result<T>,
) -> Result<anyhow::Result<T>, ExitCode> {
    let config = load_config(config)?;
    let db = config.data_dir.join(nianbao::store::DB_FILE);
    Ok(nianbao::store::Store::open_read(&db).and_then(|store| f(&store, &config)))
}

/// The database of `config` opened for writing, created (with its folder) as `run` would
/// create it when it is not there yet; or exit 2 with why.
fn open_store(config: &nianbao::config::Config) -> Result<nianbao::store::Store, ExitCode> {
    if let Err(e) = std::fs::create_dir_all(&config.data_dir) {
        eprintln!(
            "nianbao: {}: cannot create the data folder: {e}",
            config.data_dir.display()
        );
        return Err(ExitCode::from(2));
    }
    nianbao::store::Store::open(&config.data_dir.join(nianbao::store::DB_FILE)).map_err(|e| {
        eprintln!("nianbao: {e:#}");
        ExitCode::from(2)
    })
}

/// Writes what a command made to `output` or standard output (a binary format only to a
/// file): exit 0, or 2 with why.
fn write_out(
    result: anyhow::Result<Vec<u8>>,
    output: Option<&std::path::Path>,
    binary: bool,
) -> ExitCode {
    let bytes = match result {
        Ok(b) => b,
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            return ExitCode::from(2);
        }
    };
    let written = match output {
        Some(path) => std::fs::write(path, &bytes),
        None if binary => {
            eprintln!("nianbao: xlsx 是二进制格式，请用 --output FILE 写入文件");
            return ExitCode::from(2);
        }
        None => std::io::stdout().lock().write_all(&bytes),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nianbao: 无法写入：{e}");
            ExitCode::from(2)
        }
    }
}

fn export(
    config: Option<&std::path::Path>,
    year: i32,
    format: ExportFormat,
    output: Option<&std::path::Path>,
    region: Option<&str>,
) -> ExitCode {
    let result = match read_store(config, |store, config| {
        if let Some(r) = region
            && !nianbao::region::Tree::new(config).contains(r)
        {
            anyhow::bail!(
                "--region {r:?} is not a [[region]] of the configuration: name a configured \
                 region (see `nianbao config check`)"
            );
        }
        nianbao::export::export_in(store, config, year, region)
    }) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let result = result.and_then(|e| match format {
        ExportFormat::Csv => nianbao::export::to_csv(&e),
        ExportFormat::Xlsx => nianbao::export::to_xlsx(&e),
        ExportFormat::Json => nianbao::export::to_json(&e),
    });
    write_out(result, output, matches!(format, ExportFormat::Xlsx))
}

/// `nianbao export --bundle`: the year as a signed bundle (see `nianbao::bundle`).
fn export_bundle(
    config: Option<&std::path::Path>,
    year: i32,
    key_file: Option<&std::path::Path>,
    output: Option<&std::path::Path>,
) -> ExitCode {
    let result = match read_store(config, |store, config| {
        let key = nianbao::bundle::key(config, key_file)?;
        let payload = nianbao::bundle::export(store, config, year)?;
        eprintln!(
            "nianbao: bundle of {} for report year {year}: {} submissions, {} agencies",
            payload.office,
            payload.submissions.len(),
            payload.agencies.len()
        );
        nianbao::bundle::seal(&payload, &key)
    }) {
        Ok(r) => r,
        Err(code) => return code,
    };
    write_out(result, output, false)
}

/// `nianbao import --bundle FILE --region R`: another office's bundle merged here. Exit 0
/// when it is in (or was already), 1 when refused (signature, version, region), 2 when it
/// could not run.
fn import_bundle(
    file: &std::path::Path,
    region: &str,
    key_file: Option<&std::path::Path>,
    config: Option<&std::path::Path>,
) -> ExitCode {
    let config = match load_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("nianbao: cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let payload = match nianbao::bundle::key(&config, key_file)
        .and_then(|key| nianbao::bundle::open(&bytes, &key))
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("nianbao: {}: {e:#}", file.display());
            return ExitCode::from(1);
        }
    };
    let store = match open_store(&config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match nianbao::bundle::import(&store, &config, &payload, region) {
        Ok(done) => {
            println!(
                "{} 的 {} 年度数据包已并入地区 {region}：新增 {} 份提交，更新 {} 份，未变 {} 份；\
                 新增复核记录 {} 条，单位归属变更 {} 个。{}",
                done.office,
                done.year,
                done.added,
                done.updated,
                done.unchanged,
                done.reviews_added,
                done.agencies_placed,
                if done.changed() {
                    ""
                } else {
                    "（此前已导入，没有变化。）"
                }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn mail(command: MailCommand) -> ExitCode {
    let (config_path, json, receipt) = match &command {
        MailCommand::Queue { config, json } => (config.as_deref(), *json, None),
        MailCommand::Resend { receipt, config } => {
            (config.as_deref(), false, Some(receipt.clone()))
        }
    };
    let db = match existing_db(config_path) {
        Ok(db) => db,
        Err(code) => return code,
    };
    let store = match nianbao::store::Store::open(&db) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            return ExitCode::from(2);
        }
    };
    match receipt {
        None => match store.outbox_overview() {
            Ok(rows) if json => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).unwrap_or_default()
                );
                ExitCode::SUCCESS
            }
            Ok(rows) => {
                let of = |state| rows.iter().filter(|r| r.state == state).count();
                let (pending, failed) = (of(OutboxState::Pending), of(OutboxState::Failed));
                let held = of(OutboxState::Held);
                let unconfirmed = of(OutboxState::Unconfirmed);
                println!(
                    "待发送 {pending}，失败 {failed}，暂缓（待复核）{held}，已发出未确认送达 {unconfirmed}，共 {} 条",
                    rows.len()
                );
                // Recipients (receipt-file paths) and server replies come from outside:
                // their control characters are shown escaped, never sent to the terminal.
                use nianbao::escape::controls;
                use nianbao::store::OutboxState;
                for r in rows.iter().filter(|r| r.state != OutboxState::Sent) {
                    println!(
                        "  {:<8} {:<15} {:<9} {} 次  {}  {}",
                        r.state.as_str(),
                        controls(&r.receipt),
                        r.kind.as_str(),
                        r.attempts,
                        controls(&r.recipient),
                        controls(r.last_error.as_deref().unwrap_or(""))
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("nianbao: {e}");
                ExitCode::from(2)
            }
        },
        Some(receipt) => {
            // A database error fails the command: "queued" must mean queued.
            let submission = match store.by_receipt(&receipt) {
                Ok(Some(s)) => s.id,
                Ok(None) => {
                    eprintln!(
                        "nianbao: no submission with receipt {receipt} (see `nianbao status --json`)"
                    );
                    return ExitCode::from(1);
                }
                Err(e) => {
                    eprintln!("nianbao: cannot read the submission {receipt}: {e}");
                    return ExitCode::from(1);
                }
            };
            use nianbao::store::review;
            let conn = store.connection();
            let who = format!("nianbao mail resend ({})", whoami());
            let queued = match review::resend(conn, submission, &who, &nianbao::ingest::now_utc()) {
                Ok(n) => n,
                Err(e) => {
                    eprintln!("nianbao: cannot queue the messages of {receipt}: {e}; try again");
                    return ExitCode::from(1);
                }
            };
            if queued == 0 {
                let held = review::is_held(conn, submission).unwrap_or(false);
                eprintln!(
                    "nianbao: no messages to resend for receipt {receipt}{}",
                    if held {
                        ": its feedback is held for review; release it on the console (发出审核意见)"
                    } else {
                        " (see `nianbao mail queue`)"
                    }
                );
                return ExitCode::from(1);
            }
            println!("{receipt}: {queued} 条消息已重新排队，运行中的守护进程会发送。");
            ExitCode::SUCCESS
        }
    }
}

/// Who runs the command, for the review history (`$USER`, or the uid).
fn whoami() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| format!("uid {}", rustix::process::getuid().as_raw()))
}

/// The configured database file, which must exist: the admin commands read what the daemon
/// wrote, and a wrong `--config` or `data_dir` must say so, not make a new one.
pub(crate) fn existing_db(
    config: Option<&std::path::Path>,
) -> Result<std::path::PathBuf, ExitCode> {
    let config = load_config(config)?;
    let db = config.data_dir.join(nianbao::store::DB_FILE);
    if !db.exists() {
        eprintln!(
            "nianbao: {}: no database yet (has `nianbao run` been started with this data_dir?)",
            db.display()
        );
        return Err(ExitCode::from(2));
    }
    Ok(db)
}

/// `nianbao db check`: the thorough check, for the admin after a crash, a disk error or a
/// refused start (the daemon itself runs the quick one at every start).
fn db_check(config: Option<&std::path::Path>) -> ExitCode {
    let db = match existing_db(config) {
        Ok(db) => db,
        Err(code) => return code,
    };
    let verdict = nianbao::store::Store::open_read(&db).map(|store| store.integrity_check(20));
    match verdict {
        Ok(None) => {
            println!(
                "{}: ok, the database is sound (PRAGMA integrity_check)",
                db.display()
            );
            ExitCode::SUCCESS
        }
        Ok(Some(problems)) => {
            println!(
                "{}: damaged: {problems}\nRestore it from the last backup (stop the service first); \
                 the daemon refuses to start on it.",
                db.display()
            );
            ExitCode::from(1)
        }
        Err(e) => {
            println!("{}: damaged or unreadable: {e:#}", db.display());
            ExitCode::from(1)
        }
    }
}

fn status(config: &Config, year: Option<i32>, all: bool, json: bool) -> ExitCode {
    let db = config.data_dir.join(nianbao::store::DB_FILE);
    let store = match nianbao::store::Store::open_read(&db) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            return ExitCode::from(2);
        }
    };
    // The season shown: the coming one once the last one's deadlines have all passed.
    let default = nianbao::season::current(config).report_year();
    let years = if all {
        nianbao::status::years(&store, default)
    } else {
        Ok(vec![year.unwrap_or(default)])
    };
    let overviews: anyhow::Result<Vec<nianbao::status::Status>> = years.and_then(|years| {
        years
            .into_iter()
            .map(|y| nianbao::status::status(&store, config, y))
            .collect()
    });
    let overviews = match overviews {
        Ok(o) => o,
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            return ExitCode::from(2);
        }
    };
    if json {
        let text = if all {
            serde_json::to_string_pretty(&overviews)
        } else {
            serde_json::to_string_pretty(&overviews[0])
        };
        return match text {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("nianbao: {e}");
                ExitCode::from(2)
            }
        };
    }
    for (i, s) in overviews.iter().enumerate() {
        if i > 0 {
            println!();
        }
        if all {
            // Every year is shown: no pointers to the others.
            let mut s = s.clone();
            s.other_years.clear();
            print!("{}", nianbao::status::render(&s));
        } else {
            print!("{}", nianbao::status::render(s));
        }
    }
    ExitCode::SUCCESS
}

fn print_rules(markdown: bool) {
    let rules = nianbao::rules::all();
    if markdown {
        println!("| id | severity | what | why |");
        println!("|---|---|---|---|");
        for r in rules {
            println!(
                "| `{}` | {} | {} | {} |",
                r.id,
                r.severity.as_str(),
                r.what,
                r.why
            );
        }
    } else {
        for r in rules {
            println!(
                "{:<34} {:<8} {}\n{:<43} 依据：{}",
                r.id,
                r.severity.as_str(),
                r.what,
                "",
                r.why
            );
        }
    }
}
