//! `cargo xtask gen`: a typed [`Request`] (from the command line by [`parse`], or built by
//! `try-gen`), written or checked by [`run`] where a [`Layout`] says.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use codegen::Generated;
use codegen::emit::replace_region;
use sha2::{Digest, Sha256};

use crate::layout::{self, Layout, Manifest, workspace_root};

const FEATURES_BEGIN: &str = "# BEGIN GENERATED FEATURES";
const FEATURES_END: &str = "# END GENERATED FEATURES";
/// Our own documents, for groups the upstream spec does not describe.
const OWN_SUFFIX: &str = ".openapi.json";

/// One run of `gen`.
pub struct Request {
    /// Documents or folders of documents, merged in order.
    pub specs: Vec<PathBuf>,
    /// Change nothing; fail if what is there is not what would be written.
    pub check: bool,
    pub output: Output,
    /// The Kubernetes release (`1.36`), when the documents' names do not say it.
    pub kubernetes_version: Option<String>,
    /// A cluster whose OpenAPI v3 documents are fetched and generated from too.
    pub live: Option<Live>,
    /// Kinds without paths that are cluster-scoped (the documents cannot say).
    pub cluster_scoped: Vec<String>,
}

/// Where a run writes, each with its [`Layout`].
pub enum Output {
    /// The committed code of the workspace at this root (`--root`, else this one).
    Workspace(PathBuf),
    /// A standalone crate for extra documents such as CRDs (`--out DIR`).
    Standalone(PathBuf),
    /// A copy of kuber-models whose hand-written part is already there (`try-gen`).
    ModelsCopy(PathBuf),
}

impl Output {
    pub fn root(&self) -> &Path {
        match self {
            Output::Workspace(dir) | Output::Standalone(dir) | Output::ModelsCopy(dir) => dir,
        }
    }

    fn layout(&self) -> &'static Layout {
        match self {
            Output::Workspace(_) => &layout::WORKSPACE,
            Output::Standalone(_) => &layout::STANDALONE,
            Output::ModelsCopy(_) => &layout::MODELS_COPY,
        }
    }

    /// Where fetched documents are kept: beside a crate of its own, else under `target/`.
    fn documents_dir(&self) -> PathBuf {
        match self {
            Output::Workspace(_) => crate::live::documents_dir(None, &workspace_root()),
            Output::Standalone(dir) | Output::ModelsCopy(dir) => {
                crate::live::documents_dir(Some(dir), &workspace_root())
            }
        }
    }
}

/// `--kubeconfig FILE [--context NAME] [--group G ...]`.
pub struct Live {
    pub kubeconfig: PathBuf,
    pub context: Option<String>,
    /// `GROUP` or `GROUP/VERSION` (`core` for `api/v1`); empty: every document.
    pub groups: Vec<String>,
}

/// The command line of `cargo xtask gen` (see `USAGE` in main.rs) as a request.
pub fn parse(args: &[String]) -> Result<Request, String> {
    let mut req = Request {
        specs: Vec::new(),
        check: false,
        output: Output::Workspace(workspace_root()),
        kubernetes_version: None,
        live: None,
        cluster_scoped: Vec::new(),
    };
    let (mut out, mut root, mut kubeconfig, mut context, mut groups) =
        (None, None, None, None, Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("gen: {flag} needs a value"))
        };
        match a.as_str() {
            "--spec" => req.specs.push(PathBuf::from(value("--spec")?)),
            "--check" => req.check = true,
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--kubernetes-version" => req.kubernetes_version = Some(value("--kubernetes-version")?),
            "--root" => root = Some(PathBuf::from(value("--root")?)),
            "--kubeconfig" => kubeconfig = Some(PathBuf::from(value("--kubeconfig")?)),
            "--context" => context = Some(value("--context")?),
            "--group" => groups.push(value("--group")?),
            "--cluster-scoped" => req.cluster_scoped.push(value("--cluster-scoped")?),
            other => return Err(format!("gen: unknown argument `{other}`")),
        }
    }
    req.output = match (out, root) {
        (Some(_), Some(_)) => return Err("gen: --out and --root do not go together".into()),
        (Some(dir), None) => Output::Standalone(dir),
        (None, Some(dir)) => Output::Workspace(dir),
        (None, None) => Output::Workspace(workspace_root()),
    };
    req.live = match kubeconfig {
        Some(kubeconfig) => Some(Live {
            kubeconfig,
            context,
            groups,
        }),
        None if context.is_some() || !groups.is_empty() => {
            return Err("gen: --context and --group need --kubeconfig".into());
        }
        None => None,
    };
    if req.specs.is_empty() && req.live.is_none() {
        return Err(
            "gen: at least one --spec FILE_OR_DIR or --kubeconfig FILE is needed, e.g. \
                    --spec ../shared/spec/v2/kubernetes-1.36.swagger.json"
                .into(),
        );
    }
    Ok(req)
}

