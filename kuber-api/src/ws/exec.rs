//! exec and attach: a process in a container, its pipes and how it ended.

use std::fmt;

use bytes::{BufMut as _, Bytes, BytesMut};
use kuber_models::apimachinery::pkg::apis::meta::v1::Status;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::watch;

use super::pipe::{ExecReader, ExecWriter, Outgoing};
use crate::Error;
use crate::error::ApiError;

/// Channel numbers of the remote command protocol (`k8s.io/apimachinery/pkg/util/remotecommand`).
pub(crate) const STDIN: u8 = 0;
pub(crate) const STDOUT: u8 = 1;
pub(crate) const STDERR: u8 = 2;
pub(crate) const STATUS: u8 = 3;
pub(crate) const RESIZE: u8 = 4;
/// v5: a message on this channel names a channel the sender closes.
pub(crate) const CLOSE: u8 = 255;

/// How the session ended, as the driver leaves it for [`AttachedProcess::status`] (which may be
/// asked more than once, so it is kept in a form that clones).
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    Exited(ExitStatus),
    Failed(Box<ApiError>),
    Broken { channel: String, message: String },
}

/// Which pipes the request asked for, read from its query as the API server defaults them:
/// stdout and stderr unless `false`, stdin and tty only if `true`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Streams {
    pub(crate) stdin: bool,
    pub(crate) stdout: bool,
    pub(crate) stderr: bool,
    pub(crate) tty: bool,
}

impl Streams {
    pub(crate) fn from_query(query: &[(&'static str, String)]) -> Streams {
        let flag = |name: &str| {
            query
                .iter()
                .rev()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v == "true")
        };
        let tty = flag("tty").unwrap_or(false);
        Streams {
            stdin: flag("stdin").unwrap_or(false),
            stdout: flag("stdout").unwrap_or(true),
            // A terminal merges stderr into stdout; the server opens no stderr channel.
            stderr: flag("stderr").unwrap_or(true) && !tty,
            tty,
        }
    }
}

/// How a process ended: its exit code (0 for success).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitStatus {
    code: i32,
}

impl ExitStatus {
    pub(crate) fn new(code: i32) -> ExitStatus {
        ExitStatus { code }
    }

    pub fn code(&self) -> i32 {
        self.code
    }

    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// The signal that ended the process, as the exit code tells it by the convention of shells
    /// and container runtimes (128 + N; Kubernetes reports nothing else). A process may also exit
    /// with such a code itself.
    pub fn signal(&self) -> Option<i32> {
        (129..=192).contains(&self.code).then(|| self.code - 128)
    }
}

/// What [`AttachedProcess::output`] collected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecOutput {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// A terminal size, for a process run with `tty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TerminalSize {
    pub width: u16,
    pub height: u16,
}

/// Sends terminal sizes to a process run with `tty` (the resize channel).
#[derive(Clone)]
pub struct TerminalSizeSender {
    operation: &'static str,
    outgoing: Outgoing,
}

impl TerminalSizeSender {
    pub(crate) fn new(operation: &'static str, outgoing: Outgoing) -> TerminalSizeSender {
        TerminalSizeSender {
            operation,
            outgoing,
        }
    }

    /// Tells the process's terminal its new size. Fails once the session has ended.
    pub async fn send(&self, size: TerminalSize) -> Result<(), Error> {
        let json = format!(r#"{{"Width":{},"Height":{}}}"#, size.width, size.height);
        let mut frame = BytesMut::with_capacity(json.len() + 1);
        frame.put_u8(RESIZE);
        frame.put_slice(json.as_bytes());
        self.outgoing
            .send(frame.freeze())
            .await
            .map_err(|_| Error::Session {
                operation: self.operation,
                channel: "resize".into(),
                message: "the session has ended".into(),
            })
    }
}

impl fmt::Debug for TerminalSizeSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TerminalSizeSender")
    }
}

