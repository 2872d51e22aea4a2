//! Migration engine benchmarks of issue 4, in process (no HTTP): the engine core with 10,000
//! concurrent simulated vMotions ticking 4 times a second (and with 2,500 more waiting in the
//! queue), what the runtime adds per tick (each event encoded once as JSON, one SQLite
//! transaction, the live batch of shared frames), pieces of a tick measured alone, and
//! prediction latency. Prints a Markdown report.
//!
//!     cargo bench -p server --bench engine          (scripts/bench.sh runs it too)
//!
//! CPU time is the calling thread's own (`CLOCK_THREAD_CPUTIME_ID`), so time the thread
//! spends preempted by other processes is not counted; where work happens on other threads
//! (sqlx runs SQLite on its own worker thread) the process's CPU time
//! (`CLOCK_PROCESS_CPUTIME_ID`) is reported next to the wall time.

use app::protocol::LiveMessage;
use domain::checks::{MigrationKind, MigrationRequest};
use domain::engine::simulated::SimulatedDriver;
use domain::engine::{Engine, TickOutput};
use domain::generate::scale_inventory;
use domain::migration::{MigrationEvent, Phase};
use domain::prediction::predict;
use domain::scheduling::{max_min_fair, Flow, Footprint, SlotUsage};
use domain::transfer::{capacity, Resource, TransferPlan};
use domain::{DatastoreId, HostId, Inventory, MigrationId, Vm, VmId};
use server::demo::demo_inventory;
use server::live::{Frame, LiveBatch, Reach};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

/// 125 clusters × 20 hosts × 4 VMs: 2,500 hosts and 10,000 VMs, every VM moving.
const CLUSTERS: usize = 125;
const HOSTS_PER_CLUSTER: usize = 20;
const VMS_PER_HOST: usize = 4;
/// Simulated seconds per tick: 4 ticks a second at 1×.
const DT: f64 = 0.25;
const TICKS_PER_S: f64 = 4.0;
/// Ticks measured (300 simulated seconds): long enough to cross pre-copy round ends.
const MEASURED_TICKS: usize = 1_200;
/// Ticks measured with the runtime's work (JSON and SQLite) after the engine-only ones.
const RUNTIME_TICKS: usize = 40;

// ---- measuring -----------------------------------------------------------------------

