//! The sync engine: one round at a time, each step resumable, every request retried with backoff while retrying can
//! help, and a status the app's sync chip can show truthfully.

use crate::retry::Backoff;
use jx_core::event::Envelope;
use jx_core::wire::{ApiErrorBody, PullResponse, PushOutcome, PushResponse, TaskChange};
use jx_core::{TaskId, TaskSheet, Timestamp};
use jx_store::{Store, StoreError};
use reqwest::{Method, StatusCode};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the engine talks to the centre.
#[derive(Clone, Debug)]
pub struct SyncConfig {
    /// The centre's address, e.g. `http://127.0.0.1:7878` (the API lives under `/api/v1`).
    pub centre_url: String,
    /// The device token from enrolment.
    pub token: String,
    /// Events per push.
    pub push_batch: usize,
    /// Changes per pull page.
    pub pull_page: usize,
    /// Time allowed for one request, body included.
    pub request_timeout: Duration,
    pub backoff: Backoff,
}

impl SyncConfig {
    pub fn new(centre_url: impl Into<String>, token: impl Into<String>) -> Self {
        SyncConfig {
            centre_url: centre_url.into().trim_end_matches('/').to_string(),
            token: token.into(),
            push_batch: 100,
            pull_page: 200,
            request_timeout: Duration::from_secs(30),
            backoff: Backoff::new(Duration::from_millis(250), Duration::from_secs(15), 6),
        }
    }
}

/// Why a round stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The centre could not be reached (or kept failing) after every retry; the next round carries on.
    #[error("the centre cannot be reached: {0}")]
    Offline(String),
    /// The centre refuses this phone (revoked device, expired token): retrying cannot help.
    #[error("the centre refuses this phone ({code}): {message}")]
    Unauthorized { code: String, message: String },
    /// The centre refused a request that retrying cannot fix.
    #[error("the centre refused the request ({status}, {code}): {message}")]
    Refused { status: u16, code: String, message: String },
    #[error("the centre's answer was not understood: {0}")]
    Protocol(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the engine is doing.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum SyncState {
    #[default]
    Idle,
    Running,
    /// The last round could not reach the centre.
    Offline,
    /// The centre refuses this phone: it must be enrolled again.
    Refused {
        code: String,
    },
    /// The last round failed for another reason.
    Failed,
}

/// Progress of the current (or last) round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncProgress {
    pub events_sent: u64,
    pub events_total: u64,
    pub blobs_sent: u64,
    pub blobs_total: u64,
    pub bytes_sent: u64,
}

/// Everything the sync chip needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncStatus {
    pub state: SyncState,
    pub progress: SyncProgress,
    pub last_success: Option<Timestamp>,
    /// Why the last round failed, for "tap for why".
    pub last_error: Option<String>,
}

/// What one round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoundReport {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub blobs_uploaded: u64,
    pub bytes_uploaded: u64,
    pub tasks_updated: u64,
    pub tasks_removed: u64,
    /// Requests tried again after a network error, a timeout or a 5xx.
    pub retries: u64,
}

pub struct SyncEngine {
    store: Arc<Mutex<Store>>,
    http: reqwest::Client,
    config: SyncConfig,
    round: tokio::sync::Mutex<()>,
    status: Mutex<SyncStatus>,
}

fn now() -> Timestamp {
    jx_store::now()
}

impl SyncEngine {
    pub fn new(store: Arc<Mutex<Store>>, config: SyncConfig) -> Result<SyncEngine, SyncError> {
        // The whole-request timeout is set on each request (the browser's fetch has no client-wide one).
        #[cfg(not(target_arch = "wasm32"))]
        let http = reqwest::Client::builder().connect_timeout(Duration::from_secs(10));
        #[cfg(target_arch = "wasm32")]
        let http = reqwest::Client::builder();
        let http = http.build().map_err(|e| SyncError::Protocol(e.to_string()))?;
        Ok(SyncEngine { store, http, config, round: tokio::sync::Mutex::new(()), status: Mutex::default() })
    }

    pub fn status(&self) -> SyncStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn update(&self, f: impl FnOnce(&mut SyncStatus)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }

    async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, SyncError> {
        let store = Arc::clone(&self.store);
        crate::rt::blocking(move || {
            let mut guard = store.lock().map_err(|_| SyncError::Protocol("the store's lock was poisoned".into()))?;
            f(&mut guard).map_err(SyncError::Store)
        })
        .await
        .map_err(SyncError::Protocol)?
    }

