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
async fn replicas_two_replicas_share_the_live_cluster_and_a_dead_ones_migration_ends_safely() {
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

/// Waits until `done` holds for what `p` says of a migration, for up to `wait`.
async fn wait_migration(
    p: &Process,
    id: &str,
    wait: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let m = p.get(&format!("/api/v1/migrations/{id}")).await;
        if done(&m) || tokio::time::Instant::now() >= deadline {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A live owner, paused (SIGSTOP) past its lease: another replica ends its migration; when
/// it resumes (SIGCONT) and reaches the switchover, its writes of that migration are refused,
/// it lets go, and the VM is in exactly one place — on its source, as the other recorded.
#[tokio::test]
async fn replicas_a_paused_owner_is_fenced_when_it_resumes() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        eprintln!("skipped: several replicas need PostgreSQL (VMSHIFT_TEST_POSTGRES)");
        return;
    }
    let a = replica(&db, "replica-a").await;
    let b = replica(&db, "replica-b").await;
    let id = a.ids().await;
    // About 20 simulated seconds at 10×: ~2 s of wall time.
    let (status, m) = a
        .post(
            "/api/v1/migrations",
            &json!({ "vm_id": id["web-01"], "kind": "vmotion", "target_host_id": id["esx-02"],
                     "options": { "bandwidth_cap_mbps": 2000 } }),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    let mid = m["id"].as_str().unwrap().to_string();
    wait_migration(&b, &mid, Duration::from_secs(10), |m| {
        m["phase"] == "memory_precopy"
    })
    .await;
    let source = b.get(&format!("/api/v1/vms/{}", id["web-01"])).await["host_id"].clone();
    unsafe {
        libc::kill(a.child.id() as i32, libc::SIGSTOP);
    }
    // B ends it once A's lease has run out.
    let ended = wait_migration(&b, &mid, Duration::from_secs(15), |m| {
        is_final(m["phase"].as_str().unwrap_or(""))
    })
    .await;
    assert_eq!(ended["phase"], "failed", "{ended}");
    assert!(
        ended["message"].as_str().unwrap().contains("replica-a"),
        "{ended}"
    );
    // Long enough that A's transfer is over when it resumes: its first tick reaches the
    // switchover, whose record is refused.
    tokio::time::sleep(Duration::from_secs(3)).await;
    unsafe {
        libc::kill(a.child.id() as i32, libc::SIGCONT);
    }
    let on_a = wait_migration(&a, &mid, Duration::from_secs(10), |m| {
        m["phase"] == "failed"
    })
    .await;
    assert_eq!(
        on_a["phase"], "failed",
        "A lets go and shows what B recorded: {on_a}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    for p in [&a, &b] {
        let vm = p.get(&format!("/api/v1/vms/{}", id["web-01"])).await;
        assert_eq!(vm["host_id"], source, "web-01 is on its source, everywhere");
        let m = p.get(&format!("/api/v1/migrations/{mid}")).await;
        assert_eq!(m["phase"], "failed");
        assert_eq!(
            m["message"], ended["message"],
            "nothing A wrote replaced B's end"
        );
    }
    let events = b.get(&format!("/api/v1/migrations/{mid}/events")).await;
    let events = common::check_history(&events);
    assert_eq!(events.last().unwrap()["phase"], "failed");
    assert!(!events.iter().any(|e| e["phase"] == "completed"));
    // A is free of it: the VM moves again through A.
    let (status, again) = a
        .post(
            "/api/v1/migrations",
            &json!({ "vm_id": id["web-01"], "kind": "vmotion", "target_host_id": id["esx-02"] }),
        )
        .await;
    assert_eq!(status, 201, "{again}");
}

/// Failed sign-ins count the same on every replica: five wrong passwords spread over two
/// replicas lock the account on both.
#[tokio::test]
async fn replicas_share_the_sign_in_limits() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        eprintln!("skipped: several replicas need PostgreSQL (VMSHIFT_TEST_POSTGRES)");
        return;
    }
    let a = replica(&db, "replica-a").await;
    let b = replica(&db, "replica-b").await;
    let http = reqwest::Client::new();
    let attempt = |p: &Process, user: &str, password: &str| {
        http.post(format!("{}/api/v1/session", p.base))
            .json(&json!({ "username": user, "password": password }))
            .send()
    };
    for (p, n) in [(&a, 3), (&b, 2)] {
        for _ in 0..n {
            let status = attempt(p, "admin", "wrong-password")
                .await
                .unwrap()
                .status();
            assert_eq!(status, 401);
        }
    }
    for p in [&a, &b] {
        let res = attempt(p, "admin", common::ADMIN_PASSWORD).await.unwrap();
        assert_eq!(
            res.status(),
            429,
            "the sixth attempt waits, on either replica"
        );
    }
    // The address limit too: 20 failures in all, over both replicas and other accounts.
    for n in 0..15 {
        let p = if n % 2 == 0 { &a } else { &b };
        let status = attempt(p, &format!("nobody{n}"), "wrong-password")
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401, "attempt {n}");
    }
    let res = attempt(&b, "nobody-else", "wrong-password").await.unwrap();
    assert_eq!(
        res.status(),
        429,
        "the 21st failure from this address waits"
    );
}

