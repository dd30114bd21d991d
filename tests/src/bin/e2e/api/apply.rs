//! Server-side apply of typed objects built with `Default`: `apiVersion` and `kind` come from
//! the type, and an apply without a field manager never leaves the client.

use kuber_api::{Client, CoreV1Api, Error, GetParams, Patch, PatchParams};
use kuber_models::Resource as _;
use kuber_models::api::core::v1::ConfigMap;

use crate::case;
use crate::support::{Case, Context, E2e, Outcome, ensure};

pub fn cases() -> Vec<Case> {
    vec![case!("apply/typed-default-object", typed_default)]
}

async fn typed_default(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("apply").await?;
    let client = Client::new(e2e.admin.config().clone()).context("client")?;
    let core = CoreV1Api::new(client.clone());
    let mut cm = ConfigMap::default();
    cm.metadata_mut().name = Some("applied".into());
    cm.data = Some([("k".to_owned(), "v1".to_owned())].into());
    ensure(cm.api_version.is_none() && cm.kind.is_none(), || {
        "the object should leave apiVersion and kind unset".into()
    })?;

    let manager = PatchParams {
        field_manager: Some("e2e-apply".into()),
        ..Default::default()
    };
    let patch = Patch::apply(&cm).context("encode the apply")?;
    let applied = core
        .patch_namespaced_config_map("applied", &ns, &patch, &manager)
        .await
        .context("apply a Default-built ConfigMap")?;
    ensure(
        applied
            .data
            .as_ref()
            .and_then(|d| d.get("k"))
            .map(String::as_str)
            == Some("v1"),
        || "the applied data is missing".into(),
    )?;
    let managers: Vec<_> = applied
        .metadata
        .as_ref()
        .and_then(|m| m.managed_fields.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|f| f.manager.clone())
        .collect();
    ensure(managers.iter().any(|m| m == "e2e-apply"), || {
        format!("field managers are {managers:?}")
    })?;

    // Without a field manager: refused here, nothing sent.
    let before = client.stats().responses;
    cm.data = Some([("k".to_owned(), "v2".to_owned())].into());
    let patch = Patch::apply(&cm).context("encode the apply")?;
    match core
        .patch_namespaced_config_map("applied", &ns, &patch, &PatchParams::default())
        .await
    {
        Err(Error::MissingFieldManager { operation }) => {
            ensure(operation == "patchCoreV1NamespacedConfigMap", || {
                format!("the refusal names {operation}")
            })?
        }
        other => return Err(format!("apply without a field manager: {other:?}")),
    }
    ensure(client.stats().responses == before, || {
        "the apply without a field manager reached the server".into()
    })?;
    let current = core
        .read_namespaced_config_map("applied", &ns, &GetParams::default())
        .await
        .context("read back")?;
    ensure(
        current
            .data
            .as_ref()
            .and_then(|d| d.get("k"))
            .map(String::as_str)
            == Some("v1"),
        || "the refused apply changed the object".into(),
    )
}
