//! What the by-kind-name verbs answer: [`Object`], any Kubernetes object (or list) that can be
//! matched on its kind and downcast to the generated type; [`List`], a typed list; and Kuber.jl's
//! [`kuber_obj`] and [`kuber_type`].

use std::any::TypeId;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use kuber_models::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};
use kuber_models::special::RawJson;
use kuber_models::{DynamicObject, TypeVisitor};
use serde::de::{Deserialize, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::{Error, Result};

/// Any Kubernetes object, of a kind the models know or not: typed metadata, every other member
/// kept as it came (nothing is lost on the way back). [`Object::downcast`] gives the generated
/// type for its apiVersion/kind; [`Object::dynamic`] the untyped form.
///
/// ```
/// use kuber::Object;
/// use kuber::models::api::core::v1::ConfigMap;
///
/// let obj = kuber::kuber_obj(r#"{"apiVersion":"v1","kind":"ConfigMap",
///                               "metadata":{"name":"c"},"data":{"a":"1"}}"#)?;
/// assert!(obj.is::<ConfigMap>());
/// match obj.kind() {
///     "ConfigMap" => {
///         let cm: ConfigMap = obj.downcast()?;
///         assert_eq!(cm.data.unwrap()["a"], "1");
///     }
///     other => panic!("unexpected {other}"),
/// }
/// # Ok::<(), kuber::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object {
    inner: DynamicObject,
}

impl Object {
    /// `apiVersion`, `""` if the object has none.
    pub fn api_version(&self) -> &str {
        self.inner.api_version.as_deref().unwrap_or_default()
    }

    /// `kind`, `""` if the object has none.
    pub fn kind(&self) -> &str {
        self.inner.kind.as_deref().unwrap_or_default()
    }

    /// The object's metadata.
    pub fn metadata(&self) -> Option<&ObjectMeta> {
        self.inner.metadata.as_ref()
    }

    /// `metadata.name`.
    pub fn name(&self) -> Option<&str> {
        self.metadata()?.name.as_deref()
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata()?.namespace.as_deref()
    }

    /// `metadata.resourceVersion`.
    pub fn resource_version(&self) -> Option<&str> {
        self.metadata()?.resource_version.as_deref()
    }

    /// A member other than apiVersion, kind and metadata (`spec`, `status`, `items`...), as JSON.
    pub fn field(&self, name: &str) -> Option<&RawJson> {
        self.inner.fields.get(name)
    }

