use super::*;
use crate::tag_first;

fn objects() -> Vec<Object> {
    let f = crate::testing::fixture();
    let inv = &f.inv;
    let mut all: Vec<Object> = Vec::new();
    all.extend(inv.clusters.values().cloned().map(Object::Cluster));
    all.extend(inv.hosts.values().cloned().map(Object::Host));
    all.extend(inv.datastores.values().cloned().map(Object::Datastore));
    all.extend(inv.switches.values().cloned().map(Object::Switch));
    all.extend(inv.portgroups.values().cloned().map(Object::Portgroup));
    let web = crate::testing::vm(
        "web-01",
        f.a,
        vec![crate::testing::disk(f.shared, 20_480, 8_192, true)],
        vec![crate::testing::nic(f.pg_vds)],
    );
    all.push(Object::Rule(crate::affinity::Rule {
        id: crate::ids::RuleId::new_random(),
        name: crate::testing::name("apart"),
        cluster_id: f.cluster,
        kind: crate::affinity::RuleKind::KeepApart,
        mandatory: true,
        vm_ids: vec![web.id],
        host_ids: vec![f.b],
        enabled: false,
    }));
    all.push(Object::Vm(web));
    all
}

#[test]
fn every_object_and_change_reads_the_same_tag_first() {
    let objects = objects();
    assert!(objects.iter().any(|o| o.kind() == ObjectKind::Vm));
    let mut changes: Vec<Change> = objects
        .iter()
        .map(|o| Change::Upsert { object: o.clone() })
        .collect();
    let first = &objects[0];
    changes.push(Change::Delete {
        kind: first.kind(),
        id: first.id(),
    });
    for source in [
        None,
        Some(crate::source::Source {
            connection: Uuid::nil(),
            moref: "host-21".into(),
            vcenter: "vc \"lab\" ✓".into(),
        }),
    ] {
        changes.push(Change::Source {
            kind: ObjectKind::Host,
            id: first.id(),
            source,
        });
    }
    changes.push(Change::Batch {
        changes: changes.clone(),
    });
    for object in &objects {
        crate::testing::reads_the_same_tag_first(object);
    }
    for change in &changes {
        crate::testing::reads_the_same_tag_first(change);
    }
}

#[test]
fn a_tag_not_first_or_unknown_is_refused_by_name() {
    fn refusal<T: TagFirst + std::fmt::Debug>(json: &str) -> String {
        tag_first::deserialize::<T, _>(&mut serde_json::Deserializer::from_str(json))
            .unwrap_err()
            .to_string()
    }
    let read = refusal::<Change>;
    let id = Uuid::nil();
    assert!(
        read(&format!(r#"{{"kind":"host","id":"{id}","op":"delete"}}"#))
            .contains("expected `op` as the first key, found `kind`")
    );
    assert!(read(r#"{"op":"rename"}"#).contains("unknown variant `rename`"));
    let object = refusal::<Object>;
    assert!(
        object(r#"{"kind":"host","stuff":1}"#).contains("unknown field `stuff`, expected `object`")
    );
    assert!(object(r#"{"kind":"lun","object":{}}"#).contains("unknown variant `lun`"));
    assert!(object(r#"{"kind":"host"}"#).contains("missing field `object`"));
    assert!(read(r#"{}"#).contains("missing field `op`"));
}
