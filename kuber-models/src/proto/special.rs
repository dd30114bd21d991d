//! The hand-written value types as Kubernetes encodes them in protobuf (their `*_proto.go` and
//! generated `Marshal`): Quantity as its string, Time as seconds (nanos written as zero and
//! dropped on read), MicroTime as seconds and nanos, IntOrString as type/intVal/strVal, the raw
//! JSON types as bytes, and the schema-or-X unions of apiextensions.

use prost::encoding::encode_varint;

use super::wire::{self, Codec, Std, WireType, key, put_str, take_len, varint};
use super::{DecodeError, Message};
use crate::special::{ByteString, IntOrString, MicroTime, Number, Quantity, RawJson, Time};

type R = Result<(), DecodeError>;

/// `double`: eight bytes, little-endian. The model keeps the number's text; a read gives the
/// text Go's JSON writes for the value, so both reads agree.
impl Codec<Number> for Std {
    const WIRE: WireType = WireType::SixtyFourBit;
    fn put(v: &Number, b: &mut Vec<u8>) {
        // Text Go would write differently (`1e3`, `1.50`) would not come back as it was sent.
        if go_float(v.as_f64()) != v.as_str() {
            super::wire::lost();
        }
        b.extend_from_slice(&v.as_f64().to_le_bytes());
    }
    fn put_zero(b: &mut Vec<u8>) {
        b.extend_from_slice(&[0; 8]);
    }
    fn merge(v: &mut Number, b: &mut &[u8], _: u32) -> Result<bool, DecodeError> {
        let Some((bytes, rest)) = b.split_first_chunk::<8>() else {
            return Err(DecodeError::new("8 bytes needed for a double"));
        };
        *b = rest;
        let f = f64::from_le_bytes(*bytes);
        *v = go_float(f)
            .parse()
            .map_err(|_| DecodeError::new(format!("{f} is not a JSON number")))?;
        Ok(f == 0.0)
    }
}

/// A float64 as Go's encoding/json writes it: the shortest digits, positional from 1e-6 to
/// 1e21, else an exponent without padding (`1e-7`, `1.5e+21`).
fn go_float(f: f64) -> String {
    let a = f.abs();
    if a == 0.0 || (1e-6..1e21).contains(&a) {
        return format!("{f}");
    }
    let text = format!("{f:e}");
    match text.split_once('e') {
        Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
        _ => text,
    }
}

/// `bytes`. A Go `[]byte` is written when not nil, so a present value is never "zero".
impl Codec<ByteString> for Std {
    const WIRE: WireType = WireType::LengthDelimited;
    fn put(v: &ByteString, b: &mut Vec<u8>) {
        encode_varint(v.as_bytes().len() as u64, b);
        b.extend_from_slice(v.as_bytes());
    }
    fn put_zero(b: &mut Vec<u8>) {
        b.push(0);
    }
    fn merge(v: &mut ByteString, b: &mut &[u8], _: u32) -> Result<bool, DecodeError> {
        *v = ByteString(take_len(b)?.to_vec());
        Ok(false)
    }
}

/// `{ optional string string = 1; }`, always written.
impl Message for Quantity {
    const NAME: &'static str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
    fn encode(&self, b: &mut Vec<u8>) {
        key(b, 1, WireType::LengthDelimited);
        put_str(self.as_str(), b);
    }
    fn merge_field(&mut self, n: u32, t: WireType, b: &mut &[u8], d: u32) -> R {
        if n != 1 {
            return wire::skip(t, b);
        }
        let mut s = String::new();
        wire::set_req(&mut s, t, b, d, Std)?;
        *self = Quantity::from(s);
        Ok(())
    }
    fn field_name(n: u32) -> Option<&'static str> {
        (n == 1).then_some("string")
    }
}

/// Seconds and nanos of an instant, or `None` for Go's zero time (written as nothing) and for
/// text that is no timestamp.
fn instant(parsed: Result<(i64, u32), crate::special::TimeError>) -> Option<(i64, u32)> {
    let (secs, nanos) = parsed.ok()?;
    (secs != GO_ZERO_UNIX_SECS || nanos != 0).then_some((secs, nanos))
}

