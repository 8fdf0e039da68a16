//! `/sync`: a phone pushing its events and pulling what changed for it.

use super::extract::{ApiJson, ApiQuery};
use super::route::Route;
use crate::auth::DeviceCaller;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::sync;
use axum::Json;
use axum::extract::State;
use jx_core::wire::{PullResponse, PushOutcome, PushRequest, PushResponse};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![Route::get("/api/v1/sync/pull", pull), Route::post("/api/v1/sync/push", push)]
}

#[derive(Deserialize)]
struct PullQuery {
    since: Option<String>,
    limit: Option<usize>,
}

async fn pull(
    State(st): State<AppState>,
    d: DeviceCaller,
    ApiQuery(q): ApiQuery<PullQuery>,
) -> ApiResult<Json<PullResponse>> {
    let since = sync::parse_cursor(q.since.as_deref())?;
    let limit = q.limit.unwrap_or(200).clamp(1, 1_000);
    st.db.call(move |tx| sync::pull(tx, d, since, limit).map(Json)).await
}

async fn push(
    State(st): State<AppState>,
    d: DeviceCaller,
    ApiJson(req): ApiJson<PushRequest>,
) -> ApiResult<Json<PushResponse>> {
    let n = req.events.len();
    let window = st.settings.event_window;
    let results = st.db.call(move |tx| sync::push(tx, d, req.events, window)).await?;
    let accepted = results.iter().filter(|r| r.outcome == PushOutcome::Accepted).count();
    tracing::info!(device = %d.device, events = n, accepted, "push");
    Ok(Json(PushResponse { results }))
}
