//! `cargo xtask try-gen`: proves that other specs generate crates that build, in a scratch folder
//! under `target/`, never touching the committed code.
//!
//! - `try-gen --spec FILE_OR_DIR [--spec …]`: a copy of kuber-models regenerated from those
//!   documents (another Kubernetes version, or a cluster's /openapi/v3 documents), built with
//!   warnings denied.
//! - `try-gen --crd --spec FILE [--fixture JSON --type PATH] [--kind PATH=PLURAL,SCOPE]`: a
//!   standalone crate for extra documents (`gen --out`), built; with a fixture, a test
//!   round-trips it as `PATH`; with `--kind`, a test checks that kind's `Resource` constants.
//! - `--cluster-scoped KIND` goes to `gen` (kinds without paths).

use std::fs;
use std::path::{Path, PathBuf};

use crate::gen_cmd::{Output, Request};
use crate::layout::workspace_root;
use crate::process::cargo as cargo_command;

struct Args {
    specs: Vec<String>,
    crd: bool,
    fixture: Option<PathBuf>,
    type_path: Option<String>,
    name: Option<String>,
    cluster_scoped: Vec<String>,
    kinds: Vec<KindCheck>,
}

/// `--kind io::x::v1::Foo=foos,Namespaced`: what the generated `Resource` impl must say.
#[derive(Debug, Clone, PartialEq)]
struct KindCheck {
    type_path: String,
    plural: String,
    scope: String,
}

fn kind_check(text: &str) -> Result<KindCheck, String> {
    let bad = || format!("try-gen: --kind `{text}`: expected PATH=PLURAL,Namespaced|Cluster");
    let (type_path, rest) = text.split_once('=').ok_or_else(bad)?;
    let (plural, scope) = rest.split_once(',').ok_or_else(bad)?;
    if type_path.is_empty() || plural.is_empty() || !matches!(scope, "Namespaced" | "Cluster") {
        return Err(bad());
    }
    Ok(KindCheck {
        type_path: type_path.to_owned(),
        plural: plural.to_owned(),
        scope: scope.to_owned(),
    })
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut out = Args {
        specs: Vec::new(),
        crd: false,
        fixture: None,
        type_path: None,
        name: None,
        cluster_scoped: Vec::new(),
        kinds: Vec::new(),
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
            "--cluster-scoped" => out.cluster_scoped.push(value("--cluster-scoped")?),
            "--kind" => out.kinds.push(kind_check(&value("--kind")?)?),
            other => return Err(format!("try-gen: unknown argument `{other}`")),
        }
    }
    if out.specs.is_empty() {
        return Err("try-gen: at least one --spec is needed".into());
    }
    if out.fixture.is_some() != out.type_path.is_some() {
        return Err(
            "try-gen: --fixture and --type go together (the fixture is decoded as the type)".into(),
        );
    }
    if !out.crd && (out.fixture.is_some() || !out.kinds.is_empty()) {
        return Err("try-gen: --fixture and --kind need --crd".into());
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

    let output = if args.crd {
        Output::Standalone(dir.clone())
    } else {
        copy_models_crate(&root, &dir)?;
        Output::ModelsCopy(dir.clone())
    };
    crate::gen_cmd::run(&Request {
        specs: args.specs.iter().map(PathBuf::from).collect(),
        check: false,
        output,
        kubernetes_version: None,
        live: None,
        cluster_scoped: args.cluster_scoped.clone(),
    })?;
    if args.crd {
        cargo(&dir, &crd_cargo_args(&dir, &args)?)
    } else {
        cargo(&dir, &["build", "--quiet", "--all-targets"])
    }
}

/// The hand-written part of kuber-models, with a manifest that stands alone.
fn copy_models_crate(root: &Path, dir: &Path) -> Result<(), String> {
    let src = root.join("kuber-models/src");
    copy_tree(&src, &dir.join("src"), &|p| {
        !p.starts_with(src.join("generated"))
    })?;
    let read = |path: &str| fs::read_to_string(root.join(path)).map_err(|e| format!("{path}: {e}"));
    let manifest = read("kuber-models/Cargo.toml")?;
    let workspace = read("Cargo.toml")?;
    // Only [dependencies] (resolved against the workspace's) and [features]: benches and the
    // like refer to files the copy does not have.
    let dependencies = standalone_dependencies(
        table(&manifest, "dependencies").ok_or("kuber-models/Cargo.toml has no [dependencies]")?,
        table(&workspace, "workspace.dependencies")
            .ok_or("Cargo.toml has no [workspace.dependencies]")?,
    )?;
    let features =
        table(&manifest, "features").ok_or("kuber-models/Cargo.toml has no [features]")?;
    let text = format!(
        "[package]\nname = \"kuber-models\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
         [dependencies]\n{dependencies}\n[features]\n{features}\n[workspace]\n"
    );
    fs::write(dir.join("Cargo.toml"), text).map_err(|e| e.to_string())
}

