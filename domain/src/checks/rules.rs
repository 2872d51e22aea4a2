//! The rules themselves. Each pushes results naming the objects involved, with wording close
//! to vCenter's, and a remedy.

use super::storage::{datastore_rules, shared_storage_rules};
use super::{CheckResult, MigrationKind, MigrationRequest, ObjectRef, Severity};
use crate::*;
use std::collections::BTreeSet;

/// vMotion links under this speed get a warning (Gbit/s).
pub const SLOW_LINK_GBPS: f64 = 1.0;
/// Free space to keep on a target datastore after a Storage vMotion (fraction of capacity).
pub const SPACE_HEADROOM: f64 = 0.05;
/// vCPUs per physical core on the target above which a warning is given.
pub const CPU_OVERCOMMIT_WARNING: f64 = 1.0;

/// A request resolved against the inventory: the VM, where it is, where it goes.
pub(crate) struct Plan<'a> {
    pub kind: MigrationKind,
    pub vm: &'a Vm,
    pub source: &'a Host,
    /// The host the VM runs on afterwards (the source for Storage vMotion).
    pub target: &'a Host,
    /// The datastore the disks go to (Storage vMotion and combined).
    pub datastore: Option<&'a Datastore>,
}

impl<'a> Plan<'a> {
    pub fn resolve(inv: &'a Inventory, req: &MigrationRequest) -> Result<Self, DomainError> {
        let vm = inv.vms.get(&req.vm_id).ok_or_else(|| {
            DomainError::invalid("vm_id", format!("vm_id: no VM has id {}", req.vm_id))
        })?;
        let source = inv.hosts.get(&vm.host_id).ok_or_else(|| {
            DomainError::invalid("vm_id", format!("VM {} is on an unknown host", vm.name))
        })?;
        let target = match (req.kind.moves_host(), req.target_host_id) {
            (true, None) => {
                return Err(DomainError::invalid(
                    "target_host_id",
                    format!("target_host_id: a {} needs a target host", req.kind.label()),
                ))
            }
            (false, Some(_)) => {
                return Err(DomainError::invalid(
                    "target_host_id",
                    "target_host_id: a Storage vMotion keeps the VM on its host; choose combined migration to change both",
                ))
            }
            (true, Some(id)) => inv.hosts.get(&id).ok_or_else(|| {
                DomainError::invalid("target_host_id", format!("target_host_id: no host has id {id}"))
            })?,
            (false, None) => source,
        };
        let datastore = match (req.kind.moves_storage(), req.target_datastore_id) {
            (true, None) => {
                return Err(DomainError::invalid(
                    "target_datastore_id",
                    format!("target_datastore_id: a {} needs a target datastore", req.kind.label()),
                ))
            }
            (false, Some(_)) => {
                return Err(DomainError::invalid(
                    "target_datastore_id",
                    "target_datastore_id: a vMotion keeps the disks where they are; choose combined migration to change both",
                ))
            }
            (true, Some(id)) => Some(inv.datastores.get(&id).ok_or_else(|| {
                DomainError::invalid(
                    "target_datastore_id",
                    format!("target_datastore_id: no datastore has id {id}"),
                )
            })?),
            (false, None) => None,
        };
        Ok(Plan {
            kind: req.kind,
            vm,
            source,
            target,
            datastore,
        })
    }

    fn hot(&self) -> bool {
        self.vm.power_state == PowerState::On
    }
}

pub(super) fn host_ref(h: &Host) -> ObjectRef {
    ObjectRef {
        kind: ObjectKind::Host,
        id: h.id.0,
        name: h.name.to_string(),
    }
}
pub(super) fn vm_ref(v: &Vm) -> ObjectRef {
    ObjectRef {
        kind: ObjectKind::Vm,
        id: v.id.0,
        name: v.name.to_string(),
    }
}
pub(super) fn ds_ref(d: &Datastore) -> ObjectRef {
    ObjectRef {
        kind: ObjectKind::Datastore,
        id: d.id.0,
        name: d.name.to_string(),
    }
}
pub(super) fn pg_ref(p: &Portgroup) -> ObjectRef {
    ObjectRef {
        kind: ObjectKind::Portgroup,
        id: p.id.0,
        name: p.name.to_string(),
    }
}

pub(super) struct Results(Vec<CheckResult>);