const GO_ZERO_UNIX_SECS: i64 = -62_135_596_800;

fn put_timestamp(b: &mut Vec<u8>, secs: i64, nanos: u32) {
    key(b, 1, WireType::Varint);
    encode_varint(secs as u64, b);
    key(b, 2, WireType::Varint);
    encode_varint(u64::from(nanos), b);
}

/// A timestamp field: seconds (1) or nanos (2), both varints.
fn timestamp_field(n: u32, t: WireType, b: &mut &[u8]) -> Result<Option<(u32, i64)>, DecodeError> {
    if n != 1 && n != 2 {
        wire::skip(t, b)?;
        return Ok(None);
    }
    wire::check(t, WireType::Varint)?;
    Ok(Some((n, varint(b)? as i64)))
}

/// `Timestamp{seconds, nanos}`; Kubernetes writes nanos as 0 and drops them on read, as JSON has
/// seconds only. The zero time is an empty message.
impl Message for Time {
    const NAME: &'static str = "io.k8s.apimachinery.pkg.apis.meta.v1.Time";
    fn encode(&self, b: &mut Vec<u8>) {
        if let Some((secs, _)) = instant(self.unix_timestamp()) {
            put_timestamp(b, secs, 0);
        }
    }
    fn merge_field(&mut self, n: u32, t: WireType, b: &mut &[u8], _: u32) -> R {
        if let Some((1, secs)) = timestamp_field(n, t, b)? {
            *self = if secs == GO_ZERO_UNIX_SECS {
                Time::ZERO
            } else {
                Time::from_unix(secs)
            };
        }
        Ok(())
    }
    fn field_name(n: u32) -> Option<&'static str> {
        ["seconds", "nanos"]
            .get(n.wrapping_sub(1) as usize)
            .copied()
    }
}

/// `Timestamp{seconds, nanos}` with the nanos kept (to the microsecond, as its JSON).
impl Message for MicroTime {
    const NAME: &'static str = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime";
    fn encode(&self, b: &mut Vec<u8>) {
        if let Some((secs, nanos)) = instant(self.unix_timestamp()) {
            put_timestamp(b, secs, nanos);
        }
    }
    fn merge_field(&mut self, n: u32, t: WireType, b: &mut &[u8], _: u32) -> R {
        let Some((n, v)) = timestamp_field(n, t, b)? else {
            return Ok(());
        };
        let (secs, nanos) = match self.unix_timestamp() {
            Ok(now) if !self.is_zero() => now,
            _ => (0, 0),
        };
        let (secs, nanos) = if n == 1 {
            (v, nanos)
        } else {
            (secs, (v as u32).min(999_999_999))
        };
        *self = MicroTime::from_unix(secs, nanos / 1000);
        Ok(())
    }
    fn field_name(n: u32) -> Option<&'static str> {
        ["seconds", "nanos"]
            .get(n.wrapping_sub(1) as usize)
            .copied()
    }
}

/// `{type, intVal, strVal}`, all three always written; type 1 is a string.
impl Message for IntOrString {
    const NAME: &'static str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
    fn encode(&self, b: &mut Vec<u8>) {
        let (ty, int, s) = match self {
            IntOrString::Int(i) => (0, *i, ""),
            IntOrString::String(s) => (1, 0, s.as_str()),
        };
        key(b, 1, WireType::Varint);
        encode_varint(ty, b);
        wire::req(b, 2, &int, Std);
        key(b, 3, WireType::LengthDelimited);
        put_str(s, b);
    }
    // gogo writes type first; a value of the other kind than `type` says is ignored, as in Go.
    fn merge_field(&mut self, n: u32, t: WireType, b: &mut &[u8], d: u32) -> R {
        match n {
            1 => {
                wire::check(t, WireType::Varint)?;
                let is_string = varint(b)? == 1;
                if is_string != matches!(self, IntOrString::String(_)) {
                    *self = if is_string {
                        IntOrString::String(String::new())
                    } else {
                        IntOrString::Int(0)
                    };
                }
                Ok(())
            }
            2 => {
                let mut i = 0i32;
                wire::set_req(&mut i, t, b, d, Std)?;
                if let IntOrString::Int(v) = self {
                    *v = i;
                }
                Ok(())
            }
            3 => {
                let mut s = String::new();
                wire::set_req(&mut s, t, b, d, Std)?;
                if let IntOrString::String(v) = self {
                    *v = s;
                }
                Ok(())
            }
            _ => wire::skip(t, b),
        }
    }
    fn field_name(n: u32) -> Option<&'static str> {
        ["type", "intVal", "strVal"]
            .get(n.wrapping_sub(1) as usize)
            .copied()
    }
}

