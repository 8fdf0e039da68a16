//! Who is calling, as handlers name it in their arguments — [`Caller`], [`Coordinator`], [`StaffSession`],
//! [`DeviceCaller`] — read from the bearer token and checked by the domain's [`auth::caller`].

use crate::auth::{self, Caller, Coordinator, DeviceCaller, StaffSession, token_key};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jx_core::model::Role;

pub fn bearer(parts: &Parts) -> ApiResult<String> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthenticated("unauthenticated", "this endpoint needs a bearer token".into()))?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::Unauthenticated("unauthenticated", "the Authorization header is not text".into()))?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).ok_or_else(|| {
        ApiError::Unauthenticated("unauthenticated", "the Authorization header is not `Bearer <token>`".into())
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        let key = token_key(&bearer(parts)?);
        state.db.call(move |tx| auth::caller(tx, key)).await
    }
}

impl FromRequestParts<AppState> for Coordinator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Coordinator> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Session { staff, role: Role::Coordinator } => Ok(Coordinator { staff }),
            _ => Err(ApiError::Forbidden("coordinators_only", "only a coordinator may do this".into())),
        }
    }
}

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<StaffSession> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Session { staff, role } => Ok(StaffSession { staff, role }),
            Caller::Device { .. } => Err(ApiError::Forbidden(
                "session_required",
                "log in with a password to do this, not a device token".into(),
            )),
        }
    }
}

impl FromRequestParts<AppState> for DeviceCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<DeviceCaller> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Device { device, staff } => Ok(DeviceCaller { device, staff }),
            Caller::Session { .. } => {
                Err(ApiError::Forbidden("device_required", "only an enrolled staff phone may do this".into()))
            }
        }
    }
}