impl Results {
    /// A result of wording `code` (its rule's id is the code's first two parts), naming the
    /// values `args`.
    pub(super) fn push(
        &mut self,
        (code, args): (&str, &[(&str, &dyn std::fmt::Display)]),
        severity: Severity,
        message: String,
        remedy: &str,
        objects: Vec<ObjectRef>,
    ) {
        let id = code.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
        self.0.push(CheckResult {
            id,
            code: code.to_string(),
            args: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            severity,
            message,
            remedy: remedy.to_string(),
            objects,
        });
    }
}

pub fn run(inv: &Inventory, p: &Plan, busy: &BTreeSet<VmId>) -> Vec<CheckResult> {
    let mut r = Results(Vec::new());
    let vm = p.vm;
    let moves_host = p.kind.moves_host();

    // vm.powered_on: hot or cold.
    match vm.power_state {
        PowerState::On => r.push(
            ("vm.powered_on.on", &[("vm", &vm.name)]),
            Severity::Info,
            format!(
                "{} is powered on: live migration, it keeps running",
                vm.name
            ),
            "Nothing to do.",
            vec![vm_ref(vm)],
        ),
        state => r.push(
            (
                if state == PowerState::Off {
                    "vm.powered_on.off"
                } else {
                    "vm.powered_on.suspended"
                },
                &[("vm", &vm.name)],
            ),
            Severity::Info,
            format!(
                "{} is {}: cold migration, no memory transfer and no CPU compatibility check",
                vm.name,
                if state == PowerState::Off {
                    "powered off"
                } else {
                    "suspended"
                }
            ),
            "Nothing to do.",
            vec![vm_ref(vm)],
        ),
    }

    // vm.busy and ft.enabled: every kind.
    if busy.contains(&vm.id) {
        r.push(
            ("vm.busy", &[("vm", &vm.name)]),
            Severity::Error,
            format!("{} already has a migration queued or running", vm.name),
            "Wait for it to finish, or cancel it on the Tasks page.",
            vec![vm_ref(vm)],
        );
    }
    if vm.fault_tolerance {
        r.push(
            ("ft.enabled", &[("vm", &vm.name)]),
            Severity::Error,
            format!(
                "{} is protected by Fault Tolerance, which does not allow this migration",
                vm.name
            ),
            "Turn off Fault Tolerance for the VM, migrate it, then turn it on again.",
            vec![vm_ref(vm)],
        );
    }

    if moves_host {
        host_rules(inv, p, &mut r);
    }
    if p.kind == MigrationKind::VMotion {
        shared_storage_rules(inv, p, &mut r);
    }
    if let Some(ds) = p.datastore {
        datastore_rules(inv, p, ds, &mut r);
    }
    vcenter_rule(inv, p, &mut r);
    r.0
}

/// `vcenter.same`: a VM mirrored from a vCenter moves through it, within it; one of vmshift's
/// own stays out of a vCenter's hosts and datastores (docs/VCENTER.md#migrations).
fn vcenter_rule(inv: &Inventory, p: &Plan, r: &mut Results) {
    let of = |id: uuid::Uuid| {
        inv.sources
            .get(&id)
            .map(|s| (s.connection, s.vcenter.as_str()))
    };
    let vm_at = of(p.vm.id.0);
    let mut targets = vec![(of(p.target.id.0), host_ref(p.target))];
    if let Some(ds) = p.datastore {
        targets.push((of(ds.id.0), ds_ref(ds)));
    }
    for (at, object) in targets {
        if at.map(|a| a.0) == vm_at.map(|a| a.0) {
            continue;
        }
        let whose = |a: Option<(uuid::Uuid, &str)>| match a {
            Some((_, name)) => format!("vCenter {name}"),
            None => "vmshift's own inventory".to_string(),
        };
        let code = match (vm_at, at) {
            (None, _) => "vcenter.same.vm_own",
            (_, None) => "vcenter.same.target_own",
            _ => "vcenter.same.other",
        };
        let name = |a: Option<(uuid::Uuid, &str)>| a.map_or("", |a| a.1).to_string();
        r.push(
            (
                code,
                &[
                    ("vm", &p.vm.name),
                    ("vm_vcenter", &name(vm_at)),
                    ("target", &object.name.clone()),
                    ("target_vcenter", &name(at)),
                ],
            ),
            Severity::Error,
            format!(
                "{} is in {}, {} in {}: a VM moves within its vCenter",
                p.vm.name,
                whose(vm_at),
                object.name,
                whose(at)
            ),
            "Choose a target in the VM's own vCenter.",
            vec![vm_ref(p.vm), object],
        );
    }
}

