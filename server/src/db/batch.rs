//! Many changes stored in few statements (docs/DESIGN.md#the-inventory-gate): a run of hosts
//! or VMs (an import of 45,000 VMs) is written as multi-row `INSERT … ON CONFLICT` and
//! `DELETE … IN`, in chunks of [`BOUND`] values. One VM is a run of one.

use super::inventory::{as_i64, enum_text, store_change};
use super::{DbError, Statement, Tx};
use domain::*;
use std::collections::HashSet;

/// Bound values per statement. SQLite allows 32,766, but the cost of a statement grows with
/// the square of its values (measured through sqlx: 2,500 hosts of 12 values in one statement
/// 3.5 s, in statements of 2,000 values a few milliseconds; docs/PERFORMANCE.md, "Issue 14").
const BOUND: usize = 500;

/// Stores `changes` in order, runs of host or VM upserts together. `stored` says which VMs
/// the database held before: the others have no disks, NICs or devices to replace (not
/// deleting them keeps PostgreSQL, whose statistics still call the tables empty mid-import,
/// from scanning them once per chunk).
pub async fn store_changes(
    tx: &mut Tx<'_>,
    changes: &[Change],
    stored: &HashSet<VmId>,
) -> Result<(), DbError> {
    let mut rest = changes;
    while let Some(first) = rest.first() {
        let kind = match first {
            Change::Upsert { object } => Some(object.kind()),
            Change::Delete { .. } | Change::Source { .. } | Change::Batch { .. } => None,
        };
        let run = rest
            .iter()
            .take_while(|c| matches!(c, Change::Upsert { object } if Some(object.kind()) == kind))
            .count()
            .max(1);
        let (now, later) = rest.split_at(run);
        match kind {
            Some(ObjectKind::Vm) => {
                let run = objects(now, |o| match o {
                    Object::Vm(v) => Some(v),
                    _ => None,
                });
                vms_known(tx, &run, |id| stored.contains(&id)).await?
            }
            Some(ObjectKind::Host) => {
                hosts(
                    tx,
                    &objects(now, |o| match o {
                        Object::Host(h) => Some(h),
                        _ => None,
                    }),
                )
                .await?
            }
            _ => {
                for c in now {
                    store_change(tx, c).await?;
                }
            }
        }
        rest = later;
    }
    Ok(())
}

fn objects<'c, T>(changes: &'c [Change], pick: impl Fn(&'c Object) -> Option<&'c T>) -> Vec<&'c T> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Upsert { object } => pick(object),
            Change::Delete { .. } | Change::Source { .. } | Change::Batch { .. } => None,
        })
        .collect()
}

const HOST_COLUMNS: usize = 12;

/// Hosts, inserted or replaced.
pub async fn hosts(tx: &mut Tx<'_>, hosts: &[&Host]) -> Result<(), DbError> {
    for chunk in hosts.chunks(BOUND / HOST_COLUMNS) {
        let mut s = Statement::new(
            "INSERT INTO hosts (id, name, cluster_id, cpu_vendor, cpu_feature_level, cores, cpu_mhz,
                memory_mib, state, vmotion_enabled, vmotion_link_gbps, ip_family)");
        s.values(chunk, |row, h| {
            row.bind(h.id.to_string())
                .bind(h.name.to_string())
                .bind(h.cluster_id.to_string())
                .bind(enum_text(&h.cpu_vendor))
                .bind(i64::from(h.cpu_feature_level))
                .bind(i64::from(h.cores.get()))
                .bind(i64::from(h.cpu_mhz.get()))
                .bind(as_i64(h.memory_mib.get()))
                .bind(enum_text(&h.state))
                .bind(i64::from(h.vmotion_enabled))
                .bind(h.vmotion_link_gbps.get())
                .bind(enum_text(&h.ip_family));
        });
        s.push(
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name, cluster_id = excluded.cluster_id,
                cpu_vendor = excluded.cpu_vendor, cpu_feature_level = excluded.cpu_feature_level,
                cores = excluded.cores, cpu_mhz = excluded.cpu_mhz, memory_mib = excluded.memory_mib,
                state = excluded.state, vmotion_enabled = excluded.vmotion_enabled,
                vmotion_link_gbps = excluded.vmotion_link_gbps, ip_family = excluded.ip_family",
        );
        s.execute(&mut **tx).await?;
    }
    Ok(())
}

const VM_COLUMNS: usize = 14;

/// VMs with their disks, NICs and devices (replaced whole).
pub async fn vms(tx: &mut Tx<'_>, vms: &[&Vm]) -> Result<(), DbError> {
    vms_known(tx, vms, |_| true).await
}

