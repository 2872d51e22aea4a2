//! Inventory benchmarks at vCenter's maximum scale (2,500 hosts, 45,000 VMs) and map SSR at
//! 100 hosts / 2,000 VMs. Runs the real `vmshift` binary (release) as a separate process on
//! loopback and loads it from this process. Prints a Markdown report.
//!
//!     cargo bench -p server --bench load            (scripts/bench.sh also measures the wasm)
//!     VMSHIFT_BENCH_POSTGRES=$(scripts/postgres.sh start) cargo bench -p server --bench load
//!
//! The second form runs the same on a fresh PostgreSQL database (see `bench_db.rs`).

#[path = "bench_auth.rs"]
mod bench_auth;
#[path = "bench_db.rs"]
mod bench_db;
#[path = "bench_proc.rs"]
mod bench_proc;

use domain::generate::scale_inventory;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    base: String,
    /// An admin API token (every API route needs a signed-in user).
    token: String,
    _db: bench_db::BenchDb,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Seeds a database with `inventory` (if any), starts vmshift on it and waits until it answers.
/// Returns the server and how long start-up (loading the inventory) took.
async fn start(inventory: Option<domain::Inventory>, demo: bool) -> (Server, Duration, Duration) {
    let db = bench_db::BenchDb::new().await;
    let url = db.url.clone();
    let mut seed_time = Duration::ZERO;
    if let Some(inv) = inventory {
        seed_time = bench_db::seed(&url, inv).await;
    }
    let port = bench_proc::free_port();
    let t = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_vmshift"))
        .args([
            "--database-url",
            &url,
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .args([
            "--demo",
            if demo { "true" } else { "false" },
            "--log",
            "warn",
            "--admin-password",
            bench_auth::PASSWORD,
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    bench_proc::wait_up(&base).await;
    let started = t.elapsed();
    let token = bench_auth::admin_token(&base).await;
    (
        Server {
            child,
            token,
            base,
            _db: db,
        },
        started,
        seed_time,
    )
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Open-loop load: `rate` requests/s spread over `workers` connections for `seconds`.
async fn load(
    token: &str,
    urls: Vec<String>,
    rate: u32,
    workers: u32,
    seconds: u64,
) -> (Vec<Duration>, f64, usize) {
    let client = reqwest::Client::builder()
        .default_headers(bench_auth::headers(token))
        .pool_max_idle_per_host(workers as usize)
        .build()
        .unwrap();
    let interval = Duration::from_secs_f64(workers as f64 / rate as f64);
    let start = tokio::time::Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let urls = std::sync::Arc::new(urls);
    let mut tasks = Vec::new();
    for w in 0..workers {
        let client = client.clone();
        let urls = urls.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut next = start + interval.mul_f64(w as f64 / workers as f64);
            let mut k = w as usize;
            while next < deadline {
                tokio::time::sleep_until(next).await;
                let t = Instant::now();
                let url = &urls[k % urls.len()];
                match client.get(url).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
                k += workers as usize;
                next += interval;
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    let achieved = all.len() as f64 / start.elapsed().as_secs_f64();
    all.sort();
    (all, achieved, errors)
}

async fn timed_gets(client: &reqwest::Client, url: &str, n: usize) -> (Vec<Duration>, usize) {
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..n {
        let t = Instant::now();
        let body = client.get(url).send().await.unwrap().bytes().await.unwrap();
        times.push(t.elapsed());
        size = body.len();
    }
    times.sort();
    (times, size)
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    let db = bench_db::configured_label();
    println!("## Inventory at vCenter's maximum scale (2,500 hosts, 45,000 VMs) — {db}\n");
    let t = Instant::now();
    let big = scale_inventory(50, 50, 18);
    let generated = t.elapsed();
    assert_eq!((big.hosts.len(), big.vms.len()), (2_500, 45_000));
    let host_ids: Vec<String> = big.hosts.keys().map(|h| h.to_string()).collect();
    let (srv, startup, seed) = start(Some(big), false).await;
    let client = bench_auth::client(&srv.token);
    let pid = srv.child.id();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_loaded = rss_mib(pid);
    println!("| figure | value |\n|---|---|");
    println!(
        "| generate the inventory in memory | {:.0} ms |",
        generated.as_secs_f64() * 1e3
    );
    println!(
        "| store it in {db} (one transaction) | {:.2} s |",
        seed.as_secs_f64()
    );
    println!(
        "| server start-up, loading it from {db}, until /healthz answers | {:.2} s |",
        startup.as_secs_f64()
    );
    println!("| server RSS with it loaded, idle | {rss_loaded:.1} MiB |");

    let (times, size) = timed_gets(&client, &format!("{}/api/v1/vms", srv.base), 10).await;
    println!(
        "| `GET /api/v1/vms` (all 45,000, {:.1} MB, gzip not requested) p50 / max | {:.0} ms / {:.0} ms |",
        size as f64 / 1e6,
        percentile(&times, 0.5),
        percentile(&times, 1.0)
    );
    let res = client
        .get(format!("{}/api/v1/vms", srv.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    let gz = res.bytes().await.unwrap().len();
    println!(
        "| same list, gzip-compressed on the wire | {:.1} MB |",
        gz as f64 / 1e6
    );

    let urls: Vec<String> = host_ids
        .iter()
        .map(|id| format!("{}/api/v1/hosts/{id}", srv.base))
        .collect();
    // Warm-up.
    let _ = load(&srv.token, urls.clone(), 500, 8, 2).await;
    for (rate, workers) in [(2_000, 32), (4_000, 64)] {
        let (lat, achieved, errors) = load(&srv.token, urls.clone(), rate, workers, 10).await;
        println!(
            "| `GET /api/v1/hosts/{{id}}` at {rate} req/s offered ({workers} connections, 10 s): achieved, p50 / p99 / max | {achieved:.0} req/s, {:.2} / {:.2} / {:.1} ms ({errors} errors) |",
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            percentile(&lat, 1.0)
        );
    }
    println!("| server RSS after the load | {:.1} MiB |", rss_mib(pid));

    println!("\n## Prerequisite checks against every host (2,500 hosts, 45,000 VMs) — {db}\n");
    println!("| figure | value |\n|---|---|");
    let vm_list: serde_json::Value = client
        .get(format!("{}/api/v1/vms", srv.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let vm_id = vm_list[0]["id"].as_str().unwrap().to_string();
    let targets_url = format!("{}/api/v1/vms/{vm_id}/targets?kind=vmotion", srv.base);
    let _ = timed_gets(&client, &targets_url, 3).await;
    let (times, size) = timed_gets(&client, &targets_url, 50).await;
    println!(
        "| `GET /api/v1/vms/{{id}}/targets?kind=vmotion` (2,500 hosts checked and ranked, {:.0} KB) p50 / p99 | {:.1} ms / {:.1} ms |",
        size as f64 / 1e3,
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    drop(srv);

    // The same pure functions in this process, without HTTP and JSON.
    let inv = scale_inventory(50, 50, 18);
    let vm = *inv.vms.keys().next().unwrap();
    let busy = std::collections::BTreeSet::new();
    let mut runs = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let targets = domain::checks::rank_targets(
            &inv,
            vm,
            domain::checks::MigrationKind::VMotion,
            None,
            None,
            &busy,
        )
        .unwrap();
        runs.push(t.elapsed());
        assert_eq!(targets.hosts.len(), 2_500);
    }
    runs.sort();
    println!(
        "| `rank_targets` alone (checks for 2,500 hosts, in process) p50 / max | {:.2} ms / {:.2} ms |",
        percentile(&runs, 0.5),
        percentile(&runs, 1.0)
    );

    println!("\n## Cluster map SSR (100 hosts, 2,000 VMs) — {db}\n");
    let map_inv = scale_inventory(2, 50, 20);
    let (srv, _, _) = start(Some(map_inv), false).await;
    let client = bench_auth::client(&srv.token);
    // Warm up, then 200 sequential renders.
    let _ = timed_gets(&client, &format!("{}/", srv.base), 20).await;
    let (times, size) = timed_gets(&client, &format!("{}/", srv.base), 200).await;
    println!("| figure | value |\n|---|---|");
    println!(
        "| `GET /` (map page, {:.2} MB of HTML incl. hydration data, 200 renders) p50 / p99 | {:.1} ms / {:.1} ms |",
        size as f64 / 1e6,
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    drop(srv);

    println!("\n## Idle server with the demo inventory — {db}\n");
    let (srv, startup, _) = start(None, true).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    println!("| figure | value |\n|---|---|");
    println!(
        "| start-up on an empty database (demo loaded) until /healthz | {:.0} ms |",
        startup.as_secs_f64() * 1e3
    );
    println!("| idle RSS | {:.1} MiB |", rss_mib(srv.child.id()));
}
