//! Door cards at the centre (see `jx_core::doorcard`): printing a roll of them, learning which failed visit each one
//! was left at, and the residents' booking page.
//!
//! ## Printing
//! `GET /api/v1/print/door-cards?count=N` makes N new cards: each gets a fresh random id, a row in `door_cards` (whose
//! sequence gives the short number printed on it) and a [`TokenKind::DoorCard`] token signed now, printed as a QR code
//! of the booking page's URL, `{origin}/d/{token}`. The origin is [`Settings::public_url`](crate::Settings) if set,
//! otherwise the address the coordinator reached the centre at.
//!
//! ## Leaving
//! The phone records `DoorCardLeft` right after the failed visit. When the centre accepts it, [`on_left`] links the
//! card to that task (the first accepted fact wins; a card is one piece of paper at one door).
//!
//! ## Booking
//! `GET /d/{token}` (no login, outside `/api/v1`) shows, in very large type, what is waiting (the service item and
//! the compound, nothing about the resident) and one button for each of the next [`BOOKABLE_EVENINGS`] evenings
//! (tomorrow first: tonight's round may already be under way). `POST /d/{token}` with `evening=YYYY-MM-DD` records
//! the centre's [`EventPayload::Rescheduled`] decision for 19:00 Shanghai time that evening; the task stays with its
//! assignee, whose phone gets the decision with its next pull and plans the visit for then (a task with nobody
//! assigned is given to whom the assignment proposal picks). Every refusal is a page that says why and gives the
//! centre's number, with a 4xx status. The pages are rate-limited ([`Limiter`]) and log card numbers and task ids,
//! never the token (it books the visit) nor anything about the resident.

use crate::audit::{self, About};
use crate::auth::Coordinator;
use crate::error::{ApiError, ApiResult};
use crate::report::Day;
use crate::sql::Tx;
use crate::{AppState, log, params, proof, town};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use jx_core::doorcard::{VerifiedCard, card_url};
use jx_core::event::{Actor, Envelope, EventPayload};
use jx_core::model::TaskKind;
use jx_core::state::{MAX_DELIVERY_ATTEMPTS, TaskStatus};
use jx_core::token::{TokenError, TokenKind};
use jx_core::{StaffId, TaskId, Timestamp};
use jx_proof::render::esc;
use serde::Deserialize;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Most cards one sheet prints.
pub const MAX_PRINT: u32 = 200;
/// Evenings a resident can choose from, starting tomorrow.
pub const BOOKABLE_EVENINGS: i64 = 7;
/// The booked visit is due from 19:00 Shanghai time of the evening chosen.
const EVENING_FROM_MS: i64 = 19 * 3_600_000;

/// Whether `s` can be the origin of the URLs printed on cards: `http://` or `https://`, a host, no query, no
/// fragment, no whitespace.
pub fn is_origin(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty()
            && !r.starts_with('/')
            && r.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'?' | b'#' | b'"' | b'<' | b'>' | b'\\'))
    })
}

/// The origin to print: the configured public address, else the scheme and `Host` the request came with.
pub fn origin(public_url: Option<&str>, tls: bool, host: Option<&str>) -> ApiResult<String> {
    if let Some(url) = public_url {
        return Ok(url.trim_end_matches('/').to_string());
    }
    let host = host.unwrap_or("").trim();
    let fine = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !fine {
        return Err(ApiError::BadRequest(
            "bad_host",
            "the request's Host header cannot be printed as the cards' address; set the centre's public URL".into(),
        ));
    }
    Ok(format!("{}://{host}", if tls { "https" } else { "http" }))
}

/// The `count` of a print request: 1 to [`MAX_PRINT`].
pub fn parse_count(count: Option<&str>) -> ApiResult<u32> {
    count.and_then(|c| c.trim().parse::<u32>().ok()).filter(|n| (1..=MAX_PRINT).contains(n)).ok_or_else(|| {
        ApiError::BadRequest("bad_count", format!("say how many cards to print: ?count=1 to {MAX_PRINT}"))
    })
}

