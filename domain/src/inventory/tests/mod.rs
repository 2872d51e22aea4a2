use super::*;
use crate::error::DomainError;
use crate::object::Mutation;
use crate::testing::*;
use crate::{ErrorCode, Fraction, RateMibS, VlanId};

mod names;

fn create(inv: &mut Inventory, object: Object) -> Result<(), DomainError> {
    let change = inv.validate(Mutation::Create(object))?;
    inv.apply(&change);
    Ok(())
}

fn refused(result: Result<Change, DomainError>, code: ErrorCode, field: Option<&str>) -> String {
    let err = result.expect_err("the mutation should be refused");
    assert_eq!(err.code, code, "{err:?}");
    assert_eq!(err.field.as_deref(), field, "{err:?}");
    err.message
}

#[test]
fn a_valid_vm_is_accepted_and_applied() {
    let mut f = fixture();
    let v = vm(
        "web-01",
        f.a,
        vec![disk(f.shared, 1000, 10, true)],
        vec![nic(f.pg_vds)],
    );
    let id = v.id;
    create(&mut f.inv, Object::Vm(v)).unwrap();
    assert_eq!(f.inv.vms[&id].name.as_str(), "web-01");
    assert_eq!(f.inv.allocated_mib(f.shared, None), 10);
}

#[test]
fn creating_an_existing_id_is_a_duplicate_and_updating_a_missing_one_is_not_found() {
    let f = fixture();
    let mut again = f.inv.hosts[&f.a].clone();
    again.name = name("esx-new");
    refused(
        f.inv.validate(Mutation::Create(Object::Host(again))),
        ErrorCode::Duplicate,
        Some("id"),
    );
    let ghost = host(f.cluster, "esx-ghost");
    refused(
        f.inv.validate(Mutation::Update(Object::Host(ghost))),
        ErrorCode::NotFound,
        None,
    );
    refused(
        f.inv
            .validate(Mutation::Delete(ObjectKind::Vm, uuid::Uuid::new_v4())),
        ErrorCode::NotFound,
        None,
    );
}

#[test]
fn references_must_point_to_existing_objects() {
    let f = fixture();
    let orphan = host(ClusterId::new_random(), "esx-z");
    let msg = refused(
        f.inv.validate(Mutation::Create(Object::Host(orphan))),
        ErrorCode::Invalid,
        Some("cluster_id"),
    );
    assert!(msg.contains("no cluster"), "{msg}");

    let v = vm("v", HostId::new_random(), vec![], vec![]);
    refused(
        f.inv.validate(Mutation::Create(Object::Vm(v))),
        ErrorCode::Invalid,
        Some("host_id"),
    );

    let v = vm(
        "v",
        f.a,
        vec![disk(DatastoreId::new_random(), 10, 1, true)],
        vec![],
    );
    refused(
        f.inv.validate(Mutation::Create(Object::Vm(v))),
        ErrorCode::Invalid,
        Some("disks[0].datastore_id"),
    );

    let v = vm(
        "v",
        f.a,
        vec![],
        vec![nic(f.pg_vds), nic(PortgroupId::new_random())],
    );
    refused(
        f.inv.validate(Mutation::Create(Object::Vm(v))),
        ErrorCode::Invalid,
        Some("nics[1].portgroup_id"),
    );

    let sw = Switch {
        id: SwitchId::new_random(),
        name: name("dvs-2"),
        host_ids: vec![f.a, HostId::new_random()],
    };
    refused(
        f.inv.validate(Mutation::Create(Object::Switch(sw))),
        ErrorCode::Invalid,
        Some("host_ids[1]"),
    );
}

#[test]
fn a_vm_disk_must_be_on_a_datastore_its_host_mounts() {
    let f = fixture();
    let ok = vm("on-a", f.a, vec![disk(f.local_a, 100, 100, false)], vec![]);
    assert!(f.inv.validate(Mutation::Create(Object::Vm(ok))).is_ok());
    let bad = vm("on-b", f.b, vec![disk(f.local_a, 100, 100, false)], vec![]);
    let msg = refused(
        f.inv.validate(Mutation::Create(Object::Vm(bad))),
        ErrorCode::Invalid,
        Some("disks[0].datastore_id"),
    );
    assert!(
        msg.contains("esx-b does not mount datastore local-a"),
        "{msg}"
    );
}

