//! `/print` and a task's `/label` and `/slip`: the printable A4 sheets. One handler prints every packet sheet —
//! labels or slips, of a team member's evening or of one task — and one the door cards.

use super::extract::{ApiQuery, html, parse_task};
use super::route::Route;
use crate::audit::{self, About};
use crate::auth::Coordinator;
use crate::error::{ApiError, ApiResult};
use crate::sheets::{self, PrintLang, Selection};
use crate::state::AppState;
use crate::{db, doorcard};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jx_core::{StaffId, TaskId};
use serde::Deserialize;
use std::collections::HashMap;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v1/tasks/{task}/label", packet_sheet::<false>),
        Route::get("/api/v1/tasks/{task}/slip", packet_sheet::<true>),
        Route::get("/api/v1/print/labels", packet_sheet::<false>),
        Route::get("/api/v1/print/slips", packet_sheet::<true>),
        Route::get("/api/v1/print/door-cards", door_cards),
    ]
}

/// The `{task}` of a route that has one; none for a route without.
struct TaskInPath(Option<TaskId>);

impl<S: Send + Sync> FromRequestParts<S> for TaskInPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<TaskInPath> {
        let params = Path::<HashMap<String, String>>::from_request_parts(parts, state).await.ok();
        params.and_then(|Path(p)| p.get("task").cloned()).map(|t| parse_task(&t)).transpose().map(TaskInPath)
    }
}

#[derive(Debug, Deserialize)]
struct PrintQuery {
    staff: Option<u32>,
    /// The evening the sheet is for, printed in its title (`2026-11-29`).
    evening: Option<String>,
    lang: Option<String>,
}

/// Packet labels (`SLIPS` false) or residents' confirmation slips: one task's, or a team member's evening
/// (`?staff=`).
async fn packet_sheet<const SLIPS: bool>(
    State(st): State<AppState>,
    _c: Coordinator,
    ApiQuery(q): ApiQuery<PrintQuery>,
    TaskInPath(task): TaskInPath,
) -> ApiResult<Response> {
    let sel = match (task, q.staff) {
        (Some(t), _) => Selection::One(t),
        (None, Some(s)) => Selection::Staff(StaffId(s)),
        (None, None) => return Err(ApiError::BadRequest("missing_staff", "say whose sheet: ?staff=ID".into())),
    };
    let lang = PrintLang::parse(q.lang.as_deref());
    let evening = q.evening.unwrap_or_default();
    let page = st.db.call(move |tx| sheets::packet_sheet(tx, sel, &evening, lang, SLIPS)).await?;
    Ok(html(StatusCode::OK, page))
}

#[derive(Debug, Deserialize)]
struct DoorCardQuery {
    count: Option<String>,
}

/// A printable A4 sheet of `count` new door cards (coordinators).
async fn door_cards(
    State(st): State<AppState>,
    c: Coordinator,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<DoorCardQuery>,
) -> ApiResult<Response> {
    let count = doorcard::parse_count(q.count.as_deref())?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = doorcard::origin(st.settings.public_url.as_deref(), st.settings.tls.is_some(), host)?;
    let by = c.staff;
    let cards = st
        .db
        .call(move |tx| {
            let at = db::now();
            let cards = doorcard::issue(tx, by, count, &origin, at)?;
            audit::record(tx, at, by, "print_door_cards", About::default(), &format!("{count} door cards"))?;
            Ok(cards)
        })
        .await?;
    let first = cards.first().map(|c| c.number).unwrap_or_default();
    tracing::info!(by = by.0, count, first, "door cards printed");
    let sheet = sheets::door_card_sheet(&cards, &st.settings.centre_phone)?;
    Ok(([(header::CACHE_CONTROL, "no-store")], html(StatusCode::OK, sheet)).into_response())
}
