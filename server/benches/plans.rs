//! Maintenance plan benchmarks of issue 13, in process: how long planning and predicting take
//! (a 64-VM host evacuated in a 96-host / 2,000-VM cluster; rolling maintenance of a 32-host
//! / 1,000-VM cluster), and how good the plans are — the predicted total against the physical
//! limit (the bytes each resource must carry at its capacity, and no move faster than alone),
//! and against a naive first-fit placement in VM order. Prints a Markdown report.
//!
//!     cargo bench -p server --bench plans          (scripts/bench.sh runs it too)
//!
//! Generated clusters are made realistic where it matters to placement: VMs of 4 to 32 GiB
//! with dirty rates of 5 to 50 MiB/s, and one host in three on 10 GbE (the others 25 GbE).

use domain::checks::{check_migration, MigrationKind};
use domain::engine::driver::Vsphere;
use domain::generate::scale_inventory;
use domain::plan::predict::request_of;
use domain::plan::{draft, predict, what_if, Draft, Goal, PlanOptions, PlannedMove, Step};
use domain::transfer::{capacity, Resource, TransferPlan};
use domain::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

const RUNS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn update(inv: &mut Inventory, object: Object) {
    let change = inv
        .validate(Mutation::Update(object))
        .expect("a valid change");
    inv.apply(&change);
}

/// A generated cluster made varied: VM sizes and dirty rates, one host in three on 10 GbE.
fn varied(clusters: usize, hosts: usize, vms_per_host: usize) -> Inventory {
    let mut inv = scale_inventory(clusters, hosts, vms_per_host);
    // By name: ids are random, names are not (the same cluster on every run).
    let mut host_ids: Vec<HostId> = inv.hosts.keys().copied().collect();
    host_ids.sort_by_key(|id| inv.hosts[id].name.clone());
    for (i, id) in host_ids.iter().enumerate() {
        if i % 3 == 2 {
            let mut h = inv.hosts[id].clone();
            h.vmotion_link_gbps = LinkGbps::parse(10.0).unwrap();
            update(&mut inv, Object::Host(h));
        }
    }
    let mut vm_ids: Vec<VmId> = inv.vms.keys().copied().collect();
    vm_ids.sort_by_key(|id| inv.vms[id].name.clone());
    for (i, id) in vm_ids.iter().enumerate() {
        let mut v = inv.vms[id].clone();
        v.memory_mib = SizeMib::parse([4, 8, 16, 32][i % 4] * 1024).unwrap();
        v.workload.dirty_rate_mib_s = RateMibS::parse([5.0, 20.0, 50.0][i % 3]).unwrap();
        update(&mut inv, Object::Vm(v));
    }
    inv
}

fn first_host(inv: &Inventory) -> HostId {
    inv.hosts
        .values()
        .min_by_key(|h| h.name.clone())
        .unwrap()
        .id
}

/// Gives `first` VMs of other hosts (by name) until it runs `count`.
fn loaded_host(inv: &mut Inventory, first: HostId, count: usize) -> HostId {
    let have = inv.vms.values().filter(|v| v.host_id == first).count();
    let mut others: Vec<&Vm> = inv.vms.values().filter(|v| v.host_id != first).collect();
    others.sort_by(|a, b| a.name.cmp(&b.name));
    let others: Vec<VmId> = others
        .iter()
        .map(|v| v.id)
        .take(count.saturating_sub(have))
        .collect();
    for id in others {
        let mut v = inv.vms[&id].clone();
        v.host_id = first;
        update(inv, Object::Vm(v));
    }
    first
}

/// Times draft, prediction and what-if (medians of `RUNS`), ms.
fn time_plan(inv: &Inventory, goal: &Goal) -> (f64, f64, f64, Draft) {
    let options = PlanOptions::default();
    let busy = BTreeSet::new();
    let (mut d_ms, mut p_ms, mut w_ms) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let d = draft(inv, goal, &options, &busy).expect("a plan");
        d_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let p = predict(inv, &d, &options, Arc::new(Vsphere), 0);
        p_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let w = what_if(inv, &d, &options, Arc::new(Vsphere), 0);
        w_ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(w.len(), 5);
        assert!(p.total_s > 0.0);
        last = Some(d);
    }
    (median(d_ms), median(p_ms), median(w_ms), last.unwrap())
}

