//! Residents without phones: the household card (户卡) the centre prints for a resident to keep at home, and the
//! family members (代收人) who may receive for them, each with their own 6-digit code.
//!
//! A card is a centre-signed [`jx_core::token::TokenKind::HouseholdCard`] token naming the resident and the card's serial (the
//! encoding is [`HouseholdCard`]'s), printed as a QR with a 6-digit code under it. Reissuing a card makes the next
//! serial with a new code: the old card (and its code) stops verifying at the centre for every handoff recorded
//! after the reissue, and on a phone as soon as it has pulled the resident's tasks again. For that, every open task
//! of the resident is queued for its assignee's phone whenever the card or the family members change, and again when
//! a new code's slow hash lands ([`hash_pending`]). The centre keeps the replaced cards and removed members with when
//! that happened, so a handoff recorded before the change stays proven (as with a retired signing key).
//!
//! The centre keeps the codes in clear (to print them and to re-check handoffs, like the per-task resident codes);
//! phones get only salted Argon2id hashes, made outside any transaction, and only for tasks whose policy asks for
//! the resident's confirmation. The JSON API shows a family member's code once, in the answer that adds them; the
//! printable card shows it again to a coordinator who prints it. Names on phones and printed cards are masked
//! (surname + relation); nothing here logs a name, a relation or a code.

use crate::audit::{self, About};
use crate::auth::Coordinator;
use crate::db::{Db, now};
use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::proof::{CodeCost, PrintLang};
use crate::routes::ApiJson;
use crate::sql::Tx;
use crate::{AppState, proof};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use jx_core::code::CodeHash;
use jx_core::model::{HouseholdOnFile, ProxyOnFile, Task, mask_name};
use jx_core::token::HouseholdCard;
use jx_core::{ResidentId, StaffId, Timestamp};
use jx_proof::render::esc;
use serde::{Deserialize, Serialize};

/// Most family members on file for one resident at a time.
pub const MAX_PROXIES: i64 = 8;
/// Longest name and relation a coordinator may write, in characters.
pub const MAX_NAME_CHARS: usize = 40;
pub const MAX_RELATION_CHARS: usize = 20;

/// The routes of this module, under `/api/v1` (coordinators only).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/residents/{resident}/card", post(issue).get(card))
        .route("/residents/{resident}/proxies", post(add_proxy).get(list_proxies))
        .route("/residents/{resident}/proxies/{proxy}", delete(remove_proxy))
        .route("/residents/{resident}/proxies/{proxy}/card", get(proxy_card))
}

/// The answer to issuing a card: its serial and the code printed under its QR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardIssued {
    pub resident: ResidentId,
    pub serial: u32,
    pub code: String,
}

/// A family member as coordinators list them (never their code).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyView {
    pub id: u32,
    pub name: String,
    pub relation: String,
    pub created_at: Timestamp,
}

/// The answer to adding a family member: the only time the API shows their code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyAdded {
    pub id: u32,
    pub name: String,
    pub relation: String,
    pub code: String,
}

#[derive(Debug, Deserialize)]
struct NewProxy {
    name: String,
    relation: String,
}

/// A household card, as the centre keeps it.
#[derive(Clone, Debug)]
pub struct CardRow {
    pub serial: u32,
    pub code: String,
    pub hash: Option<CodeHash>,
    pub issued_at: Timestamp,
    /// When a newer card replaced it; `None` for the card in force.
    pub replaced_at: Option<Timestamp>,
}

/// A family member, as the centre keeps them.
#[derive(Clone, Debug)]
pub struct ProxyRow {
    pub id: u32,
    pub name: String,
    pub relation: String,
    pub code: String,
    pub hash: Option<CodeHash>,
    pub created_at: Timestamp,
    pub removed_at: Option<Timestamp>,
}

const CARD_COLUMNS: &str = "serial, code, hash, issued_at, replaced_at";
const PROXY_COLUMNS: &str = "proxy_id, name, relation, code, hash, created_at, removed_at";

