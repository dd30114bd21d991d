//! The name rules of Kubernetes, as `k8s.io/apimachinery/pkg/util/validation` states them: the
//! names objects, label keys and label values may have. One copy, used by [`crate::sel`] and
//! by kuber-testserver's checks of what it stores.
//!
//! ```
//! use kuber::names;
//!
//! assert!(names::is_dns1123_subdomain("web.example.com"));
//! assert!(!names::is_dns1123_label("web.example.com")); // no dots in a label
//! assert!(names::is_qualified_name("app.kubernetes.io/name"));
//! assert!(names::is_label_value("") && names::is_label_value("My_Value-1.0"));
//! ```

/// Longest DNS-1123 label (RFC 1123).
pub const DNS1123_LABEL_MAX: usize = 63;
/// Longest DNS-1123 subdomain (RFC 1123); its dot-separated parts have no limit of their own.
pub const DNS1123_SUBDOMAIN_MAX: usize = 253;
/// Longest DNS-1035 label (RFC 1035).
pub const DNS1035_LABEL_MAX: usize = 63;
/// Longest label value.
pub const LABEL_VALUE_MAX: usize = 63;
/// Longest name part of a qualified name (after the optional `prefix/`).
pub const QUALIFIED_NAME_MAX: usize = 63;

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters: names that become hostnames
/// (namespaces, services).
pub fn is_dns1123_label(s: &str) -> bool {
    s.len() <= DNS1123_LABEL_MAX && dns1123_label_form(s)
}

/// DNS-1123 labels joined by dots, at most 253 characters: most objects' names, and the prefix
/// of a qualified name.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= DNS1123_SUBDOMAIN_MAX && s.split('.').all(dns1123_label_form)
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters: a DNS-1123 label starting with a letter
/// (a service's name, a port's).
pub fn is_dns1035_label(s: &str) -> bool {
    s.len() <= DNS1035_LABEL_MAX
        && s.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && dns1123_label_form(s)
}

/// Empty, or `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?` of at most 63 characters.
pub fn is_label_value(s: &str) -> bool {
    s.is_empty() || (s.len() <= LABEL_VALUE_MAX && qualified_form(s))
}

