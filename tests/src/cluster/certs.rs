//! The control plane's PKI, generated per cluster: one CA signs the apiserver's serving
//! certificate and every client certificate; a separate key signs service-account tokens.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use super::ClusterError;

/// The names the serving certificate is valid for. `kuber-apiserver.test` is not an address of
/// the server, so a client reaches it only through `tls-server-name`.
pub const SERVING_NAMES: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "kubernetes",
    "kubernetes.default.svc",
    TLS_SERVER_NAME,
];
/// A name in the serving certificate that no resolver knows: for `tls-server-name` tests.
pub const TLS_SERVER_NAME: &str = "kuber-apiserver.test";

/// A PEM certificate and its PEM private key.
#[derive(Clone)]
pub struct Pem {
    pub cert: String,
    pub key: String,
}

pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pub cert_pem: String,
}

fn failed(what: &str) -> impl Fn(rcgen::Error) -> ClusterError + '_ {
    move |e| ClusterError::Certificates(format!("{what}: {e}"))
}

impl Ca {
    pub fn new(common_name: &str) -> Result<Ca, ClusterError> {
        let key = KeyPair::generate().map_err(failed("CA key"))?;
        let mut params =
            CertificateParams::new(Vec::<String>::new()).map_err(failed("CA parameters"))?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).map_err(failed("CA certificate"))?;
        Ok(Ca {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The apiserver's serving certificate.
    pub fn serving(&self) -> Result<Pem, ClusterError> {
        let names: Vec<String> = SERVING_NAMES.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).map_err(failed("serving names"))?;
        params
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params, "serving certificate")
    }

    /// A client certificate: the apiserver takes the common name as the user and the
    /// organization as its group (rcgen keeps one value per name attribute).
    pub fn client(&self, user: &str, group: Option<&str>) -> Result<Pem, ClusterError> {
        let mut params =
            CertificateParams::new(Vec::<String>::new()).map_err(failed("client parameters"))?;
        params.distinguished_name.push(DnType::CommonName, user);
        if let Some(group) = group {
            params
                .distinguished_name
                .push(DnType::OrganizationName, group);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params, "client certificate")
    }

    fn sign(&self, params: CertificateParams, what: &str) -> Result<Pem, ClusterError> {
        let key = KeyPair::generate().map_err(failed(what))?;
        let cert = params.signed_by(&key, &self.issuer).map_err(failed(what))?;
        Ok(Pem {
            cert: cert.pem(),
            key: key.serialize_pem(),
        })
    }
}

/// The service-account token signing key (private, PEM) and its public half.
pub fn service_account_key() -> Result<(String, String), ClusterError> {
    let key = KeyPair::generate().map_err(failed("service-account key"))?;
    Ok((key.serialize_pem(), key.public_key_pem()))
}