/// The physical limit of a plan's moves: no resource carries its bytes faster than its
/// capacity, no move is faster than alone (seconds).
fn lower_bound(inv: &Inventory, moves: &[&PlannedMove]) -> f64 {
    let mut load: BTreeMap<Resource, f64> = BTreeMap::new();
    let mut longest: f64 = 0.0;
    for m in moves {
        let request = request_of(m, &PlanOptions::default());
        let alone = domain::prediction::predict(inv, &request).expect("a prediction");
        longest = longest.max(alone.duration_s);
        let plan = TransferPlan::of(inv, &request).expect("a transfer");
        let memory = alone.bytes_total - alone.disk_bytes;
        for link in plan.links() {
            *load.entry(link).or_default() += memory;
        }
        for d in &plan.disks {
            *load.entry(Resource::Datastore(d.source)).or_default() += d.bytes;
            if let Some(t) = plan.target_datastore {
                *load.entry(Resource::Datastore(t)).or_default() += d.bytes;
            }
            if plan.kind == MigrationKind::Combined {
                for link in plan.links() {
                    *load.entry(link).or_default() += d.bytes;
                }
            }
        }
    }
    load.iter()
        .map(|(r, bytes)| bytes / capacity(inv, *r))
        .fold(longest, f64::max)
}

/// The naive plan: each VM of the host, in name order, to the first host (by name) the checks
/// allow, with its disks to the first shared datastore when it must.
fn first_fit(inv: &Inventory, host: HostId) -> Draft {
    let mut work = inv.clone();
    let cluster = inv.hosts[&host].cluster_id;
    let mut hosts: Vec<&Host> = inv
        .hosts
        .values()
        .filter(|h| h.cluster_id == cluster && h.id != host && h.state == HostState::Connected)
        .collect();
    hosts.sort_by(|a, b| a.name.cmp(&b.name));
    let mut vms: Vec<&Vm> = inv.vms.values().filter(|v| v.host_id == host).collect();
    vms.sort_by(|a, b| a.name.cmp(&b.name));
    let vms: Vec<VmId> = vms.iter().map(|v| v.id).collect();
    let mut moves = Vec::new();
    for id in vms {
        for h in &hosts {
            let vm = &work.vms[&id];
            let shared = vm.disks.iter().all(|d| {
                work.datastores[&d.datastore_id].kind.is_shared()
                    && work.datastores[&d.datastore_id].host_ids.contains(&h.id)
            });
            let target_ds = (!shared).then(|| {
                work.datastores
                    .values()
                    .find(|d| d.kind.is_shared() && d.host_ids.contains(&h.id))
                    .map(|d| d.id)
            });
            let Some(ds) = target_ds.unwrap_or(Some(DatastoreId(uuid::Uuid::nil()))) else {
                continue;
            };
            let kind = if shared {
                MigrationKind::VMotion
            } else {
                MigrationKind::Combined
            };
            let m = PlannedMove {
                vm_id: id,
                vm_name: vm.name.to_string(),
                kind,
                live: vm.is_running(),
                source_host_id: host,
                target_host_id: h.id,
                target_datastore_id: (!shared).then_some(ds),
                target: h.name.to_string(),
                why: "first fit".into(),
                target_phrase: Default::default(),
                why_phrase: Default::default(),
                memory_mib: vm.memory_mib.get(),
                priority: 5,
            };
            let request = request_of(&m, &PlanOptions::default());
            if !check_migration(&work, &request, &BTreeSet::new()).is_ok_and(|r| r.allowed) {
                continue;
            }
            let mut moved = vm.clone();
            moved.host_id = h.id;
            if let Some(d) = m.target_datastore_id {
                moved
                    .disks
                    .iter_mut()
                    .for_each(|disk| disk.datastore_id = d);
            }
            update(&mut work, Object::Vm(moved));
            moves.push(m);
            break;
        }
    }
    Draft {
        goal: Goal::EvacuateHost {
            host_id: host,
            enter_maintenance: false,
        },
        title: "first fit".into(),
        title_phrase: Default::default(),
        steps: vec![Step::Moves { moves }],
        blockers: Vec::new(),
        notes: Vec::new(),
        note_phrases: Vec::new(),
    }
}

