//! REST API integration tests: a real server on a random port with a temporary database.

mod common;

use common::TestServer;
use serde_json::{json, Value};

/// Builds a small inventory through the API; returns the ids by name.
async fn seed(s: &TestServer) -> std::collections::HashMap<&'static str, String> {
    let mut ids = std::collections::HashMap::new();
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    let (st, c) = s.post("/api/v1/clusters", &json!({"name": "prod"})).await;
    assert_eq!(st, 201, "{c}");
    ids.insert("prod", id(&c));
    for name in ["esx-a", "esx-b"] {
        let (st, h) = s.post("/api/v1/hosts", &host(name, &ids["prod"])).await;
        assert_eq!(st, 201, "{h}");
        ids.insert(name, id(&h));
    }
    let (st, d) = s
        .post(
            "/api/v1/datastores",
            &json!({"name": "san", "kind": "vmfs_shared", "capacity_mib": 100000,
                "throughput_mib_s": 500, "host_ids": [ids["esx-a"], ids["esx-b"]]}),
        )
        .await;
    assert_eq!(st, 201, "{d}");
    ids.insert("san", id(&d));
    let (st, d) = s
        .post(
            "/api/v1/datastores",
            &json!({"name": "local-a", "kind": "local", "capacity_mib": 1000,
                "throughput_mib_s": 200, "host_ids": [ids["esx-a"]]}),
        )
        .await;
    assert_eq!(st, 201, "{d}");
    ids.insert("local-a", id(&d));
    let (st, sw) = s
        .post(
            "/api/v1/switches",
            &json!({"name": "dvs", "host_ids": [ids["esx-a"], ids["esx-b"]]}),
        )
        .await;
    assert_eq!(st, 201, "{sw}");
    ids.insert("dvs", id(&sw));
    let (st, pg) = s
        .post(
            "/api/v1/portgroups",
            &json!({"name": "pg-web", "vlan": 10, "switch_id": ids["dvs"]}),
        )
        .await;
    assert_eq!(st, 201, "{pg}");
    ids.insert("pg-web", id(&pg));
    let (st, vm) = s.post("/api/v1/vms", &vm_body("web-01", &ids)).await;
    assert_eq!(st, 201, "{vm}");
    ids.insert("web-01", id(&vm));
    ids
}

fn host(name: &str, cluster: &str) -> Value {
    json!({"name": name, "cluster_id": cluster, "cpu_vendor": "intel", "cpu_feature_level": 6,
        "cores": 32, "cpu_mhz": 2600, "memory_mib": 262144, "state": "connected",
        "vmotion_enabled": true, "vmotion_link_gbps": 10, "ip_family": "v4"})
}

fn vm_body(name: &str, ids: &std::collections::HashMap<&'static str, String>) -> Value {
    json!({"name": name, "host_id": ids["esx-a"], "power_state": "on", "vcpus": 2,
        "memory_mib": 4096, "cpu_feature_level": 6,
        "disks": [{"datastore_id": ids["san"], "capacity_mib": 10000, "used_mib": 2000, "thin": true}],
        "nics": [{"portgroup_id": ids["pg-web"], "connected": true}],
        "workload": {"dirty_rate_mib_s": 50, "zero_page_fraction": 0.1, "disk_write_mib_s": 2}})
}

fn assert_error(
    status: u16,
    body: &Value,
    want_status: u16,
    want_code: &str,
    want_field: Option<&str>,
) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], want_code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    match want_field {
        Some(f) => assert_eq!(body["error"]["field"], f, "{body}"),
        None => assert!(body["error"]["field"].is_null(), "{body}"),
    }
}

