//! The QEMU driver against the floor (issue 6): the same vMotion of the same lab guest
//! (256 MiB, 64 MiB working set dirtied at 8 MiB/s, 1 MiB/s of disk writes), with the same cap
//! (100 MB/s) and downtime limit (300 ms), driven (a) by vmshift — the release binary with
//! `--driver qemu`, the migration started through the API and run by the engine — and (b)
//! directly over QMP by `bench/qmp_floor.py`, a minimal script: what QEMU alone needs. Both
//! time from the destination's start to `completed` (vmshift: the engine's duration, which
//! begins with preparing the destination). Also the prediction the simulated model made for
//! the same move, against what happened. Prints a Markdown report.
//!
//!     cargo bench -p server --bench lab            (needs scripts/install-qemu.sh and
//!                                                   scripts/lab-guest.sh)

#[path = "bench_auth.rs"]
mod bench_auth;
#[path = "bench_proc.rs"]
mod bench_proc;

use futures::StreamExt;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 5;
const CAP_MBPS: u32 = 800; // 100 MB/s
const DOWNTIME_MS: u32 = 300;

fn lab_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/lab")
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct VmshiftRun {
    total_ms: f64,
    downtime_ms: f64,
    predicted_s: f64,
    predicted_downtime_ms: f64,
    rounds: u64,
}

