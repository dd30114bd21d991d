//! `Quantity`: a Kubernetes resource amount such as `"100m"` or `"1Gi"`.

use std::error::Error as StdError;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, MapAccess, Unexpected, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::{MapKeySeed, NUMBER_TOKEN};

/// A resource quantity (`resource.Quantity`), e.g. CPU `"250m"`, memory
/// `"512Mi"` or a plain count `"3"`.
///
/// The value keeps the text it was given and never normalises it, so what
/// was read is what gets written back. Decoding does not validate the text;
/// the numeric accessors ([`to_f64`](Self::to_f64),
/// [`to_millis`](Self::to_millis), [`to_int`](Self::to_int)) parse it on
/// demand and report malformed text as a [`QuantityError`].
///
/// # Wire form
///
/// Normally a JSON string. Some servers and hand-written manifests use a
/// plain JSON number (`1`, `0.5`) instead; such a quantity remembers that it
/// was a number ([`is_number`](Self::is_number)) and is written back as a
/// number. Integers come back with the same text. Other numbers are held as
/// an `f64` and written back in serde_json's shortest form, so `0.5` stays
/// `0.5` but a non-canonical spelling such as `1e3` comes back as `1000.0`.
///
/// # Grammar
///
/// `[+-]digits[.digits]` followed by nothing, a binary suffix
/// (`Ki Mi Gi Ti Pi Ei`, powers of 1024), a decimal suffix
/// (`n u m k M G T P E`) or a decimal exponent (`e3`, `E-2`, `e+6`).
///
/// # Equality
///
/// `==` compares the text (and the JSON kind), not the amount: `"1Gi"` and
/// `"1024Mi"` are different values. Compare [`to_millis`](Self::to_millis)
/// results to compare amounts.
///
/// ```
/// # use kuber_models::special::Quantity;
/// let cpu = Quantity::from("250m");
/// assert_eq!(cpu.to_millis().unwrap(), 250);
/// assert_eq!(Quantity::from("1Ki").to_int().unwrap(), 1024);
/// assert_eq!(serde_json::to_string(&cpu).unwrap(), r#""250m""#);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Quantity {
    text: String,
    // True when the wire form was a JSON number rather than a string.
    number: bool,
}

impl Quantity {
    /// The quantity text, e.g. `"100m"`. For a quantity that came as a JSON
    /// number this is the number's JSON text, e.g. `"0.5"`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Consumes the quantity and returns its text.
    pub fn into_string(self) -> String {
        self.text
    }

    /// Whether this quantity was decoded from a JSON number (and will be
    /// encoded as one).
    pub fn is_number(&self) -> bool {
        self.number
    }

    /// Parses the quantity into the nearest `f64`.
    ///
    /// Fails if the text is malformed or the amount does not fit in a finite
    /// `f64`.
    pub fn to_f64(&self) -> Result<f64, QuantityError> {
        let p = self.parse()?;
        // Rust's float parser rounds correctly, so let it do the decimal part.
        let mut decimal = String::with_capacity(p.int.len() + p.frac.len() + 24);
        decimal.push_str(p.int);
        decimal.push_str(p.frac);
        decimal.push('e');
        decimal.push_str(&p.exp10.to_string());
        let magnitude = decimal
            .parse::<f64>()
            .map_err(|_| self.error(QuantityErrorKind::InvalidNumber))?;
        // Multiplying by a power of two is exact unless it overflows.
        let magnitude = magnitude * (1u64 << p.exp2) as f64;
        if !magnitude.is_finite() {
            return Err(self.error(QuantityErrorKind::OutOfRange));
        }
        Ok(if p.negative && magnitude != 0.0 {
            -magnitude
        } else {
            magnitude
        })
    }

    /// The amount in thousandths, rounded away from zero like Kubernetes'
    /// `MilliValue`: `"100m"` → `100`, `"1.5"` → `1500`, `"0.1m"` → `1`.
    ///
    /// The computation is exact. Fails if the text is malformed or the
    /// result does not fit in an `i128`.
    pub fn to_millis(&self) -> Result<i128, QuantityError> {
        self.to_scaled(3)
    }

