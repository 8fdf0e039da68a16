//! `jx-centre`: the centre's HTTP API server (axum on tokio), the service every phone syncs with and every
//! coordinator works against.
//!
//! It owns authentication (argon2 passwords, bearer tokens, device enrolment and revocation), the import of the
//! back office's tasks, coordinators' decisions, event ingest from phones (idempotent, hash-chain checked), the pull
//! feed, photo blobs, and the coordinator's views. State is derived with `jx-core`'s fold, exactly as on the phone.
//!
//! It depends on `jx-core` only among this workspace's crates; it must never import the phone's store, the sync
//! engine or the UI. It never logs a resident's personal data: log lines carry ids and counts, never names,
//! phones or rooms.
//!
//! ## Layers
//! Each module imports only modules of its own layer or below, and no two modules import each other
//! (`tests/layers.rs` checks both):
//! 1. **HTTP** — `http::*`: one module per resource, each with its routes; extractors; the residents' door card
//!    pages; serving the web app. Handlers parse a request, call the domain, and shape the answer.
//! 2. **State** — `state`: the settings and the handles every request shares.
//! 3. **Domain** — `auth`, `staff`, `import`, `decisions`, `sync`, `board`, `counter`, `report`, `geo`, `town`,
//!    `household`, `doorcard`, `proof`, `codes`, `sheets`, `log`, `audit`, `scan`, `tls`: the centre's operations,
//!    each inside the caller's transaction.
//! 4. **Storage** — `db`, `sql`, `blobs`, and `error` (the one error type, mapped to HTTP answers in one place).

pub mod audit;
pub mod auth;
pub mod blobs;
pub mod board;
pub mod codes;
pub mod counter;
pub mod db;
pub mod decisions;
pub mod doorcard;
pub mod error;
pub mod geo;
pub mod household;
pub mod http;
pub mod import;
pub mod log;
pub mod proof;
pub mod report;
pub mod scan;
pub mod sheets;
pub mod sql;
pub mod staff;
pub mod state;
pub mod sync;
pub mod throttle;
pub mod tls;
pub mod town;

use blobs::LocalBlobs;
use db::Db;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;

pub use http::OPENAPI;
pub use state::{AppState, Settings};

/// A running centre: its address, and a handle to stop it gracefully.
pub struct RunningCentre {
    pub addr: SocketAddr,
    https: bool,
    shutdown: Option<oneshot::Sender<()>>,
    join: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningCentre {
    pub fn url(&self) -> String {
        format!("{}://{}", if self.https { "https" } else { "http" }, self.addr)
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for the server to end.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.join).await??;
        Ok(())
    }

    /// Stops the server at once, like a crash: open connections are cut, requests in flight are dropped (a
    /// database transaction already running still ends as a whole, committed or not). For fault-injection tests.
    pub fn abort(self) {
        self.join.abort();
    }

    /// Waits until the server ends (on ctrl-c or SIGTERM when started by [`start`] with `signals`).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.join.await??;
        Ok(())
    }
}

/// The data directory holds residents' data, photos and the QR signing keys: only the centre's own user may enter
/// it. A directory that others can read is closed (and said so in the log) at start-up; one that cannot be closed
/// stops the start.
#[cfg(unix)]
pub fn owner_only(dir: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| {
            anyhow::anyhow!(
                "the data directory {} is open to others ({mode:o}) and cannot be closed: {e}",
                dir.display()
            )
        })?;
        tracing::warn!(dir = %dir.display(), was = format!("{mode:o}"), "the data directory was open to others; now 700");
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn owner_only(_dir: &std::path::Path) -> anyhow::Result<()> {
    Ok(())
}

/// Opens the database and blob store under the data directory (seeding the demo town if asked and empty).
pub async fn open_state(settings: Settings) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&settings.data_dir)?;
    owner_only(&settings.data_dir)?;
    let database = match &settings.database {
        Some(url) => url.clone(),
        None => settings.data_dir.join("centre.sqlite").to_string_lossy().into_owned(),
    };
    let db = Db::open(database).await?;
    let blobs = LocalBlobs::new(&settings.data_dir.join("blobs"))?;
    if settings.demo {
        let assign = settings.demo_assigned;
        // Exclusive: replicas starting together on one PostgreSQL seed it once.
        db.call_exclusive(move |conn| {
            if !town::is_seeded(conn)? {
                town::seed_demo(conn, &jx_core::demo::demo_town())?;
                if assign {
                    geo::assign_demo(conn, db::now())?;
                }
            }
            Ok(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("seeding the demo town: {e}"))?;
    }
    db.call_exclusive(|tx| proof::ensure_key(tx, db::now()))
        .await
        .map_err(|e| anyhow::anyhow!("the signing key: {e}"))?;
    // Codes left unhashed by an import or a seed that was interrupted get their hashes now.
    codes::hash_pending(&db, settings.code_cost).await.map_err(|e| anyhow::anyhow!("hashing residents' codes: {e}"))?;
    Ok(AppState { db, blobs: Arc::new(blobs), settings: Arc::new(settings) })
}

/// Starts the centre on its listen address. With `signals`, ctrl-c and SIGTERM stop it gracefully too.
pub async fn start(settings: Settings, signals: bool) -> anyhow::Result<RunningCentre> {
    let listen = settings.listen;
    // A bad certificate stops the start before anything else happens.
    let acceptor = settings.tls.as_ref().map(tls::acceptor).transpose()?;
    let state = open_state(settings).await?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let app = http::router(state);
    let stop = async move {
        if signals {
            tokio::select! {
                _ = rx => {}
                _ = shutdown_signal() => {}
            }
        } else {
            let _ = rx.await;
        }
    };
    let https = acceptor.is_some();
    let join = match acceptor {
        Some(acceptor) => {
            let listener = tls::TlsListener::new(listener, acceptor)?;
            tokio::spawn(async move {
                axum::serve(listener, app.into_make_service_with_connect_info::<http::extract::PeerAddr>())
                    .with_graceful_shutdown(stop)
                    .await
            })
        }
        None => tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<http::extract::PeerAddr>())
                .with_graceful_shutdown(stop)
                .await
        }),
    };
    Ok(RunningCentre { addr, https, shutdown: Some(tx), join })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
