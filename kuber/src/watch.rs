//! Watches that do not end on their own (Kuber.jl's `watch`, with what it lacks): the current
//! state first, then every change, resumed after dropped connections from the last
//! resourceVersion seen, listed again after 410 Gone, backing off on errors.
//!
//! # Events
//!
//! A watch is a [`Stream`] of `Result<`[`Event`]`<K>>`:
//!
//! - [`Event::Listed`] carries the full current state (every object the watch selects) and the
//!   resourceVersion it was read at. It comes first, and again whenever the watch had to start
//!   over because the server no longer kept the history since the last resourceVersion seen
//!   (410 Gone, e.g. after compaction); then `relist` is `true`. A consumer replaces its state
//!   with the items: objects deleted while it could not see are simply absent.
//! - [`Event::Added`], [`Event::Modified`], [`Event::Deleted`]: one change each, in order.
//! - [`Event::Bookmark`]: the server's progress marker (no object changed).
//!
//! The initial state comes from the server's initial-events stream (`sendInitialEvents`) when it
//! serves it, else from a list; either way it is one `Listed` event, so consumers never see
//! which. A watch started with [`Watch::resource_version`] skips the initial state, as
//! Kuber.jl's does.
//!
//! # Errors
//!
//! Errors are items: the stream yields them and goes on (resuming from the last resourceVersion
//! seen, after a backoff: exponential from [`Watch::backoff`]'s first delay, capped, with
//! jitter, reset once a watch delivers an event). It ends only after errors a retry cannot cure
//! without a change elsewhere, yielded last:
//!
//! - the kind is unknown or not served ([`Error::UnknownKind`], [`Error::NotServed`],
//!   [`Error::NoOperation`]), or a name or selector is refused before sending;
//! - the server answers 403 (RBAC forbids the watch), 404 (the kind's collection is gone, e.g.
//!   its CRD was deleted), 400 or 422 (the server refuses the parameters).
//!
//! Dropping the stream closes the connection; nothing keeps running.
//!
//! ```no_run
//! # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
//! use std::collections::BTreeMap;
//! use futures_util::StreamExt as _;
//! use kuber::models::Resource as _;
//! use kuber::models::api::core::v1::Pod;
//! use kuber::watch::Event;
//!
//! let mut pods = BTreeMap::new();
//! let mut events = Box::pin(ctx.watch::<Pod>().labels("app=web").stream());
//! while let Some(event) = events.next().await {
//!     match event {
//!         Ok(Event::Listed { items, relist, .. }) => {
//!             if relist {
//!                 println!("history lost: starting over from the current state");
//!             }
//!             pods = items.into_iter().map(|p| (p.name().unwrap_or("").to_owned(), p)).collect();
//!         }
//!         Ok(Event::Added(p) | Event::Modified(p)) => {
//!             pods.insert(p.name().unwrap_or("").to_owned(), p);
//!         }
//!         Ok(Event::Deleted(p)) => {
//!             pods.remove(p.name().unwrap_or(""));
//!         }
//!         Ok(Event::Bookmark { .. }) => {}
//!         Err(e) => eprintln!("watch: {e} (it goes on)"),
//!     }
//! }
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use futures_core::Stream;
use futures_util::StreamExt as _;
use kuber_api::{ListParams, Request, WatchStream};
use kuber_models::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Status};
use kuber_models::{Resource, WatchEvent};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::target::Target;
use crate::verbs::{KindRef, scope};
use crate::{Context, Error, List, Object, Result};

/// What a watch delivers; see the [module documentation](self).
#[derive(Clone, Debug, PartialEq)]
pub enum Event<K> {
    /// The full current state, read at `resource_version`: first, and after every restart
    /// (`relist: true`) when the history since the last resourceVersion seen was gone.
    Listed {
        /// Every object, in the order the server sent them.
        items: Vec<K>,
        /// Where the watch goes on from.
        resource_version: String,
        /// Whether this replaces a state delivered before (after a 410).
        relist: bool,
    },
    /// An object was created (or came into the selection).
    Added(K),
    /// An object changed.
    Modified(K),
    /// An object was deleted (or left the selection); its last state.
    Deleted(K),
    /// The server has sent everything up to `resource_version`.
    Bookmark {
        /// The resourceVersion the watch has reached.
        resource_version: String,
    },
}

