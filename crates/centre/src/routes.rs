//! The HTTP routes of `/api/v1`: thin handlers that check the caller, parse the request, and call the modules that
//! do the work. [`ROUTES`] lists every route; the OpenAPI document is tested against it.

use crate::auth::{Caller, Coordinator, DeviceCaller, StaffSession, new_token, store_token, verify_password};
use crate::board::{self, TaskFilter};
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::{AppState, blobs, import, log, sync};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use jx_core::bytes::Sha256;
use jx_core::event::{Actor, EventPayload};
use jx_core::model::Role;
use jx_core::wire::*;
use jx_core::{DeviceId, StaffId, TaskId};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Every route: (method, path as in the OpenAPI document).
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/health"),
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/auth/login"),
    ("get", "/api/v1/staff"),
    ("post", "/api/v1/devices"),
    ("get", "/api/v1/devices"),
    ("post", "/api/v1/devices/{device}/revoke"),
    ("post", "/api/v1/tasks/import"),
    ("get", "/api/v1/tasks"),
    ("get", "/api/v1/tasks/{task}"),
    ("post", "/api/v1/tasks/{task}/decisions"),
    ("get", "/api/v1/progress"),
    ("get", "/api/v1/exceptions"),
    ("get", "/api/v1/sync/pull"),
    ("post", "/api/v1/sync/push"),
    ("put", "/api/v1/blobs/{sha256}"),
    ("get", "/api/v1/blobs/{sha256}"),
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
        .route("/staff", get(list_staff))
        .route("/devices", post(enrol).get(list_devices))
        .route("/devices/{device}/revoke", post(revoke))
        .route("/tasks/import", post(import_tasks).layer(import_limit))
        .route("/tasks", get(list_tasks))
        .route("/tasks/{task}", get(task_detail))
        .route("/tasks/{task}/decisions", post(decide))
        .route("/progress", get(progress))
        .route("/exceptions", get(exceptions))
        .route("/sync/pull", get(pull))
        .route("/sync/push", post(push))
        .route("/blobs/{sha256}", put(put_blob).get(get_blob).layer(blob_limit))
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(json_limit);
    Router::new()
        .nest("/api/v1", api)
        .fallback(crate::app::serve)
        .layer(axum::middleware::from_fn(crate::access_log))
        .with_state(state)
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], crate::OPENAPI)
}

async fn login(State(st): State<AppState>, ApiJson(req): ApiJson<LoginRequest>) -> ApiResult<Json<LoginResponse>> {
    let ttl = st.settings.session_ttl_ms;
    st.db
        .call(move |tx| {
            let row = tx.query_opt(
                "SELECT id, name, role, password_hash FROM staff WHERE login = $1",
                crate::params![&req.login],
            )?;
            let refused = || ApiError::Unauthenticated("bad_credentials", "wrong login or password".into());
            let row = row.ok_or_else(refused)?;
            let (id, name, role, hash) = (row.u32(0)?, row.text(1)?, row.text(2)?, row.text(3)?);
            if !verify_password(&req.password, &hash) {
                return Err(refused());
            }
            let token = new_token()?;
            let expires_at = jx_core::Timestamp(now().millis() + ttl);
            store_token(tx, &token, StaffId(id), None, Some(expires_at))?;
            let role = if role == "coordinator" { Role::Coordinator } else { Role::Staff };
            Ok(Json(LoginResponse { token, expires_at, staff: StaffId(id), name, role }))
        })
        .await
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
    let rows =
        rows.map_err(|e| ApiError::ImportRejected(ImportReport { imported: 0, errors: vec![e], tasks: vec![] }))?;
    let report = st.db.call(move |conn| import::import(conn, rows, q.mode)).await?;
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
    st.db.call(move |conn| board::detail(conn, id, only_for).map(Json)).await
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
            };
            let kind = payload.kind();
            let state = log::append_decision(tx, Actor::Coordinator { staff: c.staff }, id, payload, now())?;
            tracing::info!(task = %id, decision = %kind, by = c.staff.0, "coordinator decision");
            Ok(state)
        })
        .await?;
    Ok(Json(state))
}

async fn progress(State(st): State<AppState>, _c: Coordinator) -> ApiResult<Json<Vec<CompoundProgress>>> {
    st.db.call(|conn| board::progress(conn).map(Json)).await
}

async fn exceptions(State(st): State<AppState>, _c: Coordinator) -> ApiResult<Json<Exceptions>> {
    st.db.call(|conn| board::exceptions(conn).map(Json)).await
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
