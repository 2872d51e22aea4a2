//! The table of each kind of inventory object: its headers, and the row of cells of one
//! object (the server builds the rows of the page asked for: docs/DESIGN.md#paged-lists).

use domain::format;
use domain::*;

/// One table row: the object's id, its name and the other cells.
pub type Row = (uuid::Uuid, String, Vec<String>);

/// The row of object `id` of `kind`, if it exists.
pub fn row(kind: ObjectKind, inv: &Inventory, id: uuid::Uuid) -> Option<Row> {
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
            let evc = c
                .evc_level
                .map(|l| l.to_string())
                .unwrap_or_else(|| "off".into());
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
                format::link(domain::Lang::En, h.vmotion_link_gbps.get())
            } else {
                "off".into()
            };
            (
                h.id.0,
                h.name.to_string(),
                vec![
                    cluster,
                    format!("{:?}", h.state).to_lowercase(),
                    format!("{:?} L{}", h.cpu_vendor, h.cpu_feature_level),
                    format!("{} cores", h.cores),
                    format::mib(domain::Lang::En, h.memory_mib.get()),
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
                    d.kind.label().to_string(),
                    format::mib(domain::Lang::En, d.capacity_mib.get()),
                    format::mib(domain::Lang::En, inv.free_mib(d)),
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
                Some(PortgroupAttachment::Standard(h)) => {
                    format!("standard switch of {}", host_name(&h))
                }
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
                    format!("{:?}", v.power_state).to_lowercase(),
                    v.vcpus.to_string(),
                    format::mib(domain::Lang::En, v.memory_mib.get()),
                    format::mib(domain::Lang::En, disk),
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
                (false, _) => "disabled",
                (true, true) => "must",
                (true, false) => "should",
            };
            (
                r.id.0,
                r.name.to_string(),
                vec![
                    r.kind.label().to_string(),
                    strength.to_string(),
                    vms.join(", "),
                    hosts_list(&r.host_ids),
                ],
            )
        })?,
    })
}

/// The headers of a kind's table, after Name.
pub fn headers(kind: ObjectKind) -> Vec<&'static str> {
    match kind {
        ObjectKind::Cluster => vec!["Hosts", "EVC"],
        ObjectKind::Host => vec![
            "Cluster", "State", "CPU", "Cores", "Memory", "vMotion", "VMs",
        ],
        ObjectKind::Datastore => vec!["Type", "Capacity", "Free", "Mounted by"],
        ObjectKind::Switch => vec!["Members"],
        ObjectKind::Portgroup => vec!["VLAN", "On"],
        ObjectKind::Vm => vec!["Host", "Power", "vCPUs", "Memory", "Disks"],
        ObjectKind::Rule => vec!["Rule", "Strength", "VMs", "Hosts"],
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
