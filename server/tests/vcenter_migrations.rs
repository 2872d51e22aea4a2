//! Migrations through vCenter against govmomi's vSphere simulator (docs/VCENTER.md#migrations):
//! a vMotion, a Storage vMotion and a combined move run through `RelocateVM_Task` with their
//! progress streamed and the VM recorded where the simulator says; a task that fails, one
//! cancelled mid-way and one that never ends leave the VM where the simulator has it, with
//! vCenter's message. Skipped by scripts/test.sh where the test server is missing; run once
//! (SQLite pass).

mod common;

use common::vcsim::*;
use common::TestServer;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn vcenter_migrations_run_through_relocate_vm_task() {
    let sim = simulator(
        &[
            MODEL,
            &["-relocate-time", "2s", "-fail-relocate", "DC0_C0_RP0_VM1"],
        ]
        .concat(),
    );
    let s = TestServer::start_full(&["--demo", "false", "--vcenter-wait-s", "1"], None).await;
    let id = connected(&s, &sim).await;
    let vm = "DC0_C0_RP0_VM0";
    let (host, disks) = in_vcenter(&sim, vm).await;
    let other_host = neighbour(&host);
    let other_ds = ["LocalDS_0", "LocalDS_1"]
        .into_iter()
        .find(|d| *d != disks[0])
        .unwrap();

    // vMotion: through vCenter's task, its progress streamed, the VM where vCenter says.
    let (m, events) = migrate(
        &s,
        json!({"vm_id": id[vm], "kind": "vmotion", "target_host_id": id[other_host]}),
    )
    .await;
    assert_eq!(m["phase"], "completed", "{m}");
    let task = m["external_task"]
        .as_str()
        .unwrap_or_else(|| panic!("vCenter's task id: {m}"));
    assert!(task.starts_with("task-"), "{task}");
    assert!(m["message"].as_str().unwrap().contains(task), "{m}");
    let percents: Vec<f64> = events
        .iter()
        .filter_map(|e| e["percent"].as_f64())
        .collect();
    assert!(
        percents.iter().any(|p| *p > 0.0 && *p < 100.0),
        "progress while vCenter's task ran: {percents:?}"
    );
    assert_eq!(in_vcenter(&sim, vm).await.0, other_host);
    let (_, record) = s.get(&format!("/api/v1/vms/{}", id[vm])).await;
    assert_eq!(record["host_id"], id[other_host].as_str());

    // Storage vMotion: every disk on the new datastore, in vCenter and in vmshift.
    let (m, _) = migrate(
        &s,
        json!({"vm_id": id[vm], "kind": "storage_vmotion", "target_datastore_id": id[other_ds]}),
    )
    .await;
    assert_eq!(m["phase"], "completed", "{m}");
    assert!(in_vcenter(&sim, vm).await.1.iter().all(|d| d == other_ds));
    let (_, record) = s.get(&format!("/api/v1/vms/{}", id[vm])).await;
    assert!(
        record["disks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["datastore_id"] == id[other_ds].as_str()),
        "{record}"
    );

    // Combined: both, back where it came from.
    let (m, _) = migrate(
        &s,
        json!({"vm_id": id[vm], "kind": "combined",
        "target_host_id": id[&host], "target_datastore_id": id[&disks[0]]}),
    )
    .await;
    assert_eq!(m["phase"], "completed", "{m}");
    assert_eq!(in_vcenter(&sim, vm).await, (host.clone(), disks.clone()));

    // A task that fails: vCenter's message, the VM where vCenter has it.
    let failing = "DC0_C0_RP0_VM1";
    let (before, _) = in_vcenter(&sim, failing).await;
    let target = neighbour(&before);
    let (m, _) = migrate(
        &s,
        json!({"vm_id": id[failing], "kind": "vmotion", "target_host_id": id[target]}),
    )
    .await;
    assert_eq!(m["phase"], "failed", "{m}");
    assert!(
        m["error"]
            .as_str()
            .unwrap()
            .contains("general system error"),
        "{m}"
    );
    assert_eq!(in_vcenter(&sim, failing).await.0, before);
    let (_, record) = s.get(&format!("/api/v1/vms/{}", id[failing])).await;
    assert_eq!(record["host_id"], id[&before].as_str());

    // Cancelled mid-task: vCenter's task is cancelled, the VM stays.
    let (st, m) = s
        .post(
            "/api/v1/migrations",
            &json!({"vm_id": id[vm], "kind": "vmotion", "target_host_id": id[other_host]}),
        )
        .await;
    assert_eq!(st, 201, "{m}");
    let mid = m["id"].as_str().unwrap().to_string();
    until(&s, &format!("/api/v1/migrations/{mid}"), |m| {
        m["external_task"].is_string() && m["percent"].as_f64() > Some(0.0)
    })
    .await;
    let (st, m) = s
        .post(&format!("/api/v1/migrations/{mid}/cancel"), &json!({}))
        .await;
    assert_eq!(st, 200, "{m}");
    until(&s, &format!("/api/v1/migrations/{mid}"), |m| {
        m["phase"] == "cancelled"
    })
    .await;
    // vCenter ends the task as cancelled; the VM never left.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(in_vcenter(&sim, vm).await.0, host);
    let (_, record) = s.get(&format!("/api/v1/vms/{}", id[vm])).await;
    assert_eq!(record["host_id"], id[&host].as_str());
}

#[tokio::test]
async fn vcenter_a_task_that_never_ends_is_cancelled_after_the_timeout() {
    let sim = simulator(&[MODEL, &["-relocate-time", "8s"]].concat());
    let s = TestServer::start_full(
        &[
            "--demo",
            "false",
            "--vcenter-wait-s",
            "1",
            "--vcenter-task-timeout-s",
            "1",
        ],
        None,
    )
    .await;
    let id = connected(&s, &sim).await;
    let vm = "DC0_C0_RP0_VM0";
    let (host, _) = in_vcenter(&sim, vm).await;
    let target = neighbour(&host);
    let (m, _) = migrate(
        &s,
        json!({"vm_id": id[vm], "kind": "vmotion", "target_host_id": id[target]}),
    )
    .await;
    assert_eq!(m["phase"], "failed", "{m}");
    assert!(
        m["error"]
            .as_str()
            .unwrap()
            .contains("did not end within 1 s"),
        "{m}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(in_vcenter(&sim, vm).await.0, host);
}

#[tokio::test]
async fn vcenter_verdict_stands_beside_vmshifts_checks() {
    let sim = simulator(&[MODEL, &["-incompatible", "DC0_C0_RP0_VM1"]].concat());
    let s = TestServer::start(false).await;
    let id = connected(&s, &sim).await;
    for (vm, verdict) in [
        ("DC0_C0_RP0_VM0", "finds the move compatible"),
        ("DC0_C0_RP0_VM1", "requires hardware features"),
    ] {
        let (host, _) = in_vcenter(&sim, vm).await;
        let body =
            json!({"vm_id": id[vm], "kind": "vmotion", "target_host_id": id[neighbour(&host)]});
        let (st, report) = s.post("/api/v1/checks", &body).await;
        assert_eq!(st, 200, "{report}");
        let result = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "vcenter.compatibility")
            .unwrap_or_else(|| panic!("vCenter's verdict: {report}"));
        assert!(
            result["message"].as_str().unwrap().contains(verdict),
            "{result}"
        );
        // vmshift's own checks are there too; vCenter's error blocks the move.
        let results = report["results"].as_array().unwrap();
        assert!(
            results.iter().any(|r| r["id"] == "vm.powered_on"),
            "{report}"
        );
        let blocked = verdict.starts_with("requires");
        assert_eq!(report["allowed"], !blocked, "{report}");
        if blocked {
            assert_eq!(result["severity"], "error", "{result}");
        }
    }
}
