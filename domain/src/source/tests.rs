use super::*;
use crate::testing::*;
use crate::{ErrorCode, HostId, VmId};

const C: Uuid = Uuid::from_u128(7);

/// The fixture's objects with a VM on host a, as a connection would send them.
fn file_of(f: &Fixture) -> (InventoryFile, HashMap<Uuid, String>) {
    let mut file = InventoryFile::default();
    let inv = &f.inv;
    file.clusters = inv.clusters.values().cloned().collect();
    file.hosts = inv.hosts.values().cloned().collect();
    file.datastores = inv.datastores.values().cloned().collect();
    file.switches = inv.switches.values().cloned().collect();
    file.portgroups = inv.portgroups.values().cloned().collect();
    file.vms = vec![vm(
        "web",
        f.a,
        vec![disk(f.shared, 100, 100, false)],
        vec![nic(f.pg_vds)],
    )];
    let morefs = file
        .clone()
        .into_objects()
        .iter()
        .enumerate()
        .map(|(i, (_, o))| (o.id(), format!("obj-{i}")))
        .collect();
    (file, morefs)
}

#[test]
fn a_first_sync_creates_and_marks_everything_and_a_second_changes_nothing() {
    let f = fixture();
    let (file, morefs) = file_of(&f);
    let (next, changes, summary) = Inventory::default()
        .validate_sync(C, "vc", file.clone(), &morefs)
        .unwrap();
    assert_eq!(summary.created, file.len());
    assert_eq!(next.sources.len(), file.len());
    assert!(changes.iter().any(|c| matches!(c, Change::Source { .. })));
    // Applying the changes one by one gives the same inventory (what replicas and browsers do).
    let mut replayed = Inventory::default();
    replayed.apply(&Change::Batch { changes });
    assert_eq!(replayed, next);
    let (_, again, summary) = next.validate_sync(C, "vc", file, &morefs).unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert!(summary.is_empty());
}

#[test]
fn mirrored_objects_are_read_only_to_users() {
    let f = fixture();
    let (file, morefs) = file_of(&f);
    let (inv, _, _) = Inventory::default()
        .validate_sync(C, "vc", file, &morefs)
        .unwrap();
    let mut host = inv.hosts[&f.a].clone();
    host.cores = nz32(99);
    let e = inv
        .validate(Mutation::Update(Object::Host(host)))
        .unwrap_err();
    assert_eq!((e.code, e.field.as_deref()), (ErrorCode::InUse, Some("id")));
    assert!(e.message.contains("vCenter"), "{}", e.message);
    let e = inv
        .validate(Mutation::Delete(ObjectKind::Host, f.b.0))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InUse);
    let local = vm("local", f.a, vec![], vec![]);
    let e = inv
        .validate(Mutation::Create(Object::Vm(local)))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("host_id"));
    // Another host in the cluster is refused too; a cluster of vmshift's own is fine.
    let e = inv
        .validate(Mutation::Create(Object::Host(host_in(f.cluster, "esx-z"))))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("cluster_id"));
}

fn host_in(cluster: crate::ClusterId, n: &str) -> crate::Host {
    host(cluster, n)
}

#[test]
fn what_vcenter_removed_is_removed_and_changes_are_updates() {
    let f = fixture();
    let (mut file, morefs) = file_of(&f);
    let (inv, _, _) = Inventory::default()
        .validate_sync(C, "vc", file.clone(), &morefs)
        .unwrap();
    // The VM powered off, host b gone (with its mounts and membership).
    file.vms[0].power_state = crate::PowerState::Off;
    file.hosts.retain(|h| h.id != f.b);
    for d in &mut file.datastores {
        d.host_ids.retain(|h| *h != f.b);
    }
    for s in &mut file.switches {
        s.host_ids.retain(|h| *h != f.b);
    }
    let (next, _, summary) = inv.validate_sync(C, "vc", file, &morefs).unwrap();
    assert_eq!(summary.removed, 1);
    assert!(!next.hosts.contains_key(&f.b));
    assert!(!next.sources.contains_key(&f.b.0));
    let web = next.vms.values().next().unwrap();
    assert_eq!(web.power_state, crate::PowerState::Off);
    // Another connection cannot take the objects over.
    let (file, morefs) = file_of(&f);
    let e = next
        .validate_sync(Uuid::from_u128(8), "vc2", file, &morefs)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Duplicate);
}

