//! The control plane's PKI, generated per cluster: one CA signs the serving certificates and
//! every client certificate; a separate key signs service-account tokens; a front-proxy CA of
//! its own signs the identity the apiserver proxies to aggregated APIs with.

use kuber_testserver::Purpose;
use rcgen::KeyPair;

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

/// metrics-server's serving names: the aggregator dials the endpoint's address but checks the
/// certificate for the Service's name, `<service>.<namespace>.svc`.
pub const METRICS_SERVER_NAMES: &[&str] =
    &["metrics-server.kube-system.svc", "localhost", "127.0.0.1"];

/// A PEM certificate and its PEM private key.
#[derive(Clone)]
pub struct Pem {
    pub cert: String,
    pub key: String,
}

/// The cluster's CA: kuber-testserver's generator (the one in the tree).
pub struct Ca {
    inner: kuber_testserver::Ca,
    pub cert_pem: String,
}

fn failed(what: &str) -> impl Fn(kuber_testserver::TlsError) -> ClusterError + '_ {
    move |e| ClusterError::Certificates(format!("{what}: {e}"))
}

impl Ca {
    pub fn new(common_name: &str) -> Result<Ca, ClusterError> {
        let inner = kuber_testserver::Ca::new(common_name).map_err(failed("CA"))?;
        Ok(Ca {
            cert_pem: inner.pem().to_owned(),
            inner,
        })
    }

    /// The apiserver's serving certificate.
    pub fn serving(&self) -> Result<Pem, ClusterError> {
        self.serving_for(SERVING_NAMES, "kube-apiserver")
    }

    /// A serving certificate for `names`.
    pub fn serving_for(&self, names: &[&str], common_name: &str) -> Result<Pem, ClusterError> {
        let issued = self
            .inner
            .issue(names, common_name, &[], Purpose::Server)
            .map_err(failed("serving certificate"))?;
        Ok(pem(issued))
    }

    /// A client certificate: the apiserver takes the common name as the user and the
    /// organization as its group.
    pub fn client(&self, user: &str, group: Option<&str>) -> Result<Pem, ClusterError> {
        let groups: Vec<&str> = group.into_iter().collect();
        let issued = self
            .inner
            .issue(&[], user, &groups, Purpose::Client)
            .map_err(failed("client certificate"))?;
        Ok(pem(issued))
    }
}

fn pem(issued: kuber_testserver::Issued) -> Pem {
    Pem {
        key: issued.key_pem().to_owned(),
        cert: issued.cert_pem,
    }
}

/// The service-account token signing key (private, PEM) and its public half.
pub fn service_account_key() -> Result<(String, String), ClusterError> {
    let key = KeyPair::generate()
        .map_err(|e| ClusterError::Certificates(format!("service-account key: {e}")))?;
    Ok((key.serialize_pem(), key.public_key_pem()))
}
