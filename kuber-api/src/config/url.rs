//! Server and proxy URLs read as Go's `net/url` reads them (kubectl's reader), and shown without
//! their secrets.
//!
//! A URL that does not parse is shown as its scheme only: where the password ends is then
//! unknown (`http://user:pa#ss@proxy:3128` puts half of it in the host and half in the
//! fragment), so nothing after the scheme can be shown safely.

/// What is shown in place of everything after the scheme of a URL that does not parse.
const HIDDEN: &str = "<invalid URL>";

/// An absolute URL (`scheme://…`) split as Go's `url.Parse` splits it, its parts checked as Go
/// checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Url<'a> {
    pub(crate) scheme: &'a str,
    /// `user[:password]` as written (still percent-encoded), without the `@`.
    pub(crate) userinfo: Option<&'a str>,
    /// `host[:port]` as written, IPv6 addresses in brackets.
    pub(crate) host_port: &'a str,
    /// The host, without brackets.
    pub(crate) host: &'a str,
    /// The port's digits, if any were written.
    pub(crate) port: Option<&'a str>,
    /// Path, query and fragment as written; `""` when there are none.
    pub(crate) rest: &'a str,
}

impl<'a> Url<'a> {
    /// Splits and checks `url`. The error says why Go would refuse it, without quoting it.
    pub(crate) fn parse(url: &'a str) -> Result<Url<'a>, &'static str> {
        if url.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err("invalid control character in URL");
        }
        let (scheme, after) = url.split_once("://").ok_or("missing protocol scheme")?;
        if !is_scheme(scheme) {
            return Err("missing protocol scheme");
        }
        // The authority ends where the path, query or fragment starts.
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(end);
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority),
        };
        if let Some(userinfo) = userinfo {
            if !userinfo.bytes().all(is_userinfo_byte) {
                return Err("invalid userinfo");
            }
            check_escapes(userinfo)?;
        }
        let (host, port) = split_host(host_port)?;
        check_escapes(rest)?;
        Ok(Url {
            scheme,
            userinfo,
            host_port,
            host,
            port,
            rest,
        })
    }

    /// `scheme://host:port/rest`: the URL without its user info.
    fn without_userinfo(&self) -> String {
        format!("{}://{}{}", self.scheme, self.host_port, self.rest)
    }
}

/// RFC 3986's scheme: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

/// Go's `validUserinfo`: unreserved and sub-delimiter characters, `:`, `%` and `@`.
fn is_userinfo_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&b)
}

/// A host name's characters (Go's host escaping rules, without its odd `<>"` and colons).
fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&b) || b >= 0x80
}

/// Every `%` starts a two-digit hex escape, as Go's `unescape` requires.
fn check_escapes(s: &str) -> Result<(), &'static str> {
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err("invalid URL escape");
        }
    }
    Ok(())
}

/// `host[:port]` or `[v6][:port]` into host and port, as Go's `parseHost` checks them.
fn split_host(host_port: &str) -> Result<(&str, Option<&str>), &'static str> {
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or("missing ']' in host")?;
        if !host
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b":.%".contains(&b) || b.is_ascii_alphanumeric())
        {
            return Err("invalid character in host name");
        }
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(after.strip_prefix(':').ok_or("invalid port after host")?),
            ),
        }
    } else {
        let (host, port) = match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        };
        if !host.bytes().all(is_host_byte) {
            return Err("invalid character in host name");
        }
        check_escapes(host)?;
        (host, port)
    };
    if port.is_some_and(|p| !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err("invalid port after host");
    }
    Ok((host, port.filter(|p| !p.is_empty())))
}

/// `url` for `Debug` output, logs and error messages: `user:password@` becomes `<redacted>@`,
/// and a URL that does not parse shows nothing past its scheme. Text without a scheme
/// (`proxy:3128`, as written in a kubeconfig or `HTTPS_PROXY`) is read as if it had one.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, _)) = url.split_once("://") else {
        let shown = redact(&format!("http://{url}"));
        return shown.strip_prefix("http://").unwrap_or(HIDDEN).to_owned();
    };
    match Url::parse(url) {
        // An `@` past the authority may be the end of a password the path or fragment took.
        Ok(parsed) if !parsed.rest.contains('@') => match parsed.userinfo {
            Some(_) => format!(
                "{}://<redacted>@{}{}",
                parsed.scheme, parsed.host_port, parsed.rest
            ),
            None => url.to_owned(),
        },
        _ if is_scheme(scheme) => format!("{scheme}://{HIDDEN}"),
        _ => HIDDEN.to_owned(),
    }
}

/// `url` without its `user:password@`: the proxy's address for those who must not get its
/// credentials (exec plugins). `None` for a URL that does not parse.
pub(crate) fn strip_userinfo(url: &str) -> Option<String> {
    let parsed = Url::parse(url).ok()?;
    Some(parsed.without_userinfo())
}

