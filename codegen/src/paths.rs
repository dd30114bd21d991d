//! Resource paths: `/apis/GROUP/VERSION[/namespaces/{namespace}]/PLURAL[/{name}[/SUB]]` split into
//! what identifies a resource. Operations carry the split path ([`crate::ops`]); kinds are
//! derived from those ([`crate::kinds`]).

/// One path split into the parts that identify a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePath {
    pub group: String,
    pub version: String,
    pub namespaced: bool,
    pub plural: String,
    pub named: bool,
    /// Whether the path is one of the deprecated `/watch/` ones.
    pub watch: bool,
    pub subresource: Option<String>,
}

/// Splits `/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale` and friends; `None` for
/// paths that are not about a resource (discovery, version, well-known documents).
pub fn parse_path(path: &str) -> Option<ResourcePath> {
    let rest = path.strip_prefix('/')?;
    let mut parts: Vec<&str> = rest.split('/').collect();
    let (group, version) = match *parts.first()? {
        "api" => {
            let v = *parts.get(1)?;
            parts.drain(..2);
            ("", v)
        }
        "apis" => {
            let g = *parts.get(1)?;
            let v = *parts.get(2)?;
            parts.drain(..3);
            (g, v)
        }
        _ => return None,
    };
    let watch = parts.first() == Some(&"watch");
    if watch {
        parts.remove(0);
    }
    let mut namespaced = false;
    if parts.len() >= 3 && parts[0] == "namespaces" && parts[1] == "{namespace}" {
        namespaced = true;
        parts.drain(..2);
    }
    let plural = *parts.first()?;
    if plural.is_empty() || plural.starts_with('{') {
        return None;
    }
    let named = parts.get(1).is_some_and(|p| p.starts_with('{'));
    let subresource = if named { parts.get(2).copied() } else { None };
    Some(ResourcePath {
        group: group.to_owned(),
        version: version.to_owned(),
        namespaced,
        plural: plural.to_owned(),
        named,
        watch,
        subresource: subresource.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let p =
            parse_path("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale").unwrap();
        assert_eq!(
            p,
            ResourcePath {
                group: "apps".into(),
                version: "v1".into(),
                namespaced: true,
                plural: "deployments".into(),
                named: true,
                watch: false,
                subresource: Some("scale".into())
            }
        );
        let p = parse_path("/api/v1/namespaces/{name}/finalize").unwrap();
        assert_eq!(
            (p.plural.as_str(), p.namespaced, p.subresource.as_deref()),
            ("namespaces", false, Some("finalize"))
        );
        let p = parse_path("/api/v1/watch/namespaces/{namespace}/pods").unwrap();
        assert_eq!(
            (p.plural.as_str(), p.namespaced, p.named, p.watch),
            ("pods", true, false, true)
        );
        let p = parse_path("/api/v1/namespaces").unwrap();
        assert_eq!((p.plural.as_str(), p.namespaced), ("namespaces", false));
        assert_eq!(parse_path("/apis/apps/v1/"), None);
        assert_eq!(parse_path("/version/"), None);
        assert_eq!(parse_path("/.well-known/openid-configuration"), None);
    }
}
