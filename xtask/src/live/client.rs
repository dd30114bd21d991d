//! GET requests to one cluster over hyper and rustls, as a [`Target`] says: its CA (else the
//! system's roots), an optional client certificate and bearer token. No proxies, no retries: a
//! wrong server fails at once, in one line.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_rustls::ConfigBuilderExt as _;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::kubeconfig::Target;

/// An unreachable server fails in seconds; a large document still has time to arrive.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

pub struct Fetcher {
    client: Client<Https, Empty<Bytes>>,
    server: String,
    authorization: Option<http::HeaderValue>,
}

impl Fetcher {
    pub fn new(target: &Target) -> Result<Fetcher, String> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        // Small requests on a kept-alive connection: no waiting for delayed ACKs.
        http.set_nodelay(true);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(target)?)
            .https_or_http();
        let builder = match &target.tls_server_name {
            Some(name) => {
                let name = ServerName::try_from(name.clone())
                    .map_err(|_| format!("tls-server-name `{name}` is not a host name"))?;
                builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
            }
            None => builder,
        };
        let https = builder.enable_http1().wrap_connector(http);
        let authorization = match &target.token {
            Some(token) => {
                let mut value = b"Bearer ".to_vec();
                value.extend_from_slice(&token.0);
                let mut value = http::HeaderValue::from_bytes(&value)
                    .map_err(|_| "the bearer token holds characters a header cannot carry")?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Fetcher {
            client: Client::builder(TokioExecutor::new()).build(https),
            server: target.server.clone(),
            authorization,
        })
    }

    /// The server, as errors name it.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The body of a 2xx answer to `GET {server}{path}` (`path` starts with `/`).
    pub async fn get(&self, path: &str) -> Result<Bytes, String> {
        let uri: http::Uri = format!("{}{path}", self.server)
            .parse()
            .map_err(|_| format!("GET {path}: not a usable URL"))?;
        let mut request = http::Request::get(uri).header(http::header::ACCEPT, "application/json");
        if let Some(auth) = &self.authorization {
            request = request.header(http::header::AUTHORIZATION, auth.clone());
        }
        let request = request
            .body(Empty::new())
            .map_err(|e| format!("GET {path}: {e}"))?;
        let answer = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("cannot reach {}: {}", self.server, root_cause(&e)))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("GET {path}: the answer broke off: {}", root_cause(&e)))?
                .to_bytes();
            if status.is_success() {
                Ok(body)
            } else {
                Err(format!(
                    "GET {path}: HTTP {}: {}",
                    status.as_u16(),
                    reason(&body)
                ))
            }
        };
        tokio::time::timeout(REQUEST_TIMEOUT, answer)
            .await
            .map_err(|_| {
                format!(
                    "cannot reach {}: no answer after {} s",
                    self.server,
                    REQUEST_TIMEOUT.as_secs()
                )
            })?
    }
}

/// A Status's message, else the body's first line (at most 200 characters).
fn reason(body: &[u8]) -> String {
    let status: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    if let Some(message) = status.as_ref().and_then(|s| s.get("message")?.as_str()) {
        return message.to_owned();
    }
    let text = String::from_utf8_lossy(body);
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

/// The innermost cause: for I/O errors their kind (`connection refused`), else its message.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    let mut io_kind = None;
    loop {
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && !matches!(io.kind(), std::io::ErrorKind::Other)
        {
            io_kind = Some(io.kind().to_string());
        }
        match current.source() {
            Some(next) => current = next,
            None => break,
        }
    }
    io_kind.unwrap_or_else(|| current.to_string())
}

fn tls_config(target: &Target) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = if target.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate { provider }))
    } else if let Some(pem) = &target.ca_pem {
        // As kubectl: a configured CA is the only trust anchor.
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| format!("certificate authority PEM: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("certificate authority: {e}"))?;
        }
        if roots.is_empty() {
            return Err("the certificate authority PEM holds no certificate".into());
        }
        builder.with_root_certificates(roots)
    } else {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        if roots.is_empty() {
            builder.with_webpki_roots()
        } else {
            builder.with_root_certificates(roots)
        }
    };
    match &target.client_cert {
        Some((cert, key)) => {
            let chain = CertificateDer::pem_slice_iter(cert)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("client certificate PEM: {e}"))?;
            if chain.is_empty() {
                return Err("the client certificate PEM holds no certificate".into());
            }
            // The key's error names the problem, never the content.
            let key = PrivateKeyDer::from_pem_slice(&key.0)
                .map_err(|e| format!("client key PEM: {e}"))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("client certificate and key: {e}"))
        }
        None => Ok(builder.with_no_client_auth()),
    }
}

/// `insecure-skip-tls-verify`: any certificate, but the handshake's signatures still checked.
#[derive(Debug)]
struct AnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
