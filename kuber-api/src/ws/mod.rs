//! exec, attach and port-forward: the sessions the generated `connect_*` operations open over
//! WebSocket (feature `ws`), on the client's own connection path (TLS, proxies, credentials,
//! impersonation).
//!
//! ```no_run
//! # async fn run(api: kuber_api::CoreV1Api) -> Result<(), kuber_api::Error> {
//! use kuber_api::ExecParams;
//! let params = ExecParams {
//!     command: vec!["sh".into(), "-c".into(), "cat; exit 3".into()],
//!     stdin: Some(true),
//!     ..ExecParams::default()
//! };
//! let process = api.connect_get_namespaced_pod_exec("web-0", "default", &params).await?;
//! let output = process.output("hello").await?;
//! assert_eq!((output.stdout, output.status.code()), (b"hello".to_vec(), 3));
//! # Ok(()) }
//! ```
//!
//! Without the `ws` feature the operations exist, and fail with
//! [`Error::UpgradeUnavailable`](crate::Error::UpgradeUnavailable) before sending anything.

// Without `ws` no session is ever built; its types stay, so that the API is the same.
#![cfg_attr(not(feature = "ws"), allow(dead_code))]

mod exec;
mod pipe;
mod portforward;
#[cfg(feature = "ws")]
mod socket;
#[cfg(feature = "ws")]
mod spdy;
mod tunnel;

pub use self::exec::{AttachedProcess, ExecOutput, ExitStatus, TerminalSize, TerminalSizeSender};
pub use self::pipe::{ExecReader, ExecWriter, PortStream};
pub use self::portforward::Portforwarder;
#[cfg(feature = "ws")]
pub(crate) use self::socket::{open_exec, open_port_forward};
pub use self::tunnel::PortForwardTunnel;

/// The remote command protocol with stdin half-close (Kubernetes 1.30 and later).
pub(crate) const V5: &str = "v5.channel.k8s.io";
/// The remote command protocol before it.
pub(crate) const V4: &str = "v4.channel.k8s.io";
/// exec and attach, preferred first.
pub(crate) const EXEC_PROTOCOLS: &[&str] = &[V5, V4];
/// port-forward: the channel protocol the API server speaks, then `portforward.k8s.io` (the
/// protocol's SPDY name), taken as the same framing from a server that picks it.
pub(crate) const PORT_FORWARD_PROTOCOLS: &[&str] = &[V4, "portforward.k8s.io"];