/// A process started by exec or attach, over WebSocket: its pipes (each taken once), its
/// terminal size when run with `tty`, and how it ended.
///
/// The pipes are bounded: output nobody reads holds the process back once a few KiB are
/// waiting, as an OS pipe does. Read stdout and stderr (both, concurrently), or drop the ones
/// not wanted; [`join`](Self::join) and [`output`](Self::output) do that. The connection stays
/// open while the session or any of its pipes is held; dropping them all closes it.
pub struct AttachedProcess {
    pub(crate) operation: &'static str,
    pub(crate) protocol: &'static str,
    pub(crate) stdin: Option<ExecWriter>,
    pub(crate) stdout: Option<ExecReader>,
    pub(crate) stderr: Option<ExecReader>,
    pub(crate) resize: Option<TerminalSizeSender>,
    pub(crate) outcome: watch::Receiver<Option<Outcome>>,
    pub(crate) _session: Outgoing,
}

impl AttachedProcess {
    /// The process's stdin, if the call asked for it (`stdin: Some(true)`); taken once.
    pub fn stdin(&mut self) -> Option<ExecWriter> {
        self.stdin.take()
    }

    /// The process's stdout, unless the call turned it off; taken once.
    pub fn stdout(&mut self) -> Option<ExecReader> {
        self.stdout.take()
    }

    /// The process's stderr, unless the call turned it off or asked for a terminal (which
    /// merges it into stdout); taken once.
    pub fn stderr(&mut self) -> Option<ExecReader> {
        self.stderr.take()
    }

    /// The terminal size sender, if the call asked for a terminal (`tty: Some(true)`); taken
    /// once.
    pub fn terminal_size(&mut self) -> Option<TerminalSizeSender> {
        self.resize.take()
    }

    /// The subprotocol the server chose: `v5.channel.k8s.io` or `v4.channel.k8s.io`.
    pub fn protocol(&self) -> &'static str {
        self.protocol
    }

    /// Whether closing stdin reaches the process (protocol v5, Kubernetes 1.30 and later). On
    /// v4 the process sees its stdin end only when the session does, so a `cat` never exits.
    pub fn can_close_stdin(&self) -> bool {
        self.protocol == super::V5
    }

    /// How the process ended, once it has: its exit code, or the error the server reported
    /// ([`Error::Api`]: the container is gone, the command does not exist), or
    /// [`Error::Session`] if the connection ended before the status came.
    pub async fn status(&self) -> Result<ExitStatus, Error> {
        let mut outcome = self.outcome.clone();
        let ended = outcome.wait_for(Option::is_some).await;
        let outcome = match ended {
            Ok(outcome) => outcome.clone(),
            Err(_) => None,
        };
        match outcome {
            Some(Outcome::Exited(status)) => Ok(status),
            Some(Outcome::Failed(e)) => Err(Error::Api(e)),
            Some(Outcome::Broken { channel, message }) => Err(Error::Session {
                operation: self.operation,
                channel,
                message,
            }),
            None => Err(Error::Session {
                operation: self.operation,
                channel: "status".into(),
                message: "the session ended without an exit status".into(),
            }),
        }
    }

    /// Waits for the process to end; stdin and output not taken are closed and dropped first.
    pub async fn join(mut self) -> Result<ExitStatus, Error> {
        self.stdin = None;
        self.stdout = None;
        self.stderr = None;
        self.status().await
    }

    /// Runs the process to its end: writes `input` to its stdin (then closes it, on v5), and
    /// collects stdout and stderr whole, concurrently.
    pub async fn output(mut self, input: impl Into<Bytes>) -> Result<ExecOutput, Error> {
        let input = input.into();
        let stdin = self.stdin.take();
        let feed = async move {
            if let Some(mut stdin) = stdin {
                // A process that exits without reading its stdin is no error of ours.
                let _ = stdin.write_all(&input).await;
                let _ = stdin.shutdown().await;
            }
        };
        let (_, stdout, stderr) = tokio::join!(
            feed,
            read_all(self.stdout.take(), self.operation, "stdout"),
            read_all(self.stderr.take(), self.operation, "stderr")
        );
        let (stdout, stderr) = (stdout?, stderr?);
        Ok(ExecOutput {
            status: self.status().await?,
            stdout,
            stderr,
        })
    }
}

