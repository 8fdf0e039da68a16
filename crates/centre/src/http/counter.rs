//! `/counter`: a packet label scanned at the centre's counter.

use super::extract::ApiJson;
use super::route::Route;
use crate::auth::Coordinator;
use crate::db::now;
use crate::error::ApiResult;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use jx_core::wire::{CounterResult, CounterScan};

pub fn routes() -> Vec<Route> {
    vec![Route::post("/api/v1/counter", counter_scan)]
}

/// A packet label scanned at the counter: out to its assignee, or back in.
async fn counter_scan(
    State(st): State<AppState>,
    c: Coordinator,
    ApiJson(scan): ApiJson<CounterScan>,
) -> ApiResult<Json<CounterResult>> {
    st.db.call(move |tx| crate::counter::scan(tx, c.staff, &scan, now()).map(Json)).await
}
