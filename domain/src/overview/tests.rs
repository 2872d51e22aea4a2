use super::*;
use crate::generate::scale_inventory;

fn cluster_named<'a>(inv: &'a Inventory, name: &str) -> &'a Cluster {
    inv.clusters
        .values()
        .find(|c| c.name.as_str() == name)
        .unwrap()
}
fn host_named(inv: &Inventory, name: &str) -> Host {
    inv.hosts
        .values()
        .find(|h| h.name.as_str() == name)
        .unwrap()
        .clone()
}
fn vm_named(inv: &Inventory, name: &str) -> Vm {
    inv.vms
        .values()
        .find(|v| v.name.as_str() == name)
        .unwrap()
        .clone()
}

#[test]
fn a_tile_sums_its_hosts_vms_and_datastores() {
    let mut inv = scale_inventory(2, 3, 2);
    let mut host = host_named(&inv, "esx-000-001");
    host.state = HostState::Maintenance;
    inv.apply(&Change::Upsert {
        object: Object::Host(host),
    });
    let mut vm = vm_named(&inv, "vm-000-002-001");
    vm.power_state = PowerState::Off;
    inv.apply(&Change::Upsert {
        object: Object::Vm(vm),
    });

    let tiles = overview(&inv);
    assert_eq!(
        tiles.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["cluster-000", "cluster-001"]
    );
    let t = &tiles[0];
    assert_eq!((t.vms, t.running_vms, t.maintenance), (6, 5, 1));
    assert_eq!((t.vcpus, t.cores), (10, 3 * 64));
    assert_eq!((t.memory_mib, t.capacity_mib), (5 * 8192, 3 * 1024 * 1024));
    // Thin disks count what they use: 20 GiB each, on the cluster's one datastore.
    assert_eq!(
        (t.datastores, t.space_used_mib, t.space_mib),
        (1, 6 * 20 * 1024, 64 << 20)
    );
    let names: Vec<&str> = t.hosts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["esx-000-000", "esx-000-001", "esx-000-002"]);
    // 4 of 64 cores (6.25 %) outweighs 16 GiB of 1 TiB.
    assert_eq!(t.hosts[0].load, 6);
    assert_eq!(t.hosts[2].load, 3);
    assert_eq!(t.hosts[1].state, HostState::Maintenance);
    assert_eq!(t.hosts[0].vms, 2);
    assert_eq!(tiles[1].vms, 6);
    assert_eq!(tiles[1].running_vms, 6);
}

#[test]
fn a_change_touches_the_clusters_of_what_it_changes_before_and_after() {
    let inv = scale_inventory(3, 2, 1);
    let c: Vec<ClusterId> = ["cluster-000", "cluster-001", "cluster-002"]
        .iter()
        .map(|n| cluster_named(&inv, n).id)
        .collect();
    let touched = |change: &Change| {
        let mut after = inv.clone();
        let mut out = BTreeSet::new();
        inv.clusters_touched(change, &mut out);
        after.apply(change);
        after.clusters_touched(change, &mut out);
        out.into_iter().collect::<Vec<_>>()
    };
    let sorted = |mut v: Vec<ClusterId>| {
        v.sort();
        v
    };

    // A VM moved from cluster 0 to cluster 1 touches both, not cluster 2.
    let mut vm = vm_named(&inv, "vm-000-000-000");
    vm.host_id = host_named(&inv, "esx-001-000").id;
    let moved = Change::Upsert {
        object: Object::Vm(vm.clone()),
    };
    assert_eq!(touched(&moved), sorted(vec![c[0], c[1]]));
    // Deleting it touches the cluster it was in.
    let gone = Change::Delete {
        kind: ObjectKind::Vm,
        id: vm.id.0,
    };
    assert_eq!(touched(&gone), vec![c[0]]);
    // A datastore touches the clusters of the hosts that mount it.
    let ds = inv
        .datastores
        .values()
        .find(|d| d.name.as_str() == "san-002")
        .unwrap();
    let ds_change = Change::Upsert {
        object: Object::Datastore(ds.clone()),
    };
    assert_eq!(touched(&ds_change), vec![c[2]]);
    // A port group, through its switch.
    let pg = inv
        .portgroups
        .values()
        .find(|p| p.name.as_str() == "pg-001")
        .unwrap();
    let pg_change = Change::Upsert {
        object: Object::Portgroup(pg.clone()),
    };
    assert_eq!(touched(&pg_change), vec![c[1]]);
    // A batch touches what its parts touch; a new cluster touches itself.
    let new = Cluster {
        id: ClusterId::new_random(),
        name: Name::parse("new").unwrap(),
        evc_level: None,
    };
    let batch = Change::Batch {
        changes: vec![
            ds_change,
            Change::Upsert {
                object: Object::Cluster(new.clone()),
            },
        ],
    };
    assert_eq!(touched(&batch), sorted(vec![c[2], new.id]));
}

