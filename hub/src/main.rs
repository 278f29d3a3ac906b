//! The `coso-hub` binary: parses the command line and runs it.

use std::process::ExitCode;

// The ingest path allocates per entry; with the system allocator malloc/free
// took about a third of the hub's CPU under load (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = coso_hub::cli::Cli::parse_args();
    coso_hub::cli::init_logging(&cli);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(coso_hub::cli::run(cli))
}
