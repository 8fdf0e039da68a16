//! The centre's side of proof: its code-signing keys, the residents' 6-digit codes, the tokens it issues, the
//! printable labels and slips, and the re-check of every handoff that arrives.

use crate::db::{Db, now};
use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::sql::Tx;
use crate::{log, town};
use jx_core::code::{CodeHash, hash_code};
use jx_core::model::{ProofRequirement, Task, TaskKind, mask_name};
use jx_core::proof::{CardOnFile, CodeOnFile, Gap, HouseholdContext, ProofContext, ProxyCheck, Site, check};
use jx_core::token::{CentreKey, Keyring, TokenKind, TokenSigner};
use jx_core::{Envelope, StaffId, TaskId, Timestamp};
use jx_proof::render::{self, PacketLabel, ResidentSlip, SheetWords};

/// The Argon2id cost of the codes' hashes that phones check (see `jx_core::code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeCost {
    pub m_kib: u32,
    pub t: u32,
}

impl Default for CodeCost {
    fn default() -> Self {
        CodeCost { m_kib: jx_core::code::DEFAULT_M_KIB, t: jx_core::code::DEFAULT_T }
    }
}

fn random<const N: usize>() -> ApiResult<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(ApiError::internal)?;
    Ok(b)
}

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
    let signer = TokenSigner::from_secret(id, random::<32>()?);
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

/// A fresh 6-digit code, uniformly drawn.
pub fn new_code() -> ApiResult<String> {
    loop {
        let n = u32::from_le_bytes(random::<4>()?);
        // Reject the top sliver so every code is equally likely.
        if n < u32::MAX - u32::MAX % 1_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

/// Gives a new task its resident code when its policy asks for the resident's confirmation. The slow hash for
/// phones is made later by [`hash_pending_codes`], outside any transaction.
pub fn add_code(tx: &mut dyn Tx, task: &Task) -> ApiResult<()> {
    if task.proof.requires(ProofRequirement::ResidentConfirmation) {
        tx.execute(
            "INSERT INTO resident_codes (task_id, code) VALUES ($1, $2)",
            params![task.id.to_string(), new_code()?],
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

/// Hashes every code still without a hash, a batch at a time, on all cores, holding the database only to read a
/// batch and to write it back. A task whose hash lands after its phone pulled it is queued for that phone again.
/// Returns how many were hashed. Safe to run at any time and to interrupt: what is not written is done next time.
pub async fn hash_pending_codes(db: &Db, cost: CodeCost) -> ApiResult<usize> {
    let mut done = 0;
    loop {
        let batch: Vec<(String, String)> = db
            .call(|tx| {
                tx.query(
                    "SELECT task_id, code FROM resident_codes WHERE hash IS NULL ORDER BY task_id LIMIT 64",
                    params![],
                )?
                .iter()
                .map(|r| Ok((r.text(0)?, r.text(1)?)))
                .collect()
            })
            .await?;
        if batch.is_empty() {
            // The household cards' and family members' codes likewise.
            return Ok(done + crate::household::hash_pending(db, cost).await?);
        }
        let n = batch.len();
        let hashed = tokio::task::spawn_blocking(move || hash_all(batch, cost))
            .await
            .map_err(|e| ApiError::internal(format!("hashing codes: {e}")))??;
        db.call(move |tx| {
            let mut told = Vec::new();
            for (task, hash) in &hashed {
                let json = serde_json::to_string(hash).map_err(ApiError::internal)?;
                tx.execute(
                    "UPDATE resident_codes SET hash = $1 WHERE task_id = $2 AND hash IS NULL",
                    params![json, task],
                )?;
                if let Some(r) = tx.query_opt("SELECT assignee FROM tasks WHERE task_id = $1", params![task])?
                    && let Some(staff) = r.opt_int("assignee")?
                {
                    let staff = u32::try_from(staff).map_err(ApiError::internal)?;
                    told.push((jx_core::StaffId(staff), task.clone()));
                }
            }
            crate::log::tell_all(tx, told)
        })
        .await?;
        done += n;
    }
}

/// Hashes each `(key, code)` on all cores (up to 8 threads); slow on purpose.
pub(crate) fn hash_all<K: Clone + Send + Sync>(
    batch: Vec<(K, String)>,
    cost: CodeCost,
) -> ApiResult<Vec<(K, CodeHash)>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let chunk = batch.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|(task, code)| {
                            let h = hash_code(code, random::<16>()?, cost.m_kib, cost.t).map_err(ApiError::internal)?;
                            Ok((task.clone(), h))
                        })
                        .collect::<ApiResult<Vec<_>>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(batch.len());
        for h in handles {
            out.extend(h.join().map_err(|_| ApiError::internal("a hashing thread panicked"))??);
        }
        Ok(out)
    })
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

/// The words on printed sheets, in the language asked for (zh-CN unless `en`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrintLang {
    ZhCn,
    En,
}

impl PrintLang {
    pub fn parse(s: Option<&str>) -> PrintLang {
        match s {
            Some(l) if l.starts_with("en") => PrintLang::En,
            _ => PrintLang::ZhCn,
        }
    }

    fn tag(self) -> &'static str {
        match self {
            PrintLang::ZhCn => "zh-CN",
            PrintLang::En => "en",
        }
    }

    fn kind(self, k: TaskKind) -> &'static str {
        match (self, k) {
            (PrintLang::ZhCn, TaskKind::Delivery) => "送达",
            (PrintLang::ZhCn, TaskKind::Pickup) => "上门收件",
            (PrintLang::En, TaskKind::Delivery) => "Delivery",
            (PrintLang::En, TaskKind::Pickup) => "Pickup",
        }
    }

    fn words(self, title: String, subtitle: String) -> SheetWords {
        let (code_caption, slip_help) = match self {
            PrintLang::ZhCn => (
                "无法出示二维码时，请告知工作人员以下6位确认码：",
                "工作人员上门送达时，请出示本二维码或告知确认码。请勿将确认码告诉他人。",
            ),
            PrintLang::En => (
                "If you cannot show the QR code, tell the staff member this 6-digit code:",
                "When our staff member brings your documents, show this QR code or tell them the code. Keep the code to yourself.",
            ),
        };
        SheetWords {
            lang: self.tag().into(),
            title,
            subtitle,
            code_caption: code_caption.into(),
            slip_help: slip_help.into(),
        }
    }
}