impl<K: Watchable> Event<K> {
    /// The resourceVersion the event brings the watch to (`None` for an object without one).
    pub fn resource_version(&self) -> Option<&str> {
        match self {
            Event::Listed {
                resource_version, ..
            }
            | Event::Bookmark { resource_version } => Some(resource_version),
            Event::Added(o) | Event::Modified(o) | Event::Deleted(o) => {
                o.meta()?.resource_version.as_deref()
            }
        }
    }

    /// The object of an Added, Modified or Deleted event.
    pub fn object(&self) -> Option<&K> {
        match self {
            Event::Added(o) | Event::Modified(o) | Event::Deleted(o) => Some(o),
            _ => None,
        }
    }
}

/// What a watch can deliver: the generated kinds, and [`Object`] (watches by kind name).
pub trait Watchable: DeserializeOwned + Send + 'static {
    /// The object's metadata, for its resourceVersion.
    fn meta(&self) -> Option<&ObjectMeta>;
}

impl<K: Resource + DeserializeOwned + Send + 'static> Watchable for K {
    fn meta(&self) -> Option<&ObjectMeta> {
        self.metadata()
    }
}

impl Watchable for Object {
    fn meta(&self) -> Option<&ObjectMeta> {
        self.metadata()
    }
}

/// The annotation of the bookmark that ends the initial events.
const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";
/// How much the channel forms buffer (Kuber.jl's channel size).
pub const CHANNEL_CAPACITY: usize = 1024;

/// [`Context::watch`] and [`Context::watch_kind`]: the builder of a watch.
#[must_use = "a watch does nothing until streamed"]
pub struct Watch<K> {
    ctx: Context,
    kind: KindRef,
    namespace: Option<String>,
    name: Option<String>,
    labels: Option<String>,
    fields: Option<String>,
    resource_version: Option<String>,
    timeout_seconds: i64,
    initial_events: bool,
    backoff: kuber_api::backoff::Backoff,
    _kind: PhantomData<fn() -> K>,
}

impl Context {
    /// Watches the objects of a kind in the context's namespace (`.namespace("*")`: all); see
    /// [`crate::watch`].
    pub fn watch<K: Resource + Watchable>(&self) -> Watch<K> {
        Watch::new(self, KindRef::typed::<K>())
    }

    /// [`Context::watch`] by kind name: objects are [`Object`]s.
    pub fn watch_kind(&self, kind: &str) -> Watch<Object> {
        Watch::new(self, KindRef::named(kind))
    }
}

impl<K: Watchable> Watch<K> {
    fn new(ctx: &Context, kind: KindRef) -> Watch<K> {
        Watch {
            ctx: ctx.clone(),
            kind,
            namespace: None,
            name: None,
            labels: None,
            fields: None,
            resource_version: None,
            // Under the client's 5-minute idle timeout: the server ends each watch first.
            timeout_seconds: 290,
            initial_events: true,
            backoff: kuber_api::backoff::Backoff::new(
                Duration::from_millis(500),
                Duration::from_secs(30),
            ),
            _kind: PhantomData,
        }
    }

    /// Another namespace than the context's; `"*"`: all namespaces.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// All namespaces.
    pub fn all_namespaces(self) -> Self {
        self.namespace("*")
    }

