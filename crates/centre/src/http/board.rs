//! `/progress`, `/town`, `/board`, `/exceptions`: what the coordinators watch during the evening.

use super::extract::ApiQuery;
use super::route::Route;
use crate::auth::Coordinator;
use crate::board;
use crate::error::ApiResult;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use jx_core::wire::{Board, CompoundProgress, Exceptions, TownMap};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v1/progress", progress),
        Route::get("/api/v1/town", town_map),
        Route::get("/api/v1/board", board_view),
        Route::get("/api/v1/exceptions", exceptions),
    ]
}

async fn progress(State(st): State<AppState>, _c: Coordinator) -> ApiResult<Json<Vec<CompoundProgress>>> {
    st.db.call(|tx| board::progress(tx).map(Json)).await
}

/// The town's compounds with their boundaries and buildings, for the coordinators' map.
async fn town_map(State(st): State<AppState>, _c: Coordinator) -> ApiResult<Json<TownMap>> {
    st.db.call(|tx| crate::town::compounds(tx).map(|compounds| Json(TownMap { compounds }))).await
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
    ApiQuery(q): ApiQuery<BoardQuery>,
) -> ApiResult<Json<Board>> {
    st.db.call(move |tx| board::board(tx, q.compound, q.staff).map(Json)).await
}

async fn exceptions(State(st): State<AppState>, _c: Coordinator) -> ApiResult<Json<Exceptions>> {
    let far = st.settings.far_handoff_m;
    st.db.call(move |tx| board::exceptions(tx, far).map(Json)).await
}
