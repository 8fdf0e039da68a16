//! `/keyring`: the centre's public keys, and rotating the signing key.

use super::extract::ApiJson;
use super::route::Route;
use crate::audit::{self, About};
use crate::auth::{Caller, Coordinator};
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::proof;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![Route::get("/api/v1/keyring", get_keyring), Route::post("/api/v1/keyring/rotate", rotate_key)]
}

/// The centre's public keys, for phones (also sent with every pull).
async fn get_keyring(State(st): State<AppState>, _c: Caller) -> ApiResult<Json<jx_core::token::Keyring>> {
    st.db.call(|tx| proof::keyring(tx).map(Json)).await
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
        .call(move |tx| {
            let id = proof::rotate(tx, at, jx_core::Timestamp(req.retire_after))?;
            audit::record(tx, at, by, "rotate_key", About::default(), &format!("signing key {id} in force"))?;
            Ok(id)
        })
        .await?;
    tracing::info!(by = c.staff.0, key = id, "signing key rotated");
    Ok(Json(serde_json::json!({ "key_id": id })))
}
