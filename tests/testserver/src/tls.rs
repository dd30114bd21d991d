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

/// A certificate authority made at run time (ECDSA P-256), for tests that need certificates of
/// their own: a server's for given names, a client's for a user and groups. The test server's
/// TLS is one of these, and kuber-api's transport tests use it too (one generator in the tree).
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
    der: CertificateDer<'static>,
}

impl fmt::Debug for Ca {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
}

/// A certificate issued by a [`Ca`], and its key. `Debug` leaves the key out.
#[derive(Clone)]
pub struct Issued {
    /// The certificate (DER), as a one-element chain.
    pub chain: Vec<CertificateDer<'static>>,
    pub cert_pem: String,
    key_der: Vec<u8>,
    key_pem: String,
}

impl Issued {
    /// The private key (PKCS#8).
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }

    /// The private key, PEM (PKCS#8).
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("cert_pem", &format_args!("<{} bytes>", self.cert_pem.len()))
            .field("key", &"<redacted>")
            .finish()
    }
}

/// What a certificate is for: its extended key usage, as the real server's are issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Server,
    Client,
    /// No extended key usage: good for either.
    Any,
}

impl Ca {
    /// A new self-signed CA named `name`.
    pub fn new(name: &str) -> Result<Ca, TlsError> {
        let key = generate("CA key", KeyPair::generate())?;
        let mut params = generate("CA", CertificateParams::new(Vec::<String>::new()))?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = generate("CA", params.self_signed(&key))?;
        Ok(Ca {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA's certificate, PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The CA's certificate, DER.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// A certificate for `names` (DNS names or IP addresses; none for a client), common name
    /// `common_name`, organizations `organizations` (a client's groups, as the real server reads
    /// them), for `purpose`.
    pub fn issue(
        &self,
        names: &[&str],
        common_name: &str,
        organizations: &[&str],
        purpose: Purpose,
    ) -> Result<Issued, TlsError> {
        let key = generate("key", KeyPair::generate())?;
        let names = names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        let mut params = generate("certificate", CertificateParams::new(names))?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        for o in organizations {
            params.distinguished_name.push(DnType::OrganizationName, *o);
        }
        params.extended_key_usages = match purpose {
            Purpose::Server => vec![ExtendedKeyUsagePurpose::ServerAuth],
            Purpose::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
            Purpose::Any => Vec::new(),
        };
        let cert = generate("certificate", params.signed_by(&key, &self.issuer))?;
        Ok(Issued {
            chain: vec![cert.der().clone()],
            cert_pem: cert.pem(),
            key_der: key.serialize_der(),
            key_pem: key.serialize_pem(),
        })
    }
}

fn generate<T>(what: &str, r: Result<T, rcgen::Error>) -> Result<T, TlsError> {
    r.map_err(|source| TlsError::Generate {
        what: what.to_owned(),
        source,
    })
}

pub(crate) struct Pki {
    ca: Ca,
    pub ca_pem: String,
    pub acceptor: TlsAcceptor,
}

impl Pki {
    pub fn new() -> Result<Pki, TlsError> {
        let ca = Ca::new("kuber-testserver-ca")?;
        let serving = ca.issue(
            &["127.0.0.1", "localhost"],
            "kuber-testserver",
            &[],
            Purpose::Server,
        )?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(ca.der.clone())
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
            .with_single_cert(serving.chain.clone(), serving.key())
            .map_err(|e| TlsError::Config(e.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Pki {
            ca_pem: ca.pem.clone(),
            ca,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// A client certificate for `user` in `groups`, and its DER bytes.
    pub fn issue(
        &self,
        user: &str,
        groups: &[&str],
    ) -> Result<(ClientCert, CertificateDer<'static>), TlsError> {
        let issued = self.ca.issue(&[], user, groups, Purpose::Client)?;
        let der = issued.chain[0].clone();
        Ok((
            ClientCert {
                user: user.to_owned(),
                groups: groups.iter().map(|g| (*g).to_owned()).collect(),
                cert_pem: issued.cert_pem,
                key_pem: issued.key_pem,
            },
            der,
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
