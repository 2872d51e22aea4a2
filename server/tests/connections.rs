//! vCenter connections against govmomi's vSphere simulator (docs/VCENTER.md#connections):
//! refused logins store nothing; a connection mirrors the simulator field by field, keeps up
//! with changes made in it, keeps its objects read-only, survives the simulator restarting,
//! and is removed with its objects; no password in any answer, log line or database row.
//! Skipped by scripts/test.sh where the test server is missing; run once (SQLite pass).

mod common;

use common::vcsim::*;
use common::TestServer;
use serde_json::{json, Value};
use server::vcenter::collect::Object;
use server::vcenter::soap::MoRef;
use std::time::{Duration, Instant};

#[tokio::test]
async fn vcenter_refused_logins_are_clear_errors_and_store_nothing() {
    let sim = simulator(&[]);
    let s = TestServer::start(false).await;
    let (st, body) = s.post("/api/v1/connections", &request(&sim, "wrong")).await;
    refused(st, &body, "password", "refused");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut gone = request(&sim, PASSWORD);
    gone["url"] = json!(format!("http://127.0.0.1:{port}"));
    let (st, body) = s.post("/api/v1/connections", &gone).await;
    refused(st, &body, "url", "cannot be reached");
    for (field, value) in [
        ("kind", json!("hyper-v")),
        ("url", json!("vcenter.example.com")),
        ("username", json!("")),
        ("accept_sha256", json!("12:34")),
        ("ca_pem", json!("not a certificate")),
    ] {
        let mut bad = request(&sim, PASSWORD);
        bad[field] = value;
        let (st, body) = s.post("/api/v1/connections", &bad).await;
        assert_eq!(
            (st, body["error"]["field"].as_str()),
            (422, Some(field)),
            "{body}"
        );
    }
    let (_, list) = s.get("/api/v1/connections").await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn vcenter_connection_mirrors_the_simulator_and_follows_its_changes() {
    let sim = simulator(MODEL);
    let s = TestServer::start(false).await;
    let (st, created) = s
        .post("/api/v1/connections", &request(&sim, PASSWORD))
        .await;
    assert_eq!(st, 201, "{created}");
    assert!(created.get("password").is_none());
    assert!(!created.to_string().contains(PASSWORD));
    let id = created["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/connections/{id}");
    let synced = until(&s, &path, |c| c["state"] == "synced").await;
    assert_eq!(synced["objects"]["vms"], 6, "{synced}");

    // Counts, then one object of each kind field by field against the simulator's own.
    for (collection, n) in [
        ("clusters", 3),
        ("hosts", 7),
        ("datastores", 2),
        ("switches", 1),
        ("portgroups", 2),
        ("vms", 6),
    ] {
        let (_, list) = s.get(&format!("/api/v1/{collection}")).await;
        assert_eq!(list.as_array().unwrap().len(), n, "{collection}: {list}");
    }
    let objects = raw(&sim).await;
    let (_, hosts) = s.get("/api/v1/hosts").await;
    let h = first(&objects, "HostSystem");
    let host = named(&hosts, h.text("name").unwrap());
    assert_eq!(
        host["cores"].as_f64(),
        h.number("summary.hardware.numCpuCores")
    );
    assert_eq!(
        host["cpu_mhz"].as_f64(),
        h.number("summary.hardware.cpuMhz")
    );
    let bytes = h.number("summary.hardware.memorySize").unwrap();
    assert_eq!(
        host["memory_mib"].as_f64(),
        Some((bytes / 1_048_576.0).floor())
    );
    assert_eq!(host["state"], "connected");
    assert_eq!(host["vmotion_enabled"], true);
    let (_, datastores) = s.get("/api/v1/datastores").await;
    let d = first(&objects, "Datastore");
    let ds = named(&datastores, d.text("name").unwrap());
    let capacity = (d.number("summary.capacity").unwrap() / 1_048_576.0).floor();
    assert_eq!(ds["capacity_mib"].as_f64(), Some(capacity));
    assert_eq!(ds["host_ids"].as_array().unwrap().len(), 7);
    let (_, portgroups) = s.get("/api/v1/portgroups").await;
    let p = objects
        .iter()
        .find(|o| {
            o.obj.kind == "DistributedVirtualPortgroup"
                && o.boolean("config.uplink") != Some(true)
                && !o.text("name").unwrap().contains("Uplinks")
        })
        .unwrap();
    let pg = named(&portgroups, p.text("name").unwrap());
    assert!(pg["switch_id"].is_string(), "{pg}");
    let (_, vms) = s.get("/api/v1/vms").await;
    // A VM on a cluster host (it has a neighbour to move to).
    let in_cluster = |o: &&Object| {
        o.refs("runtime.host").first().is_some_and(|h| {
            h_parent(&objects, h)
                .first()
                .is_some_and(|p| p.kind == "ClusterComputeResource")
        })
    };
    let v = objects
        .iter()
        .filter(|o| o.obj.kind == "VirtualMachine")
        .find(in_cluster)
        .unwrap();
    let vm = named(&vms, v.text("name").unwrap());
    assert_eq!(vm["vcpus"].as_f64(), v.number("config.hardware.numCPU"));
    assert_eq!(
        vm["memory_mib"].as_f64(),
        v.number("config.hardware.memoryMB")
    );
    assert_eq!(vm["power_state"], "on");
    let vm_host = v.refs("runtime.host")[0].clone();
    let vm_host_name = objects
        .iter()
        .find(|o| o.obj == vm_host)
        .and_then(|o| o.text("name"))
        .unwrap();
    assert_eq!(vm["host_id"], named(&hosts, vm_host_name)["id"]);

    // Read-only in vmshift.
    let vm_id = vm["id"].as_str().unwrap().to_string();
    let mut edited = vm.clone();
    edited["vcpus"] = json!(8);
    let (st, body) = s.put(&format!("/api/v1/vms/{vm_id}"), &edited).await;
    assert_eq!(st, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("vCenter"),
        "{body}"
    );
    assert_eq!(s.delete(&format!("/api/v1/vms/{vm_id}")).await, 409);
    // Changes made in vCenter reach vmshift.
    let mut admin = sim.admin().await;
    assert_eq!(
        run_task(&mut admin, "PowerOffVM_Task", &v.obj, "").await,
        "success"
    );
    until(&s, &format!("/api/v1/vms/{vm_id}"), |vm| {
        vm["power_state"] == "off"
    })
    .await;
    let other = objects
        .iter()
        .find(|o| {
            o.obj.kind == "HostSystem"
                && o.obj != vm_host
                && o.refs("parent") == h_parent(&objects, &vm_host)
        })
        .unwrap();
    let spec = format!("<spec>{}</spec>", other.obj.xml("host"));
    assert_eq!(
        run_task(&mut admin, "RelocateVM_Task", &v.obj, &spec).await,
        "success"
    );
    let other_id = named(&hosts, other.text("name").unwrap())["id"].clone();
    until(&s, &format!("/api/v1/vms/{vm_id}"), |vm| {
        vm["host_id"] == other_id
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let system = MoRef::new(
        "HostDatastoreSystem",
        &property(&mut admin, &h.obj, "configManager.datastoreSystem").await,
    );
    let body = format!("<name>ds-added</name><path>{}</path>", dir.path().display());
    admin
        .call("CreateLocalDatastore", &system, &body)
        .await
        .unwrap();
    until(&s, "/api/v1/datastores", |list| {
        list.as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == "ds-added")
    })
    .await;
    assert_eq!(
        run_task(&mut admin, "Destroy_Task", &v.obj, "").await,
        "success"
    );
    until(&s, "/api/v1/vms", |list| {
        list.as_array()
            .unwrap()
            .iter()
            .all(|o| o["id"] != vm_id.as_str())
    })
    .await;

    // Disconnecting removes what it mirrored.
    assert_eq!(s.delete(&path).await, 204);
    let (_, hosts) = s.get("/api/v1/hosts").await;
    assert_eq!(hosts, json!([]));
    let (st, _) = s.get(&path).await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn vcenter_sync_survives_the_simulator_restarting() {
    let mut sim = simulator(MODEL);
    let s = TestServer::start(false).await;
    let (st, created) = s
        .post("/api/v1/connections", &request(&sim, PASSWORD))
        .await;
    assert_eq!(st, 201, "{created}");
    let path = format!("/api/v1/connections/{}", created["id"].as_str().unwrap());
    until(&s, &path, |c| c["state"] == "synced").await;
    let (_, before) = s.get("/api/v1/vms").await;
    sim.kill();
    let down = until(&s, &path, |c| c["state"] == "error").await;
    assert!(
        down["last_error"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"),
        "{down}"
    );
    // The objects stay while vCenter is away.
    let (_, during) = s.get("/api/v1/vms").await;
    assert_eq!(during.as_array().unwrap().len(), 6);
    // A fresh model behind the same address: the old session is gone, vmshift logs in again.
    sim.restart();
    until(&s, &path, |c| c["state"] == "synced").await;
    let (_, after) = s.get("/api/v1/vms").await;
    assert_eq!(after.as_array().unwrap().len(), 6, "no duplicates: {after}");
    let names = |list: &Value| {
        let mut n: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(&before), names(&after));
}

#[tokio::test]
async fn vcenter_certificates_are_verified_unless_accepted() {
    let sim = simulator(&["-tls"]);
    assert!(sim.url.starts_with("https://"), "{}", sim.url);
    let s = TestServer::start(false).await;
    let (st, body) = s
        .post("/api/v1/connections", &request(&sim, PASSWORD))
        .await;
    assert_eq!(st, 422, "{body}");
    assert_eq!(body["error"]["field"], "accept_sha256", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    // The refusal shows the certificate's fingerprint, to be checked and accepted.
    let fingerprint = message
        .split("SHA-256 ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no fingerprint in {message}"))
        .to_string();
    assert_eq!(fingerprint.len(), 95, "{fingerprint}");
    let mut wrong = request(&sim, PASSWORD);
    wrong["accept_sha256"] = json!("00".repeat(32));
    let (st, body) = s.post("/api/v1/connections", &wrong).await;
    assert_eq!(
        (st, body["error"]["field"].as_str()),
        (422, Some("accept_sha256")),
        "{body}"
    );
    let mut pinned = request(&sim, PASSWORD);
    pinned["accept_sha256"] = json!(fingerprint.to_lowercase().replace(':', ""));
    let (st, created) = s.post("/api/v1/connections", &pinned).await;
    assert_eq!(st, 201, "{created}");
    assert_eq!(created["accept_sha256"], fingerprint.as_str());
    let path = format!("/api/v1/connections/{}", created["id"].as_str().unwrap());
    until(&s, &path, |c| c["state"] == "synced").await;
    assert_eq!(s.delete(&path).await, 204);
    let mut lab = request(&sim, PASSWORD);
    lab["insecure_tls"] = json!(true);
    let (st, created) = s.post("/api/v1/connections", &lab).await;
    assert_eq!(st, 201, "{created}");
}

#[tokio::test]
async fn vcenter_sync_logs_in_again_when_its_session_is_ended() {
    let sim = simulator(MODEL);
    let s = TestServer::start_full(&["--demo", "false", "--vcenter-wait-s", "1"], None).await;
    let (st, created) = s
        .post("/api/v1/connections", &request(&sim, PASSWORD))
        .await;
    assert_eq!(st, 201, "{created}");
    let path = format!("/api/v1/connections/{}", created["id"].as_str().unwrap());
    until(&s, &path, |c| c["state"] == "synced").await;
    // An admin in vCenter ends every other session (vmshift's among them).
    let mut admin = sim.admin().await;
    let manager = admin.content.session_manager.clone();
    let sessions = property(&mut admin, &manager, "sessionList").await;
    let mine = property(&mut admin, &manager, "currentSession").await;
    let wrapped = server::vcenter::collect::fragment(&sessions);
    let doc = roxmltree::Document::parse(&wrapped).unwrap();
    let keys: Vec<String> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "key")
        .filter_map(|n| n.text().map(str::to_string))
        .filter(|k| !mine.contains(k.as_str()))
        .collect();
    assert!(!keys.is_empty(), "vmshift's session is listed: {sessions}");
    let body: String = keys
        .iter()
        .map(|k| format!("<sessionId>{k}</sessionId>"))
        .collect();
    admin
        .call("TerminateSession", &manager, &body)
        .await
        .unwrap();
    // A change made now still arrives: the sync noticed and logged in again.
    let objects = raw(&sim).await;
    let v = first(&objects, "VirtualMachine");
    assert_eq!(
        run_task(&mut admin, "PowerOffVM_Task", &v.obj, "").await,
        "success"
    );
    let (_, vms) = s.get("/api/v1/vms").await;
    let id = named(&vms, v.text("name").unwrap())["id"]
        .as_str()
        .unwrap()
        .to_string();
    until(&s, &format!("/api/v1/vms/{id}"), |vm| {
        vm["power_state"] == "off"
    })
    .await;
    let (_, vms) = s.get("/api/v1/vms").await;
    assert_eq!(vms.as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn vcenter_passwords_appear_in_no_answer_log_line_or_row() {
    let sim = simulator(&[]);
    let db = common::TestDb::new().await;
    let log = tempfile::NamedTempFile::new().unwrap();
    let p = common::process::spawn_with(
        &db.url,
        &[
            "--demo",
            "false",
            "--log",
            "debug",
            "--secret-key",
            "a key for this test",
        ],
        &[],
        Some(log.path()),
    )
    .await;
    let post = |body: Value| {
        p.client
            .post(format!("{}/api/v1/connections", p.base))
            .json(&body)
            .send()
    };
    let wrong = "Wr0ng-but-secret!";
    let r = post(request(&sim, wrong)).await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(!r.text().await.unwrap().contains(wrong));
    let r = post(request(&sim, PASSWORD)).await.unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let start = Instant::now();
    loop {
        let one: Value = p
            .client
            .get(format!("{}/api/v1/connections/{id}", p.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(!one.to_string().contains(PASSWORD));
        if one["state"] == "synced" {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{one}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let list = p
        .client
        .get(format!("{}/api/v1/connections", p.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains(&id) && !list.contains(PASSWORD), "{list}");
    drop(p);
    let logged = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        logged.contains("DEBUG") || logged.contains("INFO"),
        "debug logging on"
    );
    assert!(!logged.contains(PASSWORD) && !logged.contains(wrong));
    if let Some(path) = db.sqlite_path() {
        // The database and its write-ahead log, as bytes on disk.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains(USER), "the row is there");
        assert!(!text.contains(PASSWORD), "stored encrypted");
    }
}
