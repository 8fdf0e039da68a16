//! The engine: answers the screens' requests from the store, records what the staff member does, and keeps the
//! sync engine running. Every rule is a call into core (the state machine, the proof policy), the store or the
//! proof crate; this module only joins them up and turns their errors into ones a screen can explain.

use crate::draft::{Draft, PhotoRef, Step};
use crate::protocol::*;
use base64::Engine as _;
use jx_core::event::{Actor, Confirmation, EventPayload, FailureReason};
use jx_core::geo::LatLng;
use jx_core::model::{TaskSheet, mask_name, mask_phone};
use jx_core::state::TaskStatus;
use jx_core::token::{TokenError, TokenKind};
use jx_core::{TaskId, Timestamp};
use jx_store::{BuildingStop, Store, StoreError};
use jx_sync::{SyncConfig, SyncEngine, SyncError, SyncState, SyncStatus};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod household;

/// How the engine runs.
#[derive(Clone, Copy, Debug)]
pub struct EngineOptions {
    /// Sync in the background this often (and after every handoff). `None`: only when asked (tests).
    pub sync_every: Option<Duration>,
    /// How long a finished task's personal data stays on the phone once the centre has all of it (its events and
    /// photos acknowledged). Purged after every sync that finished.
    pub retention: Duration,
}

/// Three days: long enough to answer "did you deliver to Mrs Wang on Tuesday?" from the phone, short enough that a
/// lost phone carries at most a few evenings.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(3 * 24 * 3600);

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { sync_every: Some(Duration::from_secs(5)), retention: DEFAULT_RETENTION }
    }
}

pub struct Engine {
    store: Arc<Mutex<Store>>,
    sync: Mutex<Option<Arc<SyncEngine>>>,
    name: Mutex<Option<String>>,
    options: EngineOptions,
    /// The sync whose end last triggered a purge.
    purged_after: Mutex<Option<Timestamp>>,
}

fn storage(e: StoreError) -> EngineError {
    match e {
        StoreError::ProofIncomplete(gaps) => EngineError::ProofIncomplete { gaps },
        StoreError::NotEnrolled => EngineError::NotEnrolled,
        StoreError::Transition(t) => EngineError::NotNow { detail: t.to_string() },
        other => EngineError::Storage { detail: other.to_string() },
    }
}

fn from_sync(e: SyncError) -> EngineError {
    match e {
        SyncError::Offline(detail) => EngineError::Offline { detail },
        SyncError::Unauthorized { message, .. } => EngineError::LoginRefused { message },
        SyncError::Refused { code, .. } if code == "not_staff" => EngineError::NotStaff,
        SyncError::Refused { code, .. } if code == "bad_centre_url" => EngineError::BadCentreUrl,
        SyncError::Refused { code, .. } if code == "already_enrolled" => EngineError::AlreadyEnrolled,
        SyncError::Refused { code, message, .. } => EngineError::CentreRefused { code, message },
        SyncError::Protocol(detail) => EngineError::Internal { detail },
        SyncError::Store(s) => storage(s),
    }
}

/// What the sync chip shows, from the engine's last round, the outbox and the platform's word on the network.
pub fn chip(status: &SyncStatus, waiting: u64, rejected: u64, online: bool) -> Chip {
    match &status.state {
        SyncState::Refused { .. } | SyncState::Failed => Chip::Problem,
        _ if rejected > 0 => Chip::Problem,
        _ if !online => Chip::Offline,
        SyncState::Offline => Chip::Offline,
        SyncState::Running => Chip::Syncing,
        SyncState::Idle if waiting > 0 => Chip::Waiting,
        SyncState::Idle if status.last_success.is_some() => Chip::Synced,
        SyncState::Idle => Chip::Never,
    }
}

fn qr_problem(e: TokenError, mine: impl Fn(TaskId) -> bool) -> QrProblem {
    match e {
        TokenError::NotOurs => QrProblem::NotOurs,
        TokenError::Malformed(_) => QrProblem::Damaged,
        TokenError::UnknownKey(_) => QrProblem::UnknownKey,
        TokenError::RetiredKey(_) => QrProblem::Retired,
        TokenError::BadSignature => QrProblem::Forged,
        TokenError::WrongKind { .. } => QrProblem::WrongKind,
        TokenError::WrongTask { found, .. } => QrProblem::OtherTask { short: found.short(), mine: mine(found) },
    }
}

fn thumb_url(jpeg: &[u8]) -> String {
    format!("data:image/jpeg;base64,{}", base64::engine::general_purpose::STANDARD.encode(jpeg))
}

/// Runs `f` in the background: on the tokio runtime the app runs on, if any.
#[cfg(not(target_arch = "wasm32"))]
fn spawn<F: std::future::Future<Output = ()> + Send + 'static>(f: F) {
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.spawn(f);
    }
}

/// Runs `f` in the background, on the worker's event loop.
#[cfg(target_arch = "wasm32")]
fn spawn<F: std::future::Future<Output = ()> + 'static>(f: F) {
    wasm_bindgen_futures::spawn_local(f);
}