    /// Whether the object is a `T`: the generated type for its apiVersion and kind.
    pub fn is<T: 'static>(&self) -> bool {
        type_id(self.api_version(), self.kind()) == Some(TypeId::of::<T>())
    }

    /// The object as the generated type for its apiVersion and kind; an object of another kind is
    /// [`Error::WrongType`].
    pub fn downcast<T: DeserializeOwned + 'static>(&self) -> Result<T> {
        if !self.is::<T>() {
            return Err(Error::WrongType {
                api_version: self.api_version().to_owned(),
                kind: self.kind().to_owned(),
                expected: std::any::type_name::<T>(),
            });
        }
        let text = self.json_text().map_err(|e| self.invalid(e))?;
        serde_json::from_str(&text).map_err(|e| self.invalid(e))
    }

    /// The object as JSON text, members other than metadata copied as they came: no re-parse of
    /// `spec`/`status` (encoding through serde would re-read each).
    fn json_text(&self) -> serde_json::Result<String> {
        let size: usize = self
            .inner
            .fields
            .iter()
            .map(|(k, v)| k.len() + v.as_str().len() + 4)
            .sum();
        let mut out = String::with_capacity(size + 1024);
        out.push('{');
        let member = |out: &mut String, key: &str, value: &str| -> serde_json::Result<()> {
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(key)?);
            out.push(':');
            out.push_str(value);
            Ok(())
        };
        if let Some(v) = &self.inner.api_version {
            member(&mut out, "apiVersion", &serde_json::to_string(v)?)?;
        }
        if let Some(v) = &self.inner.kind {
            member(&mut out, "kind", &serde_json::to_string(v)?)?;
        }
        if let Some(m) = &self.inner.metadata {
            member(&mut out, "metadata", &serde_json::to_string(m)?)?;
        }
        for (key, value) in &self.inner.fields {
            member(&mut out, key, value.as_str())?;
        }
        out.push('}');
        Ok(out)
    }

    fn invalid(&self, e: serde_json::Error) -> Error {
        Error::Invalid {
            what: format!("{} {}", self.api_version(), self.kind()),
            message: e.to_string(),
        }
    }

    /// The untyped form.
    pub fn dynamic(&self) -> &DynamicObject {
        &self.inner
    }

    /// The untyped form, owned.
    pub fn into_dynamic(self) -> DynamicObject {
        self.inner
    }

    /// What the models know of the object's apiVersion/kind; `None` for kinds they do not know
    /// (custom resources), which stay [`DynamicObject`]s.
    pub fn type_info(&self) -> Option<TypeInfo> {
        kuber_type(self.api_version(), self.kind())
    }

    /// The items of a list (`PodList`, a custom resource list), each an `Object`; `None` if the
    /// object has no `items`.
    /// Items without `apiVersion`/`kind` (the API server leaves them out of built-in lists) get
    /// the list's apiVersion and its kind without `List`.
    pub fn items(&self) -> Option<Result<Vec<Object>>> {
        let items = self.field("items")?;
        let mut items: Vec<Object> = match serde_json::from_str(items.as_str()) {
            Ok(items) => items,
            Err(e) => return Some(Err(self.invalid(e))),
        };
        if let Some(kind) = self.kind().strip_suffix("List") {
            for item in &mut items {
                item.fill_type(self.api_version(), kind);
            }
        }
        Some(Ok(items))
    }

    /// Sets `apiVersion` and `kind` where the object has none: the server leaves them out of
    /// list items, and without them an item can be neither matched nor downcast.
    pub(crate) fn fill_type(&mut self, api_version: &str, kind: &str) {
        let unset = |v: &Option<String>| v.as_deref().is_none_or(str::is_empty);
        if unset(&self.inner.api_version) && !api_version.is_empty() {
            self.inner.api_version = Some(api_version.to_owned());
        }
        if unset(&self.inner.kind) && !kind.is_empty() {
            self.inner.kind = Some(kind.to_owned());
        }
    }
}

impl From<DynamicObject> for Object {
    fn from(inner: DynamicObject) -> Object {
        Object { inner }
    }
}

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.inner.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        DynamicObject::deserialize(deserializer).map(Object::from)
    }
}

/// What the models know of an apiVersion/kind (Kuber.jl's `kuber_type`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeInfo {
    /// The Rust type, e.g. `kuber_models::api::core::v1::Pod`.
    pub type_name: String,
    /// Where the kind is served, when the API serves it (lists and other types have none).
    pub resource: Option<&'static kuber_api::KindInfo>,
}

impl TypeInfo {
    /// The path segment of the collection, e.g. `pods`.
    pub fn plural(&self) -> Option<&'static str> {
        self.resource.map(|r| r.plural)
    }

    /// Whether objects live in a namespace.
    pub fn namespaced(&self) -> Option<bool> {
        self.resource.map(|r| r.namespaced)
    }

    /// The verbs of the kind's own paths (get, list, post, ...), empty when not served.
    pub fn verbs(&self) -> &'static [&'static str] {
        self.resource.map(|r| r.verbs).unwrap_or_default()
    }
}

struct TypeIdOf;

