//! `ByteString`: binary data carried as base64 text (`format: byte`).

use std::error::Error as StdError;
use std::fmt;

use base64::Engine as _;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Binary data that travels as a standard, padded base64 string
/// (`format: byte`), such as the values of `Secret.data` and
/// `ConfigMap.binaryData`.
///
/// Decoding follows Go's `encoding/json`: the standard alphabet with `=`
/// padding is required, and carriage returns and line feeds anywhere in the
/// text are ignored. Unused low bits of the last character are ignored
/// too, so only canonical base64 re-encodes to the same text.
///
/// `Debug` prints only the length (`ByteString(<12 bytes>)`) so secret
/// values do not end up in logs.
///
/// ```
/// # use kuber_models::special::ByteString;
/// let b: ByteString = serde_json::from_str(r#""aGVsbG8=""#).unwrap();
/// assert_eq!(b.0, b"hello");
/// assert_eq!(format!("{b:?}"), "ByteString(<5 bytes>)");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct ByteString(pub Vec<u8>);

impl ByteString {
    /// Encodes the bytes as standard padded base64.
    pub fn to_base64(&self) -> String {
        encode(&self.0)
    }

    /// Decodes standard padded base64, ignoring `\r` and `\n`.
    pub fn from_base64(text: &str) -> Result<ByteString, Base64Error> {
        decode(text).map(ByteString)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Consumes the value and returns the bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for ByteString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len() {
            1 => f.write_str("ByteString(<1 byte>)"),
            n => write!(f, "ByteString(<{n} bytes>)"),
        }
    }
}

impl From<Vec<u8>> for ByteString {
    fn from(bytes: Vec<u8>) -> Self {
        ByteString(bytes)
    }
}

impl From<&[u8]> for ByteString {
    fn from(bytes: &[u8]) -> Self {
        ByteString(bytes.to_vec())
    }
}

/// The UTF-8 bytes of the string.
impl From<String> for ByteString {
    fn from(text: String) -> Self {
        ByteString(text.into_bytes())
    }
}

/// The UTF-8 bytes of the string.
impl From<&str> for ByteString {
    fn from(text: &str) -> Self {
        ByteString(text.as_bytes().to_vec())
    }
}

impl AsRef<[u8]> for ByteString {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for ByteString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for ByteString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ByteStringVisitor)
    }
}

struct ByteStringVisitor;

impl Visitor<'_> for ByteStringVisitor {
    type Value = ByteString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string for ByteString")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        decode(v).map(ByteString).map_err(|e| {
            E::custom(format_args!(
                "invalid base64 for ByteString: {}",
                e.detail()
            ))
        })
    }
}

/// Why a string is not valid padded standard base64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Base64Error(Base64ErrorKind);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Base64ErrorKind {
    /// Length without line breaks is not a multiple of four.
    Length(usize),
    /// A byte outside the alphabet, at this byte offset of the input.
    Character(char, usize),
    /// `=` somewhere other than the last one or two positions.
    Padding(usize),
}

impl Base64Error {
    fn detail(&self) -> impl fmt::Display + '_ {
        struct Detail<'a>(&'a Base64ErrorKind);
        impl fmt::Display for Detail<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.0 {
                    Base64ErrorKind::Length(n) => write!(
                        f,
                        "length {n} (not counting line breaks) is not a multiple of 4; padding '=' is required"
                    ),
                    Base64ErrorKind::Character(c, at) => {
                        write!(f, "invalid character {c:?} at offset {at}")
                    }
                    Base64ErrorKind::Padding(at) => {
                        write!(f, "misplaced padding '=' at offset {at}")
                    }
                }
            }
        }
        Detail(&self.0)
    }
}

impl fmt::Display for Base64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid base64: {}", self.detail())
    }
}

impl StdError for Base64Error {}

/// Standard alphabet and padding; unused low bits of the last character are ignored, as Go does.
const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

fn encode(bytes: &[u8]) -> String {
    ENGINE.encode(bytes)
}

