//! Where each VM of a plan goes (docs/DESIGN.md#placement): a target that passes every
//! prerequisite check against the inventory as the plan's earlier moves leave it, chosen to
//! spread load (no host above 80 % of its memory where another will do) and traffic (the bytes
//! each vMotion link will carry); or, when none passes, a blocker naming the check that fails,
//! its message and its remedy.

use super::{rolling, Blocker, Draft, Goal, MoveRequest, Order, PlanOptions, PlannedMove, Step};
use crate::checks::{
    check_migration, CheckReport, MigrationKind, MigrationOptions, MigrationRequest,
};
use crate::phrase::english_template;
use crate::precopy::link_rate;
use crate::*;
use std::collections::{BTreeMap, BTreeSet};

/// Memory use above which a host is a target only if no other will do.
pub const MEMORY_SPREAD_LIMIT: f64 = 0.8;
/// What breaking a *should* rule costs a candidate: more than any load difference, less
/// than going above the memory limit.
const SHOULD_RULE_WEIGHT: f64 = 10.0;
/// What going above the memory limit costs a candidate.
const OVER_LIMIT_WEIGHT: f64 = 100.0;

/// Drafts the plan of `goal` on `inv` (the VMs in `busy` have a migration in flight).
pub fn draft(
    inv: &Inventory,
    goal: &Goal,
    options: &PlanOptions,
    busy: &BTreeSet<VmId>,
) -> Result<Draft, DomainError> {
    options.validate()?;
    let mut w = Placer::new(inv.clone(), options, busy);
    let mut notes = Vec::new();
    let (title, steps) = match goal {
        Goal::EvacuateHost {
            host_id,
            enter_maintenance,
        } => {
            let host = host_of(inv, *host_id, "host_id")?;
            let why = Phrase::new("plan.why.evacuate", &[("hosts", host.name.to_string())]);
            let moves = w.evacuate(&[*host_id], &why);
            let mut steps = vec![Step::Moves { moves }];
            if *enter_maintenance {
                if w.blockers.is_empty() {
                    steps.push(Step::EnterMaintenance {
                        host_ids: vec![*host_id],
                    });
                } else {
                    notes.push(Phrase::new(
                        "plan.note.host_stays",
                        &[
                            ("host", host.name.to_string()),
                            ("count", w.blockers.len().to_string()),
                        ],
                    ));
                }
            }
            (
                Phrase::new("plan.title.evacuate", &[("host", host.name.to_string())]),
                steps,
            )
        }
        Goal::ExitMaintenance {
            host_id,
            return_vm_ids,
        } => {
            let host = host_of(inv, *host_id, "host_id")?;
            w.set_state(*host_id, HostState::Connected);
            let back: Vec<MoveRequest> = return_vm_ids
                .iter()
                .map(|vm| MoveRequest {
                    vm_id: *vm,
                    target_host_id: Some(*host_id),
                    target_datastore_id: None,
                    priority: None,
                })
                .collect();
            let why = Phrase::new("plan.why.back", &[("hosts", host.name.to_string())]);
            let moves = w.wave(&back, &why)?;
            (
                Phrase::new("plan.title.exit", &[("host", host.name.to_string())]),
                vec![
                    Step::ExitMaintenance {
                        host_ids: vec![*host_id],
                    },
                    Step::Moves { moves },
                ],
            )
        }
        Goal::DrainDatastore { datastore_id } => {
            let ds = inv.datastores.get(datastore_id).ok_or_else(|| {
                crate::inventory::validate::unknown(
                    "datastore_id",
                    ObjectKind::Datastore,
                    datastore_id,
                )
            })?;
            let named = [("datastore", ds.name.to_string())];
            let moves = w.drain(*datastore_id, &Phrase::new("plan.why.drain", &named));
            (
                Phrase::new("plan.title.drain", &named),
                vec![Step::Moves { moves }],
            )
        }
        Goal::RollingMaintenance {
            cluster_id,
            at_a_time,
            maintenance_s,
        } => rolling::plan(&mut w, *cluster_id, *at_a_time, *maintenance_s, &mut notes)?,
        Goal::Moves { moves } => {
            if moves.is_empty() {
                return Err(DomainError::invalid(
                    "moves",
                    Phrase::new("refuse.no_moves", &[]),
                ));
            }
            let planned = w.wave(moves, &Phrase::new("plan.why.asked", &[]))?;
            (
                Phrase::new("plan.title.moves", &[("count", moves.len().to_string())]),
                vec![Step::Moves { moves: planned }],
            )
        }
    };
    Ok(Draft {
        goal: goal.clone(),
        title: title.english.clone(),
        title_phrase: title,
        steps,
        blockers: w.blockers,
        notes: notes.iter().map(|n| n.english.clone()).collect(),
        note_phrases: notes,
    })
}

