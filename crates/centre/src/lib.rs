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

pub mod app;
pub mod audit;
pub mod auth;
pub mod blobs;
pub mod board;
pub mod counter;
pub mod db;
pub mod doorcard;
pub mod error;
pub mod geo;
pub mod household;
pub mod import;
pub mod log;
pub mod proof;
pub mod report;
pub mod routes;
pub mod scan;
pub mod sql;
pub mod sync;
pub mod tls;
pub mod town;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use blobs::{BlobStore, LocalBlobs};
use db::Db;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;

/// The OpenAPI document of the whole API, served at `/api/v1/openapi.json` and tested against [`routes::ROUTES`].
pub const OPENAPI: &str = include_str!("../openapi.json");

/// How the centre runs. Defaults work with nothing set up.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// A `postgres://` URL; the embedded SQLite file `centre.sqlite` in the data directory when unset.
    pub database: Option<String>,
    /// Seed the demo town into an empty database.
    pub demo: bool,
    /// With `demo`: when seeding, also assign tonight's tasks with the automatic proposal (as coordinator c1
    /// would), so team members see a route at once.
    pub demo_assigned: bool,
    /// A built web app to serve at `/` (the output of the README's run command).
    pub app_dir: Option<PathBuf>,
    pub session_ttl_ms: i64,
    pub max_json_bytes: usize,
    pub max_import_bytes: usize,
    pub max_blob_bytes: usize,
    /// The cost of the residents' code hashes sent to phones; tests lower it, nothing else should.
    pub code_cost: proof::CodeCost,
    /// How far (metres) outside its task's compound a handoff may be recorded before the board flags it.
    pub far_handoff_m: f64,
    pub login_limits: auth::LoginLimits,
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    pub tls: Option<tls::TlsFiles>,
    /// Where residents reach the centre from outside (`https://jx.example.gov.cn`), for the URLs printed on door
    /// cards. Unset: the address a coordinator printing them reached the centre at.
    pub public_url: Option<String>,
    /// The centre's telephone number, printed on door cards and shown on the residents' booking pages.
    pub centre_phone: String,
}

impl Settings {
    pub fn new(data_dir: impl Into<PathBuf>) -> Settings {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
            data_dir: data_dir.into(),
            database: None,
            demo: false,
            demo_assigned: false,
            app_dir: None,
            session_ttl_ms: 12 * 3_600_000,
            max_json_bytes: 4 * 1024 * 1024,
            max_import_bytes: 8 * 1024 * 1024,
            max_blob_bytes: 10 * 1024 * 1024,
            code_cost: proof::CodeCost::default(),
            far_handoff_m: 150.0,
            login_limits: auth::LoginLimits::default(),
            tls: None,
            public_url: None,
            // Shanghai's citizens' hotline, until a deployment sets its centre's own number.
            centre_phone: "12345".into(),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub blobs: Arc<dyn BlobStore>,
    pub settings: Arc<Settings>,
}

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
                    town::assign_demo(conn, db::now())?;
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
    proof::hash_pending_codes(&db, settings.code_cost)
        .await
        .map_err(|e| anyhow::anyhow!("hashing residents' codes: {e}"))?;
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
    let app = routes::router(state);
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
            tokio::spawn(async move { axum::serve(listener, app).with_graceful_shutdown(stop).await })
        }
        None => tokio::spawn(async move { axum::serve(listener, app).with_graceful_shutdown(stop).await }),
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

/// One log line per request: method, route pattern (never the concrete path or query), status, time.
pub async fn access_log(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "-".into());
    let start = std::time::Instant::now();
    let res = next.run(req).await;
    tracing::info!(%method, route, status = res.status().as_u16(), ms = start.elapsed().as_millis() as u64, "request");
    res
}
