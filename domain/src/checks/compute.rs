//! The compute checks of a move to another host (docs/DESIGN.md#checks): the CPU a running
//! VM needs (vendor, feature level under EVC), the memory and cores the target has left, and
//! CPU affinity.

use super::rules::{host_ref, vm_ref, Plan, Results};
use super::{Severity, CPU_OVERCOMMIT_WARNING};
use crate::*;
/// The CPU of a running VM, and what the target host has left for it.
pub(super) fn cpu_and_resource_rules(inv: &Inventory, p: &Plan, r: &mut Results) {
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

fn vendor(v: CpuVendor) -> &'static str {
    match v {
        CpuVendor::Intel => "Intel",
        CpuVendor::Amd => "AMD",
    }
}
