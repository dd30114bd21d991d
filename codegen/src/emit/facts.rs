//! The spec's schemas as data, for tools that need them at run time (the test server's strategic
//! merge patch, server-side apply and `/openapi/v3`): OpenAPI 3 component schemas with every
//! description removed, so only facts remain (types, properties, required, `x-kubernetes-*`).

use serde_json::Value;

/// The component schemas of `doc`, one per line, descriptions removed, keys sorted.
pub fn definitions(doc: &openapiv3::OpenAPI) -> Result<String, serde_json::Error> {
    let mut out = String::from("{\n");
    let Some(components) = &doc.components else {
        out.push_str("}\n");
        return Ok(out);
    };
    let mut names: Vec<&String> = components.schemas.keys().collect();
    names.sort();
    for (i, name) in names.iter().enumerate() {
        let mut schema = serde_json::to_value(&components.schemas[*name])?;
        strip_descriptions(&mut schema);
        out.push_str(&serde_json::to_string(name)?);
        out.push(':');
        out.push_str(&serde_json::to_string(&schema)?);
        out.push_str(if i + 1 < names.len() { ",\n" } else { "\n" });
    }
    out.push_str("}\n");
    Ok(out)
}

/// Removes `description` from a schema and the schemas inside it. Maps keyed by user names
/// (`properties`) keep a member called `description`.
fn strip_descriptions(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            map.remove("description");
            for (key, value) in map.iter_mut() {
                if key == "properties" {
                    if let Value::Object(props) = value {
                        props.values_mut().for_each(strip_descriptions);
                    }
                } else {
                    strip_descriptions(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_descriptions),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_go_and_a_property_named_description_stays() {
        let mut schema = serde_json::json!({
            "description": "prose",
            "type": "object",
            "properties": {
                "description": {"type": "string", "description": "more prose"},
                "items": {"type": "array", "items": {"description": "x", "type": "string"}}
            },
            "x-kubernetes-patch-merge-key": "name"
        });
        strip_descriptions(&mut schema);
        assert_eq!(
            schema,
            serde_json::json!({
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "items": {"type": "array", "items": {"type": "string"}}
                },
                "x-kubernetes-patch-merge-key": "name"
            })
        );
    }
}
