//! Swagger 2.0 → OpenAPI 3, as a rewrite of the JSON tree (`$ref`s are rewritten by `refs`).
//!
//! What changes shape: `definitions`/`parameters`/`responses` move under `components`;
//! `securityDefinitions` are converted to `components.securitySchemes` (kept rather than dropped:
//! the merged document should still say how a cluster authenticates); `body` and `formData`
//! parameters become `requestBody`; a response `schema` becomes `content` for each produced media
//! type; non-body parameters get a `schema`.
//! Dropped: `schemes`, `host`, `basePath` (Kubernetes documents have none; a client is always
//! pointed at its cluster), `consumes`/`produces` once used for `content`.

use std::collections::HashMap;
use std::path::Path;

use super::LoadError;
use super::build::{invalid, take_array, take_object, wrong_type};
use super::json::{Json, Map, pointer};

const FORM_URLENCODED: &str = "application/x-www-form-urlencoded";
const FORM_TYPES: [&str; 2] = [FORM_URLENCODED, "multipart/form-data"];

/// Keys of a swagger 2.0 non-body parameter, header or items object that belong to its schema.
const SIMPLE_SCHEMA_KEYS: &[&str] = &[
    "type",
    "format",
    "items",
    "enum",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "multipleOf",
];

struct Ctx<'a> {
    file: &'a Path,
    consumes: Vec<String>,
    produces: Vec<String>,
    /// Global `body`/`formData` parameters: OpenAPI 3 has no parameter for them, so each
    /// reference is replaced by the parameter itself and becomes part of a `requestBody`.
    body_params: HashMap<String, Map>,
}

/// Converts a swagger 2.0 root (refs already rewritten) into an OpenAPI 3 shaped root.
pub(crate) fn convert(file: &Path, mut root: Map) -> Result<Map, LoadError> {
    root.shift_remove("swagger");
    for dropped in ["host", "basePath", "schemes"] {
        root.shift_remove(dropped);
    }
    let mut ctx = Ctx {
        file,
        consumes: media_types(file, &mut root, "consumes", "")?.unwrap_or_default(),
        produces: media_types(file, &mut root, "produces", "")?.unwrap_or_default(),
        body_params: HashMap::new(),
    };
    let mut components = Map::new();

    if let Some(mut defs) = take_object(file, &mut root, "definitions", "")? {
        defs.values_mut().for_each(fix_schema);
        components.insert("schemas".into(), Json::Object(defs));
    }
    if let Some(params) = take_object(file, &mut root, "parameters", "")? {
        let mut out = Map::with_capacity(params.len());
        for (name, p) in params {
            let at = pointer("parameters", &[&name]);
            let Json::Object(p) = p else {
                return Err(wrong_type(file, &at, "an object", &p));
            };
            match p.get("in").and_then(Json::as_str) {
                Some("body" | "formData") => {
                    ctx.body_params.insert(name, p);
                }
                _ => {
                    out.insert(name, Json::Object(parameter(file, &at, p)?));
                }
            }
        }
        components.insert("parameters".into(), Json::Object(out));
    }
    if let Some(responses) = take_object(file, &mut root, "responses", "")? {
        let mut out = Map::with_capacity(responses.len());
        for (name, r) in responses {
            let at = pointer("responses", &[&name]);
            out.insert(name, response(&ctx, &at, r, &ctx.produces)?);
        }
        components.insert("responses".into(), Json::Object(out));
    }
    if let Some(schemes) = take_object(file, &mut root, "securityDefinitions", "")? {
        let mut out = Map::with_capacity(schemes.len());
        for (name, s) in schemes {
            let at = pointer("securityDefinitions", &[&name]);
            out.insert(name, security_scheme(file, &at, s)?);
        }
        components.insert("securitySchemes".into(), Json::Object(out));
    }

    let paths = match take_object(file, &mut root, "paths", "")? {
        Some(paths) => paths_object(&ctx, paths)?,
        None => Map::new(),
    };

    let mut out = Map::with_capacity(root.len() + 4);
    out.insert("openapi".into(), Json::str("3.0.0"));
    // `info` first, then whatever else the document carries (tags, security, x-*...).
    if let Some(info) = root.shift_remove("info") {
        out.insert("info".into(), info);
    }
    out.extend(root);
    out.insert("paths".into(), Json::Object(paths));
    if !components.is_empty() {
        out.insert("components".into(), Json::Object(components));
    }
    Ok(out)
}

