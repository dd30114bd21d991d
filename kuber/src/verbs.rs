//! The verbs: each a builder that is sent by `.await`. Typed forms (`ctx.get::<Pod>(name)`)
//! answer the generated type; by-kind-name forms (`ctx.get_kind("Deployment", name)`) answer
//! [`Object`], which downcasts to it.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;

use futures_core::Stream;
use kuber_api::{
    DeleteCollectionParams, DeleteParams, Deleted, GetParams, ListParams, LogParams, Patch,
    PatchParams, Request, WriteParams,
};
use kuber_models::Resource;
use kuber_models::apimachinery::pkg::apis::meta::v1::{DeleteOptions, Preconditions};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::target::Target;
use crate::{Context, Error, List, Object, Result};

/// The boxed future a builder turns into.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Which kind a verb works on: a type's (its apiVersion fixes the version) or a name resolved
/// through discovery.
#[derive(Clone, Debug)]
pub(crate) enum KindRef {
    Typed(Target),
    Named {
        name: String,
        api_version: Option<String>,
    },
}

impl KindRef {
    pub(crate) fn typed<K: Resource>() -> KindRef {
        KindRef::Typed(Target::of::<K>())
    }

    pub(crate) fn named(name: &str) -> KindRef {
        KindRef::Named {
            name: name.to_owned(),
            api_version: None,
        }
    }

    pub(crate) async fn target(&self, ctx: &Context) -> Result<Target> {
        match self {
            KindRef::Typed(t) => Ok(t.clone()),
            KindRef::Named { name, api_version } => {
                crate::discovery::resolve(ctx.resolver(), name, api_version.as_deref()).await
            }
        }
    }

    /// The kind as the caller named it, for errors raised before it is resolved.
    pub(crate) fn label(&self) -> &str {
        match self {
            KindRef::Typed(t) => &t.kind,
            KindRef::Named { name, .. } => name,
        }
    }

    fn set_api_version(&mut self, api_version: &str) {
        if let KindRef::Named { api_version: v, .. } = self {
            *v = Some(api_version.to_owned());
        }
    }
}

/// The namespace a call goes to: the call's, else the object's, else the context's; `"*"` is
/// all namespaces (`None`). Cluster-scoped kinds ignore it.
pub(crate) fn scope<'a>(
    ctx: &'a Context,
    call: Option<&'a str>,
    object: Option<&'a str>,
) -> Option<&'a str> {
    let ns = call
        .or(object.filter(|n| !n.is_empty()))
        .unwrap_or(ctx.namespace());
    (ns != "*").then_some(ns)
}

macro_rules! into_future {
    ($builder:ident<$($g:ident),*> => $out:ty, $($bounds:tt)*) => {
        impl<'a, $($g),*> IntoFuture for $builder<'a, $($g),*>
        where
            $($bounds)*
        {
            type Output = Result<$out>;
            type IntoFuture = BoxFuture<'a, $out>;
            /// Bounded by the context's timeout from the start, discovery included (as
            /// client-go's `rest.Config.Timeout` and kubectl's `--request-timeout`).
            fn into_future(self) -> Self::IntoFuture {
                let (ctx, verb) = (self.ctx, self.verb());
                let kind = self.kind.label().to_owned();
                Box::pin(async move { ctx.timed(verb, &kind, self.send()).await })
            }
        }
    };
}

/// Sends `req`; decodes as `T`. Built-in kinds go in protobuf when the client's encoding is
/// protobuf ([`crate::wire`]); custom resources in JSON.
async fn call<T: DeserializeOwned + 'static>(
    ctx: &Context,
    target: &Target,
    req: Request,
) -> Result<T> {
    req.check()?;
    if crate::wire::is_message(target) {
        return crate::wire::call(ctx, req).await;
    }
    Ok(ctx.client().call::<T>(req).await?)
}

pub(crate) fn need_name(verb: &'static str, kind: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::Missing {
            verb,
            message: format!("the {kind} name is empty (a get of the collection is a list)"),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// get

/// [`Context::get`] and [`Context::get_kind`]: one object by name (or, by kind name without a
/// name, the list).
#[must_use = "a verb does nothing until awaited"]
pub struct Get<'a, O> {
    ctx: &'a Context,
    kind: KindRef,
    name: Option<String>,
    namespace: Option<String>,
    subresource: String,
    params: GetParams,
    _answer: PhantomData<fn() -> O>,
}

impl<'a, O> Get<'a, O> {
    /// Another namespace than the context's.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// A subresource (`status`, `scale`) instead of the object itself.
    pub fn subresource(mut self, name: &str) -> Self {
        self.subresource = name.to_owned();
        self
    }

    /// Kind-name forms: this apiVersion instead of discovery's choice.
    pub fn api_version(mut self, api_version: &str) -> Self {
        self.kind.set_api_version(api_version);
        self
    }
}

impl<'a, O: DeserializeOwned + Send + 'static> Get<'a, O> {
    async fn send(self) -> Result<O> {
        // Refused before discovery: an empty name never costs a request.
        if let Some(name) = &self.name {
            need_name("get", self.kind.label(), name)?;
        }
        let target = self.kind.target(self.ctx).await?;
        let ns = scope(self.ctx, self.namespace.as_deref(), None);
        let req = match &self.name {
            Some(name) => target
                .request("get", &self.subresource, ns, Some(name))?
                .query(&self.params),
            None => target.request("list", "", ns, None)?,
        };
        call(self.ctx, &target, req).await
    }

    fn verb(&self) -> &'static str {
        "get"
    }
}

