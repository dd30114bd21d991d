//! Hand-written `Deserialize` for the kubeconfig and ExecCredential structs, so kuber-api does not
//! wait for the `serde_derive` proc-macro in a clean build (it sat on the critical path).
//!
//! [`struct_deserialize!`] writes what the derive wrote for these structs: a map visitor that
//! starts from `Default`, ignores unknown keys, refuses a key given twice (the YAML reader
//! already keeps the last; JSON does not), and says "struct Name" in type errors. Values are read
//! through `MapAccess::next_value`, so the readers name the key at fault (the YAML reader's path).

use std::fmt;

/// `impl Deserialize for $ty`, from `"key" => field: how` entries, where `how` is `value` (the
/// field's own `Deserialize`) or `null_default` (`null` reads as the field's empty value, as Go's
/// decoder leaves the zero value). `$ty` must implement `Default`; fields not listed keep it.
macro_rules! struct_deserialize {
    ($ty:ident { $($key:literal => $field:ident: $how:ident),* $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Fields;
                impl<'de> serde::de::Visitor<'de> for Fields {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("struct ", stringify!($ty)))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$ty, A::Error> {
                        let mut out = <$ty>::default();
                        $(let mut $field = false;)*
                        while let Some($crate::config::de::Key(key)) = map.next_key()? {
                            match key.as_deref() {
                                $(Some($key) => {
                                    if std::mem::replace(&mut $field, true) {
                                        return Err(serde::de::Error::duplicate_field($key));
                                    }
                                    out.$field = $crate::config::de::struct_deserialize!(@$how map);
                                })*
                                _ => {
                                    map.next_value::<serde::de::IgnoredAny>()?;
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                deserializer.deserialize_struct(stringify!($ty), &[$($key),*], Fields)
            }
        }
    };
    (@value $map:ident) => { $map.next_value()? };
    (@null_default $map:ident) => { $map.next_value::<Option<_>>()?.unwrap_or_default() };
}
pub(crate) use struct_deserialize;

/// A map key: its text, or `None` for a key that is not text (ignored, as an unknown key).
pub(crate) struct Key(pub(crate) Option<String>);

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

struct KeyVisitor;

impl serde::de::Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key(Some(v.to_owned())))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key, E> {
        Ok(Key(Some(v)))
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Key, E> {
        Ok(Key(std::str::from_utf8(v).ok().map(str::to_owned)))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Key, E> {
        Ok(Key(None))
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Key, E> {
        Ok(Key(None))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Key, E> {
        Ok(Key(None))
    }
}