#[test]
fn a_vm_nic_must_be_on_a_portgroup_its_host_reaches() {
    let f = fixture();
    let ok = vm("a", f.a, vec![], vec![nic(f.pg_std_a)]);
    assert!(f.inv.validate(Mutation::Create(Object::Vm(ok))).is_ok());
    let vds_ok = vm("b", f.b, vec![], vec![nic(f.pg_vds)]);
    assert!(f.inv.validate(Mutation::Create(Object::Vm(vds_ok))).is_ok());
    let bad = vm("c", f.b, vec![], vec![nic(f.pg_std_a)]);
    let msg = refused(
        f.inv.validate(Mutation::Create(Object::Vm(bad))),
        ErrorCode::Invalid,
        Some("nics[0].portgroup_id"),
    );
    assert!(
        msg.contains("legacy is not available on host esx-b"),
        "{msg}"
    );
}

#[test]
fn allocated_space_must_fit_the_datastore() {
    let mut f = fixture();
    // Thick disks take their capacity, thin ones what they use.
    let thick = vm("thick", f.a, vec![disk(f.local_a, 6_000, 1, false)], vec![]);
    create(&mut f.inv, Object::Vm(thick)).unwrap();
    // Thin disks may overcommit the datastore, but none is bigger than the datastore itself.
    let thin = vm(
        "thin",
        f.a,
        vec![disk(f.local_a, 9_000, 4_000, true)],
        vec![],
    );
    create(&mut f.inv, Object::Vm(thin)).unwrap();
    let too_big = vm(
        "too-big",
        f.a,
        vec![disk(f.local_a, 10_001, 1, true)],
        vec![],
    );
    let msg = refused(
        f.inv.validate(Mutation::Create(Object::Vm(too_big))),
        ErrorCode::Invalid,
        Some("disks[0].capacity_mib"),
    );
    assert!(msg.contains("larger than datastore local-a"), "{msg}");
    assert_eq!(f.inv.allocated_mib(f.local_a, None), 10_000);
    let one_more = vm("one-more", f.a, vec![disk(f.local_a, 1, 1, false)], vec![]);
    let msg = refused(
        f.inv.validate(Mutation::Create(Object::Vm(one_more))),
        ErrorCode::Invalid,
        Some("disks[0].capacity_mib"),
    );
    assert!(msg.contains("0 MiB free"), "{msg}");
    // A single disk bigger than its datastore.
    let huge = vm("huge", f.a, vec![disk(f.shared, 200_000, 1, false)], vec![]);
    refused(
        f.inv.validate(Mutation::Create(Object::Vm(huge))),
        ErrorCode::Invalid,
        Some("disks[0].capacity_mib"),
    );
    // Shrinking a datastore below what is allocated on it, or below its biggest disk.
    let mut ds = f.inv.datastores[&f.local_a].clone();
    ds.capacity_mib = nz64(9_999);
    refused(
        f.inv
            .validate(Mutation::Update(Object::Datastore(ds.clone()))),
        ErrorCode::Invalid,
        Some("capacity_mib"),
    );
    let mut shared = f.inv.datastores[&f.shared].clone();
    let big_thin = vm(
        "big-thin",
        f.a,
        vec![disk(f.shared, 90_000, 1, true)],
        vec![],
    );
    create(&mut f.inv, Object::Vm(big_thin)).unwrap();
    shared.capacity_mib = nz64(80_000);
    let msg = refused(
        f.inv.validate(Mutation::Update(Object::Datastore(shared))),
        ErrorCode::Invalid,
        Some("capacity_mib"),
    );
    assert!(msg.contains("VM big-thin has a 90000 MiB disk"), "{msg}");
    refused(
        f.inv.validate(Mutation::Update(Object::Datastore(ds))),
        ErrorCode::Invalid,
        Some("capacity_mib"),
    );
}

#[test]
fn updating_a_vm_does_not_count_its_own_disks_twice() {
    let mut f = fixture();
    let v = vm("big", f.a, vec![disk(f.local_a, 10_000, 1, false)], vec![]);
    create(&mut f.inv, Object::Vm(v.clone())).unwrap();
    let mut renamed = v;
    renamed.name = name("big-renamed");
    assert!(f
        .inv
        .validate(Mutation::Update(Object::Vm(renamed)))
        .is_ok());
}

#[test]
fn disk_and_memory_figures_must_be_coherent() {
    let f = fixture();
    let used_over = vm("u", f.a, vec![disk(f.shared, 10, 11, true)], vec![]);
    refused(
        f.inv.validate(Mutation::Create(Object::Vm(used_over))),
        ErrorCode::Invalid,
        Some("disks[0].used_mib"),
    );
    let mut reserved = vm("r", f.a, vec![], vec![]);
    reserved.memory_reservation_mib = 4097;
    refused(
        f.inv.validate(Mutation::Create(Object::Vm(reserved))),
        ErrorCode::Invalid,
        Some("memory_reservation_mib"),
    );
}

