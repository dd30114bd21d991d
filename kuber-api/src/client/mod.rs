//! The HTTP client the generated operations call: credentials, impersonation, retries and
//! timeouts from a [`Config`], over a transport ([`transport`]): pooled hyper connections over
//! rustls by default, or any tower `Service`.

mod body;
mod builder;
pub mod call;
mod connector;
mod retry;
mod stream;
mod tls;
pub mod transport;
#[cfg(feature = "ws")]
mod upgrade;
mod watch;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_TYPE, HeaderName, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use tracing::debug;

pub use self::body::ClientStats;
use self::body::{Counters, Decoded, read_body};
pub use self::builder::ClientBuilder;
pub use self::call::Call;
#[cfg(feature = "proxy")]
use self::connector::ProxyError;
use self::connector::redact;
pub use self::stream::{ByteStream, Lines};
use self::transport::{BoxError, Transport};
pub use self::transport::{HyperTransport, RequestBody, ResponseBody};
pub use self::watch::WatchStream;
use crate::backoff::Backoff;
use crate::config::{Auth, Config, Credentials, Impersonate, Retries};
use crate::error::ApiError;
use crate::{Error, Request};

const USER_AGENT_VALUE: &str = concat!("kuber/", env!("CARGO_PKG_VERSION"));
/// How much of an error answer's body is read: enough for any `Status`.
const ERROR_BODY_LIMIT: usize = 64 << 10;

/// A connection to one API server as one user.
///
/// Cheap to clone: clones share the transport (the connection pool) and the credentials.
/// `Send + Sync`, so one client serves every task. [`Client::new`] talks over pooled hyper +
/// rustls connections; [`Client::from_service`] over any tower `Service`, and
/// [`Client::builder`] wraps the default one in layers.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    retries: Retries,
    backoff: Backoff,
}

struct Shared {
    transport: Transport,
    /// The default transport, also when layers wrap it: exec plugins' client certificates are
    /// handed to it.
    hyper: Option<HyperTransport>,
    /// `config.server` without a trailing `/`; request paths are appended to it.
    base: String,
    /// Credentials are only created when the config has some.
    credentials: Option<Credentials>,
    /// Impersonation.
    headers: HeaderMap,
    request_timeout: Option<Duration>,
    /// Whether answers are asked for gzip-encoded (`disable-compression` turns it off).
    gzip: bool,
    counters: Arc<Counters>,
    config: Config,
}

/// What a call does with the answer, which decides the Accept header and the timeout.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// JSON, read whole within the request timeout.
    Json,
    /// Text or bytes of any type, read whole within the request timeout.
    Raw,
    /// A watch: headers within the request timeout, events as long as the server sends them.
    Watch,
    /// A followed log or other stream: like a watch, any content type.
    Stream,
    /// [`Client::send`]: like a stream, but the body goes to the caller as the server sent it,
    /// so it is not offered gzip.
    Send,
    /// exec, attach, port-forward: a GET asking to switch to WebSocket; a 101 leaves the
    /// connection to the caller.
    Upgrade,
}

impl Mode {
    fn accept(self) -> &'static str {
        match self {
            Mode::Json | Mode::Watch => "application/json",
            Mode::Raw | Mode::Stream | Mode::Send | Mode::Upgrade => "*/*",
        }
    }

    fn reads_whole_body(self) -> bool {
        matches!(self, Mode::Json | Mode::Raw)
    }
}

/// One attempt's answer: read whole, or with the body still to stream.
enum Answer {
    Read {
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    },
    Open(http::Response<ResponseBody>),
}

/// Why an attempt failed before a status arrived.
enum Failure {
    /// The connection could not be made: nothing was sent, any call may be retried.
    Connect(Error),
    /// After the request was (possibly) sent: only calls that change nothing are retried.
    Sent(Error),
    /// Not worth retrying (TLS, timeout, bad URL).
    Fatal(Error),
}

/// What every client is built from, whatever its transport: the config checked.
struct Setup {
    base: String,
    headers: HeaderMap,
    credentials: Option<Credentials>,
    config: Config,
}