    /// Runs one round now. If a round is already running, waits for it and then runs another: never two at once.
    pub async fn sync_now(&self) -> Result<RoundReport, SyncError> {
        let _one_at_a_time = self.round.lock().await;
        self.update(|s| {
            s.state = SyncState::Running;
            s.progress = SyncProgress::default();
        });
        let mut report = RoundReport::default();
        let result = self.round(&mut report).await;
        match &result {
            Ok(()) => {
                let at = now();
                self.with_store(move |s| s.set_last_sync(at)).await?;
                self.update(|s| {
                    s.state = SyncState::Idle;
                    s.last_success = Some(at);
                    s.last_error = None;
                });
            }
            Err(e) => {
                // A revoked phone keeps nothing: residents' data, photos, its identity and key all go, and the app
                // is back at enrolment.
                if matches!(e, SyncError::Unauthorized { code, .. } if code == "device_revoked") {
                    self.with_store(|s| s.wipe()).await?;
                    tracing::warn!("this device was revoked by the centre: the store has been wiped");
                }
                let state = match e {
                    SyncError::Offline(_) => SyncState::Offline,
                    SyncError::Unauthorized { code, .. } => SyncState::Refused { code: code.clone() },
                    _ => SyncState::Failed,
                };
                let why = e.to_string();
                self.update(|s| {
                    s.state = state;
                    s.last_error = Some(why);
                });
            }
        }
        result.map(|()| report)
    }