fn random_id() -> ApiResult<uuid::Uuid> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(ApiError::internal)?;
    Ok(uuid::Builder::from_random_bytes(b).into_uuid())
}

/// One printed card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintedCard {
    pub number: i64,
    pub id: uuid::Uuid,
    /// What its QR code holds: the booking page's URL.
    pub url: String,
}

/// Makes `count` new cards, signed now, in the caller's transaction.
pub fn issue(tx: &mut dyn Tx, by: StaffId, count: u32, origin: &str, now: Timestamp) -> ApiResult<Vec<PrintedCard>> {
    let signer = proof::signer(tx)?;
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let id = random_id()?;
        tx.execute(
            "INSERT INTO door_cards (card_id, issued_at, issued_by) VALUES ($1, $2, $3)",
            params![id.to_string(), now.millis(), by.0],
        )?;
        let number =
            tx.query_one("SELECT number FROM door_cards WHERE card_id = $1", params![id.to_string()])?.int(0)?;
        let token = signer.issue(TokenKind::DoorCard, TaskId(id), now);
        out.push(PrintedCard { number, id, url: card_url(origin, &token) });
    }
    Ok(out)
}

const SHEET_CSS: &str = r#"
@page { size: A4; margin: 0; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: #000; background: #fff; }
header { padding: 4mm 7mm 0; font-size: 10pt; }
header h1 { font-size: 12pt; margin: 0; }
@media print { header { display: none; } }
.page { width: 210mm; height: 297mm; display: grid; grid-template-columns: repeat(2, 105mm); grid-auto-rows: 74.25mm; page-break-after: always; break-after: page; }
.card { display: flex; gap: 4mm; align-items: center; padding: 5mm; border: 0.2mm dashed #999; overflow: hidden; }
.card svg { flex: none; }
.card .text { min-width: 0; line-height: 1.35; }
.card .head { font-size: 12pt; font-weight: bold; }
.card .ask { font-size: 15pt; font-weight: bold; margin: 2mm 0; }
.card .phone { font-size: 13pt; font-weight: bold; }
.card .number { font: bold 11pt monospace; margin-top: 2mm; }
"#;

/// Cards per A4 page: 2 columns × 4 rows of 105 × 74.25 mm (A7), cut along the dashed lines.
pub const CARDS_PER_PAGE: usize = 8;

/// The printable A4 sheet of `cards`.
pub fn sheet(cards: &[PrintedCard], phone: &str) -> ApiResult<String> {
    let mut html = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>上门联系卡</title><style>{SHEET_CSS}</style></head><body><header><h1>上门联系卡（共 {} 张）</h1><p>沿虚线裁开。上门未遇时，扫描卡片登记后留在门口。</p></header>",
        cards.len()
    );
    for page in cards.chunks(CARDS_PER_PAGE) {
        html.push_str("<section class=\"page\">");
        for c in page {
            let svg = jx_proof::render::svg(&c.url, "40mm").map_err(ApiError::internal)?;
            let _ = write!(
                html,
                "<div class=\"card\" data-url=\"{}\">{svg}<div class=\"text\"><div class=\"head\">泾小二上门服务 · 今天上门未遇</div><div class=\"ask\">扫码预约下次上门时间</div><div>或致电中心</div><div class=\"phone\">{}</div><div class=\"number\">卡号 {:06} · {}</div></div></div>",
                esc(&c.url),
                esc(phone),
                c.number,
                esc(&jx_core::doorcard::short(c.id)),
            );
        }
        html.push_str("</section>");
    }
    html.push_str("</body></html>");
    Ok(html)
}

/// Links a card to the failed visit it was left at, when the centre accepts the phone's `DoorCardLeft` (inside the
/// caller's transaction). A card that is not one of the centre's is logged and left unlinked: the fact itself stands.
pub fn on_left(tx: &mut dyn Tx, e: &Envelope, card: &str) -> ApiResult<()> {
    let verified = match proof::keyring(tx)?.verify_door_card(card, e.at) {
        Ok(v) => v,
        Err(err) => {
            tracing::warn!(event = %e.id, task = %e.task, error = %err, "a door card left that the centre cannot verify");
            return Ok(());
        }
    };
    let id = verified.id.to_string();
    let linked = tx.execute(
        "UPDATE door_cards SET task_id = $2, left_event = $3, left_at = $4 WHERE card_id = $1 AND task_id IS NULL",
        params![&id, e.task.to_string(), e.id.to_string(), e.at.millis()],
    )?;
    if linked == 0 {
        match tx.query_opt("SELECT task_id FROM door_cards WHERE card_id = $1", params![&id])? {
            // Printed before the centre kept cards (or in a database since restored): the signature is proof enough.
            None => {
                tx.execute(
                    "INSERT INTO door_cards (card_id, issued_at, task_id, left_event, left_at) VALUES ($1, $2, $3, $4, $5)",
                    params![&id, verified.issued.millis(), e.task.to_string(), e.id.to_string(), e.at.millis()],
                )?;
            }
            Some(r) => {
                if r.opt_text(0)?.as_deref() != Some(e.task.to_string().as_str()) {
                    tracing::warn!(event = %e.id, task = %e.task, card = %verified.short(), "a door card already left at another door; the first stays");
                }
            }
        }
    }
    Ok(())
}

/// Why a card cannot book, as the resident is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a card of ours at all (or damaged).
    NotACard,
    /// Signed by nobody the centre knows: altered or forged.
    Forged,
    /// Signed with a key the centre has retired, and not left at a door while that key was in force.
    Expired,
    /// A good card that no phone has (yet) said it left at a door.
    NotLeft,
    /// The visit it was left at is done with.
    Settled {
        status: TaskStatus,
    },
    Cancelled,
    /// Three visits failed: the packet goes back to the centre.
    Returning,
    /// The card already booked a visit.
    AlreadyBooked {
        evening: Day,
    },
    /// Not one of the evenings offered.
    BadEvening,
    /// Too many requests for the pages just now.
    Busy,
}

