//! Migrations over the API on the demo inventory, at 1000× speed: start, follow, complete,
//! cancel, faults, and the events they leave.

mod common;

use common::TestServer;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

fn request(id: &HashMap<String, String>, vm: &str, host: Option<&str>, ds: Option<&str>) -> Value {
    let kind = match (host, ds) {
        (Some(_), None) => "vmotion",
        (None, Some(_)) => "storage_vmotion",
        _ => "combined",
    };
    let mut body = json!({ "vm_id": id[vm], "kind": kind });
    if let Some(h) = host {
        body["target_host_id"] = json!(id[h]);
    }
    if let Some(d) = ds {
        body["target_datastore_id"] = json!(id[d]);
    }
    body
}

/// Polls a migration until it is final.
async fn wait_final(s: &TestServer, id: &str) -> Value {
    for _ in 0..400 {
        let (status, m) = s.get(&format!("/api/v1/migrations/{id}")).await;
        assert_eq!(status, 200);
        if ["completed", "failed", "cancelled"].contains(&m["phase"].as_str().unwrap()) {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("migration {id} did not finish");
}

/// Stored events, checked as every history must be (`common::check_history`).
async fn checked_events(s: &TestServer, id: &str) -> Vec<Value> {
    let (status, events) = s.get(&format!("/api/v1/migrations/{id}/events")).await;
    assert_eq!(status, 200);
    common::check_history(&events)
}

fn phases(events: &[Value]) -> Vec<String> {
    let mut p: Vec<String> = events
        .iter()
        .map(|e| e["phase"].as_str().unwrap().to_string())
        .collect();
    p.dedup();
    p
}

#[tokio::test]
async fn each_kind_of_migration_runs_to_completion_and_moves_the_vm() {
    let s = TestServer::start(true).await;
    let id = s.ids().await;
    let cases = [
        (
            "web-01",
            Some("esx-02"),
            None,
            vec![
                "queued",
                "checking",
                "preparing",
                "memory_precopy",
                "switchover",
                "completed",
            ],
        ),
        (
            "app-01",
            None,
            Some("vsan-prod"),
            vec![
                "queued",
                "checking",
                "preparing",
                "disk_copy",
                "switchover",
                "completed",
            ],
        ),
        (
            "db-01",
            Some("esx-03"),
            Some("vsan-prod"),
            vec![
                "queued",
                "checking",
                "preparing",
                "disk_copy",
                "memory_precopy",
                "switchover",
                "completed",
            ],
        ),
    ];
    for (vm, host, ds, expected) in cases {
        let body = request(&id, vm, host, ds);
        let (status, m) = s.post("/api/v1/predictions", &body).await;
        assert_eq!(status, 200, "{m}");
        for field in [
            "converges",
            "duration_s",
            "downtime_ms",
            "bytes_total",
            "rounds",
        ] {
            assert!(m.get(field).is_some(), "prediction lacks {field}");
        }
        let predicted = m["duration_s"].as_f64().unwrap();
        let (status, m) = s.post("/api/v1/migrations", &body).await;
        assert_eq!(status, 201, "{m}");
        assert_eq!(m["phase"], "queued");
        let mid = m["id"].as_str().unwrap().to_string();
        let done = wait_final(&s, &mid).await;
        assert_eq!(done["phase"], "completed", "{vm}: {}", done["message"]);
        assert_eq!(done["percent"], 100.0);
        assert_eq!(done["state"], "completed");
        assert_eq!(done["result"]["downtime_ms"], done["downtime_ms"]);
        assert!(done["started_at_ms"].as_i64().unwrap() >= done["created_at_ms"].as_i64().unwrap());
        assert!(done["downtime_ms"].as_f64().unwrap() > 0.0);
        // Alone on its links and datastores, it takes what was predicted.
        let took = done["sim_time_s"].as_f64().unwrap();
        assert!(
            (took - predicted).abs() <= 0.6,
            "{vm}: {took} s vs predicted {predicted} s"
        );
        let (_, v) = s.get(&format!("/api/v1/vms/{}", id[vm])).await;
        if let Some(h) = host {
            assert_eq!(v["host_id"], id[h].as_str());
        }
        if let Some(d) = ds {
            assert!(v["disks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|disk| disk["datastore_id"] == id[d].as_str()));
        }
        let events = checked_events(&s, &mid).await;
        assert_eq!(phases(&events), expected, "{vm}");
    }
    let (_, list) = s.get("/api/v1/migrations").await;
    assert_eq!(list.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn blocked_busy_malformed_and_unknown_requests_are_refused_clearly() {
    let s = TestServer::start(true).await;
    let id = s.ids().await;
    // Blocked by the checks: 422 with every result.
    let (status, body) = s
        .post(
            "/api/v1/migrations",
            &request(&id, "build-local", Some("esx-02"), None),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "blocked");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("local datastore"));
    assert!(body["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "storage.local"));
    // Malformed: the field is named.
    let mut bad = request(&id, "web-01", Some("esx-02"), None);
    bad["options"] = json!({ "downtime_target_ms": 0 });
    let (status, body) = s.post("/api/v1/migrations", &bad).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "options.downtime_target_ms");
    let (status, body) = s
        .post(
            "/api/v1/migrations",
            &json!({ "vm_id": id["web-01"], "kind": "teleport" }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "kind");
    // Busy: a second migration of a VM in flight is a 409; so is editing it.
    let mut slow = request(&id, "db-02", Some("esx-03"), None);
    slow["options"] = json!({ "bandwidth_cap_mbps": 1 });
    let (status, m) = s.post("/api/v1/migrations", &slow).await;
    assert_eq!(status, 201, "{m}");
    let mid = m["id"].as_str().unwrap();
    let (status, body) = s
        .post(
            "/api/v1/migrations",
            &request(&id, "db-02", Some("esx-04"), None),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["field"], "vm_id");
    assert!(body["error"]["message"].as_str().unwrap().contains(mid));
    let (_, vm) = s.get(&format!("/api/v1/vms/{}", id["db-02"])).await;
    let (status, body) = s.put(&format!("/api/v1/vms/{}", id["db-02"]), &vm).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(s.delete(&format!("/api/v1/vms/{}", id["db-02"])).await, 409);
    // So is changing a host or datastore it involves: the engine's plan must hold.
    let (_, host) = s.get(&format!("/api/v1/hosts/{}", id["esx-03"])).await;
    let (status, body) = s
        .put(&format!("/api/v1/hosts/{}", id["esx-03"]), &host)
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("takes part in 1 migration(s) in flight"));
    let (status, _) = s
        .put(
            &format!("/api/v1/hosts/{}", id["esx-04"]),
            &s.get(&format!("/api/v1/hosts/{}", id["esx-04"])).await.1,
        )
        .await;
    assert_eq!(status, 200, "an uninvolved host is free to change");
    // The checks see the VM as busy too.
    let (_, report) = s
        .post(
            "/api/v1/checks",
            &request(&id, "db-02", Some("esx-04"), None),
        )
        .await;
    assert!(report["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "vm.busy"));
    // Cancel: the VM stays; a second cancel is a 409; unknown ids are 404s.
    let (status, m) = s
        .post(&format!("/api/v1/migrations/{mid}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(m["phase"], "cancelled");
    assert!(m["message"]
        .as_str()
        .unwrap()
        .contains("keeps running on esx-0"));
    let (_, after) = s.get(&format!("/api/v1/vms/{}", id["db-02"])).await;
    assert_eq!(after, vm);
    let (status, _) = s
        .post(&format!("/api/v1/migrations/{mid}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 409);
    let unknown = uuid::Uuid::new_v4();
    let (status, body) = s.get(&format!("/api/v1/migrations/{unknown}")).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, _) = s.get(&format!("/api/v1/migrations/{unknown}/events")).await;
    assert_eq!(status, 404);
    let (status, body) = s.get("/api/v1/migrations/not-a-uuid").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["field"], "id");
    let events = checked_events(&s, mid).await;
    assert_eq!(events.last().unwrap()["phase"], "cancelled");
    // The VM can be edited again.
    let (status, _) = s.put(&format!("/api/v1/vms/{}", id["db-02"]), &vm).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_injected_fault_fails_the_migration_and_the_vm_stays() {
    let s = TestServer::start(true).await;
    let id = s.ids().await;
    // Bad fault requests name the field.
    let (status, body) = s
        .post(
            "/api/v1/faults",
            &json!({ "kind": "meteor", "target_id": id["esx-02"] }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "kind");
    let (status, body) = s
        .post(
            "/api/v1/faults",
            &json!({ "kind": "datastore_full", "target_id": id["esx-02"] }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "target_id");
    // A link cut while a slow vMotion runs.
    let before = s.export().await;
    let mut slow = request(&id, "web-01", Some("esx-02"), None);
    slow["options"] = json!({ "bandwidth_cap_mbps": 10 });
    let (status, m) = s.post("/api/v1/migrations", &slow).await;
    assert_eq!(status, 201);
    let mid = m["id"].as_str().unwrap().to_string();
    let mut copying = false;
    for _ in 0..200 {
        let (_, m) = s.get(&format!("/api/v1/migrations/{mid}")).await;
        if m["phase"] == "memory_precopy" {
            copying = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(copying, "the fault hits during the memory pre-copy");
    let (status, fault) = s
        .post(
            "/api/v1/faults",
            &json!({ "kind": "vmotion_link_down", "target_id": id["esx-02"] }),
        )
        .await;
    assert_eq!(status, 201, "{fault}");
    assert_eq!(fault["target_name"], "esx-02");
    let (status, _) = s
        .post(
            "/api/v1/faults",
            &json!({ "kind": "vmotion_link_down", "target_id": id["esx-02"] }),
        )
        .await;
    assert_eq!(status, 409);
    let done = wait_final(&s, &mid).await;
    assert_eq!(done["phase"], "failed");
    let message = done["message"].as_str().unwrap();
    assert!(
        message.contains("vMotion network of esx-02 went down"),
        "{message}"
    );
    assert!(
        message.contains("web-01 keeps running on esx-01"),
        "{message}"
    );
    assert_eq!(s.export().await, before, "nothing moved");
    checked_events(&s, &mid).await;
    // While the fault stays, a new vMotion to that host fails at its checking step.
    let (_, m) = s
        .post(
            "/api/v1/migrations",
            &request(&id, "web-01", Some("esx-02"), None),
        )
        .await;
    let again_id = m["id"].as_str().unwrap().to_string();
    let again = wait_final(&s, &again_id).await;
    assert_eq!(again["phase"], "failed");
    assert!(again["message"].as_str().unwrap().contains("went down"));
    assert_eq!(again["state"], "failed");
    assert_eq!(again["error"], again["message"]);
    let phases = phases(&checked_events(&s, &again_id).await);
    assert_eq!(phases, ["queued", "checking", "failed"]);
    // Cleared, the same move completes.
    let fid = fault["id"].as_str().unwrap();
    assert_eq!(s.delete(&format!("/api/v1/faults/{fid}")).await, 204);
    assert_eq!(s.delete(&format!("/api/v1/faults/{fid}")).await, 404);
    let (_, faults) = s.get("/api/v1/faults").await;
    assert_eq!(faults, json!([]));
    let (_, m) = s
        .post(
            "/api/v1/migrations",
            &request(&id, "web-01", Some("esx-02"), None),
        )
        .await;
    let ok = wait_final(&s, m["id"].as_str().unwrap()).await;
    assert_eq!(ok["phase"], "completed", "{}", ok["message"]);
}

/// Waits until a migration reaches `phase`.
async fn wait_phase(s: &TestServer, id: &str, phase: &str) {
    for _ in 0..500 {
        let (_, m) = s.get(&format!("/api/v1/migrations/{id}")).await;
        if m["phase"] == phase {
            return;
        }
        assert!(
            !["completed", "failed", "cancelled"].contains(&m["phase"].as_str().unwrap()),
            "{m}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("migration {id} never reached {phase}");
}

/// The two other fault kinds, injected over the API while migrations run: a target host
/// that stops responding and a target datastore that fills up each fail their migration
/// with a message naming them, everything stays where it was, and clearing them lets the
/// same moves complete.
#[tokio::test]
async fn host_down_and_datastore_full_fail_running_migrations_and_clear() {
    let s = TestServer::start(true).await;
    let id = s.ids().await;
    let before = s.export().await;
    let slow = |mut body: Value| {
        body["options"] = json!({ "bandwidth_cap_mbps": 10 });
        body
    };
    let (status, vmotion) = s
        .post(
            "/api/v1/migrations",
            &slow(request(&id, "web-01", Some("esx-02"), None)),
        )
        .await;
    assert_eq!(status, 201, "{vmotion}");
    let (status, storage) = s
        .post(
            "/api/v1/migrations",
            &slow(request(&id, "app-01", None, Some("vsan-prod"))),
        )
        .await;
    assert_eq!(status, 201, "{storage}");
    let (vmotion, storage) = (
        vmotion["id"].as_str().unwrap().to_string(),
        storage["id"].as_str().unwrap().to_string(),
    );
    wait_phase(&s, &vmotion, "memory_precopy").await;
    wait_phase(&s, &storage, "disk_copy").await;

    let (status, host_down) = s
        .post(
            "/api/v1/faults",
            &json!({ "kind": "host_down", "target_id": id["esx-02"] }),
        )
        .await;
    assert_eq!(status, 201, "{host_down}");
    let done = wait_final(&s, &vmotion).await;
    assert_eq!(done["phase"], "failed");
    let message = done["message"].as_str().unwrap();
    assert!(
        message.contains("Host esx-02 stopped responding"),
        "{message}"
    );
    assert!(
        message.contains("web-01 keeps running on esx-01"),
        "{message}"
    );
    // The Storage vMotion does not touch esx-02: it goes on.
    let (_, m) = s.get(&format!("/api/v1/migrations/{storage}")).await;
    assert_eq!(m["phase"], "disk_copy", "{m}");

    let (status, full) = s
        .post(
            "/api/v1/faults",
            &json!({ "kind": "datastore_full", "target_id": id["vsan-prod"] }),
        )
        .await;
    assert_eq!(status, 201, "{full}");
    assert_eq!(full["target_name"], "vsan-prod");
    let done = wait_final(&s, &storage).await;
    assert_eq!(done["phase"], "failed");
    let message = done["message"].as_str().unwrap();
    assert!(
        message.contains("Datastore vsan-prod ran out of space"),
        "{message}"
    );
    assert!(message.contains("app-01 keeps running"), "{message}");
    assert_eq!(s.export().await, before, "nothing moved");
    for mid in [&vmotion, &storage] {
        checked_events(&s, mid).await;
    }

    // Cleared, both moves complete.
    for fault in [&host_down, &full] {
        let fid = fault["id"].as_str().unwrap();
        assert_eq!(s.delete(&format!("/api/v1/faults/{fid}")).await, 204);
    }
    let (_, faults) = s.get("/api/v1/faults").await;
    assert_eq!(faults, json!([]));
    for body in [
        request(&id, "web-01", Some("esx-02"), None),
        request(&id, "app-01", None, Some("vsan-prod")),
    ] {
        let (status, m) = s.post("/api/v1/migrations", &body).await;
        assert_eq!(status, 201, "{m}");
        let ok = wait_final(&s, m["id"].as_str().unwrap()).await;
        assert_eq!(ok["phase"], "completed", "{}", ok["message"]);
    }
}

#[tokio::test]
async fn a_clean_shutdown_ends_migrations_in_flight_and_says_so() {
    let s = TestServer::start(true).await;
    let id = s.ids().await;
    let mut slow = request(&id, "web-01", Some("esx-02"), None);
    slow["options"] = json!({ "bandwidth_cap_mbps": 1 });
    let (status, m) = s.post("/api/v1/migrations", &slow).await;
    assert_eq!(status, 201);
    let mid = m["id"].as_str().unwrap().to_string();
    let before = s.export().await;
    s.stop().await;
    // Reopened on the same database: failed with the reason, the VM where it was.
    let url = s.db.url.clone();
    let reopened = common::reopen(&url).await;
    let inventory = reopened.services().inventory.clone();
    let m = reopened
        .services()
        .migrations
        .get(mid.parse().unwrap())
        .unwrap();
    assert_eq!(m.phase.as_str(), "failed");
    assert!(
        m.message
            .contains("vmshift was shut down during the migration"),
        "{}",
        m.message
    );
    assert!(
        m.message.contains("web-01 keeps running on esx-01"),
        "{}",
        m.message
    );
    let web01 = &inventory.read().vms[&id["web-01"].parse().unwrap()];
    let host = before["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "esx-01")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(web01.host_id.to_string(), host);
}
