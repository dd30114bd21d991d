//! Reads Kubernetes OpenAPI documents (swagger 2.0 or OpenAPI 3, whole or components-only) and
//! merges them into one `openapiv3::OpenAPI`.
//!
//! Each document is parsed into an order-preserving tree (`json`), its `$ref`s are collected
//! (and, for swagger 2.0, rewritten) by `refs`, swagger 2.0 is reshaped by `swagger`, and the
//! result is deserialized piece by piece by `build`. References are checked once all inputs are
//! merged, because a document may rely on definitions another input carries.

mod build;
mod json;
mod refs;
mod swagger;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use openapiv3::{Components, OpenAPI, PathItem, ReferenceOr};

use json::{Json, Map};
use refs::{Defined, Kind, Unresolved, Walk};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecFormat {
    SwaggerV2,
    OpenApiV3,
}

/// One document file that was read.
#[derive(Debug, Clone)]
pub struct InputInfo {
    pub path: PathBuf,
    pub format: SpecFormat,
    /// Schemas the document defines (duplicates of earlier inputs included).
    pub schemas: usize,
    /// Operations (path + method) the document defines.
    pub operations: usize,
}

/// A definition a later input defines differently from an earlier one; the first is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The schema's name, or `<map>/<name>` for the other components maps.
    pub name: String,
    /// The file whose definition is kept.
    pub first: PathBuf,
    /// The file whose differing definition is dropped.
    pub later: PathBuf,
}

#[derive(Debug, Clone)]
pub struct LoadedSpec {
    /// Every input merged.
    pub doc: OpenAPI,
    /// One per document file read, in reading order.
    pub inputs: Vec<InputInfo>,
    /// Schema name → index into `inputs` of the document that defined it first.
    pub schema_origin: BTreeMap<String, usize>,
    /// Schemas a later file defines differently from the first definition, which is the one kept.
    /// Expected: every per-group OpenAPI 3 document repeats `ObjectMeta` and friends, and a CRD
    /// document may carry its own reduced copy.
    pub duplicates: Vec<Duplicate>,
    /// The same for the other components maps, named `parameters/<name>`, `responses/<name>`….
    pub component_duplicates: Vec<Duplicate>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot list directory: {source}", path.display())]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: directory has no .json files", path.display())]
    EmptyDir { path: PathBuf },
    #[error("{}:{line}:{column}: invalid JSON: {message}", file.display())]
    Json {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}:{line}:{column}: the JSON ends early; is the file truncated?", file.display())]
    Truncated {
        file: PathBuf,
        line: usize,
        column: usize,
    },
    #[error("{}: the document is {found}, not a JSON object", file.display())]
    NotAnObject { file: PathBuf, found: &'static str },
    #[error(
        "{}: not an OpenAPI document: no `swagger` or `openapi` version and no `components`",
        file.display()
    )]
    UnknownFormat { file: PathBuf },
    #[error("{}: unsupported `{key}` version `{version}`", file.display())]
    UnsupportedVersion {
        file: PathBuf,
        key: &'static str,
        version: String,
    },
    #[error("{}: at {}: expected {expected}, found {found}", file.display(), show(location))]
    WrongType {
        file: PathBuf,
        location: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{}: at {}: {message}", file.display(), show(location))]
    Invalid {
        file: PathBuf,
        location: String,
        message: String,
    },
    #[error("{}: at {location}: $ref `{target}` points to nothing the inputs define", file.display())]
    MissingRef {
        file: PathBuf,
        location: String,
        target: String,
    },
    #[error(
        "{}: at {location}: $ref `{target}` is not supported (only `#/definitions/…`, \
         `#/parameters/…`, `#/responses/…` or `#/components/<map>/…`)",
        file.display()
    )]
    UnsupportedRef {
        file: PathBuf,
        location: String,
        target: String,
    },
    #[error(
        "path `{path}` ({method}) is defined differently in {} and {}",
        first.display(),
        second.display()
    )]
    PathConflict {
        path: String,
        method: String,
        first: PathBuf,
        second: PathBuf,
    },
}

fn show(location: &str) -> &str {
    if location.is_empty() {
        "the document root"
    } else {
        location
    }
}

/// Loads every input (a `.json` file, or a directory whose `*.json` files are read in sorted name
/// order) and merges them in order. References are checked after merging.
pub fn load_specs(inputs: &[PathBuf]) -> Result<LoadedSpec, LoadError> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            files.extend(json_files(input)?);
        } else {
            files.push(input.clone());
        }
    }
    let mut merger = Merger::default();
    let mut pending = Vec::with_capacity(files.len());
    for (index, path) in files.into_iter().enumerate() {
        let bytes = fs::read(&path).map_err(|source| LoadError::Read {
            path: path.clone(),
            source,
        })?;
        let doc = read_document(&path, &bytes)?;
        merger.add(index, &path, doc.doc, doc.format)?;
        pending.push((path, doc.unresolved));
    }
    for (file, unresolved) in pending {
        check_refs(&file, &unresolved, &merger.doc)?;
    }
    Ok(merger.finish())
}

