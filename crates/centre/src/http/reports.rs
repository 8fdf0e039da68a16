//! `/report`: the evening's results as CSV, and the week's handoffs and failed visits.

use super::extract::ApiQuery;
use super::route::Route;
use crate::auth::Coordinator;
use crate::db::now;
use crate::error::ApiResult;
use crate::report::{self, Day};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jx_core::wire::DayCount;
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![Route::get("/api/v1/report/evening.csv", evening_report), Route::get("/api/v1/report/week", week_report)]
}

#[derive(Debug, Deserialize)]
struct DayQuery {
    day: Option<String>,
    until: Option<String>,
}

/// The evening's results per compound and team member, as CSV for a spreadsheet.
async fn evening_report(
    State(st): State<AppState>,
    _c: Coordinator,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> ApiResult<Response> {
    let day = report::parse_day(q.day.as_deref(), "day")?;
    let csv = st.db.call(move |tx| report::evening_csv(tx, day)).await?;
    let disposition = format!("attachment; filename=\"jx-evening-{day}.csv\"");
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        csv,
    )
        .into_response())
}

/// Handoffs and failed visits per day for the 7 Shanghai days ending with `until` (today by default).
async fn week_report(
    State(st): State<AppState>,
    _c: Coordinator,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> ApiResult<Json<Vec<DayCount>>> {
    let until = match q.until.as_deref() {
        None | Some("") => Day::of(now()),
        s => report::parse_day(s, "until")?,
    };
    st.db.call(move |tx| report::week(tx, until).map(Json)).await
}
