//! What handlers take from a request, checked, with the centre's JSON errors as rejections: [`ApiJson`] bodies,
//! [`ApiQuery`] parameters, ids in paths; and the few response shapes several resources share.

use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::body::Bytes;
use axum::extract::connect_info::Connected;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::serve::IncomingStream;
use jx_core::bytes::Sha256;
use jx_core::{ResidentId, StaffId, TaskId};
use serde::de::DeserializeOwned;

/// A JSON body whose rejections are this API's JSON errors.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Self> {
        let Json(v) = Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(v))
    }
}

/// Query parameters as a typed struct; a parameter that does not parse is refused with `malformed_query` and a
/// message that names it.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        let Query(v) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(v))
    }
}

/// A request body with its `Content-Type` (lower case); `bytes` is `None` when the body was over the route's limit
/// (or broke off), so that each route can say which limit.
pub struct TypedBody {
    pub content_type: String,
    pub bytes: Option<Bytes>,
}

impl TypedBody {
    /// The media type without its parameters: `text/csv` of `text/csv; charset=utf-8`.
    pub fn essence(&self) -> &str {
        self.content_type.split(';').next().unwrap_or("").trim()
    }
}

impl<S: Send + Sync> FromRequest<S> for TypedBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Self> {
        let content_type =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        let bytes = Bytes::from_request(req, state).await.ok();
        Ok(TypedBody { content_type, bytes })
    }
}

/// The peer address of a connection, over plain TCP or TLS, for [`ClientAddr`].
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub std::net::SocketAddr);

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, crate::tls::TlsListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, crate::tls::TlsListener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

/// The address the request came from (the peer of the connection: behind a reverse proxy, the proxy's), as text;
/// `unknown` where the server was not started with connection info (a router driven in-process).
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> ApiResult<Self> {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<PeerAddr>>();
        Ok(ClientAddr(peer.map_or_else(|| "unknown".into(), |c| c.0.0.ip().to_string())))
    }
}

pub fn parse_task(s: &str) -> ApiResult<TaskId> {
    s.parse().map_err(|_| ApiError::BadRequest("bad_task_id", format!("“{s}” is not a task id")))
}

pub fn parse_staff(s: &str) -> ApiResult<StaffId> {
    s.parse().map(StaffId).map_err(|_| ApiError::BadRequest("bad_staff_id", format!("“{s}” is not a staff id")))
}

pub fn parse_hash(s: &str) -> ApiResult<Sha256> {
    Sha256::from_hex(&s.to_ascii_lowercase())
        .map_err(|e| ApiError::BadRequest("bad_hash", format!("“{s}” is not a SHA-256 in hex: {e}")))
}

pub fn parse_resident(s: &str) -> ApiResult<ResidentId> {
    s.parse::<u32>()
        .map(ResidentId)
        .map_err(|_| ApiError::BadRequest("bad_resident_id", format!("“{s}” is not a resident id (a number)")))
}

pub fn parse_proxy(s: &str) -> ApiResult<u32> {
    s.parse::<u32>()
        .map_err(|_| ApiError::BadRequest("bad_proxy_id", format!("“{s}” is not a family member's id (a number)")))
}

/// An HTML page.
pub fn html(status: StatusCode, page: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

/// The `format` a code is asked for in: `svg`, `png`, `text` (the token), and `html` (a printable page) where
/// `page` says there is one; `default` when none is asked.
pub fn code_format(format: Option<String>, default: &str, page: bool) -> ApiResult<String> {
    let format = format.unwrap_or_else(|| default.into());
    match format.as_str() {
        "svg" | "png" | "text" => Ok(format),
        "html" if page => Ok(format),
        _ if page => Err(ApiError::BadRequest("bad_format", format!("“{format}” is not html, svg, png or text"))),
        _ => Err(ApiError::BadRequest("bad_format", format!("“{format}” is not svg, png or text"))),
    }
}

/// A signed code as the answer asks: `png`, `text` (the token itself) or, for anything else, SVG.
pub fn qr_response(token: String, format: &str) -> ApiResult<Response> {
    let render_err = |e: jx_proof::render::RenderError| ApiError::internal(e);
    Ok(match format {
        "png" => ([(header::CONTENT_TYPE, "image/png")], jx_proof::render::png(&token, 8).map_err(render_err)?)
            .into_response(),
        "text" => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], token).into_response(),
        _ => ([(header::CONTENT_TYPE, "image/svg+xml")], jx_proof::render::svg(&token, "100%").map_err(render_err)?)
            .into_response(),
    })
}