pub(super) fn host_of<'a>(
    inv: &'a Inventory,
    id: HostId,
    field: &str,
) -> Result<&'a Host, DomainError> {
    inv.hosts
        .get(&id)
        .ok_or_else(|| crate::inventory::validate::unknown(field, ObjectKind::Host, id))
}

/// Places VMs one after the other on a working copy of the inventory that each planned move
/// updates.
pub(super) struct Placer<'o> {
    pub inv: Inventory,
    options: &'o PlanOptions,
    busy: &'o BTreeSet<VmId>,
    pub blockers: Vec<Blocker>,
    /// Seconds of transfer each host's vMotion link is already given by this step's moves.
    link_load: BTreeMap<HostId, f64>,
}

/// One possible move of a VM, and what the checks say of it.
struct Candidate {
    request: MigrationRequest,
    report: CheckReport,
    score: f64,
}

impl<'o> Placer<'o> {
    pub fn new(inv: Inventory, options: &'o PlanOptions, busy: &'o BTreeSet<VmId>) -> Self {
        Placer {
            inv,
            options,
            busy,
            blockers: Vec::new(),
            link_load: BTreeMap::new(),
        }
    }

    /// A new step: its links start unloaded.
    pub fn next_step(&mut self) {
        self.link_load.clear();
    }

    pub fn set_state(&mut self, host: HostId, state: HostState) {
        if let Some(mut h) = self.inv.hosts.get(&host).cloned() {
            h.state = state;
            // Only ever asked of a host its plan has emptied: a refusal leaves it as it is.
            let _ = self.commit(Object::Host(h));
        }
    }

    /// Applies a planned change to the working inventory through its gate.
    fn commit(&mut self, object: Object) -> Result<(), DomainError> {
        let change = self.inv.validate(Mutation::Update(object))?;
        self.inv.apply(&change);
        Ok(())
    }

    /// The VMs on `hosts`, in the plan's order.
    fn ordered(&self, vms: Vec<VmId>) -> Vec<VmId> {
        let mut vms = vms;
        let size = |v: &VmId| self.inv.vms[v].memory_mib.get();
        match self.options.order {
            Order::LargestFirst => vms.sort_by_key(|v| (std::cmp::Reverse(size(v)), self.name(*v))),
            Order::SmallestFirst => vms.sort_by_key(|v| (size(v), self.name(*v))),
            Order::ByPriority => vms.sort_by_key(|v| self.name(*v)),
        }
        vms
    }

    fn name(&self, vm: VmId) -> String {
        self.inv.vms[&vm].name.to_string()
    }

    /// Every VM off `hosts`, each to the best host outside them.
    pub fn evacuate(&mut self, hosts: &[HostId], why: &Phrase) -> Vec<PlannedMove> {
        self.next_step();
        let vms: Vec<VmId> = self
            .inv
            .vms
            .values()
            .filter(|v| hosts.contains(&v.host_id))
            .map(|v| v.id)
            .collect();
        let mut moves = Vec::new();
        for vm in self.ordered(vms) {
            if let Some(m) = self.place_anywhere(vm, hosts, why, 0) {
                moves.push(m);
            }
        }
        moves
    }