#[test]
fn device_backings_are_checked() {
    let f = fixture();
    let mut iso = vm("iso", f.a, vec![], vec![]);
    iso.devices.push(Device {
        kind: DeviceKind::Cdrom,
        backing: DeviceBacking::File,
        datastore_id: Some(f.local_a),
        connected: true,
    });
    assert!(f
        .inv
        .validate(Mutation::Create(Object::Vm(iso.clone())))
        .is_ok());
    iso.devices[0].datastore_id = None;
    refused(
        f.inv.validate(Mutation::Create(Object::Vm(iso.clone()))),
        ErrorCode::Invalid,
        Some("devices[0].datastore_id"),
    );
    iso.devices[0].backing = DeviceBacking::HostDevice;
    iso.devices[0].datastore_id = Some(f.shared);
    refused(
        f.inv.validate(Mutation::Create(Object::Vm(iso.clone()))),
        ErrorCode::Invalid,
        Some("devices[0].datastore_id"),
    );
    iso.host_id = f.b;
    iso.devices[0].backing = DeviceBacking::File;
    iso.devices[0].datastore_id = Some(f.local_a);
    refused(
        f.inv.validate(Mutation::Create(Object::Vm(iso))),
        ErrorCode::Invalid,
        Some("devices[0].datastore_id"),
    );
}

#[test]
fn datastore_and_portgroup_shapes_are_checked() {
    let f = fixture();
    let two_host_local = Datastore {
        id: DatastoreId::new_random(),
        name: name("local-x"),
        kind: DatastoreKind::Local,
        capacity_mib: nz64(10),
        throughput_mib_s: nz32(10),
        host_ids: vec![f.a, f.b],
    };
    refused(
        f.inv
            .validate(Mutation::Create(Object::Datastore(two_host_local.clone()))),
        ErrorCode::Invalid,
        Some("host_ids"),
    );
    let unmounted = Datastore {
        host_ids: vec![],
        kind: DatastoreKind::Nfs,
        ..two_host_local.clone()
    };
    refused(
        f.inv
            .validate(Mutation::Create(Object::Datastore(unmounted))),
        ErrorCode::Invalid,
        Some("host_ids"),
    );
    let twice = Datastore {
        host_ids: vec![f.a, f.a],
        kind: DatastoreKind::Nfs,
        ..two_host_local
    };
    refused(
        f.inv.validate(Mutation::Create(Object::Datastore(twice))),
        ErrorCode::Invalid,
        Some("host_ids[1]"),
    );
    let both = Portgroup {
        id: PortgroupId::new_random(),
        name: name("both"),
        vlan: VlanId::parse(1).unwrap(),
        switch_id: Some(f.vds),
        host_id: Some(f.a),
    };
    refused(
        f.inv
            .validate(Mutation::Create(Object::Portgroup(both.clone()))),
        ErrorCode::Invalid,
        Some("switch_id"),
    );
    let neither = Portgroup {
        switch_id: None,
        host_id: None,
        ..both
    };
    refused(
        f.inv.validate(Mutation::Create(Object::Portgroup(neither))),
        ErrorCode::Invalid,
        Some("switch_id"),
    );
}

#[test]
fn deleting_a_used_object_is_refused_naming_its_users() {
    let mut f = fixture();
    let v = vm(
        "web-01",
        f.a,
        vec![disk(f.shared, 100, 1, true)],
        vec![nic(f.pg_vds)],
    );
    let vm_id = v.id;
    create(&mut f.inv, Object::Vm(v)).unwrap();

    let msg = refused(
        f.inv
            .validate(Mutation::Delete(ObjectKind::Datastore, f.shared.0)),
        ErrorCode::InUse,
        None,
    );
    assert!(
        msg.contains("san-01") && msg.contains("VM web-01 (disk 1)"),
        "{msg}"
    );
    let msg = refused(
        f.inv.validate(Mutation::Delete(ObjectKind::Host, f.a.0)),
        ErrorCode::InUse,
        None,
    );
    assert!(
        msg.contains("VM web-01") && msg.contains("datastore local-a"),
        "{msg}"
    );
    let msg = refused(
        f.inv
            .validate(Mutation::Delete(ObjectKind::Portgroup, f.pg_vds.0)),
        ErrorCode::InUse,
        None,
    );
    assert!(msg.contains("network adapter 1"), "{msg}");
    let msg = refused(
        f.inv
            .validate(Mutation::Delete(ObjectKind::Switch, f.vds.0)),
        ErrorCode::InUse,
        None,
    );
    assert!(msg.contains("port group vm-net"), "{msg}");
    let msg = refused(
        f.inv
            .validate(Mutation::Delete(ObjectKind::Cluster, f.cluster.0)),
        ErrorCode::InUse,
        None,
    );
    assert!(msg.contains("host esx-a"), "{msg}");

    // Once the VM is gone, its datastore can go.
    let change = f
        .inv
        .validate(Mutation::Delete(ObjectKind::Vm, vm_id.0))
        .unwrap();
    f.inv.apply(&change);
    let change = f
        .inv
        .validate(Mutation::Delete(ObjectKind::Datastore, f.shared.0))
        .unwrap();
    f.inv.apply(&change);
    assert!(!f.inv.datastores.contains_key(&f.shared));
}

