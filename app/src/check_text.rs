//! Check results in the page's language (docs/DESIGN.md#languages): the server and the domain
//! say which wording (`code`) and with which values (`args`); the page words it. A code this
//! page does not know (a newer server) shows the English message and remedy as they came.

use crate::i18n::{td_string, Locale};
use crate::lang::{fill, lang_of};
use domain::checks::CheckResult;
use domain::{format, Lang};
use leptos_i18n::I18nContext;
use std::collections::BTreeMap;

/// The message and remedy of `result` in the page's language (read where it is called).
pub fn words(i18n: I18nContext<Locale>, result: &CheckResult) -> (String, String) {
    words_in(i18n.get_locale(), result)
}

/// [`words`] in a given language.
pub fn words_in(locale: Locale, result: &CheckResult) -> (String, String) {
    coded_in(locale, &result.code, &result.args)
        .unwrap_or_else(|| (result.message.clone(), result.remedy.clone()))
}

/// The message and remedy a check's `code` words with `args`, if this page knows the code.
pub fn coded_in(
    locale: Locale,
    code: &str,
    args: &BTreeMap<String, String>,
) -> Option<(String, String)> {
    let (message, remedy) = templates_in(locale, code)?;
    let values: Vec<(&str, String)> = args
        .iter()
        .map(|(name, value)| (name.as_str(), arg(locale, name, value)))
        .collect();
    Some((fill(message, &values), fill(remedy, &values)))
}

/// A value in the page's language: figures by the suffix of their name, device kinds by name.
fn arg(locale: Locale, name: &str, value: &str) -> String {
    let lang: Lang = lang_of(locale);
    let number = || value.parse::<f64>().ok();
    match name {
        n if n.ends_with("_mib") => value
            .parse::<u64>()
            .map_or_else(|_| value.to_string(), |v| format::mib(lang, v)),
        "link_gbps" => number().map_or_else(|| value.to_string(), |v| format::link(lang, v)),
        "per_core" => number().map_or_else(|| value.to_string(), |v| format::number(lang, v, 1)),
        "device" => match value {
            "cdrom" => td_string!(locale, devices.cdrom),
            "floppy" => td_string!(locale, devices.floppy),
            "serial" => td_string!(locale, devices.serial),
            "usb" => td_string!(locale, devices.usb),
            other => other,
        }
        .to_string(),
        _ => value.to_string(),
    }
}