impl Refusal {
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::NotACard | Refusal::BadEvening => StatusCode::BAD_REQUEST,
            Refusal::Forged => StatusCode::FORBIDDEN,
            Refusal::NotLeft => StatusCode::NOT_FOUND,
            Refusal::Expired | Refusal::Settled { .. } | Refusal::Cancelled => StatusCode::GONE,
            Refusal::Returning | Refusal::AlreadyBooked { .. } => StatusCode::CONFLICT,
            Refusal::Busy => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// A stable name, for logs and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotACard => "not_a_card",
            Refusal::Forged => "forged",
            Refusal::Expired => "expired",
            Refusal::NotLeft => "not_left",
            Refusal::Settled { .. } => "settled",
            Refusal::Cancelled => "cancelled",
            Refusal::Returning => "returning",
            Refusal::AlreadyBooked { .. } => "already_booked",
            Refusal::BadEvening => "bad_evening",
            Refusal::Busy => "busy",
        }
    }

    /// The heading and the explanation, in zh-CN.
    fn words(&self) -> (String, String) {
        match self {
            Refusal::NotACard => ("无法识别这张卡片".into(), "这个链接不是本中心的上门联系卡，或者卡片已损坏。".into()),
            Refusal::Forged => ("卡片校验未通过".into(), "这张卡片不是本中心发出的，或者内容已被改动。".into()),
            Refusal::Expired => ("这张卡片已过期".into(), "这张卡片已经停止使用。".into()),
            Refusal::NotLeft => (
                "暂时无法预约".into(),
                "这张卡片还没有登记到上门记录。工作人员的手机联网后即可预约，请稍后再试。".into(),
            ),
            Refusal::Settled { status: TaskStatus::Returned } => {
                ("回执已退回中心".into(), "这件回执已经退回中心，请到中心领取或来电咨询。".into())
            }
            Refusal::Settled { .. } => ("该事项已办结".into(), "这次上门服务已经完成，不需要再预约。".into()),
            Refusal::Cancelled => ("该事项已取消".into(), "这次上门服务已经取消，不需要预约。".into()),
            Refusal::Returning => {
                ("已三次上门未遇".into(), "已经三次上门都没有遇到您，回执将退回中心。请到中心领取或来电商量。".into())
            }
            Refusal::AlreadyBooked { evening } => (
                "您已经预约过了".into(),
                format!("您已预约{}晚上7点后上门。一张卡片只能预约一次，如需更改请来电。", zh_date(*evening)),
            ),
            Refusal::BadEvening => ("请重新选择日期".into(), "只能预约页面上列出的日期（明天起7天内）。".into()),
            Refusal::Busy => ("请稍后再试".into(), "现在访问的人较多，请过一分钟再试。".into()),
        }
    }
}

