//! `NO_PROXY` matching and proxy selection from the environment, as Go (and so kubectl) reads
//! them.

use kuber_api::config::{Env, no_proxy_matches, proxy_from_env};

#[test]
fn no_proxy_table() {
    // (NO_PROXY, host, port, matches)
    let table: &[(&str, &str, u16, bool)] = &[
        // Empty and wildcard.
        ("", "example.com", 443, false),
        (" , ,", "example.com", 443, false),
        ("*", "example.com", 443, true),
        ("*", "10.0.0.1", 6443, true),
        ("foo.com, *", "example.com", 443, true),
        // Domains match themselves and subdomains.
        ("example.com", "example.com", 443, true),
        ("example.com", "api.example.com", 443, true),
        ("example.com", "a.b.example.com", 443, true),
        ("example.com", "notexample.com", 443, false),
        ("example.com", "example.com.evil.net", 443, false),
        ("example.com", "com", 443, false),
        // A leading dot or `*.`: subdomains only.
        (".example.com", "api.example.com", 443, true),
        (".example.com", "example.com", 443, false),
        ("*.example.com", "api.example.com", 443, true),
        ("*.example.com", "example.com", 443, false),
        // Case, spaces and trailing dots do not matter.
        ("  EXAMPLE.com  ", "Api.Example.COM", 443, true),
        ("example.com.", "api.example.com", 443, true),
        ("example.com", "api.example.com.", 443, true),
        // Lists.
        (
            "localhost,127.0.0.1,.svc,.cluster.local",
            "kubernetes.default.svc",
            443,
            true,
        ),
        (
            "localhost,127.0.0.1,.svc,.cluster.local",
            "api.cluster.local",
            443,
            true,
        ),
        (
            "localhost,127.0.0.1,.svc,.cluster.local",
            "example.com",
            443,
            false,
        ),
        // host:port entries match that port only.
        ("example.com:6443", "example.com", 6443, true),
        ("example.com:6443", "example.com", 443, false),
        ("example.com:6443", "api.example.com", 6443, true),
        (".example.com:443", "api.example.com", 443, true),
        ("example.com:notaport", "example.com", 443, false),
        // Exact IPs.
        ("10.1.2.3", "10.1.2.3", 443, true),
        ("10.1.2.3", "10.1.2.4", 443, false),
        ("10.1.2.3:6443", "10.1.2.3", 6443, true),
        ("10.1.2.3:6443", "10.1.2.3", 443, false),
        ("::1", "::1", 443, true),
        ("::1", "[::1]", 443, true),
        ("[::1]", "::1", 443, true),
        ("[::1]:6443", "[::1]", 6443, true),
        ("[::1]:6443", "::1", 443, false),
        ("fd00::1", "FD00:0:0:0:0:0:0:1", 443, true),
        // CIDR blocks.
        ("10.0.0.0/8", "10.200.3.4", 443, true),
        ("10.0.0.0/8", "11.0.0.1", 443, false),
        ("192.168.1.0/24", "192.168.1.255", 443, true),
        ("192.168.1.0/24", "192.168.2.1", 443, false),
        ("10.1.2.3/32", "10.1.2.3", 443, true),
        ("0.0.0.0/0", "8.8.8.8", 443, true),
        ("fd00::/8", "fd12::1", 443, true),
        ("fd00::/8", "fe80::1", 443, false),
        ("fd00::/8", "10.0.0.1", 443, false),
        ("10.0.0.0/8", "example.com", 443, false),
        ("10.0.0.0/33", "10.0.0.1", 443, false),
        ("10.0.0.0/x", "10.0.0.1", 443, false),
    ];
    for &(no_proxy, host, port, expected) in table {
        assert_eq!(
            no_proxy_matches(no_proxy, host, port),
            expected,
            "NO_PROXY={no_proxy:?} host={host:?} port={port}"
        );
    }
}

#[test]
fn https_servers_use_https_proxy() {
    let env = Env::from_vars([
        ("HTTPS_PROXY", "http://secure-proxy:3128"),
        ("HTTP_PROXY", "http://plain-proxy:3128"),
    ]);
    assert_eq!(
        proxy_from_env(&env, "https://api.test:6443").as_deref(),
        Some("http://secure-proxy:3128")
    );
    assert_eq!(
        proxy_from_env(&env, "http://api.test:8080").as_deref(),
        Some("http://plain-proxy:3128")
    );

    // No fallback from https to HTTP_PROXY.
    let env = Env::from_vars([("HTTP_PROXY", "http://plain-proxy:3128")]);
    assert_eq!(proxy_from_env(&env, "https://api.test"), None);
}

#[test]
fn upper_case_wins_and_lower_case_works() {
    let env = Env::from_vars([
        ("HTTPS_PROXY", "http://upper:1"),
        ("https_proxy", "http://lower:1"),
    ]);
    assert_eq!(
        proxy_from_env(&env, "https://api.test").as_deref(),
        Some("http://upper:1")
    );
    let env = Env::from_vars([("HTTPS_PROXY", ""), ("https_proxy", "http://lower:1")]);
    assert_eq!(
        proxy_from_env(&env, "https://api.test").as_deref(),
        Some("http://lower:1")
    );
}

#[test]
fn scheme_is_added_to_bare_proxy() {
    let env = Env::from_vars([("HTTPS_PROXY", "proxy.corp:3128")]);
    assert_eq!(
        proxy_from_env(&env, "https://api.test").as_deref(),
        Some("http://proxy.corp:3128")
    );
    let env = Env::from_vars([("HTTPS_PROXY", "socks5://proxy.corp:1080")]);
    assert_eq!(
        proxy_from_env(&env, "https://api.test").as_deref(),
        Some("socks5://proxy.corp:1080")
    );
}

#[test]
fn no_proxy_uses_default_ports() {
    let env = Env::from_vars([("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", "api.test:443")]);
    assert_eq!(proxy_from_env(&env, "https://api.test"), None);
    assert_eq!(
        proxy_from_env(&env, "https://api.test:6443").as_deref(),
        Some("http://p:1")
    );
    let env = Env::from_vars([("HTTPS_PROXY", "http://p:1"), ("no_proxy", "10.0.0.0/8")]);
    assert_eq!(proxy_from_env(&env, "https://10.96.0.1"), None);
    let env = Env::from_vars([("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", "fd00::/8")]);
    assert_eq!(proxy_from_env(&env, "https://[fd00::1]:6443"), None);
}

#[test]
fn loopback_is_never_proxied() {
    let env = Env::from_vars([("HTTPS_PROXY", "http://p:1"), ("HTTP_PROXY", "http://p:1")]);
    assert_eq!(proxy_from_env(&env, "http://localhost:8001"), None);
    assert_eq!(proxy_from_env(&env, "https://127.0.0.1:6443"), None);
    assert_eq!(proxy_from_env(&env, "https://[::1]:6443"), None);
}