impl TypeVisitor for TypeIdOf {
    type Output = (TypeId, &'static str);
    fn visit<T>(self) -> Self::Output
    where
        T: Serialize + DeserializeOwned + Clone + fmt::Debug + PartialEq + 'static,
    {
        (TypeId::of::<T>(), std::any::type_name::<T>())
    }
}

fn type_id(api_version: &str, kind: &str) -> Option<TypeId> {
    kuber_models::with_type(api_version, kind, TypeIdOf).map(|(id, _)| id)
}

/// Kuber.jl's `kuber_type`: what the models and registry know of `apiVersion` + `kind`: the
/// Rust type, and where the kind is served (plural, scope, verbs). `None` for kinds the models do
/// not know (and groups left out by cargo features).
///
/// ```
/// let t = kuber::kuber_type("apps/v1", "Deployment").unwrap();
/// assert_eq!(t.type_name, "kuber_models::api::apps::v1::Deployment");
/// assert_eq!((t.plural(), t.namespaced()), (Some("deployments"), Some(true)));
/// assert!(kuber::kuber_type("example.com/v1", "Widget").is_none());
/// ```
pub fn kuber_type(api_version: &str, kind: &str) -> Option<TypeInfo> {
    let (_, name) = kuber_models::with_type(api_version, kind, TypeIdOf)?;
    Some(TypeInfo {
        // `generated` is a private module of kuber-models; the public path leaves it out.
        type_name: name.replacen("::generated::", "::", 1),
        resource: kuber_api::KINDS
            .iter()
            .find(|k| k.api_version == api_version && k.kind == kind),
    })
}

/// Kuber.jl's `kuber_obj`: JSON or YAML text (one document) → the object, which
/// [`Object::downcast`]s to the generated type for its apiVersion/kind. `kind` and `apiVersion`
/// are required; nothing is dropped (members the models do not know are kept).
///
/// ```
/// let pod = kuber::kuber_obj("apiVersion: v1\nkind: Pod\nmetadata:\n  name: nginx\n")?;
/// assert_eq!((pod.kind(), pod.name()), ("Pod", Some("nginx")));
/// let err = kuber::kuber_obj("metadata: {name: x}").unwrap_err();
/// assert_eq!(err.to_string(), "object text: no `apiVersion`");
/// # Ok::<(), kuber::Error>(())
/// ```
pub fn kuber_obj(text: &str) -> Result<Object> {
    let object = parse_text(text, "object text")?;
    check_typed(object, "object text")
}

/// A `serde_json::Value` → [`Object`], as [`kuber_obj`].
pub fn kuber_obj_value(value: serde_json::Value) -> Result<Object> {
    let object = serde_json::from_value::<Object>(value).map_err(|e| Error::Invalid {
        what: "object value".into(),
        message: e.to_string(),
    })?;
    check_typed(object, "object value")
}

fn check_typed(object: Object, what: &str) -> Result<Object> {
    for (member, value) in [
        ("apiVersion", object.api_version()),
        ("kind", object.kind()),
    ] {
        if value.is_empty() {
            return Err(Error::Invalid {
                what: what.into(),
                message: format!("no `{member}`"),
            });
        }
    }
    Ok(object)
}

/// JSON text, else YAML text (one document), as an object.
pub(crate) fn parse_text(text: &str, what: &str) -> Result<Object> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        return serde_json::from_str(text).map_err(|e| Error::Invalid {
            what: what.into(),
            message: format!("JSON: {e}"),
        });
    }
    // Straight into the object, so that the typed metadata reads `name: y` as the string the
    // field is (through an untyped `Value` it would be YAML's boolean).
    kuber_api::yaml::from_str::<Object>(text).map_err(|e| Error::Invalid {
        what: what.into(),
        message: format!("YAML: {e}"),
    })
}

/// A list of `K`s as a list call answers it: `items` typed, the list metadata (resourceVersion,
/// continue token) and anything else kept.
#[derive(Clone, Debug, PartialEq)]
pub struct List<K> {
    /// e.g. `v1`.
    pub api_version: Option<String>,
    /// e.g. `PodList`.
    pub kind: Option<String>,
    /// resourceVersion, continue token, remaining item count.
    pub metadata: ListMeta,
    /// The objects.
    pub items: Vec<K>,
    /// Other members, as they came.
    pub fields: BTreeMap<String, RawJson>,
}

impl<K> Default for List<K> {
    fn default() -> Self {
        List {
            api_version: None,
            kind: None,
            metadata: ListMeta::default(),
            items: Vec::new(),
            fields: BTreeMap::new(),
        }
    }
}

impl<K> List<K> {
    /// The list's resourceVersion, to watch from.
    pub fn resource_version(&self) -> Option<&str> {
        self.metadata.resource_version.as_deref()
    }

    /// The token for the next page; `None` on the last page.
    pub fn continue_token(&self) -> Option<&str> {
        self.metadata.continue_.as_deref().filter(|t| !t.is_empty())
    }
}