    /// The amount as a whole number, rounded away from zero like Kubernetes'
    /// `Value`: `"1Ki"` → `1024`, `"100m"` → `1`, `"-1.5"` → `-2`.
    ///
    /// The computation is exact. Fails if the text is malformed or the
    /// result does not fit in an `i128`.
    pub fn to_int(&self) -> Result<i128, QuantityError> {
        self.to_scaled(0)
    }

    fn error(&self, kind: QuantityErrorKind) -> QuantityError {
        QuantityError {
            quantity: self.text.clone(),
            kind,
        }
    }

    fn parse(&self) -> Result<Parsed<'_>, QuantityError> {
        parse(&self.text).map_err(|kind| self.error(kind))
    }

    // Value × 10^scale, rounded away from zero.
    fn to_scaled(&self, scale: i64) -> Result<i128, QuantityError> {
        let p = self.parse()?;
        let out_of_range = || self.error(QuantityErrorKind::OutOfRange);

        // Exact decimal digits of the magnitude (most significant first),
        // multiplied by the binary suffix.
        let mut digits: Vec<u8> = p
            .int
            .bytes()
            .chain(p.frac.bytes())
            .skip_while(|&b| b == b'0')
            .map(|b| b - b'0')
            .collect();
        if digits.is_empty() {
            return Ok(0);
        }
        if p.exp2 > 0 {
            multiply_digits(&mut digits, 1u64 << p.exp2);
        }

        // The magnitude is digits × 10^exp.
        let exp = p.exp10.checked_add(scale).ok_or_else(out_of_range)?;
        let (whole, round_up): (&[u8], bool) = if exp >= 0 {
            (&digits, false)
        } else {
            let drop = usize::try_from(exp.unsigned_abs()).unwrap_or(usize::MAX);
            let keep = digits.len().saturating_sub(drop);
            let (whole, dropped) = digits.split_at(keep);
            (whole, dropped.iter().any(|&d| d != 0))
        };

        let zeros = if exp > 0 { exp.unsigned_abs() } else { 0 };
        // i128 holds at most 39 decimal digits; bail out before looping.
        if (whole.len() as u64).saturating_add(zeros) > 39 {
            return Err(out_of_range());
        }
        let mut magnitude: u128 = 0;
        for &d in whole.iter().chain(std::iter::repeat_n(&0, zeros as usize)) {
            magnitude = magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(u128::from(d)))
                .ok_or_else(out_of_range)?;
        }
        if round_up {
            magnitude = magnitude.checked_add(1).ok_or_else(out_of_range)?;
        }
        if p.negative {
            0i128
                .checked_sub_unsigned(magnitude)
                .ok_or_else(out_of_range)
        } else {
            i128::try_from(magnitude).map_err(|_| out_of_range())
        }
    }
}

// Multiplies a big-endian decimal digit string in place by `factor`.
fn multiply_digits(digits: &mut Vec<u8>, factor: u64) {
    let mut carry: u128 = 0;
    for d in digits.iter_mut().rev() {
        let v = u128::from(*d) * u128::from(factor) + carry;
        *d = (v % 10) as u8;
        carry = v / 10;
    }
    while carry > 0 {
        digits.insert(0, (carry % 10) as u8);
        carry /= 10;
    }
}

/// A syntactically valid quantity split into its parts.
struct Parsed<'a> {
    negative: bool,
    /// Digits before the decimal point (may be empty).
    int: &'a str,
    /// Digits after the decimal point (may be empty).
    frac: &'a str,
    /// Power of ten applied to `int ++ frac` read as one integer.
    exp10: i64,
    /// Power of two from a binary suffix.
    exp2: u32,
}

