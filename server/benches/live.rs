//! Live benchmarks of issue 4 against the real `vmshift` binary (release), started as a
//! separate process on loopback like `benches/load.rs` does: predictions over HTTP, and the
//! websocket fan-out of migration events to 1,000 clients while 100 migrations run. Prints a
//! Markdown report.
//!
//!     cargo bench -p server --bench live            (scripts/bench.sh runs it too)
//!     VMSHIFT_BENCH_POSTGRES=$(scripts/postgres.sh start) cargo bench -p server --bench live
//!
//! The second form runs the same on a fresh PostgreSQL database (see `bench_db.rs`).
//!
//! Event latency. Every `migration_event` carries `sim_time_s`: simulated seconds since its
//! migration was created. At speed 1 the engine advances by exactly the wall time between
//! two tick starts, so for one migration the server produced event `seq` at wall time
//! `O_m + sim_time_s`, with `O_m` a constant of that migration (the engine's time origin plus
//! its creation time, unknown to a client). A client receiving it at `R` saw it
//! `R − sim_time_s − O_m` after the tick began. `O_m` is estimated as the smallest
//! `R − sim_time_s` over every event of that migration received by every client (~80,000
//! receptions): latency is thus measured above the fastest delivery of that migration in the
//! whole run, which is itself at least the server's work before publishing (the tick, its
//! database transaction) plus one loopback hop — a floor of a few ms, not included. The spread
//! (each client's reception minus the first client's reception of the same event) is
//! reported too: it is the fan-out cost alone, with no estimate involved.

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
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Websocket clients connected during the fan-out measurement.
const CLIENTS: usize = 1_000;
/// Migrations running during it (vMotions capped at 100 Mbit/s: 8 GiB takes > 10 minutes).
const MIGRATIONS: usize = 100;
/// How long receptions are recorded.
const WINDOW: Duration = Duration::from_secs(20);