impl Setup {
    /// Checks the server URL and the impersonation headers.
    fn new(config: Config) -> Result<Setup, Error> {
        let base = config.server.trim_end_matches('/').to_string();
        let invalid = |message: &str| Error::InvalidUrl {
            url: redact(&config.server),
            message: message.into(),
        };
        let uri: Uri = base.parse().map_err(|_| invalid("not a URL"))?;
        if !matches!(uri.scheme_str(), Some("https" | "http")) {
            return Err(invalid(
                "the server URL must start with https:// or http://",
            ));
        }
        if uri.host().is_none_or(str::is_empty) || uri.query().is_some() {
            return Err(invalid("the server URL needs a host and no query"));
        }
        let headers = impersonation_headers(config.impersonate.as_ref())?;
        let credentials = match config.auth {
            Auth::None => None,
            _ => Some(Credentials::from_config(&config)),
        };
        Ok(Setup {
            base,
            headers,
            credentials,
            config,
        })
    }

    fn client(self, transport: Transport, hyper: Option<HyperTransport>) -> Client {
        let config = self.config;
        Client {
            retries: config.retries,
            backoff: Backoff::RETRIES,
            shared: Arc::new(Shared {
                transport,
                hyper,
                base: self.base,
                credentials: self.credentials,
                headers: self.headers,
                request_timeout: config.request_timeout,
                gzip: cfg!(feature = "gzip") && !config.disable_compression,
                counters: Arc::default(),
                config,
            }),
        }
    }
}

impl Client {
    /// A client for `config`, over pooled hyper + rustls connections ([`HyperTransport`]).
    /// Fails on an unusable server URL, proxy or TLS material.
    pub fn new(config: Config) -> Result<Client, Error> {
        let setup = Setup::new(config)?;
        let hyper = HyperTransport::new(&setup.config)?;
        Ok(setup.client(Transport::Hyper(hyper.clone()), Some(hyper)))
    }