fn media_types(
    file: &Path,
    map: &mut Map,
    key: &str,
    at: &str,
) -> Result<Option<Vec<String>>, LoadError> {
    let Some(list) = take_array(file, map, key, at)? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.into_iter().enumerate() {
        match v {
            Json::String(s) => out.push(s),
            other => {
                return Err(wrong_type(
                    file,
                    &pointer(at, &[key, &i.to_string()]),
                    "a string",
                    &other,
                ));
            }
        }
    }
    Ok(Some(out))
}

/// The parts of one swagger 2.0 operation (or path item) parameter list.
#[derive(Default, Clone)]
struct Params {
    /// Query, path and header parameters and references to them, converted.
    kept: Vec<Json>,
    body: Option<Map>,
    form: Vec<Map>,
}

fn split_params(
    ctx: &Ctx,
    at: &str,
    list: Vec<Json>,
    inherited: &Params,
) -> Result<Params, LoadError> {
    let mut out = Params {
        kept: Vec::with_capacity(list.len()),
        body: None,
        form: inherited.form.clone(),
    };
    for (i, p) in list.into_iter().enumerate() {
        let here = pointer(at, &[&i.to_string()]);
        let Json::Object(p) = p else {
            return Err(wrong_type(ctx.file, &here, "an object", &p));
        };
        let global = p
            .get("$ref")
            .and_then(Json::as_str)
            .and_then(|r| r.strip_prefix("#/components/parameters/"))
            .and_then(|name| ctx.body_params.get(name));
        let p = match global {
            Some(global) => global.clone(),
            // A reference to a query, path or header parameter stays one.
            None if p.contains_key("$ref") => {
                out.kept.push(Json::Object(p));
                continue;
            }
            None => p,
        };
        match p.get("in").and_then(Json::as_str) {
            Some("body") => {
                if out.body.replace(p).is_some() {
                    return Err(invalid(ctx.file, &here, "a second `body` parameter"));
                }
            }
            Some("formData") => {
                // A parameter of the operation overrides the path item's one of the same name.
                let name = p.get("name").cloned();
                out.form.retain(|f| f.get("name") != name.as_ref());
                out.form.push(p);
            }
            Some("query" | "path" | "header") => {
                out.kept.push(Json::Object(parameter(ctx.file, &here, p)?))
            }
            Some(other) => {
                return Err(invalid(
                    ctx.file,
                    &here,
                    format!("unknown parameter location `{other}`"),
                ));
            }
            None => return Err(invalid(ctx.file, &here, "parameter without `in`")),
        }
    }
    if out.body.is_none() {
        out.body = inherited.body.clone();
    }
    Ok(out)
}

fn paths_object(ctx: &Ctx, paths: Map) -> Result<Map, LoadError> {
    let mut out = Map::with_capacity(paths.len());
    for (path, item) in paths {
        let at = pointer("paths", &[&path]);
        if path.starts_with("x-") {
            out.insert(path, item);
            continue;
        }
        let Json::Object(mut item) = item else {
            return Err(wrong_type(ctx.file, &at, "an object", &item));
        };
        let list = take_array(ctx.file, &mut item, "parameters", &at)?.unwrap_or_default();
        let shared = split_params(
            ctx,
            &pointer(&at, &["parameters"]),
            list,
            &Params::default(),
        )?;
        if !shared.kept.is_empty() {
            // Stays at path level, where OpenAPI 3 has `parameters` too.
            item.insert("parameters".into(), Json::Array(shared.kept.clone()));
        }
        for method in super::build::METHODS {
            let Some(slot) = item.get_mut(method) else {
                continue;
            };
            let here = pointer(&at, &[method]);
            *slot = match std::mem::replace(slot, Json::Null) {
                Json::Object(op) => Json::Object(operation(ctx, &here, op, &shared)?),
                other => return Err(wrong_type(ctx.file, &here, "an object", &other)),
            };
        }
        out.insert(path, Json::Object(item));
    }
    Ok(out)
}

