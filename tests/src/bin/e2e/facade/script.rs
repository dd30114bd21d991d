//! The verb script, the same for every kind of the table: one method per step, each a scenario
//! of the tally.

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
    let mut run = Run::new::<K>(e2e, row, other_ns).await?;
    let k = row.kind_name;
    let mut steps = Steps::new();
    Steps::covered(K::KIND, K::GROUP);

    // put (typed create), checked through kubectl; the later steps know its uid.
    let mut created_uid = None;
    steps
        .run(format!("{k}/put"), async {
            created_uid = Some(run.put::<K>().await?);
            Ok(())
        })
        .await;
    run.uid = created_uid.unwrap_or_default();
    let run = run;
    steps
        .run(format!("{k}/put-already-exists"), run.put_again::<K>())
        .await;
    steps
        .run(format!("{k}/put_text-yaml"), run.put_text::<K>())
        .await;
    steps.run(format!("{k}/get"), run.get::<K>()).await;
    for name in [row.kind_name, row.alias] {
        steps
            .run(format!("{k}/get_kind `{name}`"), run.get_kind::<K>(name))
            .await;
    }
    steps
        .run(format!("{k}/list-label-selector"), run.list::<K>())
        .await;
    steps
        .run(format!("{k}/list_kind"), run.list_kind::<K>())
        .await;
    steps
        .run(
            format!("{k}/get_kind-without-name-is-the-list"),
            run.get_kind_list::<K>(),
        )
        .await;
    steps
        .run(
            format!("{k}/update_object-replace_object"),
            run.update_and_replace_object::<K>(),
        )
        .await;
    if namespaced::<K>() {
        steps
            .run(
                format!("{k}/namespace-from-metadata-and-star"),
                run.other_namespace::<K>(),
            )
            .await;
    } else {
        steps
            .run(
                format!("{k}/cluster-scoped-ignores-namespace"),
                run.cluster_scoped::<K>(),
            )
            .await;
    }
    writes::<K>(&run, &mut steps).await;
    deletes::<K>(&run, &mut steps).await;
    steps.outcome()
}

/// The steps that change the objects: patches of each type, apply, replace, dry runs, status
/// and scale.
async fn writes<K: Kind>(run: &Run<'_>, steps: &mut Steps) {
    let k = run.row.kind_name;
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
            .run(format!("{k}/{step}"), run.update::<K>(step, label, patch))
            .await;
    }
    steps
        .run(format!("{k}/update_kind"), run.update_kind::<K>())
        .await;
    steps
        .run(format!("{k}/apply-conflict-force"), run.apply::<K>())
        .await;
    steps
        .run(format!("{k}/replace-stale-conflict"), run.replace::<K>())
        .await;
    steps
        .run(format!("{k}/dry_run-stores-nothing"), run.dry_run::<K>())
        .await;
    steps
        .run(
            format!("{k}/delete-dry_run-and-preconditions"),
            run.delete_dry_run::<K>(),
        )
        .await;
    match run.row.status {
        Status::None => {}
        Status::Read => {
            steps
                .run(format!("{k}/get_status"), run.get_status::<K>())
                .await;
        }
        Status::Patch(patch, pointer, expected) => {
            steps
                .run(
                    format!("{k}/update_status"),
                    run.update_status::<K>(patch, pointer, expected),
                )
                .await;
        }
    }
    if run.row.scale {
        steps.run(format!("{k}/scale"), run.scale::<K>()).await;
    }
}

/// The deletes, last: of a collection by selector, then of each object.
async fn deletes<K: Kind>(run: &Run<'_>, steps: &mut Steps) {
    let k = run.row.kind_name;
    steps
        .run(
            format!("{k}/delete_collection"),
            run.delete_collection::<K>(),
        )
        .await;
    steps.run(format!("{k}/delete"), run.delete::<K>()).await;
    steps
        .run(format!("{k}/delete_kind"), run.delete_kind::<K>())
        .await;
}

