//! The HTTP routes of `/api/v1`: thin handlers that check the caller, parse the request, and call the modules that
//! do the work. [`ROUTES`] lists every route; the OpenAPI document is tested against it.

use crate::audit::{self, About};
use crate::auth::{Caller, Coordinator, DeviceCaller, StaffSession, new_token, store_token, verify_password};
use crate::board::{self, TaskFilter};
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::proof::{PrintLang, Selection};
use crate::{AppState, blobs, import, log, proof, sync};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use jx_core::bytes::Sha256;
use jx_core::event::{Actor, Envelope, EventPayload};
use jx_core::model::Role;
use jx_core::state::ConflictKind;
use jx_core::wire::*;
use jx_core::{DeviceId, EventId, StaffId, TaskId};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Every route: (method, path as in the OpenAPI document).
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/health"),
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/staff"),
    ("post", "/api/v1/devices"),
    ("get", "/api/v1/devices"),
    ("post", "/api/v1/devices/{device}/revoke"),
    ("post", "/api/v1/tasks/import"),
    ("get", "/api/v1/tasks"),
    ("get", "/api/v1/tasks/{task}"),
    ("get", "/api/v1/tasks/{task}/qr"),
    ("get", "/api/v1/tasks/{task}/label"),
    ("get", "/api/v1/tasks/{task}/slip"),
    ("get", "/api/v1/print/labels"),
    ("get", "/api/v1/print/slips"),
    ("get", "/api/v1/print/door-cards"),
    ("get", "/api/v1/keyring"),
    ("post", "/api/v1/assign/proposal"),
    ("post", "/api/v1/assign/apply"),
    ("get", "/api/v1/staff/{staff}/route"),
    ("post", "/api/v1/keyring/rotate"),
    ("post", "/api/v1/tasks/{task}/decisions"),
    ("get", "/api/v1/progress"),
    ("get", "/api/v1/town"),
    ("get", "/api/v1/board"),
    ("post", "/api/v1/counter"),
    ("get", "/api/v1/report/evening.csv"),
    ("get", "/api/v1/report/week"),
    ("get", "/api/v1/exceptions"),
    ("get", "/api/v1/sync/pull"),
    ("post", "/api/v1/sync/push"),
    ("put", "/api/v1/blobs/{sha256}"),
    ("get", "/api/v1/blobs/{sha256}"),
    ("post", "/api/v1/residents/{resident}/card"),
    ("get", "/api/v1/residents/{resident}/card"),
    ("post", "/api/v1/residents/{resident}/proxies"),
    ("get", "/api/v1/residents/{resident}/proxies"),
    ("delete", "/api/v1/residents/{resident}/proxies/{proxy}"),
    ("get", "/api/v1/residents/{resident}/proxies/{proxy}/card"),
];

/// A JSON body whose rejections are this API's JSON errors.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Self> {
        let Json(v) = Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(v))
    }
}

pub fn router(state: AppState) -> Router {
    let json_limit = DefaultBodyLimit::max(state.settings.max_json_bytes);
    let blob_limit = DefaultBodyLimit::max(state.settings.max_blob_bytes);
    let import_limit = DefaultBodyLimit::max(state.settings.max_import_bytes);
    let api = Router::new()
        .route("/health", get(|| async { Json(serde_json::json!({"status": "ok"})) }))
        .route("/openapi.json", get(openapi))
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/audit", get(audit_log))
        .route("/staff", get(list_staff))
        .route("/devices", post(enrol).get(list_devices))
        .route("/devices/{device}/revoke", post(revoke))
        .route("/tasks/import", post(import_tasks).layer(import_limit))
        .route("/tasks", get(list_tasks))
        .route("/tasks/{task}", get(task_detail))
        .route("/tasks/{task}/decisions", post(decide))
        .route("/tasks/{task}/qr", get(task_qr))
        .route("/tasks/{task}/label", get(task_label))
        .route("/tasks/{task}/slip", get(task_slip))
        .route("/print/labels", get(print_labels))
        .route("/print/slips", get(print_slips))
        .merge(crate::doorcard::api_router())
        .route("/keyring", get(get_keyring))
        .route("/assign/proposal", post(assign_proposal))
        .route("/assign/apply", post(assign_apply))
        .route("/staff/{staff}/route", get(staff_route))
        .route("/keyring/rotate", post(rotate_key))
        .route("/progress", get(progress))
        .route("/town", get(town_map))
        .route("/board", get(board_view))
        .route("/counter", post(counter_scan))
        .route("/report/evening.csv", get(evening_report))
        .route("/report/week", get(week_report))
        .route("/exceptions", get(exceptions))
        .route("/sync/pull", get(pull))
        .route("/sync/push", post(push))
        .route("/blobs/{sha256}", put(put_blob).get(get_blob).layer(blob_limit))
        .merge(crate::household::router())
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(json_limit);
    Router::new()
        .nest("/api/v1", api)
        .merge(crate::doorcard::page_router())
        .fallback(crate::app::serve)
        .layer(axum::middleware::from_fn(crate::access_log))
        .with_state(state)
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], crate::OPENAPI)
}

