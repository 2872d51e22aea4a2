//! Every rule fires and passes with the severity it should; the five prerequisites of the
//! design note each have a named test.

use super::*;
use crate::testing::*;
use crate::*;

struct Lab {
    f: Fixture,
    /// A running VM on host a: disk on the shared datastore, NIC on the vDS.
    web: VmId,
}

fn lab() -> Lab {
    let mut f = fixture();
    let web = vm(
        "web",
        f.a,
        vec![disk(f.shared, 10_000, 2_000, true)],
        vec![nic(f.pg_vds)],
    );
    let id = web.id;
    put(&mut f.inv, Object::Vm(web));
    Lab { f, web: id }
}

fn put(inv: &mut Inventory, o: Object) {
    let m = if inv.contains(o.kind(), o.id()) {
        Mutation::Update(o)
    } else {
        Mutation::Create(o)
    };
    let change = inv.validate(m).expect("valid change");
    inv.apply(&change);
}

fn vmotion(vm: VmId, to: HostId) -> MigrationRequest {
    MigrationRequest {
        vm_id: vm,
        kind: MigrationKind::VMotion,
        target_host_id: Some(to),
        target_datastore_id: None,
        options: Default::default(),
    }
}

fn svmotion(vm: VmId, to: DatastoreId) -> MigrationRequest {
    MigrationRequest {
        vm_id: vm,
        kind: MigrationKind::StorageVMotion,
        target_host_id: None,
        target_datastore_id: Some(to),
        options: Default::default(),
    }
}

fn combined(vm: VmId, host: HostId, ds: DatastoreId) -> MigrationRequest {
    MigrationRequest {
        vm_id: vm,
        kind: MigrationKind::Combined,
        target_host_id: Some(host),
        target_datastore_id: Some(ds),
        options: Default::default(),
    }
}

fn check(inv: &Inventory, req: &MigrationRequest) -> CheckReport {
    check_migration(inv, req, &BTreeSet::new()).expect("a well-formed request")
}

/// The severities with which a rule fired.
fn fired(report: &CheckReport, id: &str) -> Vec<Severity> {
    report
        .results
        .iter()
        .filter(|r| r.id == id)
        .map(|r| r.severity)
        .collect()
}

/// The severities with which a rule fired for the lab VM's vMotion to host b.
fn fired_to_b(l: &Lab, id: &str) -> Vec<Severity> {
    fired(&check(&l.f.inv, &vmotion(l.web, l.f.b)), id)
}

fn edit_host(inv: &mut Inventory, id: HostId, f: impl FnOnce(&mut Host)) {
    let mut h = inv.hosts[&id].clone();
    f(&mut h);
    put(inv, Object::Host(h));
}

fn edit_vm(inv: &mut Inventory, id: VmId, f: impl FnOnce(&mut Vm)) {
    let mut v = inv.vms[&id].clone();
    f(&mut v);
    put(inv, Object::Vm(v));
}

#[test]
fn a_clean_vmotion_is_allowed_with_only_information() {
    let l = lab();
    let report = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert!(report.allowed, "{report:#?}");
    assert_eq!(fired(&report, "vm.powered_on"), [Severity::Info]);
    assert_eq!(
        report.count(Severity::Error) + report.count(Severity::Warning),
        0,
        "{report:#?}"
    );
}

#[test]
fn powered_off_vms_migrate_cold_without_cpu_or_memory_checks() {
    let mut l = lab();
    edit_host(&mut l.f.inv, l.f.b, |h| {
        h.cpu_vendor = CpuVendor::Amd;
        h.cpu_feature_level = 1;
        h.memory_mib = nz64(1024);
    });
    let hot = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert_eq!(fired(&hot, "cpu.vendor"), [Severity::Error]);
    assert_eq!(fired(&hot, "cpu.features"), [Severity::Error]);
    assert_eq!(fired(&hot, "resources.memory"), [Severity::Error]);
    edit_vm(&mut l.f.inv, l.web, |v| v.power_state = PowerState::Off);
    let cold = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert!(cold.allowed, "{cold:#?}");
    assert!(
        cold.results[0].message.contains("cold migration"),
        "{cold:#?}"
    );
}

