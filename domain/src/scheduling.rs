//! vSphere's cost model for concurrent migrations (docs/DESIGN.md#transfer-model) and max-min fair sharing of
//! bandwidth: which migrations may run now, why the others wait, and how fast each one goes.

use super::checks::MigrationKind;
use super::*;
use std::collections::BTreeMap;

/// Slots of a host.
pub const HOST_BUDGET: u32 = 8;
/// Slots of a datastore.
pub const DATASTORE_BUDGET: u32 = 128;

fn host_cost(kind: MigrationKind) -> u32 {
    match kind {
        MigrationKind::VMotion => 1,
        MigrationKind::StorageVMotion | MigrationKind::Combined => 4,
    }
}

fn datastore_cost(kind: MigrationKind) -> u32 {
    match kind {
        MigrationKind::VMotion => 1,
        MigrationKind::StorageVMotion | MigrationKind::Combined => 16,
    }
}

/// Concurrent vMotions a host's vMotion link carries.
pub fn link_slots(gbps: f64) -> u32 {
    if gbps >= 10.0 {
        8
    } else {
        4
    }
}

/// What one migration holds while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint {
    pub kind: MigrationKind,
    /// Hosts involved (source, and target when it changes).
    pub hosts: Vec<HostId>,
    /// Hosts whose vMotion link carries it.
    pub links: Vec<HostId>,
    /// Datastores involved (where the disks are, and where they go).
    pub datastores: Vec<DatastoreId>,
}

impl Footprint {
    /// The footprint of moving `vm` (which must exist) the `kind` way.
    pub fn of(
        vm: &Vm,
        kind: MigrationKind,
        target_host: Option<HostId>,
        target_datastore: Option<DatastoreId>,
    ) -> Self {
        let mut hosts = vec![vm.host_id];
        let mut links = Vec::new();
        if let Some(t) = target_host.filter(|_| kind.moves_host()) {
            if t != vm.host_id {
                hosts.push(t);
            }
            links = hosts.clone();
        }
        let mut datastores: Vec<DatastoreId> = vm.disks.iter().map(|d| d.datastore_id).collect();
        if let Some(d) = target_datastore.filter(|_| kind.moves_storage()) {
            datastores.push(d);
        }
        datastores.sort();
        datastores.dedup();
        Footprint {
            kind,
            hosts,
            links,
            datastores,
        }
    }
}

impl Footprint {
    /// The footprint of a migration as recorded (another replica's, known by its summary).
    pub fn of_migration(m: &crate::migration::Migration) -> Self {
        let mut hosts = vec![m.source_host_id];
        let mut links = Vec::new();
        if m.kind.moves_host() {
            if m.target_host_id != m.source_host_id {
                hosts.push(m.target_host_id);
            }
            links = hosts.clone();
        }
        let mut datastores = m.source_datastore_ids.clone();
        if let Some(d) = m.target_datastore_id.filter(|_| m.kind.moves_storage()) {
            datastores.push(d);
        }
        datastores.sort();
        datastores.dedup();
        Footprint {
            kind: m.kind,
            hosts,
            links,
            datastores,
        }
    }

    /// The slots it takes of `slot`'s resource (0 when it does not use it).
    pub fn cost_on(&self, slot: Slot) -> u32 {
        match slot {
            Slot::Host(h) if self.hosts.contains(&h) => host_cost(self.kind),
            Slot::Link(h) if self.links.contains(&h) => 1,
            Slot::Datastore(d) if self.datastores.contains(&d) => datastore_cost(self.kind),
            _ => 0,
        }
    }
}

/// A resource whose slots migrations share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Host(HostId),
    Link(HostId),
    Datastore(DatastoreId),
}

/// Why a migration must wait: the resource that is full, and the reason in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    pub slot: Slot,
    pub reason: Phrase,
}

