//! Rolling maintenance of a cluster (docs/DESIGN.md#maintenance-plans): its hosts in turn,
//! `k` at a time, evacuated, put in maintenance mode, held there, brought back, and their VMs
//! returned where the checks allow. Refused up front when the other hosts cannot hold the
//! cluster's running VMs while `k` of them are out.

use super::placement::Placer;
use super::{MoveRequest, Step};
use crate::*;

pub(super) fn plan(
    w: &mut Placer<'_>,
    cluster: ClusterId,
    k: u32,
    maintenance_s: u32,
    notes: &mut Vec<Phrase>,
) -> Result<(Phrase, Vec<Step>), DomainError> {
    let name = w
        .inv
        .clusters
        .get(&cluster)
        .map(|c| c.name.to_string())
        .ok_or_else(|| {
            crate::inventory::validate::unknown("cluster_id", ObjectKind::Cluster, cluster)
        })?;
    let mut hosts: Vec<&Host> = w
        .inv
        .hosts
        .values()
        .filter(|h| h.cluster_id == cluster && h.state == HostState::Connected)
        .collect();
    hosts.sort_by(|a, b| a.name.cmp(&b.name));
    let k = k as usize;
    if k == 0 || k >= hosts.len() {
        return Err(DomainError::invalid(
            "at_a_time",
            Phrase::new(
                "refuse.at_a_time",
                &[
                    ("most", hosts.len().saturating_sub(1).to_string()),
                    ("count", hosts.len().to_string()),
                    ("cluster", name),
                ],
            ),
        ));
    }
    // The running VMs' memory must fit on the hosts left when the k largest are out.
    let needed: u64 = hosts
        .iter()
        .map(|h| w.inv.host_load(h.id).running_memory_mib)
        .sum();
    let mut sizes: Vec<u64> = hosts.iter().map(|h| h.memory_mib.get()).collect();
    sizes.sort_unstable();
    let left: u64 = sizes[..sizes.len() - k].iter().sum();
    if needed > left {
        return Err(DomainError::invalid(
            "at_a_time",
            Phrase::new(
                "refuse.at_a_time_memory",
                &[
                    ("k", k.to_string()),
                    ("cluster", name),
                    ("left_mib", left.to_string()),
                    ("needed_mib", needed.to_string()),
                ],
            ),
        ));
    }
    let groups: Vec<Vec<(HostId, String)>> = hosts
        .iter()
        .map(|h| (h.id, h.name.to_string()))
        .collect::<Vec<_>>()
        .chunks(k)
        .map(<[_]>::to_vec)
        .collect();
    let mut steps = Vec::new();
    for group in groups {
        let ids: Vec<HostId> = group.iter().map(|(id, _)| *id).collect();
        let names: Vec<&str> = group.iter().map(|(_, n)| n.as_str()).collect();
        let blocked_before = w.blockers.len();
        let homes: Vec<(VmId, HostId)> = w
            .inv
            .vms
            .values()
            .filter(|v| ids.contains(&v.host_id))
            .map(|v| (v.id, v.host_id))
            .collect();
        let hosts = ("hosts", names.join(", "));
        let moves = w.evacuate(
            &ids,
            &Phrase::new("plan.why.evacuate", std::slice::from_ref(&hosts)),
        );
        let moved: Vec<VmId> = moves.iter().map(|m| m.vm_id).collect();
        steps.push(Step::Moves { moves });
        if w.blockers.len() > blocked_before {
            notes.push(Phrase::new(
                "plan.note.hosts_stay",
                &[
                    hosts,
                    ("count", (w.blockers.len() - blocked_before).to_string()),
                ],
            ));
            continue;
        }
        for id in &ids {
            w.set_state(*id, HostState::Maintenance);
        }
        steps.push(Step::EnterMaintenance {
            host_ids: ids.clone(),
        });
        if maintenance_s > 0 {
            steps.push(Step::Hold {
                seconds: maintenance_s,
            });
        }
        for id in &ids {
            w.set_state(*id, HostState::Connected);
        }
        steps.push(Step::ExitMaintenance {
            host_ids: ids.clone(),
        });
        // Home again, where the checks allow (a VM that cannot go back stays, noted).
        let back: Vec<MoveRequest> = homes
            .iter()
            .filter(|(vm, _)| moved.contains(vm))
            .map(|(vm, host)| MoveRequest {
                vm_id: *vm,
                target_host_id: Some(*host),
                target_datastore_id: None,
                priority: None,
            })
            .collect();
        let before = w.blockers.len();
        let returns = w.wave(&back, &Phrase::new("plan.why.back", &[hosts]))?;
        // A VM that cannot go back is not a blocker of the maintenance: it stays where it is.
        for b in w.blockers.drain(before..) {
            notes.push(
                Phrase::new("plan.note.stays_where_it_went", &[("vm", b.vm_name)])
                    .with("reason", Phrase::check(&b.code, &b.args, &b.message)),
            );
        }
        steps.push(Step::Moves { moves: returns });
    }
    Ok((
        Phrase::new("plan.title.rolling", &[("cluster", name)]),
        steps,
    ))
}