impl Engine {
    /// The engine over `store`; if the phone is enrolled, its sync engine starts.
    pub fn new(store: Store, options: EngineOptions) -> Engine {
        let engine = Engine {
            store: Arc::new(Mutex::new(store)),
            sync: Mutex::new(None),
            name: Mutex::new(None),
            options,
            purged_after: Mutex::new(None),
        };
        engine.start_sync();
        engine
    }

    fn with<T>(&self, f: impl FnOnce(&mut Store) -> Result<T, StoreError>) -> Result<T, EngineError> {
        let mut s =
            self.store.lock().map_err(|_| EngineError::Internal { detail: "the store's lock was poisoned".into() })?;
        f(&mut s).map_err(storage)
    }

    fn sync_engine(&self) -> Option<Arc<SyncEngine>> {
        self.sync.lock().ok().and_then(|s| s.clone())
    }

    /// Starts syncing if the phone is enrolled and no sync engine runs yet.
    fn start_sync(&self) {
        let Ok(Some(identity)) = self.with(|s| s.identity()) else { return };
        let Some(token) = identity.token else { return };
        let Ok(mut slot) = self.sync.lock() else { return };
        if slot.is_some() {
            return;
        }
        match SyncEngine::new(Arc::clone(&self.store), SyncConfig::new(identity.centre_url, token)) {
            Ok(engine) => {
                let engine = Arc::new(engine);
                if let Some(every) = self.options.sync_every {
                    #[cfg(target_arch = "wasm32")]
                    Arc::clone(&engine).spawn_timer(every);
                    #[cfg(not(target_arch = "wasm32"))]
                    if tokio::runtime::Handle::try_current().is_ok() {
                        drop(Arc::clone(&engine).spawn_timer(every));
                    }
                }
                *slot = Some(engine);
            }
            Err(e) => tracing::warn!(error = %e, "the sync engine could not start"),
        }
    }

    /// Runs one sync round and waits for it (tests, and the "sync now" button's second press).
    pub async fn sync_round(&self) -> Result<jx_sync::RoundReport, EngineError> {
        let engine = self.sync_engine().ok_or(EngineError::NotEnrolled)?;
        engine.sync_now().await.map_err(from_sync)
    }

    fn kick_sync(&self) {
        if self.options.sync_every.is_none() {
            return;
        }
        if let Some(engine) = self.sync_engine() {
            spawn(async move {
                if let Err(e) = engine.sync_now().await {
                    tracing::info!(error = %e, "sync after a handoff did not finish");
                }
            });
        }
    }

    /// Answers one request.
    pub async fn handle(&self, req: Request) -> Answer {
        match req {
            Request::Hello => self.hello(),
            Request::Enrol { centre_url, login, password } => self.enrol(&centre_url, &login, &password).await,
            Request::Tonight { from } => self.tonight(from).map(Response::Tonight),
            Request::Task { task } => self.task(task).map(|t| Response::Task(Box::new(t))),
            Request::Begin { task } => self.draft(task).map(|d| Response::Draft(Box::new(d))),
            Request::ScanPacket { task, photo } => self.edit(task, |e, d| e.scan(d, &photo, TokenKind::PacketLabel)),
            Request::ScanResident { task, photo } => {
                self.edit(task, |e, d| e.scan(d, &photo, TokenKind::ResidentConfirmation))
            }
            Request::SkipPacket { task } => self.edit(task, |_, d| {
                if !d.skippable(Step::Packet) {
                    return Err(EngineError::CannotSkip);
                }
                d.packet_skipped = true;
                Ok(())
            }),
            Request::TypeCode { task, code } => self.edit(task, |e, d| e.type_code(d, &code)),
            Request::ScanHousehold { task, photo } => self.edit(task, |e, d| e.scan_household(d, &photo)),
            Request::TypeHouseholdCode { task, code } => self.edit(task, |e, d| e.type_household_code(d, &code)),
            Request::ProxyCode { task, proxy, code } => self.edit(task, |e, d| e.proxy_code(d, proxy, &code)),
            Request::Witness { task, photo, witness } => self.edit(task, |e, d| e.witness(d, &photo, &witness)),
            Request::Sign { task, strokes } => self.edit(task, |_, d| {
                strokes.validate().map_err(|e| EngineError::BadSignature { detail: e.to_string() })?;
                if strokes.is_blank() {
                    return Err(EngineError::SignatureBlank);
                }
                d.confirmation = Some(Confirmation::Handwritten { strokes });
                Ok(())
            }),
            Request::AddPhoto { task, material, photo } => self.edit(task, |e, d| {
                let p = e.keep_photo(&photo)?;
                match material {
                    None => d.photos.push(p),
                    Some(name) => {
                        let m = d
                            .materials
                            .iter_mut()
                            .find(|m| m.name == name)
                            .ok_or(EngineError::NoSuchMaterial { name: name.clone() })?;
                        m.present = true;
                        m.photo = Some(p);
                    }
                }
                Ok(())
            }),
            Request::SetMaterial { task, name, present } => self.edit(task, |_, d| {
                let m = d
                    .materials
                    .iter_mut()
                    .find(|m| m.name == name)
                    .ok_or(EngineError::NoSuchMaterial { name: name.clone() })?;
                m.present = present;
                if !present {
                    m.photo = None;
                }
                Ok(())
            }),
            Request::Rate { task, stars } => self.edit(task, |_, d| {
                if stars.is_some_and(|s| !(1..=5).contains(&s)) {
                    return Err(EngineError::BadRating);
                }
                d.rating = stars;
                d.rated = true;
                Ok(())
            }),
            Request::Locate { task, fix } => self.edit(task, |_, d| {
                d.position = Some(fix);
                Ok(())
            }),
            Request::Finish { task } => self.finish(task),
            Request::Abandon { task } => self.with(|s| s.clear_draft(task)).map(|()| Response::Done),
            Request::Fail { task, reason, note, retry_at, photo, door_card } => {
                self.fail(task, reason, note, retry_at, photo, door_card)
            }
            Request::ScanDoorCard { task, photo } => self.scan_door_card(task, &photo).map(Response::DoorCard),
            Request::AddProof { task, photo, note } => self.add_proof(task, photo, note),
            Request::Sync { online } => self.sync_view(online).map(Response::Sync),
            Request::SyncNow => {
                self.start_sync();
                if let Some(engine) = self.sync_engine() {
                    spawn(async move {
                        let _ = engine.sync_now().await;
                    });
                }
                Ok(Response::Done)
            }
            Request::Outbox => self.outbox().map(Response::Outbox),
        }
    }

