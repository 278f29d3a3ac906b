//! The `coso-hub` binary: parses the command line and runs it.

use std::process::ExitCode;

// The ingest path allocates per entry; with the system allocator malloc/free
// took about a third of the hub's CPU under load (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`, entry 15 of `mi_option_e` in
/// `mimalloc.h`: the sys crate names its neighbours (14 and 16) but not it.
/// A test checks that it reads as the option's default (1000 ms).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Gives memory back to the system as soon as mimalloc frees a whole page,
/// not a second later (mimalloc 3's default). With the delay, much of what an
/// ingest or a compile freed was still resident when the next one began, and
/// a big compile's peak came on top of it. Measured (BENCHMARKS.md, issue 14, session 5): the 10,000-unit compile
/// peaked at 262.5 MiB against 302.3, the city roll-up at 211.3 against 264.2.
fn purge_freed_memory_at_once() {
    // SAFETY: sets one integer option; mimalloc reads options atomically.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

fn main() -> ExitCode {
    // Before anything is created: sled's files are otherwise made with the
    // umask's mode (see `owner_only_umask`).
    coso_proto::private::owner_only_umask();
    purge_freed_memory_at_once();
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
    coso_hub::cli::run_on(&rt, cli)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option index is the purge delay: until set, it reads as mimalloc
    /// 3's default of 1000 ms (its `options.c`; the header's comment still
    /// says 10), or as `MIMALLOC_PURGE_DELAY` if that is set.
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        let default = std::env::var("MIMALLOC_PURGE_DELAY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        // SAFETY: reads one integer option.
        assert_eq!(
            unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) },
            default
        );
    }
}