fn card_of(r: &crate::sql::Row) -> ApiResult<CardRow> {
    Ok(CardRow {
        serial: r.u32(0)?,
        code: r.text(1)?,
        hash: hash_of(r.opt_text(2)?)?,
        issued_at: Timestamp(r.int(3)?),
        replaced_at: r.opt_int(4)?.map(Timestamp),
    })
}

fn proxy_of(r: &crate::sql::Row) -> ApiResult<ProxyRow> {
    Ok(ProxyRow {
        id: r.u32(0)?,
        name: r.text(1)?,
        relation: r.text(2)?,
        code: r.text(3)?,
        hash: hash_of(r.opt_text(4)?)?,
        created_at: Timestamp(r.int(5)?),
        removed_at: r.opt_int(6)?.map(Timestamp),
    })
}

fn parse_resident(s: &str) -> ApiResult<ResidentId> {
    s.parse::<u32>()
        .map(ResidentId)
        .map_err(|_| ApiError::BadRequest("bad_resident_id", format!("“{s}” is not a resident id (a number)")))
}

fn parse_proxy(s: &str) -> ApiResult<u32> {
    s.parse::<u32>()
        .map_err(|_| ApiError::BadRequest("bad_proxy_id", format!("“{s}” is not a family member's id (a number)")))
}

/// The resident's name, or 404.
fn resident_name(tx: &mut dyn Tx, resident: ResidentId) -> ApiResult<String> {
    Ok(tx
        .query_opt("SELECT name FROM residents WHERE id = $1", params![resident.0])?
        .ok_or_else(|| ApiError::NotFound(format!("no resident {resident}")))?
        .text("name")?)
}

fn hash_of(text: Option<String>) -> ApiResult<Option<CodeHash>> {
    text.map(|h| crate::log::json(&h)).transpose()
}

/// The resident's card in force, if one was issued.
pub fn card_row(tx: &mut dyn Tx, resident: ResidentId) -> ApiResult<Option<CardRow>> {
    tx.query_opt(
        &format!("SELECT {CARD_COLUMNS} FROM household_cards WHERE resident_id = $1 AND replaced_at IS NULL"),
        params![resident.0],
    )?
    .map(|r| card_of(&r))
    .transpose()
}

/// The resident's family members on file (not removed), oldest first.
pub fn proxies(tx: &mut dyn Tx, resident: ResidentId) -> ApiResult<Vec<ProxyRow>> {
    tx.query(
        &format!(
            "SELECT {PROXY_COLUMNS} FROM household_proxies WHERE resident_id = $1 AND removed_at IS NULL ORDER BY proxy_id"
        ),
        params![resident.0],
    )?
    .iter()
    .map(proxy_of)
    .collect()
}

/// What a phone is sent about `task`'s household: the card in force and the family members, each only once its
/// code's hash is made; nothing for a task whose policy does not ask for the resident's confirmation.
pub fn on_file(tx: &mut dyn Tx, task: &Task) -> ApiResult<(Option<HouseholdOnFile>, Vec<ProxyOnFile>)> {
    if !task.proof.requires(jx_core::model::ProofRequirement::ResidentConfirmation) {
        return Ok((None, vec![]));
    }
    let card = card_row(tx, task.resident)?.and_then(|c| c.hash.map(|code| HouseholdOnFile { serial: c.serial, code }));
    let proxies = proxies(tx, task.resident)?
        .into_iter()
        .filter_map(|p| {
            p.hash.map(|code| ProxyOnFile { id: p.id, name: mask_name(&p.name), relation: p.relation, code })
        })
        .collect();
    Ok((card, proxies))
}

/// Queues every open task of `resident` for its assignee's phone: its next pull brings the sheet with the card and
/// the family members as they are now.
pub fn requeue(tx: &mut dyn Tx, resident: ResidentId) -> ApiResult<u64> {
    let open = tx
        .query(
            "SELECT assignee, task_id FROM tasks
             WHERE resident = $1 AND assignee IS NOT NULL AND status IN ('assigned', 'checked_out', 'attempt_failed')",
            params![resident.0],
        )?
        .iter()
        .map(|r| Ok((StaffId(r.u32("assignee")?), r.text("task_id")?)))
        .collect::<ApiResult<Vec<_>>>()?;
    let n = open.len() as u64;
    crate::log::tell_all(tx, open)?;
    Ok(n)
}