/// A proxy URL as the client takes it: `http`, `https`, `socks5` or `socks5h`, a host, and
/// nothing after it but a `/`. Go ignores a proxy URL's path, query and fragment; here they are
/// refused, as they are what a password's unencoded `/`, `?` or `#` leaves behind
/// (`http://user:12#ss@proxy` is host `user`, port 12 to Go).
pub(crate) fn parse_proxy(url: &str) -> Result<Url<'_>, ProxyUrlError> {
    const ENCODE: &str = "a `#`, `/`, `?` or `@` in the user name or password must be \
                          percent-encoded (%23, %2F, %3F, %40)";
    let malformed = |why: &str| ProxyUrlError::Malformed(format!("{why}; {ENCODE}"));
    let parsed = Url::parse(url).map_err(malformed)?;
    if !matches!(parsed.rest, "" | "/") {
        return Err(malformed("a proxy URL has no path, query or fragment"));
    }
    if !matches!(parsed.scheme, "http" | "https" | "socks5" | "socks5h") {
        return Err(ProxyUrlError::Unusable(
            "scheme must be http, https, socks5 or socks5h",
        ));
    }
    if parsed.host.is_empty() {
        return Err(ProxyUrlError::Unusable("has no host"));
    }
    Ok(parsed)
}

/// Why [`parse_proxy`] refused a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProxyUrlError {
    /// It does not parse (as Go's reader would refuse it), or leaves a password's end behind.
    Malformed(String),
    /// A well-formed URL the client cannot use as a proxy.
    Unusable(&'static str),
}

impl std::fmt::Display for ProxyUrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxyUrlError::Malformed(why) => f.write_str(why),
            ProxyUrlError::Unusable(why) => f.write_str(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_as_go_splits_them() {
        let u = Url::parse("socks5h://us%40er:p@ss@[fd00::1]:1080/").unwrap();
        assert_eq!(u.scheme, "socks5h");
        assert_eq!(u.userinfo, Some("us%40er:p@ss"));
        assert_eq!((u.host, u.port, u.rest), ("fd00::1", Some("1080"), "/"));
        let u = Url::parse("https://api.test:6443/prefix?x=1").unwrap();
        assert_eq!(
            (u.host, u.port, u.rest),
            ("api.test", Some("6443"), "/prefix?x=1")
        );
        assert_eq!(Url::parse("http://proxy:").unwrap().port, None);
        for (bad, why) in [
            ("http://user:pa#ss@proxy:3128", "invalid port after host"),
            ("http://user:pa/ss@proxy:3128", "invalid port after host"),
            ("http://user:pa?ss@proxy:3128", "invalid port after host"),
            ("http://user:pa ss@proxy:3128", "invalid userinfo"),
            ("http://user:pa%zzss@proxy:3128", "invalid URL escape"),
            (
                "http://user:pass@pro xy:3128",
                "invalid character in host name",
            ),
            ("http://[fd00::1:3128", "missing ']' in host"),
            ("http://proxy:3128/%", "invalid URL escape"),
            ("http://proxy\n:3128", "invalid control character in URL"),
            ("proxy:3128", "missing protocol scheme"),
            ("1http://proxy", "missing protocol scheme"),
        ] {
            assert_eq!(Url::parse(bad), Err(why), "{bad:?}");
        }
    }

    #[test]
    fn redacts_userinfo() {
        for (url, shown) in [
            ("http://u:p@proxy:3128/x", "http://<redacted>@proxy:3128/x"),
            ("http://proxy:3128/a", "http://proxy:3128/a"),
            ("proxy:3128", "proxy:3128"),
            ("u:p@proxy:3128", "<redacted>@proxy:3128"),
            ("http://user:pa#ss@proxy:3128", "http://<invalid URL>"),
            ("https://user:12#ss@proxy", "https://<invalid URL>"),
            ("http://user:12/ss@proxy", "http://<invalid URL>"),
            ("user:pa#ss@proxy:3128", "<invalid URL>"),
            ("us#er://x", "<invalid URL>"),
        ] {
            assert_eq!(redact(url), shown, "{url:?}");
        }
    }

    #[test]
    fn strips_userinfo() {
        assert_eq!(
            strip_userinfo("socks5h://u:p%40ss@proxy:1080").as_deref(),
            Some("socks5h://proxy:1080")
        );
        assert_eq!(
            strip_userinfo("http://proxy:3128/a@b").as_deref(),
            Some("http://proxy:3128/a@b")
        );
        assert_eq!(strip_userinfo("http://u:p#ss@proxy:1080"), None);
    }

    #[test]
    fn proxy_urls_have_nothing_after_the_host() {
        assert!(parse_proxy("http://u:p%23ss@proxy:3128/").is_ok());
        assert!(parse_proxy("http://u:p@ss@proxy:3128").is_ok());
        for bad in [
            "http://user:12#ss@proxy",
            "http://user:12/ss@proxy",
            "http://proxy:3128/path",
            "ftp://proxy",
            "http://:3128",
        ] {
            let why = parse_proxy(bad).unwrap_err().to_string();
            assert!(!why.contains("ss@"), "{why}");
        }
    }
}