/// `RawExtension`, `FieldsV1` and apiextensions' `JSON`: `{ optional bytes raw = 1; }` holding
/// JSON text. Go's nil is an empty message, which the model has as an unset field.
impl Message for RawJson {
    const NAME: &'static str = "io.k8s.apimachinery.pkg.runtime.RawExtension";
    fn encode(&self, b: &mut Vec<u8>) {
        key(b, 1, WireType::LengthDelimited);
        put_str(self.as_str(), b);
    }
    fn merge_field(&mut self, n: u32, t: WireType, b: &mut &[u8], _: u32) -> R {
        if n != 1 {
            return wire::skip(t, b);
        }
        wire::check(t, WireType::LengthDelimited)?;
        let bytes = take_len(b)?;
        let text =
            std::str::from_utf8(bytes).map_err(|_| DecodeError::new("raw JSON: not UTF-8"))?;
        *self = text
            .parse()
            .map_err(|e| DecodeError::new(format!("raw JSON: {e}")))?;
        Ok(())
    }
    fn field_name(n: u32) -> Option<&'static str> {
        (n == 1).then_some("raw")
    }
    fn encode_zero(_: &mut Vec<u8>) {}
}

/// Field 1 of `JSONSchemaPropsOrArray` and `…OrStringArray`, a schema, or field 2, one element of
/// their list (`list` finds it, `empty` makes the list variant).
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub fn schema_or_list<U, S: Message, E: Default>(
    u: &mut U,
    n: u32,
    t: WireType,
    b: &mut &[u8],
    d: u32,
    schema: fn(Box<S>) -> U,
    list: fn(&mut U) -> Option<&mut Vec<E>>,
    empty: fn() -> U,
) -> R
where
    Std: Codec<E>,
{
    match n {
        1 => {
            let mut s = S::default();
            wire::set_req(&mut s, t, b, d, Std)?;
            *u = schema(Box::new(s));
            Ok(())
        }
        2 => {
            if list(u).is_none() {
                *u = empty();
            }
            match list(u) {
                Some(items) => wire::push(items, t, b, d, Std),
                None => Ok(()),
            }
        }
        _ => wire::skip(t, b),
    }
}

