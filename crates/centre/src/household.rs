//! Residents without phones: the household card (户卡) the centre prints for a resident to keep at home, and the
//! family members (代收人) who may receive for them, each with their own 6-digit code.
//!
//! A card is a centre-signed [`jx_core::token::TokenKind::HouseholdCard`] token naming the resident and the card's serial (the
//! encoding is [`jx_core::token::HouseholdCard`]'s), printed as a QR with a 6-digit code under it. Reissuing a card makes the next
//! serial with a new code: the old card (and its code) stops verifying at the centre for every handoff recorded
//! after the reissue, and on a phone as soon as it has pulled the resident's tasks again. For that, every open task
//! of the resident is queued for its assignee's phone whenever the card or the family members change, and again when
//! a new code's slow hash lands ([`codes::hash_pending`]). The centre keeps the replaced cards and removed members with when
//! that happened, so a handoff recorded before the change stays proven (as with a retired signing key).
//!
//! The centre keeps the codes in clear (to print them and to re-check handoffs, like the per-task resident codes);
//! phones get only salted Argon2id hashes, made outside any transaction, and only for tasks whose policy asks for
//! the resident's confirmation. The JSON API shows a family member's code once, in the answer that adds them; the
//! printable card shows it again to a coordinator who prints it. Names on phones and printed cards are masked
//! (surname + relation); nothing here logs a name, a relation or a code.

use crate::audit::{self, About};
use crate::error::{ApiError, ApiResult};
use crate::sql::Tx;
use crate::{codes, log, params};
use jx_core::code::CodeHash;
use jx_core::model::{HouseholdOnFile, ProxyOnFile, Task, mask_name};
use jx_core::{ResidentId, StaffId, Timestamp};
use serde::{Deserialize, Serialize};

/// Most family members on file for one resident at a time.
pub const MAX_PROXIES: i64 = 8;
/// Longest name and relation a coordinator may write, in characters.
pub const MAX_NAME_CHARS: usize = 40;
pub const MAX_RELATION_CHARS: usize = 20;

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

/// A family member to add, as a coordinator writes them.
#[derive(Debug, Deserialize)]
pub struct NewProxy {
    pub name: String,
    pub relation: String,
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
        serial: r.u32("serial")?,
        code: r.text("code")?,
        hash: hash_of(r.opt_text("hash")?)?,
        issued_at: Timestamp(r.int("issued_at")?),
        replaced_at: r.opt_int("replaced_at")?.map(Timestamp),
    })
}

fn proxy_of(r: &crate::sql::Row) -> ApiResult<ProxyRow> {
    Ok(ProxyRow {
        id: r.u32("proxy_id")?,
        name: r.text("name")?,
        relation: r.text("relation")?,
        code: r.text("code")?,
        hash: hash_of(r.opt_text("hash")?)?,
        created_at: Timestamp(r.int("created_at")?),
        removed_at: r.opt_int("removed_at")?.map(Timestamp),
    })
}

/// The resident's name, or 404.
pub fn resident_name(tx: &mut dyn Tx, resident: ResidentId) -> ApiResult<String> {
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
    let open = log::open_tasks_of(tx, resident)?;
    let n = open.len() as u64;
    log::tell_all(tx, open)?;
    Ok(n)
}

/// Issues the resident's first card, or reissues it: the next serial with a new code (its hash is made later, by
/// [`codes::hash_pending`]). The old card stops verifying.
pub fn issue_card(tx: &mut dyn Tx, resident: ResidentId, by: StaffId, at: Timestamp) -> ApiResult<CardIssued> {
    resident_name(tx, resident)?;
    let last = tx
        .query_one("SELECT coalesce(max(serial), 0) FROM household_cards WHERE resident_id = $1", params![resident.0])?
        .u32(0)?;
    let serial = last.checked_add(1).ok_or_else(|| ApiError::internal("household card serials ran out"))?;
    let code = codes::new_code()?;
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

pub fn clean(text: &str, field: &'static str, max: usize) -> ApiResult<String> {
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

/// Adds a family member with a new code of their own (hashed later, by [`codes::hash_pending`]).
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
    let code = codes::new_code()?;
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

/// What the centre re-checks a handoff's household confirmation with: every card of the resident and every family
/// member ever on file, with when they were replaced or removed, codes in clear.
pub fn for_check(tx: &mut dyn Tx, resident: ResidentId) -> ApiResult<(Vec<CardRow>, Vec<ProxyRow>)> {
    let cards = of_resident(tx, &format!("SELECT {CARD_COLUMNS} FROM household_cards"), "serial", resident, card_of)?;
    let proxies =
        of_resident(tx, &format!("SELECT {PROXY_COLUMNS} FROM household_proxies"), "proxy_id", resident, proxy_of)?;
    Ok((cards, proxies))
}

/// The rows `select` gives for `resident`, ordered by `order`, each read by `read`.
fn of_resident<T>(
    tx: &mut dyn Tx,
    select: &str,
    order: &str,
    resident: ResidentId,
    read: fn(&crate::sql::Row) -> ApiResult<T>,
) -> ApiResult<Vec<T>> {
    tx.query(&format!("{select} WHERE resident_id = $1 ORDER BY {order}"), params![resident.0])?
        .iter()
        .map(read)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jx_proof::render::esc;

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
