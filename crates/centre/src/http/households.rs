//! `/residents/{resident}/card` and `/residents/{resident}/proxies`: household cards and family members
//! (coordinators only).

use super::extract::{ApiJson, ApiQuery, code_format, html, parse_proxy, parse_resident, qr_response};
use super::route::Route;
use crate::auth::Coordinator;
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::sheets::{self, PrintLang};
use crate::state::AppState;
use crate::{codes, household, proof};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use jx_core::model::mask_name;
use jx_core::token::HouseholdCard;
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/api/v1/residents/{resident}/card", issue),
        Route::get("/api/v1/residents/{resident}/card", card),
        Route::post("/api/v1/residents/{resident}/proxies", add_proxy),
        Route::get("/api/v1/residents/{resident}/proxies", list_proxies),
        Route::delete("/api/v1/residents/{resident}/proxies/{proxy}", remove_proxy),
        Route::get("/api/v1/residents/{resident}/proxies/{proxy}/card", proxy_card),
    ]
}

async fn issue(
    State(st): State<AppState>,
    c: Coordinator,
    Path(resident): Path<String>,
) -> ApiResult<Json<household::CardIssued>> {
    let resident = parse_resident(&resident)?;
    let by = c.staff;
    let issued = st.db.call(move |tx| household::issue_card(tx, resident, by, now())).await?;
    // The hash before the answer, so that the phones' next pull already checks the new card offline.
    codes::hash_pending(&st.db, st.settings.code_cost).await?;
    tracing::info!(resident = resident.0, serial = issued.serial, by = by.0, "household card issued");
    Ok(Json(issued))
}

#[derive(Debug, Deserialize)]
struct CardQuery {
    /// `html` (the default: the printable A4 card), `svg`, `png` or `text` (the token).
    format: Option<String>,
    lang: Option<String>,
}

/// The resident's card in force, freshly signed: the printable A4 page, or just its QR.
async fn card(
    State(st): State<AppState>,
    _c: Coordinator,
    Path(resident): Path<String>,
    ApiQuery(q): ApiQuery<CardQuery>,
) -> ApiResult<Response> {
    let resident = parse_resident(&resident)?;
    let format = code_format(q.format, "html", true)?;
    let lang = PrintLang::parse(q.lang.as_deref());
    let (row, token, name) = st
        .db
        .call(move |tx| {
            let name = household::resident_name(tx, resident)?;
            let row = household::card_row(tx, resident)?.ok_or_else(|| {
                ApiError::NotFound(format!("no household card was issued for {resident}; POST to issue one"))
            })?;
            let token = proof::signer(tx)?.issue_household(HouseholdCard { resident, serial: row.serial }, now());
            Ok((row, token, name))
        })
        .await?;
    if format != "html" {
        return qr_response(token, &format);
    }
    let page = sheets::card_page(lang, &mask_name(&name), &row, &token).map_err(ApiError::internal)?;
    Ok(html(StatusCode::OK, page))
}

async fn add_proxy(
    State(st): State<AppState>,
    c: Coordinator,
    Path(resident): Path<String>,
    ApiJson(req): ApiJson<household::NewProxy>,
) -> ApiResult<(StatusCode, Json<household::ProxyAdded>)> {
    let resident = parse_resident(&resident)?;
    let name = household::clean(&req.name, "name", household::MAX_NAME_CHARS)?;
    let relation = household::clean(&req.relation, "relation", household::MAX_RELATION_CHARS)?;
    let by = c.staff;
    let added = st.db.call(move |tx| household::add(tx, resident, name, relation, by, now())).await?;
    codes::hash_pending(&st.db, st.settings.code_cost).await?;
    tracing::info!(resident = resident.0, proxy = added.id, by = by.0, "family member added");
    Ok((StatusCode::CREATED, Json(added)))
}

async fn list_proxies(
    State(st): State<AppState>,
    _c: Coordinator,
    Path(resident): Path<String>,
) -> ApiResult<Json<Vec<household::ProxyView>>> {
    let resident = parse_resident(&resident)?;
    st.db
        .call(move |tx| {
            household::resident_name(tx, resident)?;
            let list = household::proxies(tx, resident)?
                .into_iter()
                .map(|p| household::ProxyView {
                    id: p.id,
                    name: p.name,
                    relation: p.relation,
                    created_at: p.created_at,
                })
                .collect();
            Ok(Json(list))
        })
        .await
}

async fn remove_proxy(
    State(st): State<AppState>,
    c: Coordinator,
    Path((resident, proxy)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let resident = parse_resident(&resident)?;
    let proxy = parse_proxy(&proxy)?;
    let by = c.staff;
    st.db.call(move |tx| household::remove(tx, resident, proxy, by, now())).await?;
    tracing::info!(resident = resident.0, proxy, by = by.0, "family member removed");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct PrintQuery {
    lang: Option<String>,
}

/// A family member's printable card: who they receive for, and their code.
async fn proxy_card(
    State(st): State<AppState>,
    _c: Coordinator,
    Path((resident, proxy)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<PrintQuery>,
) -> ApiResult<Response> {
    let resident = parse_resident(&resident)?;
    let proxy = parse_proxy(&proxy)?;
    let lang = PrintLang::parse(q.lang.as_deref());
    let (name, p) = st
        .db
        .call(move |tx| {
            let name = household::resident_name(tx, resident)?;
            let p = household::proxies(tx, resident)?
                .into_iter()
                .find(|p| p.id == proxy)
                .ok_or_else(|| ApiError::NotFound(format!("{resident} has no family member {proxy} on file")))?;
            Ok((name, p))
        })
        .await?;
    Ok(html(StatusCode::OK, sheets::proxy_page(lang, &mask_name(&name), &p)))
}
