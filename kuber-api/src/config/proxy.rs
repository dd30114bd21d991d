//! The proxy for a server when the kubeconfig names none: `HTTPS_PROXY`/`HTTP_PROXY` unless
//! `NO_PROXY` matches, as Go's `http.ProxyFromEnvironment` (and so kubectl) decides.

use std::net::IpAddr;

use super::Env;

/// The proxy URL the environment selects for requests to `server`, or `None`.
///
/// `https` servers use `HTTPS_PROXY` (or `https_proxy`), `http` servers `HTTP_PROXY` (or
/// `http_proxy`); a value without a scheme gets `http://`. `localhost` and loopback addresses
/// are never proxied, nor hosts that `NO_PROXY` (or `no_proxy`) matches (see
/// [`no_proxy_matches`]).
pub fn proxy_from_env(env: &Env, server: &str) -> Option<String> {
    env_proxy(env, server).map(|(_, proxy)| proxy)
}

/// [`proxy_from_env`], with the name of the variable it came from (for errors).
pub(crate) fn env_proxy(env: &Env, server: &str) -> Option<(&'static str, String)> {
    let uri: http::Uri = server.parse().ok()?;
    let https = uri.scheme_str() == Some("https");
    let host = uri.host()?;
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let names: &[&'static str] = if https {
        &["HTTPS_PROXY", "https_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy"]
    };
    let (name, proxy) = names.iter().find_map(|&n| Some((n, env.var(n)?)))?;
    let bare = strip_brackets(host);
    if bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    {
        return None;
    }
    if let Some(no_proxy) = env.var_any(&["NO_PROXY", "no_proxy"])
        && no_proxy_matches(&no_proxy, host, port)
    {
        return None;
    }
    let proxy = if proxy.contains("://") {
        proxy
    } else {
        format!("http://{proxy}")
    };
    Some((name, proxy))
}

/// Whether a `NO_PROXY` list exempts `host:port` from proxying.
///
/// The list is comma-separated and case-insensitive. An entry is `*` (everything); an IP address
/// (`10.1.2.3`, `::1`); a CIDR block (`10.0.0.0/8`, `fd00::/8`); or a domain, which matches
/// itself and its subdomains (`example.com`), or only its subdomains with a leading `.` or `*.`
/// (`.example.com`). IP and domain entries may carry a port (`example.com:6443`, `[::1]:6443`),
/// and then match only that port. This is Go's reading, which kubectl uses. `host` may be an
/// IPv6 address with or without brackets.
pub fn no_proxy_matches(no_proxy: &str, host: &str, port: u16) -> bool {
    let host = strip_brackets(host.trim())
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let host_ip: Option<IpAddr> = host.parse().ok();
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| entry_matches(&entry.to_ascii_lowercase(), &host, host_ip, port))
}

fn entry_matches(entry: &str, host: &str, host_ip: Option<IpAddr>, port: u16) -> bool {
    if entry == "*" {
        return true;
    }
    if let Some((net, bits)) = entry.split_once('/') {
        return match (net.parse::<IpAddr>(), bits.parse::<u8>(), host_ip) {
            (Ok(net), Ok(bits), Some(ip)) => cidr_contains(net, bits, ip),
            _ => false,
        };
    }
    let (name, entry_port) = split_host_port(entry);
    if entry_port.is_some_and(|p| p != port.to_string()) {
        return false;
    }
    if let Ok(ip) = name.parse::<IpAddr>() {
        return host_ip == Some(ip);
    }
    let name = name.trim_end_matches('.');
    let name = name
        .strip_prefix('*')
        .filter(|n| n.starts_with('.'))
        .unwrap_or(name);
    if name.is_empty() {
        return false;
    }
    if name.starts_with('.') {
        // Subdomains only.
        host.ends_with(name)
    } else {
        host == name || (host.ends_with(name) && host[..host.len() - name.len()].ends_with('.'))
    }
}

/// `host:port`, `[v6]:port`, `[v6]`, or a bare host or IPv6 address (several colons, no port).
fn split_host_port(entry: &str) -> (&str, Option<&str>) {
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((name, after)) = rest.split_once(']') {
            return (name, after.strip_prefix(':'));
        }
        return (entry, None);
    }
    match entry.split_once(':') {
        Some((name, port)) if !port.contains(':') => (name, Some(port)),
        _ => (entry, None),
    }
}

fn cidr_contains(net: IpAddr, bits: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(net), IpAddr::V4(ip)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(net) & mask == u32::from(ip) & mask
        }
        (IpAddr::V6(net), IpAddr::V6(ip)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(net) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

fn strip_brackets(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_split() {
        assert_eq!(split_host_port("a.b:80"), ("a.b", Some("80")));
        assert_eq!(split_host_port("::1"), ("::1", None));
        assert_eq!(split_host_port("[::1]:80"), ("::1", Some("80")));
        assert_eq!(split_host_port("[::1]"), ("::1", None));
        assert_eq!(split_host_port("a.b"), ("a.b", None));
    }
}
