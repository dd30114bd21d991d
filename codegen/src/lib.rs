//! The kuber generator: Kubernetes OpenAPI documents in, Rust crates out.
//!
//! `load` reads swagger 2.0 and OpenAPI 3 documents into one `openapiv3::OpenAPI`, `fixups`
//! corrects the spec's known defects, `model` builds the intermediate model, `emit` writes Rust.

pub mod emit;
pub mod fixups;
pub mod kinds;
pub mod load;
pub mod model;
pub mod names;
pub mod ops;
pub mod paths;
pub mod proto;
pub mod proto_join;

use std::path::PathBuf;

pub use emit::models::Target;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Load(#[from] load::LoadError),
    #[error("{input}: {source}")]
    Model {
        input: String,
        source: model::ModelError,
    },
    #[error(transparent)]
    Emit(#[from] emit::EmitError),
    #[error("{input}: {source}")]
    Operation { input: String, source: ops::OpError },
    #[error("{input}: {source}")]
    Kind {
        input: String,
        source: kinds::KindError,
    },
    #[error("{input}: {source}")]
    Fixup {
        input: String,
        source: fixups::FixupError,
    },
    #[error("{input}: writing the schema facts: {message}")]
    Facts { input: String, message: String },
    #[error("{input}: {source}")]
    Proto {
        input: String,
        source: proto_join::JoinErrors,
    },
}

/// What one run of the generator produced.
pub struct Generated {
    pub output: emit::Output,
    /// The API crate's files and features, when asked for.
    pub api: Option<emit::Output>,
    pub types: usize,
    pub kinds: usize,
    pub operations: usize,
    pub fixups: Vec<(&'static str, usize)>,
    /// The corrected documents' schemas as facts-only JSON ([`emit::facts::definitions`]).
    pub definitions: String,
    pub inputs: Vec<load::InputInfo>,
    /// The Kubernetes release the documents are from (`1.36`), when known.
    pub release: Option<String>,
    /// Things the user should know that did not stop the run, one line each.
    pub warnings: Vec<String>,
    /// What was guessed rather than read from the documents, one line each (kinds without
    /// paths).
    pub guesses: Vec<String>,
    /// What the protobuf join did; `None` when no protobuf code was generated.
    pub proto: Option<proto_join::JoinStats>,
}

/// What [`generate_with`] takes besides the documents.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    pub target: Target,
    /// Folder of the models crate sources, relative to the output folder.
    pub root: &'a str,
    /// Folder of the API crate sources, when one is wanted.
    pub api_root: Option<&'a str>,
    /// The Kubernetes release (`1.36`), overriding the one found from the documents.
    pub release: Option<&'a str>,
    /// Kinds without paths that are cluster-scoped (the documents cannot say; see
    /// [`kinds::guess_pathless`]).
    pub cluster_scoped: &'a [String],
    /// Protobuf facts: `Message` impls are generated for the definitions they join, when they
    /// are of the documents' release (else JSON only, with a warning).
    pub proto: Option<&'a proto_join::ProtoInputs>,
}

/// Loads `specs`, corrects them, and emits the models crate sources under `root` (a path relative
/// to the output folder, e.g. `kuber-models/src/generated`) and, with `api_root`, the API crate's.
/// `release` (`1.36`) overrides the release found from the documents (see [`release_of`]).
pub fn generate(
    specs: &[PathBuf],
    target: Target,
    root: &str,
    api_root: Option<&str>,
    release: Option<&str>,
) -> Result<Generated, Error> {
    generate_with(
        specs,
        &Options {
            target,
            root,
            api_root,
            release,
            cluster_scoped: &[],
            proto: None,
        },
    )
}

/// [`generate`] with every option.
pub fn generate_with(specs: &[PathBuf], options: &Options) -> Result<Generated, Error> {
    let Options {
        target,
        root,
        api_root,
        release,
        cluster_scoped,
        proto,
    } = options.clone();
    let loaded = load::load_specs(specs)?;
    let release = release
        .map(str::to_owned)
        .or_else(|| release_of(&loaded.doc.info.version, &loaded.inputs));
    let mut warnings: Vec<String> = loaded
        .duplicates
        .iter()
        .chain(&loaded.component_duplicates)
        .map(|d| {
            format!(
                "warning: `{}` of {} differs from the one of {}, which is kept",
                d.name,
                d.later.display(),
                d.first.display()
            )
        })
        .collect();
    let mut doc = loaded.doc;
    let input = specs
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut specials = model::Specials::new();
    let mut fixups = fixups::apply_doc(&mut doc, &mut specials);
    let mut model = model::Model::build(&doc, &specials).map_err(|source| Error::Model {
        input: input.clone(),
        source,
    })?;
    // One pass over the paths; the kinds come from the operations.
    let mut ops = ops::collect(&doc, &model).map_err(|source| Error::Operation {
        input: input.clone(),
        source,
    })?;
    model.kinds = kinds::derive(&ops, &model);
    let guessed =
        kinds::guess_pathless(&ops, &mut model, cluster_scoped).map_err(|source| Error::Kind {
            input: input.clone(),
            source,
        })?;
    let guesses = guessed
        .iter()
        .filter_map(|def| model.kinds.get(def))
        .map(guess_line)
        .collect();
    let fixup_err = |source| Error::Fixup {
        input: input.clone(),
        source,
    };
    fixups::apply_ops(&mut ops, &model, &mut fixups).map_err(fixup_err)?;
    if let Some(release) = &release {
        fixups::check_unused(&fixups, release).map_err(fixup_err)?;
    }
    let join = match proto.filter(|p| proto_applies(p, release.as_deref(), &mut warnings)) {
        Some(p) => Some(proto_join::join(&model, p).map_err(|source| Error::Proto {
            input: input.clone(),
            source,
        })?),
        None => None,
    };
    let output = emit::models::ModelsEmitter::new(&model, target, root)
        .with_proto(join.as_ref())
        .emit()?;
    let api = match api_root {
        Some(api_root) => {
            ops::check(&ops).map_err(|source| Error::Operation {
                input: input.clone(),
                source,
            })?;
            let messages = join.iter().flat_map(|j| j.messages.keys().cloned());
            Some(
                emit::api::ApiEmitter::new(&model, &ops, api_root)
                    .with_messages(messages)
                    .emit()?,
            )
        }
        None => None,
    };
    let definitions = emit::facts::definitions(&doc).map_err(|e| Error::Facts {
        input: input.clone(),
        message: e.to_string(),
    })?;
    Ok(Generated {
        output,
        api,
        definitions,
        types: model.types.len(),
        kinds: model.kinds.len(),
        operations: ops.len(),
        fixups: fixups.into_iter().map(|(f, n)| (f, n.changed)).collect(),
        inputs: loaded.inputs,
        release,
        warnings,
        guesses,
        proto: join.map(|j| j.stats),
    })
}

/// Whether protobuf facts are of the documents' release: `k8s.io/api v0.36.3` is of 1.36.
fn proto_applies(
    inputs: &proto_join::ProtoInputs,
    release: Option<&str>,
    warnings: &mut Vec<String>,
) -> bool {
    let facts_release = inputs.facts.sources.iter().find_map(|s| {
        let version = s.strip_prefix("k8s.io/api v0.")?;
        release_in(&format!("1.{version}"))
    });
    if facts_release.is_some() && facts_release.as_deref() == release {
        return true;
    }
    warnings.push(format!(
        "note: the protobuf facts are of Kubernetes {}, the documents of {}: JSON only",
        facts_release.as_deref().unwrap_or("(unknown)"),
        release.unwrap_or("(unknown)")
    ));
    false
}

/// What `gen` says of a kind without paths.
fn guess_line(k: &model::Kind) -> String {
    let scope = match k.scope {
        model::Scope::Namespaced => format!(
            "scope Namespaced assumed (declare with --cluster-scoped {})",
            k.gvk.kind
        ),
        model::Scope::Cluster => "scope Cluster as declared".to_owned(),
    };
    format!(
        "{} ({}): no paths in the documents; plural `{}` guessed from the kind (client-go's rule, a vowel before a final y keeps it), {scope}",
        k.gvk.kind,
        k.gvk.api_version(),
        k.plural
    )
}

/// The Kubernetes release (`1.33`) of the documents: from `info.version` when it names one
/// (`v1.33.2`, as a cluster serves it), else from the first input's name (`kubernetes-1.33.swagger.json`,
/// a `kubernetes-1.35` folder). Release specs say `unversioned`, CRD documents name no release.
pub fn release_of(info_version: &str, inputs: &[load::InputInfo]) -> Option<String> {
    if let Some(r) = release_in(info_version.strip_prefix('v').unwrap_or("")) {
        return Some(r);
    }
    let first = inputs.first()?;
    // A folder's documents are named after their group-version, the folder after the release.
    first.path.ancestors().take(2).find_map(|p| {
        let name = p.file_name()?.to_str()?;
        release_in(name.strip_prefix("kubernetes-")?)
    })
}

/// `1.33.2`, `1.33`, `1.33.swagger.json` → `1.33`.
fn release_in(text: &str) -> Option<String> {
    let mut parts = text.split('.');
    let major = parts.next()?;
    let minor = parts.next()?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(major) && digits(minor)).then(|| format!("{major}.{minor}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(path: &str) -> load::InputInfo {
        load::InputInfo {
            path: PathBuf::from(path),
            format: load::SpecFormat::OpenApiV3,
            schemas: 0,
            operations: 0,
        }
    }

    #[test]
    fn releases_come_from_the_version_or_the_names() {
        assert_eq!(release_of("v1.34.1", &[]).as_deref(), Some("1.34"));
        let file = [input("/s/v2/kubernetes-1.33.swagger.json")];
        assert_eq!(release_of("unversioned", &file).as_deref(), Some("1.33"));
        let dir = [input("/s/v3/kubernetes-1.35/apis_apps_v1.json")];
        assert_eq!(release_of("unversioned", &dir).as_deref(), Some("1.35"));
        let crd = [input("/s/v3/crds/cert-manager.io_v1.json")];
        assert_eq!(release_of("v1", &crd), None);
        assert_eq!(release_of("unversioned", &[]), None);
    }

    #[test]
    fn protobuf_facts_apply_to_their_release_only() {
        let mut inputs = proto_join::ProtoInputs::default();
        inputs.facts.sources.push("k8s.io/api v0.36.3".into());
        let mut warnings = Vec::new();
        assert!(proto_applies(&inputs, Some("1.36"), &mut warnings));
        assert!(warnings.is_empty());
        assert!(!proto_applies(&inputs, Some("1.33"), &mut warnings));
        assert_eq!(
            warnings,
            ["note: the protobuf facts are of Kubernetes 1.36, the documents of 1.33: JSON only"]
        );
    }

    fn components_only_doc() -> PathBuf {
        let meta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
        let kind = |k: &str| {
            serde_json::json!({"type": "object",
                "properties": {"metadata": {"$ref": format!("#/components/schemas/{meta}")}},
                "x-kubernetes-group-version-kind": [{"group": "example.io", "version": "v1", "kind": k}]})
        };
        let doc = serde_json::json!({
            "openapi": "3.0.0",
            "info": {"title": "t", "version": "v1"},
            "paths": {},
            "components": {"schemas": {
                meta: {"type": "object", "properties": {"name": {"type": "string"}}},
                "io.example.v1.Gadget": kind("Gadget"),
                "io.example.v1.ClusterGadget": kind("ClusterGadget"),
            }}
        });
        let path = std::env::temp_dir().join(format!("kuber-gvk-{}.json", std::process::id()));
        std::fs::write(&path, doc.to_string()).unwrap();
        path
    }

    #[test]
    fn kinds_without_paths_are_generated_and_reported_as_guesses() {
        let spec = components_only_doc();
        let cluster = ["ClusterGadget".to_owned()];
        let options = Options {
            target: Target::Standalone,
            root: "src/generated",
            api_root: None,
            release: None,
            cluster_scoped: &cluster,
            proto: None,
        };
        let generated = generate_with(std::slice::from_ref(&spec), &options).unwrap();
        assert_eq!(generated.kinds, 2);
        assert_eq!(
            generated.guesses,
            [
                "ClusterGadget (example.io/v1): no paths in the documents; plural \
                 `clustergadgets` guessed from the kind (client-go's rule, a vowel before a \
                 final y keeps it), scope Cluster as declared",
                "Gadget (example.io/v1): no paths in the documents; plural `gadgets` guessed from \
                 the kind (client-go's rule, a vowel before a final y keeps it), scope Namespaced assumed (declare with --cluster-scoped Gadget)",
            ]
        );
        let text: String = generated.output.files["src/generated/io/example/v1.rs"]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for want in [
            "impl ::kuber_models::Resource for Gadget {",
            "const PLURAL: &'static str = \"gadgets\";",
            "const SCOPE: ::kuber_models::Scope = ::kuber_models::Scope::Cluster;",
            "the plural was guessed from the kind",
        ] {
            assert!(text.contains(want), "missing {want}");
        }
        let unknown = ["Gizmo".to_owned()];
        let err = generate_with(
            std::slice::from_ref(&spec),
            &Options {
                cluster_scoped: &unknown,
                ..options
            },
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.contains("--cluster-scoped Gizmo: the documents have no kind"),
            "{err}"
        );
        std::fs::remove_file(&spec).unwrap();
    }
}
