//! The centre's side of proof: its code-signing keys, the residents' 6-digit codes on file, the tokens it issues,
//! and the re-check of every handoff that arrives.
//!
//! Domain layer: uses storage (`sql`, `db`) and the task log; never the HTTP layer, never the printed sheets.

use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::sql::Tx;
use crate::{codes, log, params};
use jx_core::code::CodeHash;
use jx_core::model::{ProofRequirement, Task, mask_name};
use jx_core::proof::{CardOnFile, CodeOnFile, Gap, HouseholdContext, ProofContext, ProxyCheck, Site, check};
use jx_core::token::{CentreKey, Keyring, TokenKind, TokenSigner};
use jx_core::{Envelope, TaskId, Timestamp};

/// Makes the first signing key if the centre has none in force.
pub fn ensure_key(tx: &mut dyn Tx, at: Timestamp) -> ApiResult<()> {
    let live = tx
        .query_one(
            "SELECT count(*) FROM signing_keys WHERE retired_after IS NULL OR retired_after > $1",
            params![at.0],
        )?
        .int(0)?;
    if live == 0 {
        add_key(tx, at)?;
    }
    Ok(())
}

fn add_key(tx: &mut dyn Tx, at: Timestamp) -> ApiResult<u16> {
    let next = tx.query_one("SELECT coalesce(max(key_id), 0) + 1 FROM signing_keys", params![])?.int(0)?;
    let id = u16::try_from(next).map_err(|_| ApiError::internal("out of key ids"))?;
    let signer = TokenSigner::from_secret(id, codes::random::<32>()?);
    tx.execute(
        "INSERT INTO signing_keys (key_id, secret, public, created_at) VALUES ($1, $2, $3, $4)",
        params![id, signer.secret().to_vec(), signer.public().public.to_vec(), at.0],
    )?;
    Ok(id)
}

/// Starts signing with a new key; the keys in force so far keep verifying until `retire_after` (give phones time to
/// sync the new key, and printed codes time to be used). Returns the new key's id.
pub fn rotate(tx: &mut dyn Tx, at: Timestamp, retire_after: Timestamp) -> ApiResult<u16> {
    tx.execute("UPDATE signing_keys SET retired_after = $1 WHERE retired_after IS NULL", params![retire_after.0])?;
    add_key(tx, at)
}

/// The key new codes are signed with: the newest one not retired.
pub fn signer(tx: &mut dyn Tx) -> ApiResult<TokenSigner> {
    let r = tx
        .query_opt(
            "SELECT key_id, secret FROM signing_keys WHERE retired_after IS NULL ORDER BY key_id DESC LIMIT 1",
            params![],
        )?
        .ok_or_else(|| ApiError::internal("the centre has no signing key in force"))?;
    let id = u16::try_from(r.int(0)?).map_err(ApiError::internal)?;
    let secret: [u8; 32] = r.bytes(1)?.try_into().map_err(|_| ApiError::internal("signing key length"))?;
    Ok(TokenSigner::from_secret(id, secret))
}

/// Every key's public half, as phones hold them.
pub fn keyring(tx: &mut dyn Tx) -> ApiResult<Keyring> {
    tx.query("SELECT key_id, public, retired_after FROM signing_keys ORDER BY key_id", params![])?
        .iter()
        .map(|r| {
            Ok(CentreKey {
                id: u16::try_from(r.int(0)?).map_err(ApiError::internal)?,
                public: r.bytes(1)?.try_into().map_err(|_| ApiError::internal("public key length"))?,
                retired_after: r.opt_int(2)?.map(Timestamp),
            })
        })
        .collect::<ApiResult<Vec<_>>>()
        .map(Keyring)
}

/// Gives a new task its resident code when its policy asks for the resident's confirmation. The slow hash for
/// phones is made later by [`codes::hash_pending`], outside any transaction.
pub fn add_code(tx: &mut dyn Tx, task: &Task) -> ApiResult<()> {
    if task.proof.requires(ProofRequirement::ResidentConfirmation) {
        tx.execute(
            "INSERT INTO resident_codes (task_id, code) VALUES ($1, $2)",
            params![task.id.to_string(), codes::new_code()?],
        )?;
    }
    Ok(())
}

/// A task's code and, once made, its hash.
pub fn resident_code(tx: &mut dyn Tx, task: TaskId) -> ApiResult<Option<(String, Option<CodeHash>)>> {
    tx.query_opt("SELECT code, hash FROM resident_codes WHERE task_id = $1", params![task.to_string()])?
        .map(|r| Ok((r.text(0)?, r.opt_text(1)?.map(|h| crate::log::json(&h)).transpose()?)))
        .transpose()
}

/// What a handoff event lacks of its task's proof policy, re-checked with the centre's keys and the code in clear,
/// and flagged if it was recorded more than `far_m` metres outside the task's compound.
pub fn gaps(tx: &mut dyn Tx, task: &Task, handoff: &Envelope, far_m: f64) -> ApiResult<Vec<Gap>> {
    if !handoff.payload.kind().is_device_fact() {
        return Ok(vec![]);
    }
    let ring = keyring(tx)?;
    let code = resident_code(tx, task.id)?.map(|(c, _)| c);
    let on_file = code.as_deref().map_or(CodeOnFile::None, CodeOnFile::Plain);
    let compound: Option<jx_core::model::Compound> = tx
        .query_opt("SELECT body FROM compounds WHERE id = $1", params![task.address.compound.0])?
        .map(|r| crate::log::json(&r.text(0)?))
        .transpose()?;
    let site = compound.as_ref().map(|c| Site { boundary: &c.boundary, far_m });
    // The resident's household cards and family members, with when they were replaced or removed, codes in clear:
    // a handoff recorded before a reissue or a removal stays proven.
    let (cards, proxies) = crate::household::for_check(tx, task.resident)?;
    let masked: Vec<String> = proxies.iter().map(|p| mask_name(&p.name)).collect();
    let proxies: Vec<ProxyCheck> = proxies
        .iter()
        .zip(&masked)
        .map(|(p, name)| ProxyCheck {
            id: p.id,
            name,
            relation: &p.relation,
            code: CodeOnFile::Plain(&p.code),
            removed_at: p.removed_at,
        })
        .collect();
    let cards: Vec<CardOnFile> = cards
        .iter()
        .map(|c| CardOnFile { serial: c.serial, code: CodeOnFile::Plain(&c.code), replaced_at: c.replaced_at })
        .collect();
    let household = HouseholdContext { cards: &cards, proxies: &proxies };
    let ctx = ProofContext { keyring: &ring, code: on_file, site, household };
    let gaps = check(task, &handoff.payload, handoff.at, &ctx);
    // Which requirements failed, never the evidence itself (a typed code, a position).
    tracing::debug!(task = %task.id, event = %handoff.id, gaps = ?gaps.iter().map(Gap::requirement).collect::<Vec<_>>(), "proof re-checked");
    Ok(gaps)
}

/// One code of a task, freshly signed: its packet label or its resident confirmation.
pub fn token(tx: &mut dyn Tx, task: TaskId, kind: TokenKind) -> ApiResult<String> {
    let (t, _) = log::load_task(tx, task)?.ok_or_else(|| ApiError::NotFound(format!("no task {task}")))?;
    if kind == TokenKind::ResidentConfirmation && !t.proof.requires(ProofRequirement::ResidentConfirmation) {
        return Err(ApiError::NotFound("this task has no resident confirmation code".into()));
    }
    Ok(signer(tx)?.issue(kind, task, now()))
}
