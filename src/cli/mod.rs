//! The command line: its definition (`args`), and one module per subcommand that is more
//! than a call (`check`, `run`, `status`, `export`, `mail`, `config`, `db`, `history`,
//! `user`, `rules`); here, the dispatch and what several of them share.

use std::process::ExitCode;

use clap::Parser;

use nianbao::config::Config;

mod args;
mod check;
mod config;
mod db;
mod export;
mod history;
mod mail;
mod rules;
mod run;
mod status;
mod user;

use args::{Cli, Command, ConfigCommand, DbCommand};

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
    // Over 80 lines on purpose: the dispatch: one arm per subcommand, the table of commands; each
    // arm only unpacks its options and calls its handler.
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
            Ok(c) => check::check(
                &files,
                json,
                show,
                previous.as_deref(),
                filing_year,
                c.max_file_bytes(),
            ),
            Err(code) => code,
        },
        Command::Run { config } => run::run(config.as_deref()),
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
            status::status(&config, year, all, json)
        }
        Command::Mail { command } => mail::mail(command),
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
                export::export_bundle(
                    config.as_deref(),
                    year,
                    key_file.as_deref(),
                    output.as_deref(),
                )
            } else {
                export::export(
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
        } => export::summary(config.as_deref(), year, format, output.as_deref()),
        Command::Config {
            command: ConfigCommand::Check { config },
        } => config::check(&config),
        Command::Db {
            command: DbCommand::Check { config },
        } => db::db_check(config.as_deref()),
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
                export::import_bundle(&bundle, &region, key_file.as_deref(), config.as_deref())
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
            rules::print_rules(markdown);
            ExitCode::SUCCESS
        }
    }
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
