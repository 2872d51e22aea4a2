//! The live websocket: a snapshot on connect, then every change; slow clients are resynced.

mod common;

use common::TestServer;
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

async fn next_json(
    ws: &mut (impl futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>>
              + Unpin),
) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 s")
            .expect("the socket stays open")
            .expect("a valid frame");
        if let Message::Text(text) = msg {
            common::read_as_the_browser_does(&text);
            return serde_json::from_str(&text).expect("JSON");
        }
    }
}

/// Starts a vMotion of the demo's `vm` to `host` (capped at `cap_mbps`) through the API; its id.
async fn start_vmotion(s: &TestServer, vm: &str, host: &str, cap_mbps: Option<u32>) -> String {
    let (_, vms) = s.get("/api/v1/vms").await;
    let (_, hosts) = s.get("/api/v1/hosts").await;
    let find = |list: &Value, name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .unwrap()["id"]
            .clone()
    };
    let mut body = json!({ "vm_id": find(&vms, vm), "kind": "vmotion",
                           "target_host_id": find(&hosts, host) });
    if let Some(cap) = cap_mbps {
        body["options"] = json!({ "bandwidth_cap_mbps": cap });
    }
    let (status, m) = s.post("/api/v1/migrations", &body).await;
    assert_eq!(status, 201, "{m}");
    m["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_change_made_over_the_api_reaches_every_connected_client() {
    let s = TestServer::start(true).await;
    let mut a = s.ws().await;
    let mut b = s.ws().await;
    for ws in [&mut a, &mut b] {
        let first = next_json(ws).await;
        assert_eq!(first["type"], "snapshot");
        assert!(first["inventory"]["hosts"].as_array().unwrap().len() >= 6);
    }
    let (_, clusters) = s.get("/api/v1/clusters").await;
    let cluster = clusters[0]["id"].as_str().unwrap().to_string();
    let (st, host) = s
        .post(
            "/api/v1/hosts",
            &json!({"name": "esx-ws", "cluster_id": cluster, "cpu_vendor": "intel",
                "cpu_feature_level": 6, "cores": 8, "cpu_mhz": 2000, "memory_mib": 65536,
                "state": "connected", "vmotion_enabled": true, "vmotion_link_gbps": 10,
                "ip_family": "v4"}),
        )
        .await;
    assert_eq!(st, 201);
    for ws in [&mut a, &mut b] {
        let msg = next_json(ws).await;
        assert_eq!(msg["type"], "inventory_changed");
        assert_eq!(msg["change"]["op"], "upsert");
        assert_eq!(msg["change"]["object"]["kind"], "host");
        assert_eq!(msg["change"]["object"]["object"]["name"], "esx-ws");
    }
    let id = host["id"].as_str().unwrap();
    assert_eq!(s.delete(&format!("/api/v1/hosts/{id}")).await, 204);
    let msg = next_json(&mut a).await;
    assert_eq!(
        msg["change"],
        json!({"op": "delete", "kind": "host", "id": id})
    );
    // A refused change sends nothing: the next message is the next real change.
    assert_eq!(s.delete(&format!("/api/v1/hosts/{id}")).await, 404);
    let (st, _) = s.post("/api/v1/clusters", &json!({"name": "after"})).await;
    assert_eq!(st, 201);
    let msg = next_json(&mut a).await;
    assert_eq!(msg["change"]["object"]["object"]["name"], "after");
}

#[tokio::test]
async fn a_client_that_falls_behind_gets_a_fresh_snapshot_and_others_are_not_blocked() {
    // A small live buffer, and changes big enough (a switch with 400 member hosts, ~16 KB a
    // message) that a client which stops reading fills its socket buffers and then lags.
    let live_buffer = 64;
    let big = domain::generate::scale_inventory(1, 400, 0);
    let sw = big.switches.values().next().unwrap().clone();
    let hosts: Vec<String> = sw.host_ids.iter().map(|h| h.to_string()).collect();
    let s = TestServer::start_seeded(false, live_buffer, Some(big)).await;
    let switch_url = format!("/api/v1/switches/{}", sw.id);

    let mut slow = s.ws().await;
    let mut fast = s.ws().await;
    assert_eq!(next_json(&mut slow).await["type"], "snapshot");
    assert_eq!(next_json(&mut fast).await["type"], "snapshot");

    let total = 800;
    let fast_reader = tokio::spawn(async move {
        let mut seen = 0;
        while seen < total {
            let msg = next_json(&mut fast).await;
            assert_eq!(
                msg["type"], "inventory_changed",
                "the fast client never lags"
            );
            seen += 1;
        }
        seen
    });
    for i in 0..total {
        let (st, _) = s
            .put(
                &switch_url,
                &json!({"name": format!("dvs-{i:05}"), "host_ids": hosts}),
            )
            .await;
        assert_eq!(st, 200);
    }
    assert_eq!(
        fast_reader.await.unwrap(),
        total,
        "the fast client got every change in time"
    );

    // The slow client now reads everything that waited for it: somewhere it was resynced
    // with a snapshot, and its final state is the latest one.
    let mut snapshots = 0;
    let mut last_name = String::new();
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(2), slow.next()).await {
        if let Message::Text(text) = msg {
            let msg: Value = serde_json::from_str(&text).unwrap();
            if msg["type"] == "snapshot" {
                snapshots += 1;
                last_name = msg["inventory"]["switches"][0]["name"]
                    .as_str()
                    .unwrap()
                    .into();
            } else {
                last_name = msg["change"]["object"]["object"]["name"]
                    .as_str()
                    .unwrap()
                    .into();
            }
        }
    }
    assert!(snapshots >= 1, "the slow client was resynced");
    assert_eq!(last_name, format!("dvs-{:05}", total - 1));
}