/// [`vms`], the children deleted only for those `stored` says may have some.
async fn vms_known(
    tx: &mut Tx<'_>,
    vms: &[&Vm],
    stored: impl Fn(VmId) -> bool,
) -> Result<(), DbError> {
    for chunk in vms.chunks(BOUND / VM_COLUMNS) {
        let mut s = Statement::new(
            "INSERT INTO vms (id, name, host_id, power_state, vcpus, memory_mib, memory_reservation_mib,
                cpu_feature_level, dirty_rate_mib_s, working_set_mib, zero_page_fraction,
                disk_write_mib_s, fault_tolerance, cpu_affinity)");
        s.values(chunk, |row, v| {
            row.bind(v.id.to_string())
                .bind(v.name.to_string())
                .bind(v.host_id.to_string())
                .bind(enum_text(&v.power_state))
                .bind(i64::from(v.vcpus.get()))
                .bind(as_i64(v.memory_mib.get()))
                .bind(as_i64(v.memory_reservation_mib))
                .bind(i64::from(v.cpu_feature_level))
                .bind(v.workload.dirty_rate_mib_s.get())
                .bind(v.workload.working_set_mib.map(|w| as_i64(w.get())))
                .bind(v.workload.zero_page_fraction.get())
                .bind(v.workload.disk_write_mib_s.get())
                .bind(i64::from(v.fault_tolerance))
                .bind(i64::from(v.cpu_affinity));
        });
        s.push(
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name, host_id = excluded.host_id,
                power_state = excluded.power_state, vcpus = excluded.vcpus,
                memory_mib = excluded.memory_mib, memory_reservation_mib = excluded.memory_reservation_mib,
                cpu_feature_level = excluded.cpu_feature_level, dirty_rate_mib_s = excluded.dirty_rate_mib_s,
                working_set_mib = excluded.working_set_mib, zero_page_fraction = excluded.zero_page_fraction,
                disk_write_mib_s = excluded.disk_write_mib_s, fault_tolerance = excluded.fault_tolerance,
                cpu_affinity = excluded.cpu_affinity",
        );
        s.execute(&mut **tx).await?;
        let old: Vec<&&Vm> = chunk.iter().filter(|v| stored(v.id)).collect();
        for table in ["vm_disks", "vm_nics", "vm_devices"] {
            if old.is_empty() {
                break;
            }
            let mut d = Statement::new(format!("DELETE FROM {table} WHERE vm_id IN ("));
            for (i, v) in old.iter().enumerate() {
                if i > 0 {
                    d.push(", ");
                }
                d.bind(v.id.to_string());
            }
            d.push(")");
            d.execute(&mut **tx).await?;
        }
        children(tx, chunk).await?;
    }
    Ok(())
}

/// The disks, NICs and devices of `vms`, each kind in multi-row inserts.
async fn children(tx: &mut Tx<'_>, vms: &[&Vm]) -> Result<(), DbError> {
    let disks: Vec<_> = vms
        .iter()
        .flat_map(|v| v.disks.iter().enumerate().map(move |(i, d)| (v.id, i, d)))
        .collect();
    for chunk in disks.chunks(BOUND / 6) {
        let mut s = Statement::new(
            "INSERT INTO vm_disks (vm_id, position, datastore_id, capacity_mib, used_mib, thin)",
        );
        s.values(chunk, |row, (vm, i, d)| {
            row.bind(vm.to_string())
                .bind(*i as i64)
                .bind(d.datastore_id.to_string())
                .bind(as_i64(d.capacity_mib.get()))
                .bind(as_i64(d.used_mib))
                .bind(i64::from(d.thin));
        });
        s.execute(&mut **tx).await?;
    }
    let nics: Vec<_> = vms
        .iter()
        .flat_map(|v| v.nics.iter().enumerate().map(move |(i, n)| (v.id, i, n)))
        .collect();
    for chunk in nics.chunks(BOUND / 4) {
        let mut s =
            Statement::new("INSERT INTO vm_nics (vm_id, position, portgroup_id, connected)");
        s.values(chunk, |row, (vm, i, n)| {
            row.bind(vm.to_string())
                .bind(*i as i64)
                .bind(n.portgroup_id.to_string())
                .bind(i64::from(n.connected));
        });
        s.execute(&mut **tx).await?;
    }
    let devices: Vec<_> = vms
        .iter()
        .flat_map(|v| v.devices.iter().enumerate().map(move |(i, d)| (v.id, i, d)))
        .collect();
    for chunk in devices.chunks(BOUND / 6) {
        let mut s = Statement::new(
            "INSERT INTO vm_devices (vm_id, position, kind, backing, datastore_id, connected)",
        );
        s.values(chunk, |row, (vm, i, d)| {
            row.bind(vm.to_string())
                .bind(*i as i64)
                .bind(enum_text(&d.kind))
                .bind(enum_text(&d.backing))
                .bind(d.datastore_id.map(|x| x.to_string()))
                .bind(i64::from(d.connected));
        });
        s.execute(&mut **tx).await?;
    }
    Ok(())
}
