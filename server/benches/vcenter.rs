//! A vCenter connection at scale (docs/PERFORMANCE.md, "Issue 15"): govmomi's simulator
//! (`target/vcsim/vcsim`) with 32 clusters of 32 hosts and about 10,000 VMs, connected to the
//! real `vmshift` binary (release): the initial sync (time, server memory), the latency from
//! a change made in vCenter (a VM powered off) to its delta on the live stream, and what the
//! server does once synced and idle (CPU, SOAP requests per second — counted from its debug
//! log of each call). Prints a Markdown report.
//!
//!     cargo bench -p server --bench vcenter

#[path = "bench_auth.rs"]
mod bench_auth;
#[path = "bench_db.rs"]
mod bench_db;
#[path = "bench_proc.rs"]
mod bench_proc;

use futures::StreamExt;
use serde_json::{json, Value};
use server::vcenter::collect::collect;
use server::vcenter::soap::Session;
use server::vcenter::{Endpoint, Trust};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "administrator@vsphere.local";
const PASSWORD: &str = "vmshift-vcsim";
const CLUSTERS: usize = 32;
const HOSTS: usize = 32;
/// VMs per cluster's resource pool.
const VMS: usize = 313;
const CHANGES: usize = 60;
const IDLE_S: u64 = 90;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let t = Instant::now();
    let (clusters, hosts, vms) = (CLUSTERS.to_string(), HOSTS.to_string(), VMS.to_string());
    let (mut sim, url) = simulator(&[
        "-ds",
        "4",
        "-pg",
        "4",
        "-cluster",
        &clusters,
        "-cluster-host",
        &hosts,
        "-vm",
        &vms,
    ]);
    let built_s = t.elapsed().as_secs_f64();

    let db = bench_db::BenchDb::new().await;
    let port = bench_proc::free_port();
    let log_path = std::env::temp_dir().join(format!("vmshift-vcenter-bench-{port}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vmshift"))
        .args([
            "--database-url",
            &db.url,
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--demo", "false", "--admin-password", bench_auth::PASSWORD])
        .args([
            "--secret-key",
            "bench",
            "--log",
            "warn,vmshift::vcenter=debug",
        ])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let base = format!("http://127.0.0.1:{port}");
    bench_proc::wait_up(&base).await;
    let token = bench_auth::admin_token(&base).await;
    let http = bench_auth::client(&token);
    let idle_rss = bench_proc::status_mib(&pid, "VmRSS:");

    // The initial sync: from the request to every VM mirrored.
    let t = Instant::now();
    let r = http
        .post(format!("{base}/api/v1/connections"))
        .json(&json!({"kind": "vcenter", "name": "bench", "url": url, "username": USER, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let expected_vms = CLUSTERS * VMS;
    let connection = poll(&http, &base, &id, |c| {
        assert_ne!(c["state"], "error", "{c}");
        c["objects"]["vms"].as_u64() == Some(expected_vms as u64)
    })
    .await;
    let sync_s = t.elapsed().as_secs_f64();
    let sync_peak = bench_proc::status_mib(&pid, "VmHWM:");
    // Then watching: the first WaitForUpdatesEx answered (changes made before would be lost
    // by the simulator, which registers its listener only after that first answer).
    poll(&http, &base, &id, |c| c["state"] == "synced").await;
    let watching_s = t.elapsed().as_secs_f64();

    // Change to live delta: a VM powered off in vCenter, until the stream carries it.
    let latencies = power_offs(&url, port, &token, CHANGES).await;

    // Idle: nothing changes in vCenter.
    // The log, without its colours.
    let log_text = || {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    };
    // vmshift's own share of each change: mapping and writing after vCenter's answer.
    let mut own: Vec<f64> = log_text()
        .lines()
        .filter(|l| l.contains("vCenter state written"))
        // The first is the initial sync.
        .skip(1)
        .filter_map(|l| {
            l.split("written_ms=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect();
    own.sort_by(f64::total_cmp);
    let calls = || log_text().matches("SOAP call").count();
    let (cpu0, calls0) = (bench_proc::cpu_s(&pid), calls());
    tokio::time::sleep(Duration::from_secs(IDLE_S)).await;
    let (cpu1, calls1) = (bench_proc::cpu_s(&pid), calls());
    // The calls made while idle, by method.
    let idle_calls: Vec<String> = log_text()
        .lines()
        .filter(|l| l.contains("SOAP call"))
        .skip(calls0)
        .take(calls1 - calls0)
        .map(|l| {
            l.split("method=")
                .nth(1)
                .and_then(|m| m.split_whitespace().next())
                .unwrap_or("?")
                .trim_matches('"')
                .to_string()
        })
        .collect();
    let others: Vec<&String> = idle_calls
        .iter()
        .filter(|m| *m != "WaitForUpdatesEx")
        .collect();
    // The same changes on a small vCenter (2 clusters of 3 hosts, 12 VMs) in place of the
    // large one (whose names it repeats): the latency when the simulator's answer is quick.
    let r = http
        .delete(format!("{base}/api/v1/connections/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (mut small, small_url) = simulator(&["-cluster", "2", "-cluster-host", "3", "-vm", "6"]);
    connect(&http, &base, "small", &small_url).await;
    let small_latencies = power_offs(&small_url, port, &token, 12).await;
    let _ = small.kill();
    let _ = small.wait();
    let peak = bench_proc::status_mib(&pid, "VmHWM:");
    let rss = bench_proc::status_mib(&pid, "VmRSS:");
    let _ = child.kill();
    let _ = child.wait();
    let _ = sim.kill();
    let _ = sim.wait();
    let _ = std::fs::remove_file(&log_path);

    println!(
        "## A vCenter connection at scale ({})\n",
        bench_db::configured_label()
    );
    println!(
        "Simulator: {CLUSTERS} clusters × {HOSTS} hosts, {expected_vms} VMs, 4 datastores, 4 distributed port groups (built in {built_s:.1} s). Mirrored: {}.\n",
        connection["objects"]
    );
    println!("| measure | value | target |");
    println!("|---|---|---|");
    println!("| initial sync (POST to every VM mirrored) | {sync_s:.1} s | < 30 s |");
    println!("| … and watching (the first `WaitForUpdatesEx` answered: the simulator sends the whole state again) | {watching_s:.1} s | |");
    println!("| server peak RSS after the sync (VmHWM) | {sync_peak:.0} MiB (idle before: {idle_rss:.0} MiB) | |");
    println!(
        "| change → live delta, {CHANGES} VMs powered off one after another | p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms | p99 < 2 s |",
        percentile(&latencies, 0.5) * 1000.0,
        percentile(&latencies, 0.99) * 1000.0,
        latencies.last().unwrap() * 1000.0
    );
    println!(
        "| change → live delta on a small vCenter (12 VMs, connected after the large one), 12 VMs powered off | p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms | p99 < 2 s |",
        percentile(&small_latencies, 0.5) * 1000.0,
        percentile(&small_latencies, 0.99) * 1000.0,
        small_latencies.last().unwrap() * 1000.0
    );
    println!(
        "| of which vmshift (mapping 10,000 VMs and writing the change, after vCenter's answer) | p50 {:.0} ms, p99 {:.0} ms | |",
        percentile(&own, 0.5),
        percentile(&own, 0.99)
    );
    println!(
        "| idle, synced ({IDLE_S} s): server CPU | {:.2} % of a core | |",
        (cpu1 - cpu0) / IDLE_S as f64 * 100.0
    );
    println!(
        "| idle, synced: SOAP requests | {} in {IDLE_S} s ({:.3}/s); other than WaitForUpdatesEx: {others:?} | only the waiting WaitForUpdatesEx |",
        idle_calls.len(),
        idle_calls.len() as f64 / IDLE_S as f64,
    );
    println!("\nServer RSS at the end {rss:.0} MiB, peak {peak:.0} MiB.");
}

/// VMs of the vCenter at `url` powered off one after another: for each, the time until the
/// live stream of the server on `port` carries it, sorted.
async fn power_offs(url: &str, port: u16, token: &str, count: usize) -> Vec<f64> {
    let mut admin = Session::login(&Endpoint {
        url: url.to_string(),
        username: USER.into(),
        password: PASSWORD.into(),
        trust: Trust::default(),
    })
    .await
    .unwrap();
    let wanted: &[(&str, &[&str])] = &[("VirtualMachine", &["name"])];
    let vms = collect(&mut admin, wanted).await.unwrap();
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://127.0.0.1:{port}/ws")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut out = Vec::new();
    for vm in vms.iter().take(count) {
        let name = vm.text("name").unwrap().to_string();
        let t = Instant::now();
        admin.call("PowerOffVM_Task", &vm.obj, "").await.unwrap();
        loop {
            let message = tokio::time::timeout(Duration::from_secs(30), ws.next())
                .await
                .expect("a delta within 30 s")
                .unwrap()
                .unwrap();
            let Ok(text) = message.into_text() else {
                continue;
            };
            if text.contains("inventory_changed")
                && text.contains(&format!("\"name\":\"{name}\""))
                && text.contains("\"power_state\":\"off\"")
            {
                break;
            }
        }
        out.push(t.elapsed().as_secs_f64());
    }
    out.sort_by(f64::total_cmp);
    out
}

/// Starts the simulator with `args`; its child process and SDK URL.
fn simulator(args: &[&str]) -> (std::process::Child, String) {
    let vcsim = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/vcsim/vcsim");
    assert!(
        vcsim.exists(),
        "build the simulator first: scripts/install-vcsim.sh"
    );
    let mut sim = Command::new(vcsim)
        .args(["-username", USER, "-password", PASSWORD])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(sim.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    (sim, url.trim().to_string())
}

/// Connects the vCenter at `url` as `name`; waits until it is synced and watched.
async fn connect(http: &reqwest::Client, base: &str, name: &str, url: &str) {
    let r = http
        .post(format!("{base}/api/v1/connections"))
        .json(&json!({"kind": "vcenter", "name": name, "url": url,
            "username": USER, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    poll(http, base, &id, |c| c["state"] == "synced").await;
}

/// The connection `id` once `done` holds of it, read every 50 ms.
async fn poll(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    loop {
        let c: Value = http
            .get(format!("{base}/api/v1/connections/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if done(&c) {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