    /// Runs a round every `every` until the returned handle is aborted.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn spawn_timer(self: Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.sync_now().await {
                    tracing::info!(error = %e, "sync round did not finish");
                    if matches!(e, SyncError::Unauthorized { .. }) {
                        return;
                    }
                }
            }
        })
    }

    /// On the web: runs a round every `every` on the page's event loop, until the device is refused.
    #[cfg(target_arch = "wasm32")]
    pub fn spawn_timer(self: Arc<Self>, every: Duration) {
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                if let Err(e) = self.sync_now().await {
                    tracing::info!(error = %e, "sync round did not finish");
                    if matches!(e, SyncError::Unauthorized { .. }) {
                        return;
                    }
                }
                crate::rt::sleep(every).await;
            }
        });
    }

    async fn round(&self, report: &mut RoundReport) -> Result<(), SyncError> {
        self.push(report).await?;
        self.upload_blobs(report).await?;
        self.pull(report).await
    }

    async fn push(&self, report: &mut RoundReport) -> Result<(), SyncError> {
        let total = self.with_store(|s| s.outbox_counts()).await?.waiting();
        self.update(|s| s.progress.events_total = total);
        let batch = self.config.push_batch.max(1);
        loop {
            let entries = self.with_store(move |s| s.outbox(batch)).await?;
            if entries.is_empty() {
                return Ok(());
            }
            let events: Vec<Envelope> = entries.into_iter().map(|e| e.envelope).collect();
            let ids: Vec<_> = events.iter().map(|e| e.id).collect();
            let marked = ids.clone();
            self.with_store(move |s| s.mark_sent(&marked)).await?;
            let body = serde_json::json!({ "events": events });
            let res: PushResponse = self.call(Method::POST, "/sync/push", Some(body), report).await?;
            let mut acked = Vec::new();
            let mut rejected = Vec::new();
            for r in res.results {
                match r.outcome {
                    PushOutcome::Accepted => {
                        report.accepted += 1;
                        acked.push(r.event);
                    }
                    PushOutcome::Duplicate => {
                        report.duplicates += 1;
                        acked.push(r.event);
                    }
                    PushOutcome::Rejected { code, reason } => {
                        report.rejected += 1;
                        rejected.push((r.event, format!("{code}: {reason}")));
                    }
                }
            }
            if acked.len() + rejected.len() != ids.len() {
                return Err(SyncError::Protocol(format!(
                    "pushed {} events, the centre answered for {}",
                    ids.len(),
                    acked.len() + rejected.len()
                )));
            }
            let n = ids.len() as u64;
            self.with_store(move |s| {
                s.acknowledge(&acked)?;
                for (id, why) in rejected {
                    s.reject(id, &why)?;
                }
                Ok(())
            })
            .await?;
            self.update(|s| s.progress.events_sent += n);
        }
    }

    async fn upload_blobs(&self, report: &mut RoundReport) -> Result<(), SyncError> {
        let todo = self.with_store(|s| s.blobs_to_upload()).await?;
        self.update(|s| s.progress.blobs_total = todo.len() as u64);
        for blob in todo {
            let hash = blob.hash;
            let bytes = self.with_store(move |s| s.read_blob(&hash)).await?;
            let size = bytes.len() as u64;
            let path = format!("/blobs/{hash}");
            let _: serde_json::Value =
                self.call_raw(Method::PUT, &path, Some((blob.mime.clone(), bytes)), report).await?;
            self.with_store(move |s| s.mark_blob_uploaded(&hash)).await?;
            report.blobs_uploaded += 1;
            report.bytes_uploaded += size;
            self.update(|s| {
                s.progress.blobs_sent += 1;
                s.progress.bytes_sent += size;
            });
        }
        Ok(())
    }

    async fn pull(&self, report: &mut RoundReport) -> Result<(), SyncError> {
        let mut restarted = false;
        loop {
            let since = self.with_store(|s| s.cursor()).await?.unwrap_or_default();
            let path = format!("/sync/pull?since={since}&limit={}", self.config.pull_page);
            let page: PullResponse = match self.call(Method::GET, &path, None, report).await {
                Ok(page) => page,
                // The centre does not know this cursor (its database was restored from a backup, say): fetch
                // everything again from the start rather than miss what lies between. Once a round.
                Err(SyncError::Refused { code, .. }) if code == "cursor_unknown" && !restarted => {
                    restarted = true;
                    self.with_store(|s| s.set_cursor("")).await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut upserts: Vec<(TaskSheet, Vec<Envelope>)> = Vec::new();
            let mut removals: Vec<TaskId> = Vec::new();
            for change in page.changes {
                match change {
                    TaskChange::Upsert { sheet, history } => upserts.push((*sheet, history)),
                    TaskChange::Remove { task } => removals.push(task),
                }
            }
            report.tasks_updated += upserts.len() as u64;
            report.tasks_removed += removals.len() as u64;
            let cursor = page.cursor.clone();
            let at = now();
            // The centre's keys come with every page; an empty set (an older centre) never wipes the phone's.
            if !page.keyring.0.is_empty() {
                let ring = page.keyring.clone();
                self.with_store(move |s| if s.keyring()? != ring { s.set_keyring(&ring) } else { Ok(()) }).await?;
            }
            self.with_store(move |s| s.apply_pull(&upserts, &removals, &cursor, at)).await?;
            if !page.more {
                // Tasks taken away while their facts were in flight can leave now that the centre has them.
                self.with_store(|s| s.purge_removed()).await?;
                return Ok(());
            }
        }
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        json: Option<serde_json::Value>,
        report: &mut RoundReport,
    ) -> Result<T, SyncError> {
        let body = json
            .map(|v| serde_json::to_vec(&v).map(|b| ("application/json".to_string(), b)))
            .transpose()
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        self.call_raw(method, path, body, report).await
    }

    /// One request, retried with backoff on network errors, timeouts (including a body cut off mid-way) and 5xx;
    /// a 401/403 or another 4xx stops at once.
    async fn call_raw<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<(String, Vec<u8>)>,
        report: &mut RoundReport,
    ) -> Result<T, SyncError> {
        let url = format!("{}/api/v1{path}", self.config.centre_url);
        let mut backoff = self.config.backoff.clone();
        let mut last = String::new();
        for attempt in 0..backoff.tries.max(1) {
            if attempt > 0 {
                report.retries += 1;
                crate::rt::sleep(backoff.delay(attempt - 1)).await;
            }
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(&self.config.token)
                .timeout(self.config.request_timeout);
            if let Some((ctype, bytes)) = &body {
                req = req.header(reqwest::header::CONTENT_TYPE, ctype.as_str()).body(bytes.clone());
            }
            let res = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    last = e.to_string();
                    continue;
                }
            };
            let status = res.status();
            let bytes = match res.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    last = format!("the answer was cut off: {e}");
                    continue;
                }
            };
            if status.is_server_error() {
                last = format!("the centre answered {status}");
                continue;
            }
            if status.is_client_error() {
                let err: ApiErrorBody = serde_json::from_slice(&bytes).unwrap_or(ApiErrorBody {
                    code: "unknown".into(),
                    message: String::from_utf8_lossy(&bytes).into_owned(),
                });
                return Err(if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                    SyncError::Unauthorized { code: err.code, message: err.message }
                } else {
                    SyncError::Refused { status: status.as_u16(), code: err.code, message: err.message }
                });
            }
            return serde_json::from_slice(&bytes).map_err(|e| SyncError::Protocol(e.to_string()));
        }
        Err(SyncError::Offline(last))
    }
}
