//! `coso-agent ui`: the unit officer's local web app. It serves
//! server-rendered pages on the loopback address only, behind a one-time code
//! and a session cookie (see [`security`]), and syncs in the background while
//! the agent is enrolled (see `background`, which calls the sync module).
//!
//! Every write runs a command of the command layer (`crate::commands`) and
//! every summary is read by the query layer (`crate::query`), so the rules
//! and the words are the CLI's. The store is opened for the length of one
//! request and dropped before the response is sent, so `coso-agent`
//! commands keep working while the app runs. `crate::run` starts the app;
//! nothing else in the crate depends on it.

mod background;
mod form;
mod pages;
pub mod security;
mod views;

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use coso_domain::Lang;

use crate::cli::UiArgs;
use crate::error::{AgentError, InputError};
use crate::store::Store;

pub use background::{SyncOutcome, SyncStatus};

/// Requests wait at least this long for a store held by a CLI command or the
/// background sync before they say who holds it.
pub const MIN_LOCK_WAIT: Duration = Duration::from_secs(10);

/// What the app needs from the command line.
#[derive(Debug, Clone)]
pub struct UiConfig {
    pub data_dir: PathBuf,
    pub lang: Lang,
    /// How long a request waits for the store held by another process.
    pub lock_wait: Duration,
    /// How often the background sync runs while enrolled.
    pub sync_every: Duration,
}

/// The running app: configuration, the port it answers on, sessions, and the
/// background sync.
pub struct App {
    pub(crate) cfg: UiConfig,
    pub(crate) port: u16,
    pub(crate) auth: security::Auth,
    pub(crate) sync: background::Syncer,
    /// One request at a time opens the store: sled allows one handle per
    /// process, and the lock file already serialises us with other processes.
    ops: tokio::sync::Mutex<()>,
}

impl App {
    /// An app answering on `port` whose one-time code is `code`.
    pub fn new(cfg: UiConfig, port: u16, code: String) -> Arc<App> {
        Arc::new(App {
            cfg,
            port,
            auth: security::Auth::new(code),
            sync: background::Syncer::default(),
            ops: tokio::sync::Mutex::new(()),
        })
    }

    /// Whether a data dir exists yet; before enrolment nothing is created.
    pub(crate) fn has_data(&self) -> bool {
        self.cfg.data_dir.join("db").exists()
    }

    /// Opens the store for one request. The wait for a busy store blocks
    /// this worker only (`block_in_place`), never the runtime.
    pub(crate) fn open_store(&self) -> Result<Store, AgentError> {
        let open = || Store::open(&self.cfg.data_dir, self.cfg.lock_wait);
        let store = match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(open)
            }
            _ => open(),
        }?;
        Ok(store)
    }

    /// Serialises store access within this process.
    pub(crate) async fn op(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.ops.lock().await
    }
}

/// Every route of the app, behind the Host, cross-site and session checks.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/app.css", get(pages::stylesheet))
        .route("/enroll", get(pages::enroll_page).post(pages::enroll))
        .route("/init", post(pages::init))
        .route(
            "/activities",
            get(pages::activities).post(pages::activity_add),
        )
        .route(
            "/activities/{id}",
            get(pages::activity_edit_page).post(pages::activity_edit),
        )
        .route("/activities/{id}/remove", post(pages::activity_remove))
        .route(
            "/periods/{period}",
            get(pages::period).post(pages::period_save),
        )
        .route("/periods/{period}/import", post(pages::period_import))
        .route("/sync", get(pages::sync_page).post(pages::sync_now))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            security::guard,
        ))
        .with_state(app)
}

/// Parses `--listen`: 127.0.0.1 or ::1 only (the app has no TLS and no
/// passwords; the one-time code is its only key), the addresses the Host
/// check (`security::host_allowed`) answers at, so the URL printed works.
/// Other loopback addresses (127.0.0.2) are refused here rather than
/// accepted and then answered with 403.
pub fn parse_listen(raw: Option<&str>) -> Result<SocketAddr, InputError> {
    let Some(raw) = raw else {
        return Ok(SocketAddr::from(([127, 0, 0, 1], 0)));
    };
    let t = raw.trim();
    let bad = || InputError::Listen {
        raw: raw.to_string(),
    };
    let addr: SocketAddr = match t.strip_prefix("localhost:") {
        Some(port) => SocketAddr::from(([127, 0, 0, 1], port.parse::<u16>().map_err(|_| bad())?)),
        None => t.parse().map_err(|_| bad())?,
    };
    if addr.ip() == std::net::Ipv4Addr::LOCALHOST || addr.ip() == std::net::Ipv6Addr::LOCALHOST {
        Ok(addr)
    } else {
        Err(bad())
    }
}

/// Runs the app until `shutdown` completes: binds, prints
/// `ui http://ADDR/?code=CODE` as the first line of `out`, opens the browser
/// unless `--no-open`, and syncs in the background.
pub async fn run(
    cfg: UiConfig,
    args: &UiArgs,
    out: &mut (dyn Write + Send + Sync),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), AgentError> {
    let addr = parse_listen(args.listen.as_deref())?;
    let bind_err = |source| AgentError::Bind {
        addr: addr.to_string(),
        source,
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(bind_err)?;
    let local = listener.local_addr().map_err(bind_err)?;
    let code = security::new_secret();
    let url = format!("http://{local}/?code={code}");
    writeln!(out, "ui {url}")?;
    out.flush()?;
    let lang = cfg.lang;
    let app = App::new(cfg, local.port(), code);
    if !args.no_open
        && let Err(e) = webbrowser::open(&url)
    {
        crate::log::warn(&match lang {
            Lang::Vi => {
                format!("Không mở được trình duyệt ({e}). Hãy tự mở đường dẫn ở dòng đầu tiên.")
            }
            Lang::En => format!("Cannot open a browser ({e}). Open the address above yourself."),
        });
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let bg = tokio::spawn(background::run(app.clone(), stop_rx));
    let served = axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_tx.send(true);
    let _ = bg.await;
    served.map_err(bind_err)
}

#[cfg(test)]
mod tests;