into_future!(Get<O> => O, O: DeserializeOwned + Send + 'static);

// ---------------------------------------------------------------------------------------------
// list

/// [`Context::list`] and [`Context::list_kind`]: the objects of a kind, with selectors and paging.
#[must_use = "a verb does nothing until awaited"]
pub struct ListCall<'a, O> {
    ctx: &'a Context,
    kind: KindRef,
    namespace: Option<String>,
    params: ListParams,
    _answer: PhantomData<fn() -> O>,
}

impl<'a, O> ListCall<'a, O> {
    /// Another namespace than the context's; `"*"`: all namespaces.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// All namespaces.
    pub fn all_namespaces(self) -> Self {
        self.namespace("*")
    }

    /// A label selector (see [`crate::sel`]).
    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.params.label_selector = Some(selector.into());
        self
    }

    /// A field selector (see [`crate::sel::FieldSelector`]).
    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.params.field_selector = Some(selector.into());
        self
    }

    /// At most `limit` items; the answer's [`List::continue_token`] gets the rest.
    pub fn limit(mut self, limit: i64) -> Self {
        self.params.limit = Some(limit);
        self
    }

    /// The page after the one that gave `token`.
    pub fn continue_token(mut self, token: impl Into<String>) -> Self {
        self.params.continue_ = Some(token.into());
        self
    }

    /// `resourceVersion` (with [`ListCall::resource_version_match`]: `Exact` or `NotOlderThan`).
    pub fn resource_version(mut self, rv: impl Into<String>) -> Self {
        self.params.resource_version = Some(rv.into());
        self
    }

    /// `Exact` or `NotOlderThan`: how [`ListCall::resource_version`] is read.
    pub fn resource_version_match(mut self, how: impl Into<String>) -> Self {
        self.params.resource_version_match = Some(how.into());
        self
    }

    /// The server's own bound on the call.
    pub fn timeout_seconds(mut self, seconds: i64) -> Self {
        self.params.timeout_seconds = Some(seconds);
        self
    }

    /// Any other list parameter.
    pub fn params(mut self, params: ListParams) -> Self {
        self.params = params;
        self
    }

    /// Kind-name forms: this apiVersion instead of discovery's choice.
    pub fn api_version(mut self, api_version: &str) -> Self {
        self.kind.set_api_version(api_version);
        self
    }
}

impl<'a, O: DeserializeOwned + Send + 'static> ListCall<'a, O> {
    async fn send(self) -> Result<List<O>> {
        self.page().await
    }

    fn verb(&self) -> &'static str {
        "list"
    }

    /// One list call: the whole list, or the page [`ListCall::continue_token`] names.
    async fn page(&self) -> Result<List<O>> {
        let target = self.kind.target(self.ctx).await?;
        let mut list = call(self.ctx, &target, self.request(&target)?).await?;
        crate::object::fill_item_types(&mut list, &target.api_version, &target.kind);
        Ok(list)
    }

    fn request(&self, target: &Target) -> Result<Request> {
        let ns = scope(self.ctx, self.namespace.as_deref(), None);
        Ok(target.request("list", "", ns, None)?.query(&self.params))
    }

    /// Every page of the list (pages of [`ListCall::limit`] items, 500 if unset), as they come:
    /// the memory of one page at a time. A continue token that expired (410) ends the stream
    /// with that error.
    pub fn pages(mut self) -> impl Stream<Item = Result<List<O>>> + Send + 'a {
        if self.params.limit.is_none() {
            self.params.limit = Some(500);
        }
        futures_util::stream::unfold(Some(self), |state| async move {
            let this = state?;
            let page = this.ctx.timed("list", this.kind.label(), this.page()).await;
            match page {
                Ok(page) => {
                    let next = page.continue_token().map(str::to_owned).map(|token| {
                        let mut next = this;
                        next.params.continue_ = Some(token);
                        next
                    });
                    Some((Ok(page), next))
                }
                Err(e) => Some((Err(e), None)),
            }
        })
    }
}

into_future!(ListCall<O> => List<O>, O: DeserializeOwned + Send + 'static);

// ---------------------------------------------------------------------------------------------
// put (create), replace

/// [`Context::put`], [`Context::put_object`], [`Context::put_text`]: a create.
#[must_use = "a verb does nothing until awaited"]
pub struct Put<'a, O> {
    ctx: &'a Context,
    kind: KindRef,
    body: Result<Vec<u8>>,
    /// The object's own namespace.
    object_namespace: Option<String>,
    namespace: Option<String>,
    params: WriteParams,
    action: &'static str,
    name: Option<String>,
    subresource: &'static str,
    _answer: PhantomData<fn() -> O>,
}

impl<'a, O> Put<'a, O> {
    /// Another namespace than the object's or the context's.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// `dryRun=All`: the server checks and answers, stores nothing.
    pub fn dry_run(mut self) -> Self {
        self.params.dry_run = Some("All".into());
        self
    }

    /// The field manager recorded in `managedFields`.
    pub fn field_manager(mut self, manager: &str) -> Self {
        self.params.field_manager = Some(manager.to_owned());
        self
    }

    /// `Strict`, `Warn` or `Ignore`: what the server does with unknown or duplicate fields.
    pub fn field_validation(mut self, how: &str) -> Self {
        self.params.field_validation = Some(how.to_owned());
        self
    }
}

