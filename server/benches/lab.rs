//! The QEMU driver against the floor, and the model against QEMU (issue 6). The same
//! migrations of the same lab guests (256 MiB, a 64 MiB working set, checksummed disk writes;
//! lab-web dirties 8 MiB/s and writes 1 MiB/s, lab-db 16 and 2), driven (a) by vmshift — the
//! release binary with `--driver qemu`, each migration started through the API on a fresh
//! server and run by the engine — and, for the vMotions, (b) directly over QMP by
//! `bench/qmp_floor.py`, a minimal script: what QEMU alone needs, with the same cap and
//! downtime limit. Both time from the destination's start to `completed` (vmshift: the
//! engine's duration, which begins with preparing the destination). For every scenario, the
//! prediction the model made at start (with the lab's platform figures) against what happened.
//! Prints a Markdown report.
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
const DOWNTIME_MS: u32 = 300;

/// One migration measured `RUNS` times.
struct Scenario {
    label: &'static str,
    vm: &'static str,
    kind: &'static str,
    host: Option<&'static str>,
    datastore: Option<&'static str>,
    cap_mbps: u32,
    /// Run the floor script too (vMotions of lab-web).
    floor: bool,
    /// Heartbeats to wait for before migrating: moves of a disk wait until the guest has
    /// written its whole 64 MiB region, so the image holds what the inventory says.
    warm_beats: u64,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        label: "vMotion lab-web, 100 MB/s",
        vm: "lab-web",
        kind: "vmotion",
        host: Some("lab-esx-02"),
        datastore: None,
        cap_mbps: 800,
        floor: true,
        warm_beats: 2,
    },
    Scenario {
        label: "vMotion lab-web, 50 MB/s",
        vm: "lab-web",
        kind: "vmotion",
        host: Some("lab-esx-02"),
        datastore: None,
        cap_mbps: 400,
        floor: true,
        warm_beats: 2,
    },
    Scenario {
        label: "vMotion lab-web, 400 MB/s",
        vm: "lab-web",
        kind: "vmotion",
        host: Some("lab-esx-02"),
        datastore: None,
        cap_mbps: 3200,
        floor: true,
        warm_beats: 2,
    },
    Scenario {
        label: "Storage vMotion lab-db → lab-shared, 100 MB/s",
        vm: "lab-db",
        kind: "storage_vmotion",
        host: None,
        datastore: Some("lab-shared"),
        cap_mbps: 800,
        floor: false,
        warm_beats: 34,
    },
    Scenario {
        label: "combined lab-db → lab-esx-02 + lab-local-02, 100 MB/s",
        vm: "lab-db",
        kind: "combined",
        host: Some("lab-esx-02"),
        datastore: Some("lab-local-02"),
        cap_mbps: 800,
        floor: false,
        warm_beats: 34,
    },
];

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

/// The server, stopped cleanly (SIGTERM: it stops its lab guests) when dropped.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGTERM);
        }
        let _ = self.0.wait();
    }
}

/// One migration through a fresh vmshift with the QEMU driver.
async fn vmshift_run(sc: &Scenario) -> VmshiftRun {
    let dir = tempfile::tempdir().unwrap();
    let port = bench_proc::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_vmshift"))
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
    // Stopped (with its guests) even if this run panics.
    let _server = Stopped(child);
    let base = format!("http://127.0.0.1:{port}");
    bench_proc::wait_up(&base).await;
    let token = bench_auth::admin_token(&base).await;
    let http = bench_auth::client(&token);
    let mut ids = std::collections::HashMap::new();
    for c in ["hosts", "datastores", "vms"] {
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
    let vm = ids[sc.vm].clone();
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
                g.iter().any(|g| {
                    g["vm_id"] == vm.as_str() && g["heartbeat"].as_u64() >= Some(sc.warm_beats)
                })
            })
        {
            break;
        }
    }
    let m: Value = http
        .post(format!("{base}/api/v1/migrations"))
        .json(&json!({ "vm_id": vm, "kind": sc.kind,
                       "target_host_id": sc.host.map(|h| ids[h].clone()),
                       "target_datastore_id": sc.datastore.map(|d| ids[d].clone()),
                       "options": { "bandwidth_cap_mbps": sc.cap_mbps, "downtime_target_ms": DOWNTIME_MS } }))
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
fn floor_run(sc: &Scenario) -> (f64, f64, u64) {
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
            &(u64::from(sc.cap_mbps) * 125_000).to_string(),
        ])
        .args(["--downtime-ms", &DOWNTIME_MS.to_string()])
        // vmshift's lab runs lab-db beside lab-web: so does the floor, for the same machine.
        .args(["--companion", "16,2"])
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

