//! The rustls client configuration a [`TlsConfig`] describes.

use std::sync::{Arc, OnceLock, RwLock};

use hyper_rustls::ConfigBuilderExt as _;
use rustls::client::ResolvesClientCert;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tracing::debug;

use crate::Error;
use crate::config::{ClientIdentity, TlsConfig};

fn tls_error(message: impl Into<String>) -> Error {
    Error::Tls {
        message: message.into(),
    }
}

/// The builder both configurations start from, up to the server check: none with
/// `insecure-skip-tls-verify`, else the roots `trust` picks. An explicit provider: the
/// process-wide default may be unset or be another backend.
fn verified(
    tls: &TlsConfig,
    trust: impl FnOnce(
        rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>,
    ) -> Result<ClientCertStep, Error>,
) -> Result<ClientCertStep, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(format!("protocol versions: {e}")))?;
    if tls.insecure_skip_verify {
        Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(InsecureSkipVerify { provider })))
    } else {
        trust(builder)
    }
}

type ClientCertStep = rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>;

/// Adds every certificate of a CA bundle in PEM.
fn add_pem_roots(roots: &mut RootCertStore, pem: &[u8]) -> Result<(), Error> {
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| tls_error(format!("certificate authority PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| tls_error(format!("certificate authority: {e}")))?;
    }
    Ok(())
}

/// Builds the client configuration; ALPN is left empty for the connector to fill in. With
/// `exec_identity`, the client certificate is the one an exec plugin last returned.
pub(crate) fn client_config(
    tls: &TlsConfig,
    exec_identity: Option<Arc<ExecIdentity>>,
) -> Result<ClientConfig, Error> {
    let builder = verified(tls, |builder| {
        Ok(match &tls.ca_pem {
            // As kubectl: a configured CA is the only trust anchor.
            Some(pem) => {
                let mut roots = RootCertStore::empty();
                add_pem_roots(&mut roots, pem)?;
                if roots.is_empty() {
                    return Err(tls_error("certificate authority PEM holds no certificate"));
                }
                builder.with_root_certificates(roots)
            }
            // As Go: the system's trust store; the bundled roots only when it has none.
            None => match system_roots() {
                Some(roots) => builder.with_root_certificates(roots),
                None => builder.with_webpki_roots(),
            },
        })
    })?;

    match (&tls.client_cert_pem, &tls.client_key_pem) {
        (Some(cert_pem), Some(key_pem)) => {
            let chain = CertificateDer::pem_slice_iter(cert_pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| tls_error(format!("client certificate PEM: {e}")))?;
            if chain.is_empty() {
                return Err(tls_error("client certificate PEM holds no certificate"));
            }
            // The key's PEM error names only the problem, never the content.
            let key = PrivateKeyDer::from_pem_slice(key_pem.expose())
                .map_err(|e| tls_error(format!("client key PEM: {e}")))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| tls_error(format!("client certificate and key: {e}")))
        }
        (Some(_), None) => Err(tls_error(
            "a client certificate is configured without its key",
        )),
        (None, Some(_)) => Err(tls_error(
            "a client key is configured without its certificate",
        )),
        (None, None) => Ok(match exec_identity {
            Some(identity) => builder.with_client_cert_resolver(identity),
            None => builder.with_no_client_auth(),
        }),
    }
}

/// TLS to an https proxy. As in Go (and so kubectl), the cluster's TLS settings hold for the
/// proxy too: its CA is trusted and `insecure-skip-tls-verify` skips the check. Unlike Go, the
/// system's trust roots are trusted beside a configured CA, since proxies rarely carry a
/// certificate of the cluster's CA. No client certificate: it is the API server's business.
#[cfg(feature = "proxy")]
pub(crate) fn proxy_client_config(tls: &TlsConfig) -> Result<ClientConfig, Error> {
    let builder = verified(tls, |builder| {
        let mut roots = system_roots().map_or_else(RootCertStore::empty, |r| (*r).clone());
        if let Some(pem) = &tls.ca_pem {
            add_pem_roots(&mut roots, pem)?;
        }
        Ok(if roots.is_empty() {
            builder.with_webpki_roots()
        } else {
            builder.with_root_certificates(roots)
        })
    })?;
    Ok(builder.with_no_client_auth())
}