/// Slots in use on hosts, vMotion links and datastores by the migrations running now.
#[derive(Debug, Clone, Default)]
pub struct SlotUsage {
    host: BTreeMap<HostId, u32>,
    link: BTreeMap<HostId, u32>,
    datastore: BTreeMap<DatastoreId, u32>,
}

impl SlotUsage {
    pub fn of(running: &[Footprint]) -> Self {
        let mut usage = SlotUsage::default();
        for f in running {
            usage.add(f);
        }
        usage
    }

    /// Counts a migration that starts running.
    pub fn add(&mut self, f: &Footprint) {
        for h in &f.hosts {
            *self.host.entry(*h).or_default() += host_cost(f.kind);
        }
        for h in &f.links {
            *self.link.entry(*h).or_default() += 1;
        }
        for d in &f.datastores {
            *self.datastore.entry(*d).or_default() += datastore_cost(f.kind);
        }
    }

    /// No longer counts a migration (it ended, or is counted again elsewhere).
    pub fn remove(&mut self, f: &Footprint) {
        let take = |n: &mut u32, cost: u32| *n = n.saturating_sub(cost);
        for h in &f.hosts {
            take(self.host.entry(*h).or_default(), host_cost(f.kind));
        }
        for h in &f.links {
            take(self.link.entry(*h).or_default(), 1);
        }
        for d in &f.datastores {
            take(
                self.datastore.entry(*d).or_default(),
                datastore_cost(f.kind),
            );
        }
    }

    /// Why `candidate` must wait, e.g. "waiting: host esx-02 has 8/8 slots in use"; `None`
    /// when it may start now.
    pub fn queue_reason(&self, inv: &Inventory, candidate: &Footprint) -> Option<String> {
        self.wait(inv, candidate).map(|w| w.reason.english)
    }

    /// Like [`Self::queue_reason`], with the resource that is full.
    pub fn wait(&self, inv: &Inventory, candidate: &Footprint) -> Option<Wait> {
        for h in &candidate.hosts {
            let used = self.host.get(h).copied().unwrap_or(0);
            if used + host_cost(candidate.kind) > HOST_BUDGET {
                let name = inv.hosts.get(h).map(|h| h.name.as_str()).unwrap_or("?");
                return Some(Wait {
                    slot: Slot::Host(*h),
                    reason: Phrase::new(
                        "engine.wait.host_slots",
                        &[
                            ("host", name.to_string()),
                            ("used", used.to_string()),
                            ("budget", HOST_BUDGET.to_string()),
                        ],
                    ),
                });
            }
        }
        for h in &candidate.links {
            let Some(host) = inv.hosts.get(h) else {
                continue;
            };
            let slots = link_slots(host.vmotion_link_gbps.get());
            let used = self.link.get(h).copied().unwrap_or(0);
            if used + 1 > slots {
                return Some(Wait {
                    slot: Slot::Link(*h),
                    reason: Phrase::new(
                        "engine.wait.link_slots",
                        &[
                            ("host", host.name.to_string()),
                            ("used", used.to_string()),
                            ("slots", slots.to_string()),
                        ],
                    ),
                });
            }
        }
        for d in &candidate.datastores {
            let used = self.datastore.get(d).copied().unwrap_or(0);
            if used + datastore_cost(candidate.kind) > DATASTORE_BUDGET {
                let name = inv
                    .datastores
                    .get(d)
                    .map(|d| d.name.as_str())
                    .unwrap_or("?");
                return Some(Wait {
                    slot: Slot::Datastore(*d),
                    reason: Phrase::new(
                        "engine.wait.datastore_slots",
                        &[
                            ("datastore", name.to_string()),
                            ("used", used.to_string()),
                            ("budget", DATASTORE_BUDGET.to_string()),
                        ],
                    ),
                });
            }
        }
        None
    }
}

/// Why a migration waits, e.g. "waiting: host esx-02 has 8/8 slots in use".
pub fn queue_reason(
    inv: &Inventory,
    running: &[Footprint],
    candidate: &Footprint,
) -> Option<String> {
    SlotUsage::of(running).queue_reason(inv, candidate)
}