/// One vMotion of lab-web through a fresh vmshift with the QEMU driver.
async fn vmshift_run() -> VmshiftRun {
    let dir = tempfile::tempdir().unwrap();
    let port = bench_proc::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vmshift"))
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .arg("--database-url")
        .arg(format!("sqlite://{}", dir.path().join("v.db").display()))
        .args(["--driver", "qemu", "--log", "warn"])
        .arg("--lab-dir")
        .arg(lab_dir())
        .arg("--lab-data")
        .arg(dir.path().join("lab"))
        .args(["--admin-password", bench_auth::PASSWORD])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    bench_proc::wait_up(&base).await;
    let token = bench_auth::admin_token(&base).await;
    let http = bench_auth::client(&token);
    let mut ids = std::collections::HashMap::new();
    for c in ["hosts", "vms"] {
        let list: Vec<Value> = http
            .get(format!("{base}/api/v1/{c}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for o in list {
            ids.insert(
                o["name"].as_str().unwrap().to_owned(),
                o["id"].as_str().unwrap().to_owned(),
            );
        }
    }
    // Wait for the guest's workload to run (its first heartbeats) before migrating.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://127.0.0.1:{port}/ws")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let web = ids["lab-web"].clone();
    loop {
        let Some(Ok(message)) = ws.next().await else {
            panic!("the live stream ended")
        };
        let Ok(text) = message.into_text() else {
            continue;
        };
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if v["type"] == "lab_heartbeats"
            && v["guests"].as_array().is_some_and(|g| {
                g.iter()
                    .any(|g| g["vm_id"] == web.as_str() && g["heartbeat"].as_u64() >= Some(2))
            })
        {
            break;
        }
    }
    let m: Value = http
        .post(format!("{base}/api/v1/migrations"))
        .json(&json!({ "vm_id": web, "kind": "vmotion", "target_host_id": ids["lab-esx-02"],
                       "options": { "bandwidth_cap_mbps": CAP_MBPS, "downtime_target_ms": DOWNTIME_MS } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = m["id"].as_str().unwrap().to_owned();
    let started = Instant::now();
    let done = loop {
        let m: Value = http
            .get(format!("{base}/api/v1/migrations/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if ["completed", "failed", "cancelled"].contains(&m["phase"].as_str().unwrap_or("")) {
            break m;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{m}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(done["phase"], "completed", "{done}");
    // From the destination's start (the `preparing` event) to `completed`, as the floor.
    let events: Vec<Value> = http
        .get(format!("{base}/api/v1/migrations/{id}/events"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let at = |phase: &str| {
        events
            .iter()
            .find(|e| e["phase"] == phase)
            .and_then(|e| e["sim_time_s"].as_f64())
            .unwrap_or_else(|| panic!("no {phase} event: {events:?}"))
    };
    let total_ms = (at("completed") - at("preparing")) * 1000.0;
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let _ = child.wait();
    VmshiftRun {
        total_ms,
        downtime_ms: done["result"]["downtime_ms"].as_f64().unwrap(),
        predicted_s: done["prediction"]["duration_s"]
            .as_f64()
            .unwrap_or(f64::NAN),
        predicted_downtime_ms: done["prediction"]["downtime_ms"]
            .as_f64()
            .unwrap_or(f64::NAN),
        rounds: done["round"].as_u64().unwrap_or(0),
    }
}

/// One run of the floor script: (total ms, downtime ms, rounds).
fn floor_run() -> (f64, f64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/qmp_floor.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(lab_dir())
        .arg(dir.path())
        .args([
            "--memory",
            "256",
            "--working-set",
            "64",
            "--dirty",
            "8",
            "--disk",
            "1",
        ])
        .args([
            "--bandwidth-bytes",
            &(u64::from(CAP_MBPS) * 125_000).to_string(),
        ])
        .args(["--downtime-ms", &DOWNTIME_MS.to_string()])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["status"], "completed", "{v}");
    (
        v["total_ms"].as_f64().unwrap(),
        v["downtime_ms"].as_f64().unwrap(),
        v["rounds"].as_u64().unwrap_or(0),
    )
}

#[tokio::main]
async fn main() {
    if let Err(why) = server::qemu::Lab::find(&lab_dir()) {
        eprintln!("the lab is missing: {why}");
        std::process::exit(1);
    }
    let (mut v_total, mut v_down, mut p_time, mut p_down, mut v_rounds) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut f_total, mut f_down, mut f_rounds) = (vec![], vec![], vec![]);
    // Interleaved, so that both see the same machine conditions.
    for _ in 0..RUNS {
        let r = vmshift_run().await;
        v_total.push(r.total_ms);
        v_down.push(r.downtime_ms);
        p_time.push(r.predicted_s * 1000.0);
        p_down.push(r.predicted_downtime_ms);
        v_rounds.push(r.rounds as f64);
        let (t, d, n) = floor_run();
        f_total.push(t);
        f_down.push(d);
        f_rounds.push(n as f64);
    }
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "## The QEMU driver against the direct-QMP floor (lab-web vMotion, {RUNS} runs each)\n"
    );
    println!("Guest: 256 MiB, 64 MiB working set dirtied at 8 MiB/s, 1 MiB/s of disk writes, TCG on 2 cores. Cap 100 MB/s, downtime limit {DOWNTIME_MS} ms. Times from the destination's start to `completed`.\n");
    println!("| figure | vmshift (QEMU driver) | floor (`bench/qmp_floor.py`) | vmshift / floor |");
    println!("|---|---|---|---|");
    let (vt, ft) = (median(&mut v_total.clone()), median(&mut f_total.clone()));
    let (vd, fd) = (median(&mut v_down.clone()), median(&mut f_down.clone()));
    println!(
        "| total time, median (runs) | {vt:.0} ms ({}) | {ft:.0} ms ({}) | {:.2} |",
        list(&v_total),
        list(&f_total),
        vt / ft
    );
    println!(
        "| downtime, median (runs) | {vd:.0} ms ({}) | {fd:.0} ms ({}) | {:.2} |",
        list(&v_down),
        list(&f_down),
        vd / fd
    );
    println!(
        "| pre-copy rounds, median | {:.0} | {:.0} | |",
        median(&mut v_rounds),
        median(&mut f_rounds)
    );
    let (pt, pd) = (median(&mut p_time.clone()), median(&mut p_down.clone()));
    println!("\n| the simulated model's prediction for the same move | predicted | measured (vmshift, median) | error |");
    println!("|---|---|---|---|");
    println!(
        "| duration | {pt:.0} ms | {vt:.0} ms | {:+.0} % |",
        (pt - vt) / vt * 100.0
    );
    println!(
        "| downtime | {pd:.0} ms | {vd:.0} ms | {:+.0} % |",
        (pd - vd) / vd * 100.0
    );
}