/// An error of a card page: a refusal the resident is shown, or the centre's own failure.
#[derive(Debug)]
pub enum PageError {
    Refused(Refusal),
    Failed(ApiError),
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> PageError {
        PageError::Failed(e)
    }
}

impl From<crate::sql::DbError> for PageError {
    fn from(e: crate::sql::DbError) -> PageError {
        PageError::Failed(e.into())
    }
}

impl From<Refusal> for PageError {
    fn from(r: Refusal) -> PageError {
        PageError::Refused(r)
    }
}

fn refusal(e: TokenError) -> Refusal {
    match e {
        TokenError::NotOurs
        | TokenError::Malformed(_)
        | TokenError::WrongKind { .. }
        | TokenError::WrongTask { .. } => Refusal::NotACard,
        TokenError::UnknownKey(_) | TokenError::BadSignature => Refusal::Forged,
        TokenError::RetiredKey(_) => Refusal::Expired,
    }
}

/// What the booking page shows of a card's task: nothing about the resident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardView {
    pub number: i64,
    pub task: TaskId,
    pub kind: TaskKind,
    pub item: String,
    pub compound: String,
    /// The evenings offered.
    pub evenings: Vec<Day>,
    /// The evening already booked with this card.
    pub booked: Option<Day>,
}

/// The evenings a resident may choose at `now`: tomorrow and the [`BOOKABLE_EVENINGS`]` - 1` after it.
pub fn evenings(now: Timestamp) -> Vec<Day> {
    let today = Day::of(now);
    (1..=BOOKABLE_EVENINGS).map(|n| today.plus(n)).collect()
}

/// When a visit booked for `evening` is due: 19:00 Shanghai time that day.
pub fn due_at(evening: Day) -> Timestamp {
    Timestamp(evening.span().0 + EVENING_FROM_MS)
}

fn zh_date(d: Day) -> String {
    let s = d.to_string();
    let month: u32 = s.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(0);
    let day: u32 = s.get(8..10).and_then(|m| m.parse().ok()).unwrap_or(0);
    // 1970-01-01 was a Thursday.
    let weekday = ["一", "二", "三", "四", "五", "六", "日"][(d.0 + 3).rem_euclid(7) as usize];
    format!("{month}月{day}日（星期{weekday}）")
}