fn operation(ctx: &Ctx, at: &str, mut op: Map, shared: &Params) -> Result<Map, LoadError> {
    let consumes =
        media_types(ctx.file, &mut op, "consumes", at)?.unwrap_or_else(|| ctx.consumes.clone());
    let produces =
        media_types(ctx.file, &mut op, "produces", at)?.unwrap_or_else(|| ctx.produces.clone());
    op.shift_remove("schemes");

    let list = take_array(ctx.file, &mut op, "parameters", at)?.unwrap_or_default();
    let params = split_params(
        ctx,
        &pointer(at, &["parameters"]),
        list,
        &Params {
            kept: Vec::new(),
            ..shared.clone()
        },
    )?;
    if !params.kept.is_empty() {
        op.insert("parameters".into(), Json::Array(params.kept));
    }
    match (params.body, params.form.is_empty()) {
        (Some(_), false) => {
            return Err(invalid(
                ctx.file,
                &pointer(at, &["parameters"]),
                "both `body` and `formData` parameters",
            ));
        }
        (Some(body), true) => {
            op.insert("requestBody".into(), request_body(body, &consumes));
        }
        (None, false) => {
            op.insert(
                "requestBody".into(),
                form_body(ctx, at, params.form, &consumes)?,
            );
        }
        (None, true) => {}
    }

    if let Some(responses) = take_object(ctx.file, &mut op, "responses", at)? {
        let at = pointer(at, &["responses"]);
        let mut out = Map::with_capacity(responses.len());
        for (code, r) in responses {
            let converted = if code.starts_with("x-") {
                r
            } else {
                response(ctx, &pointer(&at, &[&code]), r, &produces)?
            };
            out.insert(code, converted);
        }
        op.insert("responses".into(), Json::Object(out));
    }
    Ok(op)
}

/// The media types to use; `application/json` when neither operation nor document names any.
fn or_json(media: &[String]) -> Vec<&str> {
    if media.is_empty() {
        vec!["application/json"]
    } else {
        media.iter().map(String::as_str).collect()
    }
}

/// One `content` entry per media type, each with `schema` (and `example`, if given for it).
fn content(media: &[&str], schema: Option<Json>, examples: Option<&Map>) -> Json {
    let mut content = Map::with_capacity(media.len());
    for mt in media {
        let mut entry = Map::new();
        if let Some(s) = &schema {
            entry.insert("schema".into(), s.clone());
        }
        if let Some(example) = examples.and_then(|e| e.get(*mt)) {
            entry.insert("example".into(), example.clone());
        }
        content.insert((*mt).to_owned(), Json::Object(entry));
    }
    Json::Object(content)
}

fn request_body(mut body: Map, consumes: &[String]) -> Json {
    let mut schema = body.shift_remove("schema");
    if let Some(s) = &mut schema {
        fix_schema(s);
    }
    let mut out = Map::new();
    if let Some(d) = body.shift_remove("description") {
        out.insert("description".into(), d);
    }
    out.insert("content".into(), content(&or_json(consumes), schema, None));
    if let Some(r) = body.shift_remove("required") {
        out.insert("required".into(), r);
    }
    out.extend(body.into_iter().filter(|(k, _)| k.starts_with("x-")));
    Json::Object(out)
}

