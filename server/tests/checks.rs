//! The prerequisite checks over the API, on the demo inventory.

mod common;

use common::TestServer;
use serde_json::{json, Value};

fn rules(report: &Value, severity: &str) -> Vec<String> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["severity"] == severity)
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn allowed_and_blocked_moves_of_every_kind() {
    let s = TestServer::start(true).await;
    let id = s.ids().await;
    let cases = [
        // (vm, kind, host, datastore, allowed, an error rule expected when blocked)
        ("web-01", "vmotion", Some("esx-02"), None, true, None),
        (
            "build-local",
            "vmotion",
            Some("esx-02"),
            None,
            false,
            Some("storage.local"),
        ),
        (
            "legacy-erp",
            "vmotion",
            Some("esx-01"),
            None,
            false,
            Some("network.portgroup"),
        ),
        (
            "web-01",
            "vmotion",
            Some("esx-05"),
            None,
            false,
            Some("vmotion.vmknic"),
        ),
        (
            "web-01",
            "storage_vmotion",
            None,
            Some("vsan-prod"),
            true,
            None,
        ),
        (
            "web-01",
            "storage_vmotion",
            None,
            Some("san-tight"),
            false,
            Some("datastore.space"),
        ),
        (
            "web-01",
            "storage_vmotion",
            None,
            Some("local-esx-02"),
            false,
            Some("datastore.reachable"),
        ),
        (
            "build-local",
            "combined",
            Some("esx-02"),
            Some("san-gold"),
            true,
            None,
        ),
        (
            "ft-billing",
            "combined",
            Some("esx-01"),
            Some("vsan-prod"),
            false,
            Some("ft.enabled"),
        ),
    ];
    for (vm, kind, host, ds, allowed, rule) in cases {
        let mut body = json!({"vm_id": id[vm], "kind": kind});
        if let Some(h) = host {
            body["target_host_id"] = json!(id[h]);
        }
        if let Some(d) = ds {
            body["target_datastore_id"] = json!(id[d]);
        }
        let (st, report) = s.post("/api/v1/checks", &body).await;
        assert_eq!(st, 200, "{vm} {kind}: {report}");
        assert_eq!(report["allowed"], allowed, "{vm} {kind}: {report}");
        if let Some(rule) = rule {
            assert!(
                rules(&report, "error").contains(&rule.to_string()),
                "{vm} {kind}: {report}"
            );
            let first = &report["results"][0];
            assert_eq!(first["severity"], "error");
            assert!(!first["remedy"].as_str().unwrap().is_empty());
        } else {
            assert!(rules(&report, "error").is_empty(), "{vm} {kind}: {report}");
        }
    }
}