/// Which tasks a sheet prints.
#[derive(Clone, Copy, Debug)]
pub enum Selection {
    /// A staff member's open tasks (assigned or checked out, or back for another try), in route order.
    Staff(StaffId),
    One(TaskId),
}

struct Printable {
    task: Task,
    compound: String,
    resident: String,
    what: String,
}

fn printable(tx: &mut dyn Tx, sel: Selection, lang: PrintLang) -> ApiResult<Vec<Printable>> {
    let ids: Vec<TaskId> = match sel {
        Selection::One(id) => vec![id],
        Selection::Staff(staff) => tx
            .query(
                "SELECT task_id FROM tasks WHERE assignee = $1 AND status IN ('assigned', 'checked_out', 'attempt_failed')
                 ORDER BY compound, building, task_id",
                params![staff.0],
            )?
            .iter()
            .map(|r| r.text(0)?.parse().map_err(ApiError::internal))
            .collect::<ApiResult<_>>()?,
    };
    let compounds = town::compounds(tx)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let (task, _) = log::load_task(tx, id)?.ok_or_else(|| ApiError::NotFound(format!("no task {id}")))?;
        let sheet = town::sheet(tx, &task)?;
        let compound = compounds.iter().find(|c| c.id == task.address.compound).map(|c| c.name.clone());
        out.push(Printable {
            compound: compound.unwrap_or_else(|| task.address.compound.to_string()),
            resident: mask_name(&sheet.resident_name),
            what: format!("{} · {}", lang.kind(task.kind), sheet.service_item_name),
            task,
        });
    }
    Ok(out)
}

fn render_err(e: render::RenderError) -> ApiError {
    ApiError::internal(e)
}

/// An A4 sheet of packet labels, freshly signed.
pub fn label_sheet(tx: &mut dyn Tx, sel: Selection, title: String, lang: PrintLang) -> ApiResult<String> {
    let signer = signer(tx)?;
    let at = now();
    let items = printable(tx, sel, lang)?;
    let subtitle = match lang {
        PrintLang::ZhCn => format!("共 {} 张标签", items.len()),
        PrintLang::En => format!("{} labels", items.len()),
    };
    let labels: Vec<PacketLabel> = items
        .into_iter()
        .map(|p| PacketLabel {
            token: signer.issue(TokenKind::PacketLabel, p.task.id, at),
            short_code: p.task.id.short(),
            compound: p.compound,
            address: p.task.address.to_string(),
            resident: p.resident,
            what: p.what,
        })
        .collect();
    render::label_sheet(&lang.words(title, subtitle), &labels).map_err(render_err)
}

/// Residents' confirmation slips (QR and 6-digit code) for the deliveries selected; tasks without a code are left
/// out.
pub fn slip_sheet(tx: &mut dyn Tx, sel: Selection, title: String, lang: PrintLang) -> ApiResult<String> {
    let signer = signer(tx)?;
    let at = now();
    let mut slips = Vec::new();
    for p in printable(tx, sel, lang)? {
        let Some((code, _)) = resident_code(tx, p.task.id)? else { continue };
        slips.push(ResidentSlip {
            token: signer.issue(TokenKind::ResidentConfirmation, p.task.id, at),
            code,
            short_code: p.task.id.short(),
            resident: p.resident,
            what: p.what,
        });
    }
    if slips.is_empty() && matches!(sel, Selection::One(_)) {
        return Err(ApiError::NotFound("this task has no resident confirmation code".into()));
    }
    let subtitle = match lang {
        PrintLang::ZhCn => format!("共 {} 份", slips.len()),
        PrintLang::En => format!("{} slips", slips.len()),
    };
    render::slip_sheet(&lang.words(title, subtitle), &slips).map_err(render_err)
}

/// One code of a task, freshly signed: its packet label or its resident confirmation.
pub fn token(tx: &mut dyn Tx, task: TaskId, kind: TokenKind) -> ApiResult<String> {
    let (t, _) = log::load_task(tx, task)?.ok_or_else(|| ApiError::NotFound(format!("no task {task}")))?;
    if kind == TokenKind::ResidentConfirmation && !t.proof.requires(ProofRequirement::ResidentConfirmation) {
        return Err(ApiError::NotFound("this task has no resident confirmation code".into()));
    }
    Ok(signer(tx)?.issue(kind, task, now()))
}
