//! Throttles kept in the database, so that every replica shares them and a restart forgets nothing: growing delays
//! after failures ([`Backoff`]: failed logins), and a rate per key ([`hit`]: the door card pages per client).
//!
//! Domain layer: uses storage only.

use crate::error::ApiResult;
use crate::params;
use crate::sql::Tx;
use jx_core::Timestamp;

/// Growing delays after failures: the first `free` failures cost nothing; then each failure doubles the wait before
/// the next try, from `base_ms` up to `max_ms`. Failures are forgotten `forget_ms` after the last one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub free: i64,
    pub base_ms: i64,
    pub max_ms: i64,
    pub forget_ms: i64,
}

impl Backoff {
    /// The wait after `failures` failures.
    pub fn delay_ms(&self, failures: i64) -> i64 {
        if failures < self.free {
            return 0;
        }
        let doublings = u32::try_from(failures - self.free).unwrap_or(u32::MAX).min(40);
        self.base_ms.saturating_mul(1i64 << doublings).min(self.max_ms)
    }
}

/// How long (ms) `key` must still wait before its next try at `now`; 0 if it may try now.
pub fn wait_ms(tx: &mut dyn Tx, key: &str, backoff: Backoff, now: Timestamp) -> ApiResult<i64> {
    let Some(r) = tx.query_opt("SELECT count, last_at FROM throttles WHERE key = $1", params![key])? else {
        return Ok(0);
    };
    let (failures, last) = (r.int("count")?, r.int("last_at")?);
    if now.millis() - last > backoff.forget_ms {
        return Ok(0);
    }
    Ok((last + backoff.delay_ms(failures) - now.millis()).max(0))
}

/// Counts a failure of `key` at `now` (after `forget_ms` of quiet, counting starts again).
pub fn fail(tx: &mut dyn Tx, key: &str, backoff: Backoff, now: Timestamp) -> ApiResult<()> {
    tx.execute(
        "INSERT INTO throttles (key, count, since, last_at) VALUES ($1, 1, $2, $2)
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN throttles.last_at < $3 THEN 1 ELSE throttles.count + 1 END,
           since = CASE WHEN throttles.last_at < $3 THEN $2 ELSE throttles.since END,
           last_at = $2",
        params![key, now.millis(), now.millis() - backoff.forget_ms],
    )?;
    Ok(())
}

/// Forgets `key`'s failures.
pub fn clear(tx: &mut dyn Tx, key: &str) -> ApiResult<()> {
    tx.execute("DELETE FROM throttles WHERE key = $1", params![key])?;
    Ok(())
}

/// Counts one request of `key` at `now`; whether it is within `limit` requests in the current window of
/// `window_ms`.
pub fn hit(tx: &mut dyn Tx, key: &str, limit: i64, window_ms: i64, now: Timestamp) -> ApiResult<bool> {
    let count = tx
        .query_one(
            "INSERT INTO throttles (key, count, since, last_at) VALUES ($1, 1, $2, $2)
             ON CONFLICT (key) DO UPDATE SET
               count = CASE WHEN throttles.since < $3 THEN 1 ELSE throttles.count + 1 END,
               since = CASE WHEN throttles.since < $3 THEN $2 ELSE throttles.since END,
               last_at = $2
             RETURNING count",
            params![key, now.millis(), now.millis() - window_ms],
        )?
        .int("count")?;
    Ok(count <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const B: Backoff = Backoff { free: 3, base_ms: 1_000, max_ms: 900_000, forget_ms: 3_600_000 };

    #[test]
    fn the_first_failures_are_free_then_each_doubles_the_wait_up_to_the_cap() {
        let waits: Vec<i64> = (0..8).map(|n| B.delay_ms(n)).collect();
        assert_eq!(waits, [0, 0, 0, 1_000, 2_000, 4_000, 8_000, 16_000]);
        assert_eq!(B.delay_ms(40), 900_000);
    }

    proptest! {
        #[test]
        fn the_wait_never_shrinks_with_more_failures_and_never_passes_the_cap(n in 0i64..10_000) {
            prop_assert!(B.delay_ms(n) <= B.delay_ms(n + 1));
            prop_assert!((0..=B.max_ms).contains(&B.delay_ms(n)));
        }
    }
}
