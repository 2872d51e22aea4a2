//! Two replicas of the real binary on two ports sharing one PostgreSQL database: what one
//! does reaches the other's live clients; a cancel sent to the other is carried out by the
//! owner; when the owner dies, the other ends its migration safely once the lease runs out.
//! (PostgreSQL only: on SQLite there is one replica.)

mod common;

use common::process::{spawn, Process};
use common::{next_matching, TestDb};
use serde_json::{json, Value};
use std::time::Duration;

const FLAGS: [&str; 6] = ["--speed", "10", "--tick-ms", "50", "--lease-ms", "1500"];

async fn replica(db: &TestDb, name: &str) -> Process {
    let mut flags = FLAGS.to_vec();
    flags.extend(["--replica-id", name]);
    spawn(&db.url, &flags).await
}

/// A new API token of the admin (tokens are made from a session): `(id, secret)`.
async fn new_token(p: &Process) -> (String, String) {
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{}/api/v1/session", p.base))
        .json(&json!({ "username": "admin", "password": common::ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body: Value = http
        .post(format!("{}/api/v1/tokens", p.base))
        .header(reqwest::header::COOKIE, cookie)
        .json(&json!({ "name": "revoked-soon" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        body["id"].as_str().unwrap().to_string(),
        body["token"].as_str().unwrap().to_string(),
    )
}

/// Whether the server closes the websocket before `wait` is over.
async fn closes_within(ws: &mut common::Ws, wait: Duration) -> bool {
    use futures::StreamExt;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return false,
            Ok(None) | Ok(Some(Err(_))) => return true,
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

fn is_final(phase: &str) -> bool {
    ["completed", "failed", "cancelled"].contains(&phase)
}

#[tokio::test]
async fn two_replicas_share_the_live_cluster_and_a_dead_ones_migration_ends_safely() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        eprintln!("skipped: several replicas need PostgreSQL (VMSHIFT_TEST_POSTGRES)");
        return;
    }
    let mut a = replica(&db, "replica-a").await;
    let b = replica(&db, "replica-b").await;
    let id = a.ids().await;
    assert_eq!(id, b.ids().await, "one inventory (seeded once)");
    let mut ws_b = b.ws().await;
    let mut ws_a = a.ws().await;

    // A slow vMotion through A streams to B's client.
    let (status, m) = a
        .post(
            "/api/v1/migrations",
            &json!({ "vm_id": id["web-01"], "kind": "vmotion", "target_host_id": id["esx-02"],
                     "options": { "bandwidth_cap_mbps": 20 } }),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    let mid = m["id"].as_str().unwrap().to_string();
    // Each event once, in order (B re-reads what A stored: nothing twice, nothing skipped).
    let mut last_seq = 0;
    let seen = next_matching(&mut ws_b, Duration::from_secs(10), |v| {
        if v["type"] != "migration_event" || v["migration_id"] != mid.as_str() {
            return None;
        }
        let seq = v["seq"].as_u64().unwrap();
        assert_eq!(seq, last_seq + 1, "B forwards every event once, in order");
        last_seq = seq;
        (v["phase"] == "memory_precopy" && seq >= 6).then(|| v.clone())
    })
    .await
    .expect("B's client sees A's migration progress");
    assert!(seen["percent"].as_f64().unwrap() >= 0.0, "{seen}");
    let on_b = b.get(&format!("/api/v1/migrations/{mid}")).await;
    assert_eq!(on_b["vm_name"], "web-01");
    assert!(!is_final(on_b["phase"].as_str().unwrap()), "{on_b}");
    // B knows the VM is busy: no second migration of it, no edit under the engine.
    let (status, body) = b
        .post(
            "/api/v1/migrations",
            &json!({ "vm_id": id["web-01"], "kind": "vmotion", "target_host_id": id["esx-03"] }),
        )
        .await;
    assert!(status == 409 || status == 422, "{status} {body}");
    let (status, _) = b
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/vms/{}", id["web-01"]),
            &json!({}),
        )
        .await;
    assert_eq!(status, 409, "B refuses to delete a VM A is migrating");

    // A change through B reaches A's clients and A's copy, under the same revision.
    let (status, sw) = b
        .post(
            "/api/v1/switches",
            &json!({ "name": "dvs-replicated", "host_ids": [] }),
        )
        .await;
    assert_eq!(status, 201, "{sw}");
    let change = next_matching(&mut ws_a, Duration::from_secs(10), |v| {
        (v["type"] == "inventory_changed"
            && v["change"]["object"]["object"]["name"] == "dvs-replicated")
            .then(|| v.clone())
    })
    .await
    .expect("A's client sees B's change");
    let names: Vec<Value> = a
        .get("/api/v1/switches")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert!(names.contains(&json!("dvs-replicated")), "{names:?}");
    assert!(change["revision"].as_u64().unwrap() > 1);

    // A cancel sent to B for A's migration is carried out by A.
    let (status, m2) = a
        .post(
            "/api/v1/migrations",
            &json!({ "vm_id": id["app-01"], "kind": "storage_vmotion",
                     "target_datastore_id": id["vsan-prod"],
                     "options": { "bandwidth_cap_mbps": 20 } }),
        )
        .await;
    assert_eq!(status, 201, "{m2}");
    let m2id = m2["id"].as_str().unwrap().to_string();
    // B has heard of it before it is asked to cancel it.
    next_matching(&mut ws_b, Duration::from_secs(10), |v| {
        (v["type"] == "migration_updated" && v["id"] == m2id.as_str()).then_some(())
    })
    .await
    .expect("B hears of the second migration");
    let (status, cancelled) = b
        .post(&format!("/api/v1/migrations/{m2id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["phase"], "cancelled", "{cancelled}");
    let on_a = a.get(&format!("/api/v1/migrations/{m2id}")).await;
    assert_eq!(on_a["phase"], "cancelled", "the owner ended it");

    // A token revoked through A closes the websocket it opened on B at once.
    let (token_id, token) = new_token(&a).await;
    let mut ws_token = b.ws_with(&token).await;
    let status = a
        .client
        .delete(format!("{}/api/v1/tokens/{token_id}", a.base))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 204);
    assert!(
        closes_within(&mut ws_token, Duration::from_secs(5)).await,
        "B closes the live link of a token revoked on A"
    );

    // A dies mid-migration: once its lease runs out, B ends the migration, VM on its source.
    let source = a.get(&format!("/api/v1/vms/{}", id["web-01"])).await["host_id"].clone();
    assert_eq!(source, json!(id["esx-01"]));
    a.child.kill().unwrap(); // SIGKILL
    a.child.wait().unwrap();
    let ended = next_matching(&mut ws_b, Duration::from_secs(15), |v| {
        (v["type"] == "migration_updated" && v["id"] == mid.as_str() && v["phase"] == "failed")
            .then(|| v.clone())
    })
    .await
    .expect("B ends the dead replica's migration");
    let message = ended["message"].as_str().unwrap();
    assert!(message.contains("replica-a"), "{message}");
    assert!(message.contains("stopped renewing its lease"), "{message}");
    assert!(
        message.contains("web-01 stays where the last committed state records it, on esx-01"),
        "{message}"
    );

    // Exactly one host for every VM; web-01 on its source; the history gap-free and final.
    let hosts: Vec<Value> = b
        .get("/api/v1/hosts")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].clone())
        .collect();
    let vms = b.get("/api/v1/vms").await;
    for v in vms.as_array().unwrap() {
        assert!(hosts.contains(&v["host_id"]), "{v}");
    }
    let web01 = b.get(&format!("/api/v1/vms/{}", id["web-01"])).await;
    assert_eq!(web01["host_id"], source);
    let events = b.get(&format!("/api/v1/migrations/{mid}/events")).await;
    let events = common::check_history(&events);
    assert_eq!(events.last().unwrap()["phase"], "failed");
    // And the VM is free to move again, through B.
    let (status, m3) = b
        .post(
            "/api/v1/migrations",
            &json!({ "vm_id": id["web-01"], "kind": "vmotion", "target_host_id": id["esx-02"] }),
        )
        .await;
    assert_eq!(status, 201, "{m3}");
}