fn list(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn error(predicted: f64, measured: f64) -> String {
    if measured == 0.0 {
        return if predicted == 0.0 {
            "exact".into()
        } else {
            "n/a".into()
        };
    }
    format!("{:+.0} %", (predicted - measured) / measured * 100.0)
}

#[tokio::main]
async fn main() {
    if let Err(why) = server::lab::qemu::Lab::find(&lab_dir()) {
        eprintln!("the lab is missing: {why}");
        std::process::exit(1);
    }
    println!("## The QEMU driver against the direct-QMP floor, and the model against QEMU ({RUNS} runs each)\n");
    println!("TCG on 2 cores; downtime limit {DOWNTIME_MS} ms; times from the destination's start to `completed`; medians, with the runs in brackets.\n");
    let mut floors = Vec::new();
    let mut predictions = Vec::new();
    for sc in SCENARIOS {
        let (mut v_total, mut v_down, mut p_time, mut p_down, mut v_rounds) =
            (vec![], vec![], vec![], vec![], vec![]);
        let (mut f_total, mut f_down, mut f_rounds) = (vec![], vec![], vec![]);
        // Interleaved, so that both see the same machine conditions.
        for _ in 0..RUNS {
            let r = vmshift_run(sc).await;
            v_total.push(r.total_ms);
            v_down.push(r.downtime_ms);
            p_time.push(r.predicted_s * 1000.0);
            p_down.push(r.predicted_downtime_ms);
            v_rounds.push(r.rounds as f64);
            if sc.floor {
                let (t, d, n) = floor_run(sc);
                f_total.push(t);
                f_down.push(d);
                f_rounds.push(n as f64);
            }
        }
        let (vt, vd) = (median(&mut v_total.clone()), median(&mut v_down.clone()));
        if sc.floor {
            let (ft, fd) = (median(&mut f_total.clone()), median(&mut f_down.clone()));
            floors.push(format!(
                "| {} | {vt:.0} ms ({}) | {ft:.0} ms ({}) | **{:.2}** | {vd:.0} ms ({}) | {fd:.0} ms ({}) | **{:.2}** | {:.0} / {:.0} |",
                sc.label,
                list(&v_total),
                list(&f_total),
                vt / ft,
                list(&v_down),
                list(&f_down),
                vd / fd,
                median(&mut v_rounds.clone()),
                median(&mut f_rounds),
            ));
        }
        let (pt, pd) = (median(&mut p_time), median(&mut p_down));
        predictions.push(format!(
            "| {} | {pt:.0} ms | {vt:.0} ms ({}) | **{}** | {pd:.0} ms | {vd:.0} ms ({}) | **{}** |",
            sc.label,
            list(&v_total),
            error(pt, vt),
            list(&v_down),
            error(pd, vd),
        ));
    }
    println!("| migration | vmshift total | floor total | ratio (≤ 1.10) | vmshift downtime | floor downtime | ratio (≤ 1.10) | rounds vmshift / floor |");
    println!("|---|---|---|---|---|---|---|---|");
    for row in floors {
        println!("{row}");
    }
    println!("\n| migration | predicted duration | measured | error (±20 %) | predicted downtime | measured | error (±20 %) |");
    println!("|---|---|---|---|---|---|---|");
    for row in predictions {
        println!("{row}");
    }
}