    fn hello(&self) -> Answer {
        let identity = self.with(|s| s.identity())?;
        let resume = self.with(|s| s.latest_draft())?.map(|(t, _)| t);
        let name = self.name.lock().ok().and_then(|n| n.clone());
        Ok(Response::Hello(Hello {
            me: identity.map(|i| Me { staff: i.staff, name, centre_url: i.centre_url }),
            resume,
        }))
    }

    async fn enrol(&self, url: &str, login: &str, password: &str) -> Answer {
        let who = jx_sync::enrol(Arc::clone(&self.store), url, login, password).await.map_err(from_sync)?;
        if let Ok(mut n) = self.name.lock() {
            *n = Some(who.name.clone());
        }
        self.start_sync();
        // The first pull, so that tonight's route is there when the screen opens.
        if let Some(engine) = self.sync_engine()
            && let Err(e) = engine.sync_now().await
        {
            tracing::info!(error = %e, "the first sync after enrolment did not finish");
        }
        let centre_url = self.with(|s| s.identity())?.map(|i| i.centre_url).unwrap_or_default();
        Ok(Response::Enrolled(Me { staff: who.staff, name: Some(who.name), centre_url }))
    }

    fn staff(&self) -> Result<jx_core::StaffId, EngineError> {
        Ok(self.with(|s| s.identity())?.ok_or(EngineError::NotEnrolled)?.staff)
    }

    fn sheet(&self, task: TaskId) -> Result<TaskSheet, EngineError> {
        Ok(self.with(|s| s.task(task))?.ok_or(EngineError::NoSuchTask)?.sheet)
    }

    /// Where a failed task stands, from its last failed visit (and a resident's booking after it).
    fn failure_state(&self, task: TaskId) -> Result<AfterFailure, EngineError> {
        Ok(self.failure_plan(task)?.0)
    }

    /// [`Engine::failure_state`], and the time a resident booked for the next visit, if they did.
    fn failure_plan(&self, task: TaskId) -> Result<(AfterFailure, Option<Timestamp>), EngineError> {
        let detail = self.with(|s| s.task(task))?.ok_or(EngineError::NoSuchTask)?;
        let last = last_failure(detail.history.iter().map(|h| &h.envelope));
        let state =
            after_failure(detail.sheet.task.kind, detail.state.attempts, last.at, last.retry_at(), jx_store::now());
        Ok((state, last.booked))
    }

