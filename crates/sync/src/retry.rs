//! Exponential backoff with jitter for requests that may succeed when tried again.

use std::time::Duration;

/// Waits of `base · 2ⁿ` (capped at `max`), each randomised to between half and all of itself ("equal jitter"), so
/// that phones that lost the network together do not all come back in the same millisecond.
#[derive(Clone, Debug)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    /// Give up after this many tries of one request.
    pub tries: u32,
    seed: u64,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration, tries: u32) -> Self {
        #[cfg(not(target_arch = "wasm32"))]
        use std::time::{SystemTime, UNIX_EPOCH};
        #[cfg(target_arch = "wasm32")]
        use web_time::{SystemTime, UNIX_EPOCH};
        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0x5EED);
        Backoff { base, max, tries, seed }
    }

    /// The wait before try number `attempt + 1` (attempt counts from 0).
    pub fn delay(&mut self, attempt: u32) -> Duration {
        let exp = self.base.saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX)).min(self.max);
        // xorshift: enough randomness for jitter, no dependency.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let frac = (self.seed >> 11) as f64 / (1u64 << 53) as f64;
        exp.mul_f64(0.5 + 0.5 * frac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_exponentially_with_jitter_and_stop_at_the_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2), 10);
        for attempt in 0..12 {
            let full = Duration::from_millis(100 * (1u64 << attempt)).min(Duration::from_secs(2));
            let d = b.delay(attempt);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?} not in [{:?}, {full:?}]", full / 2);
        }
    }
}