/// Go's `encoding/json` reading of `[]byte`: the base64 crate decodes, after a check that
/// finds what Go would refuse and says where in `text` (line breaks counted, as Go skips them).
fn decode(text: &str) -> Result<Vec<u8>, Base64Error> {
    // Pair every significant byte with its offset in `text` for messages.
    let significant = || {
        text.bytes()
            .enumerate()
            .filter(|&(_, b)| b != b'\r' && b != b'\n')
    };
    let len = significant().count();
    if len % 4 != 0 {
        return Err(Base64Error(Base64ErrorKind::Length(len)));
    }
    let mut padding_at = None;
    for (index, (offset, byte)) in significant().enumerate() {
        if byte == b'=' {
            // Only the last one or two characters may be padding.
            if index + 2 < len {
                return Err(Base64Error(Base64ErrorKind::Padding(offset)));
            }
            padding_at.get_or_insert(offset);
            continue;
        }
        let valid = byte.is_ascii_alphanumeric() || byte == b'+' || byte == b'/';
        if let (Some(at), true) = (padding_at, valid) {
            // A data character after the padding started.
            return Err(Base64Error(Base64ErrorKind::Padding(at)));
        }
        if !valid {
            let c = text
                .get(offset..)
                .and_then(|s| s.chars().next())
                .unwrap_or('\u{FFFD}');
            return Err(Base64Error(Base64ErrorKind::Character(c, offset)));
        }
    }
    let decoded = if len == text.len() {
        ENGINE.decode(text)
    } else {
        ENGINE.decode(significant().map(|(_, b)| b).collect::<Vec<u8>>())
    };
    // The check above leaves nothing the engine refuses; should it, its offset is reported.
    decoded.map_err(|e| {
        let at = match e {
            base64::DecodeError::InvalidByte(at, _)
            | base64::DecodeError::InvalidLastSymbol { offset: at, .. } => at,
            _ => 0,
        };
        Base64Error(Base64ErrorKind::Padding(at))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        let cases: &[(&[u8], &str)] = &[
            (b"", ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
            (b"\x00", "AA=="),
            (b"\xff\xff\xff", "////"),
            (b"\xfb\xef\xbe", "++++"),
            (b"\x00\x10\x83\x10Q\x87 \x92\x8b0\xd3\x8fA\x14\x93QU\x97a\x96\x9bq\xd7\x9f\x82\x18\xa3\x92Y\xa7\xa2\x9a\xab\xb2\xdb\xaf\xc3\x1c\xb3\xd3]\xb7\xe3\x9e\xbb\xf3\xdf\xbf",
             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
        ];
        for &(bytes, text) in cases {
            assert_eq!(encode(bytes), text);
            assert_eq!(decode(text).unwrap(), bytes, "{text}");
            let json = format!("\"{text}\"");
            let v: ByteString = serde_json::from_str(&json).unwrap();
            assert_eq!(v.0, bytes);
            assert_eq!(serde_json::to_string(&v).unwrap(), json);
        }
    }

    #[test]
    fn all_lengths_and_bytes_round_trip() {
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for n in 0..data.len() {
            let bytes = &data[..n];
            let text = encode(bytes);
            assert_eq!(text.len(), n.div_ceil(3) * 4);
            assert_eq!(decode(&text).unwrap(), bytes);
        }
    }

    #[test]
    fn ignores_line_breaks() {
        assert_eq!(decode("Zm9v\r\nYmFy").unwrap(), b"foobar");
        assert_eq!(decode("\nZ\rm\n9\nv\n").unwrap(), b"foo");
        assert_eq!(decode("Zg=\n=").unwrap(), b"f");
        assert_eq!(decode("\r\n").unwrap(), b"");
    }

    #[test]
    fn ignores_unused_trailing_bits_like_go() {
        assert_eq!(decode("Zh==").unwrap(), b"f");
        assert_eq!(decode("Zm9=").unwrap(), b"fo");
    }

    #[test]
    fn rejects_bad_input() {
        let cases: &[(&str, &str)] = &[
            (
                "abc",
                "length 3 (not counting line breaks) is not a multiple of 4; padding '=' is required",
            ),
            (
                "Zg",
                "length 2 (not counting line breaks) is not a multiple of 4; padding '=' is required",
            ),
            (
                "Zg=",
                "length 3 (not counting line breaks) is not a multiple of 4; padding '=' is required",
            ),
            ("Zm9v!A==", "invalid character '!' at offset 4"),
            ("Zm 9", "invalid character ' ' at offset 2"),
            ("Zm\t9", "invalid character '\\t' at offset 2"),
            ("Zm-_", "invalid character '-' at offset 2"),
            ("Zmé", "invalid character 'é' at offset 2"),
            ("Zg=\nA", "misplaced padding '=' at offset 2"),
            ("Zm9vYmFy\u{0}AAA", "invalid character '\\0' at offset 8"),
            ("====", "misplaced padding '=' at offset 0"),
            ("Z===", "misplaced padding '=' at offset 1"),
            ("Zg==Zg==", "misplaced padding '=' at offset 2"),
            ("Zm=v", "misplaced padding '=' at offset 2"),
            ("Zm9v=AAA", "misplaced padding '=' at offset 4"),
            ("Zg=A", "misplaced padding '=' at offset 2"),
        ];
        for &(text, detail) in cases {
            let err = decode(text).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("invalid base64: {detail}"),
                "{text:?}"
            );
            let json = serde_json::to_string(text).unwrap();
            let err = serde_json::from_str::<ByteString>(&json)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("invalid base64 for ByteString: {detail}")),
                "{text:?}: {err}"
            );
        }
    }

    #[test]
    fn rejects_non_strings() {
        let err = serde_json::from_str::<ByteString>("[1,2]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("a base64 string for ByteString"), "{err}");
    }

    #[test]
    fn debug_hides_contents() {
        let secret = ByteString::from("hunter2");
        assert_eq!(format!("{secret:?}"), "ByteString(<7 bytes>)");
        assert_eq!(
            format!("{:#?}", ByteString::from(&b"x"[..])),
            "ByteString(<1 byte>)"
        );
        assert_eq!(
            format!("{:?}", ByteString::default()),
            "ByteString(<0 bytes>)"
        );
    }

    #[test]
    fn helpers() {
        let b = ByteString::from_base64("aGk=").unwrap();
        assert_eq!(b.as_bytes(), b"hi");
        assert_eq!(b.to_base64(), "aGk=");
        assert_eq!(b.as_ref(), b"hi");
        assert_eq!(ByteString::from(vec![104, 105]), b);
        assert_eq!(ByteString::from(String::from("hi")).into_bytes(), b"hi");
        assert!(ByteString::from_base64("aGk").is_err());
        let v: std::collections::BTreeMap<String, ByteString> =
            serde_json::from_str(r#"{"password":"aHVudGVyMg==","empty":""}"#).unwrap();
        assert_eq!(v["password"].0, b"hunter2");
        assert!(v["empty"].0.is_empty());
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"empty":"","password":"aHVudGVyMg=="}"#
        );
        let v: ByteString = serde_json::from_value(serde_json::json!("aGk=")).unwrap();
        assert_eq!(v, b);
    }
}