#[test]
fn updates_cannot_strand_the_vms_that_depend_on_an_object() {
    let mut f = fixture();
    let v = vm(
        "web-01",
        f.b,
        vec![disk(f.shared, 100, 1, true)],
        vec![nic(f.pg_vds)],
    );
    create(&mut f.inv, Object::Vm(v)).unwrap();

    let mut ds = f.inv.datastores[&f.shared].clone();
    ds.host_ids = vec![f.a];
    refused(
        f.inv.validate(Mutation::Update(Object::Datastore(ds))),
        ErrorCode::InUse,
        Some("host_ids"),
    );
    let mut sw = f.inv.switches[&f.vds].clone();
    sw.host_ids = vec![f.a];
    refused(
        f.inv.validate(Mutation::Update(Object::Switch(sw.clone()))),
        ErrorCode::InUse,
        Some("host_ids"),
    );
    let mut pg = f.inv.portgroups[&f.pg_vds].clone();
    pg.switch_id = None;
    pg.host_id = Some(f.a);
    refused(
        f.inv.validate(Mutation::Update(Object::Portgroup(pg))),
        ErrorCode::InUse,
        Some("switch_id"),
    );
    // Removing a host that no VM needs from the switch is fine.
    sw.host_ids = vec![f.b];
    assert!(f.inv.validate(Mutation::Update(Object::Switch(sw))).is_ok());
}

#[test]
fn the_inventory_round_trips_through_its_list_format() {
    let mut f = fixture();
    let mut v = vm(
        "web-01",
        f.a,
        vec![disk(f.shared, 100, 1, true)],
        vec![nic(f.pg_vds)],
    );
    v.workload.working_set_mib = Some(nz64(512));
    v.workload.zero_page_fraction = Fraction::parse(0.3).unwrap();
    v.workload.dirty_rate_mib_s = RateMibS::parse(120.5).unwrap();
    create(&mut f.inv, Object::Vm(v)).unwrap();
    let json = serde_json::to_value(&f.inv).unwrap();
    assert_eq!(json["hosts"].as_array().unwrap().len(), 2);
    assert_eq!(json["vms"][0]["workload"]["working_set_mib"], 512);
    let back: Inventory = serde_json::from_value(json).unwrap();
    assert_eq!(back, f.inv);
    // And it can be rebuilt through the gate, in dependency order.
    let rebuilt = Inventory::from_objects(back.objects()).unwrap();
    assert_eq!(rebuilt, f.inv);
}

#[test]
fn wire_format_rejects_bad_values_and_unknown_fields() {
    let f = fixture();
    let mut json = serde_json::to_value(&f.inv.hosts[&f.a]).unwrap();
    json["memory_mib"] = serde_json::json!(0);
    assert!(serde_json::from_value::<Host>(json.clone()).is_err());
    json["memory_mib"] = serde_json::json!(-5);
    assert!(serde_json::from_value::<Host>(json.clone()).is_err());
    json["memory_mib"] = serde_json::json!(1024);
    json["cpu_vendor"] = serde_json::json!("via");
    assert!(serde_json::from_value::<Host>(json.clone()).is_err());
    json["cpu_vendor"] = serde_json::json!("amd");
    assert!(serde_json::from_value::<Host>(json.clone()).is_ok());
    json["colour"] = serde_json::json!("red");
    assert!(serde_json::from_value::<Host>(json).is_err());
}

