use super::*;

fn key_err(key: &str) -> SelectorError {
    Selector::new().exists(key).build().unwrap_err()
}

#[test]
fn every_operator_renders_as_the_server_parses_it() {
    let cases: [(Selector, &str); 9] = [
        (Selector::new().eq("app", "web"), "app=web"),
        (Selector::new().eq2("app", "web"), "app==web"),
        (Selector::new().ne("app", "web"), "app!=web"),
        (Selector::new().in_("env", ["qa", "dev"]), "env in (qa,dev)"),
        (Selector::new().not_in("env", ["prod"]), "env notin (prod)"),
        (Selector::new().exists("app"), "app"),
        (Selector::new().not_exists("app"), "!app"),
        (Selector::new().gt("gen", 3), "gen>3"),
        (Selector::new().lt("gen", 10), "gen<10"),
    ];
    for (selector, expected) in cases {
        assert_eq!(selector.build().as_deref(), Ok(expected));
    }
}

#[test]
fn requirements_keep_the_order_added_and_values_their_order() {
    let s = Selector::new()
        .not_exists("z")
        .in_("b", ["y", "x", "y"])
        .eq("a", "");
    assert_eq!(s.build().unwrap(), "!z,b in (y,x,y),a=");
}

#[test]
fn prefixed_keys_and_edge_length_names_are_accepted() {
    let name63 = "a".repeat(63);
    let prefix253 = format!("{}.{}", "a".repeat(126), "b".repeat(126));
    assert_eq!(prefix253.len(), 253);
    for key in [
        "app.kubernetes.io/name".to_owned(),
        "example.com/A_b.c-D".to_owned(),
        name63.clone(),
        format!("{prefix253}/{name63}"),
        "x".to_owned(),
        "1-2".to_owned(),
    ] {
        assert_eq!(Selector::new().exists(&key).build(), Ok(key.clone()));
    }
    assert!(Selector::new().eq("a", &name63).build().is_ok());
}

#[test]
fn bad_keys_name_the_key_and_the_rule() {
    for key in [
        "",
        "-app",
        "app-",
        "a b",
        "a=b",
        "a!b",
        &"a".repeat(64),
        "/app",
        "a/b/c",
        "Example.com/app",
        "exa_mple.com/app",
        "example..com/app",
        "example.com/",
        &format!("{}/app", "a".repeat(254)),
    ] {
        let err = key_err(key);
        match &err {
            SelectorError::InvalidKey { key: k, rule } => {
                assert_eq!(k, key);
                assert!(!rule.is_empty());
            }
            other => panic!("{key:?}: {other:?}"),
        }
        assert!(err.to_string().contains(&format!("{key:?}")), "{err}");
    }
    assert!(key_err("/app").to_string().contains("prefix"));
    assert!(key_err("a/b/c").to_string().contains("one '/'"));
}

#[test]
fn bad_values_name_key_value_and_rule() {
    for value in ["-a", "a-", "a b", "a,b", "a)", &"v".repeat(64), "é"] {
        let err = Selector::new().eq("app", value).build().unwrap_err();
        assert_eq!(
            err,
            SelectorError::InvalidValue {
                key: "app".into(),
                value: value.into(),
                rule: VALUE_RULE.into()
            }
        );
        let err = Selector::new()
            .in_("app", ["ok", value])
            .build()
            .unwrap_err();
        assert!(matches!(err, SelectorError::InvalidValue { value: ref v, .. } if v == value));
    }
}

#[test]
fn set_operators_need_a_value() {
    for s in [
        Selector::new().in_("app", [""; 0]),
        Selector::new().not_in("app", [""; 0]),
    ] {
        let err = s.build().unwrap_err();
        assert!(matches!(err, SelectorError::EmptyValues { ref key, .. } if key == "app"));
        assert!(err.to_string().contains("at least one value"), "{err}");
    }
}

#[test]
fn value_counts_are_checked() {
    let err = Requirement::new("app", Op::Eq, ["a", "b"]).unwrap_err();
    assert_eq!(
        err,
        SelectorError::ValueCount {
            key: "app".into(),
            op: Op::Eq,
            expected: 1,
            got: 2
        }
    );
    let err = Requirement::new("app", Op::Exists, ["a"]).unwrap_err();
    assert!(matches!(
        err,
        SelectorError::ValueCount {
            expected: 0,
            got: 1,
            ..
        }
    ));
    let err = Requirement::new("app", Op::DoesNotExist, ["a"]).unwrap_err();
    assert!(matches!(
        err,
        SelectorError::ValueCount {
            expected: 0,
            got: 1,
            ..
        }
    ));
    assert!(Requirement::new("app", Op::NotEq, [""; 0]).is_err());
}