/// The card a page is for, and the task it was left at: checked, but not yet whether it can book.
fn card_task(
    tx: &mut dyn Tx,
    text: &str,
    now: Timestamp,
) -> Result<(VerifiedCard, CardView, TaskStatus, u32), PageError> {
    let keyring = proof::keyring(tx)?;
    let card = match keyring.verify_door_card(text, now) {
        Ok(card) => card,
        // The card's key has been retired since. A card this centre recorded being left at a door while its key was
        // in force still books that door's next visit: the resident holding it did nothing wrong. Any other stays
        // expired.
        Err(TokenError::RetiredKey(key)) => {
            let signed = keyring.verify_door_card(text, Timestamp(i64::MIN)).map_err(refusal)?;
            let left_at = tx
                .query_opt(
                    "SELECT left_at FROM door_cards WHERE card_id = $1 AND task_id IS NOT NULL",
                    params![signed.id.to_string()],
                )?
                .map(|r| r.opt_int(0))
                .transpose()?
                .flatten();
            match left_at {
                Some(at) if keyring.verify_door_card(text, Timestamp(at)).is_ok() => signed,
                _ => return Err(refusal(TokenError::RetiredKey(key)).into()),
            }
        }
        Err(e) => return Err(refusal(e).into()),
    };
    let row = tx.query_opt(
        "SELECT number, task_id, booked_for FROM door_cards WHERE card_id = $1",
        params![card.id.to_string()],
    )?;
    let Some(row) = row else { return Err(Refusal::NotLeft.into()) };
    let Some(task) = row.opt_text(1)? else { return Err(Refusal::NotLeft.into()) };
    let task: TaskId = task.parse().map_err(ApiError::internal)?;
    let (t, state) = log::load_task(tx, task)?.ok_or_else(|| ApiError::internal("a card's task is missing"))?;
    let item = town::service_item(tx, t.service_item.0)?.map(|i| i.name).unwrap_or_default();
    let compound = tx
        .query_opt("SELECT name FROM compounds WHERE id = $1", params![t.address.compound.0])?
        .map(|r| r.text(0))
        .transpose()?
        .unwrap_or_default();
    let view = CardView {
        number: row.int(0)?,
        task,
        kind: t.kind,
        item,
        compound,
        evenings: evenings(now),
        booked: row.opt_int(2)?.map(|at| Day::of(Timestamp(at))),
    };
    Ok((card, view, state.status, state.attempts))
}

/// Whether the card's task can still take a booking.
fn bookable(kind: TaskKind, status: TaskStatus, attempts: u32) -> Result<(), Refusal> {
    match status {
        TaskStatus::Cancelled => Err(Refusal::Cancelled),
        s if s.is_settled() => Err(Refusal::Settled { status: s }),
        _ if kind == TaskKind::Delivery && attempts >= MAX_DELIVERY_ATTEMPTS => Err(Refusal::Returning),
        _ => Ok(()),
    }
}

/// The booking page's content for the card `text`.
pub fn view(tx: &mut dyn Tx, text: &str, now: Timestamp) -> Result<CardView, PageError> {
    let (_, view, status, attempts) = card_task(tx, text, now)?;
    if view.booked.is_none() {
        bookable(view.kind, status, attempts)?;
    }
    Ok(view)
}

/// A booking made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Booked {
    pub view: CardView,
    pub evening: Day,
    pub at: Timestamp,
    pub assignee: Option<StaffId>,
}

