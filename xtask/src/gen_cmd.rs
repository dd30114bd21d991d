//! `cargo xtask gen`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use codegen::Target;
use codegen::emit::replace_region;
use sha2::{Digest, Sha256};

/// Where the committed generated code goes, relative to the workspace root.
const MODELS_ROOT: &str = "kuber-models/src/generated";
const API_ROOT: &str = "kuber-api/src/generated";
const FEATURES_BEGIN: &str = "# BEGIN GENERATED FEATURES";
const FEATURES_END: &str = "# END GENERATED FEATURES";
/// Our own documents, for groups the upstream spec does not describe.
const OWN_DOCS: &str = "spec";
const OWN_SUFFIX: &str = ".openapi.json";

struct Args {
    specs: Vec<PathBuf>,
    check: bool,
    out: Option<PathBuf>,
    kubernetes_version: Option<String>,
    /// With --out: write a kuber-models layout (used by try-gen) instead of a standalone crate.
    as_models: bool,
    /// Workspace to check or write instead of this one.
    root: Option<PathBuf>,
    /// Fetch the OpenAPI v3 documents of this kubeconfig's cluster and generate from them too.
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    /// With --kubeconfig: only these groups (`GROUP` or `GROUP/VERSION`, `core` for `api/v1`).
    groups: Vec<String>,
    /// Kinds without paths that are cluster-scoped (the documents cannot say).
    cluster_scoped: Vec<String>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut out = Args {
        specs: Vec::new(),
        check: false,
        out: None,
        kubernetes_version: None,
        as_models: false,
        root: None,
        kubeconfig: None,
        context: None,
        groups: Vec::new(),
        cluster_scoped: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match a.as_str() {
            "--spec" => out.specs.push(PathBuf::from(value("--spec")?)),
            "--check" => out.check = true,
            "--out" => out.out = Some(PathBuf::from(value("--out")?)),
            "--kubernetes-version" => out.kubernetes_version = Some(value("--kubernetes-version")?),
            "--as-models" => out.as_models = true,
            "--root" => out.root = Some(PathBuf::from(value("--root")?)),
            "--kubeconfig" => out.kubeconfig = Some(PathBuf::from(value("--kubeconfig")?)),
            "--context" => out.context = Some(value("--context")?),
            "--group" => out.groups.push(value("--group")?),
            "--cluster-scoped" => out.cluster_scoped.push(value("--cluster-scoped")?),
            other => return Err(format!("gen: unknown argument `{other}`")),
        }
    }
    if out.kubeconfig.is_none() && (out.context.is_some() || !out.groups.is_empty()) {
        return Err("gen: --context and --group need --kubeconfig".into());
    }
    if out.specs.is_empty() && out.kubeconfig.is_none() {
        return Err(
            "gen: at least one --spec FILE_OR_DIR or --kubeconfig FILE is needed, e.g. \
                    --spec ../shared/spec/v2/kubernetes-1.36.swagger.json"
                .into(),
        );
    }
    Ok(out)
}

const FACTS_DIR: &str = "tests/testserver/src/generated";
const FACTS_FILE: &str = "tests/testserver/src/generated/definitions.json";

pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

