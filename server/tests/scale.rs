//! vCenter's maximum through the API (docs/PERFORMANCE.md, "Issue 16"): a generated
//! inventory of 50 clusters, 2,500 hosts and 45,000 VMs.

mod common;

use common::TestServer;
use server::live::DEFAULT_LIVE_BUFFER;

/// 50 clusters × 50 hosts × 18 VMs: vCenter's maximum of 2,500 hosts and 45,000 VMs.
fn vcenter_maximum() -> domain::Inventory {
    domain::generate::scale_inventory(50, 50, 18)
}

#[tokio::test]
async fn the_export_of_vcenters_maximum_re_imports_in_one_request() {
    let source =
        TestServer::start_seeded(false, DEFAULT_LIVE_BUFFER, Some(vcenter_maximum())).await;
    let exported = source
        .client
        .get(source.url("/api/v1/inventory"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Larger than the router's limit for other requests: the import route has its own.
    assert!(
        exported.len() > server::http::BODY_LIMIT_BYTES,
        "{} bytes",
        exported.len()
    );

    let target = TestServer::start(false).await;
    let res = target
        .client
        .post(target.url("/api/v1/inventory"))
        .header("content-type", "application/json")
        .body(exported.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let summary: serde_json::Value = res.json().await.unwrap();
    assert_eq!(summary["created"], 50 + 2_500 + 50 + 50 + 50 + 45_000);
    assert_eq!(summary["updated"], 0);

    let again = target
        .client
        .get(target.url("/api/v1/inventory"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(again == exported, "the re-imported inventory differs");
}

/// Every page's first HTML at vCenter's maximum holds what it shows, not the inventory (which
/// Leptos would write into the page with any resource that held it).
#[tokio::test]
async fn the_pages_at_vcenters_maximum_send_only_what_they_show() {
    let s = TestServer::start_seeded(false, DEFAULT_LIVE_BUFFER, Some(vcenter_maximum())).await;
    let (_, hosts) = s.get("/api/v1/hosts?q=esx-007-003&limit=1").await;
    let host = hosts[0]["id"].as_str().unwrap().to_string();
    let (_, vms) = s.get("/api/v1/vms?q=vm-012-034-017&limit=1").await;
    let vm = vms[0]["id"].as_str().unwrap().to_string();
    let pages = [
        ("/".to_string(), "cluster-049"),
        ("/plans".to_string(), "Rolling maintenance of cluster-049…"),
        (
            format!("/plans/new?evacuate={host}"),
            "Enter maintenance mode: esx-007-003",
        ),
        (format!("/migrate?vm={vm}"), "vm-012-034-017"),
        ("/tasks".to_string(), "Tasks"),
        ("/inventory/vms".to_string(), "vm-000-000-000"),
        ("/audit".to_string(), "Audit"),
    ];
    for (path, shown) in pages {
        // A page that never finishes is a failure naming it, not a run that hangs (one full
        // run saw this test wait for ever, once; not reproduced since).
        let fetch = async {
            let res = s.client.get(s.url(&path)).send().await.unwrap();
            assert_eq!(res.status().as_u16(), 200, "{path}");
            res.text().await.unwrap()
        };
        let html = tokio::time::timeout(std::time::Duration::from_secs(120), fetch)
            .await
            .unwrap_or_else(|_| panic!("{path} did not finish rendering in 2 minutes"));
        assert!(html.len() < 1_000_000, "{path}: {} bytes", html.len());
        assert!(html.contains(shown), "{path} does not show {shown}");
    }
}

#[tokio::test]
async fn an_import_past_the_upload_limit_or_not_json_is_refused_and_changes_nothing() {
    let s = TestServer::start(true).await;
    let before = s.export().await;
    let res = s
        .client
        .post(s.url("/api/v1/inventory"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 415);
    // A syntax error is a 400, the wrong shape a 422 naming the field.
    let res = s
        .client
        .post(s.url("/api/v1/inventory"))
        .header("content-type", "application/json")
        .body(r#"{"vms": [}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let res = s
        .client
        .post(s.url("/api/v1/inventory"))
        .header("content-type", "application/json")
        .body(r#"{"hosts": [{"name": "x", "cores": "many"}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "hosts[0].cores", "{body}");
    // Trailing garbage after the document is a syntax error too.
    let res = s
        .client
        .post(s.url("/api/v1/inventory"))
        .header("content-type", "application/json")
        .body(r#"{} {}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    // Past the upload limit: refused as soon as it is passed.
    let limit = server::http::imports::UPLOAD_LIMIT_BYTES;
    let res = s
        .client
        .post(s.url("/api/v1/inventory"))
        .header("content-type", "application/json")
        .body(vec![b' '; limit + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    assert_eq!(s.export().await, before);
}

/// The next JSON messages of a websocket until `last` says stop (within 10 s), all of them.
async fn until(
    ws: &mut common::Ws,
    last: impl Fn(&serde_json::Value) -> bool,
) -> Vec<serde_json::Value> {
    use futures::StreamExt;
    let mut seen = Vec::new();
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("the socket stays open")
            .expect("a valid frame");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let stop = last(&value);
            seen.push(value);
            if stop {
                return seen;
            }
        }
    }
}

/// A VM's object as the API shows it, powered off.
async fn powered_off(s: &TestServer, id: &str) -> serde_json::Value {
    let (_, mut body) = s.get(&format!("/api/v1/vms/{id}")).await;
    body["power_state"] = serde_json::json!("off");
    body
}

fn of_type<'a>(seen: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    seen.iter().filter(|m| m["type"] == kind).collect()
}

#[tokio::test]
async fn a_scoped_client_gets_the_overview_and_only_what_its_open_clusters_hold() {
    use futures::SinkExt;
    use serde_json::json;
    let s = TestServer::start_seeded(
        false,
        DEFAULT_LIVE_BUFFER,
        Some(domain::generate::scale_inventory(3, 2, 2)),
    )
    .await;
    let ids = s.ids().await;
    let (_, clusters) = s.get("/api/v1/clusters").await;
    let cluster = |name: &str| {
        clusters
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut scoped = s.ws_at("/ws?scope=open").await;
    let mut full = s.ws().await;

    // The overview: every cluster's tile, and no object.
    let first = until(&mut scoped, |_| true).await.remove(0);
    assert_eq!(first["type"], "snapshot");
    let tiles = first["overview"].as_array().unwrap();
    assert_eq!(tiles.len(), 3);
    assert_eq!(tiles[1]["name"], "cluster-001");
    assert_eq!(
        (tiles[1]["vms"].as_u64(), tiles[1]["running_vms"].as_u64()),
        (Some(4), Some(4))
    );
    assert_eq!(tiles[1]["hosts"].as_array().unwrap().len(), 2);
    assert_eq!(first["inventory"]["vms"], json!([]));
    assert_eq!(first["inventory"]["hosts"], json!([]));
    let whole = until(&mut full, |_| true).await.remove(0);
    assert!(whole.get("overview").is_none());
    assert_eq!(whole["inventory"]["vms"].as_array().unwrap().len(), 12);

    // A VM powered off: the scoped client gets the tile, not the VM; the full one the VM.
    let body = powered_off(&s, &ids["vm-001-000-000"]).await;
    let (st, _) = s
        .put(&format!("/api/v1/vms/{}", ids["vm-001-000-000"]), &body)
        .await;
    assert_eq!(st, 200);
    let seen = until(&mut scoped, |m| m["type"] == "overview_changed").await;
    assert!(of_type(&seen, "inventory_changed").is_empty(), "{seen:?}");
    // The tile keeps its hosts: its aggregates and the one cell that changed.
    let change = &seen.last().unwrap()["tiles"][0];
    let tile = &change["tile"];
    assert_eq!(
        (tile["name"].as_str(), tile["running_vms"].as_u64()),
        (Some("cluster-001"), Some(3))
    );
    assert_eq!(change["cells"], json!([0]), "{change}");
    assert_eq!(tile["hosts"].as_array().unwrap().len(), 1);
    assert_eq!(tile["hosts"][0]["n"], "esx-001-000");
    let seen = until(&mut full, |m| m["type"] == "inventory_changed").await;
    assert_eq!(
        seen.last().unwrap()["change"]["object"]["object"]["name"],
        "vm-001-000-000"
    );
    assert!(of_type(&seen, "overview_changed").is_empty());

    // Opening cluster-001: a snapshot of what it shows.
    let open = json!({"type": "scope", "clusters": [cluster("cluster-001")]});
    scoped
        .send(tokio_tungstenite::tungstenite::Message::text(
            open.to_string(),
        ))
        .await
        .unwrap();
    let seen = until(&mut scoped, |m| m["type"] == "snapshot").await;
    let snapshot = seen.last().unwrap();
    let names: Vec<&str> = snapshot["inventory"]["vms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4);
    assert!(names.iter().all(|n| n.starts_with("vm-001-")), "{names:?}");
    assert_eq!(snapshot["overview"].as_array().unwrap().len(), 3);

    // A change elsewhere brings only its tile; one in the open cluster brings the object.
    let body = powered_off(&s, &ids["vm-000-000-000"]).await;
    s.put(&format!("/api/v1/vms/{}", ids["vm-000-000-000"]), &body)
        .await;
    let body = powered_off(&s, &ids["vm-001-001-000"]).await;
    s.put(&format!("/api/v1/vms/{}", ids["vm-001-001-000"]), &body)
        .await;
    let seen = until(&mut scoped, |m| m["type"] == "inventory_changed").await;
    let changed: Vec<&str> = of_type(&seen, "inventory_changed")
        .iter()
        .map(|m| m["change"]["object"]["object"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["vm-001-001-000"]);
    assert!(of_type(&seen, "overview_changed")
        .iter()
        .any(|m| m["tiles"][0]["tile"]["name"] == "cluster-000"));

    // A migration in a closed cluster: its summary (for the map's marks), not its progress;
    // the full client gets both.
    let body = json!({"vm_id": ids["vm-002-000-000"], "kind": "vmotion", "target_host_id": ids["esx-002-001"]});
    let (st, m) = s.post("/api/v1/migrations", &body).await;
    assert_eq!(st, 201, "{m}");
    let ended =
        |m: &serde_json::Value| m["type"] == "migration_updated" && m["phase"] == "completed";
    let seen = until(&mut scoped, ended).await;
    assert!(of_type(&seen, "migration_event").is_empty());
    // Its start and its end only: the phases between are for clients following it.
    let phases = |seen: &[serde_json::Value]| -> Vec<String> {
        of_type(seen, "migration_updated")
            .iter()
            .map(|m| m["phase"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(phases(&seen), ["queued", "completed"], "{seen:?}");
    let seen = until(&mut full, ended).await;
    assert!(!of_type(&seen, "migration_event").is_empty());
    assert!(phases(&seen).len() > 2, "{:?}", phases(&seen));
    // In an open cluster, its progress too.
    let body = json!({"vm_id": ids["vm-001-000-001"], "kind": "vmotion", "target_host_id": ids["esx-001-001"]});
    let (st, m) = s.post("/api/v1/migrations", &body).await;
    assert_eq!(st, 201, "{m}");
    let seen = until(&mut scoped, ended).await;
    assert!(!of_type(&seen, "migration_event").is_empty());
}

#[tokio::test]
async fn the_pages_find_objects_by_name_and_load_only_what_they_show() {
    use serde_json::{json, Value};
    let s = TestServer::start_seeded(
        false,
        DEFAULT_LIVE_BUFFER,
        Some(domain::generate::scale_inventory(3, 2, 2)),
    )
    .await;
    let rpc = |path: &'static str, body: Value| {
        let request = s.client.post(s.url(path)).json(&body);
        async move {
            let res = request.send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (st, found) = rpc(
        "/rpc/viewer/search",
        json!({"text": "VM-001-000", "only": "vm", "limit": 1}),
    )
    .await;
    assert_eq!(st, 200, "{found}");
    assert_eq!(found["total"], 2);
    assert_eq!(found["hits"].as_array().unwrap().len(), 1);
    assert_eq!(found["hits"][0]["name"], "vm-001-000-000");
    assert_eq!(found["hits"][0]["context"], "esx-001-000 · cluster-001");
    let (st, error) = rpc(
        "/rpc/viewer/search",
        json!({"text": "x".repeat(201), "only": null, "limit": 5}),
    )
    .await;
    assert_eq!(
        (st, error["field"].as_str()),
        (422, Some("text")),
        "{error}"
    );

    let res = s
        .client
        .post(s.url("/rpc/viewer/map/overview"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let tiles: Value = res.json().await.unwrap();
    let names: Vec<&str> = tiles
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cluster-000", "cluster-001", "cluster-002"]);

    let cluster = tiles[2]["id"].clone();
    let (st, part) = rpc("/rpc/viewer/map/clusters", json!({"clusters": [cluster]})).await;
    assert_eq!(st, 200);
    assert_eq!(part["vms"].as_array().unwrap().len(), 4);
    assert_eq!(part["clusters"][0]["name"], "cluster-002");

    let ids = s.ids().await;
    let (st, part) = rpc("/rpc/viewer/map/vm", json!({"vm": ids["vm-000-001-001"]})).await;
    assert_eq!(st, 200);
    assert_eq!(part["clusters"][0]["name"], "cluster-000");
    assert_eq!(part["hosts"].as_array().unwrap().len(), 2);
    let (st, error) = rpc("/rpc/viewer/map/vm", json!({"vm": uuid::Uuid::new_v4()})).await;
    assert_eq!((st, error["field"].as_str()), (404, Some("vm")), "{error}");

    // A few objects by name, whatever their kind; unknown ids are left out.
    let (st, names) = rpc(
        "/rpc/viewer/inventory/names",
        json!({"ids": [ids["esx-002-001"], uuid::Uuid::new_v4(), ids["vm-000-001-001"]]}),
    )
    .await;
    assert_eq!(st, 200, "{names}");
    assert_eq!(
        names,
        json!([
            [ids["esx-002-001"], "esx-002-001"],
            [ids["vm-000-001-001"], "vm-000-001-001"]
        ])
    );
    let too_many: Vec<uuid::Uuid> = (0..=app::rpc::MAX_NAMES)
        .map(|_| uuid::Uuid::new_v4())
        .collect();
    let (st, error) = rpc("/rpc/viewer/inventory/names", json!({ "ids": too_many })).await;
    assert_eq!((st, error["field"].as_str()), (422, Some("ids")), "{error}");
}

#[tokio::test]
async fn the_list_routes_filter_sort_and_page_and_say_how_many_in_all() {
    let s = TestServer::start_seeded(
        false,
        DEFAULT_LIVE_BUFFER,
        Some(domain::generate::scale_inventory(2, 3, 4)),
    )
    .await;
    let page = |query: &'static str| {
        let request = s.client.get(s.url(&format!("/api/v1/vms?{query}")));
        async move {
            let res = request.send().await.unwrap();
            let status = res.status().as_u16();
            let total = res
                .headers()
                .get("x-total-count")
                .map(|v| v.to_str().unwrap().to_string());
            let link = res
                .headers()
                .get("link")
                .map(|v| v.to_str().unwrap().to_string());
            let body: serde_json::Value = res.json().await.unwrap();
            (status, total, link, body)
        }
    };
    let names = |body: &serde_json::Value| -> Vec<String> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_string())
            .collect()
    };
    // Without a query: every VM by name, as before.
    let (st, total, link, all) = page("").await;
    assert_eq!((st, total.as_deref(), link), (200, Some("24"), None));
    assert_eq!(names(&all)[0], "vm-000-000-000");

    let (st, total, link, body) = page("q=vm-001-002&sort=-name&offset=1&limit=2").await;
    assert_eq!((st, total.as_deref()), (200, Some("4")));
    assert_eq!(names(&body), ["vm-001-002-002", "vm-001-002-001"]);
    assert_eq!(
        link.as_deref(),
        Some("</api/v1/vms?q=vm-001-002&sort=-name&offset=3&limit=2>; rel=\"next\"")
    );
    // The last page has no next.
    let (_, _, link, body) = page("q=vm-001-002&sort=-name&offset=3&limit=2").await;
    assert_eq!((names(&body).len(), link), (1, None));

    for (query, field) in [
        ("sort=cores", "sort"),
        ("limit=0", "limit"),
        ("limit=10001", "limit"),
    ] {
        let res = s
            .client
            .get(s.url(&format!("/api/v1/vms?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 422, "{query}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    let res = s
        .client
        .get(s.url("/api/v1/vms?offset=minus-one"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let res = s
        .client
        .get(s.url("/api/v1/vms?color=blue"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
}