#[test]
fn gt_lt_take_a_non_negative_integer() {
    assert!(Requirement::new("gen", Op::Gt, ["x"]).is_err());
    assert!(Requirement::new("gen", Op::Lt, ["1.5"]).is_err());
    // The server checks the number as a label value too: no leading '-'.
    assert!(Selector::new().gt("gen", -1).build().is_err());
    assert_eq!(Selector::new().lt("gen", 0).build().unwrap(), "gen<0");
}

#[test]
fn operators_parse_from_their_symbols_and_kuber_jl_names() {
    for (text, op) in [
        ("=", Op::Eq),
        ("==", Op::DoubleEq),
        ("!=", Op::NotEq),
        ("in", Op::In),
        ("notin", Op::NotIn),
        ("exists", Op::Exists),
        ("!", Op::DoesNotExist),
        (">", Op::Gt),
        ("<", Op::Lt),
    ] {
        assert_eq!(text.parse::<Op>(), Ok(op));
    }
    // Kuber.jl passes any symbol through (`l like (a)`); here it is an error.
    for text in ["like", "IN", "", "=~"] {
        assert_eq!(
            text.parse::<Op>(),
            Err(SelectorError::UnknownOperator(text.into()))
        );
    }
}

/// Kuber.jl's `sel` strings (src/simpleapi.jl), reproduced.
#[test]
fn kuber_jl_strings() {
    // sel("l", :exists) == "l"
    assert_eq!(sel("l", Op::Exists, [""; 0]).unwrap(), "l");
    // sel("l", :in, "a", "b") == "l in (a,b)"
    assert_eq!(sel("l", Op::In, ["a", "b"]).unwrap(), "l in (a,b)");
    // sel("l", :notin, "a") == "l notin (a)"
    assert_eq!(sel("l", Op::NotIn, ["a"]).unwrap(), "l notin (a)");
    // sel("a", "b in (x)") == "a, b in (x)"
    assert_eq!(join(["a", "b in (x)"]), "a, b in (x)");
    assert_eq!(join(["only"]), "only");
    assert_eq!(join([""; 0]), "");
    // What Kuber.jl leaves to raw strings.
    assert_eq!(sel("l", Op::Eq, ["v"]).unwrap(), "l=v");
    assert_eq!(sel("l", Op::NotEq, ["v"]).unwrap(), "l!=v");
    assert_eq!(sel("l", Op::DoesNotExist, [""; 0]).unwrap(), "!l");
    // What Kuber.jl gets wrong: "l in ()" and "l exists (a)" reach the server.
    assert!(sel("l", Op::In, [""; 0]).is_err());
    assert!(sel("l", Op::Exists, ["a"]).is_err());
}

#[test]
fn selector_from_requirements() {
    let s: Selector = [
        Requirement::new("a", Op::Exists, [""; 0]).unwrap(),
        Requirement::new("b", Op::NotEq, ["c"]).unwrap(),
    ]
    .into_iter()
    .collect();
    assert_eq!(s.build().unwrap(), "a,b!=c");
    assert_eq!(s.requirements()[1].values(), ["c"]);
}

#[test]
fn field_selectors_render_and_escape() {
    let s = FieldSelector::new()
        .eq("metadata.name", "web")
        .eq2("metadata.namespace", "ns")
        .ne("status.phase", "Running");
    assert_eq!(
        s.build().unwrap(),
        "metadata.name=web,metadata.namespace==ns,status.phase!=Running"
    );
    let s = FieldSelector::new().eq("metadata.name", r"a,b=c\d!e");
    assert_eq!(s.build().unwrap(), r"metadata.name=a\,b\=c\\d!e");
    assert_eq!(
        FieldSelector::new()
            .ne("spec.nodeName", "")
            .build()
            .unwrap(),
        "spec.nodeName!="
    );
}

#[test]
fn bad_field_keys_and_operators() {
    for key in ["", "a=b", "a!b", "a,b", r"a\b", "a b", " a"] {
        let err = FieldSelector::new().eq(key, "x").build().unwrap_err();
        assert!(
            matches!(err, SelectorError::InvalidFieldKey { key: ref k, .. } if k == key),
            "{key:?}: {err:?}"
        );
    }
    for op in [
        Op::In,
        Op::NotIn,
        Op::Exists,
        Op::DoesNotExist,
        Op::Gt,
        Op::Lt,
    ] {
        let err = FieldSelector::new()
            .term("metadata.name", op, "x")
            .build()
            .unwrap_err();
        assert_eq!(
            err,
            SelectorError::InvalidFieldOperator {
                key: "metadata.name".into(),
                op
            }
        );
    }
}
