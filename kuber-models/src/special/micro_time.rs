//! `MicroTime` (`meta/v1.MicroTime`): a timestamp with microsecond precision.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::TimeError;
use super::time::{
    MAX_UNIX_SECS, MIN_UNIX_SECS, TextVisitor, cmp_timestamps, format_utc, parse_rfc3339,
    system_time_to_unix, to_system_time,
};

/// A timestamp with microsecond precision (`meta/v1.MicroTime`), used by
/// `Lease.spec.renewTime` and `Event.eventTime`.
///
/// The canonical wire form is an RFC 3339 string in UTC with exactly six
/// fraction digits: `"2024-05-01T10:00:00.123456Z"`.
///
/// Like [`Time`](super::Time) it stores the received text unchanged and
/// decoding accepts any JSON string; [`unix_timestamp`](Self::unix_timestamp)
/// parses it on demand. `==` and `Hash` compare the text; `Ord` orders by
/// instant, then by text, with malformed timestamps last. The default is Go's
/// zero time, `null` on the wire, as for `Time`.
///
/// ```
/// # use kuber_models::special::MicroTime;
/// let t = MicroTime::from_unix(1_714_557_600, 123_456);
/// assert_eq!(t.as_str(), "2024-05-01T10:00:00.123456Z");
/// assert_eq!(t.unix_timestamp().unwrap(), (1_714_557_600, 123_456_000));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MicroTime(
    // `None` is the zero time.
    Option<String>,
);

impl MicroTime {
    /// Formats an instant in the canonical form
    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    ///
    /// `micros` of a million or more carry into the seconds. Instants outside
    /// `0000-01-01T00:00:00.000000Z..=9999-12-31T23:59:59.999999Z` are
    /// clamped to those bounds.
    pub fn from_unix(secs: i64, micros: u32) -> MicroTime {
        let secs = secs.saturating_add(i64::from(micros / 1_000_000));
        let micros = micros % 1_000_000;
        let (secs, micros) = if secs < MIN_UNIX_SECS {
            (MIN_UNIX_SECS, 0)
        } else if secs > MAX_UNIX_SECS {
            (MAX_UNIX_SECS, 999_999)
        } else {
            (secs, micros)
        };
        MicroTime(Some(format_utc(secs, Some(micros))))
    }

    /// Converts a `SystemTime`, truncating to whole microseconds (clamped
    /// like [`from_unix`](Self::from_unix)).
    pub fn from_system_time(time: SystemTime) -> MicroTime {
        let (secs, nanos) = system_time_to_unix(time);
        MicroTime::from_unix(secs, nanos / 1000)
    }

    /// The current time, truncated to whole microseconds.
    pub fn now() -> MicroTime {
        MicroTime::from_system_time(SystemTime::now())
    }
}

super::time::timestamp_text!(MicroTime);

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_from_unix() {
        let cases: &[(i64, u32, &str)] = &[
            (0, 0, "1970-01-01T00:00:00.000000Z"),
            (1_714_557_600, 123_456, "2024-05-01T10:00:00.123456Z"),
            (1_714_557_600, 1, "2024-05-01T10:00:00.000001Z"),
            (1_714_557_600, 999_999, "2024-05-01T10:00:00.999999Z"),
            (1_714_557_599, 1_000_001, "2024-05-01T10:00:00.000001Z"),
            (-1, 500_000, "1969-12-31T23:59:59.500000Z"),
            (2_147_483_647, 0, "2038-01-19T03:14:07.000000Z"),
            (951_868_799, 999_999, "2000-02-29T23:59:59.999999Z"),
            (MAX_UNIX_SECS, 999_999, "9999-12-31T23:59:59.999999Z"),
            (MAX_UNIX_SECS, 1_000_000, "9999-12-31T23:59:59.999999Z"),
            (i64::MAX, u32::MAX, "9999-12-31T23:59:59.999999Z"),
            (i64::MIN, 5, "0000-01-01T00:00:00.000000Z"),
        ];
        for &(secs, micros, text) in cases {
            assert_eq!(
                MicroTime::from_unix(secs, micros).as_str(),
                text,
                "{secs} {micros}"
            );
        }
        let t = MicroTime::from_unix(-1, 500_000);
        assert_eq!(t.unix_timestamp(), Ok((-1, 500_000_000)));
    }

    #[test]
    fn json_round_trips_exact_text() {
        for text in [
            "2024-05-01T10:00:00.123456Z",
            "2024-05-01T10:00:00.000000Z",
            "2024-05-01T10:00:00Z",
            "2024-05-01T12:00:00.5+02:00",
            "weird",
        ] {
            let json = serde_json::to_string(text).unwrap();
            let t: MicroTime = serde_json::from_str(&json).unwrap();
            assert_eq!(t.as_str(), text);
            assert_eq!(serde_json::to_string(&t).unwrap(), json);
        }
        let err = serde_json::from_str::<MicroTime>("true")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("an RFC 3339 timestamp string for MicroTime"),
            "{err}"
        );
    }

    #[test]
    fn parses_and_orders() {
        let a = MicroTime::from("2024-05-01T10:00:00.123456Z");
        let b = MicroTime::from("2024-05-01T12:00:00.123457+02:00");
        assert_eq!(a.unix_timestamp(), Ok((1_714_557_600, 123_456_000)));
        assert_eq!(b.unix_timestamp(), Ok((1_714_557_600, 123_457_000)));
        assert!(a < b);
        let err = MicroTime::from("2023-02-29T00:00:00.000000Z")
            .unix_timestamp()
            .unwrap_err();
        assert_eq!(err.reason(), "day out of range for month");
        assert!("2023-02-29T00:00:00.000000Z".parse::<MicroTime>().is_err());
        assert!("2024-02-29T00:00:00.000000Z".parse::<MicroTime>().is_ok());
    }

    #[test]
    fn system_time_and_now() {
        let st = SystemTime::UNIX_EPOCH + Duration::new(1_714_557_600, 123_456_789);
        let t = MicroTime::from_system_time(st);
        assert_eq!(t.as_str(), "2024-05-01T10:00:00.123456Z");
        assert_eq!(
            t.to_system_time().unwrap(),
            SystemTime::UNIX_EPOCH + Duration::new(1_714_557_600, 123_456_000)
        );
        let now = MicroTime::now();
        assert_eq!(now.as_str().len(), 27);
        let (secs, nanos) = now.unix_timestamp().unwrap();
        assert!(secs > 1_700_000_000);
        assert_eq!(nanos % 1000, 0);
    }

    #[test]
    fn misc_traits() {
        assert!(MicroTime::default().is_zero());
        assert_eq!(format!("{:?}", MicroTime::from("x")), "MicroTime(\"x\")");
        assert_eq!(MicroTime::from(String::from("x")).to_string(), "x");
        assert_eq!(MicroTime::from("x").into_string(), "x");
        assert_eq!(MicroTime::from("x").as_ref(), "x");
    }
}