    /// Tonight's route.
    pub fn tonight(&self, from: Option<LatLng>) -> Result<Tonight, EngineError> {
        let staff = self.staff()?;
        let drafts: BTreeSet<TaskId> = self.with(|s| s.drafts())?.into_iter().collect();
        let all = self.with(|s| s.tonight(staff))?;
        // Failed tasks: back on the route when due, or to be returned to the centre.
        let mut after = std::collections::BTreeMap::new();
        let mut booked = std::collections::BTreeMap::new();
        for t in all.iter().flat_map(|s| &s.tasks).filter(|t| t.status == TaskStatus::AttemptFailed) {
            let (state, at) = self.failure_plan(t.id)?;
            after.insert(t.id, state);
            if let Some(at) = at {
                booked.insert(t.id, at);
            }
        }
        let asked: BTreeSet<TaskId> = self
            .with(|s| s.proof_exchanges(staff))?
            .into_iter()
            .filter(|(_, exchange)| open_proof_request(exchange).is_some())
            .map(|(t, _)| t)
            .collect();
        let open = |t: &jx_store::TaskRow| is_open(t.status) || after.get(&t.id) == Some(&AfterFailure::Due);
        let with_work = |s: &&BuildingStop| s.tasks.iter().any(open);
        let mut todo: Vec<BuildingStop> = match from {
            Some(at) => self.with(|s| s.walking_order(staff, at, None, &[], true))?,
            None => {
                // Without a position: green-channel buildings first, then in address order.
                let (mut green, rest): (Vec<_>, Vec<_>) = all
                    .iter()
                    .filter(|s| s.has_work())
                    .cloned()
                    .partition(|s| s.tasks.iter().any(|t| t.green && is_open(t.status)));
                green.extend(rest);
                green
            }
        };
        // Buildings where only a failed task is due again come after the walk (in address order).
        let placed: BTreeSet<(jx_core::CompoundId, u16)> = todo.iter().map(|s| (s.compound, s.building)).collect();
        todo.extend(all.iter().filter(with_work).filter(|s| !placed.contains(&(s.compound, s.building))).cloned());
        let view = |s: &BuildingStop| Stop {
            compound: s.compound,
            compound_name: s.compound_name.clone(),
            building: s.building,
            tasks: s
                .tasks
                .iter()
                .map(|t| Row {
                    id: t.id,
                    short: t.id.short(),
                    kind: t.kind,
                    status: t.status,
                    green: t.green,
                    conflicts: t.conflicts,
                    address: t.address.clone(),
                    resident: mask_name(&t.resident_name),
                    item: t.service_item_name.clone(),
                    draft: drafts.contains(&t.id),
                    due_again: after.get(&t.id) == Some(&AfterFailure::Due),
                    must_return: after.get(&t.id) == Some(&AfterFailure::Return),
                    booked_for: booked.get(&t.id).copied(),
                    proof_asked: asked.contains(&t.id),
                })
                .collect(),
        };
        let tasks = all.iter().flat_map(|s| &s.tasks);
        Ok(Tonight {
            todo: todo.iter().map(view).collect(),
            finished: all.iter().filter(|s| !with_work(s)).map(view).collect(),
            done: tasks.clone().filter(|t| !open(t)).count() as u32,
            total: tasks.clone().count() as u32,
            green_open: tasks.clone().filter(|t| t.green && open(t)).count() as u32,
            conflicts: tasks.map(|t| t.conflicts).sum(),
            proof_asked: asked.len() as u32,
        })
    }

    fn task(&self, task: TaskId) -> Result<TaskView, EngineError> {
        let detail = self.with(|s| s.task(task))?.ok_or(EngineError::NoSuchTask)?;
        let device = self.with(|s| s.identity())?.map(|i| i.device);
        let draft = self.with(|s| s.draft(task))?.is_some();
        let failed = match detail.state.status {
            TaskStatus::AttemptFailed => Some(self.failure_state(task)?),
            _ => None,
        };
        let booked = last_failure(detail.history.iter().map(|h| &h.envelope)).booked;
        let handed_over = detail.state.status.is_handed_over();
        let proof_asked = open_proof_request(detail.history.iter().map(|h| &h.envelope)).filter(|_| handed_over);
        let sheet = detail.sheet;
        let history = detail
            .history
            .iter()
            .map(|h| HistoryLine {
                at: h.envelope.at,
                what: h.envelope.payload.kind(),
                mine: matches!(h.envelope.actor, Actor::Device { device: d, .. } if Some(d) == device),
                outbox: h.outbox.map(|o| o.as_str().to_string()),
                reason: h.reason.clone(),
            })
            .collect();
        Ok(TaskView {
            id: task,
            short: task.short(),
            kind: sheet.task.kind,
            status: detail.state.status,
            address: sheet.task.address.clone(),
            resident: sheet.resident_name.clone(),
            phone_masked: mask_phone(&sheet.resident_phone),
            phone: sheet.resident_phone.clone(),
            item: sheet.service_item_name.clone(),
            case_number: sheet.task.case_number.clone(),
            green: sheet.green,
            materials: sheet.materials.clone(),
            requires: sheet.task.proof.requires.clone(),
            household: sheet.household.is_some(),
            proxies: household::choices(&sheet),
            attempts: detail.state.attempts,
            conflicts: detail.state.conflicts.len() as u32,
            history,
            draft,
            open: is_open(detail.state.status) || failed == Some(AfterFailure::Due),
            must_return: failed == Some(AfterFailure::Return),
            booked_for: booked.filter(|_| detail.state.status.is_open_for_staff()),
            can_add_proof: handed_over,
            proof_asked,
        })
    }