impl<'a, O: DeserializeOwned + Send + 'static> Put<'a, O> {
    async fn send(self) -> Result<O> {
        let body = self.body?;
        if self.action == "put" {
            need_name(
                "replace",
                self.kind.label(),
                self.name.as_deref().unwrap_or_default(),
            )?;
        }
        let target = self.kind.target(self.ctx).await?;
        let ns = scope(
            self.ctx,
            self.namespace.as_deref(),
            self.object_namespace.as_deref(),
        );
        let mut req = target
            .request(self.action, self.subresource, ns, self.name.as_deref())?
            .query(&self.params);
        let message = crate::wire::message_body(&target, req.operation, &body);
        req.body = Some(kuber_api::request::Body {
            content_type: "application/json",
            bytes: body,
        });
        if let Some(message) = message {
            req = req.message_bytes(message);
        }
        call(self.ctx, &target, req).await
    }

    fn verb(&self) -> &'static str {
        if self.action == "post" {
            "put"
        } else {
            "replace"
        }
    }
}

into_future!(Put<O> => O, O: DeserializeOwned + Send + 'static);

/// An encoded object with `apiVersion` and `kind` filled when unset, every other member as the
/// type wrote it (`1e3` stays `1e3`).
fn encode_typed<K: Resource + Serialize>(object: &K) -> Result<Vec<u8>> {
    serde_json::to_vec(object)
        .and_then(|bytes| kuber_api::request::with_type_meta(bytes, K::API_VERSION, K::KIND))
        .map_err(|e| Error::Invalid {
            what: format!("{} {}", K::API_VERSION, K::KIND),
            message: e.to_string(),
        })
}

fn encode_object(object: &Object) -> Result<Vec<u8>> {
    serde_json::to_vec(object).map_err(|e| Error::Invalid {
        what: format!("{} {}", object.api_version(), object.kind()),
        message: e.to_string(),
    })
}

/// The kind an untyped object names.
fn object_kind(object: &Object, verb: &'static str) -> Result<KindRef> {
    if object.kind().is_empty() {
        return Err(Error::Missing {
            verb,
            message: "the object has no `kind`".into(),
        });
    }
    Ok(KindRef::Named {
        name: object.kind().to_owned(),
        api_version: Some(object.api_version().to_owned()).filter(|v| !v.is_empty()),
    })
}

// ---------------------------------------------------------------------------------------------
// update (patch), apply

/// The type of a patch, which is its Content-Type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// RFC 6902 JSON patch (`application/json-patch+json`).
    Json,
    /// RFC 7386 merge patch (`application/merge-patch+json`).
    Merge,
    /// Strategic merge patch (`application/strategic-merge-patch+json`), built-in kinds only.
    Strategic,
    /// Server-side apply (`application/apply-patch+yaml`); needs a field manager.
    Apply,
}

impl PatchType {
    /// The Content-Type of a patch of this type.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::Strategic => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
        }
    }
}

/// A patch body and its type: from a [`Patch`] value, or text sent as it is (Kuber.jl encodes a
/// JSON string a second time).
#[derive(Clone, Debug, PartialEq)]
pub struct PatchBody {
    /// How the server merges it.
    pub patch_type: PatchType,
    /// The body, as sent.
    pub bytes: Vec<u8>,
}

impl PatchBody {
    /// `text` sent as it is; it must be JSON (apply takes YAML too).
    pub fn text(patch_type: PatchType, text: &str) -> Result<PatchBody> {
        let valid = if patch_type == PatchType::Apply && !text.trim_start().starts_with('{') {
            kuber_api::yaml::from_str::<serde::de::IgnoredAny>(text)
                .map(drop)
                .map_err(|e| format!("YAML: {e}"))
        } else {
            serde_json::from_str::<serde::de::IgnoredAny>(text)
                .map(drop)
                .map_err(|e| format!("JSON: {e}"))
        };
        valid.map_err(|message| Error::Invalid {
            what: format!("{patch_type:?} patch text"),
            message,
        })?;
        Ok(PatchBody {
            patch_type,
            bytes: text.as_bytes().to_vec(),
        })
    }
}

impl From<Patch> for PatchBody {
    fn from(patch: Patch) -> PatchBody {
        let patch_type = match &patch {
            Patch::Json(_) => PatchType::Json,
            Patch::Merge(_) => PatchType::Merge,
            Patch::Strategic(_) => PatchType::Strategic,
            Patch::Apply(_) | Patch::ApplyEncoded(_) => PatchType::Apply,
        };
        PatchBody {
            patch_type,
            // A Value always encodes, and encoded text is already bytes.
            bytes: patch.body().unwrap_or_default(),
        }
    }
}

/// [`Context::update`], [`Context::update_kind`], [`Context::apply`]: a PATCH.
#[must_use = "a verb does nothing until awaited"]
pub struct Update<'a, O> {
    ctx: &'a Context,
    kind: KindRef,
    name: String,
    namespace: Option<String>,
    object_namespace: Option<String>,
    subresource: String,
    body: Result<PatchBody>,
    params: PatchParams,
    _answer: PhantomData<fn() -> O>,
}

impl<'a, O> Update<'a, O> {
    /// Another namespace than the object's or the context's.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// Patches a subresource (`status`, `scale`).
    pub fn subresource(mut self, name: &str) -> Self {
        self.subresource = name.to_owned();
        self
    }