/// Generates what `req` asks for, then writes it, or with `check` compares it.
pub fn run(req: &Request) -> Result<(), String> {
    let started = Instant::now();
    let layout = req.output.layout();
    let root = req.output.root();
    let mut specs = req.specs.clone();
    if let Some(live) = &req.live {
        specs.push(fetch(live, &req.output)?);
    }
    let own = match layout.own_documents {
        Some(dir) => own_documents(&root.join(dir))?,
        None => Vec::new(),
    };
    specs.extend(own.iter().cloned());
    let proto = match layout.own_documents {
        Some(dir) => proto_inputs(&root.join(dir))?,
        None => None,
    };
    let generated = codegen::generate_with(
        &specs,
        &codegen::Options {
            target: layout.target.clone(),
            root: layout.models,
            api_root: layout.api.as_ref().map(|api| api.sources),
            release: req.kubernetes_version.as_deref(),
            cluster_scoped: &req.cluster_scoped,
            proto: proto.as_ref(),
        },
    )
    .map_err(|e| e.to_string())?;
    if let Some(stats) = &generated.proto {
        println!(
            "gen: protobuf: {} messages, {} fields joined ({} embedded structs, {} kinds' apiVersion/kind from the envelope), {} fixups",
            stats.messages, stats.fields, stats.embedded, stats.type_meta, stats.fixups
        );
    }
    for warning in &generated.warnings {
        eprintln!("gen: {warning}");
    }
    for guess in &generated.guesses {
        println!("gen: {guess}");
    }
    let files = output_files(req, layout, &generated, &own)?;
    let mut stale = Vec::new();
    for dir in layout.owned_dirs() {
        stale.extend(
            existing_files(&root.join(dir), root)?
                .into_iter()
                .filter(|f| !files.contains_key(f)),
        );
    }
    let changed: Vec<&String> = files
        .iter()
        .filter(|(rel, content)| {
            fs::read_to_string(root.join(rel)).ok().as_deref() != Some(content.as_str())
        })
        .map(|(rel, _)| rel)
        .collect();
    if req.check {
        return check_result(&changed, &stale, files.len(), &generated, started);
    }
    write(root, &files, &changed, &stale)?;
    let applied: Vec<String> = generated
        .fixups
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(f, n)| format!("{f}×{n}"))
        .collect();
    println!(
        "gen: {} types ({} kinds), {} operations, {} files written ({} unchanged, {} removed), fixups [{}], {:.2} s",
        generated.types,
        generated.kinds,
        generated.operations,
        changed.len(),
        files.len() - changed.len(),
        stale.len(),
        applied.join(", "),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Writes the files that changed and removes the ones not generated any more.
fn write(
    root: &Path,
    files: &BTreeMap<String, String>,
    changed: &[&String],
    stale: &[String],
) -> Result<(), String> {
    for rel in changed {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        fs::write(&path, &files[rel.as_str()]).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    for rel in stale {
        let path = root.join(rel);
        fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// Fetches a cluster's documents for `output`; the folder they are in.
fn fetch(live: &Live, output: &Output) -> Result<PathBuf, String> {
    let dir = output.documents_dir();
    let source = crate::live::Source {
        kubeconfig: &live.kubeconfig,
        context: live.context.as_deref(),
        groups: &live.groups,
    };
    let fetched = crate::live::fetch(&source, &dir)
        .map_err(|e| format!("gen --kubeconfig {}: {e}", live.kubeconfig.display()))?;
    println!(
        "gen: {} OpenAPI v3 documents ({:.1} MB) from {} into {} in {:.2} s",
        fetched.documents,
        fetched.bytes as f64 / 1e6,
        fetched.server,
        dir.display(),
        fetched.seconds
    );
    Ok(dir)
}

/// `--check`: nothing to write and nothing left over, or a list of what differs.
fn check_result(
    changed: &[&String],
    stale: &[String],
    files: usize,
    generated: &Generated,
    started: Instant,
) -> Result<(), String> {
    if changed.is_empty() && stale.is_empty() {
        println!(
            "gen --check: {files} files up to date ({} types, {} operations) in {:.2} s",
            generated.types,
            generated.operations,
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let mut msg =
        String::from("generated code is stale; run `cargo xtask gen` with the same --spec:\n");
    for f in changed {
        msg.push_str(&format!("  differs: {f}\n"));
    }
    for f in stale {
        msg.push_str(&format!("  not generated any more: {f}\n"));
    }
    Err(msg)
}

/// Every file the layout says this run writes, by path relative to the output root.
fn output_files(
    req: &Request,
    layout: &Layout,
    generated: &Generated,
    own: &[PathBuf],
) -> Result<BTreeMap<String, String>, String> {
    let root = req.output.root();
    let mut files = generated.output.files.clone();
    let own_types = files
        .keys()
        .any(|f| f.starts_with(&format!("{}/", layout.models)));
    let manifest = match layout.models_manifest {
        Manifest::Features(path) => (
            path,
            with_features(&root.join(path), &generated.output.features)?,
        ),
        Manifest::Whole(path) => {
            let name = root
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("generated-models");
            let manifest = codegen::emit::standalone_manifest(name, &models_dep(root)?);
            (path, manifest)
        }
    };
    files.insert(manifest.0.into(), manifest.1);
    if let (Some(paths), Some(api)) = (&layout.api, &generated.api) {
        files.extend(api.files.clone());
        let manifest = with_features(&root.join(paths.manifest), &api.features)?;
        files.insert(paths.manifest.into(), manifest);
        let facade: BTreeMap<String, Vec<String>> = api
            .features
            .keys()
            .map(|f| (f.clone(), vec![format!("kuber-api/{f}")]))
            .collect();
        let manifest = with_features(&root.join(paths.facade_manifest), &facade)?;
        files.insert(paths.facade_manifest.into(), manifest);
    }
    if let Some(facts) = layout.facts {
        // The test server's schema facts (strategic merge patch, apply, /openapi/v3).
        files.insert(facts.into(), generated.definitions.clone());
    }
    if let Some(record) = layout.source_record {
        let own_dir = layout.own_documents.unwrap_or_default();
        let version = req.kubernetes_version.as_deref();
        let text = source_record(version, &generated.inputs, own, own_dir)?;
        // The other entries (the facts files' provenance, `cargo xtask proto-facts`) are kept.
        let text = keep_other_entries(&text, fs::read_to_string(root.join(record)).ok())?;
        files.insert(record.into(), text);
    }
    if let Some(lib) = layout.lib {
        // Every type may come from kuber-models (a cluster without CRDs): an empty crate.
        if !own_types {
            println!(
                "gen: note: the documents define no type outside io.k8s.* (kuber-models has \
                 those), so {} is an empty crate",
                root.display()
            );
        }
        files.insert(lib.into(), standalone_lib(own_types));
    }
    Ok(files)
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Files below `dir`, as paths relative to `root` with `/` separators.
fn existing_files(dir: &Path, root: &Path) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{}: {e}", d.display())),
        };
        for entry in entries {
            let path = entry.map_err(|e| format!("{}: {e}", d.display()))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    Ok(out)
}

/// The manifest at `path` with its generated `[features]` lines replaced.
fn with_features(path: &Path, features: &BTreeMap<String, Vec<String>>) -> Result<String, String> {
    let text = read(path)?;
    replace_region(
        &text,
        FEATURES_BEGIN,
        FEATURES_END,
        &features_block(features),
    )
    .ok_or_else(|| {
        format!(
            "{}: markers `{FEATURES_BEGIN}` / `{FEATURES_END}` not found",
            path.display()
        )
    })
}

fn features_block(features: &BTreeMap<String, Vec<String>>) -> String {
    let all: Vec<String> = features.keys().map(|f| format!("\"{f}\"")).collect();
    // Hand-written code gates on `apiextensions`: the feature must exist even when a spec lacks
    // the group (then `all` leaves it off).
    let mut features = features.clone();
    features.entry("apiextensions".into()).or_default();
    let mut out = format!("all = [{}]\n", all.join(", "));
    for (f, deps) in &features {
        let deps: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
        out.push_str(&format!("{f} = [{}]\n", deps.join(", ")));
    }
    out
}

/// The protobuf facts of `DIR` (`proto.facts`, with `proto-go.facts` and `proto-fixups.facts`
/// when there), or `None` when it has none: then only JSON is generated.
fn proto_inputs(dir: &Path) -> Result<Option<codegen::proto_join::ProtoInputs>, String> {
    use codegen::proto::ProtoFacts;
    use codegen::proto_join::{Fixups, GoFacts, ProtoInputs};
    let optional = |name: &str| -> Result<Option<(String, String)>, String> {
        let path = dir.join(name);
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some((text, path.display().to_string()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    };
    let Some((text, file)) = optional("proto.facts")? else {
        return Ok(None);
    };
    let facts = ProtoFacts::parse(&text, &file).map_err(|e| e.to_string())?;
    let go = match optional("proto-go.facts")? {
        Some((text, file)) => Some(GoFacts::parse(&text, &file).map_err(|e| e.to_string())?),
        None => None,
    };
    let fixups = match optional("proto-fixups.facts")? {
        Some((text, file)) => Fixups::parse(&text, &file).map_err(|e| e.to_string())?,
        None => Fixups::default(),
    };
    Ok(Some(ProtoInputs { facts, go, fixups }))
}

/// `DIR/*.openapi.json`, sorted by name (merged after the `--spec` documents).
fn own_documents(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        let ours = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(OWN_SUFFIX));
        if ours && path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// `spec/source.json`: which documents the committed code comes from.
fn source_record(
    kubernetes_version: Option<&str>,
    inputs: &[codegen::load::InputInfo],
    own: &[PathBuf],
    own_dir: &str,
) -> Result<String, String> {
    let mut docs = Vec::new();
    for input in inputs {
        if own.contains(&input.path) {
            docs.push(own_record(&input.path, own_dir)?);
            continue;
        }
        let bytes = fs::read(&input.path).map_err(|e| format!("{}: {e}", input.path.display()))?;
        let sha = sha256_hex(&bytes);
        let file = input
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let version = kubernetes_version
            .map(str::to_owned)
            .or_else(|| version_from_name(&file));
        let upstream = match (&input.format, &version) {
            (codegen::load::SpecFormat::SwaggerV2, Some(v)) => serde_json::Value::from(format!(
                "https://github.com/kubernetes/kubernetes/blob/release-{v}/api/openapi-spec/swagger.json"
            )),
            _ => serde_json::Value::Null,
        };
        docs.push(serde_json::json!({
            "file": file,
            "sha256": sha,
            "format": match input.format { codegen::load::SpecFormat::SwaggerV2 => "swagger 2.0", codegen::load::SpecFormat::OpenApiV3 => "openapi 3" },
            "kubernetes": version,
            "upstream": upstream,
        }));
    }
    let mut text = serde_json::to_string_pretty(&serde_json::json!({ "generated_from": docs }))
        .map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

/// `record` with the top-level entries of the committed one other than `generated_from`.
fn keep_other_entries(record: &str, committed: Option<String>) -> Result<String, String> {
    let Some(committed) = committed else {
        return Ok(record.to_owned());
    };
    let Ok(serde_json::Value::Object(old)) = serde_json::from_str(&committed) else {
        return Ok(record.to_owned());
    };
    let mut new: serde_json::Value = serde_json::from_str(record).map_err(|e| e.to_string())?;
    let object = new.as_object_mut().ok_or("source record: not an object")?;
    for (key, value) in old {
        if key != "generated_from" {
            object.insert(key, value);
        }
    }
    let mut text = serde_json::to_string_pretty(&new).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

/// One of our documents: where it lives in the repository and its sha256.
fn own_record(path: &Path, own_dir: &str) -> Result<serde_json::Value, String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(serde_json::json!({
        "file": format!("{own_dir}/{file}"),
        "sha256": sha256_hex(&bytes),
        "format": "openapi 3",
        "kubernetes": null,
        "upstream": null,
    }))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `kubernetes-1.36.swagger.json` → `1.36`.
fn version_from_name(file: &str) -> Option<String> {
    let rest = file.strip_prefix("kubernetes-")?;
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let v = rest[..end].trim_end_matches('.');
    (!v.is_empty()).then(|| v.to_owned())
}

/// kuber-models by a relative path when `out` is inside this workspace, else by version.
fn models_dep(out: &Path) -> Result<codegen::emit::ModelsDep, String> {
    let workspace = workspace_root();
    let workspace =
        fs::canonicalize(&workspace).map_err(|e| format!("{}: {e}", workspace.display()))?;
    Ok(codegen::emit::ModelsDep::for_output(
        &canonical_output(out)?,
        &workspace,
        env!("CARGO_PKG_VERSION"),
    ))
}

/// `out` made absolute through its nearest existing ancestor (it may not exist yet).
fn canonical_output(out: &Path) -> Result<PathBuf, String> {
    let absolute = std::path::absolute(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut rest = Vec::new();
    let mut at = absolute.as_path();
    loop {
        match fs::canonicalize(at) {
            Ok(found) => return Ok(rest.iter().rev().fold(found, |p, c| p.join(c))),
            Err(_) => match (at.parent(), at.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_owned());
                    at = parent;
                }
                _ => return Err(format!("{}: no existing ancestor", out.display())),
            },
        }
    }
}

fn standalone_lib(own_types: bool) -> String {
    let modules = if own_types {
        "mod generated;\npub use generated::*;\n"
    } else {
        ""
    };
    format!(
        "{}\n#![allow(clippy::all)]\n{modules}",
        codegen::emit::HEADER
    )
}

#[cfg(test)]
mod own_tests {
    use super::*;

    /// The upstream documents `spec/source.json` records, found in `shared/spec/*/`; `None`
    /// when `shared` is not there.
    fn recorded_specs(root: &Path, shared: &Path) -> Option<Vec<PathBuf>> {
        if !shared.is_dir() {
            return None;
        }
        let record: serde_json::Value =
            serde_json::from_str(&read(&root.join("spec/source.json")).unwrap()).unwrap();
        let files = record["generated_from"].as_array().unwrap().iter();
        // Our own documents come in through the layout, as in every run.
        let upstream = files
            .filter_map(|doc| doc["file"].as_str())
            .filter(|f| !f.contains('/'));
        let found = upstream.map(|file| {
            ["v2", "v3"]
                .iter()
                .map(|v| shared.join("spec").join(v).join(file))
                .find(|p| p.exists())
                .unwrap_or_else(|| {
                    panic!("spec/source.json names {file}, not in {}", shared.display())
                })
        });
        Some(found.collect())
    }

    /// What `.ci/run`'s `gen --check` proves, in every `cargo test` (a debug build: a few
    /// seconds of CPU).
    #[test]
    fn the_committed_code_is_what_the_generator_writes() {
        let root = workspace_root();
        let shared = root.join("../shared");
        let Some(specs) = recorded_specs(&root, &shared) else {
            // Past the test harness's capture, so that it is seen.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "\nSKIPPED: the freshness check of the generated code (gen --check): {} is not \
                 there, so the recorded spec cannot be read\n",
                shared.display()
            );
            return;
        };
        let request = Request {
            specs,
            check: true,
            output: Output::Workspace(root),
            kubernetes_version: None,
            live: None,
            cluster_scoped: Vec::new(),
        };
        if let Err(e) = run(&request) {
            panic!("{e}");
        }
    }

    fn parsed(args: &[&str]) -> Result<Request, String> {
        parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_command_line_becomes_a_request() {
        let r = parsed(&["--spec", "a.json", "--check", "--root", "/w"]).unwrap();
        assert!(r.check && r.live.is_none());
        assert!(matches!(&r.output, Output::Workspace(root) if root == Path::new("/w")));
        let r = parsed(&["--kubeconfig", "k", "--group", "apps", "--out", "o"]).unwrap();
        assert!(matches!(&r.output, Output::Standalone(dir) if dir == Path::new("o")));
        let live = r.live.unwrap();
        assert_eq!(
            (live.kubeconfig, live.groups),
            (PathBuf::from("k"), vec!["apps".to_owned()])
        );
        let r = parsed(&["--spec", "a.json"]).unwrap();
        assert!(matches!(&r.output, Output::Workspace(root) if *root == workspace_root()));
        for (args, err) in [
            (
                &["--spec", "a", "--out", "o", "--root", "r"][..],
                "--out and --root",
            ),
            (&["--spec", "a", "--group", "apps"][..], "need --kubeconfig"),
            (&["--check"][..], "at least one --spec"),
            (
                &["--spec", "a", "--as-models"][..],
                "unknown argument `--as-models`",
            ),
            (&["--spec"][..], "--spec needs a value"),
        ] {
            let e = parsed(args).err().unwrap();
            assert!(e.contains(err), "{args:?}: {e}");
        }
    }

    #[test]
    fn without_shared_the_freshness_check_has_no_spec() {
        let root = workspace_root();
        assert!(recorded_specs(&root, &root.join("target/no-shared-here")).is_none());
    }

    #[test]
    fn own_documents_are_the_openapi_json_files_of_spec_sorted() {
        let dir = std::env::temp_dir().join(format!("kuber-own-docs-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for name in [
            "z.openapi.json",
            "a.openapi.json",
            "source.json",
            "README.md",
        ] {
            fs::write(dir.join(name), "{}").unwrap();
        }
        let found = own_documents(&dir).unwrap();
        assert_eq!(
            found,
            [dir.join("a.openapi.json"), dir.join("z.openapi.json")]
        );
        assert!(own_documents(&dir.join("absent")).unwrap().is_empty());

        // The record changes with the document, so `gen --check` sees an edit.
        let before = own_record(&dir.join("a.openapi.json"), "spec").unwrap();
        assert_eq!(before["file"], "spec/a.openapi.json");
        fs::write(dir.join("a.openapi.json"), "{ }").unwrap();
        let after = own_record(&dir.join("a.openapi.json"), "spec").unwrap();
        assert_ne!(before["sha256"], after["sha256"]);
        let _ = fs::remove_dir_all(&dir);
    }
}