/// Issues the resident's first card, or reissues it: the next serial with a new code (its hash is made later, by
/// [`hash_pending`]). The old card stops verifying.
pub fn issue_card(tx: &mut dyn Tx, resident: ResidentId, by: StaffId, at: Timestamp) -> ApiResult<CardIssued> {
    resident_name(tx, resident)?;
    let last = tx
        .query_one("SELECT coalesce(max(serial), 0) FROM household_cards WHERE resident_id = $1", params![resident.0])?
        .u32(0)?;
    let serial = last.checked_add(1).ok_or_else(|| ApiError::internal("household card serials ran out"))?;
    let code = proof::new_code()?;
    tx.execute(
        "UPDATE household_cards SET replaced_at = $2 WHERE resident_id = $1 AND replaced_at IS NULL",
        params![resident.0, at.millis()],
    )?;
    tx.execute(
        "INSERT INTO household_cards (resident_id, serial, code, hash, issued_at, replaced_at)
         VALUES ($1, $2, $3, NULL, $4, NULL)",
        params![resident.0, serial, &code, at.millis()],
    )?;
    requeue(tx, resident)?;
    let what = if serial == 1 { "issued" } else { "reissued" };
    audit::record(tx, at, by, "household_card", About::default(), &format!("{resident}: card No. {serial} {what}"))?;
    Ok(CardIssued { resident, serial, code })
}

fn clean(text: &str, field: &'static str, max: usize) -> ApiResult<String> {
    let t = text.trim();
    let code = if field == "name" { "bad_name" } else { "bad_relation" };
    if t.is_empty() {
        return Err(ApiError::BadRequest(code, format!("the {field} is empty")));
    }
    if t.chars().count() > max {
        return Err(ApiError::BadRequest(code, format!("the {field} is longer than {max} characters")));
    }
    if t.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(code, format!("the {field} has control characters")));
    }
    Ok(t.to_string())
}

/// Adds a family member with a new code of their own (hashed later, by [`hash_pending`]).
pub fn add(
    tx: &mut dyn Tx,
    resident: ResidentId,
    name: String,
    relation: String,
    by: StaffId,
    at: Timestamp,
) -> ApiResult<ProxyAdded> {
    resident_name(tx, resident)?;
    let on_file = tx
        .query_one(
            "SELECT count(*) FROM household_proxies WHERE resident_id = $1 AND removed_at IS NULL",
            params![resident.0],
        )?
        .int(0)?;
    if on_file >= MAX_PROXIES {
        return Err(ApiError::Conflict(
            "too_many_proxies",
            format!("{resident} already has {MAX_PROXIES} family members on file; remove one first"),
        ));
    }
    // Ids are never reused (removed members stay on file for the handoffs that name them).
    let id = tx.query_one("SELECT coalesce(max(proxy_id), 0) + 1 FROM household_proxies", params![])?.u32(0)?;
    let code = proof::new_code()?;
    tx.execute(
        "INSERT INTO household_proxies (proxy_id, resident_id, name, relation, code, hash, created_at, removed_at)
         VALUES ($1, $2, $3, $4, $5, NULL, $6, NULL)",
        params![id, resident.0, &name, &relation, &code, at.millis()],
    )?;
    requeue(tx, resident)?;
    audit::record(tx, at, by, "proxy_add", About::default(), &format!("{resident}: family member {id} added"))?;
    Ok(ProxyAdded { id, name, relation, code })
}

/// Removes a family member: their code stops being accepted (on a phone, once it has pulled the change).
pub fn remove(tx: &mut dyn Tx, resident: ResidentId, proxy: u32, by: StaffId, at: Timestamp) -> ApiResult<()> {
    resident_name(tx, resident)?;
    let n = tx.execute(
        "UPDATE household_proxies SET removed_at = $3 WHERE proxy_id = $1 AND resident_id = $2 AND removed_at IS NULL",
        params![proxy, resident.0, at.millis()],
    )?;
    if n == 0 {
        return Err(ApiError::NotFound(format!("{resident} has no family member {proxy} on file")));
    }
    requeue(tx, resident)?;
    audit::record(tx, at, by, "proxy_remove", About::default(), &format!("{resident}: family member {proxy} removed"))?;
    Ok(())
}