    /// `dryRun=All`: the server checks and answers, stores nothing.
    pub fn dry_run(mut self) -> Self {
        self.params.dry_run = Some("All".into());
        self
    }

    /// The field manager (required for apply).
    pub fn field_manager(mut self, manager: &str) -> Self {
        self.params.field_manager = Some(manager.to_owned());
        self
    }

    /// Apply: take fields other managers own (a conflict otherwise).
    pub fn force(mut self) -> Self {
        self.params.force = Some(true);
        self
    }

    /// Kind-name forms: this apiVersion instead of discovery's choice.
    pub fn api_version(mut self, api_version: &str) -> Self {
        self.kind.set_api_version(api_version);
        self
    }
}

impl<'a, O: DeserializeOwned + Send + 'static> Update<'a, O> {
    async fn send(self) -> Result<O> {
        let body = self.body?;
        need_name("update", self.kind.label(), &self.name)?;
        let target = self.kind.target(self.ctx).await?;
        let ns = scope(
            self.ctx,
            self.namespace.as_deref(),
            self.object_namespace.as_deref(),
        );
        let mut req = target
            .request("patch", &self.subresource, ns, Some(&self.name))?
            .query(&self.params);
        req.body = Some(kuber_api::request::Body {
            content_type: body.patch_type.content_type(),
            bytes: body.bytes,
        });
        call(self.ctx, &target, req).await
    }

    fn verb(&self) -> &'static str {
        "update"
    }
}

into_future!(Update<O> => O, O: DeserializeOwned + Send + 'static);

// ---------------------------------------------------------------------------------------------
// delete

/// What happens to an object's dependents when it is deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    /// Left without owner.
    Orphan,
    /// Deleted by the garbage collector after the owner.
    Background,
    /// Deleted before the owner, which keeps a `foregroundDeletion` finalizer until then.
    Foreground,
}

impl Propagation {
    fn as_str(self) -> &'static str {
        match self {
            Propagation::Orphan => "Orphan",
            Propagation::Background => "Background",
            Propagation::Foreground => "Foreground",
        }
    }
}

/// [`Context::delete`], [`Context::delete_kind`], [`Context::delete_object`]: answers the object
/// (while finalizers or a grace period run) or the server's `Status`.
#[must_use = "a verb does nothing until awaited"]
pub struct Delete<'a, O> {
    ctx: &'a Context,
    kind: KindRef,
    name: String,
    namespace: Option<String>,
    object_namespace: Option<String>,
    options: DeleteOptions,
    params: DeleteParams,
    _answer: PhantomData<fn() -> O>,
}

impl<'a, O> Delete<'a, O> {
    /// Another namespace than the object's or the context's.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// Seconds before the object is removed; 0 deletes at once.
    pub fn grace_period(mut self, seconds: i64) -> Self {
        self.options.grace_period_seconds = Some(seconds);
        self
    }

    /// What happens to the objects it owns.
    pub fn propagation(mut self, policy: Propagation) -> Self {
        self.options.propagation_policy = Some(policy.as_str().to_owned());
        self
    }

    /// Deletes only if the object still has this uid and/or resourceVersion (409 otherwise).
    pub fn preconditions(mut self, uid: Option<&str>, resource_version: Option<&str>) -> Self {
        self.options.preconditions = Some(Preconditions {
            uid: uid.map(str::to_owned),
            resource_version: resource_version.map(str::to_owned),
            ..Preconditions::default()
        });
        self
    }

    /// `dryRun=All`: the server checks and answers, deletes nothing. Also in the DeleteOptions
    /// body, which the server reads instead of the query whenever a body is sent.
    pub fn dry_run(mut self) -> Self {
        self.params.dry_run = Some("All".into());
        self.options.dry_run = Some(vec!["All".into()]);
        self
    }

    /// Kind-name forms: this apiVersion instead of discovery's choice.
    pub fn api_version(mut self, api_version: &str) -> Self {
        self.kind.set_api_version(api_version);
        self
    }
}

impl<'a, O: DeserializeOwned + Send + 'static> Delete<'a, O> {
    async fn send(self) -> Result<Deleted<O>> {
        need_name("delete", self.kind.label(), &self.name)?;
        let target = self.kind.target(self.ctx).await?;
        let ns = scope(
            self.ctx,
            self.namespace.as_deref(),
            self.object_namespace.as_deref(),
        );
        let req = target
            .request("delete", "", ns, Some(&self.name))?
            .query(&self.params);
        let req = with_options(req, &self.options)?;
        call(self.ctx, &target, req).await
    }

    fn verb(&self) -> &'static str {
        "delete"
    }
}

into_future!(Delete<O> => Deleted<O>, O: DeserializeOwned + Send + 'static);

fn with_options(req: Request, options: &DeleteOptions) -> Result<Request> {
    if *options == DeleteOptions::default() {
        return Ok(req);
    }
    Ok(req.json(options)?)
}

/// [`Context::delete_collection`], [`Context::delete_collection_kind`]: every object a selector
/// picks, in one call.
#[must_use = "a verb does nothing until awaited"]
pub struct DeleteCollection<'a, O> {
    ctx: &'a Context,
    kind: KindRef,
    namespace: Option<String>,
    options: DeleteOptions,
    params: DeleteCollectionParams,
    _answer: PhantomData<fn() -> O>,
}