    /// A client for `config` whose requests go to `service`: an in-process server, a recorded
    /// exchange, or the default transport wrapped in layers of one's own.
    ///
    /// Requests reach it finished: absolute URLs on `config.server`, credentials, impersonation
    /// and `Accept-Encoding` set; retries, credential refresh after a 401, timeouts, gzip
    /// decoding and the kind check happen above it, as with the default transport. The config's
    /// TLS settings, proxy and connect timeout are the transport's business and are not used.
    /// The service need not be `Clone` or `Sync`: calls take turns getting it ready and
    /// handing it the request, and its answers run concurrently. Its errors count as
    /// "the request may have been sent" (only reads are retried), unless they carry a
    /// hyper-util connect error.
    pub fn from_service<S, B>(service: S, config: Config) -> Result<Client, Error>
    where
        S: tower_service::Service<http::Request<RequestBody>, Response = http::Response<B>>
            + Send
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Ok(Setup::new(config)?.client(Transport::service(service), None))
    }

    /// A builder over the default transport for `config`, to wrap it in tower layers:
    /// `Client::builder(config)?.layer(TraceLayer::new_for_http()).build()`.
    pub fn builder(config: Config) -> Result<ClientBuilder<HyperTransport>, Error> {
        ClientBuilder::new(config)
    }

    /// A client for the config a program should use when given none ([`Config::infer`]): the
    /// current kubeconfig context, else the pod's service account, else `kubectl proxy`.
    pub fn try_default() -> Result<Client, Error> {
        Client::new(Config::infer()?)
    }

    /// A client for `kubectl proxy` at `http://localhost:8001`.
    pub fn local_proxy() -> Result<Client, Error> {
        Client::new(Config::local_proxy())
    }

    /// Like Kuber.jl's `set_retries`: retry up to `count` times; with `all_apis`, calls that
    /// change something (POST, PUT, PATCH, DELETE) are retried too, else only reads are. Either
    /// way, a 429 or 5xx with `Retry-After` is retried for any call (the server did nothing), and
    /// a POST or PATCH answered 500, 502 or 504 without it never is (it may have been applied).
    pub fn with_retries(mut self, count: u32, all_apis: bool) -> Client {
        self.retries = Retries { count, all_apis };
        self
    }

    /// The first wait between retries (0.5 s by default); each next one is 1.75 times longer.
    pub fn with_backoff_base(mut self, base: Duration) -> Client {
        self.backoff.first = base;
        self
    }

    /// The waits between retries ([`Backoff::RETRIES`] by default). A `Retry-After` the server
    /// sends is waited instead, up to 60 s.
    pub fn with_backoff(mut self, backoff: Backoff) -> Client {
        self.backoff = backoff;
        self
    }

    /// The API server URL.
    pub fn config_server(&self) -> &str {
        &self.shared.config.server
    }

    /// The namespace of the kubeconfig context or of the pod (`"default"` when neither names one).
    pub fn default_namespace(&self) -> &str {
        &self.shared.config.default_namespace
    }

    /// The configuration the client was built from.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// What this client and its clones received so far: answers, and how many came
    /// gzip-encoded (the API server compresses large answers when asked, which the client does
    /// unless [`Config::disable_compression`] is set).
    pub fn stats(&self) -> ClientStats {
        self.shared.counters.snapshot()
    }

    /// Whether a call in `mode` offers gzip, and so decodes gzip-encoded answers.
    fn gzip(&self, mode: Mode) -> bool {
        self.shared.gzip && !matches!(mode, Mode::Send | Mode::Upgrade)
    }

    fn decoded(&self, res: http::Response<ResponseBody>, mode: Mode) -> Decoded {
        let (parts, body) = res.into_parts();
        Decoded::new(body, &parts.headers, self.gzip(mode), &self.shared.counters)
    }

    /// Sends `req` and decodes the JSON answer as a `T`. An answer of a kind `req` does not
    /// expect ([`Request::kinds`]) is [`Error::UnexpectedKind`].
    pub fn call<T: DeserializeOwned>(&self, req: Request) -> Call<T> {
        Call::new(self, req)
    }

    /// Sends `req` as a call of a built-in kind (protobuf asked for when the encoding is
    /// protobuf) and returns the answer undecoded, for a type picked at run time.
    pub fn call_encoded(&self, req: Request) -> Call<call::Encoded, call::Protobuf> {
        Call::new(self, req)
    }

    /// Sends `req` and returns the answer as text (logs, well-known documents). Invalid UTF-8 is
    /// replaced, as a terminal would show it.
    pub fn call_text(&self, req: Request) -> Call<String, call::Text> {
        Call::new(self, req)
    }

    /// Sends `req` and returns the answer's bytes (proxy verbs).
    pub fn call_bytes(&self, req: Request) -> Call<Bytes, call::Bytes> {
        Call::new(self, req)
    }

    /// Starts a watch: the events as the server sends them. Only the wait for the answer's headers
    /// is bounded by the request timeout; the server's `timeoutSeconds` ends the stream, and so
    /// does silence longer than [`Config::idle_timeout`] ([`Error::IdleTimeout`]).
    pub fn watch<T: DeserializeOwned>(&self, req: Request) -> Call<WatchStream<T>, call::Watch> {
        Call::new(self, req)
    }

    /// Starts a watch of a built-in kind whose event type is picked at run time: protobuf asked
    /// for when the encoding is protobuf, its frames' objects read with `decode` (a whole body:
    /// magic, envelope, message); JSON lines when the server answers JSON.
    #[cfg(feature = "protobuf")]
    pub async fn watch_with<T: DeserializeOwned>(
        &self,
        req: Request,
        decode: fn(&[u8]) -> Result<T, kuber_models::proto::DecodeError>,
    ) -> Result<WatchStream<T>, Error> {
        call::watch_with(self, req, decode).await
    }

    /// Starts a streamed answer (a followed log): its bytes as they arrive, not bounded by the
    /// request timeout but ended by silence longer than [`Config::idle_timeout`].
    pub fn stream(&self, req: Request) -> Call<ByteStream, call::Stream> {
        Call::new(self, req)
    }

    /// Starts exec or attach ([`crate::ws`]): the generated `connect_*_exec` and
    /// `connect_*_attach` operations call this.
    pub fn exec(&self, req: Request) -> Call<crate::ws::AttachedProcess, call::Upgrade> {
        Call::new(self, req)
    }

    /// Starts port-forward to the ports `req` names ([`crate::ws`]): the generated
    /// `connect_*_portforward` operations call this.
    pub fn port_forward(&self, req: Request) -> Call<crate::ws::Portforwarder, call::Upgrade> {
        Call::new(self, req)
    }

    /// Sends `req` and returns the 2xx answer with its headers and unread body. Non-2xx answers
    /// are [`Error::Api`], as for every other call. The body is as the server sent it: gzip is
    /// not offered.
    pub async fn send(&self, req: Request) -> Result<http::Response<ResponseBody>, Error> {
        self.open(&req, Mode::Send).await
    }

    /// The whole 2xx body, and whether the server sent it in protobuf.
    async fn read(&self, req: &Request, mode: Mode) -> Result<(Bytes, bool), Error> {
        match self.execute(req, mode, None).await? {
            Answer::Read { body, headers, .. } => Ok((body, is_protobuf(&headers))),
            // Modes that read whole bodies never leave one open.
            Answer::Open(res) => {
                let protobuf = is_protobuf(res.headers());
                let body = read_body(self.decoded(res, mode), None)
                    .await
                    .map_err(|e| Error::Transport {
                        operation: req.operation.id,
                        source: Box::new(e),
                    })?;
                Ok((body, protobuf))
            }
        }
    }

    async fn open(&self, req: &Request, mode: Mode) -> Result<http::Response<ResponseBody>, Error> {
        match self.execute(req, mode, None).await? {
            Answer::Open(res) => Ok(res),
            // Cannot happen: streaming modes read only non-2xx bodies, which are errors.
            Answer::Read { .. } => Err(Error::WatchStream {
                operation: req.operation.id,
                message: "the answer was read before it could be streamed".into(),
            }),
        }
    }

    /// Sends with retries and one re-authentication; returns a 2xx answer (or for an upgrade,
    /// a 101) or the final error. `extra`: headers of the call's own (an upgrade's).
    async fn execute(
        &self,
        req: &Request,
        mode: Mode,
        extra: Option<&HeaderMap>,
    ) -> Result<Answer, Error> {
        req.check()?;
        let op = req.operation;
        if mode != Mode::Upgrade && matches!(op.subresource, "exec" | "attach" | "portforward") {
            return Err(Error::UpgradeUnavailable {
                operation: op.id,
                reason: "send it with its generated connect_* operation, not as a plain call",
            });
        }
        // Failures without a status are repeated only for calls retries cover; answers decide
        // for themselves (retry::may_resend).
        // An upgrade is a GET but starts a process: resent only when nothing reached the server.
        let read_only = op.is_read_only() && mode != Mode::Upgrade;
        let retryable = self.retries.all_apis || read_only;
        let mut retries_left = self.retries.count;
        let mut retry = 0;
        let mut reauthenticated = false;
        loop {
            let mut sent_auth = None;
            let wait = match self.attempt(req, mode, extra, &mut sent_auth).await {
                Ok(answer) => {
                    let (status, headers, body) = match answer {
                        Answer::Read { status, .. } if status.is_success() => return Ok(answer),
                        Answer::Open(res) => return Ok(Answer::Open(res)),
                        Answer::Read {
                            status,
                            headers,
                            body,
                        } => (status, headers, body),
                    };
                    let code = status.as_u16();
                    if code == 401
                        && !reauthenticated
                        && let Some(credentials) = &self.shared.credentials
                    {
                        // Rotated token, expired exec credential: fetch again, once (and only
                        // if no concurrent request has already replaced the rejected one).
                        credentials.invalidate(sent_auth.as_ref()).await;
                        reauthenticated = true;
                        continue;
                    }
                    let retry_after = retry::retry_after(&headers);
                    let resend = retry::may_resend(
                        code,
                        retry_after.is_some(),
                        read_only,
                        self.retries.all_apis,
                        op.method,
                    );
                    if retries_left == 0 || !resend {
                        return Err(ApiError::from_body(op.id, code, &body).into());
                    }
                    let wait = retry_after.unwrap_or_else(|| self.backoff.delay(retry));
                    debug!(
                        operation = op.id,
                        code,
                        wait_ms = wait.as_millis() as u64,
                        "retrying"
                    );
                    wait
                }
                Err(Failure::Connect(e)) if retries_left > 0 && retryable => {
                    debug!(operation = op.id, error = %e, "connection failed; retrying");
                    self.backoff.delay(retry)
                }
                // The server may have acted on it: only repeat what changes nothing.
                Err(Failure::Sent(e)) if retries_left > 0 && read_only => {
                    debug!(operation = op.id, error = %e, "connection broke; retrying");
                    self.backoff.delay(retry)
                }
                Err(Failure::Connect(e) | Failure::Sent(e) | Failure::Fatal(e)) => return Err(e),
            };
            retries_left -= 1;
            retry += 1;
            tokio::time::sleep(wait).await;
        }
    }

    /// One request: headers (and for whole-body modes, the body) within the request timeout.
    /// `sent_auth` gets the `Authorization` header sent, for a 401 to name what was refused.
    async fn attempt(
        &self,
        req: &Request,
        mode: Mode,
        extra: Option<&HeaderMap>,
        sent_auth: &mut Option<HeaderValue>,
    ) -> Result<Answer, Failure> {
        let op = req.operation;
        let started = Instant::now();
        let request = self.build(req, mode, extra).await?;
        *sent_auth = request.headers().get(AUTHORIZATION).cloned();
        let exchange = async {
            let res = self
                .shared
                .transport
                .send(request)
                .await
                .map_err(|e| classify(op.id, e))?;
            let status = res.status();
            self.shared
                .counters
                .responses
                .fetch_add(1, Ordering::Relaxed);
            let open = match mode {
                Mode::Upgrade => status == StatusCode::SWITCHING_PROTOCOLS,
                _ => status.is_success() && !mode.reads_whole_body(),
            };
            if !open {
                // Whole-body modes read a 2xx whole; anything else is an error answer.
                let limit =
                    (!status.is_success() || !mode.reads_whole_body()).then_some(ERROR_BODY_LIMIT);
                let headers = res.headers().clone();
                let body = read_body(self.decoded(res, mode), limit)
                    .await
                    .map_err(|e| Failure::Sent(transport(op.id, e)))?;
                Ok(Answer::Read {
                    status,
                    headers,
                    body,
                })
            } else {
                Ok(Answer::Open(res))
            }
        };
        let result = match self.shared.request_timeout {
            Some(after) => match tokio::time::timeout(after, exchange).await {
                Ok(result) => result,
                Err(_) => Err(Failure::Fatal(Error::Timeout {
                    operation: op.id,
                    after,
                })),
            },
            None => exchange.await,
        };
        let status = match &result {
            Ok(Answer::Read { status, .. }) => status.as_u16(),
            Ok(Answer::Open(res)) => res.status().as_u16(),
            Err(_) => 0,
        };
        debug!(
            method = op.method,
            path = %req.path,
            operation = op.id,
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "kube request"
        );
        result
    }

    /// Hands the exec plugin's client certificate to the default transport (which starts a
    /// fresh connection pool when it changed).
    async fn update_exec_identity(
        &self,
        credentials: &Credentials,
        hyper: &HyperTransport,
    ) -> Result<(), Failure> {
        let current = credentials
            .client_identity()
            .await
            .map_err(|e| Failure::Fatal(e.into()))?;
        if let Some(current) = current {
            hyper
                .update_exec_identity(&current)
                .map_err(Failure::Fatal)?;
        }
        Ok(())
    }

    async fn build(
        &self,
        req: &Request,
        mode: Mode,
        extra: Option<&HeaderMap>,
    ) -> Result<http::Request<RequestBody>, Failure> {
        let op = req.operation;
        let url = format!("{}{}", self.shared.base, req.path_and_query());
        let uri: Uri = url.parse().map_err(|e: http::uri::InvalidUri| {
            Failure::Fatal(Error::InvalidUrl {
                url: redact(&url),
                message: e.to_string(),
            })
        })?;
        let method = Method::from_bytes(op.method.as_bytes()).map_err(|_| {
            Failure::Fatal(Error::Encode {
                operation: op.id,
                message: format!("bad method {}", op.method),
            })
        })?;
        let mut builder = http::Request::builder().method(method).uri(uri);
        if mode == Mode::Upgrade {
            // RFC 6455: the handshake is an HTTP/1.1 GET, whatever method the operation names
            // (the API server serves exec's GET and POST alike).
            builder = builder.method(Method::GET).version(http::Version::HTTP_11);
        }
        let headers = builder.headers_mut().ok_or_else(|| {
            Failure::Fatal(Error::Encode {
                operation: op.id,
                message: "cannot build the request".into(),
            })
        })?;
        headers.extend(self.shared.headers.clone());
        if let Some(extra) = extra {
            headers.extend(extra.clone());
        }
        let accept = match req.accept {
            // A caller's media type is checked; from_static would panic on a bad one.
            Some(accept) => HeaderValue::from_str(accept).map_err(|_| {
                Failure::Fatal(Error::Encode {
                    operation: op.id,
                    message: format!("Accept {accept:?} is not a valid header value"),
                })
            })?,
            None => HeaderValue::from_static(mode.accept()),
        };
        headers.insert(ACCEPT, accept);
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        if self.gzip(mode) {
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        }
        if let Some(credentials) = &self.shared.credentials {
            let value = credentials
                .authorization()
                .await
                .map_err(|e| Failure::Fatal(e.into()))?;
            if let Some(value) = value {
                headers.insert(AUTHORIZATION, value);
            }
            if let Some(hyper) = self.shared.hyper.as_ref()
                && hyper.takes_exec_identity()
            {
                self.update_exec_identity(credentials, hyper).await?;
            }
        }
        let body = match req.wire_body(self.shared.config.encoding.is_protobuf()) {
            Some((content_type, bytes)) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
                RequestBody::new(Bytes::copy_from_slice(bytes))
            }
            None => RequestBody::empty(),
        };
        builder.body(body).map_err(|e| {
            Failure::Fatal(Error::Encode {
                operation: op.id,
                message: e.to_string(),
            })
        })
    }
}

