//! Promises that needed a test able to fail (docs/RELIABILITY.md): a cancel or a fault in the
//! checking phase, faults stored and gone with their object, the body limit at its boundary,
//! the websocket's Origin guard with valid credentials, passwords counted in characters.

mod common;

use common::{TestServer, ADMIN_PASSWORD};
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

/// Polls a migration until `done` holds for it.
async fn wait_for(s: &TestServer, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..400 {
        let (status, m) = s.get(&format!("/api/v1/migrations/{id}")).await;
        assert_eq!(status, 200);
        if done(&m) {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("migration {id} never reached the state waited for");
}

#[tokio::test]
async fn a_cancel_or_a_fault_in_the_checking_phase_leaves_the_vm_where_it_was() {
    let s = TestServer::start_full(&["--demo", "true"], None).await;
    let id = s.ids().await;
    // Migrations leaving the queue stay in their checking phase (a test hook).
    s.services
        .failpoints
        .arm("engine.checking", server::failpoints::Action::Hold);
    let moves = [
        ("web-01", Some("esx-02"), None, "esx-02"),
        ("app-01", None, Some("vsan-prod"), "vsan-prod"),
        ("db-01", Some("esx-03"), Some("vsan-prod"), "esx-03"),
    ];
    for interrupt in ["cancel", "fault"] {
        for (vm, host, ds, hit) in moves {
            let before = s.export().await;
            let (status, m) = s
                .post("/api/v1/migrations", &request(&id, vm, host, ds))
                .await;
            assert_eq!(status, 201, "{vm}: {m}");
            let mid = m["id"].as_str().unwrap().to_string();
            wait_for(&s, &mid, |m| m["phase"] == "checking").await;
            // Still checking a while later: held there.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let (_, m) = s.get(&format!("/api/v1/migrations/{mid}")).await;
            assert_eq!(m["phase"], "checking", "{vm}");
            let fault_id = if interrupt == "cancel" {
                let (status, m) = s
                    .post(&format!("/api/v1/migrations/{mid}/cancel"), &json!({}))
                    .await;
                assert_eq!(status, 200, "{vm}: {m}");
                None
            } else {
                let kind = if host.is_some() {
                    "host_down"
                } else {
                    "datastore_full"
                };
                let (status, f) = s
                    .post(
                        "/api/v1/faults",
                        &json!({ "kind": kind, "target_id": id[hit] }),
                    )
                    .await;
                assert_eq!(status, 201, "{f}");
                Some(f["id"].as_str().unwrap().to_string())
            };
            let expected = if interrupt == "cancel" {
                "cancelled"
            } else {
                "failed"
            };
            let m = wait_for(&s, &mid, |m| m["phase"] == expected).await;
            assert!(
                m["message"].as_str().unwrap().contains(vm),
                "the message says where {vm} is: {}",
                m["message"]
            );
            let (_, events) = s.get(&format!("/api/v1/migrations/{mid}/events")).await;
            let events = common::check_history(&events);
            assert!(events.iter().any(|e| e["phase"] == "checking"));
            assert!(!events
                .iter()
                .any(|e| ["preparing", "disk_copy", "memory_precopy"]
                    .contains(&e["phase"].as_str().unwrap())));
            assert_eq!(s.export().await, before, "{vm}: nothing moved");
            if let Some(f) = fault_id {
                assert_eq!(s.delete(&format!("/api/v1/faults/{f}")).await, 204);
            }
        }
    }
    // Released: a move goes through.
    s.services.failpoints.disarm("engine.checking");
    let (status, m) = s
        .post(
            "/api/v1/migrations",
            &request(&id, "web-01", Some("esx-02"), None),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    let mid = m["id"].as_str().unwrap().to_string();
    let m = wait_for(&s, &mid, |m| m["phase"] == "completed").await;
    assert_eq!(m["target_host_id"], json!(id["esx-02"]));
}

#[tokio::test]
async fn faults_are_stored_and_go_with_their_host_or_datastore() {
    let s = TestServer::start(true).await;
    let (_, clusters) = s.get("/api/v1/clusters").await;
    let cluster = clusters[0]["id"].as_str().unwrap().to_string();
    let (status, host) = s
        .post(
            "/api/v1/hosts",
            &json!({ "name": "esx-spare", "cluster_id": cluster, "cpu_vendor": "intel",
                "cpu_feature_level": 6, "cores": 16, "cpu_mhz": 2400, "memory_mib": 65536,
                "state": "connected", "vmotion_enabled": true, "vmotion_link_gbps": 10,
                "ip_family": "v4" }),
        )
        .await;
    assert_eq!(status, 201, "{host}");
    let host_id = host["id"].as_str().unwrap().to_string();
    let (status, ds) = s
        .post(
            "/api/v1/datastores",
            &json!({ "name": "ds-spare", "kind": "local", "capacity_mib": 10000,
                "throughput_mib_s": 100, "host_ids": [host_id] }),
        )
        .await;
    assert_eq!(status, 201, "{ds}");
    let ds_id = ds["id"].as_str().unwrap().to_string();
    for (kind, target) in [("host_down", &host_id), ("datastore_full", &ds_id)] {
        let (status, f) = s
            .post(
                "/api/v1/faults",
                &json!({ "kind": kind, "target_id": target }),
            )
            .await;
        assert_eq!(status, 201, "{f}");
    }
    // Stored: a restart on the same database has them.
    let reopened = common::reopen(&s.db.url).await;
    assert_eq!(reopened.services().migrations.faults().len(), 2);
    drop(reopened);
    let mut ws = s.ws().await;
    // Subscribed once its snapshot has come (the upgrade answers before the server subscribes).
    common::next_matching(&mut ws, Duration::from_secs(10), |m| {
        (m["type"] == "snapshot").then_some(())
    })
    .await
    .expect("the live snapshot");
    // Deleting the datastore, then the host, takes their faults with them, live.
    assert_eq!(s.delete(&format!("/api/v1/datastores/{ds_id}")).await, 204);
    let faults = common::next_matching(&mut ws, Duration::from_secs(5), |m| {
        (m["type"] == "faults_changed").then(|| m["faults"].clone())
    })
    .await
    .expect("the faults change live");
    assert_eq!(faults.as_array().unwrap().len(), 1);
    assert_eq!(s.delete(&format!("/api/v1/hosts/{host_id}")).await, 204);
    for _ in 0..100 {
        if s.get("/api/v1/faults")
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(s.get("/api/v1/faults").await.1, json!([]));
    let reopened = common::reopen(&s.db.url).await;
    assert!(reopened.services().migrations.faults().is_empty());
}

/// A JSON body of exactly `size` bytes: `prefix`, spaces, `suffix`.
fn padded(prefix: &str, suffix: &str, size: usize) -> Vec<u8> {
    let mut body = prefix.as_bytes().to_vec();
    body.resize(size - suffix.len(), b' ');
    body.extend_from_slice(suffix.as_bytes());
    assert_eq!(body.len(), size);
    body
}

#[tokio::test]
async fn the_body_limit_holds_at_its_boundary_on_rest_and_server_functions() {
    let s = TestServer::start(false).await;
    let limit = server::http::BODY_LIMIT_BYTES;
    // The checks answer an empty request with a 422 (not a 413); the import routes have
    // their own, larger limit (`server/tests/scale.rs`).
    for (path, prefix, suffix, accepted) in [
        ("/api/v1/checks", "{", "}", 422),
        ("/rpc/admin/import", "{\"file\":{", "}}", 200),
    ] {
        for (size, expected) in [(limit - 1, accepted), (limit, accepted), (limit + 1, 413)] {
            let res = s
                .client
                .post(s.url(path))
                .header("content-type", "application/json")
                .body(padded(prefix, suffix, size))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert_eq!(status, expected, "{path} with {size} bytes: {body}");
            if expected == 413 {
                // The REST API's error body, or the server function's error (same fields).
                let error = if path.starts_with("/rpc/") {
                    body.clone()
                } else {
                    body["error"].clone()
                };
                assert_eq!(error["code"], "payload_too_large", "{path}: {body}");
                assert!(error["message"].as_str().unwrap().contains("larger than"));
            }
        }
    }
}

#[tokio::test]
async fn the_websocket_refuses_another_origin_even_with_valid_credentials() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let s = TestServer::start(true).await;
    let host = s.addr.to_string();
    for (origin, allowed) in [
        (format!("http://{host}"), true),
        ("http://evil.example".to_string(), false),
        (format!("https://{host}.evil.example"), false),
        (String::new(), true),
    ] {
        let mut request = format!("ws://{host}/ws").into_client_request().unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", s.admin_token).parse().unwrap(),
        );
        if !origin.is_empty() {
            request
                .headers_mut()
                .insert("origin", origin.parse().unwrap());
        }
        let status = match tokio_tungstenite::connect_async(request).await {
            Ok((_, response)) => response.status().as_u16(),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                response.status().as_u16()
            }
            Err(e) => panic!("{origin}: {e}"),
        };
        let expected = if allowed { 101 } else { 403 };
        assert_eq!(status, expected, "origin {origin:?}");
    }
}

#[tokio::test]
async fn a_password_counts_characters_at_creation_and_at_sign_in() {
    let s = TestServer::start(false).await;
    // 1,024 characters, 2,048 bytes: accepted, and usable.
    let long = "é".repeat(1024);
    let (status, body) = s
        .post(
            "/api/v1/users",
            &json!({ "username": "elodie", "password": long, "role": "viewer" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let res = reqwest::Client::new()
        .post(s.url("/api/v1/session"))
        .json(&json!({ "username": "elodie", "password": long }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the password that was accepted signs in");
    // 1,025 characters: refused at creation, naming the field.
    let (status, body) = s
        .post(
            "/api/v1/users",
            &json!({ "username": "zoe", "password": "é".repeat(1025), "role": "viewer" }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "password");
    // The admin's own still works (nothing else changed).
    let res = reqwest::Client::new()
        .post(s.url("/api/v1/session"))
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_address_limit() {
    let s =
        TestServer::start_full(&["--demo", "false", "--trusted-proxy", "127.0.0.1"], None).await;
    let http = reqwest::Client::new();
    let attempt = |user: String, client: &'static str| {
        http.post(s.url("/api/v1/session"))
            .header("x-forwarded-for", format!("198.51.100.7, {client}"))
            .json(&json!({ "username": user, "password": "wrong-password" }))
            .send()
    };
    // 20 wrong passwords from one client (on 20 accounts, under their own limit of 5)...
    for n in 0..20 {
        let status = attempt(format!("user{n}"), "203.0.113.1")
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401, "attempt {n}");
    }
    // ...lock that client out, and no one else.
    let res = attempt("user99".into(), "203.0.113.1").await.unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let res = attempt("user99".into(), "203.0.113.2").await.unwrap();
    assert_eq!(res.status(), 401, "another client behind the proxy");
    let ok = http
        .post(s.url("/api/v1/session"))
        .header("x-forwarded-for", "203.0.113.3")
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);

    // Without a trusted proxy the header is ignored: every attempt is the TCP peer's.
    let plain = TestServer::start(false).await;
    for n in 0..20 {
        let res = http
            .post(plain.url("/api/v1/session"))
            .header("x-forwarded-for", format!("203.0.113.{n}"))
            .json(&json!({ "username": format!("user{n}"), "password": "wrong-password" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let res = http
        .post(plain.url("/api/v1/session"))
        .header("x-forwarded-for", "203.0.113.200")
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        429,
        "a forged header does not escape the limit"
    );
}