    /// The draft of `task`, made (and saved) if there is none.
    fn draft(&self, task: TaskId) -> Result<Draft, EngineError> {
        if let Some(body) = self.with(|s| s.draft(task))? {
            return serde_json::from_str(&body).map_err(|e| EngineError::Internal { detail: format!("draft: {e}") });
        }
        let detail = self.with(|s| s.task(task))?.ok_or(EngineError::NoSuchTask)?;
        let due = detail.state.status == TaskStatus::AttemptFailed && self.failure_state(task)? == AfterFailure::Due;
        if !is_open(detail.state.status) && !due {
            return Err(EngineError::NotNow { detail: format!("the task is {}", detail.state.status.as_str()) });
        }
        let d = Draft::new(&detail.sheet, jx_store::now());
        self.save(&d)?;
        Ok(d)
    }

    fn save(&self, d: &Draft) -> Result<(), EngineError> {
        let body = serde_json::to_string(d).map_err(|e| EngineError::Internal { detail: e.to_string() })?;
        self.with(|s| s.save_draft(d.task, &body, jx_store::now()))
    }

    /// One step of a handoff: change the draft, and save it before answering.
    fn edit(&self, task: TaskId, f: impl FnOnce(&Engine, &mut Draft) -> Result<(), EngineError>) -> Answer {
        let mut d = self.draft(task)?;
        f(self, &mut d)?;
        self.save(&d)?;
        Ok(Response::Draft(Box::new(d)))
    }

    fn scan(&self, d: &mut Draft, photo: &[u8], kind: TokenKind) -> Result<(), EngineError> {
        let texts = jx_proof::scan::decode_photo(photo).map_err(|e| EngineError::BadPhoto { detail: e.to_string() })?;
        let ours: Vec<&String> = texts.iter().filter(|t| t.starts_with("JX1:")).collect();
        let Some(text) = ours.first() else {
            return Err(if texts.is_empty() {
                EngineError::NoCodeInPhoto
            } else {
                EngineError::WrongQr { problem: QrProblem::NotOurs }
            });
        };
        let keyring = self.with(|s| s.keyring())?;
        let now = jx_store::now();
        match keyring.verify_for(text, kind, d.task, now) {
            Ok(_) => {
                match kind {
                    TokenKind::PacketLabel => {
                        d.packet = Some(text.to_string());
                        d.packet_skipped = false;
                    }
                    TokenKind::ResidentConfirmation => {
                        d.confirmation = Some(Confirmation::ResidentQr { token: text.to_string() })
                    }
                    // A door card is no part of a handoff: it is scanned with `ScanDoorCard`, never asked for here.
                    TokenKind::DoorCard => return Err(EngineError::WrongQr { problem: QrProblem::WrongKind }),
                    // A household card is scanned with `ScanHousehold`, and `verify_for` has refused its kind here.
                    TokenKind::HouseholdCard => return Err(EngineError::WrongQr { problem: QrProblem::WrongKind }),
                }
                Ok(())
            }
            Err(e) => {
                let mine = |t: TaskId| self.with(|s| s.task(t)).ok().flatten().is_some();
                Err(EngineError::WrongQr { problem: qr_problem(e, mine) })
            }
        }
    }

