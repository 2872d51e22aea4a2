//! govmomi's vSphere simulator, our test server (`target/vcsim/vcsim`, built by
//! scripts/install-vcsim.sh; docs/VCENTER.md#the-test-server), and a SOAP session to change
//! it from a test as an admin in vCenter would.

use server::vcenter::soap::{MoRef, Session};
use server::vcenter::{Endpoint, Trust};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

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
