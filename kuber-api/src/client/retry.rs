//! When to retry, and how long `Retry-After` says to wait; the backoff between retries is
//! [`Backoff::RETRIES`] (Kuber.jl's: from 0.5 s, × 1.75, ±10 %).

use std::time::{Duration, SystemTime};

use http::HeaderMap;

use crate::backoff::Backoff;

/// No single wait exceeds this, whatever the attempt number or `Retry-After` says.
const MAX_DELAY: Duration = Backoff::RETRIES.max();

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

#[cfg(test)]
mod tests {
    use super::*;

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