/// What the steps of one kind's script share: the context, the namespace, the names of its
/// objects (`a`, `b` made first; `c` in the other namespace; `d` only dry-run) and their label.
struct Run<'a> {
    e2e: &'a E2e,
    row: &'a Row,
    other_ns: &'a str,
    ctx: Ctx,
    ns: String,
    base: String,
    tag: String,
    /// `facade=<tag>`: selects `a` and `b`.
    sel: String,
    a: String,
    b: String,
    c: String,
    d: String,
    /// `a` and `b`, sorted.
    want: Vec<String>,
    /// `a`'s uid, once `put` made it.
    uid: String,
}

impl<'a> Run<'a> {
    async fn new<K: Kind>(e2e: &'a E2e, row: &'a Row, other_ns: &'a str) -> Result<Self, String> {
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
        let tag = format!("{slug}-{pid}");
        let [a, b, c, d] = ["a", "b", "c", "d"].map(|s| format!("{base}-{s}"));
        Ok(Run {
            e2e,
            row,
            other_ns,
            ctx,
            ns,
            sel: format!("facade={tag}"),
            tag,
            want: vec![a.clone(), b.clone()],
            base,
            a,
            b,
            c,
            d,
            uid: String::new(),
        })
    }

    async fn put<K: Kind>(&self) -> Result<String, String> {
        let Run {
            ctx,
            row,
            a,
            ns,
            tag,
            ..
        } = self;
        let e2e = self.e2e;
        let labels = [("facade", tag.as_str())];
        let obj: K = object(row, a, ns, &labels)?;
        let created = ctx.put(&obj).await.context("put")?;
        ensure(created.name() == Some(a.as_str()), || {
            format!("put answered {:?}", created.name())
        })?;
        let uid = uid_of(&created).ok_or("no uid in the answer")?;
        let mut args = vec!["get", "", &a, "-o", "jsonpath={.metadata.uid}"];
        let resource = kubectl_resource::<K>();
        args[1] = &resource;
        if namespaced::<K>() {
            args.extend(["-n", ns]);
        }
        let seen = e2e.kubectl_ok(&args)?;
        ensure(seen.trim() == uid, || {
            format!("kubectl sees uid {seen}, put answered {uid}")
        })?;
        Ok(uid)
    }

    async fn put_again<K: Kind>(&self) -> Outcome {
        let Run {
            ctx,
            row,
            a,
            ns,
            tag,
            ..
        } = self;
        let labels = [("facade", tag.as_str())];
        let obj: K = object(row, a, ns, &labels)?;
        match ctx.put(&obj).await {
            Err(e) if e.is_already_exists() => Ok(()),
            other => Err(format!("second put: {:?}", other.map(|o| uid_of(&o)))),
        }
    }

    async fn put_text<K: Kind>(&self) -> Outcome {
        let Run {
            ctx,
            row,
            b,
            ns,
            tag,
            ..
        } = self;
        let labels = [("facade", tag.as_str())];
        let text = yaml(&object_value::<K>(row, b, ns, &labels)?);
        let created = ctx
            .put_text(&text)
            .await
            .context(format!("put_text of\n{text}"))?;
        ensure(
            created.kind() == K::KIND && created.name() == Some(b.as_str()),
            || format!("put_text answered {} {:?}", created.kind(), created.name()),
        )?;
        let read = ctx.get::<K>(b).await.context("get after put_text")?;
        ensure(uid_of(&read) == uid_of(&created), || "uid differs".into())
    }

    async fn get<K: Kind>(&self) -> Outcome {
        let Run { ctx, a, uid, .. } = self;
        let read = ctx.get::<K>(a).await.context("get")?;
        ensure(uid_of(&read).as_deref() == Some(uid.as_str()), || {
            format!("get answered uid {:?}, want {uid}", uid_of(&read))
        })
    }