impl<'a, O> DeleteCollection<'a, O> {
    /// Another namespace than the context's (one namespace: not `"*"`).
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// A label selector (see [`crate::sel`]).
    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.params.label_selector = Some(selector.into());
        self
    }

    /// A field selector (see [`crate::sel::FieldSelector`]).
    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.params.field_selector = Some(selector.into());
        self
    }

    /// Seconds before each object is removed; 0 deletes at once.
    pub fn grace_period(mut self, seconds: i64) -> Self {
        self.options.grace_period_seconds = Some(seconds);
        self
    }

    /// What happens to the objects they own.
    pub fn propagation(mut self, policy: Propagation) -> Self {
        self.options.propagation_policy = Some(policy.as_str().to_owned());
        self
    }

    /// `dryRun=All`: the server checks and answers, deletes nothing. Also in the DeleteOptions
    /// body, which the server reads instead of the query whenever a body is sent.
    pub fn dry_run(mut self) -> Self {
        self.params.dry_run = Some("All".into());
        self.options.dry_run = Some(vec!["All".into()]);
        self
    }
}

impl<'a, O: DeserializeOwned + Send + 'static> DeleteCollection<'a, O> {
    async fn send(self) -> Result<Deleted<List<O>>> {
        let target = self.kind.target(self.ctx).await?;
        let ns = scope(self.ctx, self.namespace.as_deref(), None);
        if target.namespaced && ns.is_none() {
            return Err(Error::Missing {
                verb: "delete_collection",
                message: format!("{} needs one namespace, not \"*\"", target.kind),
            });
        }
        let req = target
            .request("deletecollection", "", ns, None)?
            .query(&self.params);
        let req = with_options(req, &self.options)?;
        let mut answer = call(self.ctx, &target, req).await?;
        if let Deleted::Object(list) = &mut answer {
            crate::object::fill_item_types(list, &target.api_version, &target.kind);
        }
        Ok(answer)
    }

    fn verb(&self) -> &'static str {
        "delete_collection"
    }
}

into_future!(DeleteCollection<O> => Deleted<List<O>>, O: DeserializeOwned + Send + 'static);

// ---------------------------------------------------------------------------------------------
// logs, eviction

/// [`Context::logs`]: a pod's log, whole or followed.
#[must_use = "a verb does nothing until awaited"]
pub struct Logs<'a> {
    ctx: &'a Context,
    pod: String,
    namespace: Option<String>,
    params: LogParams,
}

impl<'a> Logs<'a> {
    /// Another namespace than the context's.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// The container, when the pod has several.
    pub fn container(mut self, name: &str) -> Self {
        self.params.container = Some(name.to_owned());
        self
    }

    /// Only the last `lines` lines.
    pub fn tail_lines(mut self, lines: i64) -> Self {
        self.params.tail_lines = Some(lines);
        self
    }

    /// Only what was written in the last `seconds`.
    pub fn since_seconds(mut self, seconds: i64) -> Self {
        self.params.since_seconds = Some(seconds);
        self
    }

    /// At most `bytes` bytes.
    pub fn limit_bytes(mut self, bytes: i64) -> Self {
        self.params.limit_bytes = Some(bytes);
        self
    }

    /// The previous (crashed) container's log.
    pub fn previous(mut self) -> Self {
        self.params.previous = Some(true);
        self
    }

    /// Each line starts with its RFC 3339 timestamp.
    pub fn timestamps(mut self) -> Self {
        self.params.timestamps = Some(true);
        self
    }

    fn request(&self) -> Result<Request> {
        need_name("logs", "Pod", &self.pod)?;
        let target = pod_target()?;
        let ns = scope(self.ctx, self.namespace.as_deref(), None);
        Ok(target
            .request("get", "log", ns, Some(&self.pod))?
            .query(&self.params))
    }

    async fn send(self) -> Result<String> {
        let req = self.request()?;
        req.check()?;
        self.ctx
            .timed("logs", "Pod", async {
                Ok(self.ctx.client().call_text(req).await?)
            })
            .await
    }

    /// The log followed as it grows, line by line (without the newline), until the container
    /// stops or the stream is dropped.
    pub async fn follow(mut self) -> Result<impl Stream<Item = Result<String>> + Send + 'static> {
        self.params.follow = Some(true);
        let req = self.request()?;
        req.check()?;
        let lines = self
            .ctx
            .timed("logs", "Pod", async {
                Ok(self.ctx.client().stream(req).await?.lines())
            })
            .await?;
        Ok(futures_util::StreamExt::map(lines, |l| {
            l.map_err(Error::from)
        }))
    }
}

impl<'a> IntoFuture for Logs<'a> {
    type Output = Result<String>;
    type IntoFuture = BoxFuture<'a, String>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

#[cfg(feature = "core")]
pub(crate) fn pod_target() -> Result<Target> {
    Ok(Target::of::<kuber_models::api::core::v1::Pod>())
}

#[cfg(not(feature = "core"))]
pub(crate) fn pod_target() -> Result<Target> {
    Err(Error::NotServed {
        kind: "Pod".into(),
        api_version: "v1".into(),
        served: vec!["(kuber built without the `core` feature)".into()],
    })
}

// ---------------------------------------------------------------------------------------------
// The verbs on Context

impl Context {
    /// One object by name: `ctx.get::<Pod>("nginx").await?`.
    ///
    /// ```no_run
    /// # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
    /// use kuber::models::api::apps::v1::Deployment;
    /// let d = ctx.get::<Deployment>("web").namespace("prod").await?;
    /// # Ok(()) }
    /// ```
    pub fn get<K: Resource>(&self, name: &str) -> Get<'_, K> {
        Get {
            ctx: self,
            kind: KindRef::typed::<K>(),
            name: Some(name.to_owned()),
            namespace: None,
            subresource: String::new(),
            params: GetParams::default(),
            _answer: PhantomData,
        }
    }

