//! gzip on the real API server: it compresses answers over 128 KiB when the client offers gzip
//! (APIResponseCompression). A large list arrives gzip-encoded and decodes to every object; with
//! `disable-compression` the same list arrives plain.

use kuber_api::{Client, CoreV1Api, ListParams, WriteParams};
use kuber_models::Resource as _;
use kuber_models::api::core::v1::ConfigMap;

use crate::case;
use crate::support::{Case, Context, E2e, Outcome, ensure};

pub fn cases() -> Vec<Case> {
    vec![case!("compression/large-list-is-gzipped", large_list)]
}

const OBJECTS: usize = 40;
/// 40 × 8 KiB: well over the server's 128 KiB threshold.
const VALUE_BYTES: usize = 8 << 10;

fn value(i: usize) -> String {
    // Varied enough to be real data, regular enough to compress.
    (0..VALUE_BYTES)
        .map(|j| char::from(b'a' + ((i * 7 + j) % 26) as u8))
        .collect()
}

fn labelled() -> ListParams {
    ListParams {
        label_selector: Some("e2e=gzip".into()),
        ..Default::default()
    }
}

async fn large_list(e2e: &E2e) -> Outcome {
    let ns = e2e.namespace("gzip").await?;
    let core = CoreV1Api::new(e2e.admin.clone());
    for i in 0..OBJECTS {
        let mut cm = ConfigMap::default();
        cm.metadata_mut().name = Some(format!("big-{i}"));
        // The namespace has a config map of its own (kube-root-ca.crt).
        cm.metadata_mut().labels = Some([("e2e".to_owned(), "gzip".to_owned())].into());
        cm.data = Some([("v".to_owned(), value(i))].into());
        core.create_namespaced_config_map(&ns, &cm, &WriteParams::default())
            .await
            .context(format!("create config map big-{i}"))?;
    }

    let check = |list: &kuber_models::api::core::v1::ConfigMapList| -> Outcome {
        ensure(list.items.len() == OBJECTS, || {
            format!("listed {} config maps, not {OBJECTS}", list.items.len())
        })?;
        for cm in &list.items {
            let name = cm
                .metadata
                .as_ref()
                .and_then(|m| m.name.as_deref())
                .unwrap_or("");
            let i: usize = name
                .trim_start_matches("big-")
                .parse()
                .map_err(|_| format!("unexpected {name}"))?;
            let data = cm.data.as_ref().and_then(|d| d.get("v"));
            ensure(data == Some(&value(i)), || {
                format!("{name}: data differs after decoding")
            })?;
        }
        Ok(())
    };

    // Offered gzip (the default): the answer comes compressed.
    let client = Client::new(e2e.admin.config().clone()).context("client")?;
    let list = CoreV1Api::new(client.clone())
        .list_namespaced_config_map(&ns, &labelled())
        .await
        .context("list with gzip")?;
    check(&list)?;
    let stats = client.stats();
    ensure(stats.gzip_responses == 1, || {
        format!("the list was not gzip-encoded: {stats:?}")
    })?;
    ensure(stats.gzip_decoded_bytes > 4 * stats.gzip_wire_bytes, || {
        format!("gzip saved little: {stats:?}")
    })?;
    e2e.report(format!(
        "gzip: a {OBJECTS}-object list of {} KiB came as {} KiB",
        stats.gzip_decoded_bytes >> 10,
        stats.gzip_wire_bytes >> 10
    ));

    // disable-compression: not offered, so not compressed.
    let mut config = e2e.admin.config().clone();
    config.disable_compression = true;
    let plain = Client::new(config).context("client without compression")?;
    let list = CoreV1Api::new(plain.clone())
        .list_namespaced_config_map(&ns, &labelled())
        .await
        .context("list without gzip")?;
    check(&list)?;
    let stats = plain.stats();
    ensure(stats.responses == 1 && stats.gzip_responses == 0, || {
        format!("with disable-compression: {stats:?}")
    })
}