#[test]
fn host_target_same_and_host_state() {
    let mut l = lab();
    let same = check(&l.f.inv, &vmotion(l.web, l.f.a));
    assert_eq!(fired(&same, "host.target_same"), [Severity::Error]);
    assert!(fired_to_b(&l, "host.state").is_empty());
    edit_host(&mut l.f.inv, l.f.b, |h| h.state = HostState::Maintenance);
    let report = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert_eq!(fired(&report, "host.state"), [Severity::Error]);
    assert!(report
        .first_error()
        .unwrap()
        .message
        .contains("maintenance mode"));
    edit_host(&mut l.f.inv, l.f.b, |h| h.state = HostState::Disconnected);
    assert_eq!(fired_to_b(&l, "host.state"), [Severity::Error]);
}

#[test]
fn prerequisite_vmotion_enabled_on_both_hosts() {
    let mut l = lab();
    assert!(fired_to_b(&l, "vmotion.vmknic").is_empty());
    edit_host(&mut l.f.inv, l.f.b, |h| h.vmotion_enabled = false);
    let report = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert_eq!(fired(&report, "vmotion.vmknic"), [Severity::Error]);
    assert!(report.first_error().unwrap().message.contains(
        "The vMotion interface is not configured (or is misconfigured) on the destination host esx-b"
    ));
    edit_host(&mut l.f.inv, l.f.b, |h| h.vmotion_enabled = true);
    edit_host(&mut l.f.inv, l.f.a, |h| {
        h.vmotion_link_gbps = LinkGbps::parse(0.0).unwrap()
    });
    let report = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert_eq!(fired(&report, "vmotion.vmknic"), [Severity::Error]);
    assert!(report
        .first_error()
        .unwrap()
        .message
        .contains("source host esx-a is down"));
    // Storage vMotion does not use the vMotion network.
    let sv = check(&l.f.inv, &svmotion(l.web, l.f.local_a));
    assert!(fired(&sv, "vmotion.vmknic").is_empty());
}

#[test]
fn prerequisite_fast_vmotion_network() {
    let mut l = lab();
    assert!(fired_to_b(&l, "vmotion.link_speed").is_empty());
    edit_host(&mut l.f.inv, l.f.b, |h| {
        h.vmotion_link_gbps = LinkGbps::parse(0.5).unwrap()
    });
    let report = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert_eq!(fired(&report, "vmotion.link_speed"), [Severity::Warning]);
    assert!(report.allowed, "a slow link warns, it does not block");
}

#[test]
fn vmotion_ip_family() {
    let mut l = lab();
    assert!(fired_to_b(&l, "vmotion.ip_family").is_empty());
    edit_host(&mut l.f.inv, l.f.b, |h| h.ip_family = IpFamily::V6);
    assert_eq!(fired_to_b(&l, "vmotion.ip_family"), [Severity::Error]);
}

#[test]
fn cpu_vendor_and_features_with_evc() {
    let mut l = lab();
    // The VM runs with level 4 (fixture); the target has 5.
    assert!(fired_to_b(&l, "cpu.features").is_empty());
    edit_host(&mut l.f.inv, l.f.b, |h| h.cpu_feature_level = 3);
    let report = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert_eq!(fired(&report, "cpu.features"), [Severity::Error]);
    assert!(report
        .first_error()
        .unwrap()
        .message
        .contains("feature level 3"));
    // EVC at level 3 on the cluster lowers what the VM needs.
    let mut c = l.f.inv.clusters[&l.f.cluster].clone();
    c.evc_level = Some(3);
    put(&mut l.f.inv, Object::Cluster(c));
    assert!(fired_to_b(&l, "cpu.features").is_empty());
    edit_host(&mut l.f.inv, l.f.b, |h| h.cpu_vendor = CpuVendor::Amd);
    assert_eq!(fired_to_b(&l, "cpu.vendor"), [Severity::Error]);
}

#[test]
fn prerequisite_storage_independent_of_the_host_and_shared() {
    let mut l = lab();
    let report = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert!(fired(&report, "storage.local").is_empty());
    assert!(fired(&report, "storage.shared").is_empty());
    // A disk on host a's local datastore: refused, with combined migration as the way out.
    let local = vm(
        "local",
        l.f.a,
        vec![disk(l.f.local_a, 100, 10, true)],
        vec![],
    );
    let id = local.id;
    put(&mut l.f.inv, Object::Vm(local));
    let report = check(&l.f.inv, &vmotion(id, l.f.b));
    assert_eq!(fired(&report, "storage.local"), [Severity::Error]);
    assert_eq!(fired(&report, "storage.shared"), [Severity::Error]);
    assert!(report.results.iter().any(|r| r
        .message
        .contains("esx-b does not mount datastore local-a that holds disk 1 of local")));
    assert!(report
        .results
        .iter()
        .any(|r| r.remedy.contains("combined migration")));
    // Combined migration to the shared datastore is allowed.
    assert!(check(&l.f.inv, &combined(id, l.f.b, l.f.shared)).allowed);
}