/// `[prefix/]name`: a label or annotation key. The prefix is a DNS-1123 subdomain; the name is
/// 1 to 63 of `[A-Za-z0-9_.-]`, starting and ending with a letter or digit.
pub fn is_qualified_name(s: &str) -> bool {
    let name = match s.split_once('/') {
        None => s,
        Some((prefix, name)) => {
            if prefix.is_empty() || !is_dns1123_subdomain(prefix) {
                return false;
            }
            name
        }
    };
    !name.is_empty() && name.len() <= QUALIFIED_NAME_MAX && qualified_form(name)
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, of any length.
fn dns1123_label_form(s: &str) -> bool {
    let lower_alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    edges_and_inside(s, lower_alnum, |c| lower_alnum(c) || *c == b'-')
}

/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, of any length.
fn qualified_form(s: &str) -> bool {
    edges_and_inside(s, u8::is_ascii_alphanumeric, |c| {
        c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')
    })
}

/// Non-empty, first and last bytes `edge`, every byte `inside`.
fn edges_and_inside(s: &str, edge: impl Fn(&u8) -> bool, inside: impl Fn(&u8) -> bool) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => edge(first) && edge(last) && b.iter().all(inside),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every word of `good` passes `rule`; no word of `bad`, nor any of `blanks`, does.
    fn check(rule: fn(&str) -> bool, good: &str, bad: &str) {
        let blanks = [" ", "a ", " a", "a b", "1 ", " 1", "1 2", "\t", "a\n"];
        for s in good.split_whitespace() {
            assert!(rule(s), "{s:?} should pass");
        }
        for s in bad.split_whitespace().chain(blanks).chain([""]) {
            assert!(!rule(s), "{s:?} should fail");
        }
    }

    // Kubernetes' own cases (validation_test.go), and the lengths either side of each limit.
    const LABELS: &str = "a ab abc a1 a-1 a--1--2--b 0 01 012 1a 1-a";
    const NOT_LABELS: &str = "A ABC aBc A1 A-1 1-A - a- -a 1- -1 _ a_ _a a_b 1_ _1 1_2 \
                              . a. .a 1. .1 é a@b a,b a;b a:b a%b a?b a$b a/b";

    #[test]
    fn dns1123_labels() {
        check(is_dns1123_label, LABELS, NOT_LABELS);
        check(is_dns1123_label, "", "a.b 1.2 my.name");
        assert!(is_dns1123_label(&"a".repeat(63)));
        assert!(!is_dns1123_label(&"a".repeat(64)));
    }

    #[test]
    fn dns1123_subdomains() {
        check(is_dns1123_subdomain, LABELS, NOT_LABELS);
        let good = "a.a ab.a abc.a a1.a a-1.a a--1--2--b.a a.1 ab.1 a--1--2--b.1 0.a 01.a 1a.a \
                    1-a.a 0.1 012.1 1-a.1 a.b.c.d.e example.com";
        let bad = "a..b 1..2 A.a aB.a ab.A A1.a a1.A A.1 1A.1 0.A 1a.A A.B.C.D.E a.B.c.d.e \
                   -a.b a-.b a.-b a.b- a_b.c";
        check(is_dns1123_subdomain, good, bad);
        // 253 bounds the whole; a part may be longer than a label's 63.
        let max = format!("{}.{}", "a".repeat(126), "b".repeat(126));
        assert_eq!(max.len(), 253);
        assert!(is_dns1123_subdomain(&max));
        assert!(!is_dns1123_subdomain(&format!("{max}c")));
    }

    #[test]
    fn dns1035_labels() {
        check(is_dns1035_label, "a ab abc a1 a-1 a--1--2--b", NOT_LABELS);
        check(is_dns1035_label, "", "0 01 012 1a 1-a a.b");
        assert!(is_dns1035_label(&"a".repeat(63)));
        assert!(!is_dns1035_label(&"a".repeat(64)));
    }

    #[test]
    fn label_values() {
        let good = "simple now-with-dashes 1-starts-with-num end-with-num-1 1234 A.B.C a_b_c \
                    MixedCase Uppercase_Is_OK_123 01.a";
        let bad = "nospecialchars%^=@ Tama-nui-te-rā.is.Māori.sun \\backslashes\\are\\bad \
                   -starts-with-dash ends-with-dash- .starts.with.dot ends.with.dot. a/b _a a_";
        // The empty value is a value (`check` refuses it: it is checked apart).
        let without_empty = |s: &str| !s.is_empty() && is_label_value(s);
        check(without_empty, good, bad);
        assert!(is_label_value(""));
        assert!(is_label_value(&"a".repeat(63)));
        assert!(!is_label_value(&"a".repeat(64)));
    }

    #[test]
    fn qualified_names() {
        let good = "simple now-with-dashes 1-starts-with-num 1234 simple/simple \
                    now-with-dashes/simple now-with-dashes/now-with-dashes now.with.dots/simple \
                    now-with.dashes-and.dots/simple 1-num.2-num/3-num 1234/5678 1.2.3.4/5678 \
                    Uppercase_Is_OK_123 example.com/Uppercase_Is_OK_123 requests.storage-foo a.b";
        let bad = "nospecialchars%^=@ cantendwithadash- -cantstartwithadash- only/one/slash \
                   Example.com/abc example_com/abc example.com/ /simple a/ /a a//b";
        check(is_qualified_name, good, bad);
        let name63 = "a".repeat(63);
        let prefix253 = format!("{}.{}", "a".repeat(126), "b".repeat(126));
        assert!(is_qualified_name(&name63));
        assert!(is_qualified_name(&format!("{prefix253}/{name63}")));
        assert!(!is_qualified_name(&"a".repeat(64)));
        assert!(!is_qualified_name(&format!("{prefix253}c/{name63}")));
        assert!(!is_qualified_name(&format!("{prefix253}/{name63}b")));
    }
}
