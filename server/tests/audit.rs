//! The audit log: every kind of action is recorded with the acting user, the object before and
//! after, and can be filtered and exported as CSV.

mod common;

use common::{token_for, TestServer};
use serde_json::{json, Value};

async fn entries(s: &TestServer, query: &str) -> Vec<Value> {
    let (status, body) = s.get(&format!("/api/v1/audit{query}")).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().clone()
}

fn find<'a>(list: &'a [Value], action: &str) -> &'a Value {
    list.iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} in {list:#?}"))
}

#[tokio::test]
async fn every_kind_of_action_is_recorded_with_its_user() {
    let s = TestServer::start(true).await;
    let id = s.ids().await;
    // Inventory, as the admin: create, update, delete, import.
    let (_, clusters) = s.get("/api/v1/clusters").await;
    let (status, host) = s
        .post(
            "/api/v1/hosts",
            &json!({"name": "esx-audit", "cluster_id": clusters[0]["id"], "cpu_vendor": "intel",
                "cpu_feature_level": 6, "cores": 8, "cpu_mhz": 2000, "memory_mib": 65536,
                "state": "connected", "vmotion_enabled": true, "vmotion_link_gbps": 10,
                "ip_family": "v4"}),
        )
        .await;
    assert_eq!(status, 201);
    let mut changed = host.clone();
    changed["cores"] = json!(16);
    let hid = host["id"].as_str().unwrap();
    assert_eq!(
        s.put(&format!("/api/v1/hosts/{hid}"), &changed).await.0,
        200
    );
    assert_eq!(s.delete(&format!("/api/v1/hosts/{hid}")).await, 204);
    let (status, _) = s
        .post(
            "/api/v1/inventory",
            &json!({"clusters": [{"name": "imported"}]}),
        )
        .await;
    assert_eq!(status, 200);
    // Accounts, as the admin: a user, a role change.
    let otto = s.user("otto", "viewer").await;
    let (_, users) = s.get("/api/v1/users").await;
    let otto_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "otto")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = s
        .put(
            &format!("/api/v1/users/{otto_id}/role"),
            &json!({"role": "operator"}),
        )
        .await;
    assert_eq!(status, 200);
    // Migrations and faults, as the operator.
    let start = otto
        .post(s.url("/api/v1/migrations"))
        .json(
            &json!({"vm_id": id["db-02"], "kind": "vmotion", "target_host_id": id["esx-03"],
                      "options": {"bandwidth_cap_mbps": 1}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 201);
    let migration: Value = start.json().await.unwrap();
    assert_eq!(migration["started_by"], "otto");
    let mid = migration["id"].as_str().unwrap();
    let cancel = otto
        .post(s.url(&format!("/api/v1/migrations/{mid}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 200);
    let fault: Value = otto
        .post(s.url("/api/v1/faults"))
        .json(&json!({"kind": "host_down", "target_id": id["esx-04"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fid = fault["id"].as_str().unwrap();
    assert_eq!(
        otto.delete(s.url(&format!("/api/v1/faults/{fid}")))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    // Sessions: a failed sign-in, a sign-in (with a token), a sign-out.
    let http = reqwest::Client::new();
    let bad = http
        .post(s.url("/api/v1/session"))
        .json(&json!({"username": "otto", "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let _ = token_for(s.addr, "otto", "otto-password").await;
    // A second admin token, revoked (the first one is the test client's).
    let _ = token_for(s.addr, "admin", common::ADMIN_PASSWORD).await;
    let (_, tokens) = s.get("/api/v1/tokens").await;
    let spare = tokens.as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(s.delete(&format!("/api/v1/tokens/{spare}")).await, 204);

    let all = entries(&s, "?limit=1000").await;
    for (action, actor) in [
        ("inventory.create", "admin"),
        ("inventory.update", "admin"),
        ("inventory.delete", "admin"),
        ("inventory.import", "admin"),
        ("user.create", "admin"),
        ("user.role", "admin"),
        ("migration.start", "otto"),
        ("migration.cancel", "otto"),
        ("fault.inject", "otto"),
        ("fault.clear", "otto"),
        ("session.sign_in_failed", "anonymous"),
        ("session.sign_in", "otto"),
        ("token.create", "otto"),
        ("token.revoke", "admin"),
    ] {
        assert!(
            all.iter()
                .any(|e| e["action"] == action && e["actor"] == actor),
            "{action} by {actor} missing"
        );
    }
    // Before and after: the update carries both, the create only after, the delete only before.
    let update = find(&all, "inventory.update");
    assert_eq!(update["before"]["object"]["cores"], 8);
    assert_eq!(update["after"]["object"]["cores"], 16);
    assert_eq!(update["object_id"], hid);
    assert!(find(&all, "inventory.create")["before"].is_null());
    // A migration or a fault: its kind and id, the record after a start or an injection,
    // before a clearing.
    for (action, kind, state) in [
        ("migration.start", "migration", "after"),
        ("migration.cancel", "migration", "after"),
        ("fault.inject", "fault", "after"),
        ("fault.clear", "fault", "before"),
    ] {
        let e = find(&all, action);
        let other = if state == "after" { "before" } else { "after" };
        assert_eq!(e["object_kind"], kind, "{e}");
        assert_eq!(e[state]["id"], e["object_id"], "{e}");
        assert!(e[other].is_null(), "{e}");
    }
    assert!(find(&all, "inventory.delete")["after"].is_null());
    assert!(find(&all, "session.sign_in_failed")["summary"]
        .as_str()
        .unwrap()
        .contains("failed sign-in as otto"));
    let role = find(&all, "user.role");
    assert_eq!(
        (
            role["before"]["role"].clone(),
            role["after"]["role"].clone()
        ),
        (json!("viewer"), json!("operator"))
    );
    // Newest first, ids rising with time.
    let ids: Vec<i64> = all.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]));

    // Filters.
    let otto_only = entries(&s, "?actor=otto").await;
    assert!(!otto_only.is_empty() && otto_only.iter().all(|e| e["actor"] == "otto"));
    let migrations = entries(&s, "?action=migration.").await;
    assert_eq!(migrations.len(), 2);
    assert_eq!(entries(&s, "?limit=3").await.len(), 3);
    let (status, body) = s.get("/api/v1/audit?action=teleport").await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (422, json!("action"))
    );
    let (status, body) = s.get("/api/v1/audit?limit=0").await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (422, json!("limit"))
    );
    // CSV export.
    let res = s
        .client
        .get(s.url("/api/v1/audit.csv?action=migration."))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,at_ms,actor,action,object_kind,object_id,summary,before,after"
    );
    assert_eq!(lines.len(), 3);
    assert!(lines[1].contains(",otto,migration.cancel,"));
}

#[tokio::test]
async fn a_rejected_change_leaves_no_audit_entry() {
    let s = TestServer::start(true).await;
    let before = entries(&s, "?action=inventory.").await.len();
    let (status, _) = s.post("/api/v1/hosts", &json!({"name": ""})).await;
    assert_eq!(status, 422);
    assert_eq!(entries(&s, "?action=inventory.").await.len(), before);
}