/// Books the next visit of the card's task for `evening` (`YYYY-MM-DD`): the centre's `Rescheduled` decision, and
/// the card marked as used, in the caller's transaction. A refusal writes nothing.
pub fn book(tx: &mut dyn Tx, text: &str, evening: &str, now: Timestamp) -> Result<Booked, PageError> {
    let (card, view, status, attempts) = card_task(tx, text, now)?;
    if let Some(evening) = view.booked {
        return Err(Refusal::AlreadyBooked { evening }.into());
    }
    bookable(view.kind, status, attempts)?;
    let evening = Day::parse(evening.trim()).filter(|d| view.evenings.contains(d)).ok_or(Refusal::BadEvening)?;
    let at = due_at(evening);
    // Claim the card first: of two bookings at once, the second finds it taken and writes nothing.
    let claimed = tx.execute(
        "UPDATE door_cards SET booked_for = $2, booked_at = $3 WHERE card_id = $1 AND booked_for IS NULL",
        params![card.id.to_string(), at.millis(), now.millis()],
    )?;
    if claimed == 0 {
        return Err(Refusal::AlreadyBooked { evening }.into());
    }
    let task = view.task;
    let (_, before) = log::load_task(tx, task)?.ok_or_else(|| ApiError::internal("a card's task is missing"))?;
    if before.assignee.is_none() {
        // Nobody to plan it: whom the evening's proposal would give it to.
        let proposal = crate::geo::proposal(tx, &[])?;
        if let Some(a) = proposal.assignments.iter().find(|a| a.task == task) {
            log::append_decision(tx, Actor::Centre, task, EventPayload::Reassigned { staff: a.staff }, now)?;
            tracing::info!(task = %task, staff = a.staff.0, "a booked task without an assignee was given out");
        }
    }
    let after = log::append_decision(tx, Actor::Centre, task, EventPayload::Rescheduled { at, card: card.token }, now)?;
    let event = tx
        .query_opt(
            "SELECT event_id FROM events WHERE task_id = $1 AND kind = 'rescheduled' ORDER BY at DESC LIMIT 1",
            params![task.to_string()],
        )?
        .map(|r| r.text(0))
        .transpose()?;
    tx.execute("UPDATE door_cards SET booked_event = $2 WHERE card_id = $1", params![card.id.to_string(), event])?;
    tracing::info!(card = view.number, task = %task, evening = %evening, "a resident booked the next visit with a door card");
    Ok(Booked { view, evening, at, assignee: after.assignee })
}

