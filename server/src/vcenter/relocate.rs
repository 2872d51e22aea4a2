//! Moving a VM through vCenter (docs/VCENTER.md#migrations): `RelocateVM_Task` with a
//! `VirtualMachineRelocateSpec` — the host and its cluster's resource pool for a vMotion, the
//! datastore and a locator per disk for a Storage vMotion, both for a combined move, in WSDL
//! order — then the task followed through `WaitForUpdatesEx` (`info.state`, `info.progress`,
//! `info.error`), cancelled with `CancelTask` on request or when it never ends, and, once it
//! succeeded, where vCenter says the VM runs (`runtime.host`, the disks' datastores).

use super::collect::{fragment, read_objects};
use super::devices;
use super::soap::{escape, MoRef, Session, SoapError};
use super::watch::{returned_ref, Update, Watch};
use super::Endpoint;
use crate::sync::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What to move where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub vm: MoRef,
    /// The target host (vMotion, combined).
    pub host: Option<MoRef>,
    /// The target datastore (Storage vMotion, combined).
    pub datastore: Option<MoRef>,
}

/// Where vCenter runs the VM after the move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landed {
    pub host: MoRef,
    pub datastores: Vec<MoRef>,
}

/// What the move's task has observed so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seen {
    /// vCenter's task (`task-123`).
    pub task: Option<String>,
    pub percent: f64,
    /// The end: where the VM landed, or vCenter's message.
    pub outcome: Option<Result<Landed, String>>,
}

/// The spec's XML, its elements in WSDL order (service, folder, datastore, diskMoveType,
/// pool, host, disk).
pub fn spec(m: &Move, pool: Option<&MoRef>, disk_keys: &[String]) -> String {
    let mut out = String::from("<spec>");
    if let Some(ds) = &m.datastore {
        out.push_str(&ds.xml("datastore"));
    }
    if let Some(p) = pool {
        out.push_str(&p.xml("pool"));
    }
    if let Some(h) = &m.host {
        out.push_str(&h.xml("host"));
    }
    if let Some(ds) = &m.datastore {
        for key in disk_keys.iter().filter(|k| !k.is_empty()) {
            out.push_str(&format!(
                "<disk><diskId>{}</diskId>{}</disk>",
                escape(key),
                ds.xml("datastore")
            ));
        }
    }
    out.push_str("</spec><priority>defaultPriority</priority>");
    out
}

/// Runs the move to its end, recording what it sees in `seen`.
pub async fn run(
    endpoint: Endpoint,
    m: Move,
    seen: Arc<Mutex<Seen>>,
    cancel: watch::Receiver<bool>,
    timeout: Duration,
) {
    let outcome = match attempt(&endpoint, &m, &seen, cancel, timeout).await {
        Ok(landed) => Ok(landed),
        Err(e) => Err(match e {
            SoapError::Fault(message) => message,
            other => other.to_string(),
        }),
    };
    seen.lock().outcome = Some(outcome);
}

async fn attempt(
    endpoint: &Endpoint,
    m: &Move,
    seen: &Arc<Mutex<Seen>>,
    mut cancel: watch::Receiver<bool>,
    timeout: Duration,
) -> Result<Landed, SoapError> {
    let mut session = Session::login(endpoint).await?;
    // The VM's disks (their keys for the locators) and the target host's resource pool.
    let vm_props: &[(&str, &[&str])] = &[("VirtualMachine", &["config.hardware.device"])];
    let vm = read_objects(&mut session, vm_props, std::slice::from_ref(&m.vm)).await?;
    let keys = vm
        .first()
        .and_then(|o| o.props.get("config.hardware.device"))
        .map(|d| devices::read(&d.xml).disk_keys)
        .unwrap_or_default();
    let pool = match &m.host {
        Some(h) => resource_pool(&mut session, h).await?,
        None => None,
    };
    let answer = session
        .call("RelocateVM_Task", &m.vm, &spec(m, pool.as_ref(), &keys))
        .await?;
    let task = returned_ref(&answer)?;
    seen.lock().task = Some(task.value.clone());
    let filter = format!(
        "<propSet><type>Task</type><pathSet>info.state</pathSet><pathSet>info.progress</pathSet>\
         <pathSet>info.error</pathSet></propSet><objectSet>{}<skip>false</skip></objectSet>",
        task.xml("obj")
    );
    let mut watch = Watch::on(&mut session, &filter).await?;
    let started = Instant::now();
    let mut asked_to_cancel = false;
    let ended = loop {
        if !asked_to_cancel && (*cancel.borrow() || started.elapsed() > timeout) {
            asked_to_cancel = true;
            session.call("CancelTask", &task, "").await?;
        }
        let updates = tokio::select! {
            u = watch.wait(&mut session, 1) => u?,
            _ = cancel.changed(), if !asked_to_cancel => continue,
        };
        if let Some(end) = absorb(seen, updates) {
            break end;
        }
    };
    watch.stop(&mut session).await;
    let result = match ended {
        Ok(()) => landed(&mut session, &m.vm).await,
        Err(message) if started.elapsed() > timeout => Err(SoapError::Fault(format!(
            "vCenter's task {} did not end within {} s and was cancelled ({message})",
            task.value,
            timeout.as_secs()
        ))),
        Err(message) => Err(SoapError::Fault(message)),
    };
    session.logout().await;
    result
}

