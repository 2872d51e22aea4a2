//! The `affinity.rules` check (docs/DESIGN.md#affinity-rules): what the cluster's affinity
//! rules say of the VM on its destination host — an error for a *must* rule or VMs kept
//! apart, a warning for a *should* rule or VMs kept together.

use super::{CheckResult, ObjectRef, Severity};
use crate::*;

pub(super) fn results(inv: &Inventory, vm: &Vm, target: &Host) -> Vec<CheckResult> {
    let place_of = |v: VmId| inv.vms.get(&v).map(|v| v.host_id);
    crate::affinity::judge(inv, vm.id, target.id, place_of)
        .into_iter()
        .map(|b| CheckResult {
            id: "affinity.rules".into(),
            code: b.code.into(),
            args: b
                .args
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            severity: if b.hard {
                Severity::Error
            } else {
                Severity::Warning
            },
            message: b.message,
            remedy: b.remedy,
            objects: vec![
                ObjectRef {
                    kind: ObjectKind::Vm,
                    id: vm.id.0,
                    name: vm.name.to_string(),
                },
                ObjectRef {
                    kind: ObjectKind::Rule,
                    id: b.rule.id.0,
                    name: b.rule.name.to_string(),
                },
                ObjectRef {
                    kind: ObjectKind::Host,
                    id: target.id.0,
                    name: target.name.to_string(),
                },
            ],
        })
        .collect()
}
