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

/// Whether an answer with status `code` may be sent again, as client-go decides: a 429 or 5xx
/// carrying `Retry-After` says the server did nothing and when to come back, so any verb is
/// repeated. Without it, reads are; with `all_apis`, writes too, except that a POST or PATCH
/// answered 500, 502 or 504 may already have been applied (neither is idempotent).
pub(crate) fn may_resend(
    code: u16,
    has_retry_after: bool,
    read_only: bool,
    all_apis: bool,
    method: &str,
) -> bool {
    if has_retry_after && (code == 429 || (500..600).contains(&code)) {
        return true;
    }
    if !is_retryable_status(code) {
        return false;
    }
    if read_only {
        return true;
    }
    all_apis && (matches!(code, 429 | 503) || !matches!(method, "POST" | "PATCH"))
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

/// `Retry-After` as a wait, in either form (RFC 9110 §10.2.3): delay-seconds or an HTTP-date
/// (a date in the past means now). Capped at the backoff cap, 60 s: a server asking for hours is
/// not waited on. `None` when absent or unreadable.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    retry_after_at(value, SystemTime::now())
}

fn retry_after_at(value: &str, now: SystemTime) -> Option<Duration> {
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits but too long for a u64: absurd, so the cap.
        value.parse().map_or(MAX_DELAY, Duration::from_secs)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_DELAY))
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
    fn retry_after_is_read_in_seconds_and_as_a_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let at = |v: &str| retry_after_at(v, now);
        assert_eq!(at("2"), Some(Duration::from_secs(2)));
        assert_eq!(at("0"), Some(Duration::ZERO));
        // The three HTTP-date forms a recipient must accept.
        assert_eq!(
            at("Wed, 21 Oct 2015 07:28:05 GMT"),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            at("Wednesday, 21-Oct-15 07:28:07 GMT"),
            Some(Duration::from_secs(7))
        );
        assert_eq!(at("Wed Oct 21 07:28:09 2015"), Some(Duration::from_secs(9)));
        // A date in the past means now.
        assert_eq!(at("Tue, 20 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        // Absurd waits are capped.
        assert_eq!(at("86400"), Some(MAX_DELAY));
        assert_eq!(at("99999999999999999999999"), Some(MAX_DELAY));
        assert_eq!(at("Thu, 01 Jan 2099 00:00:00 GMT"), Some(MAX_DELAY));
        for bad in ["", "-1", "1.5", "soon", "Wed, 32 Oct 2015 07:28:00 GMT"] {
            assert_eq!(at(bad), None, "{bad:?}");
        }

        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(http::header::RETRY_AFTER, " 3 ".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
    }

    #[test]
    fn writes_are_resent_only_when_the_server_did_nothing() {
        // Retry-After: any verb, any 5xx, whatever all_apis says.
        for code in [429, 500, 503, 507] {
            assert!(may_resend(code, true, false, false, "POST"), "{code}");
        }
        assert!(!may_resend(400, true, true, true, "GET"));
        // Reads: the usual statuses.
        assert!(may_resend(502, false, true, false, "GET"));
        assert!(!may_resend(501, false, true, true, "GET"));
        // Writes without Retry-After: only with all_apis, and never a POST or PATCH that may
        // have been applied.
        assert!(!may_resend(503, false, false, false, "POST"));
        for method in ["POST", "PATCH"] {
            assert!(may_resend(429, false, false, true, method));
            assert!(may_resend(503, false, false, true, method));
            for code in [500, 502, 504] {
                assert!(
                    !may_resend(code, false, false, true, method),
                    "{method} {code}"
                );
            }
        }
        for method in ["PUT", "DELETE"] {
            assert!(may_resend(500, false, false, true, method));
        }
    }
}
