//! `Time` (`meta/v1.Time`) plus the RFC 3339 and calendar code shared with
//! [`MicroTime`](super::MicroTime).

use std::cmp::Ordering;
use std::error::Error as StdError;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A timestamp with second precision (`meta/v1.Time`), such as
/// `creationTimestamp`.
///
/// The canonical wire form is an RFC 3339 string in UTC without fraction:
/// `"2024-05-01T10:00:00Z"`.
///
/// The value stores the text exactly as received and decoding accepts any
/// JSON string, so a timestamp in an unexpected spelling (an offset, a
/// fraction) or even a malformed one survives a read-modify-write cycle
/// unchanged. [`unix_timestamp`](Self::unix_timestamp) parses the text when
/// the instant is needed.
///
/// The default is Go's zero time, which is written as `null` (as Go's
/// `metav1.Time` does), and `null` decodes as it: a required timestamp the
/// server left out or sent as `null` is never re-encoded as an invented
/// instant. [`is_zero`](Self::is_zero) tells it apart; its text is empty.
///
/// `==` and `Hash` compare the text. `Ord` orders by instant, then by text, so
/// it stays consistent with `==`; malformed timestamps sort after all valid
/// ones.
///
/// ```
/// # use kuber_models::special::Time;
/// let t = Time::from_unix(1_714_557_600);
/// assert_eq!(t.as_str(), "2024-05-01T10:00:00Z");
/// assert_eq!(t.unix_timestamp().unwrap(), (1_714_557_600, 0));
/// let u: Time = "2024-05-01T12:00:00+02:00".parse().unwrap();
/// assert_eq!(u.unix_timestamp().unwrap(), (1_714_557_600, 0));
/// assert_ne!(t, u); // same instant, different text
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Time(
    // `None` is the zero time.
    Option<String>,
);

impl Time {
    /// Formats `secs` since the Unix epoch in the canonical form
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    ///
    /// RFC 3339 only has four-digit years, so instants before
    /// `0000-01-01T00:00:00Z` or after `9999-12-31T23:59:59Z` are clamped to
    /// those bounds.
    pub fn from_unix(secs: i64) -> Time {
        Time(Some(format_utc(
            secs.clamp(MIN_UNIX_SECS, MAX_UNIX_SECS),
            None,
        )))
    }

    /// Converts a `SystemTime`, dropping the sub-second part (clamped like
    /// [`from_unix`](Self::from_unix)).
    pub fn from_system_time(time: SystemTime) -> Time {
        Time::from_unix(system_time_to_unix(time).0)
    }

    /// The current time, truncated to whole seconds.
    pub fn now() -> Time {
        Time::from_system_time(SystemTime::now())
    }
}

