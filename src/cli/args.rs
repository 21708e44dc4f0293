//! The command line: every subcommand and its options (clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "nianbao",
    version,
    about = "审核政府信息公开工作年度报告 / checks government information-disclosure annual reports"
)]
pub(super) struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Subcommand)]
pub(super) enum Command {
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
        command: super::user::UserCommand,
    },
    /// Print the rule catalogue (id, severity, what, why).
    Rules {
        /// As a Markdown table (the README's rule table).
        #[arg(long)]
        markdown: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(super) enum ExportFormat {
    Csv,
    Xlsx,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(super) enum SummaryFormat {
    Html,
    Xlsx,
}

#[derive(Subcommand)]
pub(super) enum MailCommand {
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
pub(super) enum DbCommand {
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
pub(super) enum ConfigCommand {
    /// Check a configuration file without starting the daemon.
    Check {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}