/// A simple token bucket: the card pages' guard against floods (they need no login).
#[derive(Debug)]
pub struct Limiter {
    rate_per_s: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl Limiter {
    pub fn new(rate_per_s: f64, burst: f64) -> Limiter {
        Limiter { rate_per_s, burst, state: Mutex::new((burst, Instant::now())) }
    }

    /// Takes one request's token, if there is one.
    pub fn allow(&self) -> bool {
        let Ok(mut s) = self.state.lock() else { return false };
        let now = Instant::now();
        let refill = now.duration_since(s.1).as_secs_f64() * self.rate_per_s;
        s.0 = (s.0 + refill).min(self.burst);
        s.1 = now;
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

impl Default for Limiter {
    /// Ten pages a second, thirty at once: far above what a town's residents scan, far below what would crowd the
    /// database the phones and coordinators need.
    fn default() -> Limiter {
        Limiter::new(10.0, 30.0)
    }
}

const PAGE_CSS: &str = r#"
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 20px 48px; font-family: "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; font-size: 28px; line-height: 1.5; color: #000; background: #fff; }
h1 { font-size: 40px; line-height: 1.3; margin: 0 0 20px; }
p { margin: 0 0 20px; }
.what { font-size: 34px; font-weight: bold; }
.where { font-size: 28px; }
form { margin: 0; }
button { display: block; width: 100%; min-height: 88px; margin: 0 0 16px; padding: 12px; font-size: 32px; font-weight: bold; color: #fff; background: #003a8c; border: 4px solid #000; border-radius: 12px; }
button:focus { outline: 6px solid #ffbf00; }
.phone { font-size: 36px; font-weight: bold; }
.phone a { color: #003a8c; }
.note { font-size: 24px; color: #222; }
"#;

fn page(title: &str, body: &str, phone: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\"><title>{t}</title><style>{PAGE_CSS}</style></head><body><main><h1>{t}</h1>{body}<p>如有疑问，请致电中心：</p><p class=\"phone\"><a href=\"tel:{p}\">{p}</a></p></main></body></html>",
        t = esc(title),
        p = esc(phone),
    )
}

fn what(view: &CardView) -> String {
    match view.kind {
        TaskKind::Delivery => format!("您的「{}」回执", view.item),
        TaskKind::Pickup => format!("「{}」上门收件", view.item),
    }
}

fn html(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], body)
        .into_response()
}

fn refused(r: &Refusal, phone: &str) -> Response {
    let (title, why) = r.words();
    tracing::info!(refusal = r.code(), "a door card page refused");
    html(r.status(), page(&title, &format!("<p>{}</p>", esc(&why)), phone))
}

fn failed(e: PageError, phone: &str) -> Response {
    match e {
        PageError::Refused(r) => refused(&r, phone),
        PageError::Failed(e) => {
            tracing::error!(error = %e, "a door card page failed");
            let status = match e {
                ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::CONFLICT,
            };
            html(status, page("暂时无法预约", "<p>中心系统暂时无法处理，请稍后再试。</p>", phone))
        }
    }
}

fn booking_page(view: &CardView) -> String {
    let mut body = format!("<p class=\"what\">{}</p><p class=\"where\">{}</p>", esc(&what(view)), esc(&view.compound));
    match view.booked {
        Some(d) => {
            let _ = write!(body, "<p>您已预约<b>{}</b>晚上7点后上门。</p>", zh_date(d));
        }
        None => {
            body.push_str("<p>请选择方便在家的晚上，工作人员将在当晚7点后上门：</p><form method=\"post\">");
            for d in &view.evenings {
                let _ = write!(
                    body,
                    "<button type=\"submit\" name=\"evening\" value=\"{d}\">{} 晚上</button>",
                    zh_date(*d)
                );
            }
            body.push_str("</form>");
        }
    }
    let _ = write!(body, "<p class=\"note\">卡号 {:06}</p>", view.number);
    body
}

/// `GET /d/{token}`: the booking page.
pub async fn get_page(
    State(st): State<AppState>,
    limiter: Extension<Arc<Limiter>>,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    let phone = st.settings.centre_phone.clone();
    if !limiter.allow() {
        return refused(&Refusal::Busy, &phone);
    }
    let Ok(Path(token)) = token else { return refused(&Refusal::NotACard, &phone) };
    match st.db.call(move |tx| Ok(view(tx, &token, crate::db::now()))).await {
        Ok(Ok(view)) => html(StatusCode::OK, page("预约下次上门时间", &booking_page(&view), &phone)),
        Ok(Err(e)) => failed(e, &phone),
        Err(e) => failed(PageError::Failed(e), &phone),
    }
}

/// The `evening` field of a form body.
fn form_evening(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| pair.strip_prefix("evening=")).map(|v| v.replace("%2D", "-").replace("%2d", "-"))
}

/// `POST /d/{token}` with `evening=YYYY-MM-DD`: books the visit.
pub async fn post_booking(
    State(st): State<AppState>,
    limiter: Extension<Arc<Limiter>>,
    token: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let phone = st.settings.centre_phone.clone();
    if !limiter.allow() {
        return refused(&Refusal::Busy, &phone);
    }
    let Ok(Path(token)) = token else { return refused(&Refusal::NotACard, &phone) };
    let Some(evening) = body.ok().as_deref().and_then(form_evening) else {
        return refused(&Refusal::BadEvening, &phone);
    };
    let outcome = st
        .db
        .call(move |tx| match book(tx, &token, &evening, crate::db::now()) {
            Ok(b) => Ok(Ok(b)),
            // A refusal found before anything was written commits nothing worth keeping; a failure rolls back.
            Err(PageError::Refused(r)) => Ok(Err(r)),
            Err(PageError::Failed(e)) => Err(e),
        })
        .await;
    match outcome {
        Ok(Ok(b)) => {
            let body = format!(
                "<p class=\"what\">{}</p><p>工作人员将于<b>{}</b>晚上7点后上门，请届时在家。</p><p class=\"note\">卡号 {:06}</p>",
                esc(&what(&b.view)),
                zh_date(b.evening),
                b.view.number
            );
            html(StatusCode::OK, page("预约成功", &body, &phone))
        }
        Ok(Err(r)) => refused(&r, &phone),
        Err(e) => failed(PageError::Failed(e), &phone),
    }
}

/// The coordinators' route, nested under `/api/v1`: `GET /print/door-cards?count=N`.
pub fn api_router() -> Router<AppState> {
    Router::new().route("/print/door-cards", get(print_cards))
}

/// The residents' pages, outside `/api/v1`: `GET` and `POST /d/{token}`, rate-limited, with small bodies.
pub fn page_router() -> Router<AppState> {
    Router::new()
        .route("/d/{token}", get(get_page).post(post_booking))
        .layer(DefaultBodyLimit::max(1024))
        .layer(Extension(Arc::new(Limiter::default())))
}

#[derive(Debug, Deserialize)]
struct PrintQuery {
    count: Option<String>,
}

/// A printable A4 sheet of `count` new door cards (coordinators).
async fn print_cards(
    State(st): State<AppState>,
    c: Coordinator,
    headers: HeaderMap,
    q: Result<Query<PrintQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let count = parse_count(q.count.as_deref())?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = origin(st.settings.public_url.as_deref(), st.settings.tls.is_some(), host)?;
    let by = c.staff;
    let cards = st
        .db
        .call(move |tx| {
            let at = crate::db::now();
            let cards = issue(tx, by, count, &origin, at)?;
            audit::record(tx, at, by, "print_door_cards", About::default(), &format!("{count} door cards"))?;
            Ok(cards)
        })
        .await?;
    let first = cards.first().map(|c| c.number).unwrap_or_default();
    tracing::info!(by = by.0, count, first, "door cards printed");
    Ok(html(StatusCode::OK, sheet(&cards, &st.settings.centre_phone)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_evening_is_seven_pm_in_shanghai() {
        let d = Day::parse("2026-12-03").expect("a day");
        // 2026-12-03T19:00+08:00 is 11:00Z.
        assert_eq!(due_at(d), Timestamp(1_796_295_600_000));
        assert_eq!(zh_date(d), "12月3日（星期四）");
        // Late in the evening of the 2nd (Shanghai), the choice starts on the 3rd.
        let late = Timestamp(due_at(Day::parse("2026-12-02").expect("a day")).0 + 4 * 3_600_000);
        let offered = evenings(late);
        assert_eq!(offered.len(), 7);
        assert_eq!((offered[0].to_string(), offered[6].to_string()), ("2026-12-03".into(), "2026-12-09".into()));
    }

    #[test]
    fn origins_and_counts_are_checked() {
        assert!(is_origin("https://jx.example.gov.cn") && is_origin("http://10.0.0.2:7878/jx"));
        assert!(
            !is_origin("ftp://x") && !is_origin("https://") && !is_origin("https://a b") && !is_origin("https://x?q")
        );
        assert_eq!(origin(None, false, Some("127.0.0.1:7878")).expect("fine"), "http://127.0.0.1:7878");
        assert_eq!(origin(Some("https://x.cn/"), false, None).expect("fine"), "https://x.cn");
        assert!(origin(None, true, Some("evil\"><script>")).is_err());
        assert!(origin(None, true, None).is_err());
        assert_eq!(parse_count(Some("200")).expect("fine"), 200);
        for bad in [None, Some("0"), Some("201"), Some("-1"), Some("x"), Some("")] {
            assert!(parse_count(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_form_body_gives_its_evening() {
        assert_eq!(form_evening(b"evening=2026-12-03").as_deref(), Some("2026-12-03"));
        assert_eq!(form_evening(b"x=1&evening=2026%2D12%2D03").as_deref(), Some("2026-12-03"));
        assert_eq!(form_evening(b"day=2026-12-03"), None);
        assert_eq!(form_evening(&[0xFF, 0xFE]), None);
    }

    #[test]
    fn the_limiter_lets_a_burst_through_then_refuses() {
        let l = Limiter::new(0.001, 3.0);
        assert!(l.allow() && l.allow() && l.allow());
        assert!(!l.allow());
    }
}
