//! TLS: a CA made at start, the server's certificate for `127.0.0.1` and `localhost`, and client
//! certificates issued per user (common name the user, organizations its groups, as the real
//! server reads them). ECDSA P-256 keys, which take well under a millisecond each.

use std::fmt;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("generating the test server's {what}: {source}")]
    Generate { what: String, source: rcgen::Error },
    #[error("configuring the test server's TLS: {0}")]
    Config(String),
}

/// A client certificate and its key (PEM). `Debug` leaves the key out.
#[derive(Clone)]
pub struct ClientCert {
    pub user: String,
    pub groups: Vec<String>,
    pub cert_pem: String,
    key_pem: String,
}

impl ClientCert {
    /// The private key, PEM (PKCS#8).
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }
}

impl fmt::Debug for ClientCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCert")
            .field("user", &self.user)
            .field("groups", &self.groups)
            .field("cert_pem", &format_args!("<{} bytes>", self.cert_pem.len()))
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

pub(crate) struct Pki {
    issuer: Issuer<'static, KeyPair>,
    pub ca_pem: String,
    pub acceptor: TlsAcceptor,
}

fn generate<T>(what: &str, r: Result<T, rcgen::Error>) -> Result<T, TlsError> {
    r.map_err(|source| TlsError::Generate {
        what: what.to_owned(),
        source,
    })
}

impl Pki {
    pub fn new() -> Result<Pki, TlsError> {
        let ca_key = generate("CA key", KeyPair::generate())?;
        let mut params = generate("CA", CertificateParams::new(Vec::<String>::new()))?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "kuber-testserver-ca");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = generate("CA", params.self_signed(&ca_key))?;
        let ca_der = ca.der().clone();
        let issuer = Issuer::new(params, ca_key);

        let key = generate("serving key", KeyPair::generate())?;
        let mut params = generate(
            "serving certificate",
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]),
        )?;
        params
            .distinguished_name
            .push(DnType::CommonName, "kuber-testserver");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = generate("serving certificate", params.signed_by(&key, &issuer))?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(ca_der)
            .map_err(|e| TlsError::Config(e.to_string()))?;
        // Certificates are optional at the handshake: tokens and 401s come after it.
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .allow_unauthenticated()
        .build()
        .map_err(|e| TlsError::Config(e.to_string()))?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .map_err(|e| TlsError::Config(e.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Pki {
            issuer,
            ca_pem: ca.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// A client certificate for `user` in `groups`, and its DER bytes.
    pub fn issue(
        &self,
        user: &str,
        groups: &[&str],
    ) -> Result<(ClientCert, CertificateDer<'static>), TlsError> {
        let key = generate("client key", KeyPair::generate())?;
        let mut params = generate(
            "client certificate",
            CertificateParams::new(Vec::<String>::new()),
        )?;
        params.distinguished_name.push(DnType::CommonName, user);
        for g in groups {
            params.distinguished_name.push(DnType::OrganizationName, *g);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let cert = generate("client certificate", params.signed_by(&key, &self.issuer))?;
        Ok((
            ClientCert {
                user: user.to_owned(),
                groups: groups.iter().map(|g| (*g).to_owned()).collect(),
                cert_pem: cert.pem(),
                key_pem: key.serialize_pem(),
            },
            cert.der().clone(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    /// The engine the kubeconfig's `*-data` fields, Secrets' `stringData` and the WebSocket
    /// accept key are written with pads, as Go's `base64.StdEncoding`.
    #[test]
    fn base64_pads_as_the_rfc_examples() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(
                base64::engine::general_purpose::STANDARD.encode(plain.as_bytes()),
                encoded,
                "{plain}"
            );
        }
    }
}
