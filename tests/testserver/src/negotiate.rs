//! The answer's media type from `Accept`, as kube-apiserver chooses it: go-restful's route check
//! for built-in kinds (k8s.io/apiserver/pkg/endpoints/installer.go routes, go-restful's
//! `Route.matchesAccept`), then the handlers' negotiation (k8s.io/apiserver/pkg/endpoints/
//! handlers/negotiation: `NegotiateMediaTypeOptions` over the serializer's media types, in
//! clause order after goautoneg's sort, with `as`/`g`/`v`, `stream` and `sv` parameters).

use serde_json::json;

use crate::status::{self, Failure};

pub(crate) const JSON: &str = "application/json";
pub(crate) const YAML: &str = "application/yaml";
pub(crate) const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// What every resource's serializer offers, in its order (the first is the default).
const OFFERED: [Media; 3] = [Media::Json, Media::Yaml, Media::Protobuf];

/// The media types a non-streaming 406 or a body's 415 lists (v1.36: CBOR too, which this
/// server does not write).
pub(crate) const SUPPORTED: &str =
    "application/json, application/yaml, application/vnd.kubernetes.protobuf, application/cbor";

/// What a watch's 406 lists: the types with a stream serializer (YAML has none).
const STREAMING: &str = "application/json;stream=watch, application/vnd.kubernetes.protobuf;stream=watch, application/cbor-seq";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Media {
    Json,
    /// Answered as JSON, which is YAML too: the server writes no YAML of its own.
    Yaml,
    Protobuf,
}

impl Media {
    fn parts(self) -> (&'static str, &'static str) {
        match self {
            Media::Json => ("application", "json"),
            Media::Yaml => ("application", "yaml"),
            Media::Protobuf => ("application", "vnd.kubernetes.protobuf"),
        }
    }
}

/// The negotiated answer: a media type, and the Table version when the object is converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chosen {
    pub media: Media,
    pub table: Option<&'static str>,
    /// A `PartialObjectMetadata` (`false`) or `PartialObjectMetadataList` (`true`) conversion,
    /// with its apiVersion.
    pub partial: Option<(&'static str, bool)>,
}

/// Who asks: a resource's handler (custom resources keep protobuf for meta types only, the
/// CRD handler's `StandardSerializers`), or the writer of an error `Status`
/// (`DefaultEndpointRestrictions`: any type, no conversion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    BuiltIn,
    Custom,
    Errors,
}

/// One clause of an Accept header, as goautoneg parses it (mime.ParseMediaType's lowercasing).
#[derive(Debug)]
struct Clause {
    ty: String,
    sub: String,
    q: f64,
    params: Vec<(String, String)>,
}

fn clauses(header: &str) -> Vec<Clause> {
    let mut out: Vec<Clause> = header
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let base = pieces.next()?.trim().to_ascii_lowercase();
            let (ty, sub) = base.split_once('/')?;
            if ty.is_empty() || sub.is_empty() {
                return None;
            }
            let mut clause = Clause {
                ty: ty.to_owned(),
                sub: sub.to_owned(),
                q: 1.0,
                params: Vec::new(),
            };
            for p in pieces.map(str::trim).filter(|p| !p.is_empty()) {
                // A malformed parameter makes the clause unreadable: it is skipped.
                let (k, v) = p.split_once('=')?;
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().trim_matches('"'));
                if k == "q" {
                    clause.q = v.parse().unwrap_or(0.0);
                } else {
                    clause.params.push((k, v.to_owned()));
                }
            }
            Some(clause)
        })
        .collect();
    // Higher q first, then concrete types before wildcards; ties keep the header's order.
    out.sort_by(|a, b| {
        b.q.total_cmp(&a.q)
            .then((a.ty == "*").cmp(&(b.ty == "*")))
            .then((a.sub == "*").cmp(&(b.sub == "*")))
    });
    out
}

