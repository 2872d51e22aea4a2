//! vCenter's own verdict on a vMotion (docs/VCENTER.md#migrations):
//! `QueryVMotionCompatibilityEx_Task` on the service's VM provisioning checker, for one VM and
//! one host; its result's errors and warnings (each a `LocalizedMethodFault`) are shown beside
//! vmshift's checks.

use super::collect::{fragment, read_objects};
use super::relocate::fault_message;
use super::soap::{MoRef, Session, SoapError};
use super::watch::returned_ref;
use super::Endpoint;
use std::time::{Duration, Instant};

/// What vCenter said of the move.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// How long vCenter's task may take before vmshift stops waiting (the checks page waits).
const WAIT: Duration = Duration::from_secs(10);

/// Asks vCenter whether `vm` can vMotion to `host`.
pub async fn query(endpoint: &Endpoint, vm: &MoRef, host: &MoRef) -> Result<Verdict, SoapError> {
    let mut session = Session::login(endpoint).await?;
    let result = ask(&mut session, vm, host).await;
    session.logout().await;
    result
}

async fn ask(session: &mut Session, vm: &MoRef, host: &MoRef) -> Result<Verdict, SoapError> {
    let checker = session
        .content
        .provisioning_checker
        .clone()
        .ok_or_else(|| SoapError::Fault("this server has no VM provisioning checker".into()))?;
    let body = format!("{}{}", vm.xml("vm"), host.xml("host"));
    let answer = session
        .call("QueryVMotionCompatibilityEx_Task", &checker, &body)
        .await?;
    let task = returned_ref(&answer)?;
    let paths: &[(&str, &[&str])] = &[("Task", &["info.state", "info.result", "info.error"])];
    let started = Instant::now();
    loop {
        let read = read_objects(session, paths, std::slice::from_ref(&task)).await?;
        let o = read
            .first()
            .ok_or_else(|| SoapError::Malformed("the task is gone".into()))?;
        match o.text("info.state") {
            Some("success") => {
                let xml = o.props.get("info.result").map_or("", |v| v.xml.as_str());
                return Ok(verdict(xml));
            }
            Some("error") => {
                let xml = o.props.get("info.error").map_or("", |v| v.xml.as_str());
                return Err(SoapError::Fault(fault_message(xml)));
            }
            _ if started.elapsed() > WAIT => {
                return Err(SoapError::Fault(format!(
                    "vCenter's compatibility check did not answer within {} s",
                    WAIT.as_secs()
                )))
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The errors and warnings of an `ArrayOfCheckResult`.
pub fn verdict(xml: &str) -> Verdict {
    let wrapped = fragment(xml);
    let mut out = Verdict::default();
    let Ok(doc) = roxmltree::Document::parse(&wrapped) else {
        return out;
    };
    for node in doc.descendants().filter(|n| n.is_element()) {
        let list = match node.tag_name().name() {
            "error" => &mut out.errors,
            "warning" => &mut out.warnings,
            _ => continue,
        };
        let text = &wrapped[node.range()];
        let message = fault_message(&format!("<val>{}</val>", inner(text)));
        if !list.contains(&message) {
            list.push(message);
        }
    }
    out
}

/// An element's content without its own tags.
fn inner(element: &str) -> &str {
    let start = element.find('>').map_or(0, |i| i + 1);
    let end = element.rfind("</").unwrap_or(element.len());
    &element[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_warnings_are_read_from_the_check_results() {
        let xml = r#"<val xsi:type="ArrayOfCheckResult"><CheckResult><vm type="VirtualMachine">vm-1</vm><host type="HostSystem">host-2</host><error><fault xsi:type="CpuIncompatible"><level>1</level></fault><localizedMessage>The virtual machine requires hardware features that are unsupported</localizedMessage></error><warning><fault xsi:type="NetworkDisruptedAndConfigRolledBack"></fault><localizedMessage>Network interface 'Network adapter 1' uses network 'VM Network', which is not accessible.</localizedMessage></warning></CheckResult></val>"#;
        let v = verdict(xml);
        assert_eq!(
            v.errors,
            vec!["The virtual machine requires hardware features that are unsupported (CpuIncompatible)"]
        );
        assert_eq!(v.warnings.len(), 1);
        assert!(v.warnings[0].starts_with("Network interface"));
        assert_eq!(
            verdict(
                r#"<val xsi:type="ArrayOfCheckResult"><CheckResult><vm type="VirtualMachine">vm-1</vm></CheckResult></val>"#
            ),
            Verdict::default()
        );
    }
}