    fn type_code(&self, d: &mut Draft, code: &str) -> Result<(), EngineError> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(EngineError::CodeMalformed);
        }
        let sheet = self.sheet(d.task)?;
        let hash = sheet.resident_code.ok_or(EngineError::CodeNotOnFile)?;
        if !jx_core::code::check_code(&code, &hash) {
            return Err(EngineError::CodeWrong);
        }
        d.confirmation = Some(Confirmation::ResidentCode { code });
        Ok(())
    }

    /// Normalises a photo (upright, ≤ 1600 px, no metadata) and keeps it in the store.
    fn keep_photo(&self, photo: &[u8]) -> Result<PhotoRef, EngineError> {
        let n = jx_proof::photo::normalise(photo, &jx_proof::photo::PhotoOptions::default())
            .map_err(|e| EngineError::BadPhoto { detail: e.to_string() })?;
        let sha256 = self.with(|s| s.put_blob(&n.jpeg, jx_store::now()))?;
        Ok(PhotoRef { sha256, thumb: thumb_url(&n.thumb) })
    }

    fn finish(&self, task: TaskId) -> Answer {
        let d = self.draft(task)?;
        self.with(|s| s.record_closing_draft(task, d.payload(), jx_store::now()))?;
        self.kick_sync();
        Ok(Response::Recorded { next: self.next_after(task)? })
    }

    fn fail(
        &self,
        task: TaskId,
        reason: FailureReason,
        note: String,
        retry_at: Option<Timestamp>,
        photo: Option<Vec<u8>>,
        door_card: Option<String>,
    ) -> Answer {
        if reason == FailureReason::AnotherTime && retry_at.is_none() {
            return Err(EngineError::RetryTimeNeeded);
        }
        // The card is checked before anything is kept: a refused card records nothing.
        let card = door_card.map(|text| self.check_door_card(task, &text)).transpose()?;
        let photos = match photo {
            Some(bytes) => vec![self.keep_photo(&bytes)?.sha256],
            None => vec![],
        };
        let mut payloads =
            vec![EventPayload::AttemptFailed { reason, note: note.trim().to_string(), photos, retry_at }];
        if let Some(card) = card {
            payloads.push(EventPayload::DoorCardLeft { card: card.token });
        }
        self.with(|s| s.record_closing_draft_with(task, payloads, jx_store::now()))?;
        self.kick_sync();
        Ok(Response::Recorded { next: self.next_after(task)? })
    }

    /// Adds a photo, a note or both to the proof of a task already handed over.
    fn add_proof(&self, task: TaskId, photo: Option<Vec<u8>>, note: String) -> Answer {
        let note = note.trim().to_string();
        if photo.is_none() && note.is_empty() {
            return Err(EngineError::NothingToAdd);
        }
        self.sheet(task)?;
        let photos = match photo {
            Some(bytes) => vec![self.keep_photo(&bytes)?.sha256],
            None => vec![],
        };
        // The store folds it in first: on a task not yet handed over it is refused and nothing is kept.
        self.with(|s| s.record(task, EventPayload::ProofAdded { photos, note }, jx_store::now()))?;
        self.kick_sync();
        Ok(Response::Done)
    }

    /// Reads the door card in a photo and checks it, for the failed visit of `task` about to be recorded.
    fn scan_door_card(&self, task: TaskId, photo: &[u8]) -> Result<DoorCardScan, EngineError> {
        self.sheet(task)?;
        let texts = jx_proof::scan::decode_photo(photo).map_err(|e| EngineError::BadPhoto { detail: e.to_string() })?;
        // A card's code is its booking URL; a bare token (or another of the centre's codes) is checked too, so that
        // a packet label shown by mistake is named as such.
        let Some(text) = texts.iter().find(|t| jx_core::doorcard::card_token(t).is_ok()) else {
            return Err(if texts.is_empty() {
                EngineError::NoCodeInPhoto
            } else {
                EngineError::WrongQr { problem: QrProblem::NotOurs }
            });
        };
        let card = self.check_door_card(task, text)?;
        Ok(DoorCardScan { short: card.short(), card: card.token })
    }

    /// A door card's text (its URL or bare token), checked offline: the centre's, unaltered, and not already left by
    /// this phone at a door (a card books one visit).
    fn check_door_card(&self, task: TaskId, text: &str) -> Result<jx_core::doorcard::VerifiedCard, EngineError> {
        let keyring = self.with(|s| s.keyring())?;
        let card = keyring
            .verify_door_card(text, jx_store::now())
            .map_err(|e| EngineError::WrongQr { problem: qr_problem(e, |t| t == task) })?;
        let used = self.with(|s| s.chain())?.into_iter().find_map(|e| match &e.envelope.payload {
            EventPayload::DoorCardLeft { card: c } if *c == card.token => Some(e.envelope.task),
            _ => None,
        });
        if let Some(at) = used {
            return Err(EngineError::WrongQr { problem: QrProblem::CardAlreadyLeft { short: at.short() } });
        }
        Ok(card)
    }

    /// The first open task of the route after `task` was done.
    fn next_after(&self, task: TaskId) -> Result<Option<TaskId>, EngineError> {
        let t = self.tonight(None)?;
        Ok(t.todo
            .iter()
            .flat_map(|s| &s.tasks)
            .find(|r| r.id != task && (is_open(r.status) || r.due_again))
            .map(|r| r.id))
    }

    fn sync_view(&self, online: bool) -> Result<SyncView, EngineError> {
        // A phone the centre revoked was wiped by its sync engine: stop syncing; the screens go back to enrolment.
        if self.with(|s| s.identity())?.is_none() {
            if let Ok(mut slot) = self.sync.lock() {
                *slot = None;
            }
            return Err(EngineError::NotEnrolled);
        }
        self.purge_after_sync()?;
        let staff = self.staff()?;
        let bar = self.with(|s| s.status_bar(staff))?;
        let status = self.sync_engine().map(|e| e.status()).unwrap_or_default();
        let waiting = bar.outbox.waiting() + u64::from(bar.blobs_waiting);
        let rejected = bar.outbox.rejected;
        let problem = match &status.state {
            SyncState::Refused { code } => Some(SyncProblem::Refused { code: code.clone() }),
            SyncState::Failed => Some(SyncProblem::Failed),
            _ if rejected > 0 => Some(SyncProblem::Rejected { count: rejected }),
            SyncState::Offline => Some(SyncProblem::Unreachable),
            SyncState::Idle | SyncState::Running => None,
        };
        let why = problem.as_ref().and(status.last_error.clone());
        Ok(SyncView {
            chip: chip(&status, waiting, rejected, online),
            waiting: bar.outbox.waiting(),
            photos_waiting: bar.blobs_waiting,
            rejected,
            last_sync: status.last_success.or(bar.last_sync),
            problem,
            why,
        })
    }

    /// After each sync that finished: finished tasks the centre has all of, older than the retention, leave the
    /// phone (tasks, their events, their photos).
    fn purge_after_sync(&self) -> Result<(), EngineError> {
        let Some(done) = self.sync_engine().and_then(|e| e.status().last_success) else { return Ok(()) };
        let mut last = self.purged_after.lock().map_err(|_| EngineError::Internal { detail: "lock".into() })?;
        if *last == Some(done) {
            return Ok(());
        }
        let retention = i64::try_from(self.options.retention.as_millis()).unwrap_or(i64::MAX);
        let purged = self.with(|s| s.purge_finished(jx_store::now(), retention))?;
        if purged.tasks > 0 {
            tracing::info!(tasks = purged.tasks, photos = purged.blobs, "finished tasks purged after their retention");
        }
        *last = Some(done);
        Ok(())
    }

    fn outbox(&self) -> Result<OutboxView, EngineError> {
        let mut lines: Vec<OutboxLine> = self
            .with(|s| s.chain())?
            .into_iter()
            .map(|e| OutboxLine {
                task: e.envelope.task,
                short: e.envelope.task.short(),
                what: e.envelope.payload.kind(),
                at: e.envelope.at,
                status: e.status.as_str().to_string(),
                reason: e.reason,
            })
            .collect();
        lines.reverse();
        Ok(OutboxView { lines, sync: self.sync_view(true)? })
    }
}