#[test]
fn prerequisite_network_through_the_vds() {
    let mut l = lab();
    assert!(fired_to_b(&l, "network.portgroup").is_empty());
    edit_vm(&mut l.f.inv, l.web, |v| {
        v.nics.push(Nic {
            portgroup_id: l.f.pg_std_a,
            connected: false,
        })
    });
    let report = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert_eq!(fired(&report, "network.portgroup"), [Severity::Warning]);
    assert!(report.allowed);
    edit_vm(&mut l.f.inv, l.web, |v| v.nics[1].connected = true);
    let report = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert_eq!(fired(&report, "network.portgroup"), [Severity::Error]);
    assert!(report
        .first_error()
        .unwrap()
        .message
        .contains("standard-switch port group"));
    // A vDS the target is not a member of.
    edit_vm(&mut l.f.inv, l.web, |v| v.nics.truncate(1));
    let mut sw = l.f.inv.switches[&l.f.vds].clone();
    sw.host_ids = vec![l.f.a];
    // Host b has no VM on the switch, so it may leave it.
    put(&mut l.f.inv, Object::Switch(sw));
    let report = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert_eq!(fired(&report, "network.portgroup"), [Severity::Error]);
    assert!(report
        .first_error()
        .unwrap()
        .message
        .contains("distributed switch dvs-01, of which esx-b is not a member"));
}

#[test]
fn device_local_backing() {
    let mut l = lab();
    let device = |kind, backing, datastore_id, connected| Device {
        kind,
        backing,
        datastore_id,
        connected,
    };
    edit_vm(&mut l.f.inv, l.web, |v| {
        v.devices.push(device(
            DeviceKind::Cdrom,
            DeviceBacking::File,
            Some(l.f.shared),
            true,
        ))
    });
    assert!(fired_to_b(&l, "device.local_backing").is_empty());
    edit_vm(&mut l.f.inv, l.web, |v| {
        v.devices[0].datastore_id = Some(l.f.local_a)
    });
    let report = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert_eq!(fired(&report, "device.local_backing"), [Severity::Error]);
    assert!(report.first_error().unwrap().message.starts_with(
        "Currently connected device: CD/DVD drive of web uses backing '[local-a] …', which is not accessible"
    ));
    edit_vm(&mut l.f.inv, l.web, |v| v.devices[0].connected = false);
    assert_eq!(fired_to_b(&l, "device.local_backing"), [Severity::Warning]);
    edit_vm(&mut l.f.inv, l.web, |v| {
        v.devices = vec![device(
            DeviceKind::Usb,
            DeviceBacking::HostDevice,
            None,
            true,
        )]
    });
    assert_eq!(fired_to_b(&l, "device.local_backing"), [Severity::Error]);
    edit_vm(&mut l.f.inv, l.web, |v| {
        v.devices = vec![device(
            DeviceKind::Serial,
            DeviceBacking::HostDevice,
            None,
            false,
        )]
    });
    assert_eq!(fired_to_b(&l, "device.local_backing"), [Severity::Warning]);
}

#[test]
fn prerequisite_target_resources_available() {
    let mut l = lab();
    let report = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert!(fired(&report, "resources.memory").is_empty());
    assert!(fired(&report, "resources.cpu").is_empty());
    // Fill host b's memory with a running VM: 256 GiB host, 254 GiB used, the VM needs 4.
    let hog = Vm {
        memory_mib: nz64(254 * 1024),
        ..vm("hog", l.f.b, vec![], vec![])
    };
    put(&mut l.f.inv, Object::Vm(hog));
    let report = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert_eq!(fired(&report, "resources.memory"), [Severity::Error]);
    assert!(report
        .first_error()
        .unwrap()
        .message
        .starts_with("Memory resource admission control failed"));
    // More vCPUs than the target has cores: an error; more vCPUs than cores in total: a warning.
    let mut l = lab();
    edit_vm(&mut l.f.inv, l.web, |v| v.vcpus = nz32(33));
    assert_eq!(fired_to_b(&l, "resources.cpu"), [Severity::Error]);
    edit_vm(&mut l.f.inv, l.web, |v| v.vcpus = nz32(16));
    let busy_host = Vm {
        vcpus: nz32(20),
        ..vm("busy", l.f.b, vec![], vec![])
    };
    put(&mut l.f.inv, Object::Vm(busy_host));
    let report = check(&l.f.inv, &vmotion(l.web, l.f.b));
    assert_eq!(fired(&report, "resources.cpu"), [Severity::Warning]);
    assert!(report.allowed);
}

