//! `GET /bytes?n=N` of kuber-node's nginx image over any byte stream (a forwarded port), every
//! byte checked against the server's pattern, so that a broken forward cannot look fast.
//!
//! Only tokio here: `tests/bench-kube` (kube-rs, outside the workspace) includes this file by
//! path, so both sides of the port-forward bench read the same way.

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// What `/bytes` repeats.
pub const PATTERN: &[u8] = b"0123456789abcdef";
/// One read's buffer.
const CHUNK: usize = 256 * 1024;

/// One HTTP/1.1 keep-alive `GET /bytes?n={n}` on `stream`, its body read to its Content-Length
/// and checked: the body's length. The stream stays open for the next request.
pub async fn get_bytes<S>(stream: &mut S, n: u64) -> Result<u64, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let request = format!("GET /bytes?n={n} HTTP/1.1\r\nHost: web\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("write the request: {e}"))?;
    stream
        .flush()
        .await
        .map_err(|e| format!("flush the request: {e}"))?;
    let mut buf = vec![0u8; CHUNK];
    let (length, mut have) = read_head(stream, &mut buf).await?;
    if length != n {
        return Err(format!("Content-Length {length}, {n} asked"));
    }
    // The pattern at every offset, so that a chunk is checked by one comparison.
    let wide = PATTERN.repeat(CHUNK / PATTERN.len() + 2);
    let mut done = 0u64;
    loop {
        let take = have.min(usize::try_from(length - done).unwrap_or(usize::MAX));
        let at = (done % PATTERN.len() as u64) as usize;
        if buf[..take] != wide[at..at + take] {
            let bad = (0..take).find(|&i| buf[i] != wide[at + i]).unwrap_or(0);
            return Err(format!("byte {} of the body is wrong", done + bad as u64));
        }
        done += take as u64;
        if done == length {
            return Ok(done);
        }
        have = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("read the body after {done} bytes: {e}"))?;
        if have == 0 {
            return Err(format!("the stream ended after {done} of {length} bytes"));
        }
    }
}

/// Reads the response head into `buf`: its Content-Length and how many body bytes followed it
/// (moved to the start of `buf`).
async fn read_head<S>(stream: &mut S, buf: &mut [u8]) -> Result<(u64, usize), String>
where
    S: AsyncRead + Unpin,
{
    let mut filled = 0;
    let end = loop {
        let got = stream
            .read(&mut buf[filled..])
            .await
            .map_err(|e| format!("read the response head: {e}"))?;
        if got == 0 {
            return Err(format!(
                "the stream ended in the response head ({filled} bytes)"
            ));
        }
        filled += got;
        if let Some(at) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if filled == buf.len() {
            return Err("no end of the response head".into());
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let status = head.lines().next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 200") {
        return Err(format!("the pod answered {status:?}"));
    }
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<u64>().ok())?
        })
        .ok_or_else(|| format!("no Content-Length in {head:?}"))?;
    buf.copy_within(end..filled, 0);
    Ok((length, filled - end))
}

#[cfg(test)]
mod tests {
    use super::{PATTERN, get_bytes};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    /// A server of one response, written in small pieces.
    async fn answer(body: Vec<u8>, length: usize) -> Result<u64, String> {
        let (mut client, mut server) = tokio::io::duplex(1024);
        tokio::spawn(async move {
            let mut req = [0u8; 64];
            let _ = server.read(&mut req).await;
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n");
            let _ = server.write_all(head.as_bytes()).await;
            for piece in body.chunks(1000) {
                let _ = server.write_all(piece).await;
            }
        });
        get_bytes(&mut client, length as u64).await
    }

    fn pattern(n: usize) -> Vec<u8> {
        PATTERN.iter().copied().cycle().take(n).collect()
    }

    #[tokio::test]
    async fn a_right_body_is_read_whole() {
        assert_eq!(answer(pattern(300_000), 300_000).await, Ok(300_000));
    }

    #[tokio::test]
    async fn a_wrong_byte_or_a_short_body_is_an_error() {
        let mut body = pattern(300_000);
        body[270_001] = b'x';
        let err = answer(body, 300_000).await.unwrap_err();
        assert!(err.contains("byte 270001"), "{err}");
        let err = answer(pattern(1000), 300_000).await.unwrap_err();
        assert!(err.contains("ended after 1000"), "{err}");
    }
}