/// Fills `apiVersion`/`kind` of the items of a list of [`Object`]s (typed lists are left as
/// they are): from the list's own (`ConfigMapList` → `ConfigMap`), else the given ones.
pub(crate) fn fill_item_types<O: 'static>(list: &mut List<O>, api_version: &str, kind: &str) {
    let Some(list) = (list as &mut dyn std::any::Any).downcast_mut::<List<Object>>() else {
        return;
    };
    let api_version = list
        .api_version
        .clone()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| api_version.to_owned());
    let kind = list
        .kind
        .as_deref()
        .and_then(|k| k.strip_suffix("List"))
        .filter(|k| !k.is_empty())
        .unwrap_or(kind)
        .to_owned();
    for item in &mut list.items {
        item.fill_type(&api_version, &kind);
    }
}

impl<K> IntoIterator for List<K> {
    type Item = K;
    type IntoIter = std::vec::IntoIter<K>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<K: Serialize> Serialize for List<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        if let Some(v) = &self.api_version {
            m.serialize_entry("apiVersion", v)?;
        }
        if let Some(v) = &self.kind {
            m.serialize_entry("kind", v)?;
        }
        m.serialize_entry("metadata", &self.metadata)?;
        m.serialize_entry("items", &self.items)?;
        for (k, v) in &self.fields {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, K: Deserialize<'de>> Deserialize<'de> for List<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<K>(PhantomData<K>);
        impl<'de, K: Deserialize<'de>> Visitor<'de> for V<K> {
            type Value = List<K>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Kubernetes list")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<List<K>, A::Error> {
                let mut out = List::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "apiVersion" => out.api_version = map.next_value()?,
                        "kind" => out.kind = map.next_value()?,
                        "metadata" => {
                            out.metadata = map.next_value::<Option<_>>()?.unwrap_or_default();
                        }
                        "items" => out.items = map.next_value::<Option<_>>()?.unwrap_or_default(),
                        _ => {
                            out.fields.insert(key, map.next_value()?);
                        }
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kuber_models::api::apps::v1::Deployment;
    use kuber_models::api::core::v1::{ConfigMap, Pod};

    #[test]
    fn objects_downcast_only_to_their_own_type() {
        let obj = kuber_obj(r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":3,"x-new":1}}"#).unwrap();
        assert!(obj.is::<Deployment>());
        assert!(!obj.is::<Pod>());
        let d: Deployment = obj.downcast().unwrap();
        assert_eq!(d.spec.as_ref().unwrap().replicas, Some(3));
        // The member the model does not know survives the downcast.
        let back = serde_json::to_string(&d).unwrap();
        assert!(back.contains(r#""x-new":1"#), "{back}");
        let err = obj.downcast::<ConfigMap>().unwrap_err();
        assert!(matches!(err, Error::WrongType { .. }), "{err}");
        assert!(
            err.to_string().starts_with("apps/v1 Deployment is not a "),
            "{err}"
        );
    }

    #[test]
    fn downcasts_read_members_as_they_came() {
        let obj = kuber_obj(r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":3,"x":1e3,"y":"a\"b"}}"#).unwrap();
        let d: Deployment = obj.downcast().unwrap();
        let back = serde_json::to_string(&d).unwrap();
        assert!(back.contains(r#""y":"a\"b""#), "{back}");
        assert_eq!(d.spec.unwrap().replicas, Some(3));
    }

    #[test]
    fn custom_kinds_stay_dynamic_and_lossless() {
        let text = r#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":1e3}}"#;
        let obj = kuber_obj(text).unwrap();
        assert!(obj.type_info().is_none());
        assert_eq!(obj.field("spec").unwrap().as_str(), r#"{"size":1e3}"#);
        let back: serde_json::Value = serde_json::to_value(&obj).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
    }

    #[test]
    fn yaml_and_bad_text_are_told_apart() {
        let obj = kuber_obj("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: 'x'\n").unwrap();
        let cm: ConfigMap = obj.downcast().unwrap();
        assert_eq!(cm.data.unwrap()["a"], "x");
        let err = kuber_obj("{\"kind\": ").unwrap_err().to_string();
        assert!(err.starts_with("object text: JSON: "), "{err}");
        let err = kuber_obj("- a\n- b\n").unwrap_err().to_string();
        assert!(err.starts_with("object text: YAML: "), "{err}");
        // Typed metadata reads what YAML 1.1 would take for a boolean as the string it is.
        let obj = kuber_obj("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n").unwrap();
        assert_eq!(obj.name(), Some("y"));
        let err = kuber_obj(r#"{"apiVersion":"v1"}"#).unwrap_err().to_string();
        assert_eq!(err, "object text: no `kind`");
    }

    #[test]
    fn yaml_manifests_read_by_type_and_refuse_duplicate_keys() {
        // Typed fields (metadata) take the scalar's text; the rest follows the YAML 1.2 core schema.
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 123\n  labels: {on: true}\n\
                    data: {n: '1', b: yes}\nextra: {n: 1, s: '1', b: true, z: ~}\n";
        let obj = kuber_obj(text).unwrap();
        assert_eq!(obj.name(), Some("123"));
        assert_eq!(
            obj.field("extra").unwrap().as_str(),
            r#"{"b":true,"n":1,"s":"1","z":null}"#
        );
        let cm: ConfigMap = obj.downcast().unwrap();
        assert_eq!(cm.metadata.unwrap().labels.unwrap()["on"], "true");
        assert_eq!(cm.data.unwrap()["b"], "yes");
        // A key given twice is an error naming it and where, as before.
        let err = kuber_obj("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: x\n  a: SECRET\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "object text: YAML: line 5 column 3: duplicate key `a`");
    }

    #[test]
    fn lists_keep_their_metadata_and_items() {
        let text = r#"{"apiVersion":"v1","kind":"PodList","metadata":{"resourceVersion":"7","continue":"abc"},"items":[{"metadata":{"name":"a"}}],"extra":true}"#;
        let list: List<Pod> = serde_json::from_str(text).unwrap();
        assert_eq!(list.resource_version(), Some("7"));
        assert_eq!(list.continue_token(), Some("abc"));
        assert_eq!(
            list.items[0].metadata.as_ref().unwrap().name.as_deref(),
            Some("a")
        );
        let back: serde_json::Value = serde_json::to_value(&list).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
        let obj = kuber_obj(text).unwrap();
        let items = obj.items().unwrap().unwrap();
        assert_eq!(items[0].name(), Some("a"));
        // Built-in lists leave the items' type out; the list's gives it back.
        assert_eq!((items[0].api_version(), items[0].kind()), ("v1", "Pod"));
        assert!(items[0].is::<Pod>());
    }

    #[test]
    fn list_items_get_the_list_type() {
        // Servers send list items without apiVersion/kind.
        let text = r#"{"apiVersion":"apps/v1","kind":"DeploymentList","metadata":{},"items":[{"metadata":{"name":"a"}},{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"b"}}]}"#;
        let mut list: List<Object> = serde_json::from_str(text).unwrap();
        fill_item_types(&mut list, "v1", "Other");
        for item in &list.items {
            assert_eq!((item.api_version(), item.kind()), ("apps/v1", "Deployment"));
            assert!(item.is::<Deployment>());
        }
        let mut bare: List<Object> =
            serde_json::from_str(r#"{"items":[{"metadata":{"name":"a"}}]}"#).unwrap();
        fill_item_types(&mut bare, "example.com/v1", "Widget");
        assert_eq!(bare.items[0].kind(), "Widget");
        // Typed lists are left alone.
        let mut typed: List<Pod> =
            serde_json::from_str(r#"{"kind":"PodList","items":[{}]}"#).unwrap();
        fill_item_types(&mut typed, "v1", "Pod");
        assert_eq!(typed.items[0].kind, None);
        let obj = kuber_obj(text).unwrap();
        let items = obj.items().unwrap().unwrap();
        assert_eq!(items[0].kind(), "Deployment");
        assert!(items[0].downcast::<Deployment>().is_ok());
    }

    #[test]
    fn kuber_type_names_the_public_path() {
        let t = kuber_type("v1", "PodList").unwrap();
        assert_eq!(t.type_name, "kuber_models::api::core::v1::PodList");
        assert!(t.resource.is_none());
        let ns = kuber_type("v1", "Namespace").unwrap();
        assert_eq!(ns.namespaced(), Some(false));
        assert!(ns.verbs().contains(&"delete"));
    }
}
