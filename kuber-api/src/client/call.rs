//! [`Call`], the future every generated operation returns.
//!
//! The request goes out through one non-generic path (request in, bytes or an open body out);
//! only the last step, decoding the answer as the operation's type, is generic. So the 1,100
//! operations add no async state machine of their own, and a program instantiates the decoding
//! of the types it reads, not the HTTP path once per type.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::body::Decoded;
use super::{ByteStream, Client, Mode, WatchStream, peek_kind};
use crate::Error;
use crate::request::{IntoRequest, Request};
use crate::ws::{AttachedProcess, Portforwarder};

type Sending = Pin<Box<dyn Future<Output = Result<Raw, Error>> + Send>>;

/// The answer of one operation, decoded as `T` by `D` (JSON by default).
///
/// It owns what it needs (a clone of the client, the request), so it can be spawned. The
/// request is sent when the future is first polled. A request refused before sending (an empty
/// name, a body that does not encode) is the future's error.
#[must_use = "a Call does nothing until awaited"]
pub struct Call<T, D = Json> {
    state: State,
    _answer: PhantomData<fn() -> (T, D)>,
}

enum State {
    Sending {
        future: Sending,
        operation: &'static str,
        kinds: &'static [&'static str],
    },
    Refused(Error),
    Done,
}

/// What the shared path hands to the decoding step.
#[doc(hidden)]
pub struct Raw(Inner);

enum Inner {
    Body(bytes::Bytes),
    /// A whole body the server sent in protobuf.
    #[cfg_attr(not(feature = "protobuf"), allow(dead_code))]
    Protobuf(bytes::Bytes),
    Open {
        body: Decoded,
        idle: Option<Duration>,
        /// The server answered a watch with protobuf frames.
        protobuf: bool,
    },
    // Built only with `ws`.
    #[cfg_attr(not(feature = "ws"), allow(dead_code))]
    Exec(Box<AttachedProcess>),
    #[cfg_attr(not(feature = "ws"), allow(dead_code))]
    PortForward(Box<Portforwarder>),
}

/// How an answer is read before it is decoded.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    Json,
    /// A built-in kind: protobuf asked for when the client's encoding is protobuf, JSON read
    /// when the server answers JSON.
    Protobuf,
    /// A watch of a built-in kind, likewise.
    ProtobufWatch,
    Whole,
    Watch,
    Stream,
    Exec,
    PortForward,
}

mod sealed {
    pub trait Sealed {}
}

/// How a [`Call`] turns the answer into its output: [`Json`], [`Protobuf`], [`Text`],
/// [`Bytes`], [`Watch`], [`Stream`] or [`Upgrade`].
pub trait Decode<T>: sealed::Sealed {
    #[doc(hidden)]
    const READING: Reading;
    #[doc(hidden)]
    fn finish(
        raw: Raw,
        operation: &'static str,
        kinds: &'static [&'static str],
    ) -> Result<T, Error>;
}

/// A JSON answer decoded as `T`; an object of another kind than the operation answers is
/// [`Error::UnexpectedKind`].
pub struct Json;
/// A built-in kind (an object, a list, a delete's answer, a watch's events): asked for in
/// protobuf when the client's [`Encoding`](crate::config::Encoding) is protobuf (client-go's
/// `Accept`), decoded from whichever of protobuf or JSON the server answers. Without the
/// `protobuf` feature, [`Json`].
pub struct Protobuf;
/// A text answer (logs); invalid UTF-8 is replaced, as a terminal shows it.
pub struct Text;
/// An answer's bytes as they are (proxy verbs).
pub struct Bytes;
/// A watch: the events as the server sends them ([`WatchStream`]).
pub struct Watch;
/// A body read as it arrives ([`ByteStream`]: a followed log).
pub struct Stream;
/// exec and attach ([`AttachedProcess`]), port-forward ([`Portforwarder`]): the connection
/// switched to WebSocket (feature `ws`; without it, [`Error::UpgradeUnavailable`]).
pub struct Upgrade;

impl sealed::Sealed for Json {}
impl sealed::Sealed for Protobuf {}
impl sealed::Sealed for Text {}
impl sealed::Sealed for Bytes {}
impl sealed::Sealed for Watch {}
impl sealed::Sealed for Stream {}
impl sealed::Sealed for Upgrade {}

