//! `/tasks`: importing the back office's tasks, the task list, one task, and one of its codes as a QR.

use super::extract::{ApiQuery, TypedBody, code_format, parse_task, qr_response};
use super::route::BodyLimit;
use super::route::Route;
use crate::audit::{self, About};
use crate::auth::{Caller, Coordinator};
use crate::board::{self, TaskFilter};
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::{codes, import, proof};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use jx_core::model::Role;
use jx_core::token::TokenKind;
use jx_core::wire::{ImportMode, ImportReport, TaskSummary};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/api/v1/tasks/import", import_tasks).limit(BodyLimit::Import),
        Route::get("/api/v1/tasks", list_tasks),
        Route::get("/api/v1/tasks/{task}", task_detail),
        Route::get("/api/v1/tasks/{task}/qr", task_qr),
    ]
}

#[derive(Deserialize)]
struct ImportQuery {
    #[serde(default)]
    mode: ImportMode,
}

async fn import_tasks(
    State(st): State<AppState>,
    c: Coordinator,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: TypedBody,
) -> ApiResult<Json<ImportReport>> {
    let bytes = body.bytes.as_ref().ok_or_else(|| ApiError::PayloadTooLarge("the import file is too large".into()))?;
    let rows = match body.essence() {
        "text/csv" => import::parse_csv(bytes),
        "application/json" => import::parse_json(bytes),
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
        .call(move |tx| {
            let report = import::import(tx, rows, q.mode)?;
            let at = now();
            for t in &report.tasks {
                audit::record(tx, at, by, "import", About { task: Some(*t), ..About::default() }, "")?;
            }
            Ok(report)
        })
        .await?;
    // The new deliveries' codes get their slow hashes before the coordinator is told the import is done, so the
    // phones' first pull carries them.
    codes::hash_pending(&st.db, st.settings.code_cost).await?;
    tracing::info!(by = c.staff.0, imported = report.imported, bad_rows = report.errors.len(), "tasks imported");
    Ok(Json(report))
}

async fn list_tasks(
    State(st): State<AppState>,
    _c: Coordinator,
    ApiQuery(f): ApiQuery<TaskFilter>,
) -> ApiResult<Json<Vec<TaskSummary>>> {
    st.db.call(move |tx| board::list(tx, &f).map(Json)).await
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
    st.db.call(move |tx| board::detail(tx, id, only_for, far).map(Json)).await
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
    ApiQuery(q): ApiQuery<QrQuery>,
) -> ApiResult<Response> {
    let id = parse_task(&task)?;
    let kind = match q.kind.as_deref().unwrap_or("packet") {
        "packet" => TokenKind::PacketLabel,
        "resident" => TokenKind::ResidentConfirmation,
        other => return Err(ApiError::BadRequest("bad_kind", format!("“{other}” is not packet or resident"))),
    };
    let format = code_format(q.format, "svg", false)?;
    let token = st.db.call(move |tx| proof::token(tx, id, kind)).await?;
    qr_response(token, &format)
}
