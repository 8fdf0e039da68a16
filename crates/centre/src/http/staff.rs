//! `/staff` and `/devices`: the team, enrolling a phone, the phones, revoking one.

use super::extract::ApiJson;
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
    ]
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
