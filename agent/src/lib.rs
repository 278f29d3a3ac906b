//! coso-agent: a unit officer's offline recorder. Activities, indicator values
//! and narratives go into a local store as an append-only change log; `report`
//! shows what will be sent, `submit` freezes it, and `sync` (in [`sync`])
//! sends the log to the ward hub.

/// What `--version` prints after the name: the version and the commit
/// this binary was built from (`0.3.0 (1a2b3c4)`, or `(unknown)` when it
/// was built outside a git checkout without `COSO_COMMIT`; see `build.rs`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("COSO_BUILD_COMMIT"),
    ")"
);

pub mod cli;
pub mod commands;
pub mod error;
pub mod log;
pub mod messages;
pub mod output;
pub mod query;
mod run;
pub mod store;
pub mod sync;
pub mod ui;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use coso_domain::Lang;

pub use error::{AgentError, InputError};
pub use run::DEFAULT_LOCK_WAIT;

/// Everything a run needs, built from the command line by the binary.
#[derive(Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub lang: Lang,
    pub json: bool,
    /// How long to wait for a store held by another process.
    pub lock_wait: Duration,
    pub command: cli::Command,
}

impl Config {
    /// Resolves defaults: the data dir falls back to the user's data directory.
    pub fn from_cli(cli: cli::Cli) -> Result<Config, AgentError> {
        let data_dir = match cli.data_dir {
            Some(d) => d,
            None => dirs::data_dir()
                .map(|d| d.join("coso-agent"))
                .ok_or(AgentError::NoDataDir)?,
        };
        Ok(Config {
            data_dir,
            lang: cli.lang.unwrap_or_default(),
            json: cli.json,
            lock_wait: cli.lock_wait,
            command: cli.command,
        })
    }
}

/// Runs one command on `runtime` to its end: what the binary's `main` does
/// once it has chosen a runtime.
///
/// The binary calls this rather than `runtime.block_on(run(config))`: an
/// async fn's body is compiled in the crate that polls its future, so
/// polling it here compiles the whole agent into this library, in the same
/// cargo run as everything else, and the binary's own crate only links
/// (BENCHMARKS.md, "Build times and sizes").
pub fn run_on(runtime: &tokio::runtime::Runtime, config: Config) -> Result<(), AgentError> {
    runtime.block_on(run(config))
}

/// Runs one command, writing its output to stdout.
pub async fn run(config: Config) -> Result<(), AgentError> {
    let mut out = std::io::stdout();
    run_to(config, &mut out).await
}

/// Runs one command, writing its output to `out`.
pub async fn run_to(config: Config, out: &mut (dyn Write + Send + Sync)) -> Result<(), AgentError> {
    let r = run::dispatch(config, out).await;
    out.flush()?;
    r
}