#[test]
fn objects_that_come_back_under_new_ids_keep_their_old_ones() {
    let f = fixture();
    let (file, morefs) = file_of(&f);
    let (inv, _, _) = Inventory::default()
        .validate_sync(C, "vc", file.clone(), &morefs)
        .unwrap();
    // The same vCenter under a new instance UUID: every id new, every name the same.
    let fresh: HashMap<Uuid, Uuid> = morefs.keys().map(|id| (*id, Uuid::new_v4())).collect();
    let mut renamed = file.clone();
    renamed.remap_ids(&fresh);
    let morefs2: HashMap<Uuid, String> = morefs
        .iter()
        .map(|(id, m)| (fresh[id], format!("{m}-new")))
        .collect();
    let (next, changes, summary) = inv.validate_sync(C, "vc", renamed, &morefs2).unwrap();
    assert_eq!((summary.created, summary.removed), (0, 0), "{changes:?}");
    assert_eq!(next.hosts.len(), 2);
    assert!(next.hosts.contains_key(&HostId(f.a.0)));
    let vm_id: VmId = *next.vms.keys().next().unwrap();
    assert!(inv.vms.contains_key(&vm_id));
    assert!(next.sources[&f.a.0].moref.ends_with("-new"));
}

#[test]
fn an_import_leaves_mirrored_objects_as_they_are_and_refuses_changing_them() {
    let f = fixture();
    let (file, morefs) = file_of(&f);
    let (inv, _, _) = Inventory::default()
        .validate_sync(C, "vc", file.clone(), &morefs)
        .unwrap();
    let (_, changes, _) = inv.validate_import(file.clone()).unwrap();
    assert!(changes.is_empty());
    let mut changed = file;
    changed.hosts[0].cores = nz32(2);
    let e = inv.validate_import(changed).unwrap_err();
    assert_eq!(e.code, ErrorCode::InUse);
}

#[test]
fn a_mirrored_vm_moves_within_its_vcenter_only() {
    use crate::checks::{check_migration, MigrationKind, MigrationRequest};
    let f = fixture();
    let (file, morefs) = file_of(&f);
    let (mut inv, _, _) = Inventory::default()
        .validate_sync(C, "vc", file, &morefs)
        .unwrap();
    let web = *inv.vms.keys().next().unwrap();
    let request = |to: HostId| MigrationRequest {
        vm_id: web,
        kind: MigrationKind::VMotion,
        target_host_id: Some(to),
        target_datastore_id: None,
        options: Default::default(),
    };
    let within = check_migration(&inv, &request(f.b), &Default::default()).unwrap();
    assert!(within.results.iter().all(|r| r.id != "vcenter.same"));
    // A host of vmshift's own, in a cluster of its own.
    let cluster = crate::Cluster {
        id: crate::ClusterId::new_random(),
        name: name("own"),
        evc_level: None,
    };
    let own = host(cluster.id, "own-1");
    for o in [Object::Cluster(cluster), Object::Host(own.clone())] {
        let change = inv.validate(Mutation::Create(o)).unwrap();
        inv.apply(&change);
    }
    let across = check_migration(&inv, &request(own.id), &Default::default()).unwrap();
    let r = across
        .results
        .iter()
        .find(|r| r.id == "vcenter.same")
        .expect("refused");
    assert!(
        r.message.contains("vCenter vc") && r.message.contains("vmshift's own"),
        "{}",
        r.message
    );
    assert!(!across.allowed);
}