fn host_rules(inv: &Inventory, p: &Plan, r: &mut Results) {
    let (vm, source, target) = (p.vm, p.source, p.target);
    if source.id == target.id {
        let code = if p.kind == MigrationKind::Combined {
            "host.target_same.combined"
        } else {
            "host.target_same.host"
        };
        r.push(
            (code, &[("vm", &vm.name), ("host", &target.name)]),
            Severity::Error,
            format!("{} already runs on {}", vm.name, target.name),
            if p.kind == MigrationKind::Combined {
                "Choose another host, or use Storage vMotion to move only the disks."
            } else {
                "Choose another host."
            },
            vec![vm_ref(vm), host_ref(target)],
        );
        return;
    }
    if target.state != HostState::Connected {
        let (state, code) = if target.state == HostState::Maintenance {
            ("in maintenance mode", "host.state.maintenance")
        } else {
            ("disconnected", "host.state.disconnected")
        };
        r.push(
            (code, &[("host", &target.name)]),
            Severity::Error,
            format!("The destination host {} is {state}", target.name),
            "Choose a connected host, or bring this one out of maintenance mode / reconnect it.",
            vec![host_ref(target)],
        );
    }
    if source.state == HostState::Disconnected {
        r.push(
            ("host.state.source_disconnected", &[("host", &source.name)]),
            Severity::Error,
            format!("The source host {} is disconnected", source.name),
            "Reconnect the source host first.",
            vec![host_ref(source)],
        );
    }

    vmotion_network_rules(p, r);
    cpu_and_resource_rules(inv, p, r);
    portgroup_rules(inv, p, r);
    device_rules(inv, p, r);
    r.0.extend(super::affinity::results(inv, p.vm, target));
}

/// The vMotion network of both hosts: a VMkernel adapter, its link, the IP family.
fn vmotion_network_rules(p: &Plan, r: &mut Results) {
    let (source, target) = (p.source, p.target);
    // The vMotion network.
    for (host, side) in [(source, "source"), (target, "destination")] {
        if !host.vmotion_enabled {
            r.push(
                (&format!("vmotion.vmknic.missing_{side}"), &[("host", &host.name)]),
                Severity::Error,
                format!(
                    "The vMotion interface is not configured (or is misconfigured) on the {side} host {}",
                    host.name
                ),
                "Enable the vMotion service on a VMkernel adapter of the host.",
                vec![host_ref(host)],
            );
        } else if host.vmotion_link_gbps.get() <= 0.0 {
            r.push(
                (
                    &format!("vmotion.vmknic.down_{side}"),
                    &[("host", &host.name)],
                ),
                Severity::Error,
                format!("The vMotion link of the {side} host {} is down", host.name),
                "Check the cabling and the physical switch port of the vMotion network.",
                vec![host_ref(host)],
            );
        } else if host.vmotion_link_gbps.get() < SLOW_LINK_GBPS {
            r.push(
                (
                    &format!("vmotion.link_speed.{side}"),
                    &[("host", &host.name), ("link_gbps", &host.vmotion_link_gbps.get())],
                ),
                Severity::Warning,
                format!(
                    "The vMotion link of the {side} host {} runs at {}: under 1 Gbit/s, the migration will be slow",
                    host.name,
                    crate::format::link(Lang::En, host.vmotion_link_gbps.get())
                ),
                "Use a 10 Gbit/s (or faster) network for vMotion.",
                vec![host_ref(host)],
            );
        }
    }
    if source.ip_family != target.ip_family {
        r.push(
            (
                "vmotion.ip_family",
                &[
                    ("source", &source.name),
                    ("source_ip", &ip(source.ip_family)),
                    ("target", &target.name),
                    ("target_ip", &ip(target.ip_family)),
                ],
            ),
            Severity::Error,
            format!(
                "The management networks of {} ({}) and {} ({}) use different IP versions",
                source.name,
                ip(source.ip_family),
                target.name,
                ip(target.ip_family)
            ),
            "Put both hosts' management (and vMotion) networks on the same IP version.",
            vec![host_ref(source), host_ref(target)],
        );
    }
}