/// Reads one document from memory; `name` is used in errors and, for a components-only
/// document, as its title. Its references must resolve within the document itself.
pub fn load_document(name: &Path, bytes: &[u8]) -> Result<(OpenAPI, SpecFormat), LoadError> {
    let doc = read_document(name, bytes)?;
    check_refs(name, &doc.unresolved, &doc.doc)?;
    Ok((doc.doc, doc.format))
}

/// Operations (path + method) of a document.
pub fn count_operations(doc: &OpenAPI) -> usize {
    doc.paths
        .paths
        .values()
        .filter_map(ReferenceOr::as_item)
        .map(|item| item.iter().count())
        .sum()
}

fn json_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let read_err = |source| LoadError::ReadDir {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        if path.extension().is_some_and(|e| e == "json") && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(LoadError::EmptyDir {
            path: dir.to_path_buf(),
        });
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

struct Document {
    doc: OpenAPI,
    format: SpecFormat,
    /// References to names the document does not define.
    unresolved: Vec<Unresolved>,
}

fn read_document(file: &Path, bytes: &[u8]) -> Result<Document, LoadError> {
    let root = parse(file, bytes)?;
    let Json::Object(mut root) = root else {
        return Err(LoadError::NotAnObject {
            file: file.to_path_buf(),
            found: root.kind(),
        });
    };
    let format = detect(file, &root)?;
    let v2 = format == SpecFormat::SwaggerV2;
    let defined = if v2 {
        Defined::from_v2(&root)
    } else {
        Defined::from_v3(&root)
    };
    let mut walk = Walk::new(v2, &defined);
    walk.walk_root(&mut root);
    if let Some((location, found)) = walk.not_a_string {
        return Err(LoadError::WrongType {
            file: file.to_path_buf(),
            location,
            expected: "a string",
            found,
        });
    }
    if let Some(bad) = walk.unsupported.into_iter().next() {
        return Err(LoadError::UnsupportedRef {
            file: file.to_path_buf(),
            location: bad.location,
            target: bad.target,
        });
    }
    let (root, places) = if v2 {
        (swagger::convert(file, root)?, build::Places::v2())
    } else {
        (fill_v3(file, root), build::Places::v3())
    };
    let doc = build::openapi(file, root, &places)?;
    Ok(Document {
        doc,
        format,
        unresolved: walk.unresolved,
    })
}

fn parse(file: &Path, bytes: &[u8]) -> Result<Json, LoadError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let (line, column) = (e.line(), e.column());
        match e.classify() {
            serde_json::error::Category::Eof => LoadError::Truncated {
                file: file.to_path_buf(),
                line,
                column,
            },
            _ => LoadError::Json {
                file: file.to_path_buf(),
                line,
                column,
                message: strip_position(&e),
            },
        }
    })
}

/// serde_json's message without its " at line L column C" suffix (the error names those itself).
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn detect(file: &Path, root: &Map) -> Result<SpecFormat, LoadError> {
    let version = |key: &'static str, v: &Json, prefix: &str| match v.as_str() {
        Some(s) if s.starts_with(prefix) => Ok(()),
        _ => Err(LoadError::UnsupportedVersion {
            file: file.to_path_buf(),
            key,
            version: v
                .as_str()
                .map_or_else(|| v.kind().to_owned(), str::to_owned),
        }),
    };
    match (root.get("swagger"), root.get("openapi")) {
        (Some(_), Some(_)) => Err(LoadError::Invalid {
            file: file.to_path_buf(),
            location: String::new(),
            message: "both `swagger` and `openapi` keys".into(),
        }),
        (Some(v), None) => version("swagger", v, "2.").map(|()| SpecFormat::SwaggerV2),
        (None, Some(v)) => version("openapi", v, "3.").map(|()| SpecFormat::OpenApiV3),
        (None, None) if root.contains_key("components") => Ok(SpecFormat::OpenApiV3),
        (None, None) => Err(LoadError::UnknownFormat {
            file: file.to_path_buf(),
        }),
    }
}

