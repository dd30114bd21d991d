//! When to retry and how long to wait, as Kuber.jl does: exponential backoff from 0.5 s, factor
//! 1.75, ±10% jitter.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;

pub(crate) const DEFAULT_BASE: Duration = Duration::from_millis(500);
const FACTOR: f64 = 1.75;
const JITTER: f64 = 0.1;
/// No single wait exceeds this, whatever the attempt number or `Retry-After` says.
const MAX_DELAY: Duration = Duration::from_secs(60);

/// Statuses worth another try: the server was overloaded or a proxy in front of it failed.
pub(crate) fn is_retryable_status(code: u16) -> bool {
    matches!(code, 429 | 500 | 502 | 503 | 504)
}

/// The wait before retry number `retry` (0 for the first retry).
pub(crate) fn backoff(base: Duration, retry: u32) -> Duration {
    let exp = FACTOR.powi(retry.min(64) as i32);
    let jitter = 1.0 + JITTER * (2.0 * unit_random() - 1.0);
    let secs = base.as_secs_f64() * exp * jitter;
    Duration::try_from_secs_f64(secs)
        .unwrap_or(MAX_DELAY)
        .min(MAX_DELAY)
}

/// `Retry-After` in seconds (the form the API server sends); dates are ignored.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    let secs: u64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_DELAY))
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
    fn backoff_grows_by_the_factor_within_the_jitter() {
        let base = Duration::from_millis(500);
        for retry in 0..5 {
            let expected = 0.5 * FACTOR.powi(retry as i32);
            let got = backoff(base, retry).as_secs_f64();
            assert!(
                got >= expected * 0.9 - 1e-9 && got <= expected * 1.1 + 1e-9,
                "{retry}: {got}"
            );
        }
        assert!(backoff(base, 1000) <= MAX_DELAY);
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(
            http::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }
}