    /// Every disk off `datastore`, by Storage vMotion to a datastore its host mounts.
    pub fn drain(&mut self, datastore: DatastoreId, why: &Phrase) -> Vec<PlannedMove> {
        self.next_step();
        let vms: Vec<VmId> = self
            .inv
            .vms
            .values()
            .filter(|v| v.disks.iter().any(|d| d.datastore_id == datastore))
            .map(|v| v.id)
            .collect();
        let mut moves = Vec::new();
        for vm in self.ordered(vms) {
            let host = self.inv.vms[&vm].host_id;
            let mut targets: Vec<&Datastore> = self
                .inv
                .datastores
                .values()
                .filter(|d| d.id != datastore && d.host_ids.contains(&host))
                .collect();
            targets.sort_by_key(|d| std::cmp::Reverse(self.inv.free_mib(d)));
            let candidates: Vec<Candidate> = targets
                .iter()
                .map(|d| {
                    let request = self.request(vm, MigrationKind::StorageVMotion, None, Some(d.id));
                    let free = self.inv.free_mib(d) as f64 / d.capacity_mib.get() as f64;
                    self.candidate(request, -free)
                })
                .collect();
            if let Some(m) = self.choose(vm, candidates, why, 0, "storage.local") {
                moves.push(m);
            }
        }
        moves
    }

    /// A wave: each VM to its given target, or anywhere valid.
    pub fn wave(
        &mut self,
        requests: &[MoveRequest],
        why: &Phrase,
    ) -> Result<Vec<PlannedMove>, DomainError> {
        self.next_step();
        let mut requests = requests.to_vec();
        match self.options.order {
            Order::ByPriority => {
                requests.sort_by_key(|r| std::cmp::Reverse(r.priority.unwrap_or(5)))
            }
            Order::LargestFirst | Order::SmallestFirst => {
                let ids: Vec<VmId> = requests.iter().map(|r| r.vm_id).collect();
                for (i, r) in requests.iter().enumerate() {
                    if !self.inv.vms.contains_key(&r.vm_id) {
                        let field = format!("moves[{i}].vm_id");
                        return Err(crate::inventory::validate::unknown(
                            &field,
                            ObjectKind::Vm,
                            r.vm_id,
                        ));
                    }
                }
                let order = self.ordered(ids);
                requests.sort_by_key(|r| order.iter().position(|v| *v == r.vm_id));
            }
        }
        let mut moves = Vec::new();
        for (i, r) in requests.iter().enumerate() {
            let Some(vm) = self.inv.vms.get(&r.vm_id) else {
                let field = format!("moves[{i}].vm_id");
                return Err(crate::inventory::validate::unknown(
                    &field,
                    ObjectKind::Vm,
                    r.vm_id,
                ));
            };
            let (vm_id, from) = (vm.id, vm.host_id);
            let priority = r.priority.unwrap_or(5);
            let planned = match (r.target_host_id, r.target_datastore_id) {
                (None, None) => self.place_anywhere(vm_id, &[from], why, priority),
                (host, ds) => {
                    let kind = match (host, ds) {
                        (Some(_), Some(_)) => MigrationKind::Combined,
                        (Some(_), None) => MigrationKind::VMotion,
                        _ => MigrationKind::StorageVMotion,
                    };
                    let request = self.request(vm_id, kind, host, ds);
                    let candidate = self.candidate(request, 0.0);
                    self.choose(vm_id, vec![candidate], why, priority, "vm.powered_on")
                }
            };
            moves.extend(planned);
        }
        Ok(moves)
    }

    fn request(
        &self,
        vm: VmId,
        kind: MigrationKind,
        host: Option<HostId>,
        datastore: Option<DatastoreId>,
    ) -> MigrationRequest {
        MigrationRequest {
            vm_id: vm,
            kind,
            target_host_id: host,
            target_datastore_id: datastore,
            options: MigrationOptions {
                downtime_target_ms: self.options.downtime_target_ms,
                bandwidth_cap_mbps: self.options.bandwidth_cap_mbps,
                priority: None,
            },
        }
    }

