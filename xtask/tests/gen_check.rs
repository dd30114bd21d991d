//! `gen --check` notices every way generated code can drift from the generator: a hand edit, a
//! deleted file, a file the generator no longer writes. Uses a small hand-made spec, so it runs
//! without ../shared.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn spec() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../codegen/tests/fixtures/load/mini.swagger.json")
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("run xtask")
}

fn gen_args<'a>(out: &'a str, spec: &'a str, check: bool) -> Vec<&'a str> {
    let mut a = vec!["gen", "--out", out, "--spec", spec];
    if check {
        a.push("--check");
    }
    a
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kuber-gen-check-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn generate(dir: &Path) -> (String, String) {
    let out = dir.display().to_string();
    let spec = spec().display().to_string();
    let done = xtask(&gen_args(&out, &spec, false));
    assert!(
        done.status.success(),
        "gen failed: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    (out, spec)
}

fn check(out: &str, spec: &str) -> Output {
    xtask(&gen_args(out, spec, true))
}

#[test]
fn fresh_output_passes_and_hand_edits_fail() {
    let dir = scratch("edit");
    let (out, spec) = generate(&dir);
    assert!(
        check(&out, &spec).status.success(),
        "fresh output must pass --check"
    );

    let file = dir.join("src/generated/io/example/v1.rs");
    let original = fs::read_to_string(&file).expect("generated file");
    fs::write(
        &file,
        original.replace("pub struct Widget ", "pub struct Widget2 "),
    )
    .unwrap();
    let failed = check(&out, &spec);
    assert!(!failed.status.success(), "a hand edit must fail --check");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("differs: src/generated/io/example/v1.rs"),
        "{stderr}"
    );

    // Regenerating repairs it.
    generate(&dir);
    assert!(check(&out, &spec).status.success());
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn deleted_and_extra_files_fail() {
    let dir = scratch("files");
    let (out, spec) = generate(&dir);
    fs::remove_file(dir.join("src/generated/io/example/v1.rs")).unwrap();
    let stderr = String::from_utf8_lossy(&check(&out, &spec).stderr).into_owned();
    assert!(
        stderr.contains("differs: src/generated/io/example/v1.rs"),
        "{stderr}"
    );

    generate(&dir);
    fs::write(dir.join("src/generated/leftover.rs"), "// old\n").unwrap();
    let failed = check(&out, &spec);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("not generated any more: src/generated/leftover.rs"),
        "{stderr}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn bad_spec_is_a_clear_error_not_a_panic() {
    let dir = scratch("bad");
    fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("truncated.json");
    let text = fs::read_to_string(self::spec()).unwrap();
    fs::write(&spec, &text[..text.len() / 2]).unwrap();
    let out = dir.join("out").display().to_string();
    let failed = xtask(&gen_args(&out, &spec.display().to_string(), false));
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("truncated.json"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let _ = fs::remove_dir_all(&dir);
}
