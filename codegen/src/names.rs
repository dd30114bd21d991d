//! Naming rules. These names are public API of the generated crates: change them only on purpose.

use heck::{ToPascalCase, ToSnakeCase};

/// Words Rust reserves (2024 edition included); an identifier that equals one gets a trailing `_`.
const RESERVED: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield", "Self",
];

pub fn is_reserved(word: &str) -> bool {
    RESERVED.contains(&word)
}

fn unreserve(word: String) -> String {
    if is_reserved(&word) {
        format!("{word}_")
    } else {
        word
    }
}

/// Lower-cases acronym plurals so that `externalIPs` reads `external_ips`, not `external_i_ps`.
fn fold_acronym_plurals(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i].is_ascii_uppercase() {
            i += 1;
        }
        let run = i - start;
        let plural_s = i < chars.len()
            && chars[i] == 's'
            && (i + 1 == chars.len() || !chars[i + 1].is_ascii_lowercase());
        if run >= 2 && plural_s {
            out.push(chars[start]);
            out.extend(chars[start + 1..i].iter().map(|c| c.to_ascii_lowercase()));
        } else {
            out.extend(&chars[start..i]);
        }
        if i < chars.len() {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Rust field name for a JSON property name: `externalIPs` → `external_ips`, `$ref` → `ref_`,
/// `x-kubernetes-list-type` → `x_kubernetes_list_type`, `type` → `type_`.
pub fn field_name(json: &str) -> String {
    let trimmed = json.trim_start_matches('$');
    let mut snake = fold_acronym_plurals(trimmed).to_snake_case();
    if snake.is_empty() {
        snake = "value".to_owned();
    }
    if snake.starts_with(|c: char| c.is_ascii_digit()) {
        snake.insert(0, '_');
    }
    unreserve(snake)
}

/// Module segment for one dot-separated part of a definition name: `cert-manager` → `cert_manager`.
pub fn module_segment(part: &str) -> String {
    let mut seg: String = part
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if seg.starts_with(|c: char| c.is_ascii_digit()) {
        seg.insert(0, '_');
    }
    unreserve(seg)
}

/// Type name as the spec spells it, made a valid identifier if it is not one already.
pub fn type_name(last: &str) -> String {
    let valid = last.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && last.starts_with(|c: char| c.is_ascii_alphabetic());
    if valid {
        unreserve(last.to_owned())
    } else {
        unreserve(last.to_pascal_case())
    }
}

/// Cargo feature of an API group module, e.g. `core`, `apps`, `apiextensions`.
pub fn feature_name(group_segment: &str) -> String {
    group_segment.replace('_', "-")
}

/// Method name from an operationId with its group-version removed:
/// `listCoreV1NamespacedPod` with tag prefix `CoreV1` → `list_namespaced_pod`.
pub fn snake(word: &str) -> String {
    unreserve(fold_acronym_plurals(word).to_snake_case())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names() {
        assert_eq!(field_name("externalIPs"), "external_ips");
        assert_eq!(field_name("podCIDRs"), "pod_cidrs");
        assert_eq!(field_name("targetWWNs"), "target_wwns");
        assert_eq!(field_name("ipFamilies"), "ip_families");
        assert_eq!(field_name("IPFamilies"), "ip_families");
        assert_eq!(field_name("hostIP"), "host_ip");
        assert_eq!(field_name("apiVersion"), "api_version");
        assert_eq!(field_name("type"), "type_");
        assert_eq!(field_name("continue"), "continue_");
        assert_eq!(field_name("$ref"), "ref_");
        assert_eq!(field_name("$schema"), "schema");
        assert_eq!(
            field_name("x-kubernetes-int-or-string"),
            "x_kubernetes_int_or_string"
        );
        assert_eq!(field_name("enum"), "enum_");
        assert_eq!(field_name("readOnly"), "read_only");
    }

    #[test]
    fn module_and_type_names() {
        assert_eq!(module_segment("cert-manager"), "cert_manager");
        assert_eq!(
            module_segment("apiextensions-apiserver"),
            "apiextensions_apiserver"
        );
        assert_eq!(module_segment("type"), "type_");
        assert_eq!(type_name("APIGroupList"), "APIGroupList");
        assert_eq!(type_name("JSON"), "JSON");
        assert_eq!(type_name("foo-bar"), "FooBar");
    }
}