#[tokio::test]
async fn migration_progress_streams_live_and_a_reconnecting_client_gets_it_in_its_snapshot() {
    let s = TestServer::start(true).await;
    let mut ws = s.ws().await;
    let first = next_json(&mut ws).await;
    assert_eq!(first["type"], "snapshot");
    assert_eq!(first["migrations"], json!([]));
    assert_eq!(first["faults"], json!([]));
    let id = start_vmotion(&s, "web-01", "esx-02", None).await;
    // Every event, in order, percent never going back, until completed; the VM's move
    // arrives as an inventory change.
    let (mut seq, mut percent, mut moved) = (0, 0.0, false);
    loop {
        let msg = next_json(&mut ws).await;
        match msg["type"].as_str().unwrap() {
            "migration_event" => {
                assert_eq!(msg["migration_id"], id.as_str());
                // A transient event (sent live, not stored) repeats the last stored seq.
                let transient = msg["transient"].as_bool().unwrap_or(false);
                let expected = if transient { seq } else { seq + 1 };
                assert_eq!(msg["seq"].as_u64().unwrap(), expected, "no gap: {msg}");
                seq = expected;
                assert!(msg["percent"].as_f64().unwrap() >= percent);
                percent = msg["percent"].as_f64().unwrap();
                if msg["phase"] == "completed" {
                    assert_eq!(percent, 100.0);
                    break;
                }
            }
            "migration_updated" => assert_eq!(msg["id"], id.as_str()),
            "inventory_changed" => {
                assert!(msg["change"].to_string().contains("\"web-01\""), "{msg}");
                moved = true;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        moved,
        "the VM's move reached the client before its completion"
    );
    assert!(seq >= 5);
    // A new client gets the migration, completed, in its snapshot.
    let mut again = s.ws().await;
    let snapshot = next_json(&mut again).await;
    let migrations = snapshot["migrations"].as_array().unwrap();
    assert_eq!(migrations.len(), 1);
    assert_eq!(migrations[0]["phase"], "completed");
    assert_eq!(migrations[0]["last_seq"].as_u64().unwrap(), seq);

    // A client that connects mid-migration gets it in motion in its snapshot, then the
    // events that follow it, with no gap and no repeat.
    let slow = start_vmotion(&s, "app-01", "esx-02", Some(10)).await;
    loop {
        let msg = next_json(&mut ws).await;
        if msg["type"] == "migration_event" && msg["phase"] == "memory_precopy" {
            break;
        }
    }
    let mut late = s.ws().await;
    let snapshot = next_json(&mut late).await;
    assert_eq!(snapshot["type"], "snapshot");
    let summary = snapshot["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == slow.as_str())
        .expect("the running migration is in the snapshot")
        .clone();
    assert_eq!(summary["phase"], "memory_precopy", "{summary}");
    let last_seq = summary["last_seq"].as_u64().unwrap();
    let mut next = last_seq + 1;
    while next < last_seq + 4 {
        let msg = next_json(&mut late).await;
        if msg["type"] == "migration_event" {
            assert_eq!(msg["migration_id"], slow.as_str());
            let transient = msg["transient"].as_bool().unwrap_or(false);
            let expected = if transient { next - 1 } else { next };
            assert_eq!(msg["seq"].as_u64().unwrap(), expected, "{msg}");
            assert!(msg["percent"].as_f64().unwrap() >= summary["percent"].as_f64().unwrap());
            next = expected + 1;
        }
    }
    let (status, _) = s
        .post(&format!("/api/v1/migrations/{slow}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 200);
}

/// At a speed where most ticks are under a simulated second, most progress goes live only: the
/// stored history is exactly the live stream's stored events — what a migration's page draws
/// its charts and log from, live or after a reload (docs/DESIGN.md#stored-history).
#[tokio::test]
async fn the_stored_history_is_the_live_streams_stored_events() {
    let s =
        TestServer::start_full(&["--demo", "true", "--speed", "2", "--tick-ms", "50"], None).await;
    let mut ws = s.ws().await;
    assert_eq!(next_json(&mut ws).await["type"], "snapshot");
    let id = start_vmotion(&s, "dns-01", "esx-02", Some(2000)).await;
    let (mut stored, mut transient) = (Vec::new(), 0);
    loop {
        let mut msg = next_json(&mut ws).await;
        if msg["type"] != "migration_event" || msg["migration_id"] != id.as_str() {
            continue;
        }
        msg.as_object_mut().unwrap().remove("type");
        let done = msg["phase"] == "completed";
        if msg["transient"] == true {
            transient += 1;
        } else {
            stored.push(msg);
        }
        if done {
            break;
        }
    }
    assert!(
        transient > stored.len(),
        "most progress is live only: {transient} vs {}",
        stored.len()
    );
    let (status, history) = s.get(&format!("/api/v1/migrations/{id}/events")).await;
    assert_eq!(status, 200);
    assert_eq!(history.as_array().unwrap(), &stored);
    let seqs: Vec<u64> = stored.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "gap-free"
    );
}