/// A transfer sharing resources with others: the indexes of the resources it crosses, and
/// an optional cap of its own (bytes/s).
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub resources: Vec<usize>,
    pub cap: Option<f64>,
}

/// Max-min fair rates (progressive filling): every flow's rate rises together until a
/// resource saturates or a flow reaches its cap; those flows freeze and the rest go on. Each
/// round costs one pass over the flows, so thousands of flows share in a few milliseconds.
pub fn max_min_fair(capacities: &[f64], flows: &[Flow]) -> Vec<f64> {
    let mut rate = vec![0.0; flows.len()];
    // A flow that nothing limits has no transfer to share: it stays at 0.
    let mut active: Vec<usize> = (0..flows.len())
        .filter(|&i| !(flows[i].resources.is_empty() && flows[i].cap.is_none()))
        .collect();
    let mut remaining: Vec<f64> = capacities.to_vec();
    let mut users = vec![0usize; capacities.len()];
    let eps = 1e-9;
    while !active.is_empty() {
        users.iter_mut().for_each(|u| *u = 0);
        for &i in &active {
            for &r in &flows[i].resources {
                users[r] += 1;
            }
        }
        // The smallest equal increment that saturates a resource or caps a flow.
        let mut step = f64::INFINITY;
        for (r, &n) in users.iter().enumerate() {
            if n > 0 {
                step = step.min(remaining[r] / n as f64);
            }
        }
        for &i in &active {
            if let Some(c) = flows[i].cap {
                step = step.min(c - rate[i]);
            }
        }
        if !step.is_finite() {
            break;
        }
        let step = step.max(0.0);
        for &i in &active {
            rate[i] += step;
        }
        for (r, &n) in users.iter().enumerate() {
            remaining[r] -= step * n as f64;
        }
        active.retain(|&i| {
            let capped = flows[i].cap.is_some_and(|c| rate[i] >= c - eps);
            let saturated = flows[i]
                .resources
                .iter()
                .any(|&r| remaining[r] <= eps * capacities[r].max(1.0));
            !(capped || saturated)
        });
    }
    rate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    fn put(inv: &mut Inventory, o: Object) {
        let m = if inv.contains(o.kind(), o.id()) {
            Mutation::Update(o)
        } else {
            Mutation::Create(o)
        };
        let c = inv.validate(m).unwrap();
        inv.apply(&c);
    }

    /// `n` VMs on host a with a disk on the shared datastore.
    fn vms(f: &mut Fixture, n: usize) -> Vec<Vm> {
        (0..n)
            .map(|i| {
                let v = vm(
                    &format!("vm-{i}"),
                    f.a,
                    vec![disk(f.shared, 10, 1, true)],
                    vec![],
                );
                put(&mut f.inv, Object::Vm(v.clone()));
                v
            })
            .collect()
    }

    #[test]
    fn the_ninth_vmotion_on_a_host_waits_until_a_slot_frees() {
        let mut f = fixture();
        // 25 Gbit/s links carry 8 vMotions; the host budget is 8 as well.
        for h in [f.a, f.b] {
            let mut host = f.inv.hosts[&h].clone();
            host.vmotion_link_gbps = LinkGbps::parse(25.0).unwrap();
            put(&mut f.inv, Object::Host(host));
        }
        let vms = vms(&mut f, 9);
        let mut running = Vec::new();
        for v in &vms[..8] {
            let fp = Footprint::of(v, MigrationKind::VMotion, Some(f.b), None);
            assert_eq!(queue_reason(&f.inv, &running, &fp), None);
            running.push(fp);
        }
        let ninth = Footprint::of(&vms[8], MigrationKind::VMotion, Some(f.b), None);
        assert_eq!(
            queue_reason(&f.inv, &running, &ninth).as_deref(),
            Some("waiting: host esx-a has 8/8 slots in use")
        );
        running.pop();
        assert_eq!(queue_reason(&f.inv, &running, &ninth), None);
    }

    #[test]
    fn the_fifth_vmotion_on_a_slow_link_waits() {
        let mut f = fixture();
        for h in [f.a, f.b] {
            let mut host = f.inv.hosts[&h].clone();
            host.vmotion_link_gbps = LinkGbps::parse(1.0).unwrap();
            put(&mut f.inv, Object::Host(host));
        }
        let vms = vms(&mut f, 5);
        let running: Vec<Footprint> = vms[..4]
            .iter()
            .map(|v| Footprint::of(v, MigrationKind::VMotion, Some(f.b), None))
            .collect();
        let fifth = Footprint::of(&vms[4], MigrationKind::VMotion, Some(f.b), None);
        assert_eq!(
            queue_reason(&f.inv, &running, &fifth).as_deref(),
            Some("waiting: the vMotion link of esx-a carries 4/4 vMotions")
        );
        assert_eq!(queue_reason(&f.inv, &running[..3], &fifth), None);
    }

    #[test]
    fn the_third_storage_vmotion_on_a_host_waits() {
        let mut f = fixture();
        let vms = vms(&mut f, 3);
        let running: Vec<Footprint> = vms[..2]
            .iter()
            .map(|v| Footprint::of(v, MigrationKind::StorageVMotion, None, Some(f.local_a)))
            .collect();
        let third = Footprint::of(
            &vms[2],
            MigrationKind::StorageVMotion,
            None,
            Some(f.local_a),
        );
        assert_eq!(
            queue_reason(&f.inv, &running, &third).as_deref(),
            Some("waiting: host esx-a has 8/8 slots in use")
        );
        assert_eq!(queue_reason(&f.inv, &running[..1], &third), None);
    }

    #[test]
    fn a_datastore_takes_eight_storage_vmotions() {
        let mut f = fixture();
        let vms = vms(&mut f, 9);
        // Spread over hosts so the host budget does not bind first: use footprints directly.
        let running: Vec<Footprint> = (0..8)
            .map(|_| Footprint {
                kind: MigrationKind::StorageVMotion,
                hosts: vec![],
                links: vec![],
                datastores: vec![f.shared],
            })
            .collect();
        let ninth = Footprint {
            hosts: vec![],
            ..Footprint::of(
                &vms[8],
                MigrationKind::StorageVMotion,
                None,
                Some(f.local_a),
            )
        };
        assert_eq!(
            queue_reason(&f.inv, &running, &ninth).as_deref(),
            Some("waiting: datastore san-01 has 128/128 slots in use")
        );
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
    }

    #[test]
    fn bandwidth_is_shared_max_min_fairly() {
        // Two flows on one 10-unit link: 5 each.
        let flow = |r: Vec<usize>, cap: Option<f64>| Flow { resources: r, cap };
        assert!(close(
            &max_min_fair(&[10.0], &[flow(vec![0], None), flow(vec![0], None)]),
            &[5.0, 5.0]
        ));
        // A flow capped at 2 leaves 8 to the other.
        assert!(close(
            &max_min_fair(&[10.0], &[flow(vec![0], Some(2.0)), flow(vec![0], None)]),
            &[2.0, 8.0]
        ));
        // The classic case: link 0 (10) shared by A and B, link 1 (4) shared by B and C.
        // B and C get 2 each on link 1; A takes the rest of link 0: 8.
        let rates = max_min_fair(
            &[10.0, 4.0],
            &[
                flow(vec![0], None),
                flow(vec![0, 1], None),
                flow(vec![1], None),
            ],
        );
        assert!(close(&rates, &[8.0, 2.0, 2.0]), "{rates:?}");
        // No resource used twice beyond its capacity.
        let used0 = rates[0] + rates[1];
        assert!(used0 <= 10.0 + 1e-9);
    }
}