fn parse(text: &str) -> Result<Parsed<'_>, QuantityErrorKind> {
    if text.is_empty() {
        return Err(QuantityErrorKind::Empty);
    }
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let int_len = digit_prefix(rest);
    let int = &rest[..int_len];
    let rest = &rest[int_len..];
    let (frac, suffix) = match rest.strip_prefix('.') {
        Some(after_dot) => {
            let n = digit_prefix(after_dot);
            (&after_dot[..n], &after_dot[n..])
        }
        None => ("", rest),
    };
    if int.is_empty() && frac.is_empty() {
        return Err(QuantityErrorKind::InvalidNumber);
    }

    let (exp10, exp2): (i64, u32) = match suffix {
        "" => (0, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        _ => match parse_exponent(suffix) {
            Some(Ok(e)) => (e, 0),
            Some(Err(kind)) => return Err(kind),
            None => return Err(QuantityErrorKind::UnknownSuffix(suffix.to_owned())),
        },
    };
    // `frac` digits are folded into the integer, so shift the exponent back.
    let frac_len = i64::try_from(frac.len()).map_err(|_| QuantityErrorKind::OutOfRange)?;
    let exp10 = exp10
        .checked_sub(frac_len)
        .ok_or(QuantityErrorKind::OutOfRange)?;
    Ok(Parsed {
        negative,
        int,
        frac,
        exp10,
        exp2,
    })
}

fn digit_prefix(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

// `e<signed integer>` / `E<signed integer>`; None if it is not of that shape.
fn parse_exponent(suffix: &str) -> Option<Result<i64, QuantityErrorKind>> {
    let rest = suffix
        .strip_prefix('e')
        .or_else(|| suffix.strip_prefix('E'))?;
    let (negative, digits) = match rest.as_bytes().first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    if digits.is_empty() || digit_prefix(digits) != digits.len() {
        return None;
    }
    let mut value: i64 = 0;
    for b in digits.bytes() {
        let d = i64::from(b - b'0');
        value = match value.checked_mul(10).and_then(|v| v.checked_add(d)) {
            Some(v) => v,
            None => return Some(Err(QuantityErrorKind::OutOfRange)),
        };
    }
    Some(Ok(if negative { -value } else { value }))
}

/// The string `"0"`, the zero amount.
impl Default for Quantity {
    fn default() -> Self {
        Quantity::from("0")
    }
}

/// Wraps the text as a string-form quantity without validating it.
impl From<&str> for Quantity {
    fn from(text: &str) -> Self {
        Quantity::from(text.to_owned())
    }
}

/// Wraps the text as a string-form quantity without validating it.
impl From<String> for Quantity {
    fn from(text: String) -> Self {
        Quantity {
            text,
            number: false,
        }
    }
}

/// Validating constructor: unlike `From<&str>`, fails on text that is not a
/// well-formed quantity.
impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let q = Quantity::from(text);
        q.parse()?;
        Ok(q)
    }
}

impl AsRef<str> for Quantity {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

/// Writes the text as is, e.g. `100m`.
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `Quantity("100m")` for the string form, `Quantity(0.5)` for the number
/// form.
impl fmt::Debug for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.number {
            write!(f, "Quantity({})", self.text)
        } else {
            write!(f, "Quantity({:?})", self.text)
        }
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.number {
            // The text was produced from an i64/u64/f64 when decoding, so
            // one of these parses succeeds and gives back the same value.
            if let Ok(i) = self.text.parse::<i64>() {
                return serializer.serialize_i64(i);
            }
            if let Ok(u) = self.text.parse::<u64>() {
                return serializer.serialize_u64(u);
            }
            if let Ok(f) = self.text.parse::<f64>() {
                return serializer.serialize_f64(f);
            }
        }
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(QuantityVisitor)
    }
}

struct QuantityVisitor;

impl QuantityVisitor {
    fn number(text: String) -> Quantity {
        Quantity { text, number: true }
    }
}