/// The CPU of a running VM, and what the target host has left for it.
fn cpu_and_resource_rules(inv: &Inventory, p: &Plan, r: &mut Results) {
    let (vm, source, target) = (p.vm, p.source, p.target);
    // The CPU, for a running VM.
    if p.hot() {
        if source.cpu_vendor != target.cpu_vendor {
            r.push(
                (
                    "cpu.vendor",
                    &[
                        ("target", &target.name),
                        ("target_vendor", &vendor(target.cpu_vendor)),
                        ("source", &source.name),
                        ("source_vendor", &vendor(source.cpu_vendor)),
                    ],
                ),
                Severity::Error,
                format!(
                    "The CPU vendor of {} ({}) differs from that of {} ({}): a running VM cannot move between them",
                    target.name,
                    vendor(target.cpu_vendor),
                    source.name,
                    vendor(source.cpu_vendor)
                ),
                "Power off the VM and migrate it cold, or choose a host with the same CPU vendor.",
                vec![host_ref(source), host_ref(target)],
            );
        }
        let required = required_cpu_level(inv, p);
        if target.cpu_feature_level < required {
            r.push(
                (
                    "cpu.features",
                    &[
                        ("host", &target.name),
                        ("host_level", &target.cpu_feature_level),
                        ("vm", &p.vm.name),
                        ("vm_level", &required),
                    ],
                ),
                Severity::Error,
                format!(
                    "The CPU of {} (feature level {}) lacks features that {} uses (level {})",
                    target.name, target.cpu_feature_level, p.vm.name, required
                ),
                "Enable EVC on the source cluster at a level the target supports, or power off the VM and migrate it cold.",
                vec![vm_ref(p.vm), host_ref(target)],
            );
        }

        // Resources on the target.
        let load = inv.host_load(target.id);
        let free = target
            .memory_mib
            .get()
            .saturating_sub(load.running_memory_mib);
        if free < vm.memory_mib.get() {
            r.push(
                (
                    "resources.memory",
                    &[
                        ("host", &target.name),
                        ("free_mib", &free),
                        ("vm", &vm.name),
                        ("need_mib", &vm.memory_mib.get()),
                    ],
                ),
                Severity::Error,
                format!(
                    "Memory resource admission control failed: {} has {} free, {} needs {}",
                    target.name,
                    crate::format::mib(Lang::En, free),
                    vm.name,
                    crate::format::mib(Lang::En, vm.memory_mib.get())
                ),
                "Free memory on the target (move or power off other VMs) or choose another host.",
                vec![vm_ref(vm), host_ref(target)],
            );
        }
        let cores = u64::from(target.cores.get());
        let vcpus = u64::from(vm.vcpus.get());
        if vcpus > cores {
            r.push(
                (
                    "resources.cpu.cores",
                    &[
                        ("vm", &vm.name),
                        ("vcpus", &vcpus),
                        ("cores", &cores),
                        ("host", &target.name),
                    ],
                ),
                Severity::Error,
                format!(
                    "{} has {} vCPUs, more than the {} cores of {}",
                    vm.name, vcpus, cores, target.name
                ),
                "Reduce the VM's vCPUs or choose a bigger host.",
                vec![vm_ref(vm), host_ref(target)],
            );
        } else {
            let ratio = (load.running_vcpus + vcpus) as f64 / cores as f64;
            if ratio > CPU_OVERCOMMIT_WARNING {
                r.push(
                    (
                        "resources.cpu.contention",
                        &[
                            ("host", &target.name),
                            ("vcpus", &(load.running_vcpus + vcpus)),
                            ("cores", &cores),
                            ("per_core", &format!("{ratio:.1}")),
                        ],
                    ),
                    Severity::Warning,
                    format!(
                        "{} would run {} vCPUs on {} cores ({:.1} per core): CPU contention is likely",
                        target.name,
                        load.running_vcpus + vcpus,
                        cores,
                        ratio
                    ),
                    "Choose a less loaded host, or accept the contention.",
                    vec![host_ref(target)],
                );
            }
        }
    }
    if vm.cpu_affinity {
        r.push(
            ("affinity.cpu", &[("vm", &vm.name), ("host", &source.name)]),
            Severity::Error,
            format!(
                "{} has CPU affinity set: it is pinned to cores of {}",
                vm.name, source.name
            ),
            "Remove the CPU/memory affinity from the VM's settings.",
            vec![vm_ref(vm)],
        );
    }
}