    fn candidate(&self, request: MigrationRequest, score: f64) -> Candidate {
        let report = check_migration(&self.inv, &request, self.busy).unwrap_or_else(|e| {
            // A request this module built is well formed; a refusal is reported as a check.
            CheckReport::from_results(vec![crate::checks::CheckResult {
                id: "vm.powered_on".into(),
                code: "request.invalid".into(),
                args: [("reason".to_string(), e.message.clone())].into(),
                severity: crate::checks::Severity::Error,
                message: e.message,
                remedy: "Fix the inventory.".into(),
                objects: Vec::new(),
            }])
        });
        Candidate {
            request,
            report,
            score,
        }
    }

    /// The VM to the best host not in `exclude` (with its disks to shared storage when they
    /// sit on a datastore the host does not mount).
    fn place_anywhere(
        &mut self,
        vm: VmId,
        exclude: &[HostId],
        why: &Phrase,
        priority: u8,
    ) -> Option<PlannedMove> {
        let v = &self.inv.vms[&vm];
        let cluster = self.inv.hosts.get(&v.host_id).map(|h| h.cluster_id);
        let hosts: Vec<&Host> = self
            .inv
            .hosts
            .values()
            .filter(|h| Some(h.cluster_id) == cluster && !exclude.contains(&h.id))
            .filter(|h| h.state == HostState::Connected)
            .collect();
        let mut candidates = Vec::new();
        for h in hosts {
            let reachable = v.disks.iter().all(|d| {
                self.inv
                    .datastores
                    .get(&d.datastore_id)
                    .is_some_and(|ds| ds.kind.is_shared() && ds.host_ids.contains(&h.id))
            });
            let request = if reachable {
                self.request(vm, MigrationKind::VMotion, Some(h.id), None)
            } else {
                // A combined move to the shared datastore with the most room the host mounts.
                let shared = self
                    .inv
                    .datastores
                    .values()
                    .filter(|d| d.kind.is_shared() && d.host_ids.contains(&h.id))
                    .max_by_key(|d| self.inv.free_mib(d));
                match shared {
                    Some(d) => self.request(vm, MigrationKind::Combined, Some(h.id), Some(d.id)),
                    None => self.request(vm, MigrationKind::VMotion, Some(h.id), None),
                }
            };
            let score = self.score(v, h);
            candidates.push(self.candidate(request, score));
        }
        self.choose(vm, candidates, why, priority, "resources.memory")
    }

    /// How good a target host is (lower is better): memory use after the move (above 80 %
    /// only when nothing else will do), then the transfer time its vMotion link is given.
    fn score(&self, vm: &Vm, host: &Host) -> f64 {
        let running = self.inv.host_load(host.id).running_memory_mib;
        let added = if vm.is_running() {
            vm.memory_mib.get()
        } else {
            0
        };
        let memory = (running + added) as f64 / host.memory_mib.get() as f64;
        let over = if memory > MEMORY_SPREAD_LIMIT {
            OVER_LIMIT_WEIGHT
        } else {
            0.0
        };
        let rate = link_rate(host.vmotion_link_gbps.get()).max(1.0);
        let link = self.link_load.get(&host.id).copied().unwrap_or(0.0)
            + added as f64 * 1024.0 * 1024.0 / rate;
        over + memory + link / 60.0
    }

