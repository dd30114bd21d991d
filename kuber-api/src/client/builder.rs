//! [`ClientBuilder`]: tower layers over the default transport.

use bytes::Bytes;
use tower_layer::Layer;
use tower_service::Service;

use super::transport::{BoxError, HyperTransport, RequestBody, Transport};
use super::{Client, Setup};
use crate::Error;
use crate::config::Config;

/// A client's transport being wrapped in layers, before the client is built.
///
/// ```no_run
/// # fn main() -> Result<(), kuber_api::Error> {
/// use kuber_api::Client;
/// use kuber_api::config::Config;
///
/// let config = Config::infer()?;
/// // Any `tower_layer::Layer`, e.g. tower-http's `TraceLayer::new_for_http()`.
/// let client = Client::builder(config)?
///     .layer(tower_layer::Identity::new())
///     .build();
/// # Ok(()) }
/// ```
///
/// Layers see each request as the client sends it (credentials set; a retry is a request of
/// its own) and each answer before the client reads it. The last layer added is the outermost.
pub struct ClientBuilder<S> {
    service: S,
    setup: Setup,
    hyper: HyperTransport,
}

impl ClientBuilder<HyperTransport> {
    /// The default transport for `config` ([`HyperTransport`]), not yet wrapped. Fails as
    /// [`Client::new`] does.
    pub fn new(config: Config) -> Result<ClientBuilder<HyperTransport>, Error> {
        let setup = Setup::new(config)?;
        let hyper = HyperTransport::new(&setup.config)?;
        Ok(ClientBuilder {
            service: hyper.clone(),
            setup,
            hyper,
        })
    }
}

impl<S> ClientBuilder<S> {
    /// Wraps the transport in `layer`.
    pub fn layer<L: Layer<S>>(self, layer: L) -> ClientBuilder<L::Service> {
        ClientBuilder {
            service: layer.layer(self.service),
            setup: self.setup,
            hyper: self.hyper,
        }
    }

    /// The client, over the wrapped transport.
    pub fn build<B>(self) -> Client
    where
        S: Service<http::Request<RequestBody>, Response = http::Response<B>> + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.setup
            .client(Transport::service(self.service), Some(self.hyper))
    }
}

impl<S> std::fmt::Debug for ClientBuilder<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("service", &std::any::type_name::<S>())
            .finish_non_exhaustive()
    }
}