async fn login(State(st): State<AppState>, ApiJson(req): ApiJson<LoginRequest>) -> ApiResult<Json<LoginResponse>> {
    let ttl = st.settings.session_ttl_ms;
    let limits = st.settings.login_limits;
    // The closure's own result is the answer; the transaction commits either way, so a failure is counted even
    // though the request fails.
    st.db
        .call(move |tx| {
            let at = now();
            if let Some(until) = crate::auth::locked_until(tx, &req.login, at)? {
                let minutes = (until.millis() - at.millis() + 59_999) / 60_000;
                return Ok(Err(ApiError::TooManyRequests(
                    "locked_out",
                    format!("too many failed logins; try again in {minutes} min or ask a coordinator"),
                )));
            }
            let row = tx.query_opt(
                "SELECT id, name, role, password_hash FROM staff WHERE login = $1",
                crate::params![&req.login],
            )?;
            let refused = || ApiError::Unauthenticated("bad_credentials", "wrong login or password".into());
            let ok =
                row.as_ref().map(|r| r.text(3)).transpose()?.is_some_and(|hash| verify_password(&req.password, &hash));
            let Some(row) = row.filter(|_| ok) else {
                crate::auth::count_failure(tx, &req.login, at, limits)?;
                return Ok(Err(refused()));
            };
            crate::auth::clear_failures(tx, &req.login)?;
            let (id, name, role) = (row.u32(0)?, row.text(1)?, row.text(2)?);
            let token = new_token()?;
            let expires_at = jx_core::Timestamp(now().millis() + ttl);
            store_token(tx, &token, StaffId(id), None, Some(expires_at))?;
            let role = if role == "coordinator" { Role::Coordinator } else { Role::Staff };
            Ok(Ok(Json(LoginResponse { token, expires_at, staff: StaffId(id), name, role })))
        })
        .await?
}

#[derive(serde::Serialize)]
struct StaffView {
    id: StaffId,
    login: String,
    name: String,
    role: String,
    home_compound: Option<u32>,
    home_building: Option<u16>,
    capacity: u16,
}

async fn list_staff(State(st): State<AppState>, _c: Coordinator) -> ApiResult<Json<Vec<StaffView>>> {
    st.db
        .call(|tx| {
            tx.query(
                "SELECT id, login, name, role, home_compound, home_building, capacity FROM staff ORDER BY id",
                crate::params![],
            )?
            .iter()
            .map(|r| {
                Ok(StaffView {
                    id: StaffId(r.u32(0)?),
                    login: r.text(1)?,
                    name: r.text(2)?,
                    role: r.text(3)?,
                    home_compound: r.opt_int(4)?.map(|v| v as u32),
                    home_building: r.opt_int(5)?.map(|v| v as u16),
                    capacity: r.int(6)? as u16,
                })
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Json)
        })
        .await
}

async fn enrol(
    State(st): State<AppState>,
    session: StaffSession,
    ApiJson(req): ApiJson<EnrolRequest>,
) -> ApiResult<(StatusCode, Json<EnrolResponse>)> {
    if session.role != Role::Staff {
        return Err(ApiError::Forbidden("staff_only", "only a team member's phone can be enrolled".into()));
    }
    let key = req.public_key.trim().to_lowercase();
    let bytes: [u8; 32] = hex::decode(&key).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| {
        ApiError::BadRequest("bad_public_key", "the public key must be 32 bytes as 64 hex characters".into())
    })?;
    if ed25519_dalek::VerifyingKey::from_bytes(&bytes).is_err() {
        return Err(ApiError::BadRequest("bad_public_key", "that is not an Ed25519 public key".into()));
    }
    st.db
        .call(move |tx| {
            let owner = tx.query_opt(
                "SELECT staff_id FROM devices WHERE device_id = $1",
                crate::params![req.device.to_string()],
            )?;
            if owner.is_some() {
                return Err(ApiError::Conflict("device_exists", format!("device {} is already enrolled", req.device)));
            }
            tx.execute(
                "INSERT INTO devices (device_id, staff_id, public_key, enrolled_at, last_seq, last_hash)
                 VALUES ($1, $2, $3, $4, 0, $5)",
                crate::params![req.device.to_string(), session.staff.0, key, now().millis(), Sha256::ZERO.to_hex()],
            )?;
            let token = new_token()?;
            store_token(tx, &token, session.staff, Some(req.device), None)?;
            let about = About { staff: Some(session.staff), device: Some(req.device), task: None };
            audit::record(tx, now(), session.staff, "enrol", about, "phone enrolled")?;
            tracing::info!(device = %req.device, staff = session.staff.0, "device enrolled");
            Ok((
                StatusCode::CREATED,
                Json(EnrolResponse { device: req.device, staff: session.staff, device_token: token }),
            ))
        })
        .await
}