    /// The best allowed candidate, applied to the working inventory; or a blocker.
    fn choose(
        &mut self,
        vm: VmId,
        mut candidates: Vec<Candidate>,
        why: &Phrase,
        priority: u8,
        fallback_check: &str,
    ) -> Option<PlannedMove> {
        // A *should* rule is honoured unless only an overloaded host would honour it.
        let key = |c: &Candidate| {
            let should = c
                .report
                .results
                .iter()
                .filter(|r| {
                    r.id == "affinity.rules" && r.severity == crate::checks::Severity::Warning
                })
                .count();
            c.score + SHOULD_RULE_WEIGHT * should as f64
        };
        candidates.sort_by(|a, b| {
            let warnings = |c: &Candidate| c.report.count(crate::checks::Severity::Warning);
            key(a)
                .total_cmp(&key(b))
                .then(warnings(a).cmp(&warnings(b)))
        });
        let name = self.name(vm);
        let Some(best) = candidates.iter().find(|c| c.report.allowed) else {
            // The closest: fewest errors, then best score.
            let closest = candidates
                .iter()
                .min_by_key(|c| c.report.count(crate::checks::Severity::Error));
            let blocker = match closest.and_then(|c| c.report.first_error()) {
                Some(e) => Blocker {
                    vm_id: vm,
                    vm_name: name.clone(),
                    check: e.id.clone(),
                    code: e.code.clone(),
                    args: e.args.clone(),
                    message: e.message.clone(),
                    remedy: e.remedy.clone(),
                },
                None => {
                    let why = Phrase::new("plan.blocker.no_target", &[("vm", name.clone())]);
                    Blocker {
                        vm_id: vm,
                        vm_name: name.clone(),
                        check: fallback_check.into(),
                        code: why.code,
                        args: why.args,
                        message: why.english,
                        remedy: english_template("plan.blocker.no_target.remedy")
                            .unwrap_or_default()
                            .into(),
                    }
                }
            };
            self.blockers.push(blocker);
            return None;
        };
        let request = best.request.clone();
        match self.apply(request, why, priority) {
            Ok(planned) => Some(planned),
            Err(e) => {
                // The checks passed but the inventory's gate would refuse the VM where it
                // goes: a blocker, named as the gate names it.
                self.blockers.push(Blocker {
                    vm_id: vm,
                    vm_name: name,
                    check: "inventory".into(),
                    code: "plan.blocker.inventory".into(),
                    args: Default::default(),
                    message: e.message,
                    remedy: english_template("plan.blocker.inventory.remedy")
                        .unwrap_or_default()
                        .into(),
                });
                None
            }
        }
    }

    /// Records a planned move on the working inventory.
    fn apply(
        &mut self,
        request: MigrationRequest,
        why: &Phrase,
        priority: u8,
    ) -> Result<PlannedMove, DomainError> {
        let mut vm = self.inv.vms[&request.vm_id].clone();
        let source = vm.host_id;
        let target_host = request.target_host_id.unwrap_or(source);
        let host_name = |inv: &Inventory, h: HostId| {
            inv.hosts
                .get(&h)
                .map_or_else(String::new, |h| h.name.to_string())
        };
        let host = ("host", host_name(&self.inv, target_host));
        let mut target = Phrase::new("plan.target.host", std::slice::from_ref(&host));
        if let Some(d) = request.target_datastore_id {
            let ds = self
                .inv
                .datastores
                .get(&d)
                .map_or_else(String::new, |d| d.name.to_string());
            target = if request.kind.moves_host() {
                Phrase::new("plan.target.both", &[host, ("datastore", ds)])
            } else {
                Phrase::new("plan.target.datastore", &[("datastore", ds)])
            };
            for disk in &mut vm.disks {
                disk.datastore_id = d;
            }
        }
        vm.host_id = target_host;
        let planned = PlannedMove {
            vm_id: vm.id,
            vm_name: vm.name.to_string(),
            kind: request.kind,
            live: vm.is_running(),
            source_host_id: source,
            target_host_id: target_host,
            target_datastore_id: request.target_datastore_id,
            target: target.english.clone(),
            target_phrase: target,
            why: why.english.clone(),
            why_phrase: why.clone(),
            memory_mib: vm.memory_mib.get(),
            priority,
        };
        self.commit(Object::Vm(vm))?;
        if let Some(h) = self.inv.hosts.get(&target_host) {
            let rate = link_rate(h.vmotion_link_gbps.get()).max(1.0);
            *self.link_load.entry(target_host).or_default() +=
                planned.memory_mib as f64 * 1024.0 * 1024.0 / rate;
        }
        Ok(planned)
    }
}
