//! The centre's HTTP layer: one module per resource, each with its own [`Route`]s, assembled here into one router.
//! The route list exists once: [`routes`] is what the router is built from, and [`route_list`] (which the OpenAPI
//! document is tested against) is read off it.
//!
//! Handlers parse and check what a request carries ([`extract`]), call the centre's domain operations, and turn
//! the answer into a response. Nothing below this layer imports it.

mod audit;
mod auth;
mod blobs;
mod board;
mod callers;
mod counter;
mod decisions;
pub mod doorcards;
pub mod extract;
mod headers;
mod households;
mod keyring;
mod print;
mod reports;
mod route;
mod serve_app;
mod staff;
mod sync;
mod tasks;

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
pub use route::{BodyLimit, OPENAPI, Route};

/// Every route of the API, resource by resource.
pub fn routes() -> Vec<Route> {
    [
        auth::routes(),
        audit::routes(),
        staff::routes(),
        tasks::routes(),
        decisions::routes(),
        print::routes(),
        keyring::routes(),
        board::routes(),
        counter::routes(),
        reports::routes(),
        sync::routes(),
        blobs::routes(),
        households::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every route as (method, path), for the OpenAPI document's test.
pub fn route_list() -> Vec<(&'static str, &'static str)> {
    routes().iter().map(|r| (r.method, r.path)).collect()
}

/// The whole service: the API under `/api/v1`, the residents' door card pages, and the web app for anything else.
pub fn router(state: AppState) -> Router {
    let limit = |l: BodyLimit| {
        DefaultBodyLimit::max(match l {
            BodyLimit::Json => state.settings.max_json_bytes,
            BodyLimit::Import => state.settings.max_import_bytes,
            BodyLimit::Blob => state.settings.max_blob_bytes,
        })
    };
    let tls = state.settings.tls.is_some();
    let mut api = Router::new();
    for r in routes() {
        // A path routed twice (by two methods) gets both: axum merges the method routers of one path.
        let handler = if r.limit == BodyLimit::Json { r.handler } else { r.handler.layer(limit(r.limit)) };
        api = api.route(r.path.strip_prefix("/api/v1").unwrap_or(r.path), handler);
    }
    let api = api.fallback(|| async { ApiError::NotFound("no such endpoint".into()) }).layer(limit(BodyLimit::Json));
    Router::new()
        .nest("/api/v1", api)
        .merge(doorcards::page_router())
        .fallback(serve_app::serve)
        .layer(axum::middleware::from_fn(move |req, next| headers::security_headers(tls, req, next)))
        .layer(axum::middleware::from_fn(access_log))
        .with_state(state)
}

/// One log line per request: method, route pattern (never the concrete path or query), status, time.
async fn access_log(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "-".into());
    let start = std::time::Instant::now();
    let res = next.run(req).await;
    tracing::info!(%method, route, status = res.status().as_u16(), ms = start.elapsed().as_millis() as u64, "request");
    res
}
