//! What every request shares: the centre's settings and its handles to the database and the blob store.
//!
//! Owns: [`Settings`] and [`AppState`]. Sits between the domain modules (which never see it) and the HTTP layer
//! (which hands its parts down); it must never import the HTTP layer.

use crate::blobs::BlobStore;
use crate::db::Db;
use crate::{auth, codes, tls};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

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
    /// How long a login session lasts at most, however often it is refreshed.
    pub session_max_age_ms: i64,
    pub max_json_bytes: usize,
    pub max_import_bytes: usize,
    pub max_blob_bytes: usize,
    /// Bytes of new photos one phone may upload in a Shanghai day.
    pub upload_bytes_per_device_day: u64,
    /// The cost of the residents' code hashes sent to phones; tests lower it, nothing else should.
    pub code_cost: codes::CodeCost,
    /// How far (metres) outside its task's compound a handoff may be recorded before the board flags it.
    pub far_handoff_m: f64,
    pub login_limits: auth::LoginLimits,
    /// How far around the centre's clock a phone's event may be dated (`jx_core::bounds`).
    pub event_window: jx_core::bounds::Window,
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
            session_max_age_ms: 24 * 3_600_000,
            max_json_bytes: 4 * 1024 * 1024,
            max_import_bytes: 8 * 1024 * 1024,
            max_blob_bytes: 10 * 1024 * 1024,
            // A busy evening is about a hundred photos of 300 KB: 30 MB. Ten times that.
            upload_bytes_per_device_day: 300 * 1024 * 1024,
            code_cost: codes::CodeCost::default(),
            far_handoff_m: 150.0,
            login_limits: auth::LoginLimits::default(),
            event_window: jx_core::bounds::Window::default(),
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
