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
/// shortest text of the value.
impl Codec<Number> for Std {
    const WIRE: WireType = WireType::SixtyFourBit;
    fn put(v: &Number, b: &mut Vec<u8>) {
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
        *v = Number::from_f64(f)
            .ok_or_else(|| DecodeError::new(format!("{f} is not a JSON number")))?;
        Ok(f == 0.0)
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

#[cfg(feature = "apiextensions")]
mod schema {
    use super::*;
    use crate::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
    use crate::special::{
        JSONSchemaPropsOrArray, JSONSchemaPropsOrBool, JSONSchemaPropsOrStringArray,
    };

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
            match n {
                1 => {
                    let mut s = JSONSchemaProps::default();
                    wire::set_req(&mut s, t, b, d, Std)?;
                    *self = Self::Schema(Box::new(s));
                    Ok(())
                }
                2 => {
                    if !matches!(self, Self::Schemas(_)) {
                        *self = Self::Schemas(Vec::new());
                    }
                    match self {
                        Self::Schemas(list) => wire::push(list, t, b, d, Std),
                        Self::Schema(_) => Ok(()),
                    }
                }
                _ => wire::skip(t, b),
            }
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
            match n {
                1 => {
                    let mut s = JSONSchemaProps::default();
                    wire::set_req(&mut s, t, b, d, Std)?;
                    *self = Self::Schema(Box::new(s));
                    Ok(())
                }
                2 => {
                    if !matches!(self, Self::Strings(_)) {
                        *self = Self::Strings(Vec::new());
                    }
                    match self {
                        Self::Strings(list) => wire::push(list, t, b, d, Std),
                        Self::Schema(_) => Ok(()),
                    }
                }
                _ => wire::skip(t, b),
            }
        }
        fn field_name(n: u32) -> Option<&'static str> {
            ["schema", "property"]
                .get(n.wrapping_sub(1) as usize)
                .copied()
        }
    }
}