/// Every NIC's port group must exist on the target.
fn portgroup_rules(inv: &Inventory, p: &Plan, r: &mut Results) {
    let (vm, target) = (p.vm, p.target);
    // The network: every NIC's port group must exist on the target.
    for (i, nic) in vm.nics.iter().enumerate() {
        let Some(pg) = inv.portgroups.get(&nic.portgroup_id) else {
            continue;
        };
        if inv.host_reaches_portgroup(target.id, pg) {
            continue;
        }
        let switch = match pg.attachment() {
            Some(PortgroupAttachment::Distributed(s)) => {
                inv.switches.get(&s).map(|s| s.name.as_str()).unwrap_or("?")
            }
            _ => "",
        };
        let (why, reach) = match pg.attachment() {
            Some(PortgroupAttachment::Standard(_)) => (
                "a standard-switch port group that exists only on the source host".to_string(),
                "standard",
            ),
            Some(PortgroupAttachment::Distributed(_)) => (
                format!(
                    "on distributed switch {switch}, of which {} is not a member",
                    target.name
                ),
                "distributed",
            ),
            None => ("not reachable".to_string(), "unreachable"),
        };
        let (severity, state) = if nic.connected {
            (Severity::Error, "connected")
        } else {
            (Severity::Warning, "disconnected")
        };
        r.push(
            (
                &format!("network.portgroup.{reach}_{state}"),
                &[
                    ("adapter", &(i + 1)),
                    ("vm", &vm.name),
                    ("portgroup", &pg.name),
                    ("switch", &switch),
                    ("host", &target.name),
                ],
            ),
            severity,
            format!(
                "Network adapter {} ({state}) of {} uses port group {}, {why}",
                i + 1,
                vm.name,
                pg.name
            ),
            "Move the adapter to a port group on a distributed switch that spans both hosts, or add the target host to the switch.",
            vec![vm_ref(vm), pg_ref(pg), host_ref(target)],
        );
    }
}

/// Devices the target cannot back.
fn device_rules(inv: &Inventory, p: &Plan, r: &mut Results) {
    let (vm, target) = (p.vm, p.target);
    // Devices the target cannot back.
    for device in &vm.devices {
        let label = device.kind.label();
        let problem = match (device.kind, device.backing, device.datastore_id) {
            (DeviceKind::Usb, _, _) => Some((
                format!(
                    "{label} of {} is passed through from {}",
                    vm.name, p.source.name
                ),
                "passthrough",
                String::new(),
            )),
            (_, DeviceBacking::HostDevice, _) => Some((
                format!(
                    "{label} of {} uses a physical device of {}",
                    vm.name, p.source.name
                ),
                "host_device",
                String::new(),
            )),
            (_, DeviceBacking::File, Some(ds_id)) => inv.datastores.get(&ds_id).and_then(|ds| {
                (!ds.host_ids.contains(&target.id)).then(|| {
                    (
                        format!(
                            "{label} of {} uses backing '[{}] …', which is not accessible from {}",
                            vm.name, ds.name, target.name
                        ),
                        "file",
                        ds.name.to_string(),
                    )
                })
            }),
            (_, DeviceBacking::File, None) => None,
        };
        if let Some((problem, how, datastore)) = problem {
            let (severity, prefix, state) = if device.connected {
                (Severity::Error, "Currently connected device", "connected")
            } else {
                (Severity::Warning, "Disconnected device", "disconnected")
            };
            let host = if how == "file" {
                &target.name
            } else {
                &p.source.name
            };
            r.push(
                (
                    &format!("device.local_backing.{how}_{state}"),
                    &[
                        ("device", &device.kind.as_str()),
                        ("vm", &vm.name),
                        ("host", host),
                        ("datastore", &datastore),
                    ],
                ),
                severity,
                format!("{prefix}: {problem}"),
                "Disconnect the device (or point it to a file on a shared datastore) before migrating.",
                vec![vm_ref(vm), host_ref(target)],
            );
        }
    }
}

/// The CPU feature level the VM needs: what it runs with, lowered to the source cluster's EVC.
fn required_cpu_level(inv: &Inventory, p: &Plan) -> u32 {
    let evc = inv
        .clusters
        .get(&p.source.cluster_id)
        .and_then(|c| c.evc_level);
    match evc {
        Some(level) => p.vm.cpu_feature_level.min(level),
        None => p.vm.cpu_feature_level,
    }
}

fn ip(f: IpFamily) -> &'static str {
    match f {
        IpFamily::V4 => "IPv4",
        IpFamily::V6 => "IPv6",
    }
}

fn vendor(v: CpuVendor) -> &'static str {
    match v {
        CpuVendor::Intel => "Intel",
        CpuVendor::Amd => "AMD",
    }
}
