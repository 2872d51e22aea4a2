//! The table of each kind of inventory object: its headers, and the row of cells of one
//! object (the server builds the rows of the page asked for: docs/DESIGN.md#paged-lists), in
//! the page's language (docs/DESIGN.md#languages).

use crate::i18n::{td_string, Locale};
use crate::lang::{fill, lang_of};
use domain::format;
use domain::*;

/// One table row: the object's id, its name and the other cells.
pub type Row = (uuid::Uuid, String, Vec<String>);

/// The row of object `id` of `kind`, if it exists.
pub fn row(locale: Locale, kind: ObjectKind, inv: &Inventory, id: uuid::Uuid) -> Option<Row> {
    let lang = lang_of(locale);
    let off = || td_string!(locale, tables.off).to_string();
    let host_name = |id: &HostId| {
        inv.hosts
            .get(id)
            .map(|h| h.name.to_string())
            .unwrap_or_default()
    };
    let hosts_list = |ids: &[HostId]| ids.iter().map(host_name).collect::<Vec<_>>().join(", ");
    Some(match kind {
        ObjectKind::Cluster => inv.clusters.get(&ClusterId(id)).map(|c| {
            let hosts = inv.hosts.values().filter(|h| h.cluster_id == c.id).count();
            let evc = c.evc_level.map(|l| l.to_string()).unwrap_or_else(off);
            (c.id.0, c.name.to_string(), vec![hosts.to_string(), evc])
        })?,
        ObjectKind::Host => inv.hosts.get(&HostId(id)).map(|h| {
            let cluster = inv
                .clusters
                .get(&h.cluster_id)
                .map(|c| c.name.to_string())
                .unwrap_or_default();
            let load = inv.host_load(h.id);
            let vmotion = if h.vmotion_enabled {
                format::link(lang, h.vmotion_link_gbps.get())
            } else {
                off()
            };
            (
                h.id.0,
                h.name.to_string(),
                vec![
                    cluster,
                    host_state(locale, h.state).to_string(),
                    format!("{:?} L{}", h.cpu_vendor, h.cpu_feature_level),
                    fill(
                        td_string!(locale, tables.cores_count),
                        &[("cores", h.cores.to_string())],
                    ),
                    format::mib(lang, h.memory_mib.get()),
                    vmotion,
                    load.vms.to_string(),
                ],
            )
        })?,
        ObjectKind::Datastore => inv.datastores.get(&DatastoreId(id)).map(|d| {
            (
                d.id.0,
                d.name.to_string(),
                vec![
                    datastore_kind(locale, d.kind).to_string(),
                    format::mib(lang, d.capacity_mib.get()),
                    format::mib(lang, inv.free_mib(d)),
                    hosts_list(&d.host_ids),
                ],
            )
        })?,
        ObjectKind::Switch => inv
            .switches
            .get(&SwitchId(id))
            .map(|s| (s.id.0, s.name.to_string(), vec![hosts_list(&s.host_ids)]))?,
        ObjectKind::Portgroup => inv.portgroups.get(&PortgroupId(id)).map(|p| {
            let on = match p.attachment() {
                Some(PortgroupAttachment::Distributed(s)) => format!(
                    "vDS {}",
                    inv.switches
                        .get(&s)
                        .map(|s| s.name.to_string())
                        .unwrap_or_default()
                ),
                Some(PortgroupAttachment::Standard(h)) => fill(
                    td_string!(locale, tables.standard_switch_of),
                    &[("host", host_name(&h))],
                ),
                None => String::new(),
            };
            (
                p.id.0,
                p.name.to_string(),
                vec![p.vlan.get().to_string(), on],
            )
        })?,
        ObjectKind::Vm => inv.vms.get(&VmId(id)).map(|v| {
            let disk: u64 = v.disks.iter().map(|d| d.capacity_mib.get()).sum();
            (
                v.id.0,
                v.name.to_string(),
                vec![
                    host_name(&v.host_id),
                    power_state(locale, v.power_state).to_string(),
                    v.vcpus.to_string(),
                    format::mib(lang, v.memory_mib.get()),
                    format::mib(lang, disk),
                ],
            )
        })?,
        ObjectKind::Rule => inv.rules.get(&RuleId(id)).map(|r| {
            let vms: Vec<String> = r
                .vm_ids
                .iter()
                .map(|v| {
                    inv.vms
                        .get(v)
                        .map(|v| v.name.to_string())
                        .unwrap_or_default()
                })
                .collect();
            let strength = match (r.enabled, r.is_hard()) {
                (false, _) => td_string!(locale, tables.disabled),
                (true, true) => td_string!(locale, tables.must),
                (true, false) => td_string!(locale, tables.should),
            };
            (
                r.id.0,
                r.name.to_string(),
                vec![
                    rule_kind(locale, r.kind).to_string(),
                    strength.to_string(),
                    vms.join(", "),
                    hosts_list(&r.host_ids),
                ],
            )
        })?,
    })
}

