//! A request parsed once, as Go's `net/url` and the real server's request info read it: the path
//! percent-decoded into segments, the query decoded into ordered pairs, the body read whole. Every
//! layer above takes this, never the raw request.

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::http::{Extensions, HeaderMap, Method, Request};
use percent_encoding::percent_decode_str;

/// Headers that carry credentials: never recorded, never in `Debug`.
pub(crate) const SECRET_HEADERS: [&str; 3] = ["authorization", "proxy-authorization", "cookie"];

/// Go's `url.unescape`: `%` must take two hex digits (`None` otherwise); in a query `+` is a
/// space. Bytes that are not UTF-8 once decoded become U+FFFD.
pub fn unescape(text: &str, in_query: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, b)| {
        *b != b'%'
            || (bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    let spaced;
    let text = if in_query && text.contains('+') {
        // `%2B` stays a plus: it is decoded after.
        spaced = text.replace('+', " ");
        &spaced
    } else {
        text
    };
    Some(percent_decode_str(text).decode_utf8_lossy().into_owned())
}

/// The query's parameters, decoded, in the order sent (repeated ones included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Go's `url.ParseQuery` as `URL.Query()` uses it (kube-apiserver reads every parameter
    /// through it): a pair with a malformed escape or a `;` is left out and the rest kept, since
    /// `Query()` drops the error.
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty() && !p.contains(';'))
            .filter_map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                Some((unescape(k, true)?, unescape(v, true)?))
            })
            .collect();
        Query(pairs)
    }

    /// The first value of `name` (Go's `Values.Get`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// `true` for `true` and `1`.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v == "true" || v == "1")
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// A path's segments, percent-decoded, empty ones dropped (as the real server splits
/// `URL.Path`); `None` for a malformed escape, which Go's HTTP server refuses with 400.
pub fn segments(path: &str) -> Option<Vec<String>> {
    let decoded = unescape(path, false)?;
    Some(
        decoded
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// What the server knows of a request before serving it, as the real server's request info:
/// the verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`)
/// and, for resource paths, the resource and where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    pub verb: String,
    /// `None` for paths that are not resources (`/version`, `/api`, `/healthz`).
    pub resource: Option<String>,
    /// `""` for the core group.
    pub group: String,
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl RequestInfo {
    pub(crate) fn parse(method: &Method, segments: &[String], query: &Query) -> RequestInfo {
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let (group, rest): (&str, &[&str]) = match segments.as_slice() {
            ["api", "v1", rest @ ..] if !rest.is_empty() => ("", rest),
            ["apis", g, _, rest @ ..] if !rest.is_empty() => (g, rest),
            _ => {
                return RequestInfo {
                    verb: method.as_str().to_ascii_lowercase(),
                    ..RequestInfo::default()
                };
            }
        };
        // `namespaces/NS/RESOURCE/...`, but `namespaces/NS/status|finalize` are the namespace's
        // own subresources. A namespace is its own namespace, as the real server's authorizer
        // sees it.
        let (namespace, parts): (Option<&str>, &[&str]) = match rest {
            ["namespaces", ns, sub, ..] if !matches!(*sub, "status" | "finalize") => {
                (Some(ns), &rest[2..])
            }
            ["namespaces", ns, ..] => (Some(ns), rest),
            _ => (None, rest),
        };
        let name = parts.get(1).map(|s| (*s).to_owned());
        let verb = match (method, name.is_some()) {
            (&Method::GET, _) if query.flag("watch") => "watch",
            (&Method::GET, true) => "get",
            (&Method::GET, false) => "list",
            (&Method::POST, _) => "create",
            (&Method::PUT, _) => "update",
            (&Method::PATCH, _) => "patch",
            (&Method::DELETE, true) => "delete",
            (&Method::DELETE, false) => "deletecollection",
            (m, _) => {
                return RequestInfo {
                    verb: m.as_str().to_ascii_lowercase(),
                    ..RequestInfo::default()
                };
            }
        };
        RequestInfo {
            verb: verb.to_owned(),
            resource: parts.first().map(|s| (*s).to_owned()),
            group: group.to_owned(),
            subresource: parts.get(2).map(|s| (*s).to_owned()),
            namespace: namespace.map(str::to_owned),
            name,
        }
    }
}

/// Which requests a control applies to: every field set must match. Build it from
/// [`Match::any`] or [`Match::verb`].
///
/// ```
/// use kuber_testserver::Match;
/// let m = Match::verb("list").resource("pods").namespace("ns");
/// # let _ = m;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    verb: Option<String>,
    resource: Option<String>,
    group: Option<String>,
    subresource: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
}

impl Match {
    /// Every request, resource or not.
    pub fn any() -> Match {
        Match::default()
    }

    /// Requests with this verb: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`.
    pub fn verb(verb: &str) -> Match {
        Match {
            verb: Some(verb.to_owned()),
            ..Match::default()
        }
    }

    /// Requests on this resource: its plural (`pods`); `pods/log` names a subresource too.
    pub fn resource(mut self, resource: &str) -> Match {
        match resource.split_once('/') {
            Some((r, sub)) => {
                self.resource = Some(r.to_owned());
                self.subresource = Some(sub.to_owned());
            }
            None => self.resource = Some(resource.to_owned()),
        }
        self
    }

    /// Requests in this API group (`""`: the core group).
    pub fn group(mut self, group: &str) -> Match {
        self.group = Some(group.to_owned());
        self
    }

    pub fn subresource(mut self, subresource: &str) -> Match {
        self.subresource = Some(subresource.to_owned());
        self
    }

    pub fn namespace(mut self, namespace: &str) -> Match {
        self.namespace = Some(namespace.to_owned());
        self
    }

    pub fn name(mut self, name: &str) -> Match {
        self.name = Some(name.to_owned());
        self
    }

    /// Whether this selects `info`.
    pub fn matches(&self, info: &RequestInfo) -> bool {
        fn same(want: &Option<String>, got: Option<&str>) -> bool {
            want.as_deref().is_none_or(|w| got == Some(w))
        }
        same(&self.verb, Some(&info.verb))
            && same(&self.resource, info.resource.as_deref())
            && same(
                &self.group,
                info.resource.as_ref().map(|_| info.group.as_str()),
            )
            && same(&self.subresource, info.subresource.as_deref())
            && same(&self.namespace, info.namespace.as_deref())
            && same(&self.name, info.name.as_deref())
    }
}

/// One request, parsed once and handed down.
pub struct Parsed {
    pub method: Method,
    /// The path as sent (still encoded), for the record.
    pub raw_path: String,
    /// The query as sent (still encoded).
    pub raw_query: Option<String>,
    /// `None`: the path has a malformed escape.
    pub segments: Option<Vec<String>>,
    pub query: Query,
    pub headers: HeaderMap,
    /// Where hyper keeps a connection's upgrade (exec and attach).
    pub extensions: Extensions,
    pub body: Bytes,
    pub info: RequestInfo,
}

impl Parsed {
    /// Reads the request, its body whole.
    pub async fn read<B>(req: Request<B>) -> Result<Parsed, String>
    where
        B: hyper::body::Body<Data = Bytes>,
        B::Error: Into<crate::response::BoxError>,
    {
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| format!("reading the body: {}", e.into()))?
            .to_bytes();
        Ok(Parsed::from_parts(parts, body))
    }

    pub fn from_parts(parts: hyper::http::request::Parts, body: Bytes) -> Parsed {
        let segments = segments(parts.uri.path());
        let query = Query::parse(parts.uri.query());
        let info = RequestInfo::parse(&parts.method, segments.as_deref().unwrap_or(&[]), &query);
        Parsed {
            method: parts.method,
            raw_path: parts.uri.path().to_owned(),
            raw_query: parts.uri.query().map(str::to_owned),
            segments,
            query,
            headers: parts.headers,
            extensions: parts.extensions,
            body,
            info,
        }
    }

    /// A header's value, when it is text.
    pub fn header(&self, name: impl hyper::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(method: Method, path: &str, query: Option<&str>) -> RequestInfo {
        RequestInfo::parse(&method, &segments(path).unwrap(), &Query::parse(query))
    }

    #[test]
    fn queries_decode_as_go_net_url() {
        let q = Query::parse(Some("a=1+2&b=%2B&a=3&%zz=x&c=%aé&d;e=1&&f&g=%C3%A9"));
        assert_eq!(
            q.pairs(),
            [
                ("a".to_owned(), "1 2".to_owned()),
                ("b".to_owned(), "+".to_owned()),
                ("a".to_owned(), "3".to_owned()),
                ("f".to_owned(), String::new()),
                ("g".to_owned(), "é".to_owned()),
            ]
        );
        assert_eq!(q.get("a"), Some("1 2"));
        assert_eq!(q.all("a").collect::<Vec<_>>(), ["1 2", "3"]);
        assert_eq!(unescape("%", true), None);
        assert_eq!(unescape("%4", true), None);
        assert_eq!(unescape("%ff", true).as_deref(), Some("\u{fffd}"));
    }

    #[test]
    fn paths_decode_before_they_split() {
        assert_eq!(
            segments("/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Afoo/").unwrap(),
            [
                "apis",
                "rbac.authorization.k8s.io",
                "v1",
                "clusterroles",
                "system:foo"
            ]
        );
        // `+` is not a space in a path; `%2F` splits, as Go's URL.Path does.
        assert_eq!(segments("/a+b/c%2Fd").unwrap(), ["a+b", "c", "d"]);
        assert_eq!(segments("/a/%zz"), None);
    }

    #[test]
    fn request_info_reads_verbs_and_scopes_as_the_real_server() {
        let list = info(Method::GET, "/api/v1/namespaces/ns/pods", None);
        assert_eq!(
            (
                list.verb.as_str(),
                list.resource.as_deref(),
                list.namespace.as_deref()
            ),
            ("list", Some("pods"), Some("ns"))
        );
        let watch = info(Method::GET, "/apis/apps/v1/deployments", Some("watch=true"));
        assert_eq!(
            (watch.verb.as_str(), watch.group.as_str()),
            ("watch", "apps")
        );
        assert_eq!(watch.namespace, None);
        let log = info(Method::GET, "/api/v1/namespaces/ns/pods/p/log", None);
        assert_eq!(
            (
                log.verb.as_str(),
                log.name.as_deref(),
                log.subresource.as_deref()
            ),
            ("get", Some("p"), Some("log"))
        );
        let status = info(Method::PUT, "/api/v1/namespaces/ns/status", None);
        assert_eq!(
            (
                status.resource.as_deref(),
                status.name.as_deref(),
                status.subresource.as_deref()
            ),
            (Some("namespaces"), Some("ns"), Some("status"))
        );
        assert_eq!(status.namespace.as_deref(), Some("ns"));
        let dc = info(Method::DELETE, "/api/v1/namespaces/ns/configmaps", None);
        assert_eq!(dc.verb, "deletecollection");
        let version = info(Method::GET, "/version", None);
        assert_eq!(
            (version.verb.as_str(), version.resource.as_deref()),
            ("get", None)
        );
        assert!(!Match::verb("get").resource("pods").matches(&version));
        assert!(Match::any().matches(&version));
        assert!(Match::any().resource("pods/log").matches(&log));
        assert!(!Match::any().resource("pods/exec").matches(&log));
        let named = info(
            Method::GET,
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Aa",
            None,
        );
        assert_eq!(named.name.as_deref(), Some("system:a"));
    }
}
