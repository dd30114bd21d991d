//! `cargo xtask try-gen`: proves that other specs generate crates that build, in a scratch folder
//! under `target/`, never touching the committed code.
//!
//! - `try-gen --spec FILE_OR_DIR [--spec …]`: a copy of kuber-models regenerated from those
//!   documents (another Kubernetes version, or a cluster's /openapi/v3 documents), built with
//!   warnings denied.
//! - `try-gen --crd --spec FILE --fixture JSON --type PATH`: a standalone crate for extra documents
//!   (`gen --out`), built, with a test that round-trips the fixture as `PATH`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::gen_cmd::workspace_root;

struct Args {
    specs: Vec<String>,
    crd: bool,
    fixture: Option<PathBuf>,
    type_path: Option<String>,
    name: Option<String>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut out = Args {
        specs: Vec::new(),
        crd: false,
        fixture: None,
        type_path: None,
        name: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match a.as_str() {
            "--spec" => out.specs.push(value("--spec")?),
            "--crd" => out.crd = true,
            "--fixture" => out.fixture = Some(PathBuf::from(value("--fixture")?)),
            "--type" => out.type_path = Some(value("--type")?),
            "--name" => out.name = Some(value("--name")?),
            other => return Err(format!("try-gen: unknown argument `{other}`")),
        }
    }
    if out.specs.is_empty() {
        return Err("try-gen: at least one --spec is needed".into());
    }
    Ok(out)
}

fn slug(specs: &[String]) -> String {
    let first = specs.first().map(String::as_str).unwrap_or("spec");
    let name = Path::new(first)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("spec");
    name.trim_end_matches(".json")
        .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
}

pub fn run(args: &[String]) -> Result<(), String> {
    let args = parse(args)?;
    let root = workspace_root();
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("kuber_scratch_{}", slug(&args.specs)));
    let dir = root.join("target/try-gen").join(&name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;

    let mut gen_args: Vec<String> = vec!["gen".into()];
    for s in &args.specs {
        gen_args.push("--spec".into());
        gen_args.push(s.clone());
    }
    gen_args.push("--out".into());
    gen_args.push(dir.display().to_string());
    if args.crd {
        crate::gen_cmd::run(&gen_args[1..])?;
        add_roundtrip_test(&dir, &args)?;
        cargo(&dir, &["test", "--quiet", "--test", "roundtrip"])
    } else {
        copy_models_crate(&root, &dir)?;
        gen_args.push("--as-models".into());
        crate::gen_cmd::run(&gen_args[1..])?;
        cargo(&dir, &["build", "--quiet", "--all-targets"])
    }
}

/// The hand-written part of kuber-models, with a manifest that stands alone.
fn copy_models_crate(root: &Path, dir: &Path) -> Result<(), String> {
    let src = root.join("kuber-models/src");
    copy_tree(&src, &dir.join("src"), &|p| {
        !p.starts_with(src.join("generated"))
    })?;
    let manifest =
        fs::read_to_string(root.join("kuber-models/Cargo.toml")).map_err(|e| e.to_string())?;
    // Only the [features] table: benches and the like refer to files the copy does not have.
    let start = manifest
        .find("\n[features]")
        .ok_or("kuber-models/Cargo.toml has no [features]")?
        + 1;
    let end = manifest[start + 1..]
        .find("\n[")
        .map_or(manifest.len(), |i| start + 1 + i + 1);
    let features = &manifest[start..end];
    let text = format!(
        "[package]\nname = \"kuber-models\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
         [dependencies]\nserde = {{ version = \"1\", default-features = false, features = [\"std\"] }}\n\
         serde_json = {{ version = \"1\", features = [\"raw_value\"] }}\n\n{features}\n[workspace]\n"
    );
    fs::write(dir.join("Cargo.toml"), text).map_err(|e| e.to_string())
}

fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&Path) -> bool) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if !keep(&path) {
            continue;
        }
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            copy_tree(&path, &target, keep)?;
        } else {
            fs::copy(&path, &target).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

fn add_roundtrip_test(dir: &Path, args: &Args) -> Result<(), String> {
    let (Some(fixture), Some(type_path)) = (&args.fixture, &args.type_path) else {
        return Ok(());
    };
    let fixture = fs::canonicalize(fixture).map_err(|e| format!("{}: {e}", fixture.display()))?;
    let crate_name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .replace('-', "_");
    let test = format!(
        "#[test]\nfn fixture_round_trips() {{\n    \
         let text = include_str!({fixture:?});\n    \
         let typed: {crate_name}::{type_path} = serde_json::from_str(text).expect(\"decode\");\n    \
         let back = serde_json::to_value(&typed).expect(\"encode\");\n    \
         let original: serde_json::Value = serde_json::from_str(text).expect(\"fixture is JSON\");\n    \
         assert_eq!(back, original);\n}}\n"
    );
    fs::create_dir_all(dir.join("tests")).map_err(|e| e.to_string())?;
    fs::write(dir.join("tests/roundtrip.rs"), test).map_err(|e| e.to_string())?;
    let manifest_path = dir.join("Cargo.toml");
    let mut manifest = fs::read_to_string(&manifest_path).map_err(|e| e.to_string())?;
    manifest.push_str("\n[dev-dependencies]\nserde_json = \"1\"\n");
    fs::write(&manifest_path, manifest).map_err(|e| e.to_string())
}

fn cargo(dir: &Path, args: &[&str]) -> Result<(), String> {
    let target = workspace_root().join("target/try-gen/target");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target)
        .env("RUSTFLAGS", "-D warnings")
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        println!(
            "try-gen: {} builds{}",
            dir.display(),
            if args[0] == "test" {
                " and its test passes"
            } else {
                ""
            }
        );
        Ok(())
    } else {
        Err(format!("try-gen: {} does not build cleanly", dir.display()))
    }
}