/// The handler's choice; `None` when nothing offered is acceptable.
fn choose(accept: &str, endpoint: Endpoint) -> Option<Chosen> {
    if accept.trim().is_empty() {
        return Some(Chosen {
            media: Media::Json,
            table: None,
            partial: None,
        });
    }
    for clause in clauses(accept) {
        for media in OFFERED {
            let (ty, sub) = media.parts();
            let matches = (clause.ty == ty && (clause.sub == sub || clause.sub == "*"))
                || (clause.ty == "*" && clause.sub == "*");
            if matches && let Some(chosen) = options(&clause, media, endpoint) {
                return Some(chosen);
            }
        }
    }
    None
}

/// A clause's parameters against one offered type (`acceptMediaTypeOptions`).
fn options(clause: &Clause, media: Media, endpoint: Endpoint) -> Option<Chosen> {
    let param = |name: &str| {
        clause
            .params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some(stream) = param("stream").filter(|s| !s.is_empty())
        && (media == Media::Yaml || stream != "watch")
    {
        return None;
    }
    // `sv` names the meta group's version, which only resource handlers take.
    if let Some(sv) = param("sv").filter(|s| !s.is_empty())
        && (endpoint == Endpoint::Errors || sv != "v1")
    {
        return None;
    }
    let convert = clause
        .params
        .iter()
        .any(|(k, _)| matches!(k.as_str(), "as" | "g" | "v"));
    if !convert {
        return match (endpoint, media) {
            (Endpoint::Custom, Media::Protobuf) => None,
            // A watch of YAML passes here and fails on its missing stream serializer.
            _ => Some(Chosen {
                media,
                table: None,
                partial: None,
            }),
        };
    }
    if endpoint == Endpoint::Errors {
        return None;
    }
    let meta = match param("g").zip(param("v")) {
        Some(("meta.k8s.io", "v1")) => "meta.k8s.io/v1",
        Some(("meta.k8s.io", "v1beta1")) => "meta.k8s.io/v1beta1",
        _ => return None,
    };
    // Metadata of any kind; protobuf of it is not written here (no model of it).
    let list = match param("as") {
        Some("PartialObjectMetadata") => false,
        Some("PartialObjectMetadataList") => true,
        // Tables are JSON or YAML only, and for built-in and custom kinds alike.
        Some("Table") if media != Media::Protobuf => {
            return Some(Chosen {
                media,
                table: Some(meta),
                partial: None,
            });
        }
        _ => return None,
    };
    (media != Media::Protobuf).then_some(Chosen {
        media,
        table: None,
        partial: Some((meta, list)),
    })
}

/// go-restful's check of a built-in route's `Produces`: a type named exactly (parameters
/// dropped) or `*/*`; no `application/*`. An empty header is `*/*`.
fn route_accepts(accept: &str) -> bool {
    accept.trim().is_empty()
        || accept.split(',').any(|part| {
            let base = part.split(';').next().unwrap_or("").trim_matches(' ');
            base == "*/*" || [JSON, YAML, PROTOBUF].contains(&base)
        })
}

/// The answer's type for a resource request (`collection`: a GET of a collection, whose route
/// also produces the stream types), or the 406 the real server gives.
pub(crate) fn output(
    accept: &str,
    custom: bool,
    collection: bool,
    watch: bool,
) -> Result<Chosen, Failure> {
    if !custom && !route_accepts(accept) {
        // go-restful's refusal, listing the route's Produces, through the service error handler.
        let produced = if collection {
            format!("{SUPPORTED}, {STREAMING}")
        } else {
            SUPPORTED.to_owned()
        };
        return Err(status::failure(
            406,
            "NotAcceptable",
            format!("406: Not Acceptable\n\nAvailable representations: {produced}"),
            Some(json!({})),
        ));
    }
    let endpoint = if custom {
        Endpoint::Custom
    } else {
        Endpoint::BuiltIn
    };
    let not_acceptable = |list: &str| {
        status::failure(
            406,
            "NotAcceptable",
            format!("only the following media types are accepted: {list}"),
            None,
        )
    };
    let chosen = choose(accept, endpoint).ok_or_else(|| not_acceptable(SUPPORTED))?;
    // A watch negotiates again, the same way, and needs a stream serializer.
    if watch && chosen.media == Media::Yaml {
        return Err(not_acceptable(STREAMING));
    }
    Ok(chosen)
}

/// The type an error `Status` is written in: negotiated with no restrictions, JSON when that
/// fails (responsewriters.WriteObjectNegotiated keeps a failed request's own code).
pub(crate) fn for_errors(accept: &str) -> Media {
    choose(accept, Endpoint::Errors).map_or(Media::Json, |c| c.media)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(accept: &str, custom: bool) -> Option<Media> {
        output(accept, custom, false, false).ok().map(|c| c.media)
    }

    #[test]
    fn clauses_are_taken_by_quality_then_order() {
        assert_eq!(media("", false), Some(Media::Json));
        assert_eq!(media("*/*", false), Some(Media::Json));
        assert_eq!(
            media(
                "application/vnd.kubernetes.protobuf, application/json",
                false
            ),
            Some(Media::Protobuf)
        );
        assert_eq!(
            media(
                "application/json;q=0.5, application/vnd.kubernetes.protobuf",
                false
            ),
            Some(Media::Protobuf)
        );
        assert_eq!(
            media("application/yaml;q=0.9, application/json;q=0.8", false),
            Some(Media::Yaml)
        );
        // Custom resources answer JSON to protobuf-first clients, 406 to protobuf-only ones.
        assert_eq!(
            media(
                "application/vnd.kubernetes.protobuf, application/json",
                true
            ),
            Some(Media::Json)
        );
        let f = output(PROTOBUF, true, false, false).unwrap_err();
        assert_eq!(f.code, 406);
        assert_eq!(
            f.body["message"],
            format!("only the following media types are accepted: {SUPPORTED}")
        );
        // go-restful takes no `application/*` for built-in kinds; the handler would.
        assert_eq!(
            output("application/*", false, false, false)
                .unwrap_err()
                .body["message"],
            format!("406: Not Acceptable\n\nAvailable representations: {SUPPORTED}")
        );
        assert_eq!(media("application/*", true), Some(Media::Json));
        assert_eq!(media("text/plain", false), None);
    }

    #[test]
    fn tables_are_json_or_yaml_conversions() {
        let table = |accept: &str| {
            output(accept, false, false, false)
                .ok()
                .and_then(|c| c.table)
        };
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(table(kubectl), Some("meta.k8s.io/v1"));
        assert_eq!(
            table("application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json"),
            Some("meta.k8s.io/v1beta1")
        );
        assert_eq!(table("application/json"), None);
        assert_eq!(
            table("application/json, application/json;as=Table;v=v1;g=meta.k8s.io"),
            None
        );
        assert_eq!(
            media(
                "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json",
                false
            ),
            Some(Media::Json)
        );
        // Errors are never converted.
        assert_eq!(
            for_errors("application/json;as=Table;v=v1;g=meta.k8s.io"),
            Media::Json
        );
        assert_eq!(for_errors(PROTOBUF), Media::Protobuf);
    }

    #[test]
    fn watches_need_a_stream_serializer() {
        let watch = |accept: &str| output(accept, false, true, true).ok().map(|c| c.media);
        assert_eq!(watch(PROTOBUF), Some(Media::Protobuf));
        assert_eq!(
            watch("application/vnd.kubernetes.protobuf;stream=watch"),
            Some(Media::Protobuf)
        );
        let f = output(YAML, false, true, true).unwrap_err();
        assert_eq!(
            f.body["message"],
            format!("only the following media types are accepted: {STREAMING}")
        );
        assert!(output("application/json;stream=other", false, true, true).is_err());
    }
}