#[test]
fn datastore_target_same_space_and_reachable() {
    let mut l = lab();
    let same = check(&l.f.inv, &svmotion(l.web, l.f.shared));
    assert_eq!(fired(&same, "datastore.target_same"), [Severity::Error]);
    // Host a mounts local-a: reachable; space: 2,000 MiB thin + 5 % headroom of 10,000 fits.
    let ok = check(&l.f.inv, &svmotion(l.web, l.f.local_a));
    assert!(ok.allowed, "{ok:#?}");
    // Not enough room once local-a is nearly full.
    let filler = vm(
        "filler",
        l.f.a,
        vec![disk(l.f.local_a, 7_600, 7_600, false)],
        vec![],
    );
    put(&mut l.f.inv, Object::Vm(filler));
    let full = check(&l.f.inv, &svmotion(l.web, l.f.local_a));
    assert_eq!(fired(&full, "datastore.space"), [Severity::Error]);
    assert!(full
        .first_error()
        .unwrap()
        .message
        .starts_with("Insufficient disk space on datastore local-a"));
    // A VM on host b cannot Storage vMotion to host a's local datastore.
    let on_b = vm("on-b", l.f.b, vec![disk(l.f.shared, 100, 10, true)], vec![]);
    let id = on_b.id;
    put(&mut l.f.inv, Object::Vm(on_b));
    let report = check(&l.f.inv, &svmotion(id, l.f.local_a));
    assert_eq!(fired(&report, "datastore.reachable"), [Severity::Error]);
    // Combined to host a with local-a: reachable from the target host.
    let report = check(&l.f.inv, &combined(id, l.f.a, l.f.local_a));
    assert!(
        fired(&report, "datastore.reachable").is_empty(),
        "{report:#?}"
    );
}

#[test]
fn fault_tolerance_affinity_and_busy_block_every_kind() {
    let mut l = lab();
    edit_vm(&mut l.f.inv, l.web, |v| v.fault_tolerance = true);
    for req in [
        vmotion(l.web, l.f.b),
        svmotion(l.web, l.f.local_a),
        combined(l.web, l.f.b, l.f.shared),
    ] {
        assert_eq!(
            fired(&check(&l.f.inv, &req), "ft.enabled"),
            [Severity::Error],
            "{req:?}"
        );
    }
    edit_vm(&mut l.f.inv, l.web, |v| {
        v.fault_tolerance = false;
        v.cpu_affinity = true;
    });
    assert_eq!(fired_to_b(&l, "affinity.cpu"), [Severity::Error]);
    // Affinity pins to the host's cores: moving only the disks is fine.
    assert!(fired(
        &check(&l.f.inv, &svmotion(l.web, l.f.local_a)),
        "affinity.cpu"
    )
    .is_empty());
    let busy = BTreeSet::from([l.web]);
    let report = check_migration(&l.f.inv, &svmotion(l.web, l.f.local_a), &busy).unwrap();
    assert_eq!(fired(&report, "vm.busy"), [Severity::Error]);
    assert!(fired(&check(&l.f.inv, &svmotion(l.web, l.f.local_a)), "vm.busy").is_empty());
}

