//! The `coso-agent` binary: parses the command line, runs it, and turns the
//! outcome into an exit status (0 done, 2 input refused, 1 other failure).

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use coso_agent::cli::{Cli, Command};
use coso_agent::{Config, messages};
use coso_domain::Lang;

fn main() -> ExitCode {
    // Before anything is created: sled's files are otherwise made with the
    // umask's mode (see `owner_only_umask`).
    coso_proto::private::owner_only_umask();
    let cli = Cli::parse();
    coso_agent::log::init(cli.log_format);
    let lang = cli.lang.unwrap_or_default();
    match run(cli, lang) {
        Ok(code) => code,
        Err(e) => {
            // Only the runtime itself can fail here; command errors are mapped in `run`.
            coso_agent::log::error(&format!("{}: {e:#}", lang.pick("lỗi", "error")), 1);
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli, lang: Lang) -> anyhow::Result<ExitCode> {
    // Commands are short and single-threaded. The web app serves requests
    // while a background sync runs, and both open the store with a blocking
    // wait, so it gets two worker threads.
    let runtime = if matches!(cli.command, Command::Ui(_)) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    }
    .context("cannot start the async runtime")?;
    let outcome = Config::from_cli(cli).and_then(|config| coso_agent::run_on(&runtime, config));
    Ok(match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            coso_agent::log::error(&messages::error_message(&e, lang), e.exit_code());
            ExitCode::from(e.exit_code())
        }
    })
}
