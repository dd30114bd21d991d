//! Trust roots without a configured CA. Alone in its own test binary: it sets `SSL_CERT_FILE`,
//! which is process-wide, and the system roots are loaded once per process.

mod support;

use kuber_api::{Client, Request};
use kuber_models::DynamicObject;
use support::{Ca, GET_POD, Options, Server, config, json, pod};

#[tokio::test]
async fn without_a_configured_ca_the_system_trust_store_is_used() {
    let ca = Ca::new("a CA only the system store knows");
    let dir = std::env::temp_dir().join(format!("kuber-roots-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = dir.join("ca-bundle.pem");
    std::fs::write(&bundle, &ca.pem).unwrap();
    // SAFETY: the only test in this binary, run before any client (or other thread) reads the
    // environment.
    unsafe {
        std::env::set_var("SSL_CERT_FILE", &bundle);
        std::env::remove_var("SSL_CERT_DIR");
    }

    let server = Server::start(
        Options::tls(ca.issue(&["127.0.0.1"], "apiserver")),
        |_, _| async { json(200, pod("web", 1)) },
    )
    .await;
    let client = Client::new(config(&server.url, None))
        .unwrap()
        .with_retries(0, false);
    assert!(client.config().tls.ca_pem.is_none());
    let pod: DynamicObject = client
        .call(Request::new(&GET_POD, &["default", "web"]))
        .await
        .unwrap();
    assert_eq!(pod.metadata.unwrap().name.as_deref(), Some("web"));
    let _ = std::fs::remove_dir_all(dir);
}