/// Whether an answer's `Content-Type` is Kubernetes' protobuf (`;stream=watch` for watches).
fn is_protobuf(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(crate::request::PROTOBUF))
}

/// The top-level `kind` of a JSON object, if it has a string one. The API server writes `kind`
/// first, so this reads a few bytes, not the body; a body that is no object gives `None` and is
/// left to the decoder to report.
fn peek_kind(body: &[u8]) -> Option<Cow<'_, str>> {
    struct Peek<'s, 'de>(&'s mut Option<Cow<'de, str>>);

    impl<'de> Visitor<'de> for Peek<'_, 'de> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<Text<'de>>()? {
                if key.0 == "kind" {
                    *self.0 = Some(map.next_value::<Text<'de>>()?.0);
                    return Ok(());
                }
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }

    let mut kind = None;
    let mut de = serde_json::Deserializer::from_slice(body);
    // Stopping at `kind` leaves the object unfinished, which serde_json reports as an error:
    // only what was found matters.
    let _ = serde::Deserializer::deserialize_map(&mut de, Peek(&mut kind));
    kind
}

/// A JSON string, borrowed from the body unless it has escapes.
struct Text<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

/// The first error of type `E` in `e`'s chain.
fn find<'a, E: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a E> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<E>() {
            return Some(found);
        }
        current = err.source();
    }
    None
}

