//! `/staff` and `/devices`: the team, enrolling a phone, the phones, revoking one.

use super::extract::{ApiJson, parse_staff};
use super::route::Route;
use crate::auth::{Coordinator, StaffSession};
use crate::error::{ApiError, ApiResult};
use crate::staff::{self, DeviceView, StaffView};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jx_core::DeviceId;
use jx_core::wire::{EnrolRequest, EnrolResponse};

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v1/staff", list_staff),
        Route::post("/api/v1/devices", enrol),
        Route::get("/api/v1/devices", list_devices),
        Route::post("/api/v1/devices/{device}/revoke", revoke),
        Route::post("/api/v1/staff/{staff}/sessions/end", end_sessions),
        Route::post("/api/v1/staff/{staff}/disable", disable::<true>),
        Route::post("/api/v1/staff/{staff}/enable", disable::<false>),
    ]
}

/// Ends every login session of a team member or coordinator (not their phones').
async fn end_sessions(
    State(st): State<AppState>,
    c: Coordinator,
    Path(staff): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let staff = parse_staff(&staff)?;
    let ended = st.db.call(move |tx| staff::end_sessions(tx, staff, c.staff)).await?;
    Ok(Json(serde_json::json!({ "ended": ended })))
}

/// Disables a login (`DISABLE`) or enables it again.
async fn disable<const DISABLE: bool>(
    State(st): State<AppState>,
    c: Coordinator,
    Path(staff): Path<String>,
) -> ApiResult<StatusCode> {
    let staff = parse_staff(&staff)?;
    st.db.call(move |tx| staff::set_disabled(tx, staff, DISABLE, c.staff)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_staff(State(st): State<AppState>, _c: Coordinator) -> ApiResult<Json<Vec<StaffView>>> {
    st.db.call(|tx| staff::list(tx).map(Json)).await
}

async fn enrol(
    State(st): State<AppState>,
    session: StaffSession,
    ApiJson(req): ApiJson<EnrolRequest>,
) -> ApiResult<(StatusCode, Json<EnrolResponse>)> {
    let enrolled = st.db.call(move |tx| staff::enrol(tx, session, &req)).await?;
    Ok((StatusCode::CREATED, Json(enrolled)))
}

async fn list_devices(State(st): State<AppState>, _c: Coordinator) -> ApiResult<Json<Vec<DeviceView>>> {
    st.db.call(|tx| staff::devices(tx).map(Json)).await
}

async fn revoke(State(st): State<AppState>, c: Coordinator, Path(device): Path<String>) -> ApiResult<StatusCode> {
    let device: DeviceId =
        device.parse().map_err(|_| ApiError::BadRequest("bad_device_id", format!("“{device}” is not a device id")))?;
    st.db.call(move |tx| staff::revoke(tx, device, c.staff)).await?;
    Ok(StatusCode::NO_CONTENT)
}
