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
    pub inputs: Vec<load::InputInfo>,
}

/// Loads `specs`, corrects them, and emits the models crate sources under `root` (a path relative
/// to the output folder, e.g. `kuber-models/src/generated`) and, with `api_root`, the API crate's.
pub fn generate(
    specs: &[PathBuf],
    target: Target,
    root: &str,
    api_root: Option<&str>,
) -> Result<Generated, Error> {
    let loaded = load::load_specs(specs)?;
    let mut doc = loaded.doc;
    let fixups = fixups::apply_all(&mut doc);
    let input = specs
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let model = model::Model::build(&doc).map_err(|source| Error::Model {
        input: input.clone(),
        source,
    })?;
    let output = emit::models::ModelsEmitter::new(&model, target, root).emit()?;
    let api = match api_root {
        Some(api_root) => {
            let ops =
                ops::collect(&doc, &model).map_err(|source| Error::Operation { input, source })?;
            Some(emit::api::ApiEmitter::new(&model, &ops, api_root).emit()?)
        }
        None => None,
    };
    let operations = doc
        .paths
        .paths
        .values()
        .filter_map(|p| p.as_item())
        .map(|p| p.iter().count())
        .sum();
    Ok(Generated {
        output,
        api,
        types: model.types.len(),
        kinds: model.kinds.len(),
        operations,
        fixups,
        inputs: loaded.inputs,
    })
}
