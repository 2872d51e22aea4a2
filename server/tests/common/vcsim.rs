//! govmomi's vSphere simulator, our test server (`target/vcsim/vcsim`, built by
//! scripts/install-vcsim.sh; docs/VCENTER.md#the-test-server), and a SOAP session to change
//! it from a test as an admin in vCenter would.

use super::TestServer;
use serde_json::{json, Value};
use server::vcenter::collect::{collect, Object};
use server::vcenter::map::WANTED;
use server::vcenter::soap::{MoRef, Session};
use server::vcenter::{Endpoint, Trust};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "administrator@vsphere.local";
pub const PASSWORD: &str = "vmshift-vcsim";

pub struct Simulator {
    child: Child,
    pub url: String,
    args: Vec<String>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn launch(args: &[String]) -> (Child, String) {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/vcsim/vcsim");
    assert!(
        bin.exists(),
        "the vSphere simulator is missing: run scripts/install-vcsim.sh (scripts/test.sh skips these tests without it)"
    );
    let mut child = Command::new(bin)
        .args(["-username", USER, "-password", PASSWORD])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_string())
}

/// The test server with `args` (its model's knobs), once it prints its URL.
pub fn simulator(args: &[&str]) -> Simulator {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let (child, url) = launch(&args);
    Simulator { child, url, args }
}

impl Simulator {
    /// Stops it (as a vCenter going down would).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same address, with a fresh model.
    pub fn restart(&mut self) {
        self.kill();
        let address = self
            .url
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_end_matches("/sdk")
            .to_string();
        let mut args = self.args.clone();
        args.extend(["-listen".to_string(), address]);
        let (child, url) = launch(&args);
        assert_eq!(url, self.url, "started again on the same address");
        self.child = child;
    }

    pub fn endpoint(&self, password: &str) -> Endpoint {
        Endpoint {
            url: self.url.clone(),
            username: USER.into(),
            password: password.into(),
            trust: Trust::default(),
        }
    }

    /// A session of the test's own, to change the simulator.
    pub async fn admin(&self) -> Session {
        Session::login(&self.endpoint(PASSWORD)).await.unwrap()
    }
}

/// Calls a `…_Task` method and waits for its task to end; the task's final state.
pub async fn run_task(session: &mut Session, method: &str, this: &MoRef, body: &str) -> String {
    let answer = session.call(method, this, body).await.unwrap();
    let task = returnval_ref(&answer);
    for _ in 0..100 {
        let state = property(session, &task, "info.state").await;
        if state == "success" || state == "error" {
            return state;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{method} did not end");
}

pub fn returnval_ref(answer: &str) -> MoRef {
    let doc = roxmltree::Document::parse(answer).unwrap();
    let rv = doc
        .descendants()
        .find(|n| n.tag_name().name() == "returnval")
        .unwrap();
    MoRef::new(rv.attribute("type").unwrap(), rv.text().unwrap())
}

/// One property of one object, as text (the first text below its value).
pub async fn property(session: &mut Session, obj: &MoRef, path: &str) -> String {
    let wanted: &[(&str, &[&str])] = &[(obj.kind.as_str(), &[path])];
    let read = server::vcenter::collect::read_objects(session, wanted, std::slice::from_ref(obj))
        .await
        .unwrap();
    read.first()
        .and_then(|o| o.props.get(path))
        .map(|v| {
            if v.text.is_empty() {
                v.xml.clone()
            } else {
                v.text.clone()
            }
        })
        .unwrap_or_default()
}

// What the vCenter tests share: a model, a connection, waiting, reading the simulator.

pub const MODEL: &[&str] = &[
    "-cluster",
    "2",
    "-cluster-host",
    "3",
    "-host",
    "1",
    "-ds",
    "2",
    "-vm",
    "2",
];

pub fn request(sim: &Simulator, password: &str) -> Value {
    json!({"kind": "vcenter", "name": "lab-vc", "url": sim.url, "username": USER, "password": password})
}

/// Polls `GET path` until `done` holds (up to 20 s); the last answer.
pub async fn until(s: &TestServer, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let (st, body) = s.get(path).await;
        assert_eq!(st, 200, "{body}");
        if done(&body) {
            return body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{path} never got there: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn named<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {list}"))
}

/// What the simulator holds, read raw.
pub async fn raw(sim: &Simulator) -> Vec<Object> {
    collect(&mut sim.admin().await, WANTED).await.unwrap()
}

pub fn first<'a>(objects: &'a [Object], kind: &str) -> &'a Object {
    objects.iter().find(|o| o.obj.kind == kind).unwrap()
}

/// The host's cluster.
pub fn h_parent(objects: &[Object], host: &MoRef) -> Vec<MoRef> {
    objects
        .iter()
        .find(|o| &o.obj == host)
        .map(|o| o.refs("parent").to_vec())
        .unwrap_or_default()
}

/// Connects the simulator; the vmshift ids by name, per collection.
pub async fn connected(
    s: &TestServer,
    sim: &Simulator,
) -> std::collections::HashMap<String, String> {
    let (st, created) = s.post("/api/v1/connections", &request(sim, PASSWORD)).await;
    assert_eq!(st, 201, "{created}");
    let path = format!("/api/v1/connections/{}", created["id"].as_str().unwrap());
    until(s, &path, |c| c["state"] == "synced").await;
    let mut ids = std::collections::HashMap::new();
    for collection in ["hosts", "datastores", "vms"] {
        let (_, list) = s.get(&format!("/api/v1/{collection}")).await;
        for o in list.as_array().unwrap() {
            ids.insert(
                o["name"].as_str().unwrap().to_string(),
                o["id"].as_str().unwrap().to_string(),
            );
        }
    }
    ids
}

/// Starts a migration; waits for its end; the record and its events.
pub async fn migrate(s: &TestServer, body: Value) -> (Value, Vec<Value>) {
    let (st, m) = s.post("/api/v1/migrations", &body).await;
    assert_eq!(st, 201, "{m}");
    let id = m["id"].as_str().unwrap().to_string();
    let done = until(s, &format!("/api/v1/migrations/{id}"), |m| {
        ["completed", "failed", "cancelled"].contains(&m["phase"].as_str().unwrap())
    })
    .await;
    let (_, events) = s.get(&format!("/api/v1/migrations/{id}/events")).await;
    (done, events.as_array().unwrap().clone())
}

/// Where the simulator runs a VM: its host's name and its disks' datastores' names.
pub async fn in_vcenter(sim: &Simulator, vm: &str) -> (String, Vec<String>) {
    let objects = raw(sim).await;
    let name_of = |r: &MoRef| {
        objects
            .iter()
            .find(|o| &o.obj == r)
            .and_then(|o| o.text("name"))
            .unwrap_or_default()
            .to_string()
    };
    let v = objects
        .iter()
        .find(|o| o.obj.kind == "VirtualMachine" && o.text("name") == Some(vm))
        .unwrap();
    let devices = server::vcenter::devices::read(&v.props["config.hardware.device"].xml);
    (
        name_of(&v.refs("runtime.host")[0]),
        devices.disks.iter().map(|(_, ds, _)| name_of(ds)).collect(),
    )
}

/// A refusal's status, field and message, asserted.
pub fn refused(status: u16, body: &Value, field: &str, says: &str) {
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], field, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{body}");
}

/// Another host of the first cluster than `host`.
pub fn neighbour(host: &str) -> &'static str {
    ["DC0_C0_H0", "DC0_C0_H1", "DC0_C0_H2"]
        .into_iter()
        .find(|h| *h != host)
        .unwrap()
}
