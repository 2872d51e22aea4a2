//! A `kill -9` of the real server binary while migrations run, then a restart on the same
//! database: every migration ends final, every VM is on exactly one host (its source unless
//! the switchover committed), and the histories stay gap-free.

mod common;

use common::process::{self, Process};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

async fn spawn(url: &str) -> Process {
    // On PostgreSQL the dead server's migrations are ended once its lease runs out.
    let flags = ["--speed", "20", "--tick-ms", "50", "--lease-ms", "600"];
    process::spawn(url, &flags).await
}

#[tokio::test]
async fn a_kill_during_migrations_leaves_every_vm_on_exactly_one_host() {
    let db = common::TestDb::new().await;
    let url = db.url.clone();
    let mut server = spawn(&url).await;
    let id = server.ids().await;
    // Slow moves (capped) that will be in flight, and one quick move that completes first.
    let moves = [
        ("web-01", Some("esx-02"), None, Some(20)),
        ("app-01", None, Some("vsan-prod"), Some(50)),
        ("db-01", Some("esx-03"), Some("vsan-prod"), Some(50)),
        ("cache-01", Some("esx-04"), None, Some(10)),
        ("mq-01", Some("esx-03"), None, None),
    ];
    let mut started = Vec::new();
    for (vm, host, ds, cap) in moves {
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
        if let Some(c) = cap {
            body["options"] = json!({ "bandwidth_cap_mbps": c });
        }
        let (status, m) = server.post("/api/v1/migrations", &body).await;
        assert_eq!(status, 201, "{vm}: {m}");
        started.push((m["id"].as_str().unwrap().to_string(), vm, host, ds));
    }
    let before: HashMap<String, Value> = server
        .get("/api/v1/vms")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap().to_string(), v.clone()))
        .collect();
    // Wait for the quick one to complete while the others are still moving data.
    let quick = started[4].0.clone();
    for _ in 0..500 {
        let m = server.get(&format!("/api/v1/migrations/{quick}")).await;
        if m["phase"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let list = server.get("/api/v1/migrations").await;
    let in_flight = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !["completed", "failed", "cancelled"].contains(&m["phase"].as_str().unwrap()))
        .count();
    assert_eq!(
        in_flight, 4,
        "four migrations are in flight when the server dies"
    );

    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    drop(server);
    let server = spawn(&url).await;
    // SQLite: ended at the start. PostgreSQL (where other replicas could be running them):
    // ended when the dead server's lease has run out.
    for _ in 0..200 {
        let list = server.get("/api/v1/migrations").await;
        let open =
            list.as_array().unwrap().iter().any(|m| {
                !["completed", "failed", "cancelled"].contains(&m["phase"].as_str().unwrap())
            });
        if !open {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let after = server.get("/api/v1/vms").await;
    let after = after.as_array().unwrap();
    assert_eq!(after.len(), before.len(), "no VM lost or duplicated");
    let hosts: Vec<String> = server
        .get("/api/v1/hosts")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect();
    let mut names = std::collections::BTreeSet::new();
    for v in after {
        assert!(names.insert(v["name"].as_str().unwrap().to_string()));
        assert!(hosts.contains(&v["host_id"].as_str().unwrap().to_string()));
    }
    let vm = |name: &str| after.iter().find(|v| v["name"] == name).unwrap().clone();
    for (mid, name, host, ds) in &started {
        let m = server.get(&format!("/api/v1/migrations/{mid}")).await;
        let events = server
            .get(&format!("/api/v1/migrations/{mid}/events"))
            .await;
        let events = common::check_history(&events);
        assert_eq!(events.last().unwrap()["phase"], m["phase"]);
        if mid == &quick {
            assert_eq!(m["phase"], "completed");
            assert_eq!(vm(name)["host_id"], id[host.unwrap()].as_str());
            continue;
        }
        assert_eq!(m["phase"], "failed", "{name}");
        let message = m["message"].as_str().unwrap();
        let why = if db.is_postgres() {
            "stopped renewing its lease; another replica ended it"
        } else {
            "vmshift stopped while this migration was in flight"
        };
        assert!(message.contains(why), "{message}");
        assert!(
            message.contains("stays where the last committed state records it"),
            "{message}"
        );
        // Not committed: the VM is exactly where it was.
        assert_eq!(
            vm(name),
            before[*name],
            "{name} is on its source ({host:?}, {ds:?})"
        );
    }
    // The VMs are free to move again.
    let (status, m) = server
        .post(
            "/api/v1/migrations",
            &json!({ "vm_id": id["web-01"], "kind": "vmotion", "target_host_id": id["esx-02"] }),
        )
        .await;
    assert_eq!(status, 201, "{m}");
}

/// A `kill -9` while the switchover's transaction is open — after its last statement, before
/// its commit (a test hook holds it there): after a restart the VM of a combined move is
/// wholly on its source, host and every disk, never half moved; for every kind of move.
#[tokio::test]
async fn a_kill_inside_the_switchover_transaction_leaves_the_vm_wholly_on_its_source() {
    for (vm, host, ds) in [
        ("db-01", Some("esx-03"), Some("vsan-prod")),
        ("web-01", Some("esx-02"), None),
        ("app-01", None, Some("vsan-prod")),
    ] {
        let db = common::TestDb::new().await;
        let url = db.url.clone();
        let log = tempfile::NamedTempFile::new().unwrap();
        let flags = ["--speed", "1000", "--tick-ms", "50", "--lease-ms", "600"];
        let hang = [("VMSHIFT_FAILPOINTS", "switchover.commit=hang")];
        let mut server = process::spawn_with(&url, &flags, &hang, Some(log.path())).await;
        let id = server.ids().await;
        let before: Value = server.get(&format!("/api/v1/vms/{}", id[vm])).await;
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
        let (status, m) = server.post("/api/v1/migrations", &body).await;
        assert_eq!(status, 201, "{vm}: {m}");
        let mid = m["id"].as_str().unwrap().to_string();
        let reached = process::wait_for_line(
            log.path(),
            "vmshift failpoint switchover.commit: hanging",
            Duration::from_secs(60),
        )
        .await;
        assert!(reached, "{vm}: the switchover's transaction was reached");
        server.child.kill().unwrap(); // SIGKILL, inside the transaction
        server.child.wait().unwrap();
        drop(server);

        let server = spawn(&url).await;
        let mut m = Value::Null;
        for _ in 0..200 {
            m = server.get(&format!("/api/v1/migrations/{mid}")).await;
            if ["completed", "failed", "cancelled"].contains(&m["phase"].as_str().unwrap()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(m["phase"], "failed", "{vm}: {m}");
        let after: Value = server.get(&format!("/api/v1/vms/{}", id[vm])).await;
        assert_eq!(after["host_id"], before["host_id"], "{vm}: its host");
        assert_eq!(after["disks"], before["disks"], "{vm}: every disk");
        assert_eq!(after, before, "{vm}: wholly where it was");
        let events = server
            .get(&format!("/api/v1/migrations/{mid}/events"))
            .await;
        let events = common::check_history(&events);
        assert!(!events.iter().any(|e| e["phase"] == "completed"));
    }
}

/// A `kill -9` while a plan runs, then a restart: the plan is marked interrupted, its moves'
/// migrations are all over, every VM is on exactly one host.
#[tokio::test]
async fn a_kill_during_a_plan_leaves_it_interrupted_and_every_vm_in_one_place() {
    let db = common::TestDb::new().await;
    let url = db.url.clone();
    let mut server = spawn(&url).await;
    let id = server.ids().await;
    let vm_count = server.get("/api/v1/vms").await.as_array().unwrap().len();
    let body = json!({
        "goal": { "kind": "evacuate_host", "host_id": id["esx-01"] },
        "options": { "bandwidth_cap_mbps": 200 }
    });
    let (status, plan) = server.post("/api/v1/plans", &body).await;
    assert_eq!(status, 201, "{plan}");
    let plan_id = plan["id"].as_str().unwrap().to_string();
    let (status, started) = server
        .post(&format!("/api/v1/plans/{plan_id}/start"), &json!({}))
        .await;
    assert_eq!(status, 200, "{started}");
    // Wait until moves are under way.
    let mut moving = false;
    for _ in 0..500 {
        let plan = server.get(&format!("/api/v1/plans/{plan_id}")).await;
        moving = plan["moves"].as_array().unwrap().iter().any(|m| {
            ["preparing", "disk_copy", "memory_precopy"]
                .contains(&m["phase"].as_str().unwrap_or(""))
        });
        if moving {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(moving, "the plan's moves run before the kill");

    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    drop(server);
    let server = spawn(&url).await;
    // SQLite: at the start. PostgreSQL: once the plan has gone unwritten for three leases.
    let mut plan = Value::Null;
    for _ in 0..200 {
        plan = server.get(&format!("/api/v1/plans/{plan_id}")).await;
        if plan["state"] == "interrupted" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(plan["state"], "interrupted", "{plan}");
    assert!(
        plan["message"]
            .as_str()
            .unwrap()
            .contains("vmshift stopped"),
        "{plan}"
    );
    for _ in 0..200 {
        let list = server.get("/api/v1/migrations").await;
        let open =
            list.as_array().unwrap().iter().any(|m| {
                !["completed", "failed", "cancelled"].contains(&m["phase"].as_str().unwrap())
            });
        if !open {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let list = server.get("/api/v1/migrations").await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|m| { ["completed", "failed", "cancelled"].contains(&m["phase"].as_str().unwrap()) }));
    let vms = server.get("/api/v1/vms").await;
    let vms = vms.as_array().unwrap();
    assert_eq!(vms.len(), vm_count, "no VM lost or duplicated");
    let hosts: Vec<String> = server
        .get("/api/v1/hosts")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect();
    let mut names = std::collections::BTreeSet::new();
    for v in vms {
        assert!(names.insert(v["name"].as_str().unwrap().to_string()));
        assert!(hosts.contains(&v["host_id"].as_str().unwrap().to_string()));
    }
}