/// Which code a pending hash is for.
#[derive(Clone, Copy, Debug)]
enum Pending {
    Card { resident: ResidentId, serial: u32 },
    Proxy { resident: ResidentId, id: u32 },
}

/// Hashes every household card and family member code still without a hash, a batch at a time, outside any
/// transaction (like [`proof::hash_pending_codes`], which calls it). When a hash lands, the resident's open tasks
/// are queued for their phones again. A card reissued while its old code was being hashed keeps its own (the
/// write is keyed on the serial). Returns how many were hashed.
pub async fn hash_pending(db: &Db, cost: CodeCost) -> ApiResult<usize> {
    let mut done = 0;
    loop {
        let batch: Vec<(Pending, String)> = db
            .call(|tx| {
                let mut out = Vec::new();
                for r in tx.query(
                    "SELECT resident_id, serial, code FROM household_cards
                     WHERE hash IS NULL AND replaced_at IS NULL ORDER BY resident_id LIMIT 32",
                    params![],
                )? {
                    out.push((Pending::Card { resident: ResidentId(r.u32(0)?), serial: r.u32(1)? }, r.text(2)?));
                }
                for r in tx.query(
                    "SELECT proxy_id, resident_id, code FROM household_proxies
                     WHERE hash IS NULL AND removed_at IS NULL ORDER BY proxy_id LIMIT 32",
                    params![],
                )? {
                    out.push((Pending::Proxy { id: r.u32(0)?, resident: ResidentId(r.u32(1)?) }, r.text(2)?));
                }
                Ok(out)
            })
            .await?;
        if batch.is_empty() {
            return Ok(done);
        }
        let n = batch.len();
        let hashed = tokio::task::spawn_blocking(move || proof::hash_all(batch, cost))
            .await
            .map_err(|e| ApiError::internal(format!("hashing household codes: {e}")))??;
        db.call(move |tx| {
            for (pending, hash) in &hashed {
                let json = serde_json::to_string(hash).map_err(ApiError::internal)?;
                let (changed, resident) = match *pending {
                    Pending::Card { resident, serial } => (
                        tx.execute(
                            "UPDATE household_cards SET hash = $1 WHERE resident_id = $2 AND serial = $3 AND hash IS NULL",
                            params![json, resident.0, serial],
                        )?,
                        resident,
                    ),
                    Pending::Proxy { resident, id } => (
                        tx.execute(
                            "UPDATE household_proxies SET hash = $1 WHERE proxy_id = $2 AND hash IS NULL",
                            params![json, id],
                        )?,
                        resident,
                    ),
                };
                if changed > 0 {
                    requeue(tx, resident)?;
                }
            }
            Ok(())
        })
        .await?;
        done += n;
    }
}

async fn issue(
    State(st): State<AppState>,
    c: Coordinator,
    Path(resident): Path<String>,
) -> ApiResult<Json<CardIssued>> {
    let resident = parse_resident(&resident)?;
    let by = c.staff;
    let issued = st.db.call(move |tx| issue_card(tx, resident, by, now())).await?;
    // The hash before the answer, so that the phones' next pull already checks the new card offline.
    proof::hash_pending_codes(&st.db, st.settings.code_cost).await?;
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
    q: Result<Query<CardQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let resident = parse_resident(&resident)?;
    let format = q.format.unwrap_or_else(|| "html".into());
    if !matches!(format.as_str(), "html" | "svg" | "png" | "text") {
        return Err(ApiError::BadRequest("bad_format", format!("“{format}” is not html, svg, png or text")));
    }
    let lang = PrintLang::parse(q.lang.as_deref());
    let (row, token, name) = st
        .db
        .call(move |tx| {
            let name = resident_name(tx, resident)?;
            let row = card_row(tx, resident)?.ok_or_else(|| {
                ApiError::NotFound(format!("no household card was issued for {resident}; POST to issue one"))
            })?;
            let token = proof::signer(tx)?.issue_household(HouseholdCard { resident, serial: row.serial }, now());
            Ok((row, token, name))
        })
        .await?;
    if format != "html" {
        return crate::routes::qr_response(token, &format);
    }
    let page = card_page(lang, &mask_name(&name), &row, &token).map_err(ApiError::internal)?;
    Ok(html(page))
}

