//! `sync --watch`: rounds on one kept [`Session`] until shutdown, with
//! backoff while the hub cannot be reached.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use coso_domain::Lang;

use super::{Session, SyncError, SyncOptions, backoff};

/// Syncs every `every` until `shutdown` completes, on one kept connection
/// (see [`Session`]). While the hub cannot be
/// reached, retries sooner with backoff and jitter (never later than
/// `every`), logging each failure in one line. Stops on errors that retrying
/// cannot fix (a revoked credential, a corrupt log, ...).
pub async fn watch(
    data_dir: &Path,
    every: Duration,
    opts: &SyncOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), SyncError> {
    tokio::pin!(shutdown);
    let lang = opts.lang;
    let mut failures: u32 = 0;
    let mut session = Session::new();
    loop {
        let wait = tokio::select! {
            r = session.sync(data_dir, opts) => match r {
                Ok(report) => {
                    failures = 0;
                    if opts.json {
                        println!("{}", report.json_line());
                    } else {
                        println!("{}", report.render_short(lang));
                    }
                    every
                }
                Err(e) if e.is_transient() => {
                    failures += 1;
                    let wait = backoff(failures, every);
                    crate::log::warn(
                        &match lang {
                            Lang::Vi => format!(
                                "[{}] đồng bộ thất bại (lần {failures}): {}; thử lại sau {} giây",
                                clock(), e.message(lang), wait.as_secs()
                            ),
                            Lang::En => format!(
                                "[{}] sync failed (attempt {failures}): {}; retrying in {} s",
                                clock(), e.message(lang), wait.as_secs()
                            ),
                        }
                    );
                    wait
                }
                Err(e) => return Err(e),
            },
            () = &mut shutdown => return Ok(()),
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = &mut shutdown => return Ok(()),
        }
    }
}

fn clock() -> String {
    Utc::now()
        .with_timezone(&coso_domain::calendar::vietnam())
        .format("%H:%M:%S")
        .to_string()
}