impl<'de> Visitor<'de> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a quantity string like \"100m\" or a finite number for Quantity")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Quantity::from(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Quantity::from(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Self::number(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Self::number(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // Same text serde_json writes for this f64, so re-encoding matches.
        match serde_json::Number::from_f64(v) {
            Some(n) => Ok(Self::number(n.to_string())),
            None => Err(E::invalid_value(Unexpected::Float(v), &self)),
        }
    }

    // serde_json with `arbitrary_precision` (enabled elsewhere in the build)
    // hands numbers over as a one-entry map holding the number's text.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        match map.next_key_seed(MapKeySeed)? {
            Some(key) if key.is(NUMBER_TOKEN) => {
                let text: String = map.next_value()?;
                if let Ok(i) = text.parse::<i64>() {
                    return self.visit_i64(i);
                }
                if let Ok(u) = text.parse::<u64>() {
                    return self.visit_u64(u);
                }
                match text.parse::<f64>() {
                    Ok(f) => self.visit_f64(f),
                    Err(_) => Err(de::Error::invalid_value(
                        Unexpected::Other(&format!("number {text}")),
                        &self,
                    )),
                }
            }
            _ => Err(de::Error::invalid_type(Unexpected::Map, &self)),
        }
    }
}

/// Why a [`Quantity`] could not be parsed or converted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuantityError {
    quantity: String,
    kind: QuantityErrorKind,
}

impl QuantityError {
    /// The offending quantity text.
    pub fn quantity(&self) -> &str {
        &self.quantity
    }

    /// What was wrong with it.
    pub fn kind(&self) -> &QuantityErrorKind {
        &self.kind
    }
}

/// The category of a [`QuantityError`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum QuantityErrorKind {
    /// The text is empty.
    Empty,
    /// There is no well-formed number at the start of the text.
    InvalidNumber,
    /// The number is followed by something that is not a known suffix or
    /// exponent; holds that trailing text.
    UnknownSuffix(String),
    /// The amount (or its exponent) does not fit the requested type.
    OutOfRange,
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = &self.quantity;
        match &self.kind {
            QuantityErrorKind::Empty => write!(f, "invalid quantity \"\": empty string"),
            QuantityErrorKind::InvalidNumber => write!(
                f,
                "invalid quantity {q:?}: expected a decimal number with an optional sign, like \"1.5\" or \"-2\""
            ),
            QuantityErrorKind::UnknownSuffix(s) => write!(
                f,
                "invalid quantity {q:?}: unknown suffix {s:?} (expected one of Ki Mi Gi Ti Pi Ei, n u m k M G T P E, or an exponent like e3)"
            ),
            QuantityErrorKind::OutOfRange => write!(f, "quantity {q:?} is out of range"),
        }
    }
}

