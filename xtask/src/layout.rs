//! Where things are: the workspace, and where each file `gen` writes goes, in one table per kind
//! of output ([`Layout`]). `gen` itself knows no path.

use std::path::{Path, PathBuf};

use codegen::Target;

/// The workspace this xtask belongs to.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// Where one kind of output puts each generated file, relative to its root. Folders are owned:
/// a file in them that is not generated any more is removed (`--check`: reported).
pub struct Layout {
    /// What the models code refers to itself as (`crate::` or `::kuber_models::`).
    pub target: Target,
    /// The models crate's generated sources (a folder).
    pub models: &'static str,
    /// The models crate's manifest.
    pub models_manifest: Manifest,
    /// The API crate's sources and manifest, and the facade's manifest, when they are generated.
    pub api: Option<ApiFiles>,
    /// The test server's schema facts (a file, its folder owned).
    pub facts: Option<&'static str>,
    /// The record of the documents the code comes from.
    pub source_record: Option<&'static str>,
    /// Our own documents (`*.openapi.json`, a folder), merged after the `--spec` ones.
    pub own_documents: Option<&'static str>,
    /// The crate root of a standalone crate.
    pub lib: Option<&'static str>,
}

/// How a manifest is written.
pub enum Manifest {
    /// Its generated `[features]` region is replaced, the rest kept.
    Features(&'static str),
    /// Written whole (a standalone crate of extra documents).
    Whole(&'static str),
}

pub struct ApiFiles {
    pub sources: &'static str,
    pub manifest: &'static str,
    /// The facade offers the API crate's features, each turning on kuber-api's.
    pub facade_manifest: &'static str,
}

/// The committed code of this workspace.
pub const WORKSPACE: Layout = Layout {
    target: Target::KuberModels,
    models: "kuber-models/src/generated",
    models_manifest: Manifest::Features("kuber-models/Cargo.toml"),
    api: Some(ApiFiles {
        sources: "kuber-api/src/generated",
        manifest: "kuber-api/Cargo.toml",
        facade_manifest: "kuber/Cargo.toml",
    }),
    facts: Some("tests/testserver/src/generated/definitions.json"),
    source_record: Some("spec/source.json"),
    own_documents: Some("spec"),
    lib: None,
};

/// A copy of kuber-models regenerated from other documents (`try-gen`): its hand-written part
/// is copied there first.
pub const MODELS_COPY: Layout = Layout {
    target: Target::KuberModels,
    models: "src/generated",
    models_manifest: Manifest::Features("Cargo.toml"),
    api: None,
    facts: None,
    source_record: None,
    own_documents: None,
    lib: None,
};

/// A crate of its own for extra documents such as CRDs (`gen --out`).
pub const STANDALONE: Layout = Layout {
    target: Target::Standalone,
    models: "src/generated",
    models_manifest: Manifest::Whole("Cargo.toml"),
    api: None,
    facts: None,
    source_record: None,
    own_documents: None,
    lib: Some("src/lib.rs"),
};

impl Layout {
    /// The folders whose every file is generated.
    pub fn owned_dirs(&self) -> Vec<&'static str> {
        let mut dirs = vec![self.models];
        dirs.extend(self.api.as_ref().map(|api| api.sources));
        dirs.extend(
            self.facts
                .and_then(|f| f.rsplit_once('/'))
                .map(|(dir, _)| dir),
        );
        dirs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_layout_names_files_of_this_workspace() {
        let root = workspace_root();
        let l = &WORKSPACE;
        let Manifest::Features(models) = l.models_manifest else {
            panic!("the models manifest keeps its hand-written part");
        };
        let api = l.api.as_ref().unwrap();
        for file in [models, api.manifest, api.facade_manifest] {
            assert!(root.join(file).is_file(), "{file}");
        }
        for dir in l.owned_dirs().into_iter().chain(l.own_documents) {
            assert!(root.join(dir).is_dir(), "{dir}");
        }
        assert_eq!(
            l.owned_dirs(),
            [
                "kuber-models/src/generated",
                "kuber-api/src/generated",
                "tests/testserver/src/generated"
            ]
        );
        assert!(root.join(l.source_record.unwrap()).is_file());
    }
}
