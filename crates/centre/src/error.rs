//! The one error type of the HTTP layer. Every rejection is a JSON body `{code, message}` with a stable code; the
//! mapping from error to status and body lives here and nowhere else.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jx_core::wire::{ApiErrorBody, ImportReport};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{1}")]
    Unauthenticated(&'static str, String),
    #[error("{1}")]
    Forbidden(&'static str, String),
    #[error("{0}")]
    NotFound(String),
    #[error("{1}")]
    BadRequest(&'static str, String),
    #[error("{1}")]
    Conflict(&'static str, String),
    /// Well-formed, but not something this request can act on (a code that is not a packet label).
    #[error("{1}")]
    Unprocessable(&'static str, String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{1}")]
    TooManyRequests(&'static str, String),
    #[error("the import has {} bad rows; nothing was imported", .0.errors.len())]
    ImportRejected(ImportReport),
    /// The database could not take the request now (a deadlock it broke, a pool with no connection free): the
    /// client should send it again.
    #[error("{0}")]
    Busy(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(e.to_string())
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthenticated(code, _) => (StatusCode::UNAUTHORIZED, code),
            ApiError::Forbidden(code, _) => (StatusCode::FORBIDDEN, code),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::BadRequest(code, _) => (StatusCode::BAD_REQUEST, code),
            ApiError::Conflict(code, _) => (StatusCode::CONFLICT, code),
            ApiError::Unprocessable(code, _) => (StatusCode::UNPROCESSABLE_ENTITY, code),
            ApiError::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::TooManyRequests(code, _) => (StatusCode::TOO_MANY_REQUESTS, code),
            ApiError::ImportRejected(_) => (StatusCode::UNPROCESSABLE_ENTITY, "import_rejected"),
            ApiError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "database_busy"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(detail) = &self {
            // The detail may name a file or a query; it is logged, never sent.
            tracing::error!(detail = %detail, "internal error");
        }
        let message = match &self {
            ApiError::Internal(_) => "the centre could not complete the request; it has been logged".to_string(),
            other => other.to_string(),
        };
        if let ApiError::ImportRejected(report) = self {
            let body = serde_json::json!({"code": code, "message": message, "report": report});
            return (status, Json(body)).into_response();
        }
        let body = Json(ApiErrorBody { code: code.to_string(), message });
        if status == StatusCode::SERVICE_UNAVAILABLE {
            return (status, [(axum::http::header::RETRY_AFTER, "1")], body).into_response();
        }
        (status, body).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                "this endpoint takes a JSON body (Content-Type: application/json)".into(),
            ),
            JsonRejection::BytesRejection(_) => ApiError::PayloadTooLarge("the request body is too large".into()),
            other => {
                ApiError::BadRequest("malformed_body", format!("the JSON body is not valid: {}", other.body_text()))
            }
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::BadRequest("malformed_query", r.body_text())
    }
}

impl From<crate::sql::DbError> for ApiError {
    fn from(e: crate::sql::DbError) -> ApiError {
        match e {
            e @ (crate::sql::DbError::Retry(_) | crate::sql::DbError::Pool(_)) => {
                tracing::warn!(detail = %e, "database busy");
                ApiError::Busy("the centre is busy; send the request again in a moment".into())
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> ApiError {
        ApiError::internal(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