    /// Only the object `name` (Kuber.jl's watch of one object, which is broken there).
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// A label selector (see [`crate::sel`]).
    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.labels = Some(selector.into());
        self
    }

    /// A field selector.
    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.fields = Some(selector.into());
        self
    }

    /// Starts from `rv` without the initial state (no first [`Event::Listed`]); a 410 still
    /// lists.
    pub fn resource_version(mut self, rv: impl Into<String>) -> Self {
        self.resource_version = Some(rv.into()).filter(|rv: &String| !rv.is_empty());
        self
    }

    /// The server's bound on each watch request (290 s by default); the watch then resumes.
    pub fn timeout_seconds(mut self, seconds: i64) -> Self {
        self.timeout_seconds = seconds;
        self
    }

    /// `false`: the initial state always from a list, never from `sendInitialEvents`.
    pub fn initial_events(mut self, use_them: bool) -> Self {
        self.initial_events = use_them;
        self
    }

    /// The first delay after an error (doubled each time, up to `max`; 0.5 s and 30 s by
    /// default).
    pub fn backoff(mut self, first: Duration, max: Duration) -> Self {
        self.backoff = kuber_api::backoff::Backoff::new(first, max);
        self
    }

    /// Kind-name forms: this apiVersion instead of discovery's choice.
    pub fn api_version(mut self, api_version: &str) -> Self {
        if let KindRef::Named { api_version: v, .. } = &mut self.kind {
            *v = Some(api_version.to_owned());
        }
        self
    }

    /// The events; see the [module documentation](self).
    pub fn stream(self) -> impl Stream<Item = Result<Event<K>>> + Send + 'static {
        let state = Watcher::new(self);
        futures_util::stream::unfold(state, |mut w| async move {
            let item = w.next().await?;
            Some((item, w))
        })
    }

    /// The events in a channel of [`CHANNEL_CAPACITY`] filled by a spawned task, which stops
    /// when the receiver is dropped. Needs a tokio runtime.
    pub fn channel(self) -> mpsc::Receiver<Result<Event<K>>> {
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let stream = self.stream();
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            loop {
                let item = tokio::select! {
                    _ = tx.closed() => break,
                    item = stream.next() => item,
                };
                let Some(item) = item else { break };
                if tx.send(item).await.is_err() {
                    break;
                }
            }
        });
        rx
    }

    /// Kuber.jl's `watch(ctx, …) do stream … end`: runs `f` with the channel of
    /// [`Watch::channel`]; the watch stops when `f` is done.
    ///
    /// ```no_run
    /// # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
    /// use kuber::models::api::core::v1::ConfigMap;
    /// use kuber::watch::Event;
    /// let added = ctx.watch::<ConfigMap>().run(|mut events| async move {
    ///     while let Some(event) = events.recv().await {
    ///         if let Ok(Event::Added(cm)) = event {
    ///             return Some(cm);
    ///         }
    ///     }
    ///     None
    /// }).await;
    /// # Ok(()) }
    /// ```
    pub async fn run<F, Fut, T>(self, f: F) -> T
    where
        F: FnOnce(mpsc::Receiver<Result<Event<K>>>) -> Fut,
        Fut: Future<Output = T>,
    {
        f(self.channel()).await
    }
}

/// Where the watch is in its backoff policy (kuber-api's: doubling, capped, each wait between
/// half and all of its step, so that many watchers do not retry in step).
struct Backoff {
    policy: kuber_api::backoff::Backoff,
    /// Waits since the last delivered event.
    attempt: u32,
}