/// Documents served by a cluster (`/openapi/v3/...`, trimmed) often carry only `components`.
fn fill_v3(file: &Path, mut root: Map) -> Map {
    root.entry("openapi".into())
        .or_insert_with(|| Json::str("3.0.0"));
    root.entry("info".into()).or_insert_with(|| {
        let title = file
            .file_stem()
            .map_or_else(|| "untitled".into(), |s| s.to_string_lossy().into_owned());
        let mut info = Map::new();
        info.insert("title".into(), Json::String(title));
        info.insert("version".into(), Json::str("unversioned"));
        Json::Object(info)
    });
    root.entry("paths".into())
        .or_insert_with(|| Json::Object(Map::new()));
    root
}

fn check_refs(file: &Path, unresolved: &[Unresolved], doc: &OpenAPI) -> Result<(), LoadError> {
    let components = doc.components.as_ref();
    for r in unresolved {
        let found = components.is_some_and(|c| has_component(c, r.kind, &r.name));
        if !found {
            return Err(LoadError::MissingRef {
                file: file.to_path_buf(),
                location: r.location.clone(),
                target: r.target.clone(),
            });
        }
    }
    Ok(())
}

fn has_component(c: &Components, kind: Kind, name: &str) -> bool {
    match kind {
        Kind::Schemas => c.schemas.contains_key(name),
        Kind::Parameters => c.parameters.contains_key(name),
        Kind::Responses => c.responses.contains_key(name),
        Kind::RequestBodies => c.request_bodies.contains_key(name),
        Kind::Headers => c.headers.contains_key(name),
        Kind::Examples => c.examples.contains_key(name),
        Kind::Links => c.links.contains_key(name),
        Kind::Callbacks => c.callbacks.contains_key(name),
        Kind::SecuritySchemes => c.security_schemes.contains_key(name),
    }
}

#[derive(Default)]
struct Merger {
    doc: OpenAPI,
    inputs: Vec<InputInfo>,
    schema_origin: BTreeMap<String, usize>,
    duplicates: Vec<Duplicate>,
    component_duplicates: Vec<Duplicate>,
    /// Components map entry (`parameters/<name>`) → index into `inputs` of its first file.
    component_origin: BTreeMap<String, usize>,
    /// Path → index into `inputs` of the file that defined each of its methods.
    path_origin: BTreeMap<String, BTreeMap<&'static str, usize>>,
}

impl Merger {
    fn add(
        &mut self,
        index: usize,
        path: &Path,
        doc: OpenAPI,
        format: SpecFormat,
    ) -> Result<(), LoadError> {
        let schemas = doc.components.as_ref().map_or(0, |c| c.schemas.len());
        self.inputs.push(InputInfo {
            path: path.to_path_buf(),
            format,
            schemas,
            operations: count_operations(&doc),
        });
        let OpenAPI {
            openapi,
            info,
            servers,
            paths,
            components,
            security,
            tags,
            external_docs,
            extensions,
        } = doc;
        if index == 0 {
            // The first input names the merged document.
            self.doc.openapi = openapi;
            self.doc.info = info;
        }
        if self.doc.servers.is_empty() {
            self.doc.servers = servers;
        }
        if self.doc.security.is_none() {
            self.doc.security = security;
        }
        if self.doc.external_docs.is_none() {
            self.doc.external_docs = external_docs;
        }
        for tag in tags {
            if !self.doc.tags.iter().any(|t| t.name == tag.name) {
                self.doc.tags.push(tag);
            }
        }
        for (k, v) in extensions {
            self.doc.extensions.entry(k).or_insert(v);
        }
        for (k, v) in paths.extensions {
            self.doc.paths.extensions.entry(k).or_insert(v);
        }
        for (p, item) in paths.paths {
            self.add_path(index, p, item)?;
        }
        if let Some(c) = components {
            self.add_components(index, path, c);
        }
        Ok(())
    }