/// The system's trust roots (`SSL_CERT_FILE`/`SSL_CERT_DIR` when set, as Go reads them), loaded
/// once per process as Go does. `None` when the store is missing or holds no usable certificate.
fn system_roots() -> Option<Arc<RootCertStore>> {
    static ROOTS: OnceLock<Option<Arc<RootCertStore>>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                debug!(error = %e, "system trust store: skipped a source");
            }
            let mut roots = RootCertStore::empty();
            let (added, ignored) = roots.add_parsable_certificates(found.certs);
            if ignored > 0 {
                debug!(ignored, "system trust store: skipped unusable certificates");
            }
            if added == 0 {
                debug!("system trust store is empty or unreadable; using the bundled roots");
                return None;
            }
            Some(Arc::new(roots))
        })
        .clone()
}

/// The client certificate an exec plugin returned, swapped when the plugin returns another.
#[derive(Debug)]
pub(crate) struct ExecIdentity {
    provider: Arc<CryptoProvider>,
    /// The certificate PEM (to notice a new one) and the key rustls signs with.
    current: RwLock<Option<(Vec<u8>, Arc<CertifiedKey>)>>,
}

impl ExecIdentity {
    pub(crate) fn new() -> ExecIdentity {
        ExecIdentity {
            provider: Arc::new(rustls::crypto::ring::default_provider()),
            current: RwLock::new(None),
        }
    }

    /// Takes the plugin's certificate; whether it replaced another one.
    pub(crate) fn update(&self, identity: &ClientIdentity) -> Result<bool, Error> {
        let same = |current: &Option<(Vec<u8>, Arc<CertifiedKey>)>| {
            current
                .as_ref()
                .is_some_and(|(pem, _)| *pem == identity.cert_pem)
        };
        if self.current.read().map(|c| same(&c)).unwrap_or(false) {
            return Ok(false);
        }
        let chain = CertificateDer::pem_slice_iter(&identity.cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| tls_error(format!("exec plugin client certificate PEM: {e}")))?;
        if chain.is_empty() {
            return Err(tls_error(
                "exec plugin client certificate PEM holds no certificate",
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(identity.key_pem.expose())
            .map_err(|e| tls_error(format!("exec plugin client key PEM: {e}")))?;
        let key = CertifiedKey::from_der(chain, key, &self.provider)
            .map_err(|e| tls_error(format!("exec plugin client certificate and key: {e}")))?;
        let mut current = self
            .current
            .write()
            .map_err(|_| tls_error("client certificate lock poisoned"))?;
        let replaced = current.is_some();
        *current = Some((identity.cert_pem.clone(), Arc::new(key)));
        Ok(replaced)
    }
}

impl ResolvesClientCert for ExecIdentity {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.current
            .read()
            .ok()
            .and_then(|c| c.as_ref().map(|(_, key)| key.clone()))
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// The name the server certificate must carry: `tls-server-name` when set.
pub(crate) fn server_name(name: &str) -> Result<ServerName<'static>, Error> {
    ServerName::try_from(name.to_string())
        .map_err(|e| tls_error(format!("tls-server-name {name:?}: {e}")))
}

/// `insecure-skip-tls-verify`: accepts any server certificate, for any name. Handshake signatures
/// are still checked, so the peer at least holds the key of the certificate it sent.
#[derive(Debug)]
struct InsecureSkipVerify {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for InsecureSkipVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// What failed in TLS, if TLS is what failed: a rustls error somewhere in an error's sources,
/// or an alert the server sent (which arrives as text, e.g. when it requires a client certificate).
/// rustls's words, with what they mean for a kubeconfig where its words are terse.
fn explain(e: &rustls::Error) -> String {
    use rustls::{CertificateError, Error};
    let hint = match e {
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the server's certificate is not signed by a trusted CA (check the cluster's \
             certificate-authority or certificate-authority-data)"
        }
        Error::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => "the server's certificate has expired",
        Error::InvalidCertificate(
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. },
        ) => "the server's certificate is not valid yet (check the clock)",
        _ => return e.to_string(),
    };
    format!("{hint}: {e}")
}

pub(crate) fn find_tls_error(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(explain(tls));
    }
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        // io::Error::source skips the error it wraps, and TLS errors come wrapped twice.
        if let Some(inner) = io.get_ref() {
            if let Some(found) = find_tls_error(inner) {
                return Some(found);
            }
            let text = inner.to_string();
            if io.kind() == std::io::ErrorKind::InvalidData
                && text.starts_with("received fatal alert")
            {
                return Some(text);
            }
        }
    }
    e.source().and_then(find_tls_error)
}
