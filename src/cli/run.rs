//! `nianbao run`: the daemon.

use std::process::ExitCode;

use super::load_config;

pub(super) fn run(path: Option<&std::path::Path>) -> ExitCode {
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