pub fn run(args: &[String]) -> Result<(), String> {
    let started = Instant::now();
    let mut args = parse(args)?;
    if let Some(kubeconfig) = &args.kubeconfig {
        let dir = crate::live::documents_dir(args.out.as_deref(), &workspace_root());
        let source = crate::live::Source {
            kubeconfig,
            context: args.context.as_deref(),
            groups: &args.groups,
        };
        let fetched = crate::live::fetch(&source, &dir)
            .map_err(|e| format!("gen --kubeconfig {}: {e}", kubeconfig.display()))?;
        println!(
            "gen: {} OpenAPI v3 documents ({:.1} MB) from {} into {} in {:.2} s",
            fetched.documents,
            fetched.bytes as f64 / 1e6,
            fetched.server,
            dir.display(),
            fetched.seconds
        );
        args.specs.push(dir);
    }
    let (root, target, gen_root) = match &args.out {
        Some(dir) if args.as_models => {
            (dir.clone(), Target::KuberModels, "src/generated".to_owned())
        }
        Some(dir) => (dir.clone(), Target::Standalone, "src/generated".to_owned()),
        None => (
            args.root.clone().unwrap_or_else(workspace_root),
            Target::KuberModels,
            MODELS_ROOT.to_owned(),
        ),
    };
    let api_root = args.out.is_none().then_some(API_ROOT);
    // The committed code also covers the groups the upstream spec lacks (spec/*.openapi.json).
    let own = match &args.out {
        None => own_documents(&root.join(OWN_DOCS))?,
        Some(_) => Vec::new(),
    };
    args.specs.extend(own.iter().cloned());
    let generated = codegen::generate_with(
        &args.specs,
        &codegen::Options {
            target,
            root: &gen_root,
            api_root,
            release: args.kubernetes_version.as_deref(),
            cluster_scoped: &args.cluster_scoped,
        },
    )
    .map_err(|e| e.to_string())?;
    for warning in &generated.warnings {
        eprintln!("gen: {warning}");
    }
    for guess in &generated.guesses {
        println!("gen: {guess}");
    }
    let mut files = generated.output.files;
    let mut owned_dirs = vec![root.join(&gen_root)];

    match &args.out {
        Some(_) if args.as_models => {
            files.insert(
                "Cargo.toml".into(),
                with_features(&root.join("Cargo.toml"), &generated.output.features)?,
            );
        }
        None => {
            let manifest = with_features(
                &root.join("kuber-models/Cargo.toml"),
                &generated.output.features,
            )?;
            files.insert("kuber-models/Cargo.toml".into(), manifest);
            if let Some(api) = &generated.api {
                files.extend(api.files.clone());
                let manifest = with_features(&root.join("kuber-api/Cargo.toml"), &api.features)?;
                files.insert("kuber-api/Cargo.toml".into(), manifest);
                // The facade offers the same groups, each turning on kuber-api's.
                let facade: BTreeMap<String, Vec<String>> = api
                    .features
                    .keys()
                    .map(|f| (f.clone(), vec![format!("kuber-api/{f}")]))
                    .collect();
                let manifest = with_features(&root.join("kuber/Cargo.toml"), &facade)?;
                files.insert("kuber/Cargo.toml".into(), manifest);
                owned_dirs.push(root.join(API_ROOT));
            }
            // The test server's schema facts (strategic merge patch, apply, /openapi/v3).
            files.insert(FACTS_FILE.into(), generated.definitions.clone());
            owned_dirs.push(root.join(FACTS_DIR));
            files.insert(
                "spec/source.json".into(),
                source_record(&args, &generated.inputs, &own)?,
            );
        }
        Some(dir) => {
            let name = dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("generated-models")
                .to_owned();
            files.insert(
                "Cargo.toml".into(),
                codegen::emit::standalone_manifest(&name, &models_dep(dir)?),
            );
            // Every type may come from kuber-models (a cluster without CRDs): an empty crate.
            let own = files.keys().any(|f| f.starts_with("src/generated/"));
            if !own {
                println!(
                    "gen: note: the documents define no type outside io.k8s.* (kuber-models has \
                     those), so {} is an empty crate",
                    dir.display()
                );
            }
            files.insert("src/lib.rs".into(), standalone_lib(own));
        }
    }

    let mut stale_extra = Vec::new();
    for dir in &owned_dirs {
        stale_extra.extend(
            existing_files(dir, &root)?
                .into_iter()
                .filter(|f| !files.contains_key(f)),
        );
    }

    let mut changed = Vec::new();
    for (rel, content) in &files {
        let path = root.join(rel);
        if fs::read_to_string(&path).ok().as_deref() != Some(content.as_str()) {
            changed.push(rel.clone());
        }
    }

    if args.check {
        if changed.is_empty() && stale_extra.is_empty() {
            println!(
                "gen --check: {} files up to date ({} types, {} operations) in {:.2} s",
                files.len(),
                generated.types,
                generated.operations,
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        let mut msg =
            String::from("generated code is stale; run `cargo xtask gen` with the same --spec:\n");
        for f in &changed {
            msg.push_str(&format!("  differs: {f}\n"));
        }
        for f in &stale_extra {
            msg.push_str(&format!("  not generated any more: {f}\n"));
        }
        return Err(msg);
    }

    for rel in &changed {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        fs::write(&path, &files[rel]).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    for rel in &stale_extra {
        let path = root.join(rel);
        fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
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
        stale_extra.len(),
        applied.join(", "),
        started.elapsed().as_secs_f64()
    );
    Ok(())
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
    args: &Args,
    inputs: &[codegen::load::InputInfo],
    own: &[PathBuf],
) -> Result<String, String> {
    let mut docs = Vec::new();
    for input in inputs {
        if own.contains(&input.path) {
            docs.push(own_record(&input.path)?);
            continue;
        }
        let bytes = fs::read(&input.path).map_err(|e| format!("{}: {e}", input.path.display()))?;
        let sha = sha256_hex(&bytes);
        let file = input
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let version = args
            .kubernetes_version
            .clone()
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

/// One of our documents: where it lives in the repository and its sha256.
fn own_record(path: &Path) -> Result<serde_json::Value, String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(serde_json::json!({
        "file": format!("{OWN_DOCS}/{file}"),
        "sha256": sha256_hex(&bytes),
        "format": "openapi 3",
        "kubernetes": null,
        "upstream": null,
    }))
}

fn sha256_hex(bytes: &[u8]) -> String {
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
        let before = own_record(&dir.join("a.openapi.json")).unwrap();
        assert_eq!(before["file"], "spec/a.openapi.json");
        fs::write(dir.join("a.openapi.json"), "{ }").unwrap();
        let after = own_record(&dir.join("a.openapi.json")).unwrap();
        assert_ne!(before["sha256"], after["sha256"]);
        let _ = fs::remove_dir_all(&dir);
    }
}
