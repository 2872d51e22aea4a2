//! Maintenance plans end to end over the API: blockers answered up front, a plan run to its
//! end on the simulated driver against its own prediction, the host in maintenance only when
//! empty, a failed move, pause and resume, cancel, a start time, rolling maintenance of a
//! four-host cluster.

mod common;

use common::TestServer;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

async fn preview(s: &TestServer, goal: Value, options: Value) -> Value {
    let (st, p) = s
        .post(
            "/api/v1/plans/preview",
            &json!({"goal": goal, "options": options}),
        )
        .await;
    assert_eq!(st, 200, "{p}");
    p
}

/// Stores and starts a plan; its id.
async fn start(s: &TestServer, goal: Value, options: Value) -> (String, Value) {
    let (st, plan) = s
        .post("/api/v1/plans", &json!({"goal": goal, "options": options}))
        .await;
    assert_eq!(st, 201, "{plan}");
    assert_eq!(plan["state"], "draft");
    let id = plan["id"].as_str().unwrap().to_string();
    let (st, started) = s
        .post(&format!("/api/v1/plans/{id}/start"), &json!({}))
        .await;
    assert_eq!(st, 200, "{started}");
    (id, started)
}

/// Polls the plan until `done` says so (or panics after `limit`).
async fn wait_for(
    s: &TestServer,
    id: &str,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let (st, plan) = s.get(&format!("/api/v1/plans/{id}")).await;
        assert_eq!(st, 200, "{plan}");
        if done(&plan) {
            return plan;
        }
        assert!(
            Instant::now() < deadline,
            "the plan did not get there: {plan}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn over(plan: &Value) -> bool {
    ["completed", "failed", "cancelled", "interrupted"].contains(&plan["state"].as_str().unwrap())
}

async fn hosts_by_name(s: &TestServer) -> BTreeMap<String, Value> {
    let (_, hosts) = s.get("/api/v1/hosts").await;
    hosts
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["name"].as_str().unwrap().to_string(), h.clone()))
        .collect()
}