/// The shared path handed over another kind of answer than the decoder reads (cannot happen:
/// both follow `D::READING`).
fn mismatch(operation: &'static str) -> Error {
    Error::WatchStream {
        operation,
        message: "the answer was read in another way than its call needs".into(),
    }
}

fn body(raw: Raw, operation: &'static str) -> Result<bytes::Bytes, Error> {
    match raw.0 {
        // A protobuf body where JSON was asked for: left to the JSON decoder to report.
        Inner::Body(body) | Inner::Protobuf(body) => Ok(body),
        _ => Err(mismatch(operation)),
    }
}

fn open(raw: Raw, operation: &'static str) -> Result<(Decoded, Option<Duration>, bool), Error> {
    match raw.0 {
        Inner::Open {
            body,
            idle,
            protobuf,
        } => Ok((body, idle, protobuf)),
        _ => Err(mismatch(operation)),
    }
}

/// The kind check shared by every JSON answer (not generic).
pub(super) fn check_kind(
    body: &[u8],
    operation: &'static str,
    kinds: &'static [&'static str],
) -> Result<(), Error> {
    if !kinds.is_empty()
        && let Some(kind) = peek_kind(body)
        && !kinds.contains(&&*kind)
    {
        return Err(Error::UnexpectedKind {
            operation,
            expected: kinds.join(" or "),
            received: kind.into_owned(),
        });
    }
    Ok(())
}

impl<T: DeserializeOwned> Decode<T> for Json {
    const READING: Reading = Reading::Json;
    fn finish(
        raw: Raw,
        operation: &'static str,
        kinds: &'static [&'static str],
    ) -> Result<T, Error> {
        let body = body(raw, operation)?;
        check_kind(&body, operation, kinds)?;
        serde_json::from_slice(&body).map_err(|e| Error::decode::<T>(operation, &e))
    }
}

/// An answer as the server sent it, in protobuf or JSON ([`Client::call_encoded`]): for callers
/// that pick the type to decode at run time.
#[derive(Debug, Clone)]
pub struct Encoded {
    body: bytes::Bytes,
    protobuf: bool,
    operation: &'static str,
    kinds: &'static [&'static str],
}

impl Encoded {
    /// Whether the body is protobuf (magic and envelope).
    pub fn is_protobuf(&self) -> bool {
        self.protobuf
    }

    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// A JSON body decoded as `T`, with the kind check of every call.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        check_kind(&self.body, self.operation, self.kinds)?;
        serde_json::from_slice(&self.body).map_err(|e| Error::decode::<T>(self.operation, &e))
    }

    /// A protobuf body's envelope, with the kind check of every call.
    #[cfg(feature = "protobuf")]
    pub fn envelope(&self) -> Result<kuber_models::proto::Envelope<'_>, Error> {
        protobuf::envelope(&self.body, self.operation, self.kinds, "runtime.Unknown")
    }

    /// A protobuf body decoded as `T`.
    #[cfg(feature = "protobuf")]
    pub fn message<T: FromProtobuf>(&self) -> Result<T, Error> {
        let type_name = std::any::type_name::<T>();
        let env = protobuf::envelope(&self.body, self.operation, self.kinds, type_name)?;
        T::from_envelope(&env).map_err(|e| Error::protobuf(self.operation, type_name, &e))
    }
}

impl Decode<Encoded> for Protobuf {
    const READING: Reading = Reading::Protobuf;
    fn finish(
        raw: Raw,
        operation: &'static str,
        kinds: &'static [&'static str],
    ) -> Result<Encoded, Error> {
        let (body, protobuf) = match raw.0 {
            Inner::Protobuf(body) => (body, true),
            Inner::Body(body) => (body, false),
            _ => return Err(mismatch(operation)),
        };
        Ok(Encoded {
            body,
            protobuf,
            operation,
            kinds,
        })
    }
}

#[cfg(not(feature = "protobuf"))]
impl<T: DeserializeOwned> Decode<T> for Protobuf {
    const READING: Reading = Reading::Json;
    fn finish(
        raw: Raw,
        operation: &'static str,
        kinds: &'static [&'static str],
    ) -> Result<T, Error> {
        <Json as Decode<T>>::finish(raw, operation, kinds)
    }
}