    async fn get_kind<K: Kind>(&self, name: &str) -> Outcome {
        let Run { ctx, a, uid, .. } = self;
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
    }

    async fn list<K: Kind>(&self) -> Outcome {
        let Run { ctx, sel, want, .. } = self;
        let list = ctx.list::<K>().labels(sel.as_str()).await.context("list")?;
        ensure(sorted_names(&list.items) == *want, || {
            format!("listed {:?}", sorted_names(&list.items))
        })?;
        ensure(list.resource_version().is_some(), || {
            "no list resourceVersion".into()
        })
    }

    async fn list_kind<K: Kind>(&self) -> Outcome {
        let Run {
            ctx,
            row,
            sel,
            want,
            ..
        } = self;
        let list = ctx
            .list_kind(row.kind_name)
            .labels(sel.as_str())
            .await
            .context("list_kind")?;
        ensure(sorted_names(&list.items) == *want, || {
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
    }

    async fn get_kind_list<K: Kind>(&self) -> Outcome {
        let Run { ctx, row, want, .. } = self;
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
    }

    async fn update_and_replace_object<K: Kind>(&self) -> Outcome {
        let Run { ctx, row, b, .. } = self;
        let obj = ctx
            .get_kind(row.kind_name, b.as_str())
            .await
            .context("get_kind")?;
        let patch = Patch::Merge(json!({"metadata": {"labels": {"object": "1"}}}));
        ctx.update_object(&obj, patch)
            .await
            .context("update_object")?;
        let read = ctx.get::<K>(b).await.context("read back")?;
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
    }

    async fn other_namespace<K: Kind>(&self) -> Outcome {
        let Run {
            ctx,
            row,
            a,
            b,
            c,
            tag,
            sel,
            ..
        } = self;
        let other_ns = self.other_ns;
        let labels = [("facade", tag.as_str())];
        let obj: K = object(row, c, other_ns, &labels)?;
        let created = ctx.put(&obj).await.context("put into metadata.namespace")?;
        ensure(created.namespace() == Some(other_ns), || {
            format!("created in {:?}", created.namespace())
        })?;
        ctx.get::<K>(c)
            .namespace(other_ns)
            .await
            .context("get in the other namespace")?;
        match ctx.get::<K>(c).await {
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
            .delete::<K>(c)
            .namespace(other_ns)
            .await
            .context("delete in other ns")?;
        deleted(&del, c)
    }

    async fn cluster_scoped<K: Kind>(&self) -> Outcome {
        let Run {
            ctx, a, sel, want, ..
        } = self;
        ctx.get::<K>(a)
            .namespace("another-namespace")
            .await
            .context("get with a namespace")?;
        let list = ctx
            .list::<K>()
            .namespace("another-namespace")
            .labels(sel.as_str())
            .await
            .context("list with a namespace")?;
        ensure(sorted_names(&list.items) == *want, || {
            format!("listed {:?}", sorted_names(&list.items))
        })
    }

    async fn update<K: Kind>(&self, step: &str, label: &str, patch: kuber::PatchBody) -> Outcome {
        let Run { ctx, a, .. } = self;
        let answer = ctx.update::<K>(a, patch).await.context(step)?;
        ensure(answer.name() == Some(a.as_str()), || {
            "answered another object".into()
        })?;
        let read = ctx.get::<K>(a).await.context("read back")?;
        ensure(label_of(&read, label).as_deref() == Some("1"), || {
            format!("label {label} not set after {step}")
        })
    }

    async fn update_kind<K: Kind>(&self) -> Outcome {
        let Run { ctx, row, a, .. } = self;
        let patch = Patch::Merge(json!({"metadata": {"labels": {"bykind": "1"}}}));
        let answer = ctx
            .update_kind(row.kind_name, a, patch)
            .await
            .context("update_kind")?;
        ensure(answer.kind() == K::KIND, || {
            format!("answered {}", answer.kind())
        })?;
        let read = ctx.get::<K>(a).await.context("read back")?;
        ensure(label_of(&read, "bykind").as_deref() == Some("1"), || {
            "label not set".into()
        })
    }

    async fn apply<K: Kind>(&self) -> Outcome {
        let Run {
            ctx,
            row,
            a,
            ns,
            tag,
            ..
        } = self;
        // m1 takes the fields (the server defaulted some of them as `kuber`, the create's
        // manager), then applies the same again without force.
        let mine: K = object(row, a, ns, &[("facade", tag), ("owner", "m1")])?;
        ctx.apply(&mine, "facade-m1")
            .force()
            .await
            .context("apply as m1")?;
        ctx.apply(&mine, "facade-m1")
            .await
            .context("apply again as m1")?;
        let theirs: K = object(row, a, ns, &[("facade", tag), ("owner", "m2")])?;
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
        let read = ctx.get::<K>(a).await.context("read back")?;
        ensure(label_of(&read, "owner").as_deref() == Some("m2"), || {
            format!("owner is {:?}", label_of(&read, "owner"))
        })
    }

    async fn replace<K: Kind>(&self) -> Outcome {
        let Run { ctx, a, .. } = self;
        let stale = ctx.get::<K>(a).await.context("get")?;
        ctx.update::<K>(
            a,
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
        let mut fresh = ctx.get::<K>(a).await.context("get")?;
        fresh
            .metadata_mut()
            .labels
            .get_or_insert_default()
            .insert("replaced".into(), "1".into());
        ctx.replace(&fresh).await.context("replace")?;
        let read = ctx.get::<K>(a).await.context("read back")?;
        ensure(label_of(&read, "replaced").as_deref() == Some("1"), || {
            "replace lost".into()
        })
    }

    async fn dry_run<K: Kind>(&self) -> Outcome {
        let Run {
            ctx,
            row,
            d,
            ns,
            tag,
            ..
        } = self;
        let labels = [("facade", tag.as_str())];
        let obj: K = object(row, d, ns, &labels)?;
        let answer = ctx.put(&obj).dry_run().await.context("dry-run put")?;
        ensure(answer.name() == Some(d.as_str()), || {
            "dry run answered another".into()
        })?;
        match ctx.get::<K>(d).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => Err(format!("after a dry run: {:?}", other.map(|o| uid_of(&o)))),
        }
    }

    async fn delete_dry_run<K: Kind>(&self) -> Outcome {
        let Run { ctx, a, .. } = self;
        let answer = ctx
            .delete::<K>(a)
            .dry_run()
            .await
            .context("dry-run delete")?;
        deleted(&answer, a)?;
        let still = ctx
            .get::<K>(a)
            .await
            .context("get after a dry-run delete")?;
        ensure(
            still
                .metadata()
                .is_some_and(|m| m.deletion_timestamp.is_none()),
            || "a dry-run delete started a deletion".into(),
        )?;
        match ctx
            .delete::<K>(a)
            .preconditions(Some("00000000-0000-0000-0000-000000000000"), None)
            .await
        {
            Err(e) if e.is_conflict() => {}
            other => return Err(format!("delete with another uid: {:?}", other.is_ok())),
        }
        ctx.get::<K>(a)
            .await
            .map(drop)
            .context("get after a refused delete")
    }

    async fn get_status<K: Kind>(&self) -> Outcome {
        let Run { ctx, a, uid, .. } = self;
        let status = ctx.get_status::<K>(a).await.context("get_status")?;
        ensure(uid_of(&status).as_deref() == Some(uid.as_str()), || {
            "another object".into()
        })
    }

    async fn update_status<K: Kind>(&self, patch: &str, pointer: &str, expected: &str) -> Outcome {
        let Run { ctx, a, .. } = self;
        let patch: Value = serde_json::from_str(patch).context("status patch")?;
        let expected: Value = serde_json::from_str(expected).context("expected")?;
        ctx.update_status::<K>(a, Patch::Merge(patch))
            .await
            .context("update_status")?;
        let read = ctx.get_status::<K>(a).await.context("get_status")?;
        let v = to_value(&read);
        ensure(v.pointer(pointer) == Some(&expected), || {
            format!("{pointer} is {:?} after update_status", v.pointer(pointer))
        })
    }

    async fn scale<K: Kind>(&self) -> Outcome {
        let Run { ctx, a, .. } = self;
        let scale = ctx.scale::<K>(a, 2).await.context("scale")?;
        ensure(
            scale.spec.as_ref().and_then(|s| s.replicas) == Some(2),
            || format!("scale answered {:?}", scale.spec),
        )?;
        let read = ctx.get_scale::<K>(a).await.context("get_scale")?;
        ensure(
            read.spec.as_ref().and_then(|s| s.replicas) == Some(2),
            || format!("get_scale {:?}", read.spec),
        )?;
        let obj = ctx.get::<K>(a).await.context("get")?;
        ensure(
            to_value(&obj).pointer("/spec/replicas") == Some(&json!(2)),
            || "spec.replicas is not 2".into(),
        )?;
        ctx.scale::<K>(a, 0).await.map(drop).context("scale to 0")
    }

    async fn delete_collection<K: Kind>(&self) -> Outcome {
        let Run {
            ctx,
            row,
            ns,
            tag,
            sel,
            base,
            want,
            ..
        } = self;
        let collection = kuber::kuber_type(K::API_VERSION, K::KIND)
            .is_some_and(|t| t.verbs().contains(&"deletecollection"));
        let batch = format!("{tag}-del");
        let del_labels = [("facade-del", batch.as_str())];
        let del_sel = format!("facade-del={batch}");
        if !collection {
            return self.refused_without_collection::<K>(&del_sel).await;
        }
        let (e1, e2, e3, e4) = (
            format!("{base}-e1"),
            format!("{base}-e2"),
            format!("{base}-e3"),
            format!("{base}-e4"),
        );
        for name in [&e1, &e2] {
            let obj: K = object(row, name, ns, &del_labels)?;
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
            let obj: K = object(row, name, ns, &del_labels)?;
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
        ensure(sorted_names(&kept.items) == *want, || {
            "selector deleted others".into()
        })
    }

    /// delete_collection of a kind without the verb is refused before any request.
    async fn refused_without_collection<K: Kind>(&self, del_sel: &str) -> Outcome {
        let ctx = &self.ctx;
        let row = self.row;
        // Refused before any request.
        match ctx.delete_collection::<K>().labels(del_sel).await {
            Err(Error::NoOperation { .. }) => {}
            other => {
                return Err(format!(
                    "delete_collection of a kind without it: {:?}",
                    other.is_ok()
                ));
            }
        }
        match ctx.delete_collection_kind(row.kind_name).await {
            Err(Error::NoOperation { .. }) => Ok(()),
            other => Err(format!(
                "delete_collection_kind of a kind without it: {:?}",
                other.is_ok()
            )),
        }
    }

    async fn delete<K: Kind>(&self) -> Outcome {
        let Run { ctx, a, ns, .. } = self;
        let answer = ctx.delete::<K>(a).await.context("delete")?;
        deleted(&answer, a)?;
        gone::<K>(ctx, a, ns).await
    }

    async fn delete_kind<K: Kind>(&self) -> Outcome {
        let Run {
            ctx, row, b, ns, ..
        } = self;
        let answer = ctx
            .delete_kind(row.kind_name, b)
            .await
            .context("delete_kind")?;
        if let Deleted::Object(o) = &answer {
            ensure(o.kind() == K::KIND, || format!("answered a {}", o.kind()))?;
        }
        deleted(&answer, b)?;
        gone::<K>(ctx, b, ns).await
    }
}