#[derive(serde::Serialize)]
struct DeviceView {
    device: DeviceId,
    staff: StaffId,
    enrolled_at: i64,
    revoked_at: Option<i64>,
    last_seq: i64,
}

async fn list_devices(State(st): State<AppState>, _c: Coordinator) -> ApiResult<Json<Vec<DeviceView>>> {
    st.db
        .call(|tx| {
            tx.query(
                "SELECT device_id, staff_id, enrolled_at, revoked_at, last_seq FROM devices ORDER BY enrolled_at",
                crate::params![],
            )?
            .iter()
            .map(|r| {
                Ok(DeviceView {
                    device: r.text(0)?.parse().map_err(ApiError::internal)?,
                    staff: StaffId(r.u32(1)?),
                    enrolled_at: r.int(2)?,
                    revoked_at: r.opt_int(3)?,
                    last_seq: r.int(4)?,
                })
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Json)
        })
        .await
}

async fn revoke(State(st): State<AppState>, c: Coordinator, Path(device): Path<String>) -> ApiResult<StatusCode> {
    let device: DeviceId =
        device.parse().map_err(|_| ApiError::BadRequest("bad_device_id", format!("“{device}” is not a device id")))?;
    st.db
        .call(move |tx| {
            let n = tx.execute(
                "UPDATE devices SET revoked_at = coalesce(revoked_at, $2) WHERE device_id = $1",
                crate::params![device.to_string(), now().millis()],
            )?;
            if n == 0 {
                return Err(ApiError::NotFound(format!("device {device} is not enrolled")));
            }
            let owner = tx
                .query_opt("SELECT staff_id FROM devices WHERE device_id = $1", crate::params![device.to_string()])?
                .map(|r| r.u32(0))
                .transpose()?
                .map(StaffId);
            let about = About { staff: owner, device: Some(device), task: None };
            audit::record(tx, now(), c.staff, "revoke", about, "phone revoked")?;
            tracing::info!(device = %device, by = c.staff.0, "device revoked");
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

#[derive(Deserialize)]
struct ImportQuery {
    #[serde(default)]
    mode: ImportMode,
}

async fn import_tasks(
    State(st): State<AppState>,
    c: Coordinator,
    q: Result<Query<ImportQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<ImportReport>> {
    let Query(q) = q?;
    let body = body.map_err(|_| ApiError::PayloadTooLarge("the import file is too large".into()))?;
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = ctype.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let rows = match essence.as_str() {
        "text/csv" => import::parse_csv(&body),
        "application/json" => import::parse_json(&body),
        _ => {
            return Err(ApiError::UnsupportedMediaType("send the import as text/csv or application/json".into()));
        }
    };
    let rows = rows.map_err(|e| {
        ApiError::ImportRejected(ImportReport { imported: 0, errors: vec![e], tasks: vec![], valid: 0 })
    })?;
    let by = c.staff;
    let report = st
        .db
        .call(move |conn| {
            let report = import::import(conn, rows, q.mode)?;
            let at = now();
            for t in &report.tasks {
                audit::record(conn, at, by, "import", About { task: Some(*t), ..About::default() }, "")?;
            }
            Ok(report)
        })
        .await?;
    // The new deliveries' codes get their slow hashes before the coordinator is told the import is done, so the
    // phones' first pull carries them.
    proof::hash_pending_codes(&st.db, st.settings.code_cost).await?;
    tracing::info!(by = c.staff.0, imported = report.imported, bad_rows = report.errors.len(), "tasks imported");
    Ok(Json(report))
}

async fn list_tasks(
    State(st): State<AppState>,
    _c: Coordinator,
    q: Result<Query<TaskFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<TaskSummary>>> {
    let Query(f) = q?;
    st.db.call(move |conn| board::list(conn, &f).map(Json)).await
}

fn parse_task(s: &str) -> ApiResult<TaskId> {
    s.parse().map_err(|_| ApiError::BadRequest("bad_task_id", format!("“{s}” is not a task id")))
}

async fn task_detail(
    State(st): State<AppState>,
    caller: Caller,
    Path(task): Path<String>,
) -> ApiResult<Json<board::TaskDetail>> {
    let id = parse_task(&task)?;
    let only_for = match caller {
        Caller::Session { role: Role::Coordinator, .. } => None,
        Caller::Session { staff, .. } | Caller::Device { staff, .. } => Some(staff),
    };
    let far = st.settings.far_handoff_m;
    st.db.call(move |conn| board::detail(conn, id, only_for, far).map(Json)).await
}

async fn decide(
    State(st): State<AppState>,
    c: Coordinator,
    Path(task): Path<String>,
    ApiJson(decision): ApiJson<Decision>,
) -> ApiResult<Json<jx_core::TaskState>> {
    let id = parse_task(&task)?;
    let state = st
        .db
        .call(move |tx| {
            let payload = match decision {
                Decision::Assign { staff } | Decision::Reassign { staff } => {
                    let role = tx.query_opt("SELECT role FROM staff WHERE id = $1", crate::params![staff.0])?;
                    if role.map(|r| r.text(0)).transpose()?.as_deref() != Some("staff") {
                        return Err(ApiError::BadRequest("bad_staff", format!("{staff} is not a team member")));
                    }
                    if matches!(decision, Decision::Assign { .. }) {
                        EventPayload::Assigned { staff }
                    } else {
                        EventPayload::Reassigned { staff }
                    }
                }
                Decision::CheckOut => {
                    let (_, s) = log::load_task(tx, id)?
                        .ok_or_else(|| ApiError::NotFound(format!("task {id} does not exist")))?;
                    let staff = s.assignee.ok_or_else(|| {
                        ApiError::Conflict("not_assigned", format!("task {id} is not assigned to anyone"))
                    })?;
                    EventPayload::CheckedOut { staff }
                }
                Decision::HandIn => EventPayload::HandedIn,
                Decision::Return { note } => EventPayload::Returned { note },
                Decision::Cancel { reason } => EventPayload::Cancelled { reason },
                Decision::AcceptConflict { event, note } => {
                    let staff = conflict_staff(tx, id, event)?;
                    EventPayload::ConflictAccepted { event, staff, note }
                }
                Decision::AskForProof { note } => {
                    handed_over(tx, id)?;
                    EventPayload::ProofRequested { note }
                }
                Decision::AcceptProof { note } => {
                    handed_over(tx, id)?;
                    EventPayload::ProofAccepted { note }
                }
            };
            let kind = payload.kind();
            let about = About {
                task: Some(id),
                staff: match &payload {
                    EventPayload::Assigned { staff }
                    | EventPayload::Reassigned { staff }
                    | EventPayload::CheckedOut { staff } => Some(*staff),
                    EventPayload::ConflictAccepted { staff, .. } => *staff,
                    _ => None,
                },
                device: None,
            };
            let at = now();
            let state = log::append_decision(tx, Actor::Coordinator { staff: c.staff }, id, payload, at)?;
            audit::record(tx, at, c.staff, kind.as_str(), about, "")?;
            tracing::info!(task = %id, decision = %kind, by = c.staff.0, "coordinator decision");
            Ok(state)
        })
        .await?;
    Ok(Json(state))
}

/// Refuses, with a clear reason, a decision about the proof of task `id` before its packet was handed over.
fn handed_over(tx: &mut dyn crate::sql::Tx, id: TaskId) -> ApiResult<()> {
    let (_, s) = log::load_task(tx, id)?.ok_or_else(|| ApiError::NotFound(format!("task {id} does not exist")))?;
    if s.status.is_handed_over() {
        return Ok(());
    }
    Err(ApiError::Conflict(
        "not_settled",
        format!("task {id} is {}: proof is asked for or accepted only after a handoff", s.status),
    ))
}

/// Whom accepting the conflict of `event` on task `id` makes the assignee: for a fact from someone who was not the
/// assignee, the staff member whose phone recorded it; otherwise nobody. Refused if `event` is not a conflict.
fn conflict_staff(tx: &mut dyn crate::sql::Tx, id: TaskId, event: EventId) -> ApiResult<Option<StaffId>> {
    let (_, s) = log::load_task(tx, id)?.ok_or_else(|| ApiError::NotFound(format!("task {id} does not exist")))?;
    let conflict = s.conflicts.iter().find(|c| c.event == event).ok_or_else(|| {
        ApiError::Conflict("not_a_conflict", format!("event {event} is not among the conflicts of task {id}"))
    })?;
    if !matches!(conflict.kind, ConflictKind::NotAssignee { .. }) {
        return Ok(None);
    }
    let recorded = tx
        .query_opt(
            "SELECT encoded FROM events WHERE event_id = $1 AND task_id = $2 AND outcome = 'accepted'",
            crate::params![event.to_string(), id.to_string()],
        )?
        .ok_or_else(|| ApiError::internal(format!("the conflicting event {event} is not stored")))?;
    let e = Envelope::decode(&recorded.bytes(0)?).map_err(ApiError::internal)?;
    Ok(e.actor.device_staff())
}

async fn progress(State(st): State<AppState>, _c: Coordinator) -> ApiResult<Json<Vec<CompoundProgress>>> {
    st.db.call(|conn| board::progress(conn).map(Json)).await
}

/// The town's compounds with their boundaries and buildings, for the coordinators' map.
async fn town_map(State(st): State<AppState>, _c: Coordinator) -> ApiResult<Json<TownMap>> {
    st.db.call(|conn| crate::town::compounds(conn).map(|compounds| Json(TownMap { compounds }))).await
}

#[derive(Debug, Deserialize)]
struct BoardQuery {
    compound: Option<u32>,
    staff: Option<u32>,
}

/// The evening's board: every compound's counts, every team member's load, the tasks of the filter.
async fn board_view(
    State(st): State<AppState>,
    _c: Coordinator,
    q: Result<Query<BoardQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Board>> {
    let Query(q) = q?;
    st.db.call(move |conn| board::board(conn, q.compound, q.staff).map(Json)).await
}

/// A packet label scanned at the counter: out to its assignee, or back in.
async fn counter_scan(
    State(st): State<AppState>,
    c: Coordinator,
    ApiJson(scan): ApiJson<CounterScan>,
) -> ApiResult<Json<CounterResult>> {
    st.db.call(move |conn| crate::counter::scan(conn, c.staff, &scan, now()).map(Json)).await
}

#[derive(Debug, Deserialize)]
struct DayQuery {
    day: Option<String>,
    until: Option<String>,
}

/// The evening's results per compound and team member, as CSV for a spreadsheet.
async fn evening_report(
    State(st): State<AppState>,
    _c: Coordinator,
    q: Result<Query<DayQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let day = crate::report::parse_day(q.day.as_deref(), "day")?;
    let csv = st.db.call(move |conn| crate::report::evening_csv(conn, day)).await?;
    let disposition = format!("attachment; filename=\"jx-evening-{day}.csv\"");
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        csv,
    )
        .into_response())
}

/// Handoffs and failed visits per day for the 7 Shanghai days ending with `until` (today by default).
async fn week_report(
    State(st): State<AppState>,
    _c: Coordinator,
    q: Result<Query<DayQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<DayCount>>> {
    let Query(q) = q?;
    let until = match q.until.as_deref() {
        None | Some("") => crate::report::Day::of(now()),
        s => crate::report::parse_day(s, "until")?,
    };
    st.db.call(move |conn| crate::report::week(conn, until).map(Json)).await
}

async fn exceptions(State(st): State<AppState>, _c: Coordinator) -> ApiResult<Json<Exceptions>> {
    let far = st.settings.far_handoff_m;
    st.db.call(move |conn| board::exceptions(conn, far).map(Json)).await
}

#[derive(Deserialize)]
struct PullQuery {
    since: Option<String>,
    limit: Option<usize>,
}

async fn pull(
    State(st): State<AppState>,
    d: DeviceCaller,
    q: Result<Query<PullQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<PullResponse>> {
    let Query(q) = q?;
    let since = sync::parse_cursor(q.since.as_deref())?;
    let limit = q.limit.unwrap_or(200).clamp(1, 1_000);
    st.db.call(move |conn| sync::pull(conn, d, since, limit).map(Json)).await
}

async fn push(
    State(st): State<AppState>,
    d: DeviceCaller,
    ApiJson(req): ApiJson<PushRequest>,
) -> ApiResult<Json<PushResponse>> {
    let n = req.events.len();
    let results = st.db.call(move |conn| sync::push(conn, d, req.events)).await?;
    let accepted = results.iter().filter(|r| r.outcome == PushOutcome::Accepted).count();
    tracing::info!(device = %d.device, events = n, accepted, "push");
    Ok(Json(PushResponse { results }))
}

fn parse_hash(s: &str) -> ApiResult<Sha256> {
    Sha256::from_hex(&s.to_ascii_lowercase())
        .map_err(|e| ApiError::BadRequest("bad_hash", format!("“{s}” is not a SHA-256 in hex: {e}")))
}

async fn put_blob(
    State(st): State<AppState>,
    _caller: Caller,
    Path(hash): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<BlobReceipt>)> {
    let hash = parse_hash(&hash)?;
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if !matches!(ctype.as_str(), "image/jpeg" | "image/png" | "image/webp") {
        return Err(ApiError::UnsupportedMediaType("a blob is a JPEG, PNG or WebP image".into()));
    }
    let body = body.map_err(|_| {
        ApiError::PayloadTooLarge(format!("a blob may be at most {} bytes", st.settings.max_blob_bytes))
    })?;
    if blobs::sniff(&body) != Some(ctype.as_str()) {
        return Err(ApiError::BadRequest("type_mismatch", format!("the bytes are not a {ctype} image")));
    }
    if Sha256::of(&body) != hash {
        return Err(ApiError::BadRequest(
            "hash_mismatch",
            "the bytes do not have the SHA-256 named in the path".into(),
        ));
    }
    let size = body.len() as u64;
    let created = st.blobs.put(hash, body.to_vec()).await.map_err(ApiError::internal)?;
    st.db
        .call(move |conn| {
            conn.execute(
                "INSERT INTO blobs (sha256, size, mime, stored_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                crate::params![hash.to_hex(), size as i64, ctype, now().millis()],
            )?;
            Ok(())
        })
        .await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(BlobReceipt { sha256: hash, size, created })))
}

async fn get_blob(State(st): State<AppState>, _c: Coordinator, Path(hash): Path<String>) -> ApiResult<Response> {
    let hash = parse_hash(&hash)?;
    let bytes = st
        .blobs
        .get(hash)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::NotFound(format!("blob {hash} is not here")))?;
    let ctype = blobs::sniff(&bytes).unwrap_or("application/octet-stream");
    Ok(([(header::CONTENT_TYPE, ctype)], bytes).into_response())
}

#[derive(Debug, Deserialize)]
struct QrQuery {
    /// `packet` (the default) or `resident`.
    kind: Option<String>,
    /// `svg` (the default), `png` or `text`.
    format: Option<String>,
}

/// One of a task's codes, freshly signed, as SVG, PNG or the token text.
async fn task_qr(
    State(st): State<AppState>,
    _c: Coordinator,
    Path(task): Path<String>,
    q: Result<Query<QrQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let id = parse_task(&task)?;
    let kind = match q.kind.as_deref().unwrap_or("packet") {
        "packet" => jx_core::token::TokenKind::PacketLabel,
        "resident" => jx_core::token::TokenKind::ResidentConfirmation,
        other => return Err(ApiError::BadRequest("bad_kind", format!("“{other}” is not packet or resident"))),
    };
    let format = q.format.unwrap_or_else(|| "svg".into());
    if !matches!(format.as_str(), "svg" | "png" | "text") {
        return Err(ApiError::BadRequest("bad_format", format!("“{format}” is not svg, png or text")));
    }
    let token = st.db.call(move |conn| proof::token(conn, id, kind)).await?;
    qr_response(token, &format)
}

/// A signed code as the answer asks: `png`, `text` (the token itself) or, for anything else, SVG.
pub(crate) fn qr_response(token: String, format: &str) -> ApiResult<Response> {
    let render_err = |e: jx_proof::render::RenderError| ApiError::internal(e);
    Ok(match format {
        "png" => ([(header::CONTENT_TYPE, "image/png")], jx_proof::render::png(&token, 8).map_err(render_err)?)
            .into_response(),
        "text" => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], token).into_response(),
        _ => ([(header::CONTENT_TYPE, "image/svg+xml")], jx_proof::render::svg(&token, "100%").map_err(render_err)?)
            .into_response(),
    })
}

#[derive(Debug, Deserialize)]
struct PrintQuery {
    staff: Option<u32>,
    /// The evening the sheet is for, printed in its title (`2026-11-29`).
    evening: Option<String>,
    lang: Option<String>,
}

fn html(page: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

async fn print_sheet(st: AppState, sel: Selection, q: PrintQuery, slips: bool) -> ApiResult<Response> {
    let lang = PrintLang::parse(q.lang.as_deref());
    let evening = q.evening.unwrap_or_default();
    if evening.chars().count() > 40 {
        return Err(ApiError::BadRequest("bad_evening", "the evening is a date like 2026-11-29".into()));
    }
    let page = st
        .db
        .call(move |conn| {
            let who = match sel {
                Selection::Staff(s) => conn
                    .query_opt("SELECT name FROM staff WHERE id = $1", crate::params![s.0])?
                    .ok_or_else(|| ApiError::NotFound(format!("no staff member {s}")))?
                    .text(0)?,
                Selection::One(t) => t.short(),
            };
            let title = match (lang, slips) {
                (PrintLang::ZhCn, false) => format!("{who} {evening} 文件袋标签"),
                (PrintLang::ZhCn, true) => format!("{who} {evening} 居民确认码"),
                (PrintLang::En, false) => format!("Packet labels: {who} {evening}"),
                (PrintLang::En, true) => format!("Residents' confirmation codes: {who} {evening}"),
            };
            if slips { proof::slip_sheet(conn, sel, title, lang) } else { proof::label_sheet(conn, sel, title, lang) }
        })
        .await?;
    Ok(html(page))
}

fn staff_selection(q: &PrintQuery) -> ApiResult<Selection> {
    q.staff
        .map(|s| Selection::Staff(StaffId(s)))
        .ok_or_else(|| ApiError::BadRequest("missing_staff", "say whose sheet: ?staff=ID".into()))
}

/// A printable A4 sheet of a staff member's packet labels for the evening.
async fn print_labels(
    State(st): State<AppState>,
    _c: Coordinator,
    q: Result<Query<PrintQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let sel = staff_selection(&q)?;
    print_sheet(st, sel, q, false).await
}

/// Printable confirmation slips for the residents of a staff member's deliveries.
async fn print_slips(
    State(st): State<AppState>,
    _c: Coordinator,
    q: Result<Query<PrintQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let sel = staff_selection(&q)?;
    print_sheet(st, sel, q, true).await
}

/// One task's packet label (a pickup's packet is labelled when it is handed over), on an A4 sheet.
async fn task_label(
    State(st): State<AppState>,
    _c: Coordinator,
    Path(task): Path<String>,
    q: Result<Query<PrintQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let id = parse_task(&task)?;
    print_sheet(st, Selection::One(id), q, false).await
}

/// One resident's confirmation slip.
async fn task_slip(
    State(st): State<AppState>,
    _c: Coordinator,
    Path(task): Path<String>,
    q: Result<Query<PrintQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let id = parse_task(&task)?;
    print_sheet(st, Selection::One(id), q, true).await
}

/// The centre's public keys, for phones (also sent with every pull).
async fn get_keyring(State(st): State<AppState>, _c: Caller) -> ApiResult<Json<jx_core::token::Keyring>> {
    st.db.call(|conn| proof::keyring(conn).map(Json)).await
}

#[derive(Debug, Deserialize)]
struct RotateRequest {
    /// Until when (Unix ms) codes signed with the keys in force keep verifying.
    retire_after: i64,
}

/// Starts signing codes with a new key; the old ones verify until `retire_after`.
async fn rotate_key(
    State(st): State<AppState>,
    c: Coordinator,
    ApiJson(req): ApiJson<RotateRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    let at = now();
    if req.retire_after < at.0 {
        return Err(ApiError::BadRequest(
            "retire_in_past",
            "retire_after is in the past: codes already printed would fail at once".into(),
        ));
    }
    let by = c.staff;
    let id = st
        .db
        .call(move |conn| {
            let id = proof::rotate(conn, at, jx_core::Timestamp(req.retire_after))?;
            audit::record(conn, at, by, "rotate_key", About::default(), &format!("signing key {id} in force"))?;
            Ok(id)
        })
        .await?;
    tracing::info!(by = c.staff.0, key = id, "signing key rotated");
    Ok(Json(serde_json::json!({ "key_id": id })))
}

#[derive(Debug, Default, Deserialize)]
struct ProposalRequest {
    /// Team members not working tonight.
    #[serde(default)]
    unavailable: Vec<StaffId>,
}

/// A proposal for tonight's unassigned tasks: residents first, balanced, the rest to the nearest with room.
async fn assign_proposal(
    State(st): State<AppState>,
    _c: Coordinator,
    ApiJson(req): ApiJson<ProposalRequest>,
) -> ApiResult<Json<jx_core::assign::Proposal>> {
    st.db.call(move |conn| crate::geo::proposal(conn, &req.unavailable).map(Json)).await
}

#[derive(Debug, Deserialize)]
struct ApplyItem {
    task: TaskId,
    staff: StaffId,
}

#[derive(Debug, Deserialize)]
struct ApplyRequest {
    assignments: Vec<ApplyItem>,
}

/// Applies a (possibly edited) proposal: one assignment decision per task, in one transaction.
async fn assign_apply(
    State(st): State<AppState>,
    c: Coordinator,
    ApiJson(req): ApiJson<ApplyRequest>,
) -> ApiResult<Json<crate::geo::Applied>> {
    let items: Vec<(TaskId, StaffId)> = req.assignments.iter().map(|a| (a.task, a.staff)).collect();
    let applied = st.db.call(move |conn| crate::geo::apply(conn, c.staff, &items, now())).await?;
    tracing::info!(by = c.staff.0, assigned = applied.assigned, skipped = applied.skipped.len(), "proposal applied");
    Ok(Json(applied))
}

#[derive(Debug, Deserialize)]
struct RouteQuery {
    return_home: Option<bool>,
    green_first: Option<bool>,
}

/// A staff member's open tasks in walking order (coordinators; staff for themselves).
async fn staff_route(
    State(st): State<AppState>,
    caller: Caller,
    Path(staff): Path<String>,
    q: Result<Query<RouteQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<crate::geo::StaffRoute>> {
    let Query(q) = q?;
    let staff = StaffId(
        staff.parse().map_err(|_| ApiError::BadRequest("bad_staff_id", format!("“{staff}” is not a staff id")))?,
    );
    match caller {
        Caller::Session { role: Role::Coordinator, .. } => {}
        Caller::Session { staff: me, .. } | Caller::Device { staff: me, .. } if me == staff => {}
        _ => return Err(ApiError::Forbidden("not_your_route", format!("the route of {staff} is not yours"))),
    }
    let (home, green) = (q.return_home.unwrap_or(false), q.green_first.unwrap_or(true));
    st.db.call(move |conn| crate::geo::route(conn, staff, home, green).map(Json)).await
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    task: Option<String>,
    /// A staff member: what they did and what was done to them.
    staff: Option<u32>,
    limit: Option<usize>,
}

/// The audit log, newest first, by task or by person (coordinators).
async fn audit_log(
    State(st): State<AppState>,
    _c: Coordinator,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<audit::AuditEntry>>> {
    let Query(q) = q?;
    let task = q.task.as_deref().map(parse_task).transpose()?;
    let limit = q.limit.unwrap_or(200).min(5_000);
    st.db.call(move |conn| audit::query(conn, task, q.staff.map(StaffId), limit).map(Json)).await
}

/// Trades a valid session token for a new one with a fresh expiry; the old one stops working at once.
async fn refresh(State(st): State<AppState>, session: StaffSession, req: Request) -> ApiResult<Json<LoginResponse>> {
    let (parts, _) = req.into_parts();
    let old = crate::auth::bearer(&parts)?;
    let ttl = st.settings.session_ttl_ms;
    st.db
        .call(move |tx| {
            let n = tx.execute(
                "DELETE FROM tokens WHERE token_hash = $1 AND device_id IS NULL",
                crate::params![crate::auth::token_key(&old)],
            )?;
            if n == 0 {
                return Err(ApiError::BadRequest("not_a_session", "only a login session can be refreshed".into()));
            }
            let row = tx.query_one("SELECT name FROM staff WHERE id = $1", crate::params![session.staff.0])?;
            let token = new_token()?;
            let expires_at = jx_core::Timestamp(now().millis() + ttl);
            store_token(tx, &token, session.staff, None, Some(expires_at))?;
            Ok(Json(LoginResponse { token, expires_at, staff: session.staff, name: row.text(0)?, role: session.role }))
        })
        .await
}