#[test]
fn a_scope_holds_what_its_clusters_show_and_nothing_else() {
    let inv = scale_inventory(3, 2, 2);
    let open: BTreeSet<ClusterId> = [cluster_named(&inv, "cluster-001").id].into();
    let part = inv.scope(&open);
    assert_eq!(part.clusters.len(), 1);
    // By name (the maps are keyed by random ids).
    let names = |it: Vec<&Name>| {
        let mut v = it.into_iter().map(|n| n.to_string()).collect::<Vec<_>>();
        v.sort();
        v
    };
    assert_eq!(
        names(part.hosts.values().map(|h| &h.name).collect()),
        ["esx-001-000", "esx-001-001"].map(String::from)
    );
    assert_eq!(part.vms.len(), 4);
    assert!(part
        .vms
        .values()
        .all(|v| v.name.as_str().starts_with("vm-001-")));
    assert_eq!(
        names(part.datastores.values().map(|d| &d.name).collect()),
        ["san-001".to_string()]
    );
    assert_eq!(
        names(part.switches.values().map(|s| &s.name).collect()),
        ["dvs-001".to_string()]
    );
    assert_eq!(
        names(part.portgroups.values().map(|p| &p.name).collect()),
        ["pg-001".to_string()]
    );
    // Its derived figures are the whole inventory's for what it holds.
    for h in part.hosts.keys() {
        assert_eq!(part.host_load(*h), inv.host_load(*h));
    }
    let ds = *part.datastores.keys().next().unwrap();
    assert_eq!(part.allocated_mib(ds, None), inv.allocated_mib(ds, None));
    // The tile is the same whether built from the part or the whole.
    let cluster = cluster_named(&inv, "cluster-001");
    assert_eq!(
        ClusterTile::of(&part, cluster),
        ClusterTile::of(&inv, cluster)
    );
    // Nothing open, nothing held.
    assert_eq!(inv.scope(&BTreeSet::new()), Inventory::default());
}

#[test]
fn a_scope_counts_the_space_that_vms_left_out_take_on_a_shared_datastore() {
    let mut inv = scale_inventory(2, 2, 2);
    // san-000 reaches every host; a VM of cluster-001 keeps its disks there.
    let shared = inv
        .datastores
        .values()
        .find(|d| d.name.as_str() == "san-000")
        .unwrap()
        .id;
    let all_hosts: Vec<HostId> = inv.hosts.keys().copied().collect();
    inv.datastores.get_mut(&shared).unwrap().host_ids = all_hosts;
    let guest = vm_named(&inv, "vm-001-000-000").id;
    for disk in &mut inv.vms.get_mut(&guest).unwrap().disks {
        disk.datastore_id = shared;
    }
    inv.reindex();

    let open: BTreeSet<ClusterId> = [cluster_named(&inv, "cluster-000").id].into();
    let part = inv.scope(&open);
    assert!(!part.vms.contains_key(&guest));
    let whole = inv.allocated_mib(shared, None);
    assert!(whole > part.outside[&shared], "{:?}", part.outside);
    assert_eq!(part.allocated_mib(shared, None), whole);
    // A VM of the part moving off it frees its own disks only.
    let own = vm_named(&inv, "vm-000-000-000").id;
    assert_eq!(
        part.allocated_mib(shared, Some(own)),
        inv.allocated_mib(shared, Some(own))
    );
    // The figure travels with the part (the browser reads it from JSON).
    let back: Inventory = serde_json::from_str(&serde_json::to_string(&part).unwrap()).unwrap();
    assert_eq!(back, part);
    assert_eq!(back.allocated_mib(shared, None), whole);
    // The whole inventory has nothing outside.
    assert!(inv.outside.is_empty());
    assert!(!serde_json::to_string(&inv).unwrap().contains("outside"));
}

#[test]
fn a_tile_change_carries_only_the_cells_that_changed_and_rebuilds_the_new_tile() {
    let mut inv = scale_inventory(1, 50, 4);
    let cluster = cluster_named(&inv, "cluster-000").clone();
    let before = ClusterTile::of(&inv, &cluster);
    // A VM moves from esx-000-003 to esx-000-004: two cells change, the sums stay.
    let mut vm = vm_named(&inv, "vm-000-003-000");
    vm.host_id = host_named(&inv, "esx-000-004").id;
    inv.apply(&Change::Upsert {
        object: Object::Vm(vm),
    });
    let after = ClusterTile::of(&inv, &cluster);
    let change = TileChange::between(Some(&before), &after);
    assert_eq!(change.cells, Some(vec![3, 4]));
    let names: Vec<&str> = change.tile.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["esx-000-003", "esx-000-004"]);
    assert_eq!(
        (change.tile.vms, change.tile.cores),
        (after.vms, after.cores)
    );
    // A tenth of the whole tile's size on the wire.
    let (small, whole) = (
        serde_json::to_string(&change).unwrap().len(),
        serde_json::to_string(&after).unwrap().len(),
    );
    assert!(small * 5 < whole, "{small} vs {whole}");
    // Through JSON, applied to the held tile: the new tile.
    let back: TileChange = serde_json::from_str(&serde_json::to_string(&change).unwrap()).unwrap();
    assert_eq!(back.apply(Some(&before)), Some(after.clone()));
    // Without a held tile, cells cannot be applied.
    assert_eq!(change.clone().apply(None), None);

    // A host added: the whole tile.
    let mut host = host_named(&inv, "esx-000-049");
    host.id = HostId(uuid::Uuid::from_u128(7));
    host.name = Name::parse("esx-000-050").unwrap();
    inv.apply(&Change::Upsert {
        object: Object::Host(host),
    });
    let grown = ClusterTile::of(&inv, &cluster);
    let change = TileChange::between(Some(&after), &grown);
    assert_eq!(change.cells, None);
    assert_eq!(change.clone().apply(Some(&after)), Some(grown.clone()));
    assert_eq!(change.apply(None), Some(grown));
}