/// The text-keeping impls `Time` and `MicroTime` share: conversions, formatting, ordering by
/// instant, and serde as a plain string.
macro_rules! timestamp_text {
    ($ty:ident) => {
        impl $ty {
            /// Go's zero time, written as `null`.
            pub const ZERO: $ty = $ty(None);

            /// The timestamp text as received or created; empty for the zero time.
            pub fn as_str(&self) -> &str {
                self.0.as_deref().unwrap_or("")
            }

            /// Consumes the value and returns its text; empty for the zero time.
            pub fn into_string(self) -> String {
                self.0.unwrap_or_default()
            }

            /// Whether this is Go's zero time (`null` on the wire), not a text.
            pub fn is_zero(&self) -> bool {
                self.0.is_none()
            }

            /// Parses the text as RFC 3339 and returns seconds since the Unix epoch
            /// and the nanoseconds within that second (always `0..1_000_000_000`;
            /// for instants before 1970 the seconds are negative and the nanoseconds
            /// count forward from them). Fraction digits beyond nanoseconds are
            /// truncated. The zero time is Go's, `0001-01-01T00:00:00Z`.
            pub fn unix_timestamp(&self) -> Result<(i64, u32), TimeError> {
                match &self.0 {
                    Some(text) => parse_rfc3339(text),
                    None => Ok(($crate::special::time::GO_ZERO_UNIX_SECS, 0)),
                }
            }

            /// Parses the text into a `SystemTime` (the zero time is Go's).
            pub fn to_system_time(&self) -> Result<SystemTime, TimeError> {
                match &self.0 {
                    Some(text) => to_system_time(text),
                    None => $crate::special::time::zero_system_time(),
                }
            }
        }

        /// Go's zero time: `null` on the wire, never an invented instant.
        impl Default for $ty {
            fn default() -> Self {
                $ty::ZERO
            }
        }

        /// Wraps the text without validating it, as decoding does.
        impl From<&str> for $ty {
            fn from(text: &str) -> Self {
                $ty(Some(text.to_owned()))
            }
        }

        /// Wraps the text without validating it, as decoding does.
        impl From<String> for $ty {
            fn from(text: String) -> Self {
                $ty(Some(text))
            }
        }

        /// Validating constructor: fails unless the text is an RFC 3339 timestamp.
        /// The text is kept as given.
        impl FromStr for $ty {
            type Err = TimeError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                parse_rfc3339(text)?;
                Ok($ty(Some(text.to_owned())))
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        /// Writes the text as is (nothing for the zero time).
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// `Time("2024-05-01T10:00:00Z")`, `Time(zero)`.
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match &self.0 {
                    Some(text) => write!(f, concat!(stringify!($ty), "({:?})"), text),
                    None => f.write_str(concat!(stringify!($ty), "(zero)")),
                }
            }
        }

        impl PartialOrd for $ty {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }

        /// The zero time first, then by instant, then by text (see the type docs).
        impl Ord for $ty {
            fn cmp(&self, other: &Self) -> Ordering {
                match (&self.0, &other.0) {
                    (Some(a), Some(b)) => cmp_timestamps(a, b),
                    (a, b) => a.is_some().cmp(&b.is_some()),
                }
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match &self.0 {
                    Some(text) => serializer.serialize_str(text),
                    None => serializer.serialize_none(),
                }
            }
        }

        /// Any string; `null` is the zero time.
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer
                    .deserialize_option(TextVisitor(stringify!($ty)))
                    .map($ty)
            }
        }
    };
}
pub(crate) use timestamp_text;

timestamp_text!(Time);

/// Go's zero time, `0001-01-01T00:00:00Z`, in seconds since the Unix epoch.
pub(crate) const GO_ZERO_UNIX_SECS: i64 = -62_135_596_800;

/// Accepts any string, or `null` for the zero time; used by `Time` and `MicroTime`.
pub(crate) struct TextVisitor(pub(crate) &'static str);

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an RFC 3339 timestamp string for {}", self.0)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_string(self)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
}

/// Why a timestamp's text is not a valid RFC 3339 timestamp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeError {
    input: String,
    reason: &'static str,
}

impl TimeError {
    /// The offending text.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// A short description of the problem, e.g. `"day out of range for month"`.
    pub fn reason(&self) -> &str {
        self.reason
    }
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid RFC 3339 timestamp {:?}: {}",
            self.input, self.reason
        )
    }
}

impl StdError for TimeError {}

// ---------------------------------------------------------------------------
// Shared calendar and RFC 3339 code.

/// `0000-01-01T00:00:00Z`.
pub(crate) const MIN_UNIX_SECS: i64 = -62_167_219_200;
/// `9999-12-31T23:59:59Z`.
pub(crate) const MAX_UNIX_SECS: i64 = 253_402_300_799;

