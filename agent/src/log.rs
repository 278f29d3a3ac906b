//! The agent's diagnostics on stderr: as today's lines for people (the
//! default), or with `--log-format json` one JSON object per line
//! (`timestamp`, `level`, `target`, `message`, and the event's fields), the
//! same shape as the hub's, written by tracing-subscriber. Results stay on
//! stdout either way.

use std::sync::OnceLock;

/// The log's shape on stderr (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Sets the format for the process (once, first thing in `main`).
pub fn init(format: LogFormat) {
    if FORMAT.set(format).is_ok() && format == LogFormat::Json {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .json()
            .flatten_event(true)
            .try_init();
    }
}

fn json() -> bool {
    FORMAT.get() == Some(&LogFormat::Json)
}

/// A failure that ends the command, with the exit status it gives.
pub fn error(message: &str, exit_code: u8) {
    if json() {
        tracing::error!(exit_code, "{message}");
    } else {
        eprintln!("{message}");
    }
}

/// Something went wrong and the command goes on (a sync round that will be
/// tried again, a browser that did not open).
pub fn warn(message: &str) {
    if json() {
        tracing::warn!("{message}");
    } else {
        eprintln!("{message}");
    }
}
