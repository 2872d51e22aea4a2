//! The network checks of a move to another host (docs/DESIGN.md#checks): the vMotion
//! network of both hosts, and every network adapter's port group on the target.

use super::rules::{host_ref, pg_ref, vm_ref, Plan, Results};
use super::{Severity, SLOW_LINK_GBPS};
use crate::*;
/// The vMotion network of both hosts: a VMkernel adapter, its link, the IP family.
pub(super) fn vmotion_network_rules(p: &Plan, r: &mut Results) {
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

/// Every NIC's port group must exist on the target.
pub(super) fn portgroup_rules(inv: &Inventory, p: &Plan, r: &mut Results) {
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

fn ip(f: IpFamily) -> &'static str {
    match f {
        IpFamily::V4 => "IPv4",
        IpFamily::V6 => "IPv6",
    }
}
