//! The verb script, the same for every kind of the table.

use std::sync::Mutex;

use kuber::{Context as Ctx, Deleted, Error, Patch};
use serde_json::{Value, json};

use super::kinds::{Row, Status, object, object_value, yaml};
use super::objects::{
    Kind, deleted, gone, kubectl_resource, label_of, namespaced, sorted_names, to_value, uid_of,
};
use super::steps::Steps;
use crate::support::{Context, E2e, Outcome, ensure};

/// The verb script, the same for every kind.
pub(super) async fn script<K: Kind>(e2e: &E2e, row: &Row, other_ns: &str) -> Outcome {
    let group_tag = if K::GROUP.is_empty() {
        "core"
    } else {
        K::GROUP.split('.').next().unwrap_or("g")
    };
    let slug = format!(
        "{}-{}",
        &K::PLURAL[..K::PLURAL.len().min(18)],
        &group_tag[..group_tag.len().min(6)]
    );
    let pid = std::process::id() % 10_000;
    let base = format!("fc-{slug}-{pid}");
    let ns = if namespaced::<K>() {
        e2e.namespace(&format!("fc-{slug}")).await?
    } else {
        // Cluster-scoped: the context's namespace must not matter.
        "no-such-namespace".to_owned()
    };
    let mut ctx = Ctx::from_client(e2e.admin.clone());
    ctx.set_ns(ns.clone());
    let ctx = ctx;
    let tag = format!("{slug}-{pid}");
    let sel = format!("facade={tag}");
    let [a, b, c, d] = ["a", "b", "c", "d"].map(|s| format!("{base}-{s}"));
    let labels = [("facade", tag.as_str())];
    let k = row.kind_name;
    let mut steps = Steps::new();
    Steps::covered(K::KIND, K::GROUP);

    // put (typed create), checked through kubectl.
    let created_uid = Mutex::new(None::<String>);
    steps
        .run(format!("{k}/put"), async {
            let obj: K = object(row, &a, &ns, &labels)?;
            let created = ctx.put(&obj).await.context("put")?;
            ensure(created.name() == Some(a.as_str()), || {
                format!("put answered {:?}", created.name())
            })?;
            let uid = uid_of(&created).ok_or("no uid in the answer")?;
            let mut args = vec!["get", "", &a, "-o", "jsonpath={.metadata.uid}"];
            let resource = kubectl_resource::<K>();
            args[1] = &resource;
            if namespaced::<K>() {
                args.extend(["-n", &ns]);
            }
            let seen = e2e.kubectl_ok(&args)?;
            ensure(seen.trim() == uid, || {
                format!("kubectl sees uid {seen}, put answered {uid}")
            })?;
            *created_uid.lock().unwrap() = Some(uid);
            Ok(())
        })
        .await;
    let uid = created_uid.lock().unwrap().clone().unwrap_or_default();

    steps
        .run(format!("{k}/put-already-exists"), async {
            let obj: K = object(row, &a, &ns, &labels)?;
            match ctx.put(&obj).await {
                Err(e) if e.is_already_exists() => Ok(()),
                other => Err(format!("second put: {:?}", other.map(|o| uid_of(&o)))),
            }
        })
        .await;

    steps
        .run(format!("{k}/put_text-yaml"), async {
            let text = yaml(&object_value::<K>(row, &b, &ns, &labels)?);
            let created = ctx
                .put_text(&text)
                .await
                .context(format!("put_text of\n{text}"))?;
            ensure(
                created.kind() == K::KIND && created.name() == Some(b.as_str()),
                || format!("put_text answered {} {:?}", created.kind(), created.name()),
            )?;
            let read = ctx.get::<K>(&b).await.context("get after put_text")?;
            ensure(uid_of(&read) == uid_of(&created), || "uid differs".into())
        })
        .await;

    steps
        .run(format!("{k}/get"), async {
            let read = ctx.get::<K>(&a).await.context("get")?;
            ensure(uid_of(&read).as_deref() == Some(uid.as_str()), || {
                format!("get answered uid {:?}, want {uid}", uid_of(&read))
            })
        })
        .await;

    for name in [row.kind_name, row.alias] {
        steps
            .run(format!("{k}/get_kind `{name}`"), async {
                let obj = ctx.get_kind(name, a.as_str()).await.context("get_kind")?;
                ensure(
                    obj.kind() == K::KIND && obj.api_version() == K::API_VERSION,
                    || format!("answered {} {}", obj.api_version(), obj.kind()),
                )?;
                ensure(obj.is::<K>(), || "Object::is is false".into())?;
                let typed: K = obj.downcast().context("downcast")?;
                ensure(uid_of(&typed).as_deref() == Some(uid.as_str()), || {
                    "another uid".into()
                })
            })
            .await;
    }

    let want = vec![a.clone(), b.clone()];
    steps
        .run(format!("{k}/list-label-selector"), async {
            let list = ctx.list::<K>().labels(sel.as_str()).await.context("list")?;
            ensure(sorted_names(&list.items) == want, || {
                format!("listed {:?}", sorted_names(&list.items))
            })?;
            ensure(list.resource_version().is_some(), || {
                "no list resourceVersion".into()
            })
        })
        .await;

    steps
        .run(format!("{k}/list_kind"), async {
            let list = ctx
                .list_kind(row.kind_name)
                .labels(sel.as_str())
                .await
                .context("list_kind")?;
            ensure(sorted_names(&list.items) == want, || {
                format!("listed {:?}", sorted_names(&list.items))
            })?;
            for item in &list.items {
                ensure(item.kind() == K::KIND && item.is::<K>(), || {
                    format!(
                        "list_kind item is `{}` `{}`, not a {}",
                        item.api_version(),
                        item.kind(),
                        K::KIND
                    )
                })?;
                item.downcast::<K>().context("downcast of an item")?;
            }
            Ok(())
        })
        .await;

    steps
        .run(format!("{k}/get_kind-without-name-is-the-list"), async {
            let list = ctx
                .get_kind(row.kind_name, None)
                .await
                .context("get_kind None")?;
            ensure(list.kind() == format!("{}List", K::KIND), || {
                format!("answered a {}", list.kind())
            })?;
            let items = list.items().ok_or("no items")?.context("items")?;
            let names = sorted_names(&items);
            ensure(want.iter().all(|n| names.contains(n)), || {
                format!("items {names:?}")
            })?;
            for item in &items {
                item.downcast::<K>().context("downcast of an item")?;
            }
            Ok(())
        })
        .await;

    steps
        .run(format!("{k}/update_object-replace_object"), async {
            let obj = ctx
                .get_kind(row.kind_name, b.as_str())
                .await
                .context("get_kind")?;
            let patch = Patch::Merge(json!({"metadata": {"labels": {"object": "1"}}}));
            ctx.update_object(&obj, patch)
                .await
                .context("update_object")?;
            let read = ctx.get::<K>(&b).await.context("read back")?;
            ensure(label_of(&read, "object").as_deref() == Some("1"), || {
                "label not set".into()
            })?;
            // `obj` is now stale.
            match ctx.replace_object(&obj).await {
                Err(e) if e.is_conflict() => {}
                other => {
                    return Err(format!(
                        "stale replace_object: {:?}",
                        other.map(|o| o.resource_version().map(str::to_owned))
                    ));
                }
            }
            let fresh = ctx
                .get_kind(row.kind_name, b.as_str())
                .await
                .context("get_kind")?;
            let replaced = ctx.replace_object(&fresh).await.context("replace_object")?;
            ensure(
                replaced.kind() == K::KIND && replaced.name() == Some(b.as_str()),
                || {
                    format!(
                        "replace_object answered {} {:?}",
                        replaced.kind(),
                        replaced.name()
                    )
                },
            )
        })
        .await;

    if namespaced::<K>() {
        steps
            .run(format!("{k}/namespace-from-metadata-and-star"), async {
                let obj: K = object(row, &c, other_ns, &labels)?;
                let created = ctx.put(&obj).await.context("put into metadata.namespace")?;
                ensure(created.namespace() == Some(other_ns), || {
                    format!("created in {:?}", created.namespace())
                })?;
                ctx.get::<K>(&c)
                    .namespace(other_ns)
                    .await
                    .context("get in the other namespace")?;
                match ctx.get::<K>(&c).await {
                    Err(e) if e.is_not_found() => {}
                    other => {
                        return Err(format!(
                            "{c} in the context's namespace: {:?}",
                            other.is_ok()
                        ));
                    }
                }
                let all = ctx
                    .list::<K>()
                    .all_namespaces()
                    .labels(sel.as_str())
                    .await
                    .context("list *")?;
                let want_all = vec![a.clone(), b.clone(), c.clone()];
                ensure(sorted_names(&all.items) == want_all, || {
                    format!("list * gave {:?}", sorted_names(&all.items))
                })?;
                let mut star = ctx.clone();
                star.set_ns("*");
                let all = star
                    .list_kind(row.kind_name)
                    .labels(sel.as_str())
                    .await
                    .context("list_kind with ns *")?;
                ensure(sorted_names(&all.items) == want_all, || {
                    format!("ctx ns * gave {:?}", sorted_names(&all.items))
                })?;
                let del = ctx
                    .delete::<K>(&c)
                    .namespace(other_ns)
                    .await
                    .context("delete in other ns")?;
                deleted(&del, &c)
            })
            .await;
    } else {
        steps
            .run(format!("{k}/cluster-scoped-ignores-namespace"), async {
                ctx.get::<K>(&a)
                    .namespace("another-namespace")
                    .await
                    .context("get with a namespace")?;
                let list = ctx
                    .list::<K>()
                    .namespace("another-namespace")
                    .labels(sel.as_str())
                    .await
                    .context("list with a namespace")?;
                ensure(sorted_names(&list.items) == want, || {
                    format!("listed {:?}", sorted_names(&list.items))
                })
            })
            .await;
    }

    // Patches of each type, read back.
    let patches: Vec<(&str, &str, kuber::PatchBody)> = vec![
        (
            "update-merge",
            "merge",
            Patch::Merge(json!({"metadata": {"labels": {"merge": "1"}}})).into(),
        ),
        (
            "update-json",
            "json",
            Patch::Json(json!([{"op": "add", "path": "/metadata/labels/json", "value": "1"}]))
                .into(),
        ),
        (
            "update-strategic",
            "strategic",
            Patch::Strategic(json!({"metadata": {"labels": {"strategic": "1"}}})).into(),
        ),
    ];
    for (step, label, patch) in patches {
        steps
            .run(format!("{k}/{step}"), async {
                let answer = ctx.update::<K>(&a, patch).await.context(step)?;
                ensure(answer.name() == Some(a.as_str()), || {
                    "answered another object".into()
                })?;
                let read = ctx.get::<K>(&a).await.context("read back")?;
                ensure(label_of(&read, label).as_deref() == Some("1"), || {
                    format!("label {label} not set after {step}")
                })
            })
            .await;
    }
    steps
        .run(format!("{k}/update_kind"), async {
            let patch = Patch::Merge(json!({"metadata": {"labels": {"bykind": "1"}}}));
            let answer = ctx
                .update_kind(row.kind_name, &a, patch)
                .await
                .context("update_kind")?;
            ensure(answer.kind() == K::KIND, || {
                format!("answered {}", answer.kind())
            })?;
            let read = ctx.get::<K>(&a).await.context("read back")?;
            ensure(label_of(&read, "bykind").as_deref() == Some("1"), || {
                "label not set".into()
            })
        })
        .await;

    steps
        .run(format!("{k}/apply-conflict-force"), async {
            // m1 takes the fields (the server defaulted some of them as `kuber`, the create's
            // manager), then applies the same again without force.
            let mine: K = object(row, &a, &ns, &[("facade", &tag), ("owner", "m1")])?;
            ctx.apply(&mine, "facade-m1")
                .force()
                .await
                .context("apply as m1")?;
            ctx.apply(&mine, "facade-m1")
                .await
                .context("apply again as m1")?;
            let theirs: K = object(row, &a, &ns, &[("facade", &tag), ("owner", "m2")])?;
            match ctx.apply(&theirs, "facade-m2").await {
                Err(e) if e.is_conflict() => {}
                other => {
                    return Err(format!(
                        "m2 without force: {:?}",
                        other.map(|o| label_of(&o, "owner"))
                    ));
                }
            }
            ctx.apply(&theirs, "facade-m2")
                .force()
                .await
                .context("forced apply")?;
            let read = ctx.get::<K>(&a).await.context("read back")?;
            ensure(label_of(&read, "owner").as_deref() == Some("m2"), || {
                format!("owner is {:?}", label_of(&read, "owner"))
            })
        })
        .await;

    steps
        .run(format!("{k}/replace-stale-conflict"), async {
            let stale = ctx.get::<K>(&a).await.context("get")?;
            ctx.update::<K>(
                &a,
                Patch::Merge(json!({"metadata": {"labels": {"bump": "1"}}})),
            )
            .await
            .context("bump")?;
            match ctx.replace(&stale).await {
                Err(e) if e.is_conflict() => {}
                other => {
                    return Err(format!(
                        "stale replace: {:?}",
                        other.map(|o| o.resource_version().map(str::to_owned))
                    ));
                }
            }
            let mut fresh = ctx.get::<K>(&a).await.context("get")?;
            fresh
                .metadata_mut()
                .labels
                .get_or_insert_default()
                .insert("replaced".into(), "1".into());
            ctx.replace(&fresh).await.context("replace")?;
            let read = ctx.get::<K>(&a).await.context("read back")?;
            ensure(label_of(&read, "replaced").as_deref() == Some("1"), || {
                "replace lost".into()
            })
        })
        .await;

    steps
        .run(format!("{k}/dry_run-stores-nothing"), async {
            let obj: K = object(row, &d, &ns, &labels)?;
            let answer = ctx.put(&obj).dry_run().await.context("dry-run put")?;
            ensure(answer.name() == Some(d.as_str()), || {
                "dry run answered another".into()
            })?;
            match ctx.get::<K>(&d).await {
                Err(e) if e.is_not_found() => Ok(()),
                other => Err(format!("after a dry run: {:?}", other.map(|o| uid_of(&o)))),
            }
        })
        .await;

    steps
        .run(format!("{k}/delete-dry_run-and-preconditions"), async {
            let answer = ctx
                .delete::<K>(&a)
                .dry_run()
                .await
                .context("dry-run delete")?;
            deleted(&answer, &a)?;
            let still = ctx
                .get::<K>(&a)
                .await
                .context("get after a dry-run delete")?;
            ensure(
                still
                    .metadata()
                    .is_some_and(|m| m.deletion_timestamp.is_none()),
                || "a dry-run delete started a deletion".into(),
            )?;
            match ctx
                .delete::<K>(&a)
                .preconditions(Some("00000000-0000-0000-0000-000000000000"), None)
                .await
            {
                Err(e) if e.is_conflict() => {}
                other => return Err(format!("delete with another uid: {:?}", other.is_ok())),
            }
            ctx.get::<K>(&a)
                .await
                .map(drop)
                .context("get after a refused delete")
        })
        .await;

    match row.status {
        Status::None => {}
        Status::Read => {
            steps
                .run(format!("{k}/get_status"), async {
                    let status = ctx.get_status::<K>(&a).await.context("get_status")?;
                    ensure(uid_of(&status).as_deref() == Some(uid.as_str()), || {
                        "another object".into()
                    })
                })
                .await;
        }
        Status::Patch(patch, pointer, expected) => {
            steps
                .run(format!("{k}/update_status"), async {
                    let patch: Value = serde_json::from_str(patch).context("status patch")?;
                    let expected: Value = serde_json::from_str(expected).context("expected")?;
                    ctx.update_status::<K>(&a, Patch::Merge(patch))
                        .await
                        .context("update_status")?;
                    let read = ctx.get_status::<K>(&a).await.context("get_status")?;
                    let v = to_value(&read);
                    ensure(v.pointer(pointer) == Some(&expected), || {
                        format!("{pointer} is {:?} after update_status", v.pointer(pointer))
                    })
                })
                .await;
        }
    }

    if row.scale {
        steps
            .run(format!("{k}/scale"), async {
                let scale = ctx.scale::<K>(&a, 2).await.context("scale")?;
                ensure(
                    scale.spec.as_ref().and_then(|s| s.replicas) == Some(2),
                    || format!("scale answered {:?}", scale.spec),
                )?;
                let read = ctx.get_scale::<K>(&a).await.context("get_scale")?;
                ensure(
                    read.spec.as_ref().and_then(|s| s.replicas) == Some(2),
                    || format!("get_scale {:?}", read.spec),
                )?;
                let obj = ctx.get::<K>(&a).await.context("get")?;
                ensure(
                    to_value(&obj).pointer("/spec/replicas") == Some(&json!(2)),
                    || "spec.replicas is not 2".into(),
                )?;
                ctx.scale::<K>(&a, 0).await.map(drop).context("scale to 0")
            })
            .await;
    }

    let collection = kuber::kuber_type(K::API_VERSION, K::KIND)
        .is_some_and(|t| t.verbs().contains(&"deletecollection"));
    steps
        .run(format!("{k}/delete_collection"), async {
            let batch = format!("{tag}-del");
            let del_labels = [("facade-del", batch.as_str())];
            let del_sel = format!("facade-del={batch}");
            if !collection {
                // Refused before any request.
                match ctx.delete_collection::<K>().labels(del_sel.as_str()).await {
                    Err(Error::NoOperation { .. }) => {}
                    other => {
                        return Err(format!(
                            "delete_collection of a kind without it: {:?}",
                            other.is_ok()
                        ));
                    }
                }
                return match ctx.delete_collection_kind(row.kind_name).await {
                    Err(Error::NoOperation { .. }) => Ok(()),
                    other => Err(format!(
                        "delete_collection_kind of a kind without it: {:?}",
                        other.is_ok()
                    )),
                };
            }
            let (e1, e2, e3, e4) = (
                format!("{base}-e1"),
                format!("{base}-e2"),
                format!("{base}-e3"),
                format!("{base}-e4"),
            );
            for name in [&e1, &e2] {
                let obj: K = object(row, name, &ns, &del_labels)?;
                ctx.put(&obj).await.context("put")?;
            }
            let answer = ctx
                .delete_collection::<K>()
                .labels(del_sel.as_str())
                .await
                .context("delete_collection")?;
            // The server answers the list of what it deleted (or a Status).
            if let Deleted::Object(list) = &answer {
                ensure(
                    sorted_names(&list.items) == [e1.clone(), e2.clone()],
                    || format!("delete_collection answered {:?}", sorted_names(&list.items)),
                )?;
            }
            for name in [&e3, &e4] {
                let obj: K = object(row, name, &ns, &del_labels)?;
                ctx.put(&obj).await.context("put")?;
            }
            let answer = ctx
                .delete_collection_kind(row.kind_name)
                .labels(del_sel.as_str())
                .await
                .context("delete_collection_kind")?;
            if let Deleted::Object(list) = &answer {
                let names = sorted_names(&list.items);
                ensure(names.contains(&e3) && names.contains(&e4), || {
                    format!("delete_collection_kind answered {names:?}")
                })?;
                ensure(list.items.iter().all(|i| i.kind() == K::KIND), || {
                    "delete_collection_kind items without their kind".into()
                })?;
            }
            let left = ctx
                .list::<K>()
                .labels(del_sel.as_str())
                .await
                .context("list")?;
            ensure(
                left.items
                    .iter()
                    .all(|o| o.metadata().is_some_and(|m| m.deletion_timestamp.is_some())),
                || format!("left {:?}", sorted_names(&left.items)),
            )?;
            let kept = ctx.list::<K>().labels(sel.as_str()).await.context("list")?;
            ensure(sorted_names(&kept.items) == want, || {
                "selector deleted others".into()
            })
        })
        .await;

    steps
        .run(format!("{k}/delete"), async {
            let answer = ctx.delete::<K>(&a).await.context("delete")?;
            deleted(&answer, &a)?;
            gone::<K>(&ctx, &a, &ns).await
        })
        .await;

    steps
        .run(format!("{k}/delete_kind"), async {
            let answer = ctx
                .delete_kind(row.kind_name, &b)
                .await
                .context("delete_kind")?;
            if let Deleted::Object(o) = &answer {
                ensure(o.kind() == K::KIND, || format!("answered a {}", o.kind()))?;
            }
            deleted(&answer, &b)?;
            gone::<K>(&ctx, &b, &ns).await
        })
        .await;

    steps.outcome()
}
