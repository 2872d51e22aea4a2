//! Two replicas of the real `vmshift` binary (release) sharing one PostgreSQL database: how
//! long a migration event takes to reach the websocket clients of the replica that does *not*
//! run the migration. Prints a Markdown report.
//!
//!     VMSHIFT_BENCH_POSTGRES=$(scripts/postgres.sh start) cargo bench -p server --bench replicas
//!
//! Set-up. One fresh database (see `bench_db.rs`) seeded with `scale_inventory(3, 20, 5)`
//! (60 hosts, 300 VMs), the inventory of `benches/live.rs`'s fan-out; replicas A and B on it
//! at speed 1 with 250 ms ticks; 100 websocket clients on each. The 100 capped vMotions of
//! `live.rs` are started through A only, so A's engine runs them all: A stores each tick's
//! events, `NOTIFY`s their migration ids in the same transaction and, once committed, pushes
//! them to its own clients; B, on the notice, reads the new events from the database and pushes
//! them to its clients.
//!
//! Method. Every client records, for each `migration_event`, its `(migration_id, seq)` and the
//! instant it arrived (one clock: all clients run in this process). The cross-replica latency
//! of one reception by a client of B is its arrival minus the *earliest arrival of the same
//! event at any client of A*: the extra delay a browser connected to B sees compared with the
//! luckiest browser on A (A publishes right after its commit; B only after the notice, its
//! reads and its own fan-out). It needs no estimate of when the server produced the event.
//! The same spread within A and within B (arrival minus the earliest arrival on the same
//! replica) is given for reference: it is the fan-out alone. Only the first reception of an
//! event by a client counts (a browser ignores an event whose seq it has passed); events
//! received again are counted apart. Events are those whose earliest A arrival falls in the
//! recording window; clients keep listening 2 s past it, so that a late delivery on B is
//! measured, not counted as lost. The replicas' logs (`--log warn`) go to
//! `target/tmp/bench-replicas/replica-{a,b}.log`; the report counts their warnings and errors.

#[path = "bench_auth.rs"]
mod bench_auth;
#[path = "bench_db.rs"]
mod bench_db;
#[path = "bench_proc.rs"]
mod bench_proc;

use domain::generate::scale_inventory;
use futures::StreamExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Websocket clients connected to each replica.
const CLIENTS_PER_REPLICA: usize = 100;
/// Migrations running, all on replica A (vMotions capped at 100 Mbit/s: > 10 minutes each).
const MIGRATIONS: usize = 100;
/// How long events are taken into account.
const WINDOW: Duration = Duration::from_secs(20);
/// How long clients keep listening after the window (late deliveries on B still count).
const GRACE: Duration = Duration::from_secs(2);
/// The issue's target for the cross-replica latency, p99.
const TARGET_P99_MS: f64 = 200.0;
const NAMES: [&str; 2] = ["replica-a", "replica-b"];

/// One replica: the binary in a child process, its output in a log file.
struct Replica {
    child: Child,
    base: String,
    /// An admin API token (every route needs a signed-in user).
    token: String,
    log: PathBuf,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Replica {
    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

/// Starts replica `name` on `url` at speed 1 with 250 ms ticks, its log (stdout and stderr,
/// level warn) going to `log_dir/<name>.log`, and waits until it answers.
async fn start_replica(url: &str, name: &str, log_dir: &Path) -> Replica {
    let log = log_dir.join(format!("{name}.log"));
    let out = File::create(&log).expect("a log file");
    let err = out.try_clone().expect("a log file");
    let port = bench_proc::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_vmshift"))
        .args(["--database-url", url])
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(["--replica-id", name, "--demo", "false"])
        .args(["--speed", "1", "--tick-ms", "250", "--log", "warn"])
        .args(["--admin-password", bench_auth::PASSWORD])
        .env("NO_COLOR", "1")
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    bench_proc::wait_up(&base).await;
    let token = bench_auth::admin_token(&base).await;
    Replica {
        child,
        base,
        token,
        log,
    }
}

/// CPU seconds of every process named `postgres` on the machine (the server and one backend
/// per connection; a backend that exits meanwhile takes its share with it).
fn postgres_cpu_s() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return f64::NAN;
    };
    dir.filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim_end() == "postgres")
        })
        .map(|pid| bench_proc::cpu_s(&pid))
        .sum()
}