async fn vms_on(s: &TestServer, host_id: &str) -> Vec<String> {
    let (_, vms) = s.get("/api/v1/vms").await;
    vms.as_array()
        .unwrap()
        .iter()
        .filter(|v| v["host_id"] == host_id)
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn blockers_are_named_up_front_with_their_fix_and_nothing_is_written() {
    let s = TestServer::start(true).await;
    let id = s.ids().await;
    let before = s.export().await;
    let p = preview(
        &s,
        json!({"kind": "evacuate_host", "host_id": id["esx-02"]}),
        json!({}),
    )
    .await;
    let blockers: BTreeMap<&str, &Value> = p["draft"]["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["vm_name"].as_str().unwrap(), b))
        .collect();
    // USB pass-through, a connected ISO, Fault Tolerance.
    assert_eq!(blockers["jump-01"]["check"], "device.local_backing", "{p}");
    assert_eq!(blockers["ft-billing"]["check"], "ft.enabled", "{p}");
    assert_eq!(blockers["web-02"]["check"], "device.local_backing", "{p}");
    for b in blockers.values() {
        assert!(!b["remedy"].as_str().unwrap().is_empty(), "{b}");
    }
    // The host would not empty: no maintenance step, and the plan says why.
    let steps = p["draft"]["steps"].as_array().unwrap();
    assert!(
        steps.iter().all(|s| s["step"] != "enter_maintenance"),
        "{p}"
    );
    assert!(
        p["draft"]["notes"][0].as_str().unwrap().contains("esx-02"),
        "{p}"
    );
    // The others are placed and predicted, the what-if rows side by side.
    let moves = steps[0]["moves"].as_array().unwrap();
    assert!(!moves.is_empty());
    assert_eq!(
        p["prediction"]["moves"].as_array().unwrap().len(),
        moves.len()
    );
    assert!(p["prediction"]["total_s"].as_f64().unwrap() > 0.0);
    assert_eq!(p["what_if"].as_array().unwrap().len(), 5);
    // db-02 is kept apart from db-01 (esx-01) and db-03 (esx-04).
    let db02 = moves.iter().find(|m| m["vm_name"] == "db-02").unwrap();
    assert!(![id["esx-01"].as_str(), id["esx-04"].as_str()]
        .contains(&db02["target_host_id"].as_str().unwrap()));
    // monitor-01 must stay on esx-03: evacuating the host names the rule.
    let p = preview(
        &s,
        json!({"kind": "evacuate_host", "host_id": id["esx-03"]}),
        json!({}),
    )
    .await;
    let license = p["draft"]["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["vm_name"] == "monitor-01")
        .unwrap_or_else(|| panic!("{p}"));
    assert_eq!(license["check"], "affinity.rules");
    assert!(
        license["message"]
            .as_str()
            .unwrap()
            .contains("monitor-pinned-to-esx-03"),
        "{license}"
    );
    assert_eq!(s.export().await, before, "a preview writes nothing");
    let (st, plans) = s.get("/api/v1/plans").await;
    assert_eq!((st, plans), (200, json!([])));
}

#[tokio::test]
async fn an_evacuation_runs_as_predicted_and_the_host_enters_maintenance_once_empty() {
    let s = TestServer::start(true).await;
    let id = s.ids().await;
    let host = id["esx-01"].as_str().to_string();
    let (plan_id, started) = start(
        &s,
        json!({"kind": "evacuate_host", "host_id": host}),
        json!({}),
    )
    .await;
    assert_eq!(started["state"], "running", "{started}");
    assert!(
        started["draft"]["blockers"].as_array().unwrap().is_empty(),
        "{started}"
    );
    let plan = wait_for(&s, &plan_id, Duration::from_secs(60), over).await;
    assert_eq!(plan["state"], "completed", "{plan}");
    assert!(vms_on(&s, &host).await.is_empty());
    assert_eq!(hosts_by_name(&s).await["esx-01"]["state"], "maintenance");
    assert!(
        plan["log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "esx-01 entered maintenance mode"),
        "{plan}"
    );
    // The run against its prediction: the whole within 2 %, each move's end within 5 %.
    let predicted = plan["prediction"]["total_s"].as_f64().unwrap();
    let actual = plan["elapsed_s"].as_f64().unwrap();
    assert!(
        (actual - predicted).abs() <= 0.02 * predicted,
        "actual {actual} s, predicted {predicted} s"
    );
    let predicted_moves = plan["prediction"]["moves"].as_array().unwrap();
    for (run, p) in plan["moves"]
        .as_array()
        .unwrap()
        .iter()
        .zip(predicted_moves)
    {
        assert_eq!(run["vm_id"], p["vm_id"]);
        assert_eq!(run["phase"], "completed", "{run}");
        let (end, expected) = (run["end_s"].as_f64().unwrap(), p["end_s"].as_f64().unwrap());
        assert!(
            (end - expected).abs() <= 0.05 * expected,
            "{}: ended at {end} s, predicted {expected} s",
            p["vm_name"]
        );
    }
    // Who planned and started it is in the audit log, with the maintenance change.
    let (_, audit) = s.get("/api/v1/audit?action=plan.").await;
    let actions: BTreeSet<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains("plan.create") && actions.contains("plan.start"),
        "{audit}"
    );
    let (_, changes) = s.get("/api/v1/audit?action=inventory.update").await;
    assert!(
        changes.to_string().contains("\"state\":\"maintenance\""),
        "{changes}"
    );
    // A plan that is over cannot be paused or started again.
    let (st, _) = s
        .post(&format!("/api/v1/plans/{plan_id}/pause"), &json!({}))
        .await;
    assert_eq!(st, 409);
    let (st, _) = s
        .post(&format!("/api/v1/plans/{plan_id}/start"), &json!({}))
        .await;
    assert_eq!(st, 409);
}

#[tokio::test]
async fn a_failed_move_leaves_its_vm_and_the_host_out_of_maintenance_with_the_reason() {
    // Slow enough to hit the moves while they run.
    let s = TestServer::start_full(&["--demo", "true", "--speed", "20"], None).await;
    let id = s.ids().await;
    let host = id["esx-01"].as_str().to_string();
    let p = preview(
        &s,
        json!({"kind": "evacuate_host", "host_id": host}),
        json!({}),
    )
    .await;
    // The vMotion network of one target goes down as the plan starts.
    let target = p["draft"]["steps"][0]["moves"][0]["target_host_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (plan_id, _) = start(
        &s,
        json!({"kind": "evacuate_host", "host_id": host}),
        json!({}),
    )
    .await;
    let (st, fault) = s
        .post(
            "/api/v1/faults",
            &json!({"kind": "vmotion_link_down", "target_id": target}),
        )
        .await;
    assert_eq!(st, 201, "{fault}");
    let plan = wait_for(&s, &plan_id, Duration::from_secs(120), over).await;
    assert_eq!(plan["state"], "failed", "{plan}");
    let failed: Vec<&Value> = plan["moves"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["phase"] == "failed")
        .collect();
    assert!(!failed.is_empty(), "{plan}");
    let left = vms_on(&s, &host).await;
    assert!(!left.is_empty());
    assert_eq!(hosts_by_name(&s).await["esx-01"]["state"], "connected");
    let message = plan["message"].as_str().unwrap();
    assert!(
        message.contains("esx-01 stays out of maintenance mode"),
        "{message}"
    );
    let log = plan["log"].to_string();
    assert!(
        log.contains("esx-01 stays out of maintenance mode"),
        "{log}"
    );
}

#[tokio::test]
async fn pause_holds_new_moves_resume_goes_on_and_cancel_leaves_every_vm_in_one_place() {
    let s = TestServer::start_full(&["--demo", "true", "--speed", "5"], None).await;
    let id = s.ids().await;
    let host = id["esx-03"].as_str().to_string();
    let options = json!({"max_concurrent": 1});
    let (plan_id, _) = start(
        &s,
        json!({"kind": "evacuate_host", "host_id": host}),
        options,
    )
    .await;
    let (st, paused) = s
        .post(&format!("/api/v1/plans/{plan_id}/pause"), &json!({}))
        .await;
    assert_eq!(st, 200, "{paused}");
    assert_eq!(paused["state"], "paused");
    // No new move starts while paused: the queued ones say why.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (_, migrations) = s.get("/api/v1/migrations").await;
    let queued: Vec<&Value> = migrations
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["phase"] == "queued")
        .collect();
    assert!(!queued.is_empty(), "{migrations}");
    assert!(
        queued.iter().all(|m| m["queue_reason"]
            .as_str()
            .unwrap_or("")
            .contains("is paused")),
        "{migrations}"
    );
    let running_while_paused = migrations
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            !["queued", "completed", "failed", "cancelled"].contains(&m["phase"].as_str().unwrap())
        })
        .count();
    assert!(running_while_paused <= 1);
    let (st, resumed) = s
        .post(&format!("/api/v1/plans/{plan_id}/resume"), &json!({}))
        .await;
    assert_eq!((st, resumed["state"].as_str()), (200, Some("running")));
    // Cancel mid-plan: moves in flight cancelled, every VM on exactly one host.
    let (st, cancelling) = s
        .post(&format!("/api/v1/plans/{plan_id}/cancel"), &json!({}))
        .await;
    assert_eq!(st, 200, "{cancelling}");
    let plan = wait_for(&s, &plan_id, Duration::from_secs(30), over).await;
    assert_eq!(plan["state"], "cancelled", "{plan}");
    let (_, migrations) = s.get("/api/v1/migrations").await;
    assert!(migrations
        .as_array()
        .unwrap()
        .iter()
        .all(|m| ["completed", "failed", "cancelled"].contains(&m["phase"].as_str().unwrap())));
    let (_, vms) = s.get("/api/v1/vms").await;
    let hosts = hosts_by_name(&s).await;
    let host_ids: BTreeSet<&str> = hosts.values().map(|h| h["id"].as_str().unwrap()).collect();
    let names: BTreeSet<&str> = vms
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), vms.as_array().unwrap().len(), "each VM once");
    assert!(vms
        .as_array()
        .unwrap()
        .iter()
        .all(|v| host_ids.contains(v["host_id"].as_str().unwrap())));
    assert_eq!(hosts["esx-03"]["state"], "connected");
    let (_, audit) = s.get("/api/v1/audit?action=plan.").await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in ["plan.pause", "plan.resume", "plan.cancel"] {
        assert!(actions.contains(&a), "{a}: {audit}");
    }
}