#[cfg(not(feature = "protobuf"))]
impl<T> Decode<WatchStream<T>> for Protobuf {
    const READING: Reading = Reading::Watch;
    fn finish(
        raw: Raw,
        operation: &'static str,
        kinds: &'static [&'static str],
    ) -> Result<WatchStream<T>, Error> {
        <Watch as Decode<WatchStream<T>>>::finish(raw, operation, kinds)
    }
}

#[cfg(feature = "protobuf")]
pub use self::protobuf::FromProtobuf;

#[cfg(feature = "protobuf")]
mod protobuf {
    use kuber_models::apimachinery::pkg::apis::meta::v1::Status;
    use kuber_models::proto::{self, DecodeError, Envelope, Message};
    use serde::de::DeserializeOwned;

    use super::{Decode, Inner, Json, Protobuf, Raw, Reading, Watch, WatchStream, open};
    use crate::{Deleted, Error};

    /// An answer a protobuf body decodes to: a message, or a delete's object-or-`Status`.
    #[doc(hidden)]
    pub trait FromProtobuf: Sized {
        fn from_envelope(envelope: &Envelope<'_>) -> Result<Self, DecodeError>;
    }

    impl<T: Message> FromProtobuf for T {
        fn from_envelope(envelope: &Envelope<'_>) -> Result<T, DecodeError> {
            let mut value = T::decode(envelope.raw)?;
            value.set_type_meta(envelope.api_version, envelope.kind);
            Ok(value)
        }
    }

    impl<T: Message> FromProtobuf for Deleted<T> {
        fn from_envelope(envelope: &Envelope<'_>) -> Result<Deleted<T>, DecodeError> {
            // As the JSON read: the envelope's kind decides.
            if envelope.kind == "Status" && envelope.api_version == "v1" {
                Status::from_envelope(envelope).map(Deleted::Status)
            } else {
                T::from_envelope(envelope).map(Deleted::Object)
            }
        }
    }

    /// The envelope of a protobuf answer, with the kind checks every answer gets (not generic).
    pub(super) fn envelope<'a>(
        body: &'a [u8],
        operation: &'static str,
        kinds: &'static [&'static str],
        type_name: &'static str,
    ) -> Result<Envelope<'a>, Error> {
        let env =
            proto::decode_envelope(body).map_err(|e| Error::protobuf(operation, type_name, &e))?;
        if !env.content_encoding.is_empty() {
            let e = DecodeError::new(format!(
                "content encoding {:?} is not supported",
                env.content_encoding
            ))
            .root("io.k8s.apimachinery.pkg.runtime.Unknown");
            return Err(Error::protobuf(operation, type_name, &e));
        }
        if !kinds.is_empty() && !env.kind.is_empty() && !kinds.contains(&env.kind) {
            return Err(Error::UnexpectedKind {
                operation,
                expected: kinds.join(" or "),
                received: env.kind.to_owned(),
            });
        }
        Ok(env)
    }

    impl<T: DeserializeOwned + FromProtobuf> Decode<T> for Protobuf {
        const READING: Reading = Reading::Protobuf;
        fn finish(
            raw: Raw,
            operation: &'static str,
            kinds: &'static [&'static str],
        ) -> Result<T, Error> {
            match raw.0 {
                Inner::Protobuf(body) => {
                    let type_name = std::any::type_name::<T>();
                    let env = envelope(&body, operation, kinds, type_name)?;
                    T::from_envelope(&env).map_err(|e| Error::protobuf(operation, type_name, &e))
                }
                _ => <Json as Decode<T>>::finish(raw, operation, kinds),
            }
        }
    }

    impl<T: DeserializeOwned + Message> Decode<WatchStream<T>> for Protobuf {
        const READING: Reading = Reading::ProtobufWatch;
        fn finish(
            raw: Raw,
            operation: &'static str,
            kinds: &'static [&'static str],
        ) -> Result<WatchStream<T>, Error> {
            let protobuf = matches!(raw.0, Inner::Open { protobuf: true, .. });
            if !protobuf {
                return <Watch as Decode<WatchStream<T>>>::finish(raw, operation, kinds);
            }
            let (body, idle, _) = open(raw, operation)?;
            Ok(WatchStream::new(body, operation, idle).protobuf(proto::decode_object::<T>))
        }
    }
}

