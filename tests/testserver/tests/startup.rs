//! Start-up: a TLS server answers its first request, each time. How fast it does is measured by
//! `cargo xtask bench --testserver` (start-up to first answer), not asserted here: timed
//! assertions fail on a loaded machine.

use kuber::models::Resource as _;
use kuber::models::api::core::v1::Namespace;
use kuber_testserver::TestServer;

#[tokio::test]
async fn a_new_tls_server_answers_its_first_request() {
    for _ in 0..7 {
        let server = TestServer::start_tls().await.unwrap();
        let namespaces = server.context().list::<Namespace>().await.unwrap();
        assert!(
            namespaces.items.iter().any(|n| n.name() == Some("default")),
            "the default namespace is there from the start"
        );
    }
}