#[tokio::test]
async fn crud_for_every_kind_of_object() {
    let s = TestServer::start(false).await;
    let ids = seed(&s).await;

    // List and get, for every collection.
    for (collection, name) in [
        ("clusters", "prod"),
        ("hosts", "esx-a"),
        ("datastores", "san"),
        ("switches", "dvs"),
        ("portgroups", "pg-web"),
        ("vms", "web-01"),
    ] {
        let (st, list) = s.get(&format!("/api/v1/{collection}")).await;
        assert_eq!(st, 200);
        assert!(
            list.as_array().unwrap().iter().any(|o| o["name"] == name),
            "{collection}"
        );
        let (st, one) = s.get(&format!("/api/v1/{collection}/{}", ids[name])).await;
        assert_eq!(st, 200);
        assert_eq!(one["name"], name);
        assert_eq!(one["id"], ids[name].as_str());
    }
    // Lists are sorted by name.
    let (_, hosts) = s.get("/api/v1/hosts").await;
    let names: Vec<&str> = hosts
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["esx-a", "esx-b"]);

    // Update: the VM moves to the other host (the datastore and port group reach it).
    let mut vm = vm_body("web-01", &ids);
    vm["host_id"] = json!(ids["esx-b"]);
    vm["memory_mib"] = json!(8192);
    let (st, updated) = s.put(&format!("/api/v1/vms/{}", ids["web-01"]), &vm).await;
    assert_eq!(st, 200, "{updated}");
    let (_, got) = s.get(&format!("/api/v1/vms/{}", ids["web-01"])).await;
    assert_eq!(got["host_id"], ids["esx-b"].as_str());
    assert_eq!(got["memory_mib"], 8192);
    assert_eq!(got["workload"]["dirty_rate_mib_s"], 50.0);

    for (collection, name, body) in [
        (
            "clusters",
            "prod",
            json!({"name": "production", "evc_level": 5}),
        ),
        (
            "switches",
            "dvs",
            json!({"name": "dvs-2", "host_ids": [ids["esx-a"], ids["esx-b"]]}),
        ),
        (
            "portgroups",
            "pg-web",
            json!({"name": "pg-web", "vlan": 11, "switch_id": ids["dvs"]}),
        ),
    ] {
        let (st, b) = s
            .put(&format!("/api/v1/{collection}/{}", ids[name]), &body)
            .await;
        assert_eq!(st, 200, "{collection}: {b}");
    }
    let (_, c) = s.get(&format!("/api/v1/clusters/{}", ids["prod"])).await;
    assert_eq!(c["evc_level"], 5);

    // Delete in dependency order; each is gone afterwards.
    for (collection, name) in [
        ("vms", "web-01"),
        ("portgroups", "pg-web"),
        ("switches", "dvs"),
        ("datastores", "san"),
        ("datastores", "local-a"),
        ("hosts", "esx-a"),
        ("hosts", "esx-b"),
        ("clusters", "prod"),
    ] {
        assert_eq!(
            s.delete(&format!("/api/v1/{collection}/{}", ids[name]))
                .await,
            204,
            "{name}"
        );
        let (st, _) = s.get(&format!("/api/v1/{collection}/{}", ids[name])).await;
        assert_eq!(st, 404);
    }
    let inv = s.export().await;
    for key in [
        "clusters",
        "hosts",
        "datastores",
        "switches",
        "portgroups",
        "vms",
    ] {
        assert_eq!(inv[key], json!([]), "{key}");
    }
}