/// The schema-or-X unions hold `JSONSchemaProps`, whose impl is generated only when the
/// documents have protobuf facts: the generator invokes this beside it.
#[doc(hidden)]
#[macro_export]
macro_rules! __schema_unions {
    () => {
        const _: () = {
    use $crate::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
    use $crate::proto::wire::{self, Std, WireType};
    use $crate::proto::{DecodeError, Message};
    use $crate::special::{
        JSONSchemaPropsOrArray, JSONSchemaPropsOrBool, JSONSchemaPropsOrStringArray,
    };
    type R = Result<(), DecodeError>;

    /// `{ schema = 1; repeated jSONSchemas = 2; }`.
    impl Message for JSONSchemaPropsOrArray {
        const NAME: &'static str =
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray";
        fn encode(&self, b: &mut Vec<u8>) {
            match self {
                Self::Schema(s) => wire::req(b, 1, &**s, Std),
                Self::Schemas(list) => wire::list(b, 2, list, Std),
            }
        }
        fn merge_field(&mut self, n: u32, t: WireType, b: &mut &[u8], d: u32) -> R {
            $crate::proto::schema_or_list(self, n, t, b, d, Self::Schema, |u| match u {
                Self::Schemas(list) => Some(list),
                Self::Schema(_) => None,
            }, || Self::Schemas(Vec::new()))
        }
        fn field_name(n: u32) -> Option<&'static str> {
            ["schema", "jSONSchemas"]
                .get(n.wrapping_sub(1) as usize)
                .copied()
        }
    }

    /// `{ allows = 1; schema = 2; }`: a schema allows, and Go writes `allows` always.
    impl Message for JSONSchemaPropsOrBool {
        const NAME: &'static str =
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool";
        fn encode(&self, b: &mut Vec<u8>) {
            match self {
                Self::Bool(v) => wire::req(b, 1, v, Std),
                Self::Schema(s) => {
                    wire::req(b, 1, &true, Std);
                    wire::req(b, 2, &**s, Std);
                }
            }
        }
        fn merge_field(&mut self, n: u32, t: WireType, b: &mut &[u8], d: u32) -> R {
            match n {
                1 => {
                    let mut v = false;
                    wire::set_req(&mut v, t, b, d, Std)?;
                    if let Self::Bool(old) = self {
                        *old = v;
                    }
                    Ok(())
                }
                2 => {
                    let mut s = JSONSchemaProps::default();
                    wire::set_req(&mut s, t, b, d, Std)?;
                    *self = Self::Schema(Box::new(s));
                    Ok(())
                }
                _ => wire::skip(t, b),
            }
        }
        fn field_name(n: u32) -> Option<&'static str> {
            ["allows", "schema"]
                .get(n.wrapping_sub(1) as usize)
                .copied()
        }
    }

    /// `{ schema = 1; repeated string property = 2; }`.
    impl Message for JSONSchemaPropsOrStringArray {
        const NAME: &'static str =
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray";
        fn encode(&self, b: &mut Vec<u8>) {
            match self {
                Self::Schema(s) => wire::req(b, 1, &**s, Std),
                Self::Strings(list) => wire::list(b, 2, list, Std),
            }
        }
        fn merge_field(&mut self, n: u32, t: WireType, b: &mut &[u8], d: u32) -> R {
            $crate::proto::schema_or_list(self, n, t, b, d, Self::Schema, |u| match u {
                Self::Strings(list) => Some(list),
                Self::Schema(_) => None,
            }, || Self::Strings(Vec::new()))
        }
        fn field_name(n: u32) -> Option<&'static str> {
            ["schema", "property"]
                .get(n.wrapping_sub(1) as usize)
                .copied()
        }
    }
        };
    };
}
pub use __schema_unions as schema_unions;

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes of a message, and its value read back.
    fn bytes<T: Message>(v: &T) -> Vec<u8> {
        let mut b = Vec::new();
        v.encode(&mut b);
        b
    }

    const SECS: [u8; 5] = [0xa0, 0xa5, 0xc8, 0xb1, 0x06]; // 1714557600: 2024-05-01T10:00:00Z

    #[test]
    fn quantity_is_its_string() {
        let q = Quantity::from("100m");
        assert_eq!(bytes(&q), [0x0a, 4, b'1', b'0', b'0', b'm']);
        assert_eq!(Quantity::decode(&bytes(&q)).unwrap(), q);
        // Go's zero Quantity writes "0".
        assert_eq!(bytes(&Quantity::default()), [0x0a, 1, b'0']);
    }

    #[test]
    fn time_is_seconds_with_zero_nanos() {
        let t = Time::from("2024-05-01T10:00:00Z");
        let mut want = vec![0x08];
        want.extend_from_slice(&SECS);
        want.extend_from_slice(&[0x10, 0x00]);
        assert_eq!(bytes(&t), want);
        assert_eq!(Time::decode(&want).unwrap(), t);
        // Nanos are dropped on read, as Kubernetes' Unmarshal does.
        let mut with_nanos = want.clone();
        with_nanos.truncate(with_nanos.len() - 1);
        with_nanos.push(0x05);
        assert_eq!(Time::decode(&with_nanos).unwrap(), t);
        // The zero time is an empty message, and an empty message the zero time.
        assert!(bytes(&Time::ZERO).is_empty());
        assert!(Time::decode(&[]).unwrap().is_zero());
        // Go's zero instant spelled out is the zero time too.
        assert!(bytes(&Time::from("0001-01-01T00:00:00Z")).is_empty());
    }

    #[test]
    fn micro_time_keeps_its_nanos() {
        let t = MicroTime::from("2024-05-01T10:00:00.123456Z");
        let mut want = vec![0x08];
        want.extend_from_slice(&SECS);
        want.extend_from_slice(&[0x10, 0x80, 0x94, 0xef, 0x3a]); // 123456000
        assert_eq!(bytes(&t), want);
        assert_eq!(MicroTime::decode(&want).unwrap(), t);
        assert!(bytes(&MicroTime::ZERO).is_empty());
    }

    #[test]
    fn int_or_string_writes_all_three_fields() {
        let i = IntOrString::Int(80);
        assert_eq!(bytes(&i), [0x08, 0, 0x10, 80, 0x1a, 0]);
        let s = IntOrString::String("http".into());
        assert_eq!(
            bytes(&s),
            [0x08, 1, 0x10, 0, 0x1a, 4, b'h', b't', b't', b'p']
        );
        assert_eq!(IntOrString::decode(&bytes(&i)).unwrap(), i);
        assert_eq!(IntOrString::decode(&bytes(&s)).unwrap(), s);
        let neg = IntOrString::Int(-5);
        let mut want = vec![0x08, 0, 0x10];
        want.extend_from_slice(&[0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        want.extend_from_slice(&[0x1a, 0]);
        assert_eq!(bytes(&neg), want);
        assert_eq!(IntOrString::decode(&want).unwrap(), neg);
    }

    #[test]
    fn raw_json_is_bytes_of_json() {
        let r: RawJson = r#"{"f:metadata":{}}"#.parse().unwrap();
        let b = bytes(&r);
        assert_eq!(b[..2], [0x0a, 17]);
        assert_eq!(&b[2..], br#"{"f:metadata":{}}"#);
        assert_eq!(<RawJson as Message>::decode(&b).unwrap(), r);
        let err = <RawJson as Message>::decode(&[0x0a, 1, b'{']).unwrap_err();
        assert!(err.to_string().contains("raw JSON"), "{err}");
        let mut zero = Vec::new();
        RawJson::encode_zero(&mut zero);
        assert!(zero.is_empty(), "Go's nil Raw writes nothing");
    }

    #[test]
    fn bytes_doubles_and_durations() {
        let mut b = Vec::new();
        wire::req(&mut b, 1, &ByteString(vec![0, 1]), Std);
        assert_eq!(b, [0x0a, 2, 0, 1]);
        b.clear();
        wire::req(&mut b, 1, &Number::from_f64(0.5).unwrap(), Std);
        assert_eq!(b, [0x09, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f]);
        let mut n = Number::default();
        let mut rest = &b[1..];
        <Std as Codec<Number>>::merge(&mut n, &mut rest, 0).unwrap();
        assert_eq!(n.as_str(), "0.5");
        for (f, text) in [
            (1.0, "1"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (123.25, "123.25"),
        ] {
            assert_eq!(go_float(f), text);
        }
        // metav1.Duration: { int64 duration = 1 } in nanoseconds.
        b.clear();
        wire::req(&mut b, 3, &"1m0s".to_owned(), wire::Duration);
        assert_eq!(b, [0x1a, 7, 0x08, 0x80, 0xb0, 0x9d, 0xc2, 0xdf, 0x01]);
        let mut text = String::new();
        let mut rest = &b[1..];
        <wire::Duration as Codec<String>>::merge(&mut text, &mut rest, 0).unwrap();
        assert_eq!(text, "1m0s");
    }
}