#[test]
fn the_space_index_follows_every_change() {
    let mut f = fixture();
    let recount = |inv: &Inventory, ds: DatastoreId| -> u64 {
        inv.vms
            .values()
            .flat_map(|vm| vm.disks.iter())
            .filter(|d| d.datastore_id == ds)
            .map(Disk::allocated_mib)
            .sum()
    };
    let a = vm(
        "a",
        f.a,
        vec![disk(f.shared, 100, 10, true), disk(f.local_a, 50, 1, false)],
        vec![],
    );
    let b = vm("b", f.b, vec![disk(f.shared, 300, 300, false)], vec![]);
    create(&mut f.inv, Object::Vm(a.clone())).unwrap();
    create(&mut f.inv, Object::Vm(b.clone())).unwrap();
    assert_eq!(f.inv.allocated_mib(f.shared, None), 310);
    assert_eq!(f.inv.allocated_mib(f.shared, Some(b.id)), 10);
    // Moving a's first disk to thick changes its allocation.
    let mut a2 = a.clone();
    a2.disks[0].thin = false;
    let change = f.inv.validate(Mutation::Update(Object::Vm(a2))).unwrap();
    f.inv.apply(&change);
    assert_eq!(f.inv.allocated_mib(f.shared, None), 400);
    assert_eq!(f.inv.allocated_mib(f.local_a, None), 50);
    let change = f
        .inv
        .validate(Mutation::Delete(ObjectKind::Vm, b.id.0))
        .unwrap();
    f.inv.apply(&change);
    assert_eq!(
        f.inv.allocated_mib(f.shared, None),
        recount(&f.inv, f.shared)
    );
    assert_eq!(f.inv.allocated_mib(f.shared, None), 100);
    // A deserialized inventory rebuilds the index.
    let back: Inventory = serde_json::from_value(serde_json::to_value(&f.inv).unwrap()).unwrap();
    assert_eq!(back.allocated_mib(f.shared, None), 100);
    assert_eq!(back.allocated_mib(f.local_a, None), 50);
}

#[test]
fn an_import_is_validated_whole_in_dependency_order() {
    let f = fixture();
    let cluster = Cluster {
        id: ClusterId::new_random(),
        name: name("lab"),
        evc_level: None,
    };
    let h = host(cluster.id, "lab-01");
    let v = vm("lab-vm", h.id, vec![], vec![]);
    let mut renamed = f.inv.hosts[&f.a].clone();
    renamed.name = name("esx-a-renamed");
    // Listed VM first, host later: the import orders them by dependency.
    let file = crate::InventoryFile {
        clusters: vec![cluster],
        hosts: vec![renamed, h],
        vms: vec![v.clone()],
        ..Default::default()
    };
    let (next, changes, summary) = f.inv.validate_import(file.clone()).unwrap();
    assert_eq!(summary.created, 3);
    assert_eq!(summary.updated, 1);
    assert_eq!(changes.len(), 4);
    assert_eq!(next.hosts[&f.a].name.as_str(), "esx-a-renamed");
    assert!(next.vms.contains_key(&v.id));

    // One bad object refuses the whole import, naming it and its field.
    let mut bad = file;
    bad.vms
        .push(vm("ghost", HostId::new_random(), vec![], vec![]));
    let err = f.inv.validate_import(bad).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("vms[1].host_id"));
    assert!(
        err.message.starts_with("vms[1] (ghost):"),
        "{}",
        err.message
    );
}

#[test]
fn host_loads_follow_every_change() {
    let mut f = fixture();
    let mut a = vm("a", f.a, vec![], vec![]);
    a.memory_reservation_mib = 1024;
    let mut off = vm("off", f.a, vec![], vec![]);
    off.power_state = PowerState::Off;
    create(&mut f.inv, Object::Vm(a.clone())).unwrap();
    create(&mut f.inv, Object::Vm(off)).unwrap();
    let load = f.inv.host_load(f.a);
    assert_eq!((load.vms, load.running_vms, load.running_vcpus), (2, 1, 2));
    assert_eq!(
        (load.running_memory_mib, load.reserved_memory_mib),
        (4096, 1024)
    );
    // Moving the running VM to b moves its load.
    a.host_id = f.b;
    let change = f
        .inv
        .validate(Mutation::Update(Object::Vm(a.clone())))
        .unwrap();
    f.inv.apply(&change);
    assert_eq!(f.inv.host_load(f.a).running_vms, 0);
    assert_eq!(f.inv.host_load(f.a).vms, 1);
    assert_eq!(f.inv.host_load(f.b).running_memory_mib, 4096);
    let change = f
        .inv
        .validate(Mutation::Delete(ObjectKind::Vm, a.id.0))
        .unwrap();
    f.inv.apply(&change);
    assert_eq!(f.inv.host_load(f.b), Default::default());
    let back: Inventory = serde_json::from_value(serde_json::to_value(&f.inv).unwrap()).unwrap();
    assert_eq!(back.host_load(f.a).vms, 1);
}