/// A pipe read to its end; the error a broken session leaves on it, as it is.
async fn read_all(
    reader: Option<ExecReader>,
    operation: &'static str,
    channel: &str,
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    if let Some(mut reader) = reader {
        reader.read_to_end(&mut out).await.map_err(|e| {
            let message = e.to_string();
            match e.into_inner().map(|e| e.downcast::<Error>()) {
                Some(Ok(e)) => *e,
                _ => Error::Session {
                    operation,
                    channel: channel.into(),
                    message,
                },
            }
        })?;
    }
    Ok(out)
}

impl fmt::Debug for AttachedProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachedProcess")
            .field("operation", &self.operation)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

/// The status channel's message decoded: Success, a non-zero exit code, or the failure.
pub(crate) fn decode_status(operation: &'static str, bytes: &[u8]) -> Outcome {
    let status: Status = match serde_json::from_slice(bytes) {
        Ok(status) => status,
        Err(e) => {
            return Outcome::Broken {
                channel: "status".into(),
                message: format!("not a Status: {e}"),
            };
        }
    };
    match status.status.as_deref() {
        Some("Success") => return Outcome::Exited(ExitStatus::new(0)),
        Some("Failure") if status.reason.as_deref() == Some("NonZeroExitCode") => {
            if let Some(code) = exit_code(&status) {
                return Outcome::Exited(ExitStatus::new(code));
            }
        }
        _ => {}
    }
    Outcome::Failed(Box::new(ApiError::from_status(operation, status, bytes)))
}

/// The `ExitCode` cause of a NonZeroExitCode failure, as client-go reads it.
fn exit_code(status: &Status) -> Option<i32> {
    let causes = status.details.as_ref()?.causes.as_ref()?;
    causes
        .iter()
        .find(|c| c.reason.as_deref() == Some("ExitCode"))
        .and_then(|c| c.message.as_deref()?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(json: &str) -> Outcome {
        decode_status("op", json.as_bytes())
    }

    #[test]
    fn statuses_decode_as_exit_codes_or_errors() {
        assert!(matches!(
            decode(r#"{"metadata":{},"status":"Success"}"#),
            Outcome::Exited(s) if s.success()
        ));
        let exited = decode(
            r#"{"status":"Failure","reason":"NonZeroExitCode","message":"command terminated with non-zero exit code: 137",
                "details":{"causes":[{"reason":"ExitCode","message":"137"}]}}"#,
        );
        let Outcome::Exited(status) = exited else {
            panic!("{exited:?}")
        };
        assert_eq!((status.code(), status.signal()), (137, Some(9)));
        // Another failure, without `kind`, is the API error with its message.
        let failed = decode(
            r#"{"status":"Failure","reason":"InternalError","code":500,"message":"container not found"}"#,
        );
        let Outcome::Failed(e) = failed else {
            panic!("{failed:?}")
        };
        assert_eq!((e.code, e.message()), (500, Some("container not found")));
        // NonZeroExitCode without a readable code is a failure too, not exit code 0.
        assert!(matches!(
            decode(
                r#"{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"x"}]}}"#
            ),
            Outcome::Failed(_)
        ));
        assert!(matches!(decode("not json"), Outcome::Broken { .. }));
    }

    #[test]
    fn streams_follow_the_api_server_defaults() {
        let s = Streams::from_query(&[]);
        assert!(!s.stdin && s.stdout && s.stderr && !s.tty);
        let q = [
            ("stdin", "true".to_string()),
            ("tty", "true".into()),
            ("stdout", "false".into()),
        ];
        let s = Streams::from_query(&q);
        assert!(s.stdin && !s.stdout && !s.stderr && s.tty);
    }
}