/// vSphere's slot limits hold across replicas: sixteen vMotions off one host, eight started
/// through each replica, never run more than eight at once, and all complete; the ones that
/// wait say the other replica holds the slots.
#[tokio::test]
async fn replicas_share_the_slot_limits_of_a_host() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        eprintln!("skipped: several replicas need PostgreSQL (VMSHIFT_TEST_POSTGRES)");
        return;
    }
    common::seed(&db.url, domain::generate::scale_inventory(1, 3, 16)).await;
    let flags = [
        "--speed",
        "100",
        "--tick-ms",
        "50",
        "--lease-ms",
        "1500",
        "--demo",
        "false",
    ];
    let a = spawn(
        &db.url,
        &[&flags[..], &["--replica-id", "replica-a"]].concat(),
    )
    .await;
    let b = spawn(
        &db.url,
        &[&flags[..], &["--replica-id", "replica-b"]].concat(),
    )
    .await;
    let id = a.ids().await;
    let mut started = Vec::new();
    for n in 0..16 {
        let p = if n < 8 { &a } else { &b };
        let body = json!({ "vm_id": id[&format!("vm-000-000-{n:03}")], "kind": "vmotion",
                           "target_host_id": id["esx-000-001"],
                           "options": { "bandwidth_cap_mbps": 1000 } });
        let (status, m) = p.post("/api/v1/migrations", &body).await;
        assert_eq!(status, 201, "{m}");
        started.push(m["id"].as_str().unwrap().to_string());
    }
    // B's wait while A holds the host's slots, and says so.
    let mut named = false;
    for _ in 0..200 {
        let list = b.get("/api/v1/migrations").await;
        named = list.as_array().unwrap().iter().any(|m| {
            m["queue_reason"]
                .as_str()
                .is_some_and(|r| r.contains("by migrations on replica-a"))
        });
        if named {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(named, "a queue reason names the other replica's migrations");
    let mut spans = Vec::new();
    for mid in &started {
        let m = wait_migration(&a, mid, Duration::from_secs(60), |m| {
            is_final(m["phase"].as_str().unwrap_or(""))
        })
        .await;
        assert_eq!(m["phase"], "completed", "{m}");
        let start = m["started_at_ms"].as_i64().unwrap();
        let end = m["finished_at_ms"].as_i64().unwrap();
        spans.push((start, end));
    }
    // The most that ever ran at once (a migration holds its slots from start to end).
    let mut most = 0;
    for (t, _) in &spans {
        let at_once = spans.iter().filter(|(s, e)| s <= t && t < e).count();
        most = most.max(at_once);
    }
    assert!(most <= 8, "{most} ran at once: {spans:?}");
    assert!(most >= 2, "they did run concurrently: {spans:?}");
}
