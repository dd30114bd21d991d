//! [`Backoff`]: how long to wait before the next try, the one policy of the workspace (the
//! client's retries, kuber's watch).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Exponential backoff with jitter, capped: the wait before try `n + 1` (`n` from 0) is
/// `first × factor^n`, at most `max`, times a random number in `[low, high)` (and still at most
/// `max`), so that many clients failing together do not come back together.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    pub(crate) first: Duration,
    pub(crate) max: Duration,
    pub(crate) factor: f64,
    pub(crate) jitter: (f64, f64),
}

impl Backoff {
    /// Kuber.jl's retries, which the client uses: from 0.5 s, × 1.75, ±10 %, at most 60 s.
    pub const RETRIES: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(60))
        .with_factor(1.75)
        .with_jitter(0.9, 1.1);

    /// Doubling from `first` up to `max` (`first` if smaller), each wait between half and all
    /// of its step.
    pub const fn new(first: Duration, max: Duration) -> Backoff {
        Backoff {
            first,
            max: if max.as_nanos() < first.as_nanos() {
                first
            } else {
                max
            },
            factor: 2.0,
            jitter: (0.5, 1.0),
        }
    }

    /// Each step `factor` times the one before (at least 1).
    pub const fn with_factor(mut self, factor: f64) -> Backoff {
        self.factor = if factor >= 1.0 { factor } else { 1.0 };
        self
    }

    /// Each wait its step times a random number in `[low, high)` (`0 ≤ low ≤ high`); `(1, 1)`:
    /// no jitter.
    pub const fn with_jitter(mut self, low: f64, high: f64) -> Backoff {
        let low = if low >= 0.0 { low } else { 0.0 };
        self.jitter = (low, if high >= low { high } else { low });
        self
    }

    /// The first step.
    pub const fn first(&self) -> Duration {
        self.first
    }

    /// The cap.
    pub const fn max(&self) -> Duration {
        self.max
    }

    /// The wait before try `attempt + 1`: 0 is the wait after the first failure.
    pub fn delay(&self, attempt: u32) -> Duration {
        let (low, high) = self.jitter;
        let scale = low + (high - low) * unit_random();
        // Not `mul_f64`, which panics past the representable.
        Duration::try_from_secs_f64(self.step(attempt).as_secs_f64() * scale)
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// `first × factor^attempt`, at most `max`, without jitter.
    fn step(&self, attempt: u32) -> Duration {
        let exp = self.factor.powi(attempt.min(1024) as i32);
        Duration::try_from_secs_f64(self.first.as_secs_f64() * exp)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

/// A number in [0, 1) that differs between calls: jitter only, no rand crate needed.
fn unit_random() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    // splitmix64 over time and a counter, so calls in the same nanosecond differ too.
    let mut z = nanos ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_grow_by_the_factor_within_the_jitter() {
        let b = Backoff::RETRIES;
        for attempt in 0..5 {
            let expected = 0.5 * 1.75f64.powi(attempt as i32);
            let got = b.delay(attempt).as_secs_f64();
            assert!(
                got >= expected * 0.9 - 1e-9 && got <= expected * 1.1 + 1e-9,
                "{attempt}: {got}"
            );
        }
        assert!(b.delay(1000) <= Duration::from_secs(60));
        assert!(b.delay(u32::MAX) >= Duration::from_secs(54));
    }

    #[test]
    fn doubling_waits_are_between_half_and_all_of_the_step() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let mut seen = std::collections::BTreeSet::new();
        for attempt in 0..8 {
            let step = (0.1 * 2f64.powi(attempt as i32)).min(1.0);
            for _ in 0..20 {
                let got = b.delay(attempt).as_secs_f64();
                assert!(
                    got >= step * 0.5 - 1e-9 && got < step + 1e-9,
                    "{attempt}: {got}"
                );
                seen.insert(got.to_bits());
            }
        }
        // Jittered: not the same wait every time.
        assert!(seen.len() > 100, "{}", seen.len());
        // A cap below the first step is the first step; no jitter is exact.
        let b = Backoff::new(Duration::from_secs(2), Duration::from_secs(1)).with_jitter(1.0, 1.0);
        assert_eq!(b.max(), Duration::from_secs(2));
        assert_eq!(b.delay(5), Duration::from_secs(2));
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(10))
            .with_factor(0.5)
            .with_jitter(1.0, 1.0);
        assert_eq!(b.delay(3), Duration::from_secs(1));
    }
}