/// CPU time of the calling thread, ns. (`/proc/thread-self/schedstat` would do without libc,
/// but for a running thread it is only brought up to date at scheduler ticks: 4 ms steps.)
fn thread_cpu_ns() -> u64 {
    cpu_clock_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time of the whole process (every thread, including sqlx's SQLite worker), ns.
fn process_cpu_ns() -> u64 {
    cpu_clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn cpu_clock_ns(clock: libc::clockid_t) -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to write.
    let rc = unsafe { libc::clock_gettime(clock, &mut t) };
    assert_eq!(rc, 0, "clock_gettime");
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Nearest-rank percentile of `values` (sorted here), in their unit.
fn pct(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

// ---- the workload ----------------------------------------------------------------------

/// One vMotion per VM, each to the next host of its cluster (host h → h+1, wrapping): every
/// host sends 4 and receives 4, so it uses exactly its 8 slots and its 25 Gbit/s link its 8
/// vMotions, and each cluster's SAN 80 of its 128 slots. Bandwidth caps of 100–250 Mbit/s
/// keep every migration in its first pre-copy rounds for the whole measurement (8 GiB at
/// 250 Mbit/s is ~250 s for round 0).
fn requests(inv: &Inventory) -> Vec<MigrationRequest> {
    let host_by_name: HashMap<&str, HostId> = inv
        .hosts
        .values()
        .map(|h| (h.name.as_str(), h.id))
        .collect();
    let mut vms: Vec<&Vm> = inv.vms.values().collect();
    vms.sort_by_key(|v| v.name.as_str());
    vms.iter()
        .enumerate()
        .map(|(i, vm)| {
            // VM names are vm-CCC-HHH-VVV, host names esx-CCC-HHH.
            let name = vm.name.as_str();
            let cluster = &name[3..6];
            let host: usize = name[7..10].parse().expect("generated name");
            let target = format!("esx-{cluster}-{:03}", (host + 1) % HOSTS_PER_CLUSTER);
            let mut request = MigrationRequest {
                vm_id: vm.id,
                kind: MigrationKind::VMotion,
                target_host_id: Some(host_by_name[target.as_str()]),
                target_datastore_id: None,
                options: Default::default(),
            };
            request.options.bandwidth_cap_mbps = Some([100, 150, 200, 250][i % 4]);
            request
        })
        .collect()
}

/// Each event of a tick encoded once as JSON (service.rs `tick`): the same text is stored in
/// SQLite and, prefixed with its type, sent live.
fn encode_events(out: &TickOutput) -> Vec<String> {
    out.events
        .iter()
        .map(|e| serde_json::to_string(e).expect("events serialize"))
        .collect()
}

/// The bench's claim on its migrations (one replica).
fn lease() -> server::db::Lease {
    server::db::Lease {
        owner: "bench".into(),
        expires_at_ms: i64::MAX,
    }
}

/// What one tick of the runtime (service.rs `publish_encoded`) pushes to live clients: the
/// summaries, then the events from their stored JSON, one websocket frame each, shared by
/// every client (`LiveBatch`).
fn live_batch(out: &TickOutput, encoded: Vec<String>) -> LiveBatch {
    let mut frames: Vec<Frame> = Vec::with_capacity(out.updated.len() + encoded.len());
    for m in &out.updated {
        let text = serde_json::to_string(&LiveMessage::MigrationUpdated(Box::new(m.clone())))
            .expect("live messages serialize");
        frames.push(Frame::to_all(text));
    }
    for json in encoded {
        // service.rs `event_message`: `{"type":"migration_event", ...the event's fields}`.
        let fields = json.strip_prefix('{').unwrap_or(&json);
        let mut text = String::with_capacity(json.len() + 28);
        text.push_str("{\"type\":\"migration_event\",");
        text.push_str(fields);
        frames.push(Frame::new(text, Reach::All));
    }
    Arc::from(frames)
}

/// What one tick of the runtime (service.rs `store`) writes: summaries then the events,
/// already encoded, in one transaction.
async fn store(db: &server::db::Db, out: &TickOutput, encoded: &[String]) {
    let mut tx = db.begin().await.unwrap();
    for m in &out.updated {
        server::db::store_migration(&mut tx, m, &lease())
            .await
            .unwrap();
    }
    server::db::store_encoded_events(&mut tx, &out.events, encoded)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Counts the phases of the latest event of each migration seen in `events`.
fn last_phases(latest: &mut BTreeMap<MigrationId, Phase>, events: &[MigrationEvent]) {
    for e in events {
        latest.insert(e.migration_id, e.phase);
    }
}

fn engine_bench() {
    println!("## Migration engine: 10,000 concurrent simulated vMotions\n");
    let rss_start = rss_mib();
    let t = Instant::now();
    let inv = scale_inventory(CLUSTERS, HOSTS_PER_CLUSTER, VMS_PER_HOST);
    let generated = t.elapsed();
    let rss_inventory = rss_mib();
    let requests = requests(&inv);
    assert_eq!(requests.len(), 10_000);

    // Submit all 10,000 (each builds its transfer plan and runs its prediction).
    let mut engine = Engine::new(SimulatedDriver::new());
    let mut latest: BTreeMap<MigrationId, Phase> = BTreeMap::new();
    let (cpu0, t) = (thread_cpu_ns(), Instant::now());
    let mut ids = Vec::with_capacity(requests.len());
    for request in requests {
        let id = MigrationId::new_random();
        let (_, event) = engine.submit(&inv, request, id, 0).expect("submitted");
        latest.insert(id, event.phase);
        ids.push(id);
    }
    let submit_cpu = (thread_cpu_ns() - cpu0) as f64 / 1e6;
    let submit_wall = t.elapsed().as_secs_f64() * 1e3;
    let rss_submitted = rss_mib();

    // The first tick admits them: cost model, prerequisite checks again, driver set-up.
    let cpu0 = thread_cpu_ns();
    let first = engine.tick(&inv, DT, 0);
    let admit_cpu = (thread_cpu_ns() - cpu0) as f64 / 1e6;
    last_phases(&mut latest, &first.events);
    let count = |latest: &BTreeMap<MigrationId, Phase>, f: &dyn Fn(Phase) -> bool| {
        latest.values().filter(|p| f(**p)).count()
    };
    let running = count(&latest, &|p| p >= Phase::Preparing && !p.is_final());
    let queued = count(&latest, &|p| p == Phase::Queued);
    let failed = count(&latest, &|p| p.is_final());
    let rss_admitted = rss_mib();

    // Steady state: MEASURED_TICKS ticks of 0.25 simulated seconds, one at a time.
    let mut cpu_ms = Vec::with_capacity(MEASURED_TICKS);
    let mut wall_ms = Vec::with_capacity(MEASURED_TICKS);
    let (mut events, mut updated, mut switchovers) = (0usize, 0usize, 0usize);
    for k in 0..MEASURED_TICKS {
        let (cpu0, t) = (thread_cpu_ns(), Instant::now());
        let out = engine.tick(&inv, DT, k as i64);
        cpu_ms.push((thread_cpu_ns() - cpu0) as f64 / 1e6);
        wall_ms.push(t.elapsed().as_secs_f64() * 1e3);
        events += out.events.len();
        updated += out.updated.len();
        switchovers += out.switchovers.len();
        last_phases(&mut latest, &out.events);
    }
    let in_flight = engine.in_flight();
    let precopy = count(&latest, &|p| p == Phase::MemoryPrecopy);
    let rss_end = rss_mib();

    println!("| figure | value |\n|---|---|");
    println!(
        "| inventory | {} hosts ({} clusters × {}), {} VMs, generated in {:.0} ms |",
        inv.hosts.len(),
        CLUSTERS,
        HOSTS_PER_CLUSTER,
        inv.vms.len(),
        generated.as_secs_f64() * 1e3
    );
    println!(
        "| submit 10,000 vMotions (plan + prediction each) | {submit_cpu:.0} ms CPU ({submit_wall:.0} ms wall) |"
    );
    println!(
        "| first tick: admission of all of them (cost model, checks, driver set-up) | {admit_cpu:.0} ms CPU |"
    );
    println!(
        "| after the first tick: running / queued / ended | {running} / {queued} / {failed} |"
    );
    println!(
        "| after {MEASURED_TICKS} more ticks ({:.0} simulated s): in flight / in memory pre-copy / switchovers | {in_flight} / {precopy} / {switchovers} |",
        MEASURED_TICKS as f64 * DT
    );
    println!(
        "| events per tick (mean) / summaries updated over the run | {:.0} / {updated} |",
        events as f64 / MEASURED_TICKS as f64
    );
    println!(
        "| `Engine::tick` CPU per tick, median / p99 / max ({MEASURED_TICKS} ticks) | {:.2} / {:.2} / {:.2} ms |",
        pct(&cpu_ms, 0.5),
        pct(&cpu_ms, 0.99),
        pct(&cpu_ms, 1.0)
    );
    println!(
        "| `Engine::tick` wall per tick, median / p99 | {:.2} / {:.2} ms |",
        pct(&wall_ms, 0.5),
        pct(&wall_ms, 0.99)
    );
    println!(
        "| share of one core at 4 ticks/s (mean CPU per tick × 4) | {:.1} % |",
        mean(&cpu_ms) * TICKS_PER_S / 10.0
    );
    println!(
        "| RSS: start / with the inventory / 10,000 submitted / admitted / after the run | {rss_start:.1} / {rss_inventory:.1} / {rss_submitted:.1} / {rss_admitted:.1} / {rss_end:.1} MiB |"
    );
    println!(
        "| engine state alone (RSS after the run − RSS with the inventory) | {:.1} MiB |",
        rss_end - rss_inventory
    );

    // ---- what the runtime adds per tick ----------------------------------------------
    println!("\n## Migration runtime per tick at 10,000 migrations (JSON, SQLite, live batch)\n");
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("engine.db").display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(server::db::connect(&url)).unwrap();
    // The summaries exist already (the service stores each at submit).
    rt.block_on(async {
        let mut tx = db.begin().await.unwrap();
        for id in &ids {
            let m = engine.get(*id).expect("in flight");
            server::db::store_migration(&mut tx, m, &lease())
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    });
    let (mut tick_ms, mut encode_ms, mut frames_ms, mut store_wall, mut store_cpu) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut batch_bytes = 0usize;
    let mut rows = 0usize;
    for k in 0..RUNTIME_TICKS {
        let cpu0 = thread_cpu_ns();
        let out = engine.tick(&inv, DT, k as i64);
        tick_ms.push((thread_cpu_ns() - cpu0) as f64 / 1e6);

        // As service.rs `tick`: encode the events once, store them, then publish.
        let cpu0 = thread_cpu_ns();
        let encoded = encode_events(&out);
        encode_ms.push((thread_cpu_ns() - cpu0) as f64 / 1e6);

        let (cpu0, t) = (process_cpu_ns(), Instant::now());
        rt.block_on(store(&db, &out, &encoded));
        store_wall.push(t.elapsed().as_secs_f64() * 1e3);
        store_cpu.push((process_cpu_ns() - cpu0) as f64 / 1e6);
        // Transient progress goes live only (docs/DESIGN.md#stored-history).
        rows += out.events.iter().filter(|e| !e.transient).count();

        let cpu0 = thread_cpu_ns();
        let batch = live_batch(&out, encoded);
        frames_ms.push((thread_cpu_ns() - cpu0) as f64 / 1e6);
        batch_bytes = batch.iter().map(|f| f.text.len()).sum();
        drop(batch);
    }
    let json_ms: Vec<f64> = (0..RUNTIME_TICKS)
        .map(|i| encode_ms[i] + frames_ms[i])
        .collect();
    let total: Vec<f64> = (0..RUNTIME_TICKS)
        .map(|i| tick_ms[i] + json_ms[i] + store_cpu[i])
        .collect();
    println!("| figure ({RUNTIME_TICKS} ticks of 10,000 events) | median | p99 |\n|---|---|---|");
    println!(
        "| `Engine::tick` (CPU) | {:.2} ms | {:.2} ms |",
        pct(&tick_ms, 0.5),
        pct(&tick_ms, 0.99)
    );
    println!(
        "| JSON: each event encoded once, for SQLite and live clients (CPU) | {:.2} ms | {:.2} ms |",
        pct(&encode_ms, 0.5),
        pct(&encode_ms, 0.99)
    );
    println!(
        "| live batch: summaries encoded, events' frames from their JSON, {:.1} MB a tick (CPU) | {:.2} ms | {:.2} ms |",
        batch_bytes as f64 / 1e6,
        pct(&frames_ms, 0.5),
        pct(&frames_ms, 0.99)
    );
    println!(
        "| SQLite: the tick's summaries and encoded events in one transaction (wall) | {:.2} ms | {:.2} ms |",
        pct(&store_wall, 0.5),
        pct(&store_wall, 0.99)
    );
    println!(
        "| SQLite: same, CPU of all threads | {:.2} ms | {:.2} ms |",
        pct(&store_cpu, 0.5),
        pct(&store_cpu, 0.99)
    );
    println!(
        "| whole tick: engine + JSON + SQLite + live batch (CPU) | {:.2} ms | {:.2} ms |",
        pct(&total, 0.5),
        pct(&total, 0.99)
    );
    println!(
        "| share of one core at 4 ticks/s (mean): engine / JSON and live batch / SQLite / all | {:.1} % / {:.1} % / {:.1} % / {:.1} % | |",
        mean(&tick_ms) * TICKS_PER_S / 10.0,
        mean(&json_ms) * TICKS_PER_S / 10.0,
        mean(&store_cpu) * TICKS_PER_S / 10.0,
        mean(&total) * TICKS_PER_S / 10.0
    );
    let written: u64 = ["engine.db", "engine.db-wal"]
        .iter()
        .map(|f| std::fs::metadata(dir.path().join(f)).map_or(0, |m| m.len()))
        .sum();
    let seconds = RUNTIME_TICKS as f64 / TICKS_PER_S;
    println!(
        "| database after the run: event rows / size (file and WAL) / per second | {rows} rows stored / {:.1} MiB / {:.2} MiB/s | |",
        written as f64 / 1048576.0,
        written as f64 / 1048576.0 / seconds
    );
    println!(
        "| process RSS after the runtime ticks | {:.1} MiB | |",
        rss_mib()
    );
    drop(rt);
}

// ---- with a queue ----------------------------------------------------------------------

/// The same 10,000 running vMotions with 2,500 more waiting: a fifth VM per host
/// (`scale_inventory(125, 20, 5)`), submitted once the 10,000 run, finds its host's 8 slots
/// taken and stays queued. Admission then runs about once a second (every 4th tick) to
/// look at the queue again; the other ticks only step the transfers.
fn queue_bench() {
    const TICKS: usize = 400;
    println!("\n## 10,000 running and 2,500 queued (admission once a second)\n");
    let inv = scale_inventory(CLUSTERS, HOSTS_PER_CLUSTER, VMS_PER_HOST + 1);
    let (first, extra): (Vec<MigrationRequest>, Vec<MigrationRequest>) =
        requests(&inv).into_iter().partition(|r| {
            // VM names are vm-CCC-HHH-VVV: VVV = 004 is the fifth VM of its host.
            inv.vms[&r.vm_id].name.as_str()[11..14] != *"004"
        });
    assert_eq!((first.len(), extra.len()), (10_000, 2_500));
    let mut engine = Engine::new(SimulatedDriver::new());
    for request in first {
        engine
            .submit(&inv, request, MigrationId::new_random(), 0)
            .expect("submitted");
    }
    let _ = engine.tick(&inv, DT, 0);
    let cpu0 = thread_cpu_ns();
    for request in extra {
        engine
            .submit(&inv, request, MigrationId::new_random(), 0)
            .expect("submitted");
    }
    let submit_cpu = (thread_cpu_ns() - cpu0) as f64 / 1e6;
    // The tick after the submits admits (the queue changed): every one gets its reason.
    let cpu0 = thread_cpu_ns();
    let out = engine.tick(&inv, DT, 0);
    let queue_tick = (thread_cpu_ns() - cpu0) as f64 / 1e6;
    let reasons = out
        .events
        .iter()
        .filter(|e| e.phase == Phase::Queued)
        .count();
    let mut cpu_ms = Vec::with_capacity(TICKS);
    let mut events = 0usize;
    for k in 0..TICKS {
        let cpu0 = thread_cpu_ns();
        let out = engine.tick(&inv, DT, k as i64);
        cpu_ms.push((thread_cpu_ns() - cpu0) as f64 / 1e6);
        events += out.events.len();
    }
    // One tick in 4 admits; which one depends on the engine's tick count (private): the
    // residue class with the highest median is the admission ticks.
    let classes: Vec<Vec<f64>> = (0..4)
        .map(|r| cpu_ms.iter().skip(r).step_by(4).copied().collect())
        .collect();
    let admit_class = (0..4)
        .max_by(|a, b| pct(&classes[*a], 0.5).total_cmp(&pct(&classes[*b], 0.5)))
        .unwrap();
    let other: Vec<f64> = (0..4)
        .filter(|r| *r != admit_class)
        .flat_map(|r| classes[r].iter().copied())
        .collect();
    println!("| figure | value |\n|---|---|");
    println!("| submit 2,500 more vMotions (10,000 in flight) | {submit_cpu:.0} ms CPU |");
    println!(
        "| the tick after: admission finds no slot for any (queue reasons: {reasons}) | {queue_tick:.1} ms CPU |"
    );
    println!(
        "| in flight after {TICKS} more ticks / events per tick (mean) | {} / {:.0} |",
        engine.in_flight(),
        events as f64 / TICKS as f64
    );
    println!(
        "| `Engine::tick` CPU, ticks without admission: median / p99 | {:.2} / {:.2} ms |",
        pct(&other, 0.5),
        pct(&other, 0.99)
    );
    println!(
        "| `Engine::tick` CPU, ticks with admission (1 in 4): median / p99 | {:.2} / {:.2} ms |",
        pct(&classes[admit_class], 0.5),
        pct(&classes[admit_class], 0.99)
    );
    println!(
        "| share of one core at 4 ticks/s (mean CPU per tick × 4) | {:.1} % |",
        mean(&cpu_ms) * TICKS_PER_S / 10.0
    );
}

// ---- pieces of a tick ------------------------------------------------------------------

/// Parts of what `Engine::tick` does, run alone through the public domain functions on the
/// same 10,000 vMotions, to show where a tick's time goes (the engine's own helpers are
/// private). A profile (`perf`) of the benchmark agrees: see docs/PERFORMANCE.md.
fn tick_pieces() {
    const RUNS: usize = 50;
    println!("\n## Pieces of a tick at 10,000 running vMotions, measured alone\n");
    let inv = scale_inventory(CLUSTERS, HOSTS_PER_CLUSTER, VMS_PER_HOST);
    let requests = requests(&inv);
    let footprints: Vec<Footprint> = requests
        .iter()
        .map(|r| {
            let vm = &inv.vms[&r.vm_id];
            Footprint::of(vm, r.kind, r.target_host_id, r.target_datastore_id)
        })
        .collect();
    let time = |f: &mut dyn FnMut()| -> Vec<f64> {
        (0..RUNS)
            .map(|_| {
                let cpu0 = thread_cpu_ns();
                f();
                (thread_cpu_ns() - cpu0) as f64 / 1e6
            })
            .collect()
    };
    // What `admit` does each time it runs (after a submit or an end, and once a second while
    // migrations wait): clone every running migration's footprint, count the slots they
    // hold, and collect the busy VMs.
    let usage = time(&mut || {
        let running: Vec<Footprint> = footprints.to_vec();
        std::hint::black_box(SlotUsage::of(&running));
    });
    let busy = time(&mut || {
        let set: BTreeSet<VmId> = requests.iter().map(|r| r.vm_id).collect();
        std::hint::black_box(set);
    });
    // What `share_bandwidth` does when a migration changes stage (each crosses its source and
    // target links).
    let mut index: HashMap<Resource, usize> = HashMap::new();
    let mut capacities = Vec::new();
    let flows: Vec<Flow> = requests
        .iter()
        .map(|r| {
            let plan = TransferPlan::of(&inv, r).expect("valid move");
            let links = [plan.source_host, plan.target_host];
            let resources = links
                .iter()
                .map(|h| {
                    *index.entry(Resource::Link(*h)).or_insert_with(|| {
                        capacities.push(capacity(&inv, Resource::Link(*h)));
                        capacities.len() - 1
                    })
                })
                .collect();
            Flow {
                resources,
                cap: plan.cap,
            }
        })
        .collect();
    let share = time(&mut || {
        std::hint::black_box(max_min_fair(&capacities, &flows));
    });
    println!("| piece ({RUNS} runs, CPU) | median | p99 |\n|---|---|---|");
    for (label, v) in [
        (
            "clone 10,000 footprints and count their slots (`SlotUsage::of`), as each `admit` does",
            &usage,
        ),
        ("the set of busy VMs (`busy_vms`), once per `admit`", &busy),
        (
            "max-min fair share of 10,000 flows over 2,500 links (at stage changes only)",
            &share,
        ),
    ] {
        println!(
            "| {label} | {:.2} ms | {:.2} ms |",
            pct(v, 0.5),
            pct(v, 0.99)
        );
    }
}

// ---- predictions -----------------------------------------------------------------------

/// Demo moves: one per kind, and one that needs SDPS to converge.
fn demo_moves(inv: &Inventory) -> Vec<(&'static str, MigrationRequest)> {
    let vm = |n: &str| -> VmId {
        inv.vms
            .values()
            .find(|v| v.name.as_str() == n)
            .expect("demo VM")
            .id
    };
    let host = |n: &str| -> HostId {
        inv.hosts
            .values()
            .find(|h| h.name.as_str() == n)
            .expect("demo host")
            .id
    };
    let ds = |n: &str| -> DatastoreId {
        inv.datastores
            .values()
            .find(|d| d.name.as_str() == n)
            .expect("demo datastore")
            .id
    };
    let request = |vm_id, kind, h: Option<HostId>, d: Option<DatastoreId>| MigrationRequest {
        vm_id,
        kind,
        target_host_id: h,
        target_datastore_id: d,
        options: Default::default(),
    };
    // cache-01 (48 GiB, dirtying 900 MiB/s) capped at 4 Gbit/s (~477 MiB/s): pre-copy only
    // converges once SDPS slows the guest down.
    let mut sdps = request(
        vm("cache-01"),
        MigrationKind::VMotion,
        Some(host("esx-01")),
        None,
    );
    sdps.options.bandwidth_cap_mbps = Some(4_000);
    vec![
        (
            "vMotion web-01 → esx-02",
            request(
                vm("web-01"),
                MigrationKind::VMotion,
                Some(host("esx-02")),
                None,
            ),
        ),
        (
            "Storage vMotion web-01 → nfs-archive",
            request(
                vm("web-01"),
                MigrationKind::StorageVMotion,
                None,
                Some(ds("nfs-archive")),
            ),
        ),
        (
            "combined build-local → esx-02 + san-gold",
            request(
                vm("build-local"),
                MigrationKind::Combined,
                Some(host("esx-02")),
                Some(ds("san-gold")),
            ),
        ),
        (
            "vMotion db-01 → esx-02 (128 GiB, 600 MiB/s dirty)",
            request(
                vm("db-01"),
                MigrationKind::VMotion,
                Some(host("esx-02")),
                None,
            ),
        ),
        ("SDPS: vMotion cache-01 → esx-01 capped at 4 Gbit/s", sdps),
    ]
}

fn prediction_bench() {
    println!("\n## Prediction latency (`predict`, in process, demo inventory)\n");
    const RUNS: usize = 10_000;
    let inv = demo_inventory();
    println!(
        "| move | rounds / max throttle / predicted duration | median | p99 | max |\n|---|---|---|---|---|"
    );
    for (label, request) in demo_moves(&inv) {
        let p = predict(&inv, &request).expect("well-formed demo move");
        for _ in 0..200 {
            std::hint::black_box(predict(&inv, &request).unwrap());
        }
        let mut us = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let t = Instant::now();
            std::hint::black_box(predict(&inv, std::hint::black_box(&request)).unwrap());
            us.push(t.elapsed().as_secs_f64() * 1e6);
        }
        println!(
            "| {label} | {} / {:.2} / {:.0} s{} | {:.1} µs | {:.1} µs | {:.0} µs |",
            p.rounds.len(),
            p.max_throttle,
            p.duration_s,
            if p.converges {
                ""
            } else {
                " (does not converge)"
            },
            pct(&us, 0.5),
            pct(&us, 0.99),
            pct(&us, 1.0)
        );
    }
}

fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    engine_bench();
    queue_bench();
    tick_pieces();
    prediction_bench();
}