/// The message and remedy templates of a code in `locale` (`None`: not one this page knows).
#[rustfmt::skip]
pub fn templates_in(locale: Locale, code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "vm.powered_on.on" => (td_string!(locale, checks.vm_powered_on_on.message), td_string!(locale, checks.vm_powered_on_on.remedy)),
        "vm.powered_on.off" => (td_string!(locale, checks.vm_powered_on_off.message), td_string!(locale, checks.vm_powered_on_off.remedy)),
        "vm.powered_on.suspended" => (td_string!(locale, checks.vm_powered_on_suspended.message), td_string!(locale, checks.vm_powered_on_suspended.remedy)),
        "vm.busy" => (td_string!(locale, checks.vm_busy.message), td_string!(locale, checks.vm_busy.remedy)),
        "ft.enabled" => (td_string!(locale, checks.ft_enabled.message), td_string!(locale, checks.ft_enabled.remedy)),
        "vcenter.same.vm_own" => (td_string!(locale, checks.vcenter_same_vm_own.message), td_string!(locale, checks.vcenter_same_vm_own.remedy)),
        "vcenter.same.target_own" => (td_string!(locale, checks.vcenter_same_target_own.message), td_string!(locale, checks.vcenter_same_target_own.remedy)),
        "vcenter.same.other" => (td_string!(locale, checks.vcenter_same_other.message), td_string!(locale, checks.vcenter_same_other.remedy)),
        "host.target_same.host" => (td_string!(locale, checks.host_target_same_host.message), td_string!(locale, checks.host_target_same_host.remedy)),
        "host.target_same.combined" => (td_string!(locale, checks.host_target_same_combined.message), td_string!(locale, checks.host_target_same_combined.remedy)),
        "host.state.maintenance" => (td_string!(locale, checks.host_state_maintenance.message), td_string!(locale, checks.host_state_maintenance.remedy)),
        "host.state.disconnected" => (td_string!(locale, checks.host_state_disconnected.message), td_string!(locale, checks.host_state_disconnected.remedy)),
        "host.state.source_disconnected" => (td_string!(locale, checks.host_state_source_disconnected.message), td_string!(locale, checks.host_state_source_disconnected.remedy)),
        "vmotion.vmknic.missing_source" => (td_string!(locale, checks.vmotion_vmknic_missing_source.message), td_string!(locale, checks.vmotion_vmknic_missing_source.remedy)),
        "vmotion.vmknic.missing_destination" => (td_string!(locale, checks.vmotion_vmknic_missing_destination.message), td_string!(locale, checks.vmotion_vmknic_missing_destination.remedy)),
        "vmotion.vmknic.down_source" => (td_string!(locale, checks.vmotion_vmknic_down_source.message), td_string!(locale, checks.vmotion_vmknic_down_source.remedy)),
        "vmotion.vmknic.down_destination" => (td_string!(locale, checks.vmotion_vmknic_down_destination.message), td_string!(locale, checks.vmotion_vmknic_down_destination.remedy)),
        "vmotion.link_speed.source" => (td_string!(locale, checks.vmotion_link_speed_source.message), td_string!(locale, checks.vmotion_link_speed_source.remedy)),
        "vmotion.link_speed.destination" => (td_string!(locale, checks.vmotion_link_speed_destination.message), td_string!(locale, checks.vmotion_link_speed_destination.remedy)),
        "vmotion.ip_family" => (td_string!(locale, checks.vmotion_ip_family.message), td_string!(locale, checks.vmotion_ip_family.remedy)),
        "cpu.vendor" => (td_string!(locale, checks.cpu_vendor.message), td_string!(locale, checks.cpu_vendor.remedy)),
        "cpu.features" => (td_string!(locale, checks.cpu_features.message), td_string!(locale, checks.cpu_features.remedy)),
        "resources.memory" => (td_string!(locale, checks.resources_memory.message), td_string!(locale, checks.resources_memory.remedy)),
        "resources.cpu.cores" => (td_string!(locale, checks.resources_cpu_cores.message), td_string!(locale, checks.resources_cpu_cores.remedy)),
        "resources.cpu.contention" => (td_string!(locale, checks.resources_cpu_contention.message), td_string!(locale, checks.resources_cpu_contention.remedy)),
        "affinity.cpu" => (td_string!(locale, checks.affinity_cpu.message), td_string!(locale, checks.affinity_cpu.remedy)),
        "network.portgroup.standard_connected" => (td_string!(locale, checks.network_portgroup_standard_connected.message), td_string!(locale, checks.network_portgroup_standard_connected.remedy)),
        "network.portgroup.distributed_connected" => (td_string!(locale, checks.network_portgroup_distributed_connected.message), td_string!(locale, checks.network_portgroup_distributed_connected.remedy)),
        "network.portgroup.unreachable_connected" => (td_string!(locale, checks.network_portgroup_unreachable_connected.message), td_string!(locale, checks.network_portgroup_unreachable_connected.remedy)),
        "network.portgroup.standard_disconnected" => (td_string!(locale, checks.network_portgroup_standard_disconnected.message), td_string!(locale, checks.network_portgroup_standard_disconnected.remedy)),
        "network.portgroup.distributed_disconnected" => (td_string!(locale, checks.network_portgroup_distributed_disconnected.message), td_string!(locale, checks.network_portgroup_distributed_disconnected.remedy)),
        "network.portgroup.unreachable_disconnected" => (td_string!(locale, checks.network_portgroup_unreachable_disconnected.message), td_string!(locale, checks.network_portgroup_unreachable_disconnected.remedy)),
        "device.local_backing.passthrough_connected" => (td_string!(locale, checks.device_local_backing_passthrough_connected.message), td_string!(locale, checks.device_local_backing_passthrough_connected.remedy)),
        "device.local_backing.host_device_connected" => (td_string!(locale, checks.device_local_backing_host_device_connected.message), td_string!(locale, checks.device_local_backing_host_device_connected.remedy)),
        "device.local_backing.file_connected" => (td_string!(locale, checks.device_local_backing_file_connected.message), td_string!(locale, checks.device_local_backing_file_connected.remedy)),
        "device.local_backing.passthrough_disconnected" => (td_string!(locale, checks.device_local_backing_passthrough_disconnected.message), td_string!(locale, checks.device_local_backing_passthrough_disconnected.remedy)),
        "device.local_backing.host_device_disconnected" => (td_string!(locale, checks.device_local_backing_host_device_disconnected.message), td_string!(locale, checks.device_local_backing_host_device_disconnected.remedy)),
        "device.local_backing.file_disconnected" => (td_string!(locale, checks.device_local_backing_file_disconnected.message), td_string!(locale, checks.device_local_backing_file_disconnected.remedy)),
        "storage.local" => (td_string!(locale, checks.storage_local.message), td_string!(locale, checks.storage_local.remedy)),
        "storage.shared" => (td_string!(locale, checks.storage_shared.message), td_string!(locale, checks.storage_shared.remedy)),
        "datastore.target_same.datastore" => (td_string!(locale, checks.datastore_target_same_datastore.message), td_string!(locale, checks.datastore_target_same_datastore.remedy)),
        "datastore.target_same.combined" => (td_string!(locale, checks.datastore_target_same_combined.message), td_string!(locale, checks.datastore_target_same_combined.remedy)),
        "datastore.reachable" => (td_string!(locale, checks.datastore_reachable.message), td_string!(locale, checks.datastore_reachable.remedy)),
        "datastore.space" => (td_string!(locale, checks.datastore_space.message), td_string!(locale, checks.datastore_space.remedy)),
        "affinity.rules.keep_apart" => (td_string!(locale, checks.affinity_rules_keep_apart.message), td_string!(locale, checks.affinity_rules_keep_apart.remedy)),
        "affinity.rules.keep_together" => (td_string!(locale, checks.affinity_rules_keep_together.message), td_string!(locale, checks.affinity_rules_keep_together.remedy)),
        "affinity.rules.run_on_must" => (td_string!(locale, checks.affinity_rules_run_on_must.message), td_string!(locale, checks.affinity_rules_run_on_must.remedy)),
        "affinity.rules.run_on_should" => (td_string!(locale, checks.affinity_rules_run_on_should.message), td_string!(locale, checks.affinity_rules_run_on_should.remedy)),
        "vcenter.compatibility.ok" => (td_string!(locale, checks.vcenter_compatibility_ok.message), td_string!(locale, checks.vcenter_compatibility_ok.remedy)),
        "vcenter.compatibility.error" => (td_string!(locale, checks.vcenter_compatibility_error.message), td_string!(locale, checks.vcenter_compatibility_error.remedy)),
        "vcenter.compatibility.warning" => (td_string!(locale, checks.vcenter_compatibility_warning.message), td_string!(locale, checks.vcenter_compatibility_warning.remedy)),
        "vcenter.compatibility.unanswered" => (td_string!(locale, checks.vcenter_compatibility_unanswered.message), td_string!(locale, checks.vcenter_compatibility_unanswered.remedy)),
        "request.invalid" => (td_string!(locale, checks.request_invalid.message), td_string!(locale, checks.request_invalid.remedy)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::checks::{check_migration, MigrationKind, MigrationRequest};
    use domain::{Inventory, InventoryFile};
    use std::collections::{BTreeMap, BTreeSet};

    const DEMO: &str = include_str!("../../server/data/demo.json");

    /// Every result the checks give for every move of the demo inventory (every VM, every
    /// kind, every host and datastore): each wording there is, with its values.
    fn every_result() -> BTreeMap<String, Vec<CheckResult>> {
        let file: InventoryFile = serde_json::from_str(DEMO).unwrap();
        let (inv, _, _) = Inventory::default().validate_import(file).unwrap();
        let busy = BTreeSet::new();
        let mut by_code: BTreeMap<String, Vec<CheckResult>> = BTreeMap::new();
        for vm in inv.vms.values() {
            for kind in MigrationKind::ALL {
                let hosts: Vec<_> = if kind.moves_host() {
                    inv.hosts.keys().map(|h| Some(*h)).collect()
                } else {
                    vec![None]
                };
                let stores: Vec<_> = if kind.moves_storage() {
                    inv.datastores.keys().map(|d| Some(*d)).collect()
                } else {
                    vec![None]
                };
                for host in &hosts {
                    for ds in &stores {
                        let request = MigrationRequest {
                            vm_id: vm.id,
                            kind,
                            target_host_id: *host,
                            target_datastore_id: *ds,
                            options: Default::default(),
                        };
                        let Ok(report) = check_migration(&inv, &request, &busy) else {
                            continue;
                        };
                        for r in report.results {
                            by_code.entry(r.code.clone()).or_default().push(r);
                        }
                    }
                }
            }
        }
        by_code
    }

    #[test]
    fn every_wording_of_the_demo_reads_in_english_as_the_api_says_it_and_fully_in_french() {
        let by_code = every_result();
        // The demo is built to show the checks: most wordings occur.
        assert!(by_code.len() >= 20, "{:?}", by_code.keys());
        for (code, results) in &by_code {
            for r in results {
                assert!(code.starts_with(&r.id), "{code} is a wording of {}", r.id);
                let (message, remedy) = words_in(Locale::en, r);
                assert_eq!(message, r.message, "{code}: English as the API says it");
                assert_eq!(remedy, r.remedy, "{code}");
                let (message, remedy) = words_in(Locale::fr, r);
                for text in [&message, &remedy] {
                    assert!(!text.contains('{'), "{code}: a value left out: {text}");
                }
                assert_ne!(message, r.message, "{code}: not translated");
            }
        }
    }
}
