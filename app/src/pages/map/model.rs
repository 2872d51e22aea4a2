//! What the cluster map shows, derived from the inventory (pure, so it is tested directly and
//! its cost measured): clusters with their hosts in columns, the VMs on each host, and below
//! them one bar per datastore or switch spanning the columns of the hosts it reaches.

use crate::i18n::td_string;
use crate::lang::{fill, locale_of};
use domain::format;
use domain::*;

#[derive(Debug, Clone, PartialEq)]
pub struct MapModel {
    pub clusters: Vec<ClusterView>,
    pub unplaced_datastores: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterView {
    pub id: ClusterId,
    pub name: String,
    pub evc_level: Option<u32>,
    /// The vCenter it is mirrored from (docs/VCENTER.md#mirrored-objects).
    pub vcenter: Option<String>,
    pub hosts: Vec<HostView>,
    pub fabric: Vec<FabricBar>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HostView {
    pub id: HostId,
    pub name: String,
    pub state: HostState,
    pub vendor: CpuVendor,
    pub vmotion: String,
    pub cpu_percent: f64,
    pub cpu_label: String,
    pub memory_percent: f64,
    pub memory_label: String,
    pub vms: Vec<VmChip>,
    /// Datastores only this host mounts, shown inside its card.
    pub local_datastores: Vec<LocalDatastore>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LocalDatastore {
    pub id: DatastoreId,
    pub name: String,
    pub percent: f64,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VmChip {
    pub id: VmId,
    pub name: String,
    pub power: PowerState,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FabricKind {
    Datastore(DatastoreKind),
    Switch,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FabricBar {
    pub id: String,
    pub name: String,
    pub kind: FabricKind,
    /// Columns (host indexes in the cluster) the bar connects to.
    pub columns: Vec<usize>,
    /// Other clusters' hosts it also reaches.
    pub elsewhere: usize,
    pub gauge: Option<(f64, String)>,
}

impl MapModel {
    /// The map of `inv`, its words and figures in `lang`.
    pub fn build(inv: &Inventory, lang: Lang) -> Self {
        let mut clusters: Vec<&Cluster> = inv.clusters.values().collect();
        clusters.sort_by(|a, b| a.name.cmp(&b.name));
        let mut views = Vec::with_capacity(clusters.len());

        // One pass over the VMs, grouped by host.
        let mut vms_by_host: std::collections::HashMap<HostId, Vec<&Vm>> = Default::default();
        for vm in inv.vms.values() {
            vms_by_host.entry(vm.host_id).or_default().push(vm);
        }
        let mut local_by_host: std::collections::HashMap<HostId, Vec<&Datastore>> =
            Default::default();
        let mut datastores: Vec<&Datastore> = inv.datastores.values().collect();
        datastores.sort_by(|a, b| a.name.cmp(&b.name));
        for ds in datastores.iter().filter(|d| d.kind == DatastoreKind::Local) {
            for h in &ds.host_ids {
                local_by_host.entry(*h).or_default().push(ds);
            }
        }

        for cluster in clusters {
            let mut hosts: Vec<&Host> = inv
                .hosts
                .values()
                .filter(|h| h.cluster_id == cluster.id)
                .collect();
            hosts.sort_by(|a, b| a.name.cmp(&b.name));
            let column = |id: &HostId| hosts.iter().position(|h| h.id == *id);

            let host_views = hosts
                .iter()
                .map(|h| {
                    let vms = vms_by_host.get(&h.id).cloned().unwrap_or_default();
                    let locals = local_by_host.get(&h.id).map_or(&[][..], Vec::as_slice);
                    HostView::of(inv, h, vms, locals, lang)
                })
                .collect();

            let mut fabric = Vec::new();
            for ds in datastores.iter().filter(|d| d.kind.is_shared()) {
                let columns: Vec<usize> = ds.host_ids.iter().filter_map(column).collect();
                if columns.is_empty() {
                    continue;
                }
                fabric.push(FabricBar {
                    id: ds.id.to_string(),
                    name: ds.name.to_string(),
                    kind: FabricKind::Datastore(ds.kind),
                    elsewhere: ds.host_ids.len() - columns.len(),
                    columns,
                    gauge: Some(space(inv, ds, lang)),
                });
            }
            let mut switches: Vec<&Switch> = inv.switches.values().collect();
            switches.sort_by(|a, b| a.name.cmp(&b.name));
            for sw in switches {
                let columns: Vec<usize> = sw.host_ids.iter().filter_map(column).collect();
                if columns.is_empty() {
                    continue;
                }
                fabric.push(FabricBar {
                    id: sw.id.to_string(),
                    name: sw.name.to_string(),
                    kind: FabricKind::Switch,
                    elsewhere: sw.host_ids.len() - columns.len(),
                    columns,
                    gauge: None,
                });
            }
            views.push(ClusterView {
                id: cluster.id,
                name: cluster.name.to_string(),
                evc_level: cluster.evc_level,
                vcenter: inv.sources.get(&cluster.id.0).map(|s| s.vcenter.clone()),
                hosts: host_views,
                fabric,
            });
        }
        let unplaced_datastores = inv
            .datastores
            .values()
            .filter(|d| d.host_ids.is_empty())
            .count();
        MapModel {
            clusters: views,
            unplaced_datastores,
        }
    }
}

/// Used space of a datastore: the gauge's percent and its words.
fn space(inv: &Inventory, ds: &Datastore, lang: Lang) -> (f64, String) {
    let used = inv.allocated_mib(ds.id, None);
    let capacity = ds.capacity_mib.get();
    (
        format::percent(used, capacity),
        fill(
            td_string!(locale_of(lang), map.free_of),
            &[
                ("free", format::mib(lang, capacity.saturating_sub(used))),
                ("total", format::mib(lang, capacity)),
            ],
        ),
    )
}

impl HostView {
    /// A host's card: its load from its running VMs, its local datastores, its VMs.
    fn of(
        inv: &Inventory,
        h: &Host,
        mut vms: Vec<&Vm>,
        locals: &[&Datastore],
        lang: Lang,
    ) -> HostView {
        let locale = locale_of(lang);
        vms.sort_by(|a, b| a.name.cmp(&b.name));
        let (mut vcpus, mut memory) = (0u64, 0u64);
        for vm in vms.iter().filter(|vm| vm.is_running()) {
            vcpus += u64::from(vm.vcpus.get());
            memory += vm.memory_mib.get();
        }
        let cores = u64::from(h.cores.get());
        HostView {
            id: h.id,
            name: h.name.to_string(),
            state: h.state,
            vendor: h.cpu_vendor,
            vmotion: if h.vmotion_enabled {
                format!("vMotion {}", format::link(lang, h.vmotion_link_gbps.get()))
            } else {
                td_string!(locale, map.vmotion_off).to_string()
            },
            cpu_percent: format::percent(vcpus, cores),
            cpu_label: fill(
                td_string!(locale, map.cpu_detail),
                &[("vcpus", vcpus.to_string()), ("cores", cores.to_string())],
            ),
            memory_percent: format::percent(memory, h.memory_mib.get()),
            memory_label: format!(
                "{} / {}",
                format::mib(lang, memory),
                format::mib(lang, h.memory_mib.get())
            ),
            local_datastores: locals
                .iter()
                .map(|ds| {
                    let (percent, detail) = space(inv, ds, lang);
                    LocalDatastore {
                        id: ds.id,
                        name: ds.name.to_string(),
                        percent,
                        detail,
                    }
                })
                .collect(),
            vms: vms.iter().map(|vm| VmChip::of(inv, vm, lang)).collect(),
        }
    }
}

impl VmChip {
    fn of(inv: &Inventory, vm: &Vm, lang: Lang) -> VmChip {
        let mut stores: Vec<&str> = vm
            .disks
            .iter()
            .filter_map(|d| inv.datastores.get(&d.datastore_id))
            .map(|d| d.name.as_str())
            .collect();
        stores.dedup();
        let stores = if stores.is_empty() {
            "—".to_string()
        } else {
            stores.join(", ")
        };
        VmChip {
            id: vm.id,
            name: vm.name.to_string(),
            power: vm.power_state,
            detail: fill(
                td_string!(locale_of(lang), map.vm_detail),
                &[
                    ("vcpus", vm.vcpus.to_string()),
                    ("memory", format::mib(lang, vm.memory_mib.get())),
                    ("datastores", stores),
                ],
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::testing::*;

    #[test]
    fn hosts_are_columns_and_shared_storage_and_switches_are_bars() {
        let mut f = fixture();
        let web = vm(
            "web",
            f.b,
            vec![disk(f.shared, 1000, 250, true)],
            vec![nic(f.pg_vds)],
        );
        let change = f.inv.validate(Mutation::Create(Object::Vm(web))).unwrap();
        f.inv.apply(&change);
        let mut build_vm = vm("build", f.a, vec![disk(f.local_a, 5_000, 1, false)], vec![]);
        build_vm.power_state = PowerState::Off;
        let change = f
            .inv
            .validate(Mutation::Create(Object::Vm(build_vm)))
            .unwrap();
        f.inv.apply(&change);

        let model = MapModel::build(&f.inv, Lang::En);
        assert_eq!(model.clusters.len(), 1);
        let cluster = &model.clusters[0];
        let names: Vec<&str> = cluster.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["esx-a", "esx-b"]);
        // The local datastore sits in its host's card, with its fill level.
        assert_eq!(cluster.hosts[0].local_datastores.len(), 1);
        assert_eq!(cluster.hosts[0].local_datastores[0].name, "local-a");
        assert_eq!(cluster.hosts[0].local_datastores[0].percent, 50.0);
        assert!(cluster.hosts[1].local_datastores.is_empty());
        // Only running VMs load the host.
        assert_eq!(cluster.hosts[0].cpu_label, "0 vCPU / 32 cores");
        assert_eq!(cluster.hosts[1].cpu_label, "2 vCPU / 32 cores");
        assert_eq!(cluster.hosts[0].vms[0].name, "build");
        // The shared datastore and the vDS join both columns.
        let bars: Vec<(&str, &[usize])> = cluster
            .fabric
            .iter()
            .map(|b| (b.name.as_str(), b.columns.as_slice()))
            .collect();
        assert_eq!(bars, [("san-01", &[0, 1][..]), ("dvs-01", &[0, 1][..])]);
        let san = &cluster.fabric[0];
        assert_eq!(san.gauge.as_ref().unwrap().0, 0.25);
    }
}