/// The body of table `[name]` of a manifest (up to the next table).
fn table<'a>(manifest: &'a str, name: &str) -> Option<&'a str> {
    let header = format!("\n[{name}]\n");
    let start = manifest.find(&header)? + header.len();
    let end = manifest[start..]
        .find("\n[")
        .map_or(manifest.len(), |i| start + i + 1);
    Some(&manifest[start..end])
}

/// `name = { workspace = true, features = [...] }` lines as the workspace's spec of `name`, with
/// the member's features added; other lines as they are; comments left out.
fn standalone_dependencies(member: &str, workspace: &str) -> Result<String, String> {
    let mut out = String::new();
    for line in member.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, spec)) = line.split_once(" = ") else {
            return Err(format!(
                "kuber-models/Cargo.toml: cannot read dependency line `{line}`"
            ));
        };
        if !spec.contains("workspace = true") {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let base = workspace
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{name} = ")))
            .ok_or_else(|| format!("Cargo.toml: no workspace dependency `{name}`"))?;
        let features = spec
            .find("features = [")
            .map(|i| &spec[i..=i + spec[i..].find(']').unwrap_or(spec.len() - i - 1)]);
        // The member's own keys: its features, and whether it is optional (a feature's `dep:`).
        let mut own: Vec<&str> = features.into_iter().collect();
        if spec.contains("optional = true") {
            own.push("optional = true");
        }
        let own = own.join(", ");
        let resolved = match (own.is_empty(), base.strip_suffix('}')) {
            (true, _) => base.to_owned(),
            (false, Some(table)) => format!("{}, {own} }}", table.trim_end()),
            (false, None) => format!("{{ version = {base}, {own} }}"),
        };
        out.push_str(&format!("{name} = {resolved}\n"));
    }
    Ok(out)
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

/// What cargo runs on a standalone crate: its round-trip test when there is a fixture or a kind
/// to check, else a build of everything it has.
fn crd_cargo_args(dir: &Path, args: &Args) -> Result<Vec<&'static str>, String> {
    let fixture = args.fixture.as_deref().zip(args.type_path.as_deref());
    if fixture.is_none() && args.kinds.is_empty() {
        return Ok(vec!["build", "--quiet", "--all-targets"]);
    }
    add_roundtrip_test(dir, fixture, &args.kinds)?;
    Ok(vec!["test", "--quiet", "--test", "roundtrip"])
}

fn add_roundtrip_test(
    dir: &Path,
    fixture: Option<(&Path, &str)>,
    kinds: &[KindCheck],
) -> Result<(), String> {
    fs::create_dir_all(dir.join("tests")).map_err(|e| e.to_string())?;
    let crate_name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .replace('-', "_");
    let mut test = String::new();
    if let Some((fixture, type_path)) = fixture {
        // The fixture travels with the crate: no path of this machine in what is generated.
        fs::copy(fixture, dir.join("tests/fixture.json"))
            .map_err(|e| format!("{}: {e}", fixture.display()))?;
        test.push_str(&format!(
            "#[test]\nfn fixture_round_trips() {{\n    \
             let text = include_str!(\"fixture.json\");\n    \
             let typed: {crate_name}::{type_path} = serde_json::from_str(text).expect(\"decode\");\n    \
             let back = serde_json::to_value(&typed).expect(\"encode\");\n    \
             let original: serde_json::Value = serde_json::from_str(text).expect(\"fixture is JSON\");\n    \
             assert_eq!(back, original);\n}}\n"
        ));
    }
    if !kinds.is_empty() {
        test.push_str("\n#[test]\nfn kinds_have_their_plural_and_scope() {\n    use kuber_models::{Resource, Scope};\n");
        for k in kinds {
            test.push_str(&format!(
                "    assert_eq!({crate_name}::{p}::PLURAL, {plural:?});\n    \
                 assert_eq!({crate_name}::{p}::SCOPE, Scope::{scope});\n",
                p = k.type_path,
                plural = k.plural,
                scope = k.scope
            ));
        }
        test.push_str("}\n");
    }
    fs::write(dir.join("tests/roundtrip.rs"), test).map_err(|e| e.to_string())?;
    let manifest_path = dir.join("Cargo.toml");
    let mut manifest = fs::read_to_string(&manifest_path).map_err(|e| e.to_string())?;
    manifest.push_str("\n[dev-dependencies]\nserde_json = \"1\"\n");
    fs::write(&manifest_path, manifest).map_err(|e| e.to_string())
}

