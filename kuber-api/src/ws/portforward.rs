//! port-forward: a stream per port of a pod.

use std::fmt;

use tokio::sync::watch;

use super::pipe::{Outgoing, PortStream};
use crate::{Error, Request};

/// How a port-forward session ended: cleanly, or broken on a channel.
pub(crate) type Ended = Result<(), (String, String)>;

/// The ports a port-forward request names (`ports=8080&ports=9090`), checked before anything is
/// sent: the protocol numbers channels by the ports' order and names each port in two bytes.
pub(crate) fn ports(req: &Request) -> Result<Vec<u16>, Error> {
    let invalid = |problem: String| Error::InvalidParameter {
        operation: req.operation.id,
        parameter: "ports".into(),
        problem,
    };
    let ports: Vec<u16> = req
        .query
        .iter()
        .filter(|(k, _)| *k == "ports")
        .map(|(_, v)| match v.parse::<u16>() {
            Ok(port) if port > 0 => Ok(port),
            _ => Err(invalid(format!("{v:?} is not a port (1 to 65535)"))),
        })
        .collect::<Result<_, _>>()?;
    if ports.is_empty() {
        return Err(invalid("is empty: name at least one port".into()));
    }
    // Two channels a port, numbered by one byte.
    if ports.len() > 128 {
        return Err(invalid(format!(
            "names {} ports; at most 128 fit",
            ports.len()
        )));
    }
    Ok(ports)
}

/// A port-forward session over WebSocket: a [`PortStream`] per port the call named, each taken
/// once.
///
/// This is the plain WebSocket protocol (`v4.channel.k8s.io`): one connection to each port for
/// the session, and no half-close. kubectl 1.30 and later tunnel SPDY over WebSocket instead
/// (`SPDY/3.1+portforward.k8s.io`), which allows any number of connections with half-close:
/// that is [`PortForwardTunnel`](super::PortForwardTunnel) ([`Client::port_forward_tunnel`](crate::Client::port_forward_tunnel)).
/// The connection stays open while the session or a stream is held.
pub struct Portforwarder {
    pub(crate) operation: &'static str,
    pub(crate) ports: Vec<u16>,
    pub(crate) streams: Vec<Option<PortStream>>,
    pub(crate) ended: watch::Receiver<Option<Ended>>,
    pub(crate) _session: Outgoing,
}

impl Portforwarder {
    /// The ports, in the order the call named them.
    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    /// The stream of `port` (the first not yet taken, should the call name a port twice).
    pub fn take_stream(&mut self, port: u16) -> Option<PortStream> {
        let i = self
            .ports
            .iter()
            .zip(&self.streams)
            .position(|(p, s)| *p == port && s.is_some())?;
        self.streams[i].take()
    }

    /// Waits for the session to end (the server closes it, or every stream taken is dropped);
    /// streams not taken are dropped first. A connection that broke is [`Error::Session`].
    pub async fn join(self) -> Result<(), Error> {
        let Portforwarder {
            operation,
            mut ended,
            streams,
            _session,
            ..
        } = self;
        // What the session holds no longer keeps the connection open.
        drop((streams, _session));
        let outcome = match ended.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone(),
            Err(_) => None,
        };
        match outcome {
            Some(Ok(())) => Ok(()),
            Some(Err((channel, message))) => Err(Error::Session {
                operation,
                channel,
                message,
            }),
            None => Err(Error::Session {
                operation,
                channel: "connection".into(),
                message: "the session's task ended unexpectedly".into(),
            }),
        }
    }
}

impl fmt::Debug for Portforwarder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Portforwarder")
            .field("operation", &self.operation)
            .field("ports", &self.ports)
            .finish_non_exhaustive()
    }
}