/// `formData` parameters → one object schema with a property per parameter.
fn form_body(ctx: &Ctx, at: &str, form: Vec<Map>, consumes: &[String]) -> Result<Json, LoadError> {
    let mut properties = Map::with_capacity(form.len());
    let mut required = Vec::new();
    for mut p in form {
        let Some(Json::String(name)) = p.shift_remove("name") else {
            return Err(invalid(
                ctx.file,
                &pointer(at, &["parameters"]),
                "`formData` parameter without a name",
            ));
        };
        if p.shift_remove("required") == Some(Json::Bool(true)) {
            required.push(Json::str(&name));
        }
        let mut schema = simple_schema(&mut p);
        if let Some(d) = p.shift_remove("description") {
            schema.insert("description".into(), d);
        }
        properties.insert(name, Json::Object(schema));
    }
    let mut schema = Map::new();
    schema.insert("type".into(), Json::str("object"));
    schema.insert("properties".into(), Json::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), Json::Array(required));
    }
    let media: Vec<&str> = consumes
        .iter()
        .map(String::as_str)
        .filter(|m| FORM_TYPES.contains(m))
        .collect();
    let media = if media.is_empty() {
        vec![FORM_URLENCODED]
    } else {
        media
    };
    let mut out = Map::new();
    out.insert(
        "content".into(),
        content(&media, Some(Json::Object(schema)), None),
    );
    Ok(Json::Object(out))
}

/// A query, path or header parameter: its type keywords move into `schema`.
fn parameter(file: &Path, at: &str, mut p: Map) -> Result<Map, LoadError> {
    if p.contains_key("$ref") {
        return Ok(p);
    }
    if p.get("in").and_then(Json::as_str) == Some("body") {
        return Err(invalid(file, at, "a `body` parameter cannot be used here"));
    }
    let collection = p.shift_remove("collectionFormat");
    let schema = simple_schema(&mut p);
    // `collectionFormat` → `style`/`explode`; `csv` is the swagger default.
    let location = p.get("in").and_then(Json::as_str).unwrap_or("");
    if schema.get("type").and_then(Json::as_str) == Some("array") {
        let (style, explode) = match collection.as_ref().and_then(Json::as_str).unwrap_or("csv") {
            "multi" => ("form", true),
            "ssv" => ("spaceDelimited", false),
            "pipes" => ("pipeDelimited", false),
            _ if location == "query" => ("form", false),
            _ => ("simple", false),
        };
        p.insert("style".into(), Json::str(style));
        p.insert("explode".into(), Json::Bool(explode));
    }
    p.insert("schema".into(), Json::Object(schema));
    Ok(p)
}

/// Moves the schema keywords of a non-body parameter, header or items object into a schema.
fn simple_schema(p: &mut Map) -> Map {
    let mut schema = Map::new();
    for key in SIMPLE_SCHEMA_KEYS {
        if let Some(v) = p.shift_remove(*key) {
            schema.insert((*key).to_owned(), v);
        }
    }
    // Kubernetes puts `uniqueItems: true` on plain string parameters; it only means something for
    // arrays, and openapiv3 would read `{type: string, uniqueItems}` as an untyped schema.
    let unique = p.shift_remove("uniqueItems");
    let is_array = schema.get("type").and_then(Json::as_str) == Some("array");
    if let (Some(u), true) = (unique, is_array) {
        schema.insert("uniqueItems".into(), u);
    }
    if let Some(Json::Object(items)) = schema.get_mut("items") {
        items.shift_remove("collectionFormat");
        let inner = simple_schema(items);
        *items = inner;
    }
    if schema.get("type").and_then(Json::as_str) == Some("file") {
        schema.insert("type".into(), Json::str("string"));
        schema.insert("format".into(), Json::str("binary"));
    }
    schema
}

fn response(ctx: &Ctx, at: &str, r: Json, produces: &[String]) -> Result<Json, LoadError> {
    let Json::Object(mut r) = r else {
        return Err(wrong_type(ctx.file, at, "an object", &r));
    };
    if r.contains_key("$ref") {
        return Ok(Json::Object(r));
    }
    let mut schema = r.shift_remove("schema");
    if let Some(s) = &mut schema {
        fix_schema(s);
    }
    let examples = take_object(ctx.file, &mut r, "examples", at)?;
    // OpenAPI 3 requires a description.
    if !r.contains_key("description") {
        r.insert("description".into(), Json::str(""));
    }
    if let Some(headers) = take_object(ctx.file, &mut r, "headers", at)? {
        let mut out = Map::with_capacity(headers.len());
        for (name, h) in headers {
            let Json::Object(mut h) = h else {
                return Err(wrong_type(
                    ctx.file,
                    &pointer(at, &["headers", &name]),
                    "an object",
                    &h,
                ));
            };
            let schema = simple_schema(&mut h);
            h.shift_remove("collectionFormat");
            h.insert("schema".into(), Json::Object(schema));
            out.insert(name, Json::Object(h));
        }
        r.insert("headers".into(), Json::Object(out));
    }
    // A response without a schema has no body: no `content`.
    if schema.is_some() {
        r.insert(
            "content".into(),
            content(&or_json(produces), schema, examples.as_ref()),
        );
    }
    Ok(Json::Object(r))
}

