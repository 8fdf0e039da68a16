//! `/auth`: logging in with a password, and refreshing a session.

use super::callers::bearer;
use super::extract::{ApiJson, ClientAddr};
use super::route::Route;
use crate::auth::{self, StaffSession};
use crate::error::ApiResult;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use jx_core::wire::{LoginRequest, LoginResponse};

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v1/health", || async { Json(serde_json::json!({"status": "ok"})) }),
        Route::get("/api/v1/openapi.json", openapi),
        Route::post("/api/v1/auth/login", login),
        Route::post("/api/v1/auth/refresh", refresh),
        Route::post("/api/v1/auth/logout", logout),
    ]
}

async fn openapi() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], super::route::OPENAPI)
}

async fn login(
    State(st): State<AppState>,
    ClientAddr(address): ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let (ttl, limits) = (st.settings.session_ttl_ms, st.settings.login_limits);
    auth::login(&st.db, req, address, ttl, limits).await.map(Json)
}

/// Trades a valid session token for a new one with a fresh expiry; the old one stops working at once.
async fn refresh(State(st): State<AppState>, session: StaffSession, req: Request) -> ApiResult<Json<LoginResponse>> {
    let (parts, _) = req.into_parts();
    let old = bearer(&parts)?;
    let limits = auth::SessionLimits { ttl_ms: st.settings.session_ttl_ms, max_age_ms: st.settings.session_max_age_ms };
    st.db.call(move |tx| auth::refresh(tx, &old, session, limits)).await.map(Json)
}

/// Signs out: the session's token stops working at the centre at once.
async fn logout(State(st): State<AppState>, _session: StaffSession, req: Request) -> ApiResult<StatusCode> {
    let (parts, _) = req.into_parts();
    let token = bearer(&parts)?;
    st.db.call(move |tx| auth::logout(tx, &token)).await?;
    Ok(StatusCode::NO_CONTENT)
}