    fn add_path(
        &mut self,
        index: usize,
        path: String,
        item: ReferenceOr<PathItem>,
    ) -> Result<(), LoadError> {
        let Some(existing) = self.doc.paths.paths.get_mut(&path) else {
            let methods: Option<Vec<&str>> = item
                .as_item()
                .map(|i| i.iter().map(|(m, _)| static_method(m)).collect());
            let origin = self.path_origin.entry(path.clone()).or_default();
            for m in methods.unwrap_or_default() {
                origin.insert(m, index);
            }
            origin.insert("parameters", index);
            self.doc.paths.paths.insert(path, item);
            return Ok(());
        };
        let origin = self.path_origin.entry(path.clone()).or_default();
        let conflict = |method: &str, first: usize| LoadError::PathConflict {
            path: path.clone(),
            method: method.to_owned(),
            first: self
                .inputs
                .get(first)
                .map(|i| i.path.clone())
                .unwrap_or_default(),
            second: self
                .inputs
                .get(index)
                .map(|i| i.path.clone())
                .unwrap_or_default(),
        };
        let (ReferenceOr::Item(existing), ReferenceOr::Item(item)) = (&mut *existing, &item) else {
            return if *existing == item {
                Ok(())
            } else {
                Err(conflict(
                    "$ref",
                    origin.get("parameters").copied().unwrap_or(0),
                ))
            };
        };
        if !item.parameters.is_empty() {
            if existing.parameters.is_empty() {
                existing.parameters = item.parameters.clone();
                origin.insert("parameters", index);
            } else if existing.parameters != item.parameters {
                return Err(conflict(
                    "path-level parameters",
                    origin.get("parameters").copied().unwrap_or(0),
                ));
            }
        }
        for (method, op) in item.iter() {
            let method = static_method(method);
            let slot = match method {
                "get" => &mut existing.get,
                "put" => &mut existing.put,
                "post" => &mut existing.post,
                "delete" => &mut existing.delete,
                "options" => &mut existing.options,
                "head" => &mut existing.head,
                "patch" => &mut existing.patch,
                _ => &mut existing.trace,
            };
            match slot {
                None => {
                    *slot = Some(op.clone());
                    origin.insert(method, index);
                }
                Some(first) if first == op => {}
                Some(_) => return Err(conflict(method, origin.get(method).copied().unwrap_or(0))),
            }
        }
        Ok(())
    }

    fn add_components(&mut self, index: usize, file: &Path, c: Components) {
        let merged = self.doc.components.get_or_insert_with(Components::default);
        let first_file = |origin: Option<&usize>| {
            origin
                .and_then(|i| self.inputs.get(*i))
                .map(|i| i.path.clone())
                .unwrap_or_default()
        };
        for (name, schema) in c.schemas {
            match merged.schemas.get(&name) {
                None => {
                    self.schema_origin.insert(name.clone(), index);
                    merged.schemas.insert(name, schema);
                }
                Some(first) if *first == schema => {}
                Some(_) => self.duplicates.push(Duplicate {
                    first: first_file(self.schema_origin.get(&name)),
                    name,
                    later: file.to_path_buf(),
                }),
            }
        }
        let dups = &mut Dups {
            found: &mut self.component_duplicates,
            origin: &mut self.component_origin,
            inputs: &self.inputs,
            index,
        };
        merge_map(
            &mut merged.parameters,
            c.parameters,
            "parameters",
            file,
            dups,
        );
        merge_map(&mut merged.responses, c.responses, "responses", file, dups);
        merge_map(
            &mut merged.request_bodies,
            c.request_bodies,
            "requestBodies",
            file,
            dups,
        );
        merge_map(&mut merged.headers, c.headers, "headers", file, dups);
        merge_map(&mut merged.examples, c.examples, "examples", file, dups);
        merge_map(&mut merged.links, c.links, "links", file, dups);
        merge_map(&mut merged.callbacks, c.callbacks, "callbacks", file, dups);
        merge_map(
            &mut merged.security_schemes,
            c.security_schemes,
            "securitySchemes",
            file,
            dups,
        );
        for (k, v) in c.extensions {
            merged.extensions.entry(k).or_insert(v);
        }
    }

    fn finish(self) -> LoadedSpec {
        let mut doc = self.doc;
        if doc.openapi.is_empty() {
            doc.openapi = "3.0.0".into();
        }
        LoadedSpec {
            doc,
            inputs: self.inputs,
            schema_origin: self.schema_origin,
            duplicates: self.duplicates,
            component_duplicates: self.component_duplicates,
        }
    }
}

/// Where `merge_map` records what it finds.
struct Dups<'a> {
    found: &'a mut Vec<Duplicate>,
    origin: &'a mut BTreeMap<String, usize>,
    inputs: &'a [InputInfo],
    /// The input being merged.
    index: usize,
}

/// First definition wins; a later, different one is recorded as `<map>/<name>`.
fn merge_map<T: PartialEq>(
    merged: &mut indexmap::IndexMap<String, T>,
    later: indexmap::IndexMap<String, T>,
    map: &str,
    file: &Path,
    dups: &mut Dups<'_>,
) {
    for (name, item) in later {
        let key = format!("{map}/{name}");
        match merged.get(&name) {
            None => {
                merged.insert(name, item);
                dups.origin.insert(key, dups.index);
            }
            Some(first) if *first == item => {}
            Some(_) => {
                let first = dups
                    .origin
                    .get(&key)
                    .and_then(|i| dups.inputs.get(*i))
                    .map(|i| i.path.clone())
                    .unwrap_or_default();
                dups.found.push(Duplicate {
                    name: key,
                    first,
                    later: file.to_path_buf(),
                });
            }
        }
    }
}

fn static_method(method: &str) -> &'static str {
    build::METHODS
        .into_iter()
        .find(|m| *m == method)
        .unwrap_or("trace")
}
