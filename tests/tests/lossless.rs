//! A decoded-then-encoded object carries exactly what the server sent: nothing invented (zero
//! times, empty reference names, number spellings) and nothing dropped (members this version does
//! not know).

use kuber_models::api::core::v1::Pod;
use kuber_models::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use kuber_models::apimachinery::pkg::apis::meta::v1::Condition;
use kuber_models::special::RawJson;
use serde_json::{Value, json};

fn reencode<T: serde::Serialize + serde::de::DeserializeOwned>(text: &str) -> Value {
    let typed: T = serde_json::from_str(text).expect("decodes");
    serde_json::to_value(&typed).expect("encodes")
}

#[test]
fn missing_or_null_required_time_stays_null() {
    // `lastTransitionTime` is required: it used to come back as 1970-01-01T00:00:00Z.
    for text in [
        r#"{"type":"Ready","status":"True","reason":"R","message":"","lastTransitionTime":null}"#,
        r#"{"type":"Ready","status":"True","reason":"R","message":""}"#,
    ] {
        let back = reencode::<Condition>(text);
        assert_eq!(back["lastTransitionTime"], Value::Null, "{back}");
    }
}

#[test]
fn empty_references_gain_no_name() {
    let text = r#"{"spec":{"containers":[],"imagePullSecrets":[{}],"volumes":[{"name":"v","configMap":{}}]}}"#;
    let back = reencode::<Pod>(text);
    assert_eq!(back["spec"]["imagePullSecrets"], json!([{}]));
    assert_eq!(back["spec"]["volumes"][0]["configMap"], json!({}));
    // An explicit empty name is kept too.
    let back = reencode::<Pod>(r#"{"spec":{"containers":[],"imagePullSecrets":[{"name":""}]}}"#);
    assert_eq!(back["spec"]["imagePullSecrets"], json!([{"name": ""}]));
}

#[test]
fn numbers_keep_their_text() {
    let text = r#"{"maximum":1e3,"minimum":1.0,"multipleOf":12345678901234567891}"#;
    let typed: JSONSchemaProps = serde_json::from_str(text).unwrap();
    assert_eq!(serde_json::to_string(&typed).unwrap(), text);
    // Integers beyond 2^53 in int64 fields.
    let big = r#"{"metadata":{"generation":9007199254740993},"spec":{"activeDeadlineSeconds":9223372036854775807,"containers":[]}}"#;
    let pod: Pod = serde_json::from_str(big).unwrap();
    assert_eq!(serde_json::to_string(&pod).unwrap(), big);
}

#[test]
fn unknown_members_survive_a_read_modify_write() {
    // As a newer server would answer: members at the top, in nested structs and in list items.
    let text = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","futureMeta":"m"},"spec":{"containers":[{"name":"c","image":"i","futureContainer":{"a":[1,null]}}],"futureSpec":null},"futureTop":1.50}"#;
    let mut pod: Pod = serde_json::from_str(text).unwrap();
    assert_eq!(
        pod.unknown_fields.get("futureTop").map(RawJson::as_str),
        Some("1.50")
    );
    pod.metadata
        .get_or_insert_default()
        .labels
        .get_or_insert_default()
        .insert("changed".into(), "yes".into());
    let back = serde_json::to_value(&pod).unwrap();
    let mut expected: Value = serde_json::from_str(text).unwrap();
    expected["metadata"]["labels"] = json!({"changed": "yes"});
    assert_eq!(back, expected);
    // A removed member is not written.
    pod.unknown_fields.remove("futureTop");
    assert!(
        serde_json::to_value(&pod)
            .unwrap()
            .get("futureTop")
            .is_none()
    );
}
