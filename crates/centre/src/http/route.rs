//! One route of the API: its method, its path as the OpenAPI document writes it, its handler and its body limit.
//! Every resource module lists its own; `http::router` assembles them.

use crate::state::AppState;
use axum::handler::Handler;
use axum::routing::MethodRouter;

/// The OpenAPI document of the whole API, served at `/api/v1/openapi.json` and tested against [`super::route_list`].
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// How large a body a route takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyLimit {
    /// `Settings::max_json_bytes`: every route unless it says otherwise.
    Json,
    /// `Settings::max_import_bytes`.
    Import,
    /// `Settings::max_blob_bytes`.
    Blob,
}

/// One route of the API under `/api/v1`: its method and path (as the OpenAPI document writes them) and handler.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub(super) handler: MethodRouter<AppState>,
    pub(super) limit: BodyLimit,
}

macro_rules! method {
    ($name:ident) => {
        pub fn $name<H, T>(path: &'static str, handler: H) -> Route
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            Route { method: stringify!($name), path, handler: axum::routing::$name(handler), limit: BodyLimit::Json }
        }
    };
}

impl Route {
    method!(get);
    method!(post);
    method!(put);
    method!(delete);

    /// The same route with a body limit other than the JSON one.
    pub fn limit(mut self, limit: BodyLimit) -> Route {
        self.limit = limit;
        self
    }
}
