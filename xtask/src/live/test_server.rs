//! A TLS server for the fetcher's tests: a CA made at test time, a serving certificate for
//! 127.0.0.1, a client certificate it requires, one bearer token, and a two-document
//! `/openapi/v3`. It runs on a thread of its own (the fetcher blocks on its own runtime).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub const TOKEN: &str = "s3cret-token-value";
pub const CORE_DOC: &str = r#"{"openapi": "3.0.0", "info": {"title": "core", "version": "v1"}}"#;
pub const APPS_DOC: &str = r#"{"openapi": "3.0.0", "info": {"title": "apps", "version": "v1"}}"#;

/// A CA and the certificates it signed, all PEM.
pub struct Pki {
    pub ca_pem: String,
    pub client_pem: String,
    pub client_key_pem: String,
    server_cert: rcgen::Certificate,
    server_key: KeyPair,
}

impl Pki {
    pub fn new() -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(params, ca_key);
        let signed = |names: Vec<String>, usage| {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(names).unwrap();
            params.extended_key_usages = vec![usage];
            (params.signed_by(&key, &issuer).unwrap(), key)
        };
        let (server_cert, server_key) = signed(
            vec!["127.0.0.1".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client, client_key) = signed(Vec::new(), ExtendedKeyUsagePurpose::ClientAuth);
        Pki {
            ca_pem: ca.pem(),
            client_pem: client.pem(),
            client_key_pem: client_key.serialize_pem(),
            server_cert,
            server_key,
        }
    }
}

/// Starts the server; its `https://127.0.0.1:PORT`.
pub fn start(pki: &Pki) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(pki.ca_pem.as_bytes()) {
        roots.add(ca.unwrap()).unwrap();
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![pki.server_cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service =
                        service_fn(|request| async move { Ok::<_, String>(answer(&request)) });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
    });
    url
}

fn answer<B>(request: &http::Request<B>) -> http::Response<Full<Bytes>> {
    let respond = |code: u16, body: &str| {
        http::Response::builder()
            .status(code)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap()
    };
    let bearer = format!("Bearer {TOKEN}");
    if request.headers().get("authorization").map(|v| v.as_bytes()) != Some(bearer.as_bytes()) {
        return respond(
            401,
            r#"{"kind": "Status", "message": "Unauthorized", "code": 401}"#,
        );
    }
    match request.uri().path() {
        "/openapi/v3" => respond(
            200,
            r#"{"paths": {
                "api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=C1"},
                "apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=A1"}}}"#,
        ),
        "/openapi/v3/api/v1" => respond(200, CORE_DOC),
        "/openapi/v3/apis/apps/v1" => respond(200, APPS_DOC),
        _ => respond(
            404,
            r#"{"kind": "Status", "message": "not found", "code": 404}"#,
        ),
    }
}