#[tokio::test]
async fn bad_input_gets_a_4xx_naming_the_field_and_changes_nothing() {
    let s = TestServer::start(false).await;
    let ids = seed(&s).await;
    let before = s.export().await;

    // Malformed JSON: 400.
    let res = s
        .client
        .post(s.url("/api/v1/hosts"))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "malformed_json");

    // Wrong types, negative sizes, bad enums, unknown and missing fields: 422 naming the field.
    let mut h = host("esx-c", &ids["prod"]);
    h["cores"] = json!("many");
    let (st, b) = s.post("/api/v1/hosts", &h).await;
    assert_error(st, &b, 422, "invalid", Some("cores"));
    h["cores"] = json!(-4);
    let (st, b) = s.post("/api/v1/hosts", &h).await;
    assert_error(st, &b, 422, "invalid", Some("cores"));
    h["cores"] = json!(0);
    let (st, b) = s.post("/api/v1/hosts", &h).await;
    assert_error(st, &b, 422, "invalid", Some("cores"));
    h["cores"] = json!(8);
    h["cpu_vendor"] = json!("via");
    let (st, b) = s.post("/api/v1/hosts", &h).await;
    assert_error(st, &b, 422, "invalid", Some("cpu_vendor"));
    h["cpu_vendor"] = json!("amd");
    h["colour"] = json!("red");
    let (st, b) = s.post("/api/v1/hosts", &h).await;
    assert_error(st, &b, 422, "invalid", Some("colour"));
    let (st, b) = s.post("/api/v1/hosts", &json!({"name": "x"})).await;
    assert_error(st, &b, 422, "invalid", Some("cluster_id"));
    let (st, b) = s.post("/api/v1/clusters", &json!({"name": ""})).await;
    assert_error(st, &b, 422, "invalid", Some("name"));
    let (st, b) = s
        .post("/api/v1/clusters", &json!({"name": "x".repeat(81)}))
        .await;
    assert_error(st, &b, 422, "invalid", Some("name"));

    // Unknown references: 422 naming the field.
    let (st, b) = s
        .post(
            "/api/v1/hosts",
            &host("esx-c", "6f1c0d35-7a4c-4a77-9d0e-9b61f6a5e0a1"),
        )
        .await;
    assert_error(st, &b, 422, "invalid", Some("cluster_id"));
    let mut vm = vm_body("vm-x", &ids);
    vm["nics"][0]["portgroup_id"] = json!("6f1c0d35-7a4c-4a77-9d0e-9b61f6a5e0a1");
    let (st, b) = s.post("/api/v1/vms", &vm).await;
    assert_error(st, &b, 422, "invalid", Some("nics[0].portgroup_id"));
    // Nested type errors name the nested path.
    let mut vm = vm_body("vm-x", &ids);
    vm["disks"][0]["capacity_mib"] = json!(-1);
    let (st, b) = s.post("/api/v1/vms", &vm).await;
    assert_error(st, &b, 422, "invalid", Some("disks[0].capacity_mib"));
    // A disk bigger than its datastore; a VM on a host that does not mount its datastore.
    let mut vm = vm_body("vm-x", &ids);
    vm["disks"][0]["capacity_mib"] = json!(200000);
    vm["disks"][0]["thin"] = json!(false);
    let (st, b) = s.post("/api/v1/vms", &vm).await;
    assert_error(st, &b, 422, "invalid", Some("disks[0].capacity_mib"));
    let mut vm = vm_body("vm-x", &ids);
    vm["host_id"] = json!(ids["esx-b"]);
    vm["disks"][0]["datastore_id"] = json!(ids["local-a"]);
    let (st, b) = s.post("/api/v1/vms", &vm).await;
    assert_error(st, &b, 422, "invalid", Some("disks[0].datastore_id"));

    // Duplicates: 409.
    let (st, b) = s.post("/api/v1/hosts", &host("esx-a", &ids["prod"])).await;
    assert_error(st, &b, 409, "duplicate", Some("name"));
    let mut dup = host("esx-z", &ids["prod"]);
    dup["id"] = json!(ids["esx-a"]);
    let (st, b) = s.post("/api/v1/hosts", &dup).await;
    assert_error(st, &b, 409, "duplicate", Some("id"));

    // In use: 409 naming the users.
    let res = s
        .client
        .delete(s.url(&format!("/api/v1/datastores/{}", ids["san"])))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 409);
    let b: Value = res.json().await.unwrap();
    assert!(
        b["error"]["message"].as_str().unwrap().contains("web-01"),
        "{b}"
    );

    // Paths: unknown ids 404, malformed ids 400, unknown collections 404, id mismatch 422.
    let (st, b) = s
        .get("/api/v1/hosts/6f1c0d35-7a4c-4a77-9d0e-9b61f6a5e0a1")
        .await;
    assert_error(st, &b, 404, "not_found", None);
    let (st, b) = s.get("/api/v1/hosts/not-a-uuid").await;
    assert_error(st, &b, 400, "bad_path", Some("id"));
    let (st, b) = s.get("/api/v1/teapots").await;
    assert_error(st, &b, 404, "not_found", None);
    let (st, b) = s
        .put(
            "/api/v1/hosts/6f1c0d35-7a4c-4a77-9d0e-9b61f6a5e0a1",
            &host("esx-q", &ids["prod"]),
        )
        .await;
    assert_error(st, &b, 404, "not_found", None);
    let mut other = host("esx-a", &ids["prod"]);
    other["id"] = json!(ids["esx-b"]);
    let (st, b) = s
        .put(&format!("/api/v1/hosts/{}", ids["esx-a"]), &other)
        .await;
    assert_error(st, &b, 422, "invalid", Some("id"));
    assert_eq!(
        s.delete("/api/v1/vms/6f1c0d35-7a4c-4a77-9d0e-9b61f6a5e0a1")
            .await,
        404
    );

    // Oversize body: 413 with the JSON error.
    let huge = json!({"name": "x".repeat(17 * 1024 * 1024)});
    let (st, b) = s.post("/api/v1/clusters", &huge).await;
    assert_error(st, &b, 413, "payload_too_large", None);

    assert_eq!(
        s.export().await,
        before,
        "a refused request changed the inventory"
    );
}

#[tokio::test]
async fn changes_survive_a_restart_of_the_database() {
    let s = TestServer::start(false).await;
    let ids = seed(&s).await;
    let exported = s.export().await;
    // Re-open the same database file in a fresh service: the same inventory comes back.
    let reopened = common::reopen(&s.db.url).await;
    let (_, inv) = reopened.services().inventory.snapshot();
    assert_eq!(serde_json::to_value(&inv).unwrap(), exported);
    assert!(inv.vms.values().any(|v| v.id.to_string() == ids["web-01"]));
}