/// One quality row: the plan's moves, predicted total, its limit, and first fit's.
fn quality(label: &str, inv: &Inventory, host: HostId) {
    let goal = Goal::EvacuateHost {
        host_id: host,
        enter_maintenance: true,
    };
    let options = PlanOptions::default();
    let d = draft(inv, &goal, &options, &BTreeSet::new()).expect("a plan");
    let moves: Vec<&PlannedMove> = d.moves().collect();
    if moves.is_empty() {
        println!("| {label} | 0 | {} | — | — | — | — | — |", d.blockers.len());
        return;
    }
    let p = predict(inv, &d, &options, Arc::new(Vsphere), 0);
    let bound = lower_bound(inv, &moves);
    let naive = first_fit(inv, host);
    let n = predict(inv, &naive, &options, Arc::new(Vsphere), 0);
    let naive_moved = naive.moves().count();
    let peak_memory = |draft: &Draft| {
        let mut work = inv.clone();
        for m in draft.moves() {
            let mut v = work.vms[&m.vm_id].clone();
            v.host_id = m.target_host_id;
            work.vms.insert(v.id, v);
        }
        work.reindex();
        work.hosts
            .values()
            .filter(|h| h.id != host)
            .map(|h| work.host_load(h.id).running_memory_mib as f64 / h.memory_mib.get() as f64)
            .fold(0.0, f64::max)
    };
    println!(
        "| {label} | {} | {} | {} | {} | **{:.3}** | {} ({naive_moved} moved) | {:.2}× | {:.0} % / {:.0} % |",
        moves.len(),
        d.blockers.len(),
        format::duration(domain::Lang::En, p.total_s),
        format::duration(domain::Lang::En, bound),
        p.total_s / bound,
        format::duration(domain::Lang::En, n.total_s),
        n.total_s / p.total_s,
        peak_memory(&d) * 100.0,
        peak_memory(&naive) * 100.0,
    );
}

fn main() {
    println!("## Maintenance plans: planning and prediction time (median of {RUNS}, in process)");
    println!();
    println!("| plan | moves | draft (placement) | prediction | what-if (5 predictions) | preview in all |");
    println!("|---|---|---|---|---|---|");
    let mut big = varied(1, 96, 21);
    let host = {
        let first = first_host(&big);
        loaded_host(&mut big, first, 64)
    };
    let goal = Goal::EvacuateHost {
        host_id: host,
        enter_maintenance: true,
    };
    let (d, p, w, plan) = time_plan(&big, &goal);
    println!(
        "| evacuate a 64-VM host, 96 hosts / {} VMs | {} | {d:.1} ms | {p:.1} ms | {w:.1} ms | {:.1} ms |",
        big.vms.len(),
        plan.moves().count(),
        d + p + w
    );
    let rolling = varied(1, 32, 31);
    let cluster = *rolling.clusters.keys().next().unwrap();
    let goal = Goal::RollingMaintenance {
        cluster_id: cluster,
        at_a_time: 1,
        maintenance_s: 600,
    };
    let (d, p, w, plan) = time_plan(&rolling, &goal);
    println!(
        "| rolling maintenance, 32 hosts / {} VMs, k = 1 | {} | {d:.1} ms | {p:.1} ms | {w:.1} ms | {:.1} ms |",
        rolling.vms.len(),
        plan.moves().count(),
        d + p + w
    );
    println!();
    println!("## Plan quality: predicted total ÷ the physical limit, and naive first fit");
    println!();
    println!(
        "The limit: every resource (vMotion link, datastore) carrying the bytes its moves must"
    );
    println!(
        "send at its capacity, and no move faster than alone. First fit: each VM in name order to"
    );
    println!(
        "the first host by name the checks allow. Peak memory: the fullest target afterwards."
    );
    println!();
    println!("| evacuation | moves | blocked | predicted | limit | predicted ÷ limit | first fit | first fit ÷ plan | peak memory plan / first fit |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let demo = server::demo::demo_inventory();
    let mut hosts: Vec<&Host> = demo.hosts.values().collect();
    hosts.sort_by(|a, b| a.name.cmp(&b.name));
    for h in hosts {
        quality(&format!("demo {}", h.name), &demo, h.id);
    }
    quality(
        &format!("64-VM host, 96 hosts / {} VMs", big.vms.len()),
        &big,
        host,
    );
    let mut mid = varied(1, 16, 12);
    let mid_host = {
        let first = first_host(&mid);
        loaded_host(&mut mid, first, 24)
    };
    quality(
        &format!("24-VM host, 16 hosts / {} VMs", mid.vms.len()),
        &mid,
        mid_host,
    );
    // Two generations: the first eight hosts by name on 10 GbE, the newer ones on 25 GbE;
    // the newest evacuated.
    let mut mixed = varied(1, 16, 12);
    let mut names: Vec<(String, HostId)> = mixed
        .hosts
        .values()
        .map(|h| (h.name.to_string(), h.id))
        .collect();
    names.sort();
    for (i, (_, id)) in names.iter().enumerate() {
        let mut h = mixed.hosts[id].clone();
        h.vmotion_link_gbps = LinkGbps::parse(if i < 8 { 10.0 } else { 25.0 }).unwrap();
        update(&mut mixed, Object::Host(h));
    }
    let newest = names.last().unwrap().1;
    let newest_name = mixed.hosts[&newest].name.to_string();
    loaded_host(&mut mixed, newest, 24);
    quality(
        &format!("24-VM host {newest_name} (25 GbE), 8 of 16 hosts on 10 GbE"),
        &mixed,
        newest,
    );
}