    /// By kind name (`Deployment`, `deployments`, `deploy`, `Deployment.apps`): one object, or
    /// the list when `name` is `None` (Kuber.jl's `get`).
    ///
    /// ```no_run
    /// # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
    /// use kuber::models::api::apps::v1::Deployment;
    /// let obj = ctx.get_kind("deploy", "web").await?;
    /// let d: Deployment = obj.downcast()?;
    /// let all = ctx.get_kind("Deployment", None).await?; // a DeploymentList
    /// # Ok(()) }
    /// ```
    pub fn get_kind<'n>(&self, kind: &str, name: impl Into<Option<&'n str>>) -> Get<'_, Object> {
        Get {
            ctx: self,
            kind: KindRef::named(kind),
            name: name.into().map(str::to_owned),
            namespace: None,
            subresource: String::new(),
            params: GetParams::default(),
            _answer: PhantomData,
        }
    }

    /// A `status` subresource read.
    pub fn get_status<K: Resource>(&self, name: &str) -> Get<'_, K> {
        self.get::<K>(name).subresource("status")
    }

    /// The `scale` subresource (an `autoscaling/v1` `Scale`).
    #[cfg(feature = "autoscaling")]
    pub fn get_scale<K: Resource>(
        &self,
        name: &str,
    ) -> Get<'_, kuber_models::api::autoscaling::v1::Scale> {
        Get {
            ctx: self,
            kind: KindRef::typed::<K>(),
            name: Some(name.to_owned()),
            namespace: None,
            subresource: "scale".into(),
            params: GetParams::default(),
            _answer: PhantomData,
        }
    }

    /// Sets the replicas through the `scale` subresource.
    #[cfg(feature = "autoscaling")]
    pub fn scale<K: Resource>(
        &self,
        name: &str,
        replicas: i32,
    ) -> Update<'_, kuber_models::api::autoscaling::v1::Scale> {
        let patch = Patch::Merge(serde_json::json!({ "spec": { "replicas": replicas } }));
        Update {
            ctx: self,
            kind: KindRef::typed::<K>(),
            name: name.to_owned(),
            namespace: None,
            object_namespace: None,
            subresource: "scale".into(),
            body: Ok(patch.into()),
            params: PatchParams::default(),
            _answer: PhantomData,
        }
    }

    /// The objects of a kind in the context's namespace (`.namespace("*")`: all).
    ///
    /// ```no_run
    /// # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
    /// use kuber::models::api::core::v1::Pod;
    /// let pods = ctx.list::<Pod>().labels("app=web").all_namespaces().await?;
    /// println!("{} pods at {:?}", pods.items.len(), pods.resource_version());
    /// # Ok(()) }
    /// ```
    pub fn list<K: Resource>(&self) -> ListCall<'_, K> {
        ListCall {
            ctx: self,
            kind: KindRef::typed::<K>(),
            namespace: None,
            params: ListParams::default(),
            _answer: PhantomData,
        }
    }

    /// [`Context::list`] by kind name: items are [`Object`]s.
    pub fn list_kind(&self, kind: &str) -> ListCall<'_, Object> {
        ListCall {
            ctx: self,
            kind: KindRef::named(kind),
            namespace: None,
            params: ListParams::default(),
            _answer: PhantomData,
        }
    }

    /// Creates `object` in its `metadata.namespace`, else the context's; answers what the server
    /// stored. `apiVersion` and `kind` are filled from the type when unset.
    ///
    /// ```no_run
    /// # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
    /// use kuber::models::Resource as _;
    /// use kuber::models::api::core::v1::ConfigMap;
    /// let mut cm = ConfigMap::default();
    /// cm.metadata_mut().name = Some("settings".into());
    /// let created = ctx.put(&cm).field_manager("me").await?;
    /// # Ok(()) }
    /// ```
    pub fn put<K: Resource + Serialize>(&self, object: &K) -> Put<'_, K> {
        Put {
            ctx: self,
            kind: KindRef::typed::<K>(),
            body: encode_typed(object),
            object_namespace: object.namespace().map(str::to_owned),
            namespace: None,
            params: WriteParams::default(),
            action: "post",
            name: None,
            subresource: "",
            _answer: PhantomData,
        }
    }

    /// Creates an untyped object (any kind, custom resources included).
    pub fn put_object(&self, object: &Object) -> Put<'_, Object> {
        let (kind, body) = match object_kind(object, "put") {
            Ok(kind) => (kind, encode_object(object)),
            Err(e) => (KindRef::named(""), Err(e)),
        };
        Put {
            ctx: self,
            kind,
            body,
            object_namespace: object.namespace().map(str::to_owned),
            namespace: None,
            params: WriteParams::default(),
            action: "post",
            name: None,
            subresource: "",
            _answer: PhantomData,
        }
    }

    /// Creates the object JSON or YAML `text` describes (with `apiVersion` and `kind`).
    pub fn put_text(&self, text: &str) -> Put<'_, Object> {
        match crate::object::parse_text(text, "put text") {
            Ok(object) => self.put_object(&object),
            Err(e) => Put {
                ctx: self,
                kind: KindRef::named(""),
                body: Err(e),
                object_namespace: None,
                namespace: None,
                params: WriteParams::default(),
                action: "post",
                name: None,
                subresource: "",
                _answer: PhantomData,
            },
        }
    }

    /// Replaces `object` (PUT): its resourceVersion must be current, else
    /// [`Error::is_conflict`].
    pub fn replace<K: Resource + Serialize>(&self, object: &K) -> Put<'_, K> {
        Put {
            name: Some(object.name().unwrap_or_default().to_owned()),
            action: "put",
            ..self.put(object)
        }
    }

    /// Replaces the `status` of `object` (PUT on the status subresource).
    pub fn replace_status<K: Resource + Serialize>(&self, object: &K) -> Put<'_, K> {
        Put {
            subresource: "status",
            ..self.replace(object)
        }
    }

    /// [`Context::replace`] of an untyped object.
    pub fn replace_object(&self, object: &Object) -> Put<'_, Object> {
        Put {
            name: Some(object.name().unwrap_or_default().to_owned()),
            action: "put",
            ..self.put_object(object)
        }
    }

    /// Patches the object `name` (Kuber.jl's `update!`): the patch type is explicit.
    ///
    /// ```no_run
    /// # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
    /// use kuber::{Patch, PatchBody, PatchType};
    /// use kuber::models::api::apps::v1::Deployment;
    /// let patch = Patch::Merge(serde_json::json!({"spec": {"replicas": 3}}));
    /// ctx.update::<Deployment>("web", patch).await?;
    /// let text = PatchBody::text(PatchType::Json, r#"[{"op":"remove","path":"/metadata/labels/x"}]"#)?;
    /// ctx.update::<Deployment>("web", text).await?;
    /// # Ok(()) }
    /// ```
    pub fn update<K: Resource>(&self, name: &str, patch: impl Into<PatchBody>) -> Update<'_, K> {
        Update {
            ctx: self,
            kind: KindRef::typed::<K>(),
            name: name.to_owned(),
            namespace: None,
            object_namespace: None,
            subresource: String::new(),
            body: Ok(patch.into()),
            params: PatchParams::default(),
            _answer: PhantomData,
        }
    }

    /// [`Context::update`] by kind name.
    pub fn update_kind(
        &self,
        kind: &str,
        name: &str,
        patch: impl Into<PatchBody>,
    ) -> Update<'_, Object> {
        Update {
            ctx: self,
            kind: KindRef::named(kind),
            name: name.to_owned(),
            namespace: None,
            object_namespace: None,
            subresource: String::new(),
            body: Ok(patch.into()),
            params: PatchParams::default(),
            _answer: PhantomData,
        }
    }

    /// Patches the object `object` names (kind, name, namespace from it).
    pub fn update_object(
        &self,
        object: &Object,
        patch: impl Into<PatchBody>,
    ) -> Update<'_, Object> {
        let (kind, body) = match object_kind(object, "update") {
            Ok(kind) => (kind, Ok(patch.into())),
            Err(e) => (KindRef::named(""), Err(e)),
        };
        Update {
            ctx: self,
            kind,
            name: object.name().unwrap_or_default().to_owned(),
            namespace: None,
            object_namespace: object.namespace().map(str::to_owned),
            subresource: String::new(),
            body,
            params: PatchParams::default(),
            _answer: PhantomData,
        }
    }

    /// A `status` subresource patch.
    pub fn update_status<K: Resource>(
        &self,
        name: &str,
        patch: impl Into<PatchBody>,
    ) -> Update<'_, K> {
        self.update::<K>(name, patch).subresource("status")
    }

    /// Server-side apply of `object` as `field_manager` (`.force()` to take fields others own).
    ///
    /// ```no_run
    /// # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
    /// use kuber::models::Resource as _;
    /// use kuber::models::api::core::v1::ConfigMap;
    /// let mut cm = ConfigMap::default();
    /// cm.metadata_mut().name = Some("settings".into());
    /// cm.data = Some([("mode".to_string(), "fast".to_string())].into());
    /// ctx.apply(&cm, "my-controller").force().await?;
    /// # Ok(()) }
    /// ```
    pub fn apply<K: Resource + Serialize>(&self, object: &K, field_manager: &str) -> Update<'_, K> {
        let body = encode_typed(object).map(|bytes| PatchBody {
            patch_type: PatchType::Apply,
            bytes,
        });
        Update {
            ctx: self,
            kind: KindRef::typed::<K>(),
            name: object.name().unwrap_or_default().to_owned(),
            namespace: None,
            object_namespace: object.namespace().map(str::to_owned),
            subresource: String::new(),
            body,
            params: PatchParams::default(),
            _answer: PhantomData,
        }
        .field_manager(field_manager)
    }

    /// Server-side apply of an untyped object (JSON or YAML text: see [`crate::kuber_obj`]).
    pub fn apply_object(&self, object: &Object, field_manager: &str) -> Update<'_, Object> {
        let body = encode_object(object).map(|bytes| PatchBody {
            patch_type: PatchType::Apply,
            bytes,
        });
        let (kind, body) = match object_kind(object, "apply") {
            Ok(kind) => (kind, body),
            Err(e) => (KindRef::named(""), Err(e)),
        };
        Update {
            ctx: self,
            kind,
            name: object.name().unwrap_or_default().to_owned(),
            namespace: None,
            object_namespace: object.namespace().map(str::to_owned),
            subresource: String::new(),
            body,
            params: PatchParams::default(),
            _answer: PhantomData,
        }
        .field_manager(field_manager)
    }

    /// Deletes the object `name`; answers it (while finalizers run) or the server's `Status`.
    ///
    /// ```no_run
    /// # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
    /// use kuber::Propagation;
    /// use kuber::models::api::apps::v1::Deployment;
    /// ctx.delete::<Deployment>("web").propagation(Propagation::Foreground).await?;
    /// # Ok(()) }
    /// ```
    pub fn delete<K: Resource>(&self, name: &str) -> Delete<'_, K> {
        Delete {
            ctx: self,
            kind: KindRef::typed::<K>(),
            name: name.to_owned(),
            namespace: None,
            object_namespace: None,
            options: DeleteOptions::default(),
            params: DeleteParams::default(),
            _answer: PhantomData,
        }
    }

    /// [`Context::delete`] by kind name.
    pub fn delete_kind(&self, kind: &str, name: &str) -> Delete<'_, Object> {
        Delete {
            ctx: self,
            kind: KindRef::named(kind),
            name: name.to_owned(),
            namespace: None,
            object_namespace: None,
            options: DeleteOptions::default(),
            params: DeleteParams::default(),
            _answer: PhantomData,
        }
    }

    /// Deletes the object `object` names.
    pub fn delete_object(&self, object: &Object) -> Delete<'_, Object> {
        Delete {
            kind: object_kind(object, "delete").unwrap_or_else(|_| KindRef::named("")),
            object_namespace: object.namespace().map(str::to_owned),
            ..self.delete_kind("", object.name().unwrap_or_default())
        }
    }

    /// Deletes every object of a kind a selector picks, in one namespace.
    pub fn delete_collection<K: Resource>(&self) -> DeleteCollection<'_, K> {
        DeleteCollection {
            ctx: self,
            kind: KindRef::typed::<K>(),
            namespace: None,
            options: DeleteOptions::default(),
            params: DeleteCollectionParams::default(),
            _answer: PhantomData,
        }
    }

    /// [`Context::delete_collection`] by kind name.
    pub fn delete_collection_kind(&self, kind: &str) -> DeleteCollection<'_, Object> {
        DeleteCollection {
            ctx: self,
            kind: KindRef::named(kind),
            namespace: None,
            options: DeleteOptions::default(),
            params: DeleteCollectionParams::default(),
            _answer: PhantomData,
        }
    }

    /// A pod's log (Kuber.jl's `get_logs`), whole (`.await`) or followed (`.follow()`).
    ///
    /// ```no_run
    /// # async fn run(ctx: kuber::Context) -> kuber::Result<()> {
    /// use futures_util::StreamExt;
    /// let text = ctx.logs("web-0").tail_lines(10).await?;
    /// let mut lines = Box::pin(ctx.logs("web-0").follow().await?);
    /// while let Some(line) = lines.next().await {
    ///     println!("{}", line?);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn logs(&self, pod: &str) -> Logs<'_> {
        Logs {
            ctx: self,
            pod: pod.to_owned(),
            namespace: None,
            params: LogParams::default(),
        }
    }

    /// Evicts a pod (honouring PodDisruptionBudgets: 429 while one forbids it).
    #[cfg(all(feature = "core", feature = "policy"))]
    pub fn evict(&self, pod: &str) -> Put<'_, Object> {
        let eviction = kuber_models::api::policy::v1::Eviction {
            api_version: Some("policy/v1".into()),
            kind: Some("Eviction".into()),
            metadata: Some(
                kuber_models::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                    name: Some(pod.to_owned()),
                    ..Default::default()
                },
            ),
            ..Default::default()
        };
        Put {
            ctx: self,
            kind: KindRef::typed::<kuber_models::api::core::v1::Pod>(),
            body: serde_json::to_vec(&eviction).map_err(|e| Error::Invalid {
                what: "Eviction".into(),
                message: e.to_string(),
            }),
            object_namespace: None,
            namespace: None,
            params: WriteParams::default(),
            action: "post",
            name: Some(pod.to_owned()),
            subresource: "eviction",
            _answer: PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A context whose every request fails (nothing listens on port 9 of localhost).
    fn nowhere() -> Context {
        let config = kuber_api::config::Config::new("http://127.0.0.1:9");
        Context::from_client(kuber_api::Client::new(config).unwrap())
    }

    #[test]
    fn empty_names_are_refused_before_discovery() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let ctx = nowhere();
        let missing = |r: Result<()>| match r {
            Err(Error::Missing { message, .. }) => message,
            other => panic!("expected Error::Missing, got {other:?}"),
        };
        rt.block_on(async {
            let m = missing(ctx.get_kind("ConfigMap", "").await.map(drop));
            assert!(m.starts_with("the ConfigMap name is empty"), "{m}");
            missing(ctx.delete_kind("deploy", "").await.map(drop));
            missing(
                ctx.update_kind("cm", "", Patch::Merge(serde_json::json!({})))
                    .await
                    .map(drop),
            );
            let obj = crate::kuber_obj(r#"{"apiVersion":"v1","kind":"ConfigMap"}"#).unwrap();
            missing(ctx.replace_object(&obj).await.map(drop));
        });
    }
}