/// Whether a task still waits for a visit tonight (a failed one only once it is due again).
fn is_open(s: TaskStatus) -> bool {
    matches!(s, TaskStatus::Assigned | TaskStatus::CheckedOut)
}

/// Failed visits after which a delivery goes back to the centre instead of on the route.
pub const MAX_ATTEMPTS: u32 = jx_core::state::MAX_DELIVERY_ATTEMPTS;

/// How long after a failed visit without an agreed time the task comes back on the route: the next evening.
pub const RETRY_AFTER_MS: i64 = 12 * 3600 * 1000;

/// Where a task whose last visit failed stands now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Not yet: the resident asked for a later time, or it was tonight.
    Waiting,
    /// Back on the route.
    Due,
    /// Three visits failed: the packet goes back to the centre (scanned in at the counter), no more visits.
    Return,
}

/// A task's last failed visit, as its history tells it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LastFailure {
    /// When it was recorded (the epoch if there was none).
    pub at: Timestamp,
    /// The time the resident asked for at the door (a failure for "another time").
    pub asked: Option<Timestamp>,
    /// The time the resident booked afterwards with the door card left there ([`EventPayload::Rescheduled`]).
    pub booked: Option<Timestamp>,
}

impl LastFailure {
    /// When the next visit is due: the booking if there is one (it is the resident's latest word), else the time
    /// asked for at the door; `None` for the rule's default (the next evening).
    pub fn retry_at(&self) -> Option<Timestamp> {
        self.booked.or(self.asked)
    }
}

/// The last failed visit of a history in canonical order, with the booking made after it (the latest, if there
/// were several); a booking before the last failed visit belonged to an earlier one and no longer counts.
pub fn last_failure<'a>(history: impl IntoIterator<Item = &'a jx_core::Envelope>) -> LastFailure {
    let mut last = LastFailure::default();
    for e in history {
        match &e.payload {
            EventPayload::AttemptFailed { retry_at, .. } => {
                last = LastFailure { at: e.at, asked: *retry_at, booked: None };
            }
            EventPayload::Rescheduled { at, .. } => last.booked = Some(*at),
            _ => {}
        }
    }
    last
}

/// The note of a coordinator's request for more proof that is still open in a history in canonical order: asked for,
/// and neither added to since nor accepted.
pub fn open_proof_request<'a>(history: impl IntoIterator<Item = &'a jx_core::Envelope>) -> Option<String> {
    let mut open = None;
    for e in history {
        match &e.payload {
            EventPayload::ProofRequested { note } => open = Some(note.clone()),
            EventPayload::ProofAdded { .. } | EventPayload::ProofAccepted { .. } => open = None,
            _ => {}
        }
    }
    open
}

