//! Finds every `$ref` of a document, rewrites swagger 2.0 targets to their OpenAPI 3 places, and
//! keeps the ones the document does not define itself so they can be checked after merging.

use std::collections::HashSet;

use super::json::{Json, Map, push_segment, unescape_segment};

/// The `components` maps a `$ref` can point into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Schemas,
    Parameters,
    Responses,
    RequestBodies,
    Headers,
    Examples,
    Links,
    Callbacks,
    SecuritySchemes,
}

impl Kind {
    pub(crate) const ALL: [Kind; 9] = [
        Kind::Schemas,
        Kind::Parameters,
        Kind::Responses,
        Kind::RequestBodies,
        Kind::Headers,
        Kind::Examples,
        Kind::Links,
        Kind::Callbacks,
        Kind::SecuritySchemes,
    ];

    /// Key under `components`.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Kind::Schemas => "schemas",
            Kind::Parameters => "parameters",
            Kind::Responses => "responses",
            Kind::RequestBodies => "requestBodies",
            Kind::Headers => "headers",
            Kind::Examples => "examples",
            Kind::Links => "links",
            Kind::Callbacks => "callbacks",
            Kind::SecuritySchemes => "securitySchemes",
        }
    }

    fn from_key(key: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.key() == key)
    }

    /// Top-level key of the same map in a swagger 2.0 document.
    pub(crate) fn v2_key(self) -> Option<&'static str> {
        match self {
            Kind::Schemas => Some("definitions"),
            Kind::Parameters => Some("parameters"),
            Kind::Responses => Some("responses"),
            Kind::SecuritySchemes => Some("securityDefinitions"),
            _ => None,
        }
    }
}

/// A `$ref` whose target its own document does not define.
#[derive(Debug, Clone)]
pub(crate) struct Unresolved {
    /// Where the `$ref` sits, as a JSON pointer into the document as written.
    pub location: String,
    /// The `$ref` as written.
    pub target: String,
    pub kind: Kind,
    pub name: String,
}

/// A `$ref` that can never resolve: not local, or not into a components map.
#[derive(Debug)]
pub(crate) struct Unsupported {
    pub location: String,
    pub target: String,
}

/// Names a document defines, per components map (indexed by `Kind as usize`).
#[derive(Default)]
pub(crate) struct Defined([HashSet<String>; Kind::ALL.len()]);

impl Defined {
    pub(crate) fn from_v2(root: &Map) -> Defined {
        Defined::collect(
            Kind::ALL
                .into_iter()
                .filter_map(|k| Some((k, root.get(k.v2_key()?)?))),
        )
    }

    pub(crate) fn from_v3(root: &Map) -> Defined {
        let components = root.get("components").and_then(Json::as_object);
        Defined::collect(
            Kind::ALL
                .into_iter()
                .filter_map(|k| Some((k, components?.get(k.key())?))),
        )
    }

    fn collect<'a>(maps: impl Iterator<Item = (Kind, &'a Json)>) -> Defined {
        let mut defined = Defined::default();
        for (kind, map) in maps {
            if let (Some(map), Some(set)) = (map.as_object(), defined.0.get_mut(kind as usize)) {
                set.extend(map.keys().cloned());
            }
        }
        defined
    }

    fn contains(&self, kind: Kind, name: &str) -> bool {
        self.0
            .get(kind as usize)
            .is_some_and(|set| set.contains(name))
    }
}

/// Keys whose children are names chosen by the author (property names, paths, status codes,
/// media types…), not keywords: a child called `default` or `x-foo` there is not a keyword.
const NAME_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "definitions",
    "paths",
    "responses",
    "parameters",
    "securityDefinitions",
    "schemas",
    "requestBodies",
    "headers",
    "content",
    "securitySchemes",
    "links",
    "callbacks",
    "examples",
    "dependencies",
    "encoding",
];

/// Keywords whose values are data, not schema: a `$ref` key inside them is not a reference.
fn is_data(key: &str, v2: bool) -> bool {
    key.starts_with("x-")
        || matches!(key, "default" | "example" | "enum" | "value")
        // Swagger 2.0 response examples are media type → raw value.
        || (v2 && key == "examples")
}

pub(crate) struct Walk<'a> {
    v2: bool,
    defined: &'a Defined,
    path: String,
    pub unresolved: Vec<Unresolved>,
    pub unsupported: Vec<Unsupported>,
    /// A `$ref` that is not a string: its location and what it is instead.
    pub not_a_string: Option<(String, &'static str)>,
}

impl<'a> Walk<'a> {
    pub(crate) fn new(v2: bool, defined: &'a Defined) -> Walk<'a> {
        Walk {
            v2,
            defined,
            path: String::new(),
            unresolved: Vec::new(),
            unsupported: Vec::new(),
            not_a_string: None,
        }
    }

    /// Visits a whole document.
    pub(crate) fn walk_root(&mut self, root: &mut Map) {
        self.walk_map(root, false);
    }

    /// `names` says whether `map`'s keys are names (see [`NAME_MAPS`]) rather than keywords.
    fn walk_map(&mut self, map: &mut Map, names: bool) {
        for (key, child) in map.iter_mut() {
            if !names && key == "$ref" {
                match child {
                    Json::String(target) => self.reference(target),
                    other => {
                        let mut at = self.path.clone();
                        push_segment(&mut at, key);
                        self.not_a_string.get_or_insert((at, other.kind()));
                    }
                }
                continue;
            }
            if !names && is_data(key, self.v2) {
                continue;
            }
            let len = self.path.len();
            push_segment(&mut self.path, key);
            match child {
                Json::Object(m) => self.walk_map(m, !names && NAME_MAPS.contains(&key.as_str())),
                Json::Array(items) => self.walk_array(items),
                _ => {}
            }
            self.path.truncate(len);
        }
    }

    fn walk_array(&mut self, items: &mut [Json]) {
        for (i, child) in items.iter_mut().enumerate() {
            let len = self.path.len();
            push_segment(&mut self.path, &i.to_string());
            match child {
                Json::Object(m) => self.walk_map(m, false),
                Json::Array(items) => self.walk_array(items),
                _ => {}
            }
            self.path.truncate(len);
        }
    }

    fn reference(&mut self, target: &mut String) {
        let Some((kind, escaped)) = parse(self.v2, target).map(|(k, n)| (k, n.to_owned())) else {
            self.unsupported.push(Unsupported {
                location: self.path.clone(),
                target: target.clone(),
            });
            return;
        };
        let name = unescape_segment(&escaped);
        let missing = !self.defined.contains(kind, &name);
        let written = if self.v2 {
            let rewritten = format!("#/components/{}/{escaped}", kind.key());
            std::mem::replace(target, rewritten)
        } else if missing {
            target.clone()
        } else {
            return;
        };
        if missing {
            self.unresolved.push(Unresolved {
                location: self.path.clone(),
                target: written,
                kind,
                name,
            });
        }
    }
}

/// Splits a local reference into the map it points into and the (still escaped) name.
fn parse(v2: bool, target: &str) -> Option<(Kind, &str)> {
    let rest = target.strip_prefix("#/")?;
    let (kind, name) = if v2 {
        let (map, name) = rest.split_once('/')?;
        // Security schemes are named by `security`, never by `$ref`.
        let kind = Kind::ALL
            .into_iter()
            .find(|k| *k != Kind::SecuritySchemes && k.v2_key() == Some(map))?;
        (kind, name)
    } else {
        let (map, name) = rest.strip_prefix("components/")?.split_once('/')?;
        (Kind::from_key(map)?, name)
    };
    (!name.is_empty() && !name.contains('/')).then_some((kind, name))
}