async fn add_proxy(
    State(st): State<AppState>,
    c: Coordinator,
    Path(resident): Path<String>,
    ApiJson(req): ApiJson<NewProxy>,
) -> ApiResult<(StatusCode, Json<ProxyAdded>)> {
    let resident = parse_resident(&resident)?;
    let name = clean(&req.name, "name", MAX_NAME_CHARS)?;
    let relation = clean(&req.relation, "relation", MAX_RELATION_CHARS)?;
    let by = c.staff;
    let added = st.db.call(move |tx| add(tx, resident, name, relation, by, now())).await?;
    proof::hash_pending_codes(&st.db, st.settings.code_cost).await?;
    tracing::info!(resident = resident.0, proxy = added.id, by = by.0, "family member added");
    Ok((StatusCode::CREATED, Json(added)))
}

async fn list_proxies(
    State(st): State<AppState>,
    _c: Coordinator,
    Path(resident): Path<String>,
) -> ApiResult<Json<Vec<ProxyView>>> {
    let resident = parse_resident(&resident)?;
    st.db
        .call(move |tx| {
            resident_name(tx, resident)?;
            let list = proxies(tx, resident)?
                .into_iter()
                .map(|p| ProxyView { id: p.id, name: p.name, relation: p.relation, created_at: p.created_at })
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
    st.db.call(move |tx| remove(tx, resident, proxy, by, now())).await?;
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
    q: Result<Query<PrintQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let resident = parse_resident(&resident)?;
    let proxy = parse_proxy(&proxy)?;
    let lang = PrintLang::parse(q.lang.as_deref());
    let (name, p) = st
        .db
        .call(move |tx| {
            let name = resident_name(tx, resident)?;
            let p = proxies(tx, resident)?
                .into_iter()
                .find(|p| p.id == proxy)
                .ok_or_else(|| ApiError::NotFound(format!("{resident} has no family member {proxy} on file")))?;
            Ok((name, p))
        })
        .await?;
    Ok(html(proxy_page(lang, &mask_name(&name), &p)))
}

fn html(page: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

/// Large type for older eyes: the card is read at home, often without glasses.
const CARD_CSS: &str = r#"
@page { size: A4; margin: 0; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: #000; background: #fff; }
.card { width: 210mm; min-height: 297mm; padding: 18mm 16mm; display: flex; flex-direction: column; align-items: center; gap: 6mm; text-align: center; }
.card h1 { font-size: 30pt; margin: 0; }
.card .who { font-size: 24pt; font-weight: bold; }
.card .serial { font-size: 16pt; }
.card .caption { font-size: 18pt; margin: 0; }
.card .code { font: bold 54pt monospace; letter-spacing: 10pt; border: 1mm solid #000; padding: 2mm 8mm; }
.card .help { font-size: 17pt; line-height: 1.6; max-width: 170mm; text-align: left; }
"#;

fn page(lang: PrintLang, title: &str, body: &str) -> String {
    let tag = match lang {
        PrintLang::ZhCn => "zh-CN",
        PrintLang::En => "en",
    };
    format!(
        "<!doctype html><html lang=\"{tag}\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CARD_CSS}</style></head><body><section class=\"card\">{body}</section></body></html>",
        esc(title)
    )
}

/// The household card: big QR, the code under it in large type, how to use it. Names masked.
pub fn card_page(
    lang: PrintLang,
    resident: &str,
    row: &CardRow,
    token: &str,
) -> Result<String, jx_proof::render::RenderError> {
    let day = crate::report::Day::of(row.issued_at);
    let (title, serial, caption, help) = match lang {
        PrintLang::ZhCn => (
            "泾小二 户卡".to_string(),
            format!("卡号 {} · {day} 发卡", row.serial),
            "不方便出示二维码时，请告诉工作人员下面的6位数字：",
            "工作人员上门送达时，请出示本卡的二维码，或告诉他卡上的6位数字。本卡请放在家中妥善保管，不要把数字告诉陌生人。如果遗失，请联系社区事务受理服务中心补办，旧卡随即作废。",
        ),
        PrintLang::En => (
            "Jing Xiaoer household card".to_string(),
            format!("Card No. {} · issued {day}", row.serial),
            "If you cannot show the QR code, tell the staff member these 6 digits:",
            "When our staff member brings your documents, show this card's QR code or tell them the 6 digits. Keep the card at home and the digits to yourself. If you lose it, ask the community service centre for a new one; the old card stops working at once.",
        ),
    };
    let body = format!(
        "<h1>{}</h1><div class=\"who\">{}</div><div class=\"serial\">{}</div>{}<p class=\"caption\">{}</p><div class=\"code\">{}</div><p class=\"help\">{}</p>",
        esc(&title),
        esc(resident),
        esc(&serial),
        jx_proof::render::svg(token, "120mm")?,
        esc(caption),
        esc(&row.code),
        esc(help)
    );
    Ok(page(lang, &title, &body))
}

/// A family member's card: whom they receive for, their masked name and relation, and their code.
pub fn proxy_page(lang: PrintLang, resident: &str, p: &ProxyRow) -> String {
    let who = format!("{}（{}）", mask_name(&p.name), p.relation);
    let (title, line, caption, help) = match lang {
        PrintLang::ZhCn => (
            "泾小二 代收人确认码",
            format!("代 {resident} 签收"),
            "代收时，请告诉工作人员下面的6位数字：",
            "您已登记为代收人，可以代家人签收社区事务受理服务中心送达的材料。请妥善保管本确认码，不要告诉他人。",
        ),
        PrintLang::En => (
            "Jing Xiaoer family member's code",
            format!("Receives for {resident}"),
            "When you receive for your family member, tell the staff member these 6 digits:",
            "You are on file as a family member who may receive documents the community service centre delivers. Keep this code to yourself.",
        ),
    };
    let body = format!(
        "<h1>{}</h1><div class=\"who\">{}</div><div class=\"serial\">{}</div><p class=\"caption\">{}</p><div class=\"code\">{}</div><p class=\"help\">{}</p>",
        esc(title),
        esc(&who),
        esc(&line),
        esc(caption),
        esc(&p.code),
        esc(help)
    );
    page(lang, title, &body)
}

/// What the centre re-checks a handoff's household confirmation with: every card of the resident and every family
/// member ever on file, with when they were replaced or removed, codes in clear.
pub fn for_check(tx: &mut dyn Tx, resident: ResidentId) -> ApiResult<(Vec<CardRow>, Vec<ProxyRow>)> {
    let cards = tx
        .query(
            &format!("SELECT {CARD_COLUMNS} FROM household_cards WHERE resident_id = $1 ORDER BY serial"),
            params![resident.0],
        )?
        .iter()
        .map(card_of)
        .collect::<ApiResult<_>>()?;
    let proxies = tx
        .query(
            &format!("SELECT {PROXY_COLUMNS} FROM household_proxies WHERE resident_id = $1 ORDER BY proxy_id"),
            params![resident.0],
        )?
        .iter()
        .map(proxy_of)
        .collect::<ApiResult<_>>()?;
    Ok((cards, proxies))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_text_is_escaped() {
        assert_eq!(esc("<b>\"李\"&'x'</b>"), "&lt;b&gt;&quot;李&quot;&amp;&#39;x&#39;&lt;/b&gt;");
    }

    #[test]
    fn names_and_relations_are_checked() {
        assert_eq!(clean("  李小红 ", "name", MAX_NAME_CHARS).expect("ok"), "李小红");
        assert!(matches!(clean("  ", "name", MAX_NAME_CHARS), Err(ApiError::BadRequest("bad_name", _))));
        assert!(matches!(clean("女\u{0}儿", "relation", 20), Err(ApiError::BadRequest("bad_relation", _))));
        assert!(matches!(clean(&"长".repeat(21), "relation", 20), Err(ApiError::BadRequest("bad_relation", _))));
    }
}