#[test]
fn malformed_requests_name_the_field() {
    let l = lab();
    let field = |req: MigrationRequest| {
        check_migration(&l.f.inv, &req, &BTreeSet::new())
            .unwrap_err()
            .field
    };
    let mut req = vmotion(l.web, l.f.b);
    req.target_host_id = None;
    assert_eq!(field(req).as_deref(), Some("target_host_id"));
    let mut req = svmotion(l.web, l.f.shared);
    req.target_datastore_id = None;
    assert_eq!(field(req).as_deref(), Some("target_datastore_id"));
    let mut req = vmotion(l.web, l.f.b);
    req.target_datastore_id = Some(l.f.shared);
    assert_eq!(field(req).as_deref(), Some("target_datastore_id"));
    assert_eq!(
        field(vmotion(VmId::new_random(), l.f.b)).as_deref(),
        Some("vm_id")
    );
    assert_eq!(
        field(vmotion(l.web, HostId::new_random())).as_deref(),
        Some("target_host_id")
    );
    assert_eq!(
        field(combined(l.web, l.f.b, DatastoreId::new_random())).as_deref(),
        Some("target_datastore_id")
    );
}

#[test]
fn results_are_sorted_errors_first_and_every_rule_id_is_known() {
    let mut l = lab();
    edit_host(&mut l.f.inv, l.f.b, |h| {
        h.vmotion_link_gbps = LinkGbps::parse(0.5).unwrap();
        h.state = HostState::Maintenance;
    });
    let report = check(&l.f.inv, &vmotion(l.web, l.f.b));
    let severities: Vec<Severity> = report.results.iter().map(|r| r.severity).collect();
    let mut sorted = severities.clone();
    sorted.sort();
    assert_eq!(severities, sorted);
    assert!(!report.allowed);
    for r in &report.results {
        assert!(RULE_IDS.contains(&r.id.as_str()), "{}", r.id);
        assert!(!r.remedy.is_empty());
    }
}

#[test]
fn targets_are_ranked_valid_first_then_by_free_resources() {
    let mut l = lab();
    let c = host(l.f.cluster, "esx-c");
    let c_id = c.id;
    put(&mut l.f.inv, Object::Host(c));
    let hog = Vm {
        memory_mib: nz64(100 * 1024),
        ..vm("hog", l.f.b, vec![], vec![])
    };
    put(&mut l.f.inv, Object::Vm(hog));
    let t = rank_targets(
        &l.f.inv,
        l.web,
        MigrationKind::VMotion,
        None,
        None,
        &BTreeSet::new(),
    )
    .unwrap();
    let names: Vec<(&str, bool)> = t
        .hosts
        .iter()
        .map(|h| (h.name.as_str(), h.allowed))
        .collect();
    // esx-c reaches neither the shared datastore nor the vDS: not allowed. esx-b has less
    // free memory than... esx-a is the VM's own host: not allowed either.
    assert_eq!(names[0], ("esx-b", true));
    assert!(!t.hosts.iter().find(|h| h.id == c_id.0).unwrap().allowed);
    let own = t.hosts.iter().find(|h| h.id == l.f.a.0).unwrap();
    assert!(own
        .first_error
        .as_deref()
        .unwrap()
        .contains("already runs on esx-a"));
    assert!(t.datastores.is_empty());

    let t = rank_targets(
        &l.f.inv,
        l.web,
        MigrationKind::StorageVMotion,
        None,
        None,
        &BTreeSet::new(),
    )
    .unwrap();
    assert!(t.hosts.is_empty());
    assert_eq!(t.datastores[0].name, "local-a");
    assert!(t.datastores[0].allowed);
    assert!(
        !t.datastores[1].allowed,
        "the shared datastore already holds the disk"
    );

    // Combined: hosts are judged on host rules only (the placeholder datastore is the VM's own).
    let t = rank_targets(
        &l.f.inv,
        l.web,
        MigrationKind::Combined,
        None,
        None,
        &BTreeSet::new(),
    )
    .unwrap();
    assert!(
        t.hosts.iter().find(|h| h.id == l.f.b.0).unwrap().allowed,
        "{t:#?}"
    );
    // ... and datastores on datastore rules against the chosen host: esx-b does not mount local-a.
    let t = rank_targets(
        &l.f.inv,
        l.web,
        MigrationKind::Combined,
        Some(l.f.b),
        None,
        &BTreeSet::new(),
    )
    .unwrap();
    let local = t.datastores.iter().find(|d| d.id == l.f.local_a.0).unwrap();
    assert!(!local.allowed);
    assert!(local
        .first_error
        .as_deref()
        .unwrap()
        .contains("does not mount"));

    assert!(rank_targets(
        &l.f.inv,
        VmId::new_random(),
        MigrationKind::VMotion,
        None,
        None,
        &BTreeSet::new()
    )
    .is_err());
}