impl Decode<String> for Text {
    const READING: Reading = Reading::Whole;
    fn finish(
        raw: Raw,
        operation: &'static str,
        _: &'static [&'static str],
    ) -> Result<String, Error> {
        let body = body(raw, operation)?;
        Ok(match String::from_utf8(body.into()) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }
}

impl Decode<bytes::Bytes> for Bytes {
    const READING: Reading = Reading::Whole;
    fn finish(
        raw: Raw,
        operation: &'static str,
        _: &'static [&'static str],
    ) -> Result<bytes::Bytes, Error> {
        body(raw, operation)
    }
}

impl<T> Decode<WatchStream<T>> for Watch {
    const READING: Reading = Reading::Watch;
    fn finish(
        raw: Raw,
        operation: &'static str,
        _: &'static [&'static str],
    ) -> Result<WatchStream<T>, Error> {
        let (body, idle, _) = open(raw, operation)?;
        Ok(WatchStream::new(body, operation, idle))
    }
}

impl Decode<ByteStream> for Stream {
    const READING: Reading = Reading::Stream;
    fn finish(
        raw: Raw,
        operation: &'static str,
        _: &'static [&'static str],
    ) -> Result<ByteStream, Error> {
        let (body, idle, _) = open(raw, operation)?;
        Ok(ByteStream::new(body, operation, idle))
    }
}

impl Decode<AttachedProcess> for Upgrade {
    const READING: Reading = Reading::Exec;
    fn finish(
        raw: Raw,
        operation: &'static str,
        _: &'static [&'static str],
    ) -> Result<AttachedProcess, Error> {
        match raw.0 {
            Inner::Exec(process) => Ok(*process),
            _ => Err(mismatch(operation)),
        }
    }
}

impl Decode<Portforwarder> for Upgrade {
    const READING: Reading = Reading::PortForward;
    fn finish(
        raw: Raw,
        operation: &'static str,
        _: &'static [&'static str],
    ) -> Result<Portforwarder, Error> {
        match raw.0 {
            Inner::PortForward(forwarder) => Ok(*forwarder),
            _ => Err(mismatch(operation)),
        }
    }
}

/// exec, attach and port-forward: the WebSocket session.
#[cfg(feature = "ws")]
async fn upgrade(client: &Client, req: &Request, reading: Reading) -> Result<Raw, Error> {
    Ok(Raw(match reading {
        Reading::PortForward => {
            Inner::PortForward(Box::new(crate::ws::open_port_forward(client, req).await?))
        }
        _ => Inner::Exec(Box::new(crate::ws::open_exec(client, req).await?)),
    }))
}

#[cfg(not(feature = "ws"))]
async fn upgrade(_: &Client, req: &Request, _: Reading) -> Result<Raw, Error> {
    req.check()?;
    Err(Error::UpgradeUnavailable {
        operation: req.operation.id,
        reason: "kuber-api is built without its `ws` feature",
    })
}

/// The one path every call takes, whatever its answer type.
async fn fetch(client: Client, mut req: Request, reading: Reading) -> Result<Raw, Error> {
    let mode = match reading {
        Reading::Json | Reading::Protobuf => Mode::Json,
        Reading::Whole => Mode::Raw,
        Reading::Watch | Reading::ProtobufWatch => Mode::Watch,
        Reading::Stream => Mode::Stream,
        Reading::Exec | Reading::PortForward => return upgrade(&client, &req, reading).await,
    };
    if matches!(reading, Reading::Protobuf | Reading::ProtobufWatch)
        && req.accept.is_none()
        && client.shared.config.encoding.is_protobuf()
    {
        req.accept = Some(crate::request::PROTOBUF_ACCEPT);
    }
    let inner = match mode {
        Mode::Json | Mode::Raw => match client.read(&req, mode).await? {
            (body, true) if reading == Reading::Protobuf => Inner::Protobuf(body),
            (body, _) => Inner::Body(body),
        },
        _ => {
            let res = client.open(&req, mode).await?;
            let protobuf = reading == Reading::ProtobufWatch && super::is_protobuf(res.headers());
            Inner::Open {
                body: client.decoded(res, mode),
                idle: client.shared.config.idle_timeout,
                protobuf,
            }
        }
    };
    Ok(Raw(inner))
}