fn host_state(locale: Locale, state: HostState) -> &'static str {
    match state {
        HostState::Connected => td_string!(locale, states.connected),
        HostState::Maintenance => td_string!(locale, states.maintenance),
        HostState::Disconnected => td_string!(locale, states.disconnected),
    }
}

fn power_state(locale: Locale, state: PowerState) -> &'static str {
    match state {
        PowerState::On => td_string!(locale, states.powered_on),
        PowerState::Off => td_string!(locale, states.powered_off),
        PowerState::Suspended => td_string!(locale, states.suspended),
    }
}

fn datastore_kind(locale: Locale, kind: DatastoreKind) -> &'static str {
    match kind {
        DatastoreKind::Local => td_string!(locale, map.local),
        DatastoreKind::VmfsShared => td_string!(locale, map.vmfs_shared),
        DatastoreKind::Nfs => "NFS",
        DatastoreKind::Vsan => "vSAN",
    }
}

pub fn rule_kind(locale: Locale, kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::KeepTogether => td_string!(locale, tables.keep_together),
        RuleKind::KeepApart => td_string!(locale, tables.keep_apart),
        RuleKind::RunOnHosts => td_string!(locale, tables.run_on_hosts),
    }
}

/// The headers of a kind's table, after Name.
#[rustfmt::skip]
pub fn headers(locale: Locale, kind: ObjectKind) -> Vec<&'static str> {
    let t = |key: fn(Locale) -> &'static str| key(locale);
    match kind {
        ObjectKind::Cluster => vec![t(|l| td_string!(l, tables.hosts)), "EVC"],
        ObjectKind::Host => vec![
            t(|l| td_string!(l, tables.cluster)), t(|l| td_string!(l, tables.state)), "CPU",
            t(|l| td_string!(l, tables.cores)), t(|l| td_string!(l, tables.memory)), "vMotion",
            t(|l| td_string!(l, tables.vms)),
        ],
        ObjectKind::Datastore => vec![
            t(|l| td_string!(l, tables.kind)), t(|l| td_string!(l, tables.capacity)),
            t(|l| td_string!(l, tables.free)), t(|l| td_string!(l, tables.mounted_by)),
        ],
        ObjectKind::Switch => vec![t(|l| td_string!(l, tables.members))],
        ObjectKind::Portgroup => vec!["VLAN", t(|l| td_string!(l, tables.on))],
        ObjectKind::Vm => vec![
            t(|l| td_string!(l, tables.host)), t(|l| td_string!(l, tables.power)), "vCPU",
            t(|l| td_string!(l, tables.memory)), t(|l| td_string!(l, tables.disks)),
        ],
        ObjectKind::Rule => vec![
            t(|l| td_string!(l, tables.rule)), t(|l| td_string!(l, tables.strength)),
            t(|l| td_string!(l, tables.vms)), t(|l| td_string!(l, tables.hosts)),
        ],
    }
}

/// The field each header sorts by (aligned with [`headers`]; `None`: not sortable).
pub fn header_sorts(kind: ObjectKind) -> Vec<Option<&'static str>> {
    match kind {
        ObjectKind::Cluster => vec![Some("hosts"), Some("evc_level")],
        ObjectKind::Host => vec![
            Some("cluster"),
            Some("state"),
            Some("cpu_feature_level"),
            Some("cores"),
            Some("memory_mib"),
            None,
            Some("vms"),
        ],
        ObjectKind::Datastore => vec![Some("kind"), Some("capacity_mib"), Some("free_mib"), None],
        ObjectKind::Switch => vec![Some("hosts")],
        ObjectKind::Portgroup => vec![Some("vlan"), None],
        ObjectKind::Vm => vec![
            Some("host"),
            Some("power_state"),
            Some("vcpus"),
            Some("memory_mib"),
            Some("disk_mib"),
        ],
        ObjectKind::Rule => vec![Some("kind"), None, None, None],
    }
}
