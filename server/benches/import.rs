//! RVTools import at vCenter's maximum (docs/PERFORMANCE.md, "Issue 14"): a generated export
//! of 2,500 hosts and 45,000 VMs (vmshift's own RVTools-layout workbook of a generated
//! inventory: every tab the import reads), previewed, applied, and applied again (every object
//! updated) through `POST /api/v1/imports/rvtools` of the real `vmshift` binary (release) on
//! loopback; the server's peak memory read from `/proc`. Prints a Markdown report.
//!
//!     cargo bench -p server --bench import
//!     VMSHIFT_BENCH_POSTGRES=$(scripts/postgres.sh start) cargo bench -p server --bench import

#[path = "bench_auth.rs"]
mod bench_auth;
#[path = "bench_db.rs"]
mod bench_db;
#[path = "bench_proc.rs"]
mod bench_proc;

use std::process::{Command, Stdio};
use std::time::Instant;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn post(
    client: &reqwest::Client,
    base: &str,
    query: &str,
    body: Vec<u8>,
) -> (f64, serde_json::Value) {
    let t = Instant::now();
    let r = client
        .post(format!("{base}/api/v1/imports/rvtools?{query}"))
        .header("content-type", XLSX)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let report: serde_json::Value = r.json().await.unwrap();
    let s = t.elapsed().as_secs_f64();
    assert!(status == 200 || status == 201, "{status}: {report}");
    (s, report)
}

#[tokio::main]
async fn main() {
    let (clusters, hosts, vms) = (50, 50, 18);
    let t = Instant::now();
    let inventory = domain::generate::scale_inventory(clusters, hosts, vms);
    let book = rvtools::export::workbook(&inventory);
    let rows: usize = book.tables.iter().map(|t| t.rows.len()).sum();
    let bytes = rvtools::write::xlsx(&book).unwrap();
    let generated = t.elapsed().as_secs_f64();
    drop((inventory, book));

    let db = bench_db::BenchDb::new().await;
    let port = bench_proc::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vmshift"))
        .args([
            "--database-url",
            &db.url,
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .args([
            "--demo",
            "false",
            "--log",
            "warn",
            "--admin-password",
            bench_auth::PASSWORD,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let base = format!("http://127.0.0.1:{port}");
    bench_proc::wait_up(&base).await;
    let client = bench_auth::client(&bench_auth::admin_token(&base).await);
    let idle = bench_proc::status_mib(&pid, "VmRSS:");

    let (preview_s, preview) = post(&client, &base, "apply=false", bytes.clone()).await;
    let preview_peak = bench_proc::status_mib(&pid, "VmHWM:");
    let (apply_s, applied) = post(&client, &base, "apply=true", bytes.clone()).await;
    assert_eq!(
        applied["counts"]["vms"]["create"], 45_000,
        "{}",
        applied["counts"]
    );
    let apply_peak = bench_proc::status_mib(&pid, "VmHWM:");
    let (again_s, again) = post(&client, &base, "apply=true", bytes.clone()).await;
    assert_eq!(again["counts"]["vms"]["update"], 45_000);
    let peak = bench_proc::status_mib(&pid, "VmHWM:");
    let after = bench_proc::status_mib(&pid, "VmRSS:");
    let _ = child.kill();
    let _ = child.wait();

    let mib = bytes.len() as f64 / 1_048_576.0;
    println!(
        "## RVTools import at vCenter's maximum ({})\n",
        bench_db::configured_label()
    );
    println!(
        "Export: {clusters} clusters, {} hosts, {} VMs — {rows} rows over {} tabs, {mib:.1} MiB xlsx (generated and written in {generated:.1} s).\n",
        clusters * hosts,
        clusters * hosts * vms,
        preview["tabs"].as_object().map_or(0, |t| t.len()),
    );
    println!("| step | time | server peak RSS (VmHWM) | target |");
    println!("|---|---|---|---|");
    println!("| preview (read, map, count; nothing written) | {preview_s:.2} s | {preview_peak:.0} MiB | < 5 s |");
    println!("| apply (the same, validated and stored) | {apply_s:.2} s | {apply_peak:.0} MiB | < 10 s |");
    println!("| apply again (every object updated) | {again_s:.2} s | {peak:.0} MiB | |");
    println!("\nServer RSS idle {idle:.0} MiB, after {after:.0} MiB; peak {peak:.0} MiB (target < 1 GiB).");
}