impl Backoff {
    fn delay(&mut self) -> Duration {
        let delay = self.policy.delay(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// The watch's state between items.
struct Watcher<K> {
    spec: Watch<K>,
    target: Option<Target>,
    /// Where to resume; `None`: the state must be read again.
    rv: Option<String>,
    /// A `Listed` was delivered: the next one is a relist.
    listed: bool,
    /// Whether to ask for the initial events; off once the server refused them.
    initial_events: bool,
    stream: Option<Open<K>>,
    pending: VecDeque<Result<Event<K>>>,
    backoff: Backoff,
    wait: Option<Duration>,
    /// The operation of the last request, for errors the server sends as events.
    operation: &'static str,
    done: bool,
}

/// A watch request in flight.
struct Open<K> {
    events: WatchStream<K>,
    /// The initial events received so far, while the server sends them.
    initial: Option<Vec<K>>,
    opened: Instant,
    delivered: bool,
}

impl<K: Watchable> Watcher<K> {
    fn new(spec: Watch<K>) -> Watcher<K> {
        Watcher {
            rv: spec.resource_version.clone(),
            listed: spec.resource_version.is_some(),
            initial_events: spec.initial_events,
            target: None,
            stream: None,
            pending: VecDeque::new(),
            backoff: Backoff {
                policy: spec.backoff,
                attempt: 0,
            },
            wait: None,
            operation: "watch",
            done: false,
            spec,
        }
    }

    async fn next(&mut self) -> Option<Result<Event<K>>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            if let Some(open) = &mut self.stream {
                let polled = open.events.next().await;
                self.on_stream(polled);
                continue;
            }
            if let Some(wait) = self.wait.take() {
                tokio::time::sleep(wait).await;
            }
            // One bound from discovery until the answer starts (or the list is read).
            let ctx = self.spec.ctx.clone();
            let kind = self.spec.kind.label().to_owned();
            if let Err(e) = ctx.timed("watch", &kind, self.start()).await {
                self.fail(e);
            }
        }
    }

    /// Opens a watch, or lists first.
    async fn start(&mut self) -> Result<()> {
        let target = match &self.target {
            Some(t) => t.clone(),
            None => {
                let t = self.spec.kind.target(&self.spec.ctx).await?;
                self.target = Some(t.clone());
                t
            }
        };
        match self.rv.clone() {
            Some(rv) => {
                let params = ListParams {
                    resource_version: Some(rv),
                    allow_watch_bookmarks: Some(true),
                    ..Default::default()
                };
                match self.open(&target, params).await {
                    Err(e) if e.is_gone() => {
                        self.rv = None;
                        Ok(())
                    }
                    other => other.map(|events| self.opened(events, false)),
                }
            }
            None if self.initial_events => {
                let params = ListParams {
                    send_initial_events: Some(true),
                    resource_version_match: Some("NotOlderThan".into()),
                    allow_watch_bookmarks: Some(true),
                    ..Default::default()
                };
                match self.open(&target, params).await {
                    // A server without the initial-events stream refuses its parameters.
                    Err(e) if matches!(e.status_code(), Some(400 | 422)) => {
                        self.initial_events = false;
                        Ok(())
                    }
                    other => other.map(|events| self.opened(events, true)),
                }
            }
            None => {
                let req = self.request(&target)?;
                req.check()?;
                let mut list: List<K> = if crate::wire::is_message(&target) {
                    crate::wire::call(&self.spec.ctx, req).await?
                } else {
                    self.spec.ctx.client().call(req).await?
                };
                // A list's items lack apiVersion and kind; watch events carry them.
                crate::object::fill_item_types(&mut list, &target.api_version, &target.kind);
                let rv = list.resource_version().unwrap_or_default().to_owned();
                self.listed(list.items, rv);
                Ok(())
            }
        }
    }

    /// The list request: namespace, selectors, name.
    fn request(&self, target: &Target) -> Result<Request> {
        let ns = scope(&self.spec.ctx, self.spec.namespace.as_deref(), None);
        let mut req = target.request("list", "", ns, None)?;
        if let Some(labels) = &self.spec.labels {
            req = req.set("labelSelector", labels.clone());
        }
        if let Some(fields) = &self.spec.fields {
            req = req.set("fieldSelector", fields.clone());
        }
        if let Some(name) = &self.spec.name {
            req = req.select_name(name);
        }
        Ok(req)
    }

    async fn open(&mut self, target: &Target, params: ListParams) -> Result<WatchStream<K>> {
        let params = ListParams {
            watch: Some(true),
            timeout_seconds: Some(self.spec.timeout_seconds),
            ..params
        };
        let req = self.request(target)?.query(&params);
        req.check()?;
        self.operation = req.operation.id;
        let client = self.spec.ctx.client();
        // Built-in kinds in protobuf, when the client's encoding is.
        #[cfg(feature = "protobuf")]
        if let Some(decode) = crate::wire::event_decoder::<K>(target) {
            return Ok(client.watch_with(req, decode).await?);
        }
        Ok(client.watch::<K>(req).await?)
    }

    fn opened(&mut self, events: WatchStream<K>, initial: bool) {
        self.stream = Some(Open {
            events,
            initial: initial.then(Vec::new),
            opened: Instant::now(),
            delivered: false,
        });
    }

    fn listed(&mut self, items: Vec<K>, resource_version: String) {
        self.rv = Some(resource_version.clone()).filter(|rv| !rv.is_empty());
        self.pending.push_back(Ok(Event::Listed {
            items,
            resource_version,
            relist: self.listed,
        }));
        self.listed = true;
    }

    fn on_stream(&mut self, polled: Option<Result<WatchEvent<K>, kuber_api::Error>>) {
        let Some(open) = &mut self.stream else { return };
        let event = match polled {
            Some(Ok(event)) => event,
            Some(Err(e)) => {
                // A decode error leaves the stream usable; a broken connection ends it.
                let ended = !matches!(e, kuber_api::Error::Decode { .. });
                self.pending.push_back(Err(e.into()));
                if ended {
                    self.closed();
                }
                return;
            }
            None => {
                self.closed();
                return;
            }
        };
        if !matches!(event, WatchEvent::Error(_)) {
            open.delivered = true;
            self.backoff.reset();
        }
        let rv_of = |o: &K| o.meta().and_then(|m| m.resource_version.clone());
        let deleted = matches!(event, WatchEvent::Deleted(_));
        match event {
            WatchEvent::Added(o) if open.initial.is_some() => {
                open.initial.get_or_insert_default().push(o);
            }
            WatchEvent::Bookmark(o) if open.initial.is_some() => {
                let end = o
                    .meta()
                    .and_then(|m| m.annotations.as_ref())
                    .and_then(|a| a.get(INITIAL_EVENTS_END))
                    .is_some_and(|v| v == "true");
                if end {
                    let items = open.initial.take().unwrap_or_default();
                    self.listed(items, rv_of(&o).unwrap_or_default());
                }
            }
            // Changes among the initial events (not expected): folded into the state.
            WatchEvent::Modified(o) | WatchEvent::Deleted(o) if open.initial.is_some() => {
                let initial = open.initial.get_or_insert_default();
                let key = |k: &K| k.meta().map(|m| (m.namespace.clone(), m.name.clone()));
                initial.retain(|k| key(k) != key(&o));
                if !deleted {
                    initial.push(o);
                }
            }
            WatchEvent::Added(o) => self.delivered(rv_of(&o), Event::Added(o)),
            WatchEvent::Modified(o) => self.delivered(rv_of(&o), Event::Modified(o)),
            WatchEvent::Deleted(o) => self.delivered(rv_of(&o), Event::Deleted(o)),
            WatchEvent::Bookmark(o) => {
                let rv = rv_of(&o).unwrap_or_default();
                self.delivered(
                    Some(rv.clone()),
                    Event::Bookmark {
                        resource_version: rv,
                    },
                );
            }
            WatchEvent::Error(status) => self.error_event(status),
        }
    }

    fn delivered(&mut self, rv: Option<String>, event: Event<K>) {
        if let Some(rv) = rv.filter(|rv| !rv.is_empty()) {
            self.rv = Some(rv);
        }
        self.pending.push_back(Ok(event));
    }

    /// An ERROR event: 410 starts over from the current state; others are yielded and the
    /// watch resumes after a backoff. The server ends the stream after one either way.
    fn error_event(&mut self, status: Status) {
        let code = status
            .code
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(500);
        self.stream = None;
        if code == 410 {
            self.rv = None;
            return;
        }
        let operation = self.operation;
        let body = status.message.clone().unwrap_or_default();
        let error = kuber_api::Error::Api(Box::new(kuber_api::ApiError {
            code,
            status: Some(status),
            body,
            operation,
        }));
        self.fail(error.into());
    }

    /// The stream ended (the server's timeout, or a dropped connection): resume, at once if it
    /// was healthy.
    fn closed(&mut self) {
        if let Some(open) = self.stream.take() {
            let healthy = open.delivered || open.opened.elapsed() > Duration::from_secs(1);
            if !healthy {
                self.wait = Some(self.backoff.delay());
            }
        }
    }

    /// Yields `error`; ends the watch if retrying cannot help, else backs off.
    fn fail(&mut self, error: Error) {
        self.stream = None;
        let fatal = match &error {
            Error::Api(kuber_api::Error::Api(api)) => matches!(api.code, 400 | 403 | 404 | 422),
            Error::Api(kuber_api::Error::InvalidParameter { .. }) => true,
            Error::Api(_) | Error::Timeout { .. } => false,
            _ => true,
        };
        self.pending.push_back(Err(error));
        if fatal {
            self.done = true;
        } else {
            self.wait = Some(self.backoff.delay());
        }
    }
}