struct Server {
    child: Child,
    base: String,
    /// An admin API token (every route needs a signed-in user).
    token: String,
    db: bench_db::BenchDb,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Seeds a fresh database with `inventory` (or lets the server load the demo), starts vmshift
/// on it at speed 1 with 250 ms ticks (the defaults), and waits until it answers.
async fn start(inventory: Option<domain::Inventory>) -> Server {
    let db = bench_db::BenchDb::new().await;
    let url = db.url.clone();
    let demo = inventory.is_none();
    if let Some(inv) = inventory {
        bench_db::seed(&url, inv).await;
    }
    let port = bench_proc::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_vmshift"))
        .args(["--database-url", &url])
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(["--demo", if demo { "true" } else { "false" }])
        .args(["--speed", "1", "--tick-ms", "250", "--log", "warn"])
        .args(["--admin-password", bench_auth::PASSWORD])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    bench_proc::wait_up(&base).await;
    let token = bench_auth::admin_token(&base).await;
    Server {
        child,
        base,
        token,
        db,
    }
}

/// Nearest-rank percentile of `values` (sorted here).
fn pct<T: Copy + Ord>(values: &mut [T], p: f64) -> T {
    values.sort_unstable();
    values[((values.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(us: i64) -> f64 {
    us as f64 / 1e3
}

/// Sequential POSTs of `body` to `url`: latencies in µs, sorted.
async fn timed_posts(client: &reqwest::Client, url: &str, body: &Value, n: usize) -> Vec<i64> {
    let mut us = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = client.post(url).json(body).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let _ = r.bytes().await.unwrap();
        us.push(t.elapsed().as_micros() as i64);
    }
    us.sort_unstable();
    us
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

async fn predictions_over_http() {
    let srv = start(None).await;
    println!(
        "## Prediction latency over HTTP (`POST /api/v1/predictions`, demo inventory) — {}\n",
        srv.db.label()
    );
    let client = bench_auth::client(&srv.token);
    let vms = ids(&client, &srv.base, "vms").await;
    let hosts = ids(&client, &srv.base, "hosts").await;
    let ds = ids(&client, &srv.base, "datastores").await;
    // The moves of the in-process prediction benchmark (benches/engine.rs).
    let moves = [
        (
            "vMotion web-01 → esx-02",
            json!({"vm_id": vms["web-01"], "kind": "vmotion", "target_host_id": hosts["esx-02"]}),
        ),
        (
            "Storage vMotion web-01 → nfs-archive",
            json!({"vm_id": vms["web-01"], "kind": "storage_vmotion",
                   "target_datastore_id": ds["nfs-archive"]}),
        ),
        (
            "combined build-local → esx-02 + san-gold",
            json!({"vm_id": vms["build-local"], "kind": "combined",
                   "target_host_id": hosts["esx-02"], "target_datastore_id": ds["san-gold"]}),
        ),
        (
            "SDPS: vMotion cache-01 → esx-01 capped at 4 Gbit/s",
            json!({"vm_id": vms["cache-01"], "kind": "vmotion", "target_host_id": hosts["esx-01"],
                   "options": {"bandwidth_cap_mbps": 4000}}),
        ),
    ];
    let url = format!("{}/api/v1/predictions", srv.base);
    println!("| move (1,000 sequential requests, one connection) | p50 | p99 |\n|---|---|---|");
    for (label, body) in moves {
        let _ = timed_posts(&client, &url, &body, 100).await;
        let mut us = timed_posts(&client, &url, &body, 1_000).await;
        println!(
            "| {label} | {:.3} ms | {:.3} ms |",
            ms(pct(&mut us, 0.5)),
            ms(pct(&mut us, 0.99))
        );
    }
}

/// One reception of a migration event by one client.
#[derive(Clone, Copy)]
struct Sample {
    /// Received, µs since the benchmark's epoch.
    recv_us: u32,
    /// The event's `sim_time_s`, µs.
    sim_us: u32,
    seq: u32,
    /// Index of the migration (order of creation).
    migration: u16,
}

/// What the client tasks share.
struct Shared {
    epoch: Instant,
    /// Migration id → index, set once every migration is created.
    index: OnceLock<HashMap<String, u16>>,
    recording: AtomicBool,
    stop: AtomicBool,
}

#[derive(Default)]
struct ClientReport {
    samples: Vec<Sample>,
    /// Snapshots received after the first (resyncs of a client that fell behind).
    resyncs: usize,
    /// Size of the first snapshot.
    snapshot_bytes: usize,
    bytes: usize,
    closed_early: bool,
}

/// The value after `"key":` in a JSON line (up to the next `,` or `}`), without quotes.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(key)? + key.len();
    let rest = &line[start..];
    let end = rest.find([',', '}'])?;
    Some(rest[..end].trim_matches('"'))
}

/// One websocket client: waits for its snapshot, then records every migration event while
/// `recording` is set. It only picks three fields out of each line, so that 1,000 clients
/// in this process cost as little CPU as possible next to the server.
async fn client(
    url: String,
    token: String,
    shared: Arc<Shared>,
    connected: tokio::sync::mpsc::Sender<()>,
) -> ClientReport {
    let mut report = ClientReport::default();
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
        report.bytes += line.len();
        if line.starts_with(r#"{"type":"snapshot""#) {
            snapshots += 1;
            if snapshots == 1 {
                report.snapshot_bytes = line.len();
                let _ = connected.send(()).await;
            }
        } else if line.starts_with(r#"{"type":"migration_event""#)
            && shared.recording.load(Ordering::Relaxed)
        {
            let index = shared.index.get().expect("set before recording");
            let id = field(line, r#""migration_id":"#).unwrap_or("");
            if let Some(&migration) = index.get(id) {
                let seq = field(line, r#""seq":"#).and_then(|s| s.parse().ok());
                let sim = field(line, r#""sim_time_s":"#).and_then(|s| s.parse::<f64>().ok());
                if let (Some(seq), Some(sim)) = (seq, sim) {
                    report.samples.push(Sample {
                        recv_us,
                        sim_us: (sim * 1e6).round() as u32,
                        seq,
                        migration,
                    });
                }
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

async fn fan_out() {
    // 3 clusters × 20 hosts × 5 VMs; the first two VMs of every host move to the next host of
    // their cluster (at most 2 out + 2 in per host: 4 of its 8 slots).
    let srv = start(Some(scale_inventory(3, 20, 5))).await;
    let db = srv.db.label();
    println!("\n## Websocket fan-out: {CLIENTS} clients, {MIGRATIONS} migrations running (speed 1, 4 ticks/s) — {db}\n");
    let pid = srv.child.id().to_string();
    let http = bench_auth::client(&srv.token);
    let vms = ids(&http, &srv.base, "vms").await;
    let hosts = ids(&http, &srv.base, "hosts").await;
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
    let rss_idle = bench_proc::status_mib(&pid, "VmRSS:");

    // Connect every client (64 at a time) and wait for all their snapshots.
    let shared = Arc::new(Shared {
        epoch: Instant::now(),
        index: OnceLock::new(),
        recording: AtomicBool::new(false),
        stop: AtomicBool::new(false),
    });
    let url = format!("ws://{}/ws", srv.base.trim_start_matches("http://"));
    let t = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel(CLIENTS);
    let mut tasks = Vec::with_capacity(CLIENTS);
    for i in 0..CLIENTS {
        tasks.push(tokio::spawn(client(
            url.clone(),
            srv.token.clone(),
            shared.clone(),
            tx.clone(),
        )));
        if i % 64 == 63 {
            for _ in 0..64 {
                rx.recv().await.unwrap();
            }
        }
    }
    for _ in 0..CLIENTS % 64 {
        rx.recv().await.unwrap();
    }
    let connect_time = t.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_connected = bench_proc::status_mib(&pid, "VmRSS:");

    // Start the migrations.
    let mut index = HashMap::new();
    let mut post_us = Vec::new();
    for (i, body) in moves.iter().enumerate() {
        let t = Instant::now();
        let r = http
            .post(format!("{}/api/v1/migrations", srv.base))
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
    // Past preparation (1 s) into memory pre-copy before recording.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let (server_cpu0, bench_cpu0) = (bench_proc::cpu_s(&pid), bench_proc::cpu_s("self"));
    shared.recording.store(true, Ordering::Relaxed);
    let mut rss_max: f64 = 0.0;
    let t = Instant::now();
    while t.elapsed() < WINDOW {
        tokio::time::sleep(Duration::from_millis(500)).await;
        rss_max = rss_max.max(bench_proc::status_mib(&pid, "VmRSS:"));
    }
    shared.recording.store(false, Ordering::Relaxed);
    let window = t.elapsed().as_secs_f64();
    let server_cpu = (bench_proc::cpu_s(&pid) - server_cpu0) / window * 100.0;
    let bench_cpu = (bench_proc::cpu_s("self") - bench_cpu0) / window * 100.0;

    // Still all in flight?
    let list: Vec<Value> = http
        .get(format!("{}/api/v1/migrations", srv.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let in_flight = list
        .iter()
        .filter(|m| !["completed", "failed", "cancelled"].contains(&m["phase"].as_str().unwrap()))
        .count();

    // Stop the clients: each leaves at its next message (events come every 250 ms).
    shared.stop.store(true, Ordering::Relaxed);
    let mut reports = Vec::with_capacity(CLIENTS);
    for task in tasks {
        reports.push(task.await.unwrap());
    }
    drop(srv);

    // ---- analysis ------------------------------------------------------------------------
    let samples: Vec<Sample> = reports
        .iter()
        .flat_map(|r| r.samples.iter().copied())
        .collect();
    let resyncs: usize = reports.iter().map(|r| r.resyncs).sum();
    let closed = reports.iter().filter(|r| r.closed_early).count();
    let bytes: usize = reports.iter().map(|r| r.bytes).sum();
    // First reception of each event, and the per-migration origin estimate O_m.
    let mut first: HashMap<(u16, u32), u32> = HashMap::new();
    let mut origin: HashMap<u16, i64> = HashMap::new();
    for s in &samples {
        let f = first.entry((s.migration, s.seq)).or_insert(s.recv_us);
        *f = (*f).min(s.recv_us);
        let o = origin.entry(s.migration).or_insert(i64::MAX);
        *o = (*o).min(s.recv_us as i64 - s.sim_us as i64);
    }
    let mut spread: Vec<i64> = samples
        .iter()
        .map(|s| (s.recv_us - first[&(s.migration, s.seq)]) as i64)
        .collect();
    let mut latency: Vec<i64> = samples
        .iter()
        .map(|s| s.recv_us as i64 - s.sim_us as i64 - origin[&s.migration])
        .collect();
    let events = first.len();
    let complete = samples.len() as f64 / (events * CLIENTS) as f64 * 100.0;

    println!("| figure | value |\n|---|---|");
    println!(
        "| connect {CLIENTS} clients (64 at a time) until each has its snapshot | {:.2} s |",
        connect_time.as_secs_f64()
    );
    println!(
        "| `POST /api/v1/migrations` ×{MIGRATIONS} (checks, plan, prediction, {db}, published to {CLIENTS} clients) p50 / max | {:.1} / {:.1} ms |",
        ms(pct(&mut post_us, 0.5)),
        ms(pct(&mut post_us, 1.0))
    );
    println!(
        "| recorded for {window:.1} s: distinct events / receptions ({:.2} % of events × clients) | {events} / {} |",
        complete,
        samples.len()
    );
    println!(
        "| receptions per second / JSON received per second | {:.0} / {:.1} MB |",
        samples.len() as f64 / window,
        bytes as f64 / 1e6 / window
    );
    println!(
        "| migrations still in flight at the end / resyncs (lagging clients) / sockets closed early | {in_flight} / {resyncs} / {closed} |"
    );
    println!(
        "| event latency (from the tick's start, above the fastest delivery), p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
        ms(pct(&mut latency, 0.5)),
        ms(pct(&mut latency, 0.99)),
        ms(pct(&mut latency, 1.0))
    );
    println!(
        "| fan-out spread (after the first client got the same event), p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
        ms(pct(&mut spread, 0.5)),
        ms(pct(&mut spread, 0.99)),
        ms(pct(&mut spread, 1.0))
    );
    println!(
        "| CPU during the window: server / this load generator (of 200 % on 2 cores) | {server_cpu:.0} % / {bench_cpu:.0} % |"
    );
    println!(
        "| server RSS: idle with the inventory / {CLIENTS} clients connected / max while streaming | {rss_idle:.1} / {rss_connected:.1} / {rss_max:.1} MiB |"
    );
    println!(
        "| server RSS per connected client / size of the snapshot each client got first | {:.0} KiB / {:.0} KiB |",
        (rss_connected - rss_idle) * 1024.0 / CLIENTS as f64,
        reports.iter().map(|r| r.snapshot_bytes).max().unwrap_or(0) as f64 / 1024.0
    );
}

/// The soft limit of open files (`/proc/self/limits`); the server inherits it.
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
    if let Some(limit) = open_files_limit().filter(|l| *l < CLIENTS as u64 + 200) {
        eprintln!(
            "{CLIENTS} websocket clients need more than {limit} open files: run `ulimit -n 4096` first (scripts/bench.sh does)"
        );
        std::process::exit(1);
    }
    predictions_over_http().await;
    fan_out().await;
}
