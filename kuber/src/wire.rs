//! Built-in kinds in protobuf for the verbs, whose answer type is picked at run time: a typed
//! verb's `K`, or an [`Object`](crate::Object) for a kind named by string. Which message to read
//! is the envelope's apiVersion and kind ([`kuber_models::proto::with_message_type`]); custom
//! resources have none and stay JSON.

use serde::de::DeserializeOwned;

use crate::target::Target;
use crate::{Context, Result};

/// Whether calls on `target` may go in protobuf: a built-in kind with a message.
#[cfg(feature = "protobuf")]
pub(crate) fn is_message(target: &Target) -> bool {
    struct Found;
    impl kuber_models::proto::MessageVisitor for Found {
        type Output = ();
        fn visit<T>(self) {}
    }
    target.info.is_some()
        && kuber_models::proto::with_message_type(&target.api_version, &target.kind, Found)
            .is_some()
}

#[cfg(not(feature = "protobuf"))]
pub(crate) fn is_message(_: &Target) -> bool {
    false
}

/// Sends `req` on a built-in kind: protobuf asked for when the client's encoding is protobuf,
/// either answer decoded as `O`.
pub(crate) async fn call<O: DeserializeOwned + 'static>(
    ctx: &Context,
    req: kuber_api::Request,
) -> Result<O> {
    let answer = ctx.client().call_encoded(req).await?;
    decode(&answer)
}

#[cfg(not(feature = "protobuf"))]
fn decode<O: DeserializeOwned + 'static>(answer: &kuber_api::call::Encoded) -> Result<O> {
    Ok(answer.json()?)
}

#[cfg(feature = "protobuf")]
fn decode<O: DeserializeOwned + 'static>(answer: &kuber_api::call::Encoded) -> Result<O> {
    use kuber_models::proto::{Message, MessageVisitor, with_message_type};

    if !answer.is_protobuf() {
        return Ok(answer.json()?);
    }
    struct Into<'a, O>(
        &'a kuber_api::call::Encoded,
        std::marker::PhantomData<fn() -> O>,
    );
    impl<O: DeserializeOwned + 'static> MessageVisitor for Into<'_, O> {
        type Output = Result<O>;
        fn visit<T>(self) -> Result<O>
        where
            T: Message
                + serde::Serialize
                + DeserializeOwned
                + Clone
                + std::fmt::Debug
                + PartialEq
                + 'static,
        {
            let value: T = self.0.message()?;
            // The answer's own type (a typed verb's): no conversion.
            let mut slot = Some(value);
            let any: &mut dyn std::any::Any = &mut slot;
            if let Some(same) = any.downcast_mut::<Option<O>>().and_then(Option::take) {
                return Ok(same);
            }
            // Another type (an `Object`, `List<K>`, `Deleted<K>`): through its JSON value.
            let converted = serde_json::to_value(&slot)
                .and_then(serde_json::from_value)
                .map_err(|e| e.to_string());
            converted.map_err(|message| {
                crate::Error::Api(kuber_api::Error::Decode {
                    operation: self.0.operation(),
                    type_name: std::any::type_name::<O>(),
                    line: 0,
                    column: 0,
                    message,
                })
            })
        }
    }
    let env = answer.envelope()?;
    with_message_type(
        env.api_version,
        env.kind,
        Into::<O>(answer, std::marker::PhantomData),
    )
    .unwrap_or_else(|| {
        Err(crate::Error::Api(kuber_api::Error::DecodeProtobuf {
            operation: answer.operation(),
            type_name: std::any::type_name::<O>(),
            path: "io.k8s.apimachinery.pkg.runtime.Unknown.typeMeta".into(),
            problem: format!("no built-in type is {} {}", env.api_version, env.kind),
        }))
    })
}

/// How a protobuf watch event's object becomes a `K`: the message of the target's kind, then `K`
/// itself or through its JSON value (an `Object`). `None`: the watch stays JSON.
#[cfg(feature = "protobuf")]
pub(crate) type EventDecoder<K> =
    fn(&[u8]) -> std::result::Result<K, kuber_models::proto::DecodeError>;

#[cfg(feature = "protobuf")]
pub(crate) fn event_decoder<K: DeserializeOwned + 'static>(
    target: &Target,
) -> Option<EventDecoder<K>> {
    use kuber_models::proto::{DecodeError, Message, MessageVisitor, decode_object};

    fn convert<T, K>(body: &[u8]) -> std::result::Result<K, DecodeError>
    where
        T: Message + serde::Serialize + 'static,
        K: DeserializeOwned + 'static,
    {
        let mut slot = Some(decode_object::<T>(body)?);
        let any: &mut dyn std::any::Any = &mut slot;
        if let Some(same) = any.downcast_mut::<Option<K>>().and_then(Option::take) {
            return Ok(same);
        }
        serde_json::to_value(&slot)
            .and_then(serde_json::from_value)
            .map_err(|e| DecodeError::new(e.to_string()).root(T::NAME))
    }
    struct Pick<K>(std::marker::PhantomData<fn() -> K>);
    impl<K: DeserializeOwned + 'static> MessageVisitor for Pick<K> {
        type Output = EventDecoder<K>;
        fn visit<T>(self) -> EventDecoder<K>
        where
            T: Message
                + serde::Serialize
                + DeserializeOwned
                + Clone
                + std::fmt::Debug
                + PartialEq
                + 'static,
        {
            convert::<T, K>
        }
    }
    if !is_message(target) {
        return None;
    }
    kuber_models::proto::with_message_type(
        &target.api_version,
        &target.kind,
        Pick::<K>(std::marker::PhantomData),
    )
}

/// The protobuf body of a create or replace whose JSON is `json`, if the kind has a message and
/// protobuf carries all the JSON holds. The body's type is the operation's (a subresource's
/// body may be another kind: `Eviction` on `pods/eviction`).
#[cfg(feature = "protobuf")]
pub(crate) fn message_body(
    target: &Target,
    operation: &kuber_api::Operation,
    json: &[u8],
) -> Option<Vec<u8>> {
    use kuber_models::proto::{Message, MessageVisitor, encode_envelope, encode_lossless};

    struct Encode<'a>(&'a [u8]);
    impl MessageVisitor for Encode<'_> {
        type Output = Option<Vec<u8>>;
        fn visit<T>(self) -> Option<Vec<u8>>
        where
            T: Message
                + serde::Serialize
                + DeserializeOwned
                + Clone
                + std::fmt::Debug
                + PartialEq
                + 'static,
        {
            // Members the model does not know land in unknown_fields: then no protobuf.
            encode_lossless(&serde_json::from_slice::<T>(self.0).ok()?)
        }
    }
    if !is_message(target) {
        return None;
    }
    let (api_version, kind) = match (operation.kind_api_version, operation.kind) {
        (a, k) if !a.is_empty() && !k.is_empty() => (a, k),
        _ => (&*target.api_version, &*target.kind),
    };
    let raw = kuber_models::proto::with_message_type(api_version, kind, Encode(json))??;
    Some(encode_envelope(api_version, kind, &raw))
}

#[cfg(not(feature = "protobuf"))]
pub(crate) fn message_body(_: &Target, _: &kuber_api::Operation, _: &[u8]) -> Option<Vec<u8>> {
    None
}