#[tokio::test]
async fn the_demo_inventory_is_loaded_into_an_empty_database() {
    let s = TestServer::start(true).await;
    let (_, hosts) = s.get("/api/v1/hosts").await;
    assert!(hosts.as_array().unwrap().len() >= 6);
    let (_, vms) = s.get("/api/v1/vms").await;
    assert!(vms.as_array().unwrap().len() >= 28);
    let (st, page) = (
        s.client
            .get(s.url("/"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        s.client
            .get(s.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(st, 200);
    assert!(page.contains("data-testid=\"host-esx-01\""));
    assert!(page.contains("data-testid=\"vm-web-01\""));
    assert_eq!(
        s.client
            .get(s.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn the_openapi_document_matches_the_router() {
    let s = TestServer::start(true).await;
    let (st, doc) = s.get("/api/v1/openapi.json").await;
    assert_eq!(st, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for kind in [
        "clusters",
        "hosts",
        "datastores",
        "switches",
        "portgroups",
        "vms",
    ] {
        assert!(paths.contains_key(&format!("/api/v1/{kind}")), "{kind}");
        assert!(
            paths.contains_key(&format!("/api/v1/{kind}/{{id}}")),
            "{kind}"
        );
    }
    // Every documented operation is answered by a handler: no 404 for the route, no 405.
    let (_, hosts) = s.get("/api/v1/hosts").await;
    for (path, item) in paths {
        for method in ["get", "post", "put", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            // A random id: the handler answers 404 "no host has id", not the router's 404.
            let url = path.replace("{id}", "6f1c0d35-7a4c-4a77-9d0e-9b61f6a5e0a1");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = s
                .client
                .request(m, s.url(&url))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert_ne!(status, 405, "{method} {path}");
            if status == 404 {
                assert_ne!(
                    body["error"]["message"], "no such API route",
                    "{method} {path}"
                );
            }
            assert!(status < 500, "{method} {path}: {status}");
        }
    }
    // And every documented schema field of a host is what the API returns.
    let host_props = doc["components"]["schemas"]["Host"]["properties"]
        .as_object()
        .unwrap();
    let mut doc_keys: Vec<&String> = host_props.keys().collect();
    let mut api_keys: Vec<&String> = hosts[0].as_object().unwrap().keys().collect();
    doc_keys.sort();
    api_keys.sort();
    assert_eq!(doc_keys, api_keys);
}

#[tokio::test]
async fn an_export_imports_into_another_server_and_a_bad_import_changes_nothing() {
    let source = TestServer::start(true).await;
    let exported = source.export().await;
    let target = TestServer::start(false).await;
    let (st, summary) = target.post("/api/v1/inventory", &exported).await;
    assert_eq!(st, 200, "{summary}");
    let total: usize = [
        "clusters",
        "hosts",
        "datastores",
        "switches",
        "portgroups",
        "vms",
        "rules",
    ]
    .iter()
    .map(|k| exported[k].as_array().unwrap().len())
    .sum();
    assert_eq!(
        summary,
        json!({"created": total, "updated": 0, "removed": 0})
    );
    assert_eq!(target.export().await, exported);
    // Importing the same file again replaces every object with itself.
    let (st, summary) = target.post("/api/v1/inventory", &exported).await;
    assert_eq!(st, 200);
    assert_eq!(
        summary,
        json!({"created": 0, "updated": total, "removed": 0})
    );

    // One bad object refuses the whole file, naming its place and field.
    let before = target.export().await;
    let mut bad =
        json!({"clusters": [{"name": "new-cluster"}], "vms": [exported["vms"][0].clone()]});
    bad["vms"][0]["id"] = json!("6f1c0d35-7a4c-4a77-9d0e-9b61f6a5e0a1");
    bad["vms"][0]["name"] = json!("copy");
    bad["vms"][0]["disks"][0]["datastore_id"] = json!("0d1c0d35-7a4c-4a77-9d0e-9b61f6a5e0a1");
    let (st, b) = target.post("/api/v1/inventory", &bad).await;
    assert_error(st, &b, 422, "invalid", Some("vms[0].disks[0].datastore_id"));
    let (st, b) = target
        .post("/api/v1/inventory", &json!({"vms": [{"name": 5}]}))
        .await;
    assert_error(st, &b, 422, "invalid", Some("vms[0].name"));
    assert_eq!(target.export().await, before);
}

#[tokio::test]
async fn unknown_routes_methods_and_malformed_paths_get_json_errors() {
    let s = TestServer::start(true).await;
    let (st, b) = s.get("/api/v1/hosts/x/y").await;
    assert_error(st, &b, 404, "not_found", None);
    let res = s.client.patch(s.url("/api/v1/hosts")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 405);
    let b: Value = res.json().await.unwrap();
    assert_eq!(b["error"]["code"], "method_not_allowed");
    let (st, b) = s.get("/api/v1/hosts/%FF").await;
    assert_eq!(st, 400, "{b}");
    assert!(b["error"]["field"].as_str().is_some(), "{b}");

    // A body that is not declared JSON is refused (a cross-site form cannot send JSON).
    let res = s
        .client
        .post(s.url("/api/v1/clusters"))
        .header("content-type", "text/plain")
        .body(r#"{"name": "sneaky"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 415);
    let (_, clusters) = s.get("/api/v1/clusters").await;
    assert!(!clusters
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "sneaky"));

    // The body's id may be spelled in upper case.
    let (_, hosts) = s.get("/api/v1/hosts").await;
    let mut h = hosts[0].clone();
    let id = h["id"].as_str().unwrap().to_string();
    h["id"] = json!(id.to_uppercase());
    let (st, b) = s.put(&format!("/api/v1/hosts/{id}"), &h).await;
    assert_eq!(st, 200, "{b}");

    // Sizes are bounded, so sums over the inventory cannot overflow.
    h["memory_mib"] = json!(u64::MAX);
    let (st, b) = s.put(&format!("/api/v1/hosts/{id}"), &h).await;
    assert_error(st, &b, 422, "invalid", Some("memory_mib"));
}

#[tokio::test]
async fn requests_from_another_site_are_refused() {
    let s = TestServer::start(true).await;
    let host = s.addr.to_string();
    let post = |origin: &str| {
        s.client
            .post(s.url("/api/v1/clusters"))
            .header("origin", origin.to_string())
            .json(&json!({"name": format!("from-{}", origin.len())}))
            .send()
    };
    let res = post("http://evil.example").await.unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let b: Value = res.json().await.unwrap();
    assert_eq!(b["error"]["code"], "cross_site");
    let res = post(&format!("http://{host}")).await.unwrap();
    assert_eq!(res.status().as_u16(), 201);
    // Reading stays open; the websocket upgrade is guarded too.
    let res = s
        .client
        .get(s.url("/api/v1/hosts"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{host}/ws"
        ))
        .unwrap();
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_err());
}

#[tokio::test]
async fn server_functions_refuse_bad_arguments_with_a_422_naming_the_field() {
    let s = TestServer::start(true).await;
    let before = s.export().await;
    for (endpoint, body, field) in [
        (
            "admin/save",
            json!({"create": true, "object": {"kind": "vm", "object": {"name": ""}}}),
            "object",
        ),
        (
            "admin/save",
            json!({"create": true, "object": {"kind": "teapot", "object": {}}}),
            "object.kind",
        ),
        (
            "admin/delete",
            json!({"kind": "host", "id": "not-a-uuid"}),
            "id",
        ),
        (
            "operator/migrations/start",
            json!({"request": {"vm_id": "x", "kind": "vmotion"}}),
            "request.vm_id",
        ),
    ] {
        let res = s
            .client
            .post(s.url(&format!("/rpc/{endpoint}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let answer: Value = res.json().await.unwrap();
        assert_eq!(status, 422, "{endpoint}: {answer}");
        assert_eq!(answer["code"], "invalid", "{endpoint}: {answer}");
        assert_eq!(answer["status"], 422, "{endpoint}: {answer}");
        assert!(
            answer["field"]
                .as_str()
                .is_some_and(|f| f.starts_with(field)),
            "{endpoint}: {answer}"
        );
    }
    assert_eq!(s.export().await, before);
}

#[tokio::test]
async fn the_demo_is_only_loaded_into_a_truly_empty_database() {
    let s = TestServer::start(false).await;
    let (st, _) = s
        .post(
            "/api/v1/switches",
            &json!({"name": "dvs-prod", "host_ids": []}),
        )
        .await;
    assert_eq!(st, 201);
    let reopened = common::reopen(&s.db.url).await;
    let (_, inv) = reopened.services().inventory.snapshot();
    assert_eq!(inv.switches.len(), 1);
    assert!(
        inv.hosts.is_empty(),
        "the demo was not loaded over existing objects"
    );
}