/// The task's state from its updates: `Some` once it has ended (`Err`: vCenter's message).
fn absorb(seen: &Arc<Mutex<Seen>>, updates: Vec<Update>) -> Option<Result<(), String>> {
    let mut end = None;
    for update in updates {
        let changes: Vec<(String, String, String)> = match update {
            Update::Enter(o) => o
                .props
                .into_iter()
                .map(|(k, v)| (k, v.text, v.xml))
                .collect(),
            Update::Modify { changes, .. } => changes
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v.text, v.xml)))
                .collect(),
            Update::Leave(_) => Vec::new(),
        };
        let mut error = None;
        let mut state = None;
        for (path, text, xml) in changes {
            match path.as_str() {
                "info.progress" => {
                    if let Ok(p) = text.parse::<f64>() {
                        let mut s = seen.lock();
                        s.percent = s.percent.max(p.clamp(0.0, 100.0));
                    }
                }
                "info.state" => state = Some(text),
                "info.error" => error = Some(fault_message(&xml)),
                _ => {}
            }
        }
        match state.as_deref() {
            Some("success") => end = Some(Ok(())),
            Some("error") => {
                end = Some(Err(error.unwrap_or_else(|| "vCenter's task failed".into())))
            }
            _ => {}
        }
    }
    end
}

/// A `LocalizedMethodFault`'s message, with the fault's kind.
pub fn fault_message(xml: &str) -> String {
    let wrapped = fragment(xml);
    let Ok(doc) = roxmltree::Document::parse(&wrapped) else {
        return "vCenter's task failed".into();
    };
    let root = doc.root_element();
    let message = root
        .descendants()
        .find(|n| n.tag_name().name() == "localizedMessage")
        .and_then(|n| n.text())
        .unwrap_or("vCenter's task failed")
        .trim()
        .to_string();
    let kind = root
        .descendants()
        .find(|n| n.tag_name().name() == "fault")
        .and_then(|n| {
            n.attributes()
                .find(|a| a.name() == "type")
                .map(|a| a.value().to_string())
        });
    match kind {
        Some(k) => format!("{message} ({k})"),
        None => message,
    }
}

/// The resource pool of the host's cluster (or of its standalone compute resource).
async fn resource_pool(session: &mut Session, host: &MoRef) -> Result<Option<MoRef>, SoapError> {
    let host_props: &[(&str, &[&str])] = &[("HostSystem", &["parent"])];
    let read = read_objects(session, host_props, std::slice::from_ref(host)).await?;
    let Some(parent) = read.first().and_then(|o| o.refs("parent").first().cloned()) else {
        return Ok(None);
    };
    let pool_props: &[(&str, &[&str])] = &[(parent.kind.as_str(), &["resourcePool"])];
    let read = read_objects(session, pool_props, std::slice::from_ref(&parent)).await?;
    Ok(read
        .first()
        .and_then(|o| o.refs("resourcePool").first().cloned()))
}

/// Where vCenter says the VM runs now.
async fn landed(session: &mut Session, vm: &MoRef) -> Result<Landed, SoapError> {
    let props: &[(&str, &[&str])] = &[(
        "VirtualMachine",
        &["runtime.host", "config.hardware.device"],
    )];
    let read = read_objects(session, props, std::slice::from_ref(vm)).await?;
    let o = read
        .first()
        .ok_or_else(|| SoapError::Fault(format!("{} is gone from vCenter", vm.value)))?;
    let host = o
        .refs("runtime.host")
        .first()
        .cloned()
        .ok_or_else(|| SoapError::Malformed("the VM has no runtime.host".into()))?;
    let datastores = o
        .props
        .get("config.hardware.device")
        .map(|d| {
            devices::read(&d.xml)
                .disks
                .into_iter()
                .map(|(_, ds, _)| ds)
                .collect()
        })
        .unwrap_or_default();
    Ok(Landed { host, datastores })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_lists_its_elements_in_wsdl_order() {
        let m = Move {
            vm: MoRef::new("VirtualMachine", "vm-1"),
            host: Some(MoRef::new("HostSystem", "host-2")),
            datastore: Some(MoRef::new("Datastore", "ds-3")),
        };
        let pool = MoRef::new("ResourcePool", "resgroup-4");
        let xml = spec(&m, Some(&pool), &["2000".into(), "2001".into()]);
        let at = |s: &str| xml.find(s).unwrap_or_else(|| panic!("{s} in {xml}"));
        assert!(at("<datastore") < at("<pool") && at("<pool") < at("<host"));
        assert!(at("<host") < at("<disk>"));
        assert_eq!(xml.matches("<disk>").count(), 2);
        assert!(xml.contains("<diskId>2001</diskId>"));
        let vmotion = Move {
            datastore: None,
            ..m
        };
        let xml = spec(&vmotion, Some(&pool), &["2000".into()]);
        assert!(!xml.contains("<disk>") && !xml.contains("<datastore"));
    }

    #[test]
    fn a_failed_task_says_what_vcenter_said() {
        let xml = r#"<val xsi:type="LocalizedMethodFault"><fault xsi:type="MigrationFault"></fault><localizedMessage>A general system error occurred: no</localizedMessage></val>"#;
        assert_eq!(
            fault_message(xml),
            "A general system error occurred: no (MigrationFault)"
        );
    }
}