/// The rule for a failed task: due again at the time the resident asked for, or the next evening; after
/// [`MAX_ATTEMPTS`] failed visits of a delivery, returned to the centre instead.
pub fn after_failure(
    kind: jx_core::model::TaskKind,
    attempts: u32,
    last_at: Timestamp,
    retry_at: Option<Timestamp>,
    now: Timestamp,
) -> AfterFailure {
    if kind == jx_core::model::TaskKind::Delivery && attempts >= MAX_ATTEMPTS {
        return AfterFailure::Return;
    }
    let due = match retry_at {
        Some(t) => now.0 >= t.0,
        None => now.0 - last_at.0 >= RETRY_AFTER_MS,
    };
    if due { AfterFailure::Due } else { AfterFailure::Waiting }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: SyncState, last: Option<i64>) -> SyncStatus {
        SyncStatus { state, last_success: last.map(Timestamp), ..SyncStatus::default() }
    }

    #[test]
    fn a_failed_task_comes_back_when_asked_or_the_next_evening_and_goes_home_after_three() {
        use jx_core::model::TaskKind::{Delivery, Pickup};
        let h = 3_600_000;
        let t0 = Timestamp(1_000 * h);
        assert_eq!(after_failure(Delivery, 1, t0, None, Timestamp(t0.0 + h)), AfterFailure::Waiting, "not tonight");
        assert_eq!(after_failure(Delivery, 1, t0, None, Timestamp(t0.0 + 12 * h)), AfterFailure::Due, "next evening");
        let asked = Some(Timestamp(t0.0 + 2 * h));
        assert_eq!(after_failure(Delivery, 2, t0, asked, Timestamp(t0.0 + h)), AfterFailure::Waiting);
        assert_eq!(after_failure(Delivery, 2, t0, asked, Timestamp(t0.0 + 2 * h)), AfterFailure::Due, "when asked");
        assert_eq!(after_failure(Delivery, 3, t0, asked, Timestamp(t0.0 + 30 * h)), AfterFailure::Return);
        assert_eq!(
            after_failure(Pickup, 3, t0, None, Timestamp(t0.0 + 30 * h)),
            AfterFailure::Due,
            "no packet to return"
        );
    }

    #[test]
    fn a_booking_after_the_last_failed_visit_sets_when_it_is_due() {
        use jx_core::event::{Actor, Envelope};
        let ev = |n: u64, at: i64, payload: EventPayload| Envelope {
            id: jx_core::EventId::v7(n, [n as u8; 10]),
            task: TaskId::v7(1, [1; 10]),
            actor: Actor::Centre,
            seq: n,
            prev: jx_core::bytes::Sha256::ZERO,
            at: Timestamp(at),
            payload,
            signature: None,
        };
        let failed = |asked: Option<i64>| EventPayload::AttemptFailed {
            reason: FailureReason::AnotherTime,
            note: String::new(),
            photos: vec![],
            retry_at: asked.map(Timestamp),
        };
        let booked = |at: i64| EventPayload::Rescheduled { at: Timestamp(at), card: "JX1:card".into() };
        let card = EventPayload::DoorCardLeft { card: "JX1:card".into() };
        assert_eq!(last_failure([]), LastFailure::default());
        let hour = 3_600_000;
        let t0 = 1_000 * hour;
        let h =
            [ev(1, t0, failed(Some(t0 + hour))), ev(2, t0 + 1, card.clone()), ev(3, t0 + 2, booked(t0 + 30 * hour))];
        let last = last_failure(&h);
        let expected = LastFailure {
            at: Timestamp(t0),
            asked: Some(Timestamp(t0 + hour)),
            booked: Some(Timestamp(t0 + 30 * hour)),
        };
        assert_eq!(last, expected);
        assert_eq!(
            last.retry_at(),
            Some(Timestamp(t0 + 30 * hour)),
            "the booking overrides the time asked at the door"
        );
        // The rule: not due before the booked evening, though the time asked at the door and a night have passed.
        let rule =
            |now: i64| after_failure(jx_core::model::TaskKind::Delivery, 1, last.at, last.retry_at(), Timestamp(now));
        assert_eq!(
            after_failure(jx_core::model::TaskKind::Delivery, 1, last.at, None, Timestamp(t0 + 13 * hour)),
            AfterFailure::Due
        );
        for now in [t0 + 2 * hour, t0 + 13 * hour, t0 + 30 * hour - 1] {
            assert_eq!(rule(now), AfterFailure::Waiting, "{now}");
        }
        assert_eq!(rule(t0 + 30 * hour), AfterFailure::Due);
        // Another failed visit after it: that booking belonged to the visit before.
        let mut again = h.to_vec();
        again.push(ev(4, t0 + 40 * hour, failed(None)));
        assert_eq!(last_failure(&again), LastFailure { at: Timestamp(t0 + 40 * hour), asked: None, booked: None });
    }

    #[test]
    fn the_chip_tells_the_truth() {
        assert_eq!(chip(&status(SyncState::Idle, None), 0, 0, true), Chip::Never);
        assert_eq!(chip(&status(SyncState::Idle, Some(1)), 0, 0, true), Chip::Synced);
        assert_eq!(chip(&status(SyncState::Idle, Some(1)), 3, 0, true), Chip::Waiting);
        assert_eq!(chip(&status(SyncState::Idle, Some(1)), 3, 0, false), Chip::Offline, "the platform knows first");
        assert_eq!(chip(&status(SyncState::Offline, Some(1)), 0, 0, true), Chip::Offline);
        assert_eq!(chip(&status(SyncState::Running, Some(1)), 2, 0, true), Chip::Syncing);
        assert_eq!(chip(&status(SyncState::Idle, Some(1)), 0, 1, true), Chip::Problem, "a refused item");
        let refused = SyncState::Refused { code: "device_revoked".into() };
        assert_eq!(chip(&status(refused, Some(1)), 0, 0, false), Chip::Problem);
    }
}
