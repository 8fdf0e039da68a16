//! Door cards at the centre (see `jx_core::doorcard`): printing a roll of them, learning which failed visit each one
//! was left at, and the residents' booking page.
//!
//! ## Printing
//! `GET /api/v1/print/door-cards?count=N` makes N new cards: each gets a fresh random id, a row in `door_cards` (whose
//! sequence gives the short number printed on it) and a [`TokenKind::DoorCard`] token signed now, printed as a QR code
//! of the booking page's URL, `{origin}/d/{token}`. The origin is [`Settings::public_url`](crate::state::Settings) if set,
//! otherwise the address the coordinator reached the centre at.
//!
//! ## Leaving
//! The phone records `DoorCardLeft` right after the failed visit. When the centre accepts it, [`on_left`] links the
//! card to that task (the first accepted fact wins; a card is one piece of paper at one door).
//!
//! ## Booking
//! `GET /d/{token}` (no login, outside `/api/v1`) shows, in very large type, what is waiting (the service item and
//! the compound, nothing about the resident) and one button for each of the next [`jx_core::doorcard::BOOKABLE_EVENINGS`] evenings
//! (tomorrow first: tonight's round may already be under way). `POST /d/{token}` with `evening=YYYY-MM-DD` records
//! the centre's [`EventPayload::Rescheduled`] decision for 19:00 Shanghai time that evening; the task stays with its
//! assignee, whose phone gets the decision with its next pull and plans the visit for then (a task with nobody
//! assigned is given to whom the assignment proposal picks). Every refusal is a page that says why and gives the
//! centre's number, with a 4xx status. The pages (in the HTTP layer) are rate-limited and log card numbers and task ids,
//! never the token (it books the visit) nor anything about the resident.
//!
//! Domain layer: uses storage, the task log, the keys and the town; never the HTTP layer.

use crate::error::{ApiError, ApiResult};
use crate::sql::Tx;
use crate::{log, params, proof, town};
use jx_core::doorcard::{NotBookable, VerifiedCard, bookable, card_url, evenings};
use jx_core::event::{Actor, Envelope, EventPayload};
use jx_core::model::TaskKind;
use jx_core::state::TaskStatus;
use jx_core::time::ShanghaiDay;
use jx_core::token::{TokenError, TokenKind};
use jx_core::{StaffId, TaskId, Timestamp};

/// Most cards one sheet prints.
pub const MAX_PRINT: u32 = 200;

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
        evening: ShanghaiDay,
    },
    /// Not one of the evenings offered.
    BadEvening,
    /// Too many requests for the pages just now.
    Busy,
}

impl Refusal {
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
}

impl From<NotBookable> for Refusal {
    fn from(n: NotBookable) -> Refusal {
        match n {
            NotBookable::Cancelled => Refusal::Cancelled,
            NotBookable::Settled(status) => Refusal::Settled { status },
            NotBookable::Returning => Refusal::Returning,
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
    pub evenings: Vec<ShanghaiDay>,
    /// The evening already booked with this card.
    pub booked: Option<ShanghaiDay>,
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
        booked: row.opt_int(2)?.map(|at| ShanghaiDay::of(Timestamp(at))),
    };
    Ok((card, view, state.status, state.attempts))
}

/// The booking page's content for the card `text`.
pub fn view(tx: &mut dyn Tx, text: &str, now: Timestamp) -> Result<CardView, PageError> {
    let (_, view, status, attempts) = card_task(tx, text, now)?;
    if view.booked.is_none() {
        bookable(view.kind, status, attempts).map_err(Refusal::from)?;
    }
    Ok(view)
}

/// A booking made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Booked {
    pub view: CardView,
    pub evening: ShanghaiDay,
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
    bookable(view.kind, status, attempts).map_err(Refusal::from)?;
    let evening =
        ShanghaiDay::parse(evening.trim()).filter(|d| view.evenings.contains(d)).ok_or(Refusal::BadEvening)?;
    let at = jx_core::doorcard::due_at(evening);
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