fn security_scheme(file: &Path, at: &str, s: Json) -> Result<Json, LoadError> {
    let Json::Object(mut s) = s else {
        return Err(wrong_type(file, at, "an object", &s));
    };
    match s.get("type").and_then(Json::as_str) {
        Some("apiKey") => {}
        Some("basic") => {
            s.insert("type".into(), Json::str("http"));
            s.insert("scheme".into(), Json::str("basic"));
        }
        Some("oauth2") => {
            s.shift_remove("type");
            let flow_name = match s.shift_remove("flow").as_ref().and_then(Json::as_str) {
                Some("implicit") => "implicit",
                Some("password") => "password",
                Some("application") => "clientCredentials",
                Some("accessCode") => "authorizationCode",
                _ => {
                    return Err(invalid(
                        file,
                        &pointer(at, &["flow"]),
                        "unknown oauth2 flow",
                    ));
                }
            };
            let mut flow = Map::new();
            for key in ["authorizationUrl", "tokenUrl", "scopes"] {
                if let Some(v) = s.shift_remove(key) {
                    flow.insert(key.into(), v);
                }
            }
            let mut flows = Map::new();
            flows.insert(flow_name.into(), Json::Object(flow));
            let mut out = Map::new();
            out.insert("type".into(), Json::str("oauth2"));
            out.insert("flows".into(), Json::Object(flows));
            out.extend(s);
            return Ok(Json::Object(out));
        }
        _ => {
            return Err(invalid(
                file,
                &pointer(at, &["type"]),
                "unknown security scheme type",
            ));
        }
    }
    Ok(Json::Object(s))
}

/// Swagger 2.0 schema keywords that OpenAPI 3 spells differently, fixed in a schema and the
/// schemas nested in it.
fn fix_schema(schema: &mut Json) {
    let Json::Object(map) = schema else { return };
    if map.contains_key("$ref") {
        // OpenAPI 3 ignores everything next to a `$ref`. Extensions there (e.g. a patch strategy
        // on one property) must survive, so such a schema becomes an `allOf` of the reference,
        // the form Kubernetes' own OpenAPI 3 documents use. A bare reference (or one with only a
        // description) stays a `$ref`.
        if map.keys().any(|k| k.starts_with("x-")) {
            let mut reference = Map::new();
            if let Some(r) = map.shift_remove("$ref") {
                reference.insert("$ref".into(), r);
            }
            map.insert("allOf".into(), Json::Array(vec![Json::Object(reference)]));
        }
        return;
    }
    if let Some(Json::String(d)) = map.get("discriminator") {
        let mut object = Map::new();
        object.insert("propertyName".into(), Json::String(d.clone()));
        map.insert("discriminator".into(), Json::Object(object));
    }
    if map.get("type").and_then(Json::as_str) == Some("file") {
        map.insert("type".into(), Json::str("string"));
        map.insert("format".into(), Json::str("binary"));
    }
    if let Some(Json::Object(props)) = map.get_mut("properties") {
        props.values_mut().for_each(fix_schema);
    }
    for key in ["items", "additionalProperties"] {
        match map.get_mut(key) {
            Some(v @ Json::Object(_)) => fix_schema(v),
            Some(Json::Array(items)) => items.iter_mut().for_each(fix_schema),
            _ => {}
        }
    }
    if let Some(Json::Array(all)) = map.get_mut("allOf") {
        all.iter_mut().for_each(fix_schema);
    }
}