fn transport(operation: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Transport {
        operation,
        source: Box::new(e),
    }
}

/// Sorts a transport's error: TLS failures are fatal, failures to connect (hyper-util's, also
/// under layers) are safe to retry, anything else may have reached the server.
fn classify(operation: &'static str, e: BoxError) -> Failure {
    let chain: &(dyn std::error::Error + 'static) = &*e;
    // TLS to an https proxy failed: say so, or the message would blame the API server.
    #[cfg(feature = "proxy")]
    if let Some(proxy) = find::<ProxyError>(chain)
        && let Some(tls) = tls::find_tls_error(proxy)
    {
        return Failure::Fatal(Error::Tls {
            message: format!("{operation}: proxy {}: {tls}", proxy.proxy()),
        });
    }
    if let Some(tls) = tls::find_tls_error(chain) {
        return Failure::Fatal(Error::Tls {
            message: format!("{operation}: {tls}"),
        });
    }
    let connect = find::<hyper_util::client::legacy::Error>(chain).is_some_and(|e| e.is_connect());
    let e = Error::Transport {
        operation,
        source: e,
    };
    if connect {
        Failure::Connect(e)
    } else {
        Failure::Sent(e)
    }
}

/// `Impersonate-*` headers, as kubectl's `--as`, `--as-group`, `--as-uid`, `--as-user-extra`.
fn impersonation_headers(impersonate: Option<&Impersonate>) -> Result<HeaderMap, Error> {
    let mut headers = HeaderMap::new();
    let Some(imp) = impersonate else {
        return Ok(headers);
    };
    let value = |v: &str| {
        HeaderValue::from_bytes(v.as_bytes()).map_err(|_| Error::Encode {
            operation: "impersonation",
            message: format!("{v:?} cannot be sent in a header"),
        })
    };
    if let Some(user) = &imp.user {
        headers.insert(HeaderName::from_static("impersonate-user"), value(user)?);
    }
    if let Some(uid) = &imp.uid {
        headers.insert(HeaderName::from_static("impersonate-uid"), value(uid)?);
    }
    for group in &imp.groups {
        headers.append(HeaderName::from_static("impersonate-group"), value(group)?);
    }
    for (key, values) in &imp.extra {
        // Keys are percent-encoded into the header name, as client-go does.
        let name = format!("impersonate-extra-{}", encode_header_key(key));
        let name = HeaderName::try_from(name).map_err(|_| Error::Encode {
            operation: "impersonation",
            message: format!("extra key {key:?} cannot be sent in a header"),
        })?;
        for v in values {
            headers.append(name.clone(), value(v)?);
        }
    }
    Ok(headers)
}

/// Percent-encodes what is not a header token character; the name is lowercased as HTTP/2 needs.
fn encode_header_key(key: &str) -> String {
    /// All but RFC 9110's token characters.
    const NOT_TOKEN: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'!')
        .remove(b'#')
        .remove(b'$')
        .remove(b'&')
        .remove(b'\'')
        .remove(b'*')
        .remove(b'+')
        .remove(b'-')
        .remove(b'.')
        .remove(b'^')
        .remove(b'_')
        .remove(b'`')
        .remove(b'|')
        .remove(b'~');
    utf8_percent_encode(key, NOT_TOKEN)
        .to_string()
        .to_ascii_lowercase()
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.shared.config.auth {
            Auth::None => "none",
            Auth::Bearer(_) => "bearer token",
            Auth::TokenFile(_) | Auth::TokenFileWithFallback { .. } => "token file",
            Auth::Basic { .. } => "basic",
            Auth::Exec(_) => "exec plugin",
        };
        f.debug_struct("Client")
            .field("server", &redact(&self.shared.config.server))
            .field("auth", &auth)
            .field(
                "client_certificate",
                &self.shared.config.tls.client_cert_pem.is_some(),
            )
            .field("proxy", &self.shared.config.proxy.as_deref().map(redact))
            .field(
                "transport",
                &match self.shared.transport {
                    Transport::Hyper(_) => "hyper",
                    Transport::Service(_) => "service",
                },
            )
            .field("retries", &self.retries)
            .field("request_timeout", &self.shared.request_timeout)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impersonation_headers_repeat_groups_and_encode_extra_keys() {
        let imp = Impersonate {
            user: Some("jane".into()),
            uid: Some("42".into()),
            groups: vec!["dev".into(), "ops".into()],
            extra: vec![("Scopes/Team".into(), vec!["a".into(), "b".into()])],
        };
        let h = impersonation_headers(Some(&imp)).unwrap();
        assert_eq!(h["impersonate-user"], "jane");
        assert_eq!(h["impersonate-uid"], "42");
        assert_eq!(
            h.get_all("impersonate-group").iter().collect::<Vec<_>>(),
            ["dev", "ops"]
        );
        assert_eq!(
            h.get_all("impersonate-extra-scopes%2fteam").iter().count(),
            2
        );
    }

    #[test]
    fn gzip_is_offered_only_with_the_feature_and_without_disable_compression() {
        let client = Client::new(Config::new("http://127.0.0.1:1")).unwrap();
        assert_eq!(client.gzip(Mode::Json), cfg!(feature = "gzip"));
        assert_eq!(client.gzip(Mode::Watch), cfg!(feature = "gzip"));
        assert!(!client.gzip(Mode::Send));
        let mut config = Config::new("http://127.0.0.1:1");
        config.disable_compression = true;
        assert!(!Client::new(config).unwrap().gzip(Mode::Json));
    }

    #[test]
    fn a_proxy_needs_the_proxy_feature() {
        let mut config = Config::new("https://10.0.0.1:6443");
        config.proxy = Some("http://user:secret@proxy.local:3128".into());
        let result = Client::new(config);
        assert_eq!(result.is_ok(), cfg!(feature = "proxy"));
        if let Err(e) = result {
            let message = e.to_string();
            assert!(message.contains("`proxy` feature"), "{message}");
            assert!(!message.contains("secret"), "{message}");
        }
    }

    #[test]
    fn client_is_send_sync_and_streams_are_unpin() {
        fn check<T: Send + Sync + Unpin>() {}
        check::<Client>();
        check::<WatchStream<serde_json::Value>>();
        check::<ByteStream>();
        check::<Lines>();
    }
}
