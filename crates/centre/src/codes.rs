//! The residents' 6-digit codes and their slow hashes: drawing a code, and hashing every code still without a
//! hash — the per-task resident codes, the household cards' and the family members' — in one place, outside any
//! transaction, so that the phones' offline checks never wait on a write lock.
//!
//! Domain layer: uses storage and the task log (to queue a task whose hash landed for its phone again).

use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::{log, params};
use jx_core::code::{CodeHash, hash_code};
use jx_core::{ResidentId, StaffId};

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

pub fn random<const N: usize>() -> ApiResult<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(ApiError::internal)?;
    Ok(b)
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

/// Which code a pending hash is for.
#[derive(Clone, Debug)]
enum Pending {
    Task(String),
    Card { resident: ResidentId, serial: u32 },
    Proxy { resident: ResidentId, id: u32 },
}

/// The next batch of codes without a hash: residents' codes first, then household cards, then family members.
fn next_batch(tx: &mut dyn crate::sql::Tx) -> ApiResult<Vec<(Pending, String)>> {
    let mut out = Vec::new();
    for r in
        tx.query("SELECT task_id, code FROM resident_codes WHERE hash IS NULL ORDER BY task_id LIMIT 64", params![])?
    {
        out.push((Pending::Task(r.text("task_id")?), r.text("code")?));
    }
    // Household cards in force and family members on file, 32 of each at most.
    for r in tx.query(
        "SELECT * FROM (SELECT 'card' AS kind, resident_id, serial AS id, code FROM household_cards
                        WHERE hash IS NULL AND replaced_at IS NULL ORDER BY resident_id LIMIT 32) c
         UNION ALL
         SELECT * FROM (SELECT 'proxy' AS kind, resident_id, proxy_id AS id, code FROM household_proxies
                        WHERE hash IS NULL AND removed_at IS NULL ORDER BY proxy_id LIMIT 32) p",
        params![],
    )? {
        let (resident, id) = (ResidentId(r.u32("resident_id")?), r.u32("id")?);
        let pending = if r.text("kind")? == "card" {
            Pending::Card { resident, serial: id }
        } else {
            Pending::Proxy { resident, id }
        };
        out.push((pending, r.text("code")?));
    }
    Ok(out)
}

/// Writes one batch of hashes back and queues every task they concern for its phone again. A code replaced while
/// it was being hashed keeps its own (each write is keyed on what was hashed and on the hash still missing).
fn write_back(tx: &mut dyn crate::sql::Tx, hashed: &[(Pending, CodeHash)]) -> ApiResult<()> {
    let mut told = Vec::new();
    for (pending, hash) in hashed {
        let json = serde_json::to_string(hash).map_err(ApiError::internal)?;
        match pending {
            Pending::Task(task) => {
                tx.execute(
                    "UPDATE resident_codes SET hash = $1 WHERE task_id = $2 AND hash IS NULL",
                    params![json, task],
                )?;
                if let Some(r) = tx.query_opt("SELECT assignee FROM tasks WHERE task_id = $1", params![task])?
                    && let Some(staff) = r.opt_int("assignee")?
                {
                    let staff = u32::try_from(staff).map_err(ApiError::internal)?;
                    told.push((StaffId(staff), task.clone()));
                }
            }
            Pending::Card { resident, serial } => {
                let changed = tx.execute(
                    "UPDATE household_cards SET hash = $1 WHERE resident_id = $2 AND serial = $3 AND hash IS NULL",
                    params![json, resident.0, *serial],
                )?;
                if changed > 0 {
                    told.extend(log::open_tasks_of(tx, *resident)?);
                }
            }
            Pending::Proxy { resident, id } => {
                let changed = tx.execute(
                    "UPDATE household_proxies SET hash = $1 WHERE proxy_id = $2 AND hash IS NULL",
                    params![json, *id],
                )?;
                if changed > 0 {
                    told.extend(log::open_tasks_of(tx, *resident)?);
                }
            }
        }
    }
    log::tell_all(tx, told)
}

/// Hashes every code still without a hash, a batch at a time, on all cores, holding the database only to read a
/// batch and to write it back. Returns how many were hashed. Safe to run at any time and to interrupt: what is not
/// written is done next time.
pub async fn hash_pending(db: &Db, cost: CodeCost) -> ApiResult<usize> {
    let mut done = 0;
    loop {
        let batch = db.call(next_batch).await?;
        if batch.is_empty() {
            return Ok(done);
        }
        let n = batch.len();
        let hashed = tokio::task::spawn_blocking(move || hash_all(batch, cost))
            .await
            .map_err(|e| ApiError::internal(format!("hashing codes: {e}")))??;
        db.call(move |tx| write_back(tx, &hashed)).await?;
        done += n;
    }
}

/// Hashes each `(key, code)` on all cores (up to 8 threads); slow on purpose.
fn hash_all<K: Clone + Send + Sync>(batch: Vec<(K, String)>, cost: CodeCost) -> ApiResult<Vec<(K, CodeHash)>> {
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
