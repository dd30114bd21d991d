//! The protobuf corpus recorded from the real 1.36.3 control plane
//! (`kuber-models/tests/proto-corpus/record.sh`): each body decodes to the value its JSON read
//! decodes to and encodes back to the server's bytes, the watch stream's frames too; and every
//! truncation and byte change of those bodies decodes to a value or to an error naming where,
//! never a panic.

use kuber_models::proto;
use kuber_tests::protobuf::{check_folder, corpus_dir};

#[test]
fn recorded_bodies_read_as_their_json_and_re_encode_exactly() {
    let checked = check_folder(&corpus_dir()).unwrap();
    assert!(
        checked.failures.is_empty(),
        "{}",
        checked.failures.join("\n\n")
    );
    assert_eq!(checked.bodies, 12, "{checked:?}");
    assert_eq!(checked.watch_frames, 3, "{checked:?}");
}

/// Decodes a whole body as its envelope's type; `Err` carries the error's text.
fn decode(body: &[u8]) -> Result<(), String> {
    kuber_tests::protobuf::to_json(body).map(drop)
}

#[test]
fn mutated_recorded_bodies_are_errors_naming_the_field_never_panics() {
    let (mut errors, mut named) = (0, 0);
    for name in [
        "pod",
        "deployment",
        "node",
        "crd",
        "configmap-list",
        "status-404",
    ] {
        let body = std::fs::read(corpus_dir().join(format!("{name}.pb"))).unwrap();
        decode(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let env = proto::decode_envelope(&body).unwrap();
        let raw = env.raw;
        // The object's message cut at every 7th byte, and bytes made into other wire types
        // and into huge lengths, each in an envelope of the right length, so that the
        // object's own decoding meets them.
        let mut variants: Vec<Vec<u8>> = Vec::new();
        for cut in (0..raw.len()).step_by(7) {
            variants.push(proto::encode_envelope(
                env.api_version,
                env.kind,
                &raw[..cut],
            ));
        }
        for at in (0..raw.len()).step_by(5) {
            for byte in [0xff, 0x07, 0x05] {
                let mut changed = raw.to_vec();
                changed[at] = byte;
                variants.push(proto::encode_envelope(env.api_version, env.kind, &changed));
            }
        }
        for variant in &variants {
            let outcome = std::panic::catch_unwind(|| decode(variant));
            let outcome = outcome.unwrap_or_else(|_| panic!("{name}: a mutated body panicked"));
            if let Err(e) = outcome {
                if errors % 400 == 0 {
                    println!("{name}: {e}");
                }
                errors += 1;
                // The path names the type at least, and a field below it for most.
                let root = format!("{}.", env.kind);
                assert!(e.contains("io.k8s.") && e.contains(env.kind), "{name}: {e}");
                named += usize::from(e.split(&root).nth(1).is_some_and(|f| !f.is_empty()));
            }
        }
    }
    assert!(errors > 500, "{errors} mutated bodies were errors");
    assert!(
        named * 10 > errors * 9,
        "{named} of {errors} errors name a field"
    );
    println!("{errors} mutated bodies refused, {named} naming a field");
}