/// Nearest-rank percentile of `values` (sorted here).
fn pct<T: Copy + Ord>(values: &mut [T], p: f64) -> T {
    values.sort_unstable();
    values[((values.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(us: i64) -> f64 {
    us as f64 / 1e3
}

/// `name` → `id` of every object of a kind.
async fn ids(client: &reqwest::Client, base: &str, kind: &str) -> HashMap<String, String> {
    let list: Vec<Value> = client
        .get(format!("{base}/api/v1/{kind}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list.iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap().to_owned(),
                o["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// One reception of a migration event by one client.
#[derive(Clone, Copy)]
struct Sample {
    /// Received, µs since the benchmark's epoch.
    recv_us: u32,
    seq: u32,
    /// Index of the migration (order of creation).
    migration: u16,
}

/// What the client tasks share.
struct Shared {
    epoch: Instant,
    /// Migration id → index, set once every migration is created; events are recorded from
    /// then on.
    index: OnceLock<HashMap<String, u16>>,
    stop: AtomicBool,
}

#[derive(Default)]
struct ClientReport {
    /// 0 for A, 1 for B.
    replica: usize,
    /// The first reception of each event: what a browser applies (it ignores an event whose
    /// seq it has passed).
    samples: Vec<Sample>,
    /// Highest seq received of each migration.
    highest: HashMap<u16, u32>,
    /// Arrivals of `migration_updated` messages (µs since the epoch) while recording.
    updates: Vec<u32>,
    /// Snapshots received after the first (resyncs of a client that fell behind).
    resyncs: usize,
    closed_early: bool,
    /// Events skipped (a seq more than one above the highest received).
    gaps: usize,
    /// Events at or below the highest seq received of their migration: sent again (or late).
    repeats: usize,
}

impl ClientReport {
    /// Records one reception of event `seq` of `migration`.
    fn receive(&mut self, recv_us: u32, migration: u16, seq: u32) {
        match self.highest.get(&migration) {
            Some(&h) if seq <= h => {
                self.repeats += 1;
                return;
            }
            Some(&h) if seq > h + 1 => self.gaps += 1,
            _ => {}
        }
        self.highest.insert(migration, seq);
        self.samples.push(Sample {
            recv_us,
            seq,
            migration,
        });
    }
}

/// The value after `"key":` in a JSON line (up to the next `,` or `}`), without quotes.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(key)? + key.len();
    let rest = &line[start..];
    let end = rest.find([',', '}'])?;
    Some(rest[..end].trim_matches('"'))
}

/// One websocket client of replica `replica`: waits for its snapshot, then, once the
/// migrations are known, records the first arrival of every migration event until `stop`. It
/// only picks two fields out of each line, to stay cheap next to the servers.
async fn client(
    replica: usize,
    url: String,
    token: String,
    shared: Arc<Shared>,
    connected: tokio::sync::mpsc::Sender<()>,
) -> ClientReport {
    let mut report = ClientReport {
        replica,
        ..ClientReport::default()
    };
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
            .expect("a websocket URL");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ASCII"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let mut snapshots = 0usize;
    while let Some(msg) = ws.next().await {
        let recv_us = shared.epoch.elapsed().as_micros() as u32;
        let Ok(msg) = msg else {
            report.closed_early = true;
            break;
        };
        let Message::Text(text) = msg else { continue };
        let line = text.as_str();
        if line.starts_with(r#"{"type":"snapshot""#) {
            snapshots += 1;
            if snapshots == 1 {
                let _ = connected.send(()).await;
            }
        } else if let Some(index) = shared.index.get() {
            if line.starts_with(r#"{"type":"migration_event""#) {
                let id = field(line, r#""migration_id":"#).unwrap_or("");
                let seq = field(line, r#""seq":"#).and_then(|s| s.parse().ok());
                if let (Some(&migration), Some(seq)) = (index.get(id), seq) {
                    report.receive(recv_us, migration, seq);
                }
            } else if line.starts_with(r#"{"type":"migration_updated""#) {
                report.updates.push(recv_us);
            }
        }
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
    }
    report.resyncs = snapshots.saturating_sub(1);
    let _ = ws.close(None).await;
    report
}

/// A replica's log (`--log warn`: normally empty): its warnings, its errors, and its first
/// lines.
fn log_lines(path: &Path) -> (usize, usize, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let warn = text.lines().filter(|l| l.contains(" WARN ")).count();
    let error = text.lines().filter(|l| l.contains(" ERROR ")).count();
    let lines = text.lines().take(10).map(str::to_owned).collect();
    (warn, error, lines)
}

/// p50 / p95 / p99 / max of `us`, in ms, as table cells.
fn spread_cells(us: &mut [i64]) -> String {
    if us.is_empty() {
        return "— | — | — | —".into();
    }
    format!(
        "{:.1} | {:.1} | {:.1} | {:.1}",
        ms(pct(us, 0.5)),
        ms(pct(us, 0.95)),
        ms(pct(us, 0.99)),
        ms(pct(us, 1.0))
    )
}

/// The soft limit of open files (`/proc/self/limits`); the servers inherit it.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    Some(if soft == "unlimited" {
        u64::MAX
    } else {
        soft.parse().ok()?
    })
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    if bench_db::postgres_admin().is_none() {
        eprintln!(
            "several replicas need PostgreSQL: set {} to an admin URL, e.g. \
             {}=$(bash scripts/postgres.sh start) cargo bench -p server --bench replicas",
            bench_db::POSTGRES_ENV,
            bench_db::POSTGRES_ENV
        );
        std::process::exit(1);
    }
    let clients = 2 * CLIENTS_PER_REPLICA;
    if let Some(limit) = open_files_limit().filter(|l| *l < clients as u64 + 200) {
        eprintln!(
            "{clients} websocket clients need more than {limit} open files: run `ulimit -n 4096` first (scripts/bench.sh does)"
        );
        std::process::exit(1);
    }
    println!(
        "## Two replicas on one PostgreSQL database: {MIGRATIONS} migrations on A, \
         {CLIENTS_PER_REPLICA} websocket clients on each (speed 1, 4 ticks/s)\n"
    );
    println!(
        "The migrations run on replica A, which pushes each tick's events to its clients after \
         its commit; B pushes them after A's NOTIFY and its own reads. Each client notes when \
         it first receives every event (one clock, one process). Cross-replica latency: a \
         reception by a client of B minus the earliest reception of the same event by any \
         client of A. Spreads: a reception minus the earliest on the same replica (fan-out \
         alone). {:.0} s of events, clients listening {:.0} s longer for late deliveries.\n",
        WINDOW.as_secs_f64(),
        GRACE.as_secs_f64()
    );

    // One database, seeded here (as live.rs does), then both replicas on it.
    let db = bench_db::BenchDb::new().await;
    bench_db::seed(&db.url, scale_inventory(3, 20, 5)).await;
    let log_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-replicas");
    std::fs::create_dir_all(&log_dir).unwrap();
    // One after the other: the first creates the admin, the second finds it.
    let a = start_replica(&db.url, NAMES[0], &log_dir).await;
    let b = start_replica(&db.url, NAMES[1], &log_dir).await;
    let replicas = [&a, &b];
    let pids = [a.pid(), b.pid()];

    // The moves of live.rs's fan-out: the first two VMs of every host to the next host of
    // their cluster (at most 2 out + 2 in per host: 4 of its 8 slots).
    let http = bench_auth::client(&a.token);
    let vms = ids(&http, &a.base, "vms").await;
    let hosts = ids(&http, &a.base, "hosts").await;
    let mut moves = Vec::new();
    'plan: for c in 0..3 {
        for h in 0..20 {
            for v in 0..2 {
                if moves.len() == MIGRATIONS {
                    break 'plan;
                }
                moves.push(json!({
                    "vm_id": vms[&format!("vm-{c:03}-{h:03}-{v:03}")],
                    "kind": "vmotion",
                    "target_host_id": hosts[&format!("esx-{c:03}-{:03}", (h + 1) % 20)],
                    "options": {"bandwidth_cap_mbps": 100},
                }));
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle = pids.each_ref().map(|p| bench_proc::status_mib(p, "VmRSS:"));

    // Connect the clients, alternately to A and B, 64 at a time, and wait for their snapshots.
    let shared = Arc::new(Shared {
        epoch: Instant::now(),
        index: OnceLock::new(),
        stop: AtomicBool::new(false),
    });
    let urls = replicas.map(|r| format!("ws://{}/ws", r.base.trim_start_matches("http://")));
    let t = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel(clients);
    let mut tasks = Vec::with_capacity(clients);
    for i in 0..clients {
        let r = i % 2;
        tasks.push(tokio::spawn(client(
            r,
            urls[r].clone(),
            replicas[r].token.clone(),
            shared.clone(),
            tx.clone(),
        )));
        if i % 64 == 63 {
            for _ in 0..64 {
                rx.recv().await.unwrap();
            }
        }
    }
    for _ in 0..clients % 64 {
        rx.recv().await.unwrap();
    }
    let connect_time = t.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_connected = pids.each_ref().map(|p| bench_proc::status_mib(p, "VmRSS:"));

    // Start the migrations, through A only.
    let mut index = HashMap::new();
    let mut post_us = Vec::new();
    for (i, body) in moves.iter().enumerate() {
        let t = Instant::now();
        let r = http
            .post(format!("{}/api/v1/migrations", a.base))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        post_us.push(t.elapsed().as_micros() as i64);
        let m: Value = r.json().await.unwrap();
        index.insert(m["id"].as_str().unwrap().to_owned(), i as u16);
    }
    shared.index.set(index).unwrap();
    let recording_from = Instant::now();
    // Past preparation (1 s) into memory pre-copy before the window.
    tokio::time::sleep(Duration::from_secs(3)).await;

    // The window: CPU of both replicas, PostgreSQL and this process; RSS every 500 ms.
    let cpu0 = (
        pids.each_ref().map(|p| bench_proc::cpu_s(p)),
        postgres_cpu_s(),
        bench_proc::cpu_s("self"),
    );
    let window_start = shared.epoch.elapsed().as_micros() as u32;
    let mut rss_max = [0.0f64; 2];
    let t = Instant::now();
    while t.elapsed() < WINDOW {
        tokio::time::sleep(Duration::from_millis(500)).await;
        for (max, pid) in rss_max.iter_mut().zip(&pids) {
            *max = max.max(bench_proc::status_mib(pid, "VmRSS:"));
        }
    }
    let window_end = shared.epoch.elapsed().as_micros() as u32;
    let window = t.elapsed().as_secs_f64();
    let share = |s0: f64, s1: f64| (s1 - s0) / window * 100.0;
    let cpu = [
        share(cpu0.0[0], bench_proc::cpu_s(&pids[0])),
        share(cpu0.0[1], bench_proc::cpu_s(&pids[1])),
    ];
    let postgres_cpu = share(cpu0.1, postgres_cpu_s());
    let bench_cpu = share(cpu0.2, bench_proc::cpu_s("self"));
    tokio::time::sleep(GRACE).await;

    // Still all in flight, and seen so by B?
    let mut in_flight = [0usize; 2];
    for (n, r) in in_flight.iter_mut().zip(replicas) {
        let list: Vec<Value> = bench_auth::client(&r.token)
            .get(format!("{}/api/v1/migrations", r.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        *n = list
            .iter()
            .filter(|m| {
                !["completed", "failed", "cancelled"].contains(&m["phase"].as_str().unwrap())
            })
            .count();
    }

    // Stop the clients: each leaves at its next message (events come every 250 ms).
    shared.stop.store(true, Ordering::Relaxed);
    let recorded_s = recording_from.elapsed().as_secs_f64();
    let mut reports = Vec::with_capacity(clients);
    for task in tasks {
        reports.push(task.await.unwrap());
    }
    let logs = replicas.map(|r| r.log.clone());
    drop(a);
    drop(b);
    drop(db);

    // ---- analysis ------------------------------------------------------------------------
    type Key = (u16, u32);
    // Earliest arrival of each event on each replica.
    let mut first: [HashMap<Key, u32>; 2] = [HashMap::new(), HashMap::new()];
    for r in &reports {
        for s in &r.samples {
            let f = first[r.replica]
                .entry((s.migration, s.seq))
                .or_insert(s.recv_us);
            *f = (*f).min(s.recv_us);
        }
    }
    // The events measured: first reached a client of A during the window.
    let in_window = |k: &Key| {
        first[0]
            .get(k)
            .is_some_and(|&t| (window_start..window_end).contains(&t))
    };
    let events = first[0].keys().filter(|k| in_window(k)).count();
    let mut cross = Vec::new();
    let mut spread: [Vec<i64>; 2] = [Vec::new(), Vec::new()];
    // Clients of each replica that received each measured event.
    let mut received: [HashMap<Key, usize>; 2] = [HashMap::new(), HashMap::new()];
    for r in &reports {
        for s in &r.samples {
            let k = (s.migration, s.seq);
            if !in_window(&k) {
                continue;
            }
            *received[r.replica].entry(k).or_default() += 1;
            spread[r.replica].push(s.recv_us as i64 - first[r.replica][&k] as i64);
            if r.replica == 1 {
                cross.push(s.recv_us as i64 - first[0][&k] as i64);
            }
        }
    }
    // The replication delay alone: B's earliest arrival minus A's, per event.
    let mut hop: Vec<i64> = first[0]
        .iter()
        .filter(|(k, _)| in_window(k))
        .filter_map(|(k, &ta)| first[1].get(k).map(|&tb| tb as i64 - ta as i64))
        .collect();
    // Events some client of a replica never got; receptions missing.
    let missing = |r: usize| {
        let mut events_short = 0;
        let mut receptions_short = 0;
        for k in first[0].keys().filter(|k| in_window(k)) {
            let got = received[r].get(k).copied().unwrap_or(0);
            if got < CLIENTS_PER_REPLICA {
                events_short += 1;
                receptions_short += CLIENTS_PER_REPLICA - got;
            }
        }
        (events_short, receptions_short)
    };
    let lost = [missing(0), missing(1)];
    let mut gaps = [0usize; 2];
    let mut repeats = [0usize; 2];
    let mut resyncs = [0usize; 2];
    let mut closed = [0usize; 2];
    let mut updates = [0usize; 2];
    for r in &reports {
        gaps[r.replica] += r.gaps;
        repeats[r.replica] += r.repeats;
        resyncs[r.replica] += r.resyncs;
        closed[r.replica] += r.closed_early as usize;
        updates[r.replica] += r
            .updates
            .iter()
            .filter(|t| (window_start..window_end).contains(t))
            .count();
    }
    let logs = logs.map(|p| (log_lines(&p), p));

    // ---- report --------------------------------------------------------------------------
    let receptions = spread[0].len() + spread[1].len();
    println!("| figure | value |\n|---|---|");
    println!(
        "| connect {clients} clients ({CLIENTS_PER_REPLICA} per replica, 64 at a time) until each has its snapshot | {:.2} s |",
        connect_time.as_secs_f64()
    );
    println!(
        "| `POST /api/v1/migrations` ×{MIGRATIONS} to A p50 / max | {:.1} / {:.1} ms |",
        ms(pct(&mut post_us, 0.5)),
        ms(pct(&mut post_us, 1.0))
    );
    println!(
        "| recorded for {window:.1} s (+{:.0} s for late deliveries): distinct events / events per second | {events} / {:.0} |",
        GRACE.as_secs_f64(),
        events as f64 / window
    );
    println!(
        "| receptions (first of each event by each of the {clients} clients) / per second | {receptions} / {:.0} |",
        receptions as f64 / window
    );
    println!(
        "| events lost: seen on A but missed by some client of B (missing receptions) | {} ({}) |",
        lost[1].0, lost[1].1
    );
    println!(
        "| CPU during the window: PostgreSQL (all its processes) / this load generator (of 200 % on 2 cores) | {postgres_cpu:.0} % / {bench_cpu:.0} % |"
    );

    // Repeats are counted over the whole recording (from the migrations' creation to the end
    // of the grace period), the rest over the window.
    let per_client_s = |n: usize| n as f64 / CLIENTS_PER_REPLICA as f64 / window;
    let per_client_recorded_s = |n: usize| n as f64 / CLIENTS_PER_REPLICA as f64 / recorded_s;
    println!(
        "\n| per replica | A (runs the migrations) | B (follows through NOTIFY) |\n|---|---|---|"
    );
    println!(
        "| migrations in flight at the end, as the replica sees them | {} | {} |",
        in_flight[0], in_flight[1]
    );
    println!(
        "| events some client missed (missing receptions) | {} ({}) | {} ({}) |",
        lost[0].0, lost[0].1, lost[1].0, lost[1].1
    );
    println!(
        "| seq gaps in any client's stream of a migration (events skipped) | {} | {} |",
        gaps[0], gaps[1]
    );
    println!(
        "| events received again (seq already passed: ignored, as browsers do), per client per second | {:.1} | {:.1} |",
        per_client_recorded_s(repeats[0]),
        per_client_recorded_s(repeats[1])
    );
    println!(
        "| resyncs (lagging clients) / sockets closed early | {} / {} | {} / {} |",
        resyncs[0], closed[0], resyncs[1], closed[1]
    );
    println!(
        "| `migration_updated` messages per client per second | {:.1} | {:.1} |",
        per_client_s(updates[0]),
        per_client_s(updates[1])
    );
    println!(
        "| CPU during the window (of 200 %) | {:.0} % | {:.0} % |",
        cpu[0], cpu[1]
    );
    println!(
        "| RSS: idle with the inventory / {CLIENTS_PER_REPLICA} clients connected / max while streaming | {:.1} / {:.1} / {:.1} MiB | {:.1} / {:.1} / {:.1} MiB |",
        rss_idle[0], rss_connected[0], rss_max[0], rss_idle[1], rss_connected[1], rss_max[1]
    );
    println!(
        "| warnings / errors in its log | {} / {} | {} / {} |",
        logs[0].0 .0, logs[0].0 .1, logs[1].0 .0, logs[1].0 .1
    );

    println!("\n| latency (ms) | p50 | p95 | p99 | max |\n|---|---|---|---|---|");
    let cross_p99 = if cross.is_empty() {
        f64::NAN
    } else {
        ms(pct(&mut cross, 0.99))
    };
    println!(
        "| **cross-replica**: arrival at a client of B − earliest arrival at a client of A ({} receptions) | {} |",
        cross.len(),
        spread_cells(&mut cross)
    );
    println!(
        "| replication hop: earliest arrival on B − earliest arrival on A ({} events) | {} |",
        hop.len(),
        spread_cells(&mut hop)
    );
    println!(
        "| spread within A: arrival − earliest arrival on A | {} |",
        spread_cells(&mut spread[0])
    );
    println!(
        "| spread within B: arrival − earliest arrival on B | {} |",
        spread_cells(&mut spread[1])
    );
    println!(
        "\nTarget: cross-replica p99 under {TARGET_P99_MS:.0} ms on loopback — **{}** (p99 {cross_p99:.1} ms).",
        if cross_p99 < TARGET_P99_MS {
            "met"
        } else {
            "not met"
        }
    );

    // The logs, for a look: with --log warn they should be empty.
    for ((warn, error, lines), path) in &logs {
        if !lines.is_empty() {
            eprintln!(
                "{}: {warn} warnings, {error} errors; first lines:",
                path.display()
            );
            for l in lines {
                eprintln!("    {l}");
            }
        }
    }
}