#[tokio::test]
async fn malformed_check_requests_are_refused_naming_the_field() {
    let s = TestServer::start(true).await;
    let id = s.ids().await;
    let cases = [
        (
            json!({"vm_id": id["web-01"], "kind": "vmotion"}),
            422,
            "target_host_id",
        ),
        (
            json!({"vm_id": id["web-01"], "kind": "storage_vmotion"}),
            422,
            "target_datastore_id",
        ),
        (
            json!({"vm_id": id["web-01"], "kind": "combined", "target_host_id": id["esx-02"]}),
            422,
            "target_datastore_id",
        ),
        (
            json!({"vm_id": id["web-01"], "kind": "teleport"}),
            422,
            "kind",
        ),
        (
            json!({"vm_id": "6f1c0d35-7a4c-4a77-9d0e-9b61f6a5e0a1", "kind": "vmotion", "target_host_id": id["esx-02"]}),
            422,
            "vm_id",
        ),
        (json!({"kind": "vmotion"}), 422, "vm_id"),
        (
            json!({"vm_id": id["web-01"], "kind": "vmotion", "target_host_id": 5}),
            422,
            "target_host_id",
        ),
    ];
    for (body, status, field) in cases {
        let (st, b) = s.post("/api/v1/checks", &body).await;
        assert_eq!(st, status, "{body}: {b}");
        assert_eq!(b["error"]["field"], field, "{body}: {b}");
    }
    let res = s
        .client
        .post(s.url("/api/v1/checks"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
}

#[tokio::test]
async fn targets_rank_valid_hosts_first_and_explain_the_others() {
    let s = TestServer::start(true).await;
    let id = s.ids().await;
    let (st, t) = s
        .get(&format!(
            "/api/v1/vms/{}/targets?kind=vmotion",
            id["web-01"]
        ))
        .await;
    assert_eq!(st, 200, "{t}");
    let hosts = t["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 8);
    // Allowed ones first, by free memory.
    let allowed: Vec<&Value> = hosts.iter().take_while(|h| h["allowed"] == true).collect();
    assert!(!allowed.is_empty());
    assert!(hosts[allowed.len()..].iter().all(|h| h["allowed"] == false));
    let free: Vec<u64> = allowed
        .iter()
        .map(|h| h["free_mib"].as_u64().unwrap())
        .collect();
    assert!(free.windows(2).all(|w| w[0] >= w[1]), "{free:?}");
    let esx05 = hosts.iter().find(|h| h["name"] == "esx-05").unwrap();
    assert_eq!(esx05["allowed"], false);
    assert!(
        esx05["first_error"]
            .as_str()
            .unwrap()
            .contains("vMotion interface"),
        "{esx05}"
    );

    let (st, t) = s
        .get(&format!(
            "/api/v1/vms/{}/targets?kind=storage_vmotion",
            id["web-01"]
        ))
        .await;
    assert_eq!(st, 200);
    assert!(t["hosts"].as_array().unwrap().is_empty());
    let tight = t["datastores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "san-tight")
        .unwrap();
    assert_eq!(tight["allowed"], false);

    let (st, b) = s
        .get(&format!("/api/v1/vms/{}/targets", id["web-01"]))
        .await;
    assert_eq!((st, b["error"]["field"].clone()), (422, json!("kind")));
    let (st, b) = s
        .get(&format!("/api/v1/vms/{}/targets?kind=warp", id["web-01"]))
        .await;
    assert_eq!((st, b["error"]["field"].clone()), (422, json!("kind")));
    let (st, _) = s
        .get("/api/v1/vms/6f1c0d35-7a4c-4a77-9d0e-9b61f6a5e0a1/targets?kind=vmotion")
        .await;
    assert_eq!(st, 404);
    let (st, _) = s.get("/api/v1/vms/nope/targets?kind=vmotion").await;
    assert_eq!(st, 400);
}

#[tokio::test]
async fn the_demo_inventory_exercises_every_rule() {
    // Every error and warning rule fires for some demo move (vm.busy needs a running
    // migration: the engine issue covers it).
    let s = TestServer::start(true).await;
    let (_, vms) = s.get("/api/v1/vms").await;
    let (_, hosts) = s.get("/api/v1/hosts").await;
    let (_, datastores) = s.get("/api/v1/datastores").await;
    let mut seen: std::collections::BTreeSet<(String, String)> = Default::default();
    for vm in vms.as_array().unwrap() {
        for h in hosts.as_array().unwrap() {
            let body = json!({"vm_id": vm["id"], "kind": "vmotion", "target_host_id": h["id"]});
            let (_, r) = s.post("/api/v1/checks", &body).await;
            for sev in ["error", "warning"] {
                for rule in rules(&r, sev) {
                    seen.insert((rule, sev.to_string()));
                }
            }
        }
        for d in datastores.as_array().unwrap() {
            let body = json!({"vm_id": vm["id"], "kind": "storage_vmotion", "target_datastore_id": d["id"]});
            let (_, r) = s.post("/api/v1/checks", &body).await;
            for sev in ["error", "warning"] {
                for rule in rules(&r, sev) {
                    seen.insert((rule, sev.to_string()));
                }
            }
        }
    }
    let expected = [
        ("host.target_same", "error"),
        ("host.state", "error"),
        ("vmotion.vmknic", "error"),
        ("vmotion.link_speed", "warning"),
        ("vmotion.ip_family", "error"),
        ("cpu.vendor", "error"),
        ("cpu.features", "error"),
        ("storage.shared", "error"),
        ("storage.local", "error"),
        ("network.portgroup", "error"),
        ("network.portgroup", "warning"),
        ("device.local_backing", "error"),
        ("device.local_backing", "warning"),
        ("resources.memory", "error"),
        ("resources.cpu", "error"),
        ("resources.cpu", "warning"),
        ("datastore.target_same", "error"),
        ("datastore.space", "error"),
        ("datastore.reachable", "error"),
        ("ft.enabled", "error"),
        ("affinity.cpu", "error"),
    ];
    for (rule, sev) in expected {
        assert!(
            seen.contains(&(rule.to_string(), sev.to_string())),
            "{rule} ({sev}) never fires on the demo"
        );
    }
}

#[tokio::test]
async fn predictions_for_the_three_kinds() {
    let s = TestServer::start(true).await;
    let id = s.ids().await;
    let (st, p) = s
        .post(
            "/api/v1/predictions",
            &json!({"vm_id": id["web-01"], "kind": "vmotion", "target_host_id": id["esx-02"]}),
        )
        .await;
    assert_eq!(st, 200, "{p}");
    // The fields the API promises (and more: disk bytes, the highest SDPS throttle, where the
    // time goes, and why it would fail when it would); each round is {round, bytes,
    // duration_s}.
    let keys: std::collections::BTreeSet<&str> =
        p.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "converges",
            "duration_s",
            "downtime_ms",
            "bytes_total",
            "rounds",
            "disk_bytes",
            "max_throttle",
            "breakdown"
        ]
        .into(),
        "{p}"
    );
    assert_eq!(p["converges"], true);
    // The breakdown accounts for every second: preparation, pre-copy, then the stun time
    // (the last round's).
    let b = &p["breakdown"];
    let part = |k: &str| b[k].as_f64().unwrap();
    let sum = part("queue_s")
        + part("prepare_s")
        + part("disk_copy_s")
        + part("memory_precopy_s")
        + part("switchover_s");
    assert!(
        (sum - p["duration_s"].as_f64().unwrap()).abs() < 1e-6,
        "{p}"
    );
    assert_eq!(part("disk_copy_s"), 0.0, "{p}");
    assert!(
        (part("switchover_s") * 1000.0 - p["downtime_ms"].as_f64().unwrap()).abs() < 1e-6,
        "{p}"
    );
    let rounds = p["rounds"].as_array().unwrap();
    assert!(rounds.len() >= 2, "{p}");
    let mut total = 0.0;
    for (i, r) in rounds.iter().enumerate() {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 3, "{r}");
        assert_eq!(r["round"].as_u64(), Some(i as u64), "{r}");
        assert!(r["bytes"].as_f64().unwrap() > 0.0 && r["duration_s"].as_f64().unwrap() > 0.0);
        total += r["bytes"].as_f64().unwrap();
    }
    // The rounds add up to what is sent; the later ones shrink (the pre-copy converges).
    assert!(
        (total - p["bytes_total"].as_f64().unwrap()).abs() < 1.0,
        "{p}"
    );
    assert!(rounds[1]["bytes"].as_f64() < rounds[0]["bytes"].as_f64());
    assert!(p["downtime_ms"].as_f64().unwrap() <= 500.0);
    assert!(
        p["duration_s"].as_f64().unwrap() > 1.0,
        "preparation alone takes 1 s"
    );
    let (st, p) = s
        .post("/api/v1/predictions", &json!({"vm_id": id["web-01"], "kind": "storage_vmotion", "target_datastore_id": id["vsan-prod"]}))
        .await;
    assert_eq!(st, 200, "{p}");
    assert!(p["disk_bytes"].as_f64().unwrap() > 0.0);
    let (st, p) = s
        .post(
            "/api/v1/predictions",
            &json!({"vm_id": id["build-local"], "kind": "combined", "target_host_id": id["esx-02"],
                "target_datastore_id": id["san-gold"], "options": {"downtime_target_ms": 200, "bandwidth_cap_mbps": 5000}}),
        )
        .await;
    assert_eq!(st, 200, "{p}");
    assert!(p["disk_bytes"].as_f64().unwrap() > 0.0 && !p["rounds"].as_array().unwrap().is_empty());
    let (st, b) = s
        .post("/api/v1/predictions", &json!({"vm_id": id["web-01"], "kind": "vmotion", "target_host_id": id["esx-02"], "options": {"downtime_target_ms": 0}}))
        .await;
    assert_eq!(
        (st, b["error"]["field"].clone()),
        (422, json!("options.downtime_target_ms"))
    );
}