/// A watch of a built-in kind whose event type is picked at run time: frames decoded with
/// `decode` when the server answers protobuf, else JSON lines.
#[cfg(feature = "protobuf")]
pub(super) async fn watch_with<T>(
    client: &Client,
    req: Request,
    decode: fn(&[u8]) -> Result<T, kuber_models::proto::DecodeError>,
) -> Result<WatchStream<T>, Error> {
    let operation = req.operation.id;
    let raw = fetch(client.clone(), req, Reading::ProtobufWatch).await?;
    let (body, idle, protobuf) = open(raw, operation)?;
    let stream = WatchStream::new(body, operation, idle);
    Ok(if protobuf {
        stream.protobuf(decode)
    } else {
        stream
    })
}

impl State {
    // Not generic: each operation's `Call::new` is one call to this, so the 1,100 instances of
    // `new` stay a few instructions each.
    fn start(client: &Client, req: Result<Request, Error>, reading: Reading) -> State {
        match req {
            Ok(req) => State::Sending {
                operation: req.operation.id,
                kinds: req.kinds,
                future: Box::pin(fetch(client.clone(), req, reading)),
            },
            Err(e) => State::Refused(e),
        }
    }
}

impl<T, D: Decode<T>> Call<T, D> {
    /// Sends `req` on `client` when first polled.
    pub fn new(client: &Client, req: impl IntoRequest) -> Call<T, D> {
        Call {
            state: State::start(client, req.into_request(), D::READING),
            _answer: PhantomData,
        }
    }
}

impl<T, D: Decode<T>> Future for Call<T, D> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Sending {
                mut future,
                operation,
                kinds,
            } => match future.as_mut().poll(cx) {
                Poll::Pending => {
                    self.state = State::Sending {
                        future,
                        operation,
                        kinds,
                    };
                    Poll::Pending
                }
                Poll::Ready(raw) => {
                    Poll::Ready(raw.and_then(|raw| D::finish(raw, operation, kinds)))
                }
            },
            State::Refused(e) => Poll::Ready(Err(e)),
            State::Done => panic!("a kuber_api::Call was polled after it completed"),
        }
    }
}

impl<T, D> std::fmt::Debug for Call<T, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Sending { operation, .. } => *operation,
            State::Refused(_) => "refused",
            State::Done => "done",
        };
        f.debug_struct("Call")
            .field("answer", &std::any::type_name::<T>())
            .field("state", &state)
            .finish()
    }
}

#[cfg(all(test, feature = "core"))]
mod tests {
    use super::*;
    use crate::config::Config;

    #[tokio::test]
    async fn a_call_owns_what_it_needs_and_a_refused_request_sends_nothing() {
        // Nothing listens on port 9 (discard): a request that went out would fail differently.
        let client = Client::new(Config::new("http://127.0.0.1:9")).unwrap();
        let api = crate::CoreV1Api::new(client.clone());
        let call = api.read_namespaced_pod("", "default", &Default::default());
        // The call borrows neither the api nor the client: it can be spawned.
        drop(api);
        let answer = tokio::spawn(call).await.unwrap();
        let err = answer.unwrap_err();
        assert!(err.to_string().contains("name"), "{err}");
        assert!(!matches!(err, Error::Transport { .. }), "{err:?}");
        assert_eq!(client.stats().responses, 0);
    }

    #[cfg(not(feature = "ws"))]
    #[tokio::test]
    async fn without_ws_exec_fails_naming_the_operation_and_the_feature() {
        let client = Client::new(Config::new("http://127.0.0.1:9")).unwrap();
        let api = crate::CoreV1Api::new(client.clone());
        let err = api
            .connect_get_namespaced_pod_exec("web", "default", &Default::default())
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("connectCoreV1GetNamespacedPodExec") && message.contains("`ws`"),
            "{message}"
        );
        assert_eq!(client.stats().responses, 0);
    }
}