#[tokio::test]
async fn a_plan_with_a_start_time_waits_for_it_and_bad_plans_are_refused_naming_the_field() {
    let s = TestServer::start(true).await;
    let id = s.ids().await;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let goal = json!({"kind": "drain_datastore", "datastore_id": id["nfs-archive"]});
    let (plan_id, started) = start(&s, goal, json!({"start_at_ms": now_ms + 1_500})).await;
    assert_eq!(started["state"], "scheduled", "{started}");
    let (_, plan) = s.get(&format!("/api/v1/plans/{plan_id}")).await;
    assert_eq!(plan["state"], "scheduled");
    let (_, migrations) = s.get("/api/v1/migrations").await;
    assert_eq!(migrations, json!([]), "nothing moves before the start time");
    let plan = wait_for(&s, &plan_id, Duration::from_secs(60), over).await;
    assert!(plan["started_at_ms"].as_i64().unwrap() >= now_ms);
    let first_start = {
        let (_, migrations) = s.get("/api/v1/migrations").await;
        migrations
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["created_at_ms"].as_i64().unwrap())
            .min()
            .unwrap()
    };
    assert!(first_start >= now_ms + 1_500, "moved before its start time");
    // Refusals name the field.
    let bad = [
        (
            json!({"goal": {"kind": "evacuate_host", "host_id": "00000000-0000-4000-8000-000000000000"}}),
            "goal.host_id",
        ),
        (
            json!({"goal": {"kind": "evacuate_host", "host_id": id["esx-01"]}, "options": {"max_concurrent": 0}}),
            "options.max_concurrent",
        ),
        (
            json!({"goal": {"kind": "rolling_maintenance", "cluster_id": "00000000-0000-4000-8000-000000000000"}}),
            "goal.cluster_id",
        ),
        (json!({"goal": {"kind": "teleport"}}), "goal"),
    ];
    for (body, field) in bad {
        let (st, e) = s.post("/api/v1/plans/preview", &body).await;
        assert_eq!(st, 422, "{body}: {e}");
        assert!(
            e["error"]["field"]
                .as_str()
                .unwrap_or("")
                .starts_with(field),
            "{body}: {e}"
        );
    }
    let (st, _) = s
        .get("/api/v1/plans/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(st, 404);
    // Viewers read plans; only operators plan and run them.
    let viewer = s.user("vic", "viewer").await;
    let res = viewer.get(s.url("/api/v1/plans")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = viewer
        .post(s.url("/api/v1/plans/preview"))
        .json(&json!({"goal": {"kind": "evacuate_host", "host_id": id["esx-01"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn rolling_maintenance_of_four_hosts_never_has_two_out_and_brings_every_vm_back() {
    let inv = domain::generate::scale_inventory(1, 4, 3);
    let s = TestServer::start_seeded(false, server::live::DEFAULT_LIVE_BUFFER, Some(inv)).await;
    let (_, clusters) = s.get("/api/v1/clusters").await;
    let cluster = clusters[0]["id"].clone();
    let homes: BTreeMap<String, String> = {
        let (_, vms) = s.get("/api/v1/vms").await;
        vms.as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["name"].as_str().unwrap().into(),
                    v["host_id"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let goal = json!({"kind": "rolling_maintenance", "cluster_id": cluster, "at_a_time": 1, "maintenance_s": 600});
    let (plan_id, _) = start(&s, goal, json!({})).await;
    // Watch the hosts while it runs: never two in maintenance at once.
    let mut entered: BTreeSet<String> = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let plan = loop {
        let hosts = hosts_by_name(&s).await;
        let out: Vec<&String> = hosts
            .iter()
            .filter(|(_, h)| h["state"] == "maintenance")
            .map(|(n, _)| n)
            .collect();
        assert!(out.len() <= 1, "two hosts out at once: {out:?}");
        entered.extend(out.into_iter().cloned());
        let (_, plan) = s.get(&format!("/api/v1/plans/{plan_id}")).await;
        if over(&plan) {
            break plan;
        }
        assert!(Instant::now() < deadline, "{plan}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(plan["state"], "completed", "{plan}");
    let log = plan["log"].as_array().unwrap();
    for name in hosts_by_name(&s).await.keys() {
        let times = log
            .iter()
            .filter(|l| **l == format!("{name} entered maintenance mode"))
            .count();
        assert_eq!(times, 1, "{name} visited once: {log:?}");
    }
    assert_eq!(
        entered.len(),
        4,
        "each host seen in maintenance: {entered:?}"
    );
    let hosts = hosts_by_name(&s).await;
    assert!(hosts.values().all(|h| h["state"] == "connected"));
    let (_, vms) = s.get("/api/v1/vms").await;
    for v in vms.as_array().unwrap() {
        assert_eq!(
            v["host_id"].as_str().unwrap(),
            homes[v["name"].as_str().unwrap()],
            "{} back home",
            v["name"]
        );
    }
}
