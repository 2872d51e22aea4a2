//! The device checks of a move to another host (docs/DESIGN.md#checks): a device backed
//! by the source host, or by a file the target cannot reach.

use super::rules::{host_ref, vm_ref, Plan, Results};
use super::Severity;
use crate::*;
/// Devices the target cannot back.
pub(super) fn device_rules(inv: &Inventory, p: &Plan, r: &mut Results) {
    let (vm, target) = (p.vm, p.target);
    // Devices the target cannot back.
    for device in &vm.devices {
        let label = device.kind.label();
        let problem = match (device.kind, device.backing, device.datastore_id) {
            (DeviceKind::Usb, _, _) => Some((
                format!(
                    "{label} of {} is passed through from {}",
                    vm.name, p.source.name
                ),
                "passthrough",
                String::new(),
            )),
            (_, DeviceBacking::HostDevice, _) => Some((
                format!(
                    "{label} of {} uses a physical device of {}",
                    vm.name, p.source.name
                ),
                "host_device",
                String::new(),
            )),
            (_, DeviceBacking::File, Some(ds_id)) => inv.datastores.get(&ds_id).and_then(|ds| {
                (!ds.host_ids.contains(&target.id)).then(|| {
                    (
                        format!(
                            "{label} of {} uses backing '[{}] …', which is not accessible from {}",
                            vm.name, ds.name, target.name
                        ),
                        "file",
                        ds.name.to_string(),
                    )
                })
            }),
            (_, DeviceBacking::File, None) => None,
        };
        if let Some((problem, how, datastore)) = problem {
            let (severity, prefix, state) = if device.connected {
                (Severity::Error, "Currently connected device", "connected")
            } else {
                (Severity::Warning, "Disconnected device", "disconnected")
            };
            let host = if how == "file" {
                &target.name
            } else {
                &p.source.name
            };
            r.push(
                (
                    &format!("device.local_backing.{how}_{state}"),
                    &[
                        ("device", &device.kind.as_str()),
                        ("vm", &vm.name),
                        ("host", host),
                        ("datastore", &datastore),
                    ],
                ),
                severity,
                format!("{prefix}: {problem}"),
                "Disconnect the device (or point it to a file on a shared datastore) before migrating.",
                vec![vm_ref(vm), host_ref(target)],
            );
        }
    }
}