fn cargo(dir: &Path, args: &[&str]) -> Result<(), String> {
    let target = workspace_root().join("target/try-gen/target");
    let status = cargo_command()
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
            if args.first() == Some(&"test") {
                " and its test passes"
            } else {
                ""
            }
        );
        Ok(())
    } else {
        Err(format!(
            "try-gen: {} does not build cleanly, or its test fails",
            dir.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, String> {
        parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn a_crd_crate_without_a_fixture_is_built_not_tested() {
        let dir = std::env::temp_dir().join(format!("kuber-try-gen-{}", std::process::id()));
        let a = args(&["--crd", "--spec", "x.json"]).unwrap();
        assert_eq!(
            crd_cargo_args(&dir, &a).unwrap(),
            ["build", "--quiet", "--all-targets"]
        );
        // Nothing was written for a test that would not run.
        assert!(!dir.join("tests").exists());
    }

    #[test]
    fn a_crd_crate_with_a_fixture_runs_its_round_trip_test() {
        let dir = std::env::temp_dir().join(format!("kuber-try-gen-rt-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("Cargo.toml"), "[package]\n").unwrap();
        let fixture = dir.join("in.json");
        fs::write(&fixture, "{}").unwrap();
        let a = args(&[
            "--crd",
            "--spec",
            "x.json",
            "--fixture",
            fixture.to_str().unwrap(),
            "--type",
            "a::B",
        ])
        .unwrap();
        let cargo_args = crd_cargo_args(&dir, &a).unwrap();
        assert_eq!(cargo_args, ["test", "--quiet", "--test", "roundtrip"]);
        let test = fs::read_to_string(dir.join("tests/roundtrip.rs")).unwrap();
        assert!(test.contains("include_str!(\"fixture.json\")"), "{test}");
        assert!(!test.contains(dir.to_str().unwrap()), "{test}");
        assert_eq!(
            fs::read_to_string(dir.join("tests/fixture.json")).unwrap(),
            "{}"
        );
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("[dev-dependencies]\nserde_json"),
            "{manifest}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_models_manifest_takes_the_workspace_dependency_specs() {
        let member = "# why\nserde_core = { workspace = true }\n\
                      serde_json = { workspace = true, features = [\"raw_value\"] }\n\
                      base64 = { workspace = true }\n\
                      prost = { workspace = true, optional = true }\n";
        let workspace = "serde_core = { version = \"1.0.220\", default-features = false }\n\
                         serde_json = \"1\"\nbase64 = \"0.23\"\n\
                         prost = { version = \"0.14\", default-features = false }\n";
        assert_eq!(
            standalone_dependencies(member, workspace).unwrap(),
            "serde_core = { version = \"1.0.220\", default-features = false }\n\
             serde_json = { version = \"1\", features = [\"raw_value\"] }\n\
             base64 = \"0.23\"\n\
             prost = { version = \"0.14\", default-features = false, optional = true }\n"
        );
        let err = standalone_dependencies("rand = { workspace = true }\n", workspace).unwrap_err();
        assert!(err.contains("`rand`"), "{err}");
    }

    #[test]
    fn fixture_and_type_go_together() {
        let err = args(&["--crd", "--spec", "x.json", "--fixture", "f.json"])
            .err()
            .unwrap();
        assert!(err.contains("--fixture and --type"), "{err}");
        let err = args(&["--crd", "--spec", "x.json", "--type", "a::B"])
            .err()
            .unwrap();
        assert!(err.contains("--fixture and --type"), "{err}");
        let err = args(&["--spec", "x.json", "--fixture", "f.json", "--type", "a::B"])
            .err()
            .unwrap();
        assert!(err.contains("--fixture and --kind need --crd"), "{err}");
    }

    #[test]
    fn kind_checks_become_a_test_of_the_resource_constants() {
        let dir = std::env::temp_dir().join(format!("kuber-try-gen-k-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("Cargo.toml"), "[package]\n").unwrap();
        let a = args(&[
            "--crd",
            "--spec",
            "x.json",
            "--cluster-scoped",
            "ClusterIssuer",
            "--kind",
            "a::ClusterIssuer=clusterissuers,Cluster",
        ])
        .unwrap();
        assert_eq!(a.cluster_scoped, ["ClusterIssuer"]);
        assert_eq!(
            crd_cargo_args(&dir, &a).unwrap(),
            ["test", "--quiet", "--test", "roundtrip"]
        );
        let test = fs::read_to_string(dir.join("tests/roundtrip.rs")).unwrap();
        let name = dir.file_name().unwrap().to_str().unwrap().replace('-', "_");
        assert!(
            test.contains(&format!(
                "assert_eq!({name}::a::ClusterIssuer::SCOPE, Scope::Cluster);"
            )),
            "{test}"
        );
        assert!(test.contains("::PLURAL, \"clusterissuers\");"), "{test}");
        assert!(!test.contains("fixture_round_trips"), "{test}");
        fs::remove_dir_all(&dir).unwrap();
        for bad in ["a::B", "a::B=bs", "a::B=bs,Global", "=bs,Cluster"] {
            let err = args(&["--crd", "--spec", "x.json", "--kind", bad])
                .err()
                .unwrap();
            assert!(err.contains("PATH=PLURAL,Namespaced|Cluster"), "{err}");
        }
        let err = args(&["--spec", "x.json", "--kind", "a::B=bs,Cluster"])
            .err()
            .unwrap();
        assert!(err.contains("need --crd"), "{err}");
    }
}