const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`). `month` is 1..=12, `day` 1..=31.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    // Count years from March so the leap day is the last day of the year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month, day).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Formats an instant (already within the four-digit-year range) in UTC,
/// with exactly six fraction digits when `micros` is given.
pub(crate) fn format_utc(secs: i64, micros: Option<u32>) -> String {
    let (year, month, day) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
    let sod = secs.rem_euclid(SECS_PER_DAY);
    // Digit by digit rather than `format!`: a protobuf read makes one per timestamp.
    let mut out = String::with_capacity(27);
    push_digits(&mut out, year as u64, 4);
    let fields = [
        ('-', i64::from(month)),
        ('-', i64::from(day)),
        ('T', sod / 3600),
        (':', sod / 60 % 60),
        (':', sod % 60),
    ];
    for (sep, value) in fields {
        out.push(sep);
        push_digits(&mut out, value as u64, 2);
    }
    if let Some(us) = micros {
        out.push('.');
        push_digits(&mut out, u64::from(us), 6);
    }
    out.push('Z');
    out
}

/// `value`'s last `width` decimal digits, zero-padded.
fn push_digits(out: &mut String, value: u64, width: u32) {
    for p in (0..width).rev() {
        out.push(char::from(b'0' + (value / 10u64.pow(p) % 10) as u8));
    }
}

/// Seconds and nanoseconds since the epoch, saturating at the `i64` range.
pub(crate) fn system_time_to_unix(time: SystemTime) -> (i64, u32) {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(before) => {
            let d = before.duration();
            let secs = i64::try_from(d.as_secs()).map_or(i64::MIN, |s| -s);
            match d.subsec_nanos() {
                0 => (secs, 0),
                n => (secs.saturating_sub(1), 1_000_000_000 - n),
            }
        }
    }
}

/// Go's zero time as a `SystemTime`.
pub(crate) fn zero_system_time() -> Result<SystemTime, TimeError> {
    SystemTime::UNIX_EPOCH
        .checked_sub(Duration::from_secs(GO_ZERO_UNIX_SECS.unsigned_abs()))
        .ok_or_else(|| TimeError {
            input: String::new(),
            reason: "the zero time is not representable as SystemTime on this platform",
        })
}

pub(crate) fn to_system_time(text: &str) -> Result<SystemTime, TimeError> {
    let (secs, nanos) = parse_rfc3339(text)?;
    let epoch = SystemTime::UNIX_EPOCH;
    let time = if secs >= 0 {
        epoch.checked_add(Duration::new(secs.unsigned_abs(), nanos))
    } else {
        epoch
            .checked_sub(Duration::from_secs(secs.unsigned_abs()))
            .and_then(|t| t.checked_add(Duration::from_nanos(u64::from(nanos))))
    };
    time.ok_or_else(|| TimeError {
        input: text.to_owned(),
        reason: "instant not representable as SystemTime on this platform",
    })
}

/// Orders by instant, then by text; unparsable text sorts last.
pub(crate) fn cmp_timestamps(a: &str, b: &str) -> Ordering {
    match (parse_rfc3339(a), parse_rfc3339(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.F+](Z|±HH:MM)` (RFC 3339 `date-time`; `t`
/// and `z` may be lower case). Leap seconds (`:60`) are rejected, as Go does.
pub(crate) fn parse_rfc3339(text: &str) -> Result<(i64, u32), TimeError> {
    parse_parts(text.as_bytes()).map_err(|reason| TimeError {
        input: text.to_owned(),
        reason,
    })
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn expect(&mut self, allowed: &[u8], what: &'static str) -> Result<u8, &'static str> {
        match self.peek() {
            Some(b) if allowed.contains(&b) => {
                self.pos += 1;
                Ok(b)
            }
            _ => Err(what),
        }
    }

    /// Exactly `n` ASCII digits as a number.
    fn digits(&mut self, n: usize, what: &'static str) -> Result<u32, &'static str> {
        let mut value = 0u32;
        for _ in 0..n {
            match self.peek() {
                Some(b @ b'0'..=b'9') => {
                    value = value * 10 + u32::from(b - b'0');
                    self.pos += 1;
                }
                _ => return Err(what),
            }
        }
        Ok(value)
    }
}

fn parse_parts(bytes: &[u8]) -> Result<(i64, u32), &'static str> {
    let mut c = Cursor { bytes, pos: 0 };
    let year = i64::from(c.digits(4, "expected a four-digit year")?);
    c.expect(b"-", "expected '-' after the year")?;
    let month = c.digits(2, "expected a two-digit month")?;
    c.expect(b"-", "expected '-' after the month")?;
    let day = c.digits(2, "expected a two-digit day")?;
    c.expect(b"Tt", "expected 'T' between date and time")?;
    let hour = c.digits(2, "expected a two-digit hour")?;
    c.expect(b":", "expected ':' after the hour")?;
    let minute = c.digits(2, "expected two-digit minutes")?;
    c.expect(b":", "expected ':' after the minutes")?;
    let second = c.digits(2, "expected two-digit seconds")?;

    let mut nanos = 0u32;
    if c.peek() == Some(b'.') {
        c.pos += 1;
        let mut count = 0;
        while let Some(b @ b'0'..=b'9') = c.peek() {
            // Digits past the ninth are below a nanosecond: truncate.
            if count < 9 {
                nanos = nanos * 10 + u32::from(b - b'0');
            }
            count += 1;
            c.pos += 1;
        }
        if count == 0 {
            return Err("expected digits after '.'");
        }
        for _ in count..9 {
            nanos *= 10;
        }
    }

    let offset_secs: i64 = match c.expect(b"Zz+-", "expected 'Z' or a '+hh:mm'/'-hh:mm' offset")? {
        b'Z' | b'z' => 0,
        sign => {
            let oh = c.digits(2, "expected a two-digit offset hour")?;
            c.expect(b":", "expected ':' in the offset")?;
            let om = c.digits(2, "expected two-digit offset minutes")?;
            if oh > 23 || om > 59 {
                return Err("offset out of range");
            }
            let secs = i64::from(oh * 3600 + om * 60);
            if sign == b'-' { -secs } else { secs }
        }
    };
    if c.pos != bytes.len() {
        return Err("unexpected text after the timestamp");
    }

    if !(1..=12).contains(&month) {
        return Err("month out of range");
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err("day out of range for month");
    }
    if hour > 23 {
        return Err("hour out of range");
    }
    if minute > 59 {
        return Err("minute out of range");
    }
    if second > 59 {
        return Err("second out of range");
    }

    let days = days_from_civil(year, month, day);
    let secs = days * SECS_PER_DAY + i64::from(hour * 3600 + minute * 60 + second) - offset_secs;
    Ok((secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Result<(i64, u32), String> {
        Time::from(s).unix_timestamp().map_err(|e| e.to_string())
    }

    #[test]
    fn civil_conversion_matches_known_days() {
        let cases: &[((i64, u32, u32), i64)] = &[
            ((1970, 1, 1), 0),
            ((1969, 12, 31), -1),
            ((2000, 2, 29), 11_016),
            ((2000, 3, 1), 11_017),
            ((2024, 5, 1), 19_844),
            ((2038, 1, 19), 24_855),
            ((1900, 3, 1), -25_508),
            ((0, 1, 1), -719_528),
            ((0, 2, 29), -719_469),
            ((9999, 12, 31), 2_932_896),
            ((1600, 2, 29), -135_081),
        ];
        for &((y, m, d), days) in cases {
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
            assert_eq!(civil_from_days(days), (y, m, d), "{days}");
        }
        // Every day across a few 400-year cycles round-trips and advances by one.
        let mut prev = civil_from_days(-800_000);
        for days in -799_999..3_000_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            assert!(d >= 1 && d <= days_in_month(y, m));
            let next_day = if prev.2 == days_in_month(prev.0, prev.1) {
                if prev.1 == 12 {
                    (prev.0 + 1, 1, 1)
                } else {
                    (prev.0, prev.1 + 1, 1)
                }
            } else {
                (prev.0, prev.1, prev.2 + 1)
            };
            assert_eq!((y, m, d), next_day);
            prev = (y, m, d);
        }
    }

    #[test]
    fn parses_known_instants() {
        let cases: &[(&str, (i64, u32))] = &[
            ("1970-01-01T00:00:00Z", (0, 0)),
            ("1970-01-01T00:00:01Z", (1, 0)),
            ("1969-12-31T23:59:59Z", (-1, 0)),
            ("1969-12-31T23:59:59.5Z", (-1, 500_000_000)),
            ("2024-05-01T10:00:00Z", (1_714_557_600, 0)),
            ("2024-05-01T10:00:00.123456Z", (1_714_557_600, 123_456_000)),
            ("2024-05-01T10:00:00.1Z", (1_714_557_600, 100_000_000)),
            (
                "2024-05-01T10:00:00.123456789Z",
                (1_714_557_600, 123_456_789),
            ),
            (
                "2024-05-01T10:00:00.1234567891Z",
                (1_714_557_600, 123_456_789),
            ),
            ("2024-05-01T10:00:00.000000001Z", (1_714_557_600, 1)),
            ("2024-05-01t10:00:00z", (1_714_557_600, 0)),
            ("2024-05-01T12:00:00+02:00", (1_714_557_600, 0)),
            ("2024-05-01T05:30:00-04:30", (1_714_557_600, 0)),
            ("2024-05-01T10:00:00+00:00", (1_714_557_600, 0)),
            ("2024-05-01T10:00:00-00:00", (1_714_557_600, 0)),
            ("2024-05-02T09:59:00+23:59", (1_714_557_600, 0)),
            ("2024-02-29T00:00:00Z", (1_709_164_800, 0)),
            ("2000-02-29T23:59:59Z", (951_868_799, 0)),
            ("2038-01-19T03:14:07Z", (2_147_483_647, 0)),
            ("2038-01-19T03:14:08Z", (2_147_483_648, 0)),
            ("9999-12-31T23:59:59Z", (MAX_UNIX_SECS, 0)),
            (
                "9999-12-31T23:59:59.999999999Z",
                (MAX_UNIX_SECS, 999_999_999),
            ),
            ("0000-01-01T00:00:00Z", (MIN_UNIX_SECS, 0)),
            ("0000-01-01T00:00:00+01:00", (MIN_UNIX_SECS - 3600, 0)),
            ("1900-01-01T00:00:00Z", (-2_208_988_800, 0)),
        ];
        for &(text, expected) in cases {
            assert_eq!(ts(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn rejects_invalid_timestamps() {
        let cases: &[(&str, &str)] = &[
            ("", "expected a four-digit year"),
            ("2023-02-29T00:00:00Z", "day out of range for month"),
            ("1900-02-29T00:00:00Z", "day out of range for month"),
            ("2024-04-31T00:00:00Z", "day out of range for month"),
            ("2024-01-00T00:00:00Z", "day out of range for month"),
            ("2024-01-32T00:00:00Z", "day out of range for month"),
            ("2024-00-01T00:00:00Z", "month out of range"),
            ("2024-13-01T00:00:00Z", "month out of range"),
            ("2024-01-01T24:00:00Z", "hour out of range"),
            ("2024-01-01T00:60:00Z", "minute out of range"),
            ("2024-01-01T00:00:60Z", "second out of range"),
            (
                "2024-01-01T00:00:00",
                "expected 'Z' or a '+hh:mm'/'-hh:mm' offset",
            ),
            ("2024-01-01T00:00:00.Z", "expected digits after '.'"),
            ("2024-01-01T00:00:00+0200", "expected ':' in the offset"),
            ("2024-01-01T00:00:00+24:00", "offset out of range"),
            ("2024-01-01T00:00:00+02:60", "offset out of range"),
            (
                "2024-01-01T00:00:00+2:00",
                "expected a two-digit offset hour",
            ),
            ("2024-01-01 00:00:00Z", "expected 'T' between date and time"),
            ("2024-1-01T00:00:00Z", "expected a two-digit month"),
            ("24-01-01T00:00:00Z", "expected a four-digit year"),
            ("2024/01-01T00:00:00Z", "expected '-' after the year"),
            ("+2024-01-01T00:00:00Z", "expected a four-digit year"),
            (
                "2024-01-01T00:00:00ZZ",
                "unexpected text after the timestamp",
            ),
            (
                "2024-01-01T00:00:00Z ",
                "unexpected text after the timestamp",
            ),
            ("2024-01-01T00:00Z", "expected ':' after the minutes"),
            ("2024-01-01", "expected 'T' between date and time"),
            ("２024-01-01T00:00:00Z", "expected a four-digit year"),
            ("2024-01-01T00:00:00.５Z", "expected digits after '.'"),
        ];
        for &(text, reason) in cases {
            let err = Time::from(text).unix_timestamp().unwrap_err();
            assert_eq!(err.reason(), reason, "{text}");
            assert_eq!(err.input(), text);
            assert_eq!(
                err.to_string(),
                format!("invalid RFC 3339 timestamp {text:?}: {reason}")
            );
            assert!(text.parse::<Time>().is_err());
        }
    }

    #[test]
    fn formats_from_unix() {
        let cases: &[(i64, &str)] = &[
            (0, "1970-01-01T00:00:00Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (1_714_557_600, "2024-05-01T10:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (2_147_483_647, "2038-01-19T03:14:07Z"),
            (2_147_483_648, "2038-01-19T03:14:08Z"),
            (MAX_UNIX_SECS, "9999-12-31T23:59:59Z"),
            (MIN_UNIX_SECS, "0000-01-01T00:00:00Z"),
            (i64::MAX, "9999-12-31T23:59:59Z"),
            (i64::MIN, "0000-01-01T00:00:00Z"),
        ];
        for &(secs, text) in cases {
            let t = Time::from_unix(secs);
            assert_eq!(t.as_str(), text, "{secs}");
            let clamped = secs.clamp(MIN_UNIX_SECS, MAX_UNIX_SECS);
            assert_eq!(t.unix_timestamp(), Ok((clamped, 0)));
        }
        // Every second-of-day field is formatted correctly.
        for secs in (1_700_000_000..1_700_200_000).step_by(997) {
            assert_eq!(Time::from_unix(secs).unix_timestamp(), Ok((secs, 0)));
        }
    }

    #[test]
    fn json_round_trips_exact_text() {
        for text in [
            "2024-05-01T10:00:00Z",
            "2024-05-01T12:00:00+02:00",
            "2024-05-01T10:00:00.5Z",
            "not a time",
            "",
            "2023-02-29T00:00:00Z",
        ] {
            let json = serde_json::to_string(text).unwrap();
            let t: Time = serde_json::from_str(&json).unwrap();
            assert_eq!(t.as_str(), text);
            assert_eq!(serde_json::to_string(&t).unwrap(), json);
            let t: Time = serde_json::from_value(serde_json::Value::String(text.into())).unwrap();
            assert_eq!(t.as_str(), text);
        }
        let err = serde_json::from_str::<Time>("12").unwrap_err().to_string();
        assert!(
            err.contains("an RFC 3339 timestamp string for Time"),
            "{err}"
        );
        assert_eq!(serde_json::from_str::<Option<Time>>("null").unwrap(), None);
    }

    #[test]
    fn zero_time_is_null_both_ways() {
        // Go writes its zero time as `null`; an epoch here would be a value the server never sent.
        let t: Time = serde_json::from_str("null").unwrap();
        assert!(t.is_zero() && t == Time::default());
        assert_eq!(serde_json::to_string(&t).unwrap(), "null");
        assert_eq!(serde_json::to_value(&t).unwrap(), serde_json::Value::Null);
        // An empty string is a text, not the zero time.
        let e: Time = serde_json::from_str("\"\"").unwrap();
        assert!(!e.is_zero());
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"\"");
        assert_eq!(t.unix_timestamp().unwrap(), (GO_ZERO_UNIX_SECS, 0));
        assert_eq!(
            Time::from("0001-01-01T00:00:00Z").unix_timestamp(),
            t.unix_timestamp()
        );
        assert!(t < Time::from_unix(MIN_UNIX_SECS) && t < Time::from("nope"));
        assert!(t.to_system_time().is_ok());
        let m: super::super::MicroTime = serde_json::from_str("null").unwrap();
        assert!(m.is_zero());
        assert_eq!(serde_json::to_string(&m).unwrap(), "null");
    }

    #[test]
    fn ordering_is_by_instant_and_consistent_with_eq() {
        let a = Time::from("2024-05-01T10:00:00Z");
        let b = Time::from("2024-05-01T12:00:00+02:00");
        let c = Time::from("2024-05-01T10:00:01Z");
        let early = Time::from("2024-05-01T11:59:59+02:00");
        let bad = Time::from("garbage");
        assert_ne!(a, b);
        assert_ne!(a.cmp(&b), Ordering::Equal);
        assert!(a < c && b < c && early < a && early < b);
        assert!(c < bad);
        assert_eq!(a.cmp(&a.clone()), Ordering::Equal);
        let mut v = vec![bad.clone(), c.clone(), a.clone(), early.clone()];
        v.sort();
        assert_eq!(v, vec![early, a, c, bad]);
    }

    #[test]
    fn system_time_conversions() {
        let t = Time::from("2024-05-01T10:00:00Z");
        let st = t.to_system_time().unwrap();
        assert_eq!(
            st.duration_since(SystemTime::UNIX_EPOCH).unwrap(),
            Duration::from_secs(1_714_557_600)
        );
        assert_eq!(Time::from_system_time(st), t);
        let before = SystemTime::UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(system_time_to_unix(before), (-2, 500_000_000));
        assert_eq!(
            Time::from_system_time(before).as_str(),
            "1969-12-31T23:59:58Z"
        );
        let st = Time::from("1969-12-31T23:59:58.5Z")
            .to_system_time()
            .unwrap();
        assert_eq!(st, before);
        assert!(Time::from("nope").to_system_time().is_err());

        let now = Time::now();
        let (secs, nanos) = now.unix_timestamp().unwrap();
        assert_eq!(nanos, 0);
        assert!(secs > 1_700_000_000);
        assert_eq!(now.as_str().len(), 20);
    }

    #[test]
    fn misc_traits() {
        assert!(Time::default().is_zero());
        assert_eq!(format!("{:?}", Time::default()), "Time(zero)");
        assert_eq!(
            "2024-05-01T10:00:00Z".parse::<Time>().unwrap().to_string(),
            "2024-05-01T10:00:00Z"
        );
        assert_eq!(format!("{:?}", Time::from("x")), "Time(\"x\")");
        assert_eq!(Time::from(String::from("x")).into_string(), "x");
        assert_eq!(Time::from("x").as_ref(), "x");
    }
}