impl StdError for QuantityError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::from(s)
    }

    #[test]
    fn millis_of_known_values() {
        let cases: &[(&str, i128)] = &[
            ("0", 0),
            ("-0", 0),
            ("0.0", 0),
            ("000", 0),
            ("1", 1000),
            ("+1", 1000),
            ("-1", -1000),
            ("100m", 100),
            ("1m", 1),
            ("0.5", 500),
            (".5", 500),
            ("5.", 5000),
            ("1.5", 1500),
            ("1.5k", 1_500_000),
            ("0.1m", 1),
            ("-0.1m", -1),
            ("1.0001m", 2),
            ("100u", 1),
            ("1n", 1),
            ("1000000n", 1),
            ("1000001n", 2),
            ("999999999n", 1000),
            ("1k", 1_000_000),
            ("1M", 1_000_000_000),
            ("1G", 1_000_000_000_000),
            ("1T", 1_000_000_000_000_000),
            ("1P", 1_000_000_000_000_000_000),
            ("1E", 1_000_000_000_000_000_000_000),
            ("1Ki", 1_024_000),
            ("1Mi", 1_048_576_000),
            ("1Gi", 1_073_741_824_000),
            ("1.5Gi", 1_610_612_736_000),
            ("1Ti", 1_099_511_627_776_000),
            ("1Pi", 1_125_899_906_842_624_000),
            ("1Ei", 1_152_921_504_606_846_976_000),
            ("0.5Ki", 512_000),
            ("0.001Ki", 1024),
            ("0.0001Ki", 103),
            ("1e3", 1_000_000),
            ("1E3", 1_000_000),
            ("1e+3", 1_000_000),
            ("1E-2", 10),
            ("1e-3", 1),
            ("1e-4", 1),
            ("-1e-4", -1),
            ("12e0", 12_000),
            ("1.5e1", 15_000),
            ("1000.0", 1_000_000),
            ("1e20", 100_000_000_000_000_000_000_000),
            ("1e-999999999999", 1),
            ("0e999999999999", 0),
        ];
        for &(text, millis) in cases {
            assert_eq!(q(text).to_millis(), Ok(millis), "{text}");
        }
    }

    #[test]
    fn int_of_known_values() {
        let cases: &[(&str, i128)] = &[
            ("0", 0),
            ("1", 1),
            ("100m", 1),
            ("1000m", 1),
            ("1001m", 2),
            ("-1001m", -2),
            ("-1.5", -2),
            ("2.0", 2),
            ("1Ki", 1024),
            ("64Mi", 67_108_864),
            ("8Ei", 9_223_372_036_854_775_808),
            ("1.5Ki", 1536),
            ("0.1Ki", 103),
            ("3k", 3000),
            ("5G", 5_000_000_000),
            ("1e38", 100_000_000_000_000_000_000_000_000_000_000_000_000),
        ];
        for &(text, value) in cases {
            assert_eq!(q(text).to_int(), Ok(value), "{text}");
        }
    }

    #[test]
    fn i128_limits() {
        let max = i128::MAX.to_string();
        let min = i128::MIN.to_string();
        assert_eq!(q(&max).to_int(), Ok(i128::MAX));
        assert_eq!(q(&min).to_int(), Ok(i128::MIN));
        let err = q(&max).to_millis().unwrap_err();
        assert_eq!(err.kind(), &QuantityErrorKind::OutOfRange);
        assert_eq!(
            err.to_string(),
            format!("quantity \"{max}\" is out of range")
        );
        assert_eq!(
            q("170141183460469231731687303715884105728")
                .to_int()
                .unwrap_err()
                .kind(),
            &QuantityErrorKind::OutOfRange
        );
        assert!(q("1e39").to_int().is_err());
        assert!(q("1e999999999999").to_millis().is_err());
        assert!(q("1e9223372036854775807").to_millis().is_err());
        assert_eq!(
            q("1e99999999999999999999").to_int().unwrap_err().kind(),
            &QuantityErrorKind::OutOfRange
        );
        // Rounding that carries past the limit.
        assert!(
            q("170141183460469231731687303715884105727.5")
                .to_int()
                .is_err()
        );
        assert_eq!(
            q("-170141183460469231731687303715884105727.5").to_int(),
            Ok(i128::MIN)
        );
    }

    #[test]
    fn many_digits_stay_exact() {
        assert_eq!(
            q("1.000000000000000000000000000000000000000001").to_int(),
            Ok(2)
        );
        assert_eq!(
            q("1.000000000000000000000001Ei").to_millis(),
            Ok(1_152_921_504_606_846_976_001)
        );
        assert_eq!(
            q("0000000000000000000000000000000000000000000012").to_int(),
            Ok(12)
        );
    }

    #[test]
    fn f64_of_known_values() {
        let cases: &[(&str, f64)] = &[
            ("0", 0.0),
            ("-0", 0.0),
            ("1", 1.0),
            ("100m", 0.1),
            ("0.5", 0.5),
            ("-2.5", -2.5),
            ("1Ki", 1024.0),
            ("1.5Gi", 1_610_612_736.0),
            ("1Ei", 1_152_921_504_606_846_976.0),
            ("1E", 1e18),
            ("3n", 3e-9),
            ("7u", 7e-6),
            ("1e3", 1000.0),
            ("1E-2", 0.01),
            ("2.5e-3", 0.0025),
            ("12k", 12_000.0),
            ("1e-400", 0.0),
        ];
        for &(text, value) in cases {
            assert_eq!(q(text).to_f64(), Ok(value), "{text}");
        }
        assert_eq!(
            q("1e400").to_f64().unwrap_err().kind(),
            &QuantityErrorKind::OutOfRange
        );
        let huge = format!("{}Ei", "9".repeat(300));
        assert_eq!(
            q(&huge).to_f64().unwrap_err().kind(),
            &QuantityErrorKind::OutOfRange
        );
        assert_eq!(
            q(&huge).to_int().unwrap_err().kind(),
            &QuantityErrorKind::OutOfRange
        );
    }

    #[test]
    fn malformed_values() {
        let cases: &[(&str, QuantityErrorKind)] = &[
            ("", QuantityErrorKind::Empty),
            ("abc", QuantityErrorKind::InvalidNumber),
            ("-", QuantityErrorKind::InvalidNumber),
            ("+", QuantityErrorKind::InvalidNumber),
            (".", QuantityErrorKind::InvalidNumber),
            ("Ki", QuantityErrorKind::InvalidNumber),
            ("--1", QuantityErrorKind::InvalidNumber),
            (" 1", QuantityErrorKind::InvalidNumber),
            ("12Xi", QuantityErrorKind::UnknownSuffix("Xi".into())),
            ("1 ", QuantityErrorKind::UnknownSuffix(" ".into())),
            ("1K", QuantityErrorKind::UnknownSuffix("K".into())),
            ("1ki", QuantityErrorKind::UnknownSuffix("ki".into())),
            ("1KiB", QuantityErrorKind::UnknownSuffix("KiB".into())),
            ("1e", QuantityErrorKind::UnknownSuffix("e".into())),
            ("1e-", QuantityErrorKind::UnknownSuffix("e-".into())),
            ("1e1.5", QuantityErrorKind::UnknownSuffix("e1.5".into())),
            ("1.2.3", QuantityErrorKind::UnknownSuffix(".3".into())),
            ("1mm", QuantityErrorKind::UnknownSuffix("mm".into())),
            ("1m ", QuantityErrorKind::UnknownSuffix("m ".into())),
            ("1µ", QuantityErrorKind::UnknownSuffix("µ".into())),
            ("1e3Ki", QuantityErrorKind::UnknownSuffix("e3Ki".into())),
            ("1Kie3", QuantityErrorKind::UnknownSuffix("Kie3".into())),
        ];
        for (text, kind) in cases {
            let err = q(text).to_millis().unwrap_err();
            assert_eq!(err.kind(), kind, "{text:?}");
            assert_eq!(err.quantity(), *text);
            assert_eq!(q(text).to_f64().unwrap_err().kind(), kind, "{text:?}");
            assert!(text.parse::<Quantity>().is_err(), "{text:?}");
        }
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            q("12Xi").to_f64().unwrap_err().to_string(),
            "invalid quantity \"12Xi\": unknown suffix \"Xi\" (expected one of Ki Mi Gi Ti Pi Ei, n u m k M G T P E, or an exponent like e3)"
        );
        assert_eq!(
            q("x1").to_millis().unwrap_err().to_string(),
            "invalid quantity \"x1\": expected a decimal number with an optional sign, like \"1.5\" or \"-2\""
        );
        assert_eq!(
            q("").to_int().unwrap_err().to_string(),
            "invalid quantity \"\": empty string"
        );
        let err: Box<dyn StdError> = Box::new(q("1e400").to_f64().unwrap_err());
        assert_eq!(err.to_string(), "quantity \"1e400\" is out of range");
    }

    #[test]
    fn string_round_trips() {
        for text in [
            "100m", "1Gi", "0.5", "1e3", "-1.5E-2", "", "garbage", "12Xi", "+1",
        ] {
            let json = serde_json::to_string(text).unwrap();
            let v: Quantity = serde_json::from_str(&json).unwrap();
            assert_eq!(v.as_str(), text);
            assert!(!v.is_number());
            assert_eq!(serde_json::to_string(&v).unwrap(), json);
        }
    }

    #[test]
    fn numbers_stay_numbers() {
        for json in [
            "1",
            "0",
            "-1",
            "0.5",
            "-0.25",
            "1.5",
            "1000.0",
            "9223372036854775807",
            "-9223372036854775808",
            "18446744073709551615",
            "1e+20",
            "1.5e-7",
            "-2.5e+300",
        ] {
            let v: Quantity = serde_json::from_str(json).unwrap();
            assert!(v.is_number(), "{json}");
            assert_eq!(v.as_str(), json);
            assert_eq!(serde_json::to_string(&v).unwrap(), json, "{json}");
            assert_eq!(
                serde_json::to_value(&v).unwrap(),
                serde_json::from_str::<serde_json::Value>(json).unwrap()
            );
        }
        assert_eq!(
            q("1").to_millis(),
            serde_json::from_str::<Quantity>("1").unwrap().to_millis()
        );
        assert_ne!(q("1"), serde_json::from_str::<Quantity>("1").unwrap());
        assert_eq!(
            format!("{:?}", serde_json::from_str::<Quantity>("0.5").unwrap()),
            "Quantity(0.5)"
        );
        assert_eq!(format!("{:?}", q("0.5")), "Quantity(\"0.5\")");
    }

    #[test]
    fn non_canonical_numbers_are_normalised() {
        // Documented: only the f64 survives, written in serde_json's form.
        let v: Quantity = serde_json::from_str("1e3").unwrap();
        assert_eq!(v.as_str(), "1000.0");
        assert_eq!(v.to_millis(), Ok(1_000_000));
        assert_eq!(serde_json::to_string(&v).unwrap(), "1000.0");
        let v: Quantity = serde_json::from_str("0.50").unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "0.5");
    }

    #[test]
    fn rejects_other_json_types() {
        for (json, what) in [
            ("true", "boolean"),
            ("[1]", "sequence"),
            ("{}", "map"),
            ("null", "null"),
        ] {
            let err = serde_json::from_str::<Quantity>(json)
                .unwrap_err()
                .to_string();
            assert!(err.contains(what), "{json}: {err}");
            assert!(err.contains("for Quantity"), "{json}: {err}");
        }
    }

    #[test]
    fn from_value_and_in_maps() {
        let v: Quantity = serde_json::from_value(serde_json::json!("2Gi")).unwrap();
        assert_eq!(v, q("2Gi"));
        let v: Quantity = serde_json::from_value(serde_json::json!(2)).unwrap();
        assert!(v.is_number());
        assert_eq!(v.to_int(), Ok(2));
        let json = r#"{"cpu":"500m","memory":"128Mi","pods":110}"#;
        let m: std::collections::BTreeMap<String, Quantity> = serde_json::from_str(json).unwrap();
        assert_eq!(m["cpu"].to_millis(), Ok(500));
        assert_eq!(m["memory"].to_int(), Ok(134_217_728));
        assert_eq!(m["pods"].to_int(), Ok(110));
        assert_eq!(serde_json::to_string(&m).unwrap(), json);
    }

    #[test]
    fn arbitrary_precision_numbers() {
        use serde::de::value::{Error, MapDeserializer};
        // What serde_json sends when some crate enables `arbitrary_precision`.
        let number = |text: &'static str| {
            Quantity::deserialize(MapDeserializer::<_, Error>::new(
                [(NUMBER_TOKEN, text)].into_iter(),
            ))
        };
        for (text, json) in [
            ("1", "1"),
            ("0.5", "0.5"),
            ("1e3", "1000.0"),
            ("18446744073709551615", "18446744073709551615"),
        ] {
            let v = number(text).unwrap();
            assert!(v.is_number());
            assert_eq!(serde_json::to_string(&v).unwrap(), json);
        }
        assert!(number("1e999").is_err());
        assert!(number("abc").is_err());
    }

    #[test]
    fn constructors_and_traits() {
        assert_eq!(Quantity::default().as_str(), "0");
        assert_eq!(Quantity::default().to_millis(), Ok(0));
        assert_eq!(
            serde_json::to_string(&Quantity::default()).unwrap(),
            "\"0\""
        );
        assert_eq!(Quantity::from(String::from("3")).to_string(), "3");
        assert_eq!("250m".parse::<Quantity>().unwrap(), q("250m"));
        assert_eq!(q("1Gi").as_ref(), "1Gi");
        assert_eq!(q("1Gi").into_string(), "1Gi");
        assert_ne!(q("1Gi"), q("1024Mi"));
        assert_eq!(q("1Gi").to_millis(), q("1024Mi").to_millis());
    }
}
