//! The gate's rules for affinity rules (docs/DESIGN.md#affinity-rules): a rule belongs to a
//! cluster, names VMs that exist (no VM twice) and, for a host rule, hosts of its cluster.

use super::validate::unknown;
use super::Inventory;
use crate::affinity::{Rule, RuleKind};
use crate::error::DomainError;
use crate::model::Host;
use crate::object::ObjectKind;
use crate::Phrase;
use std::collections::BTreeSet;

/// A rule's kind as a name the pages translate.
fn rule_kind_words(kind: RuleKind) -> Phrase {
    let code = match kind {
        RuleKind::KeepTogether => "keep_together",
        RuleKind::KeepApart => "keep_apart",
        RuleKind::RunOnHosts => "run_on_hosts",
    };
    Phrase::name("rule_kind", code, kind.label())
}

impl Inventory {
    pub(super) fn check_rule(&self, rule: &Rule) -> Result<(), DomainError> {
        let Some(cluster) = self.clusters.get(&rule.cluster_id) else {
            return Err(unknown("cluster_id", ObjectKind::Cluster, rule.cluster_id));
        };
        let least = match rule.kind {
            RuleKind::RunOnHosts => 1,
            RuleKind::KeepTogether | RuleKind::KeepApart => 2,
        };
        if rule.vm_ids.len() < least {
            return Err(DomainError::invalid(
                "vm_ids",
                Phrase::new("refuse.rule_least", &[("least", least.to_string())])
                    .with("kind", rule_kind_words(rule.kind)),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, vm) in rule.vm_ids.iter().enumerate() {
            if !self.vms.contains_key(vm) {
                return Err(unknown(&format!("vm_ids[{i}]"), ObjectKind::Vm, vm));
            }
            if !seen.insert(*vm) {
                let field = format!("vm_ids[{i}]");
                let args = [
                    ("field", field.clone()),
                    ("vm", self.vms[vm].name.to_string()),
                ];
                return Err(DomainError::invalid(
                    field,
                    Phrase::new("refuse.vm_twice", &args),
                ));
            }
        }
        match rule.kind {
            RuleKind::RunOnHosts if rule.host_ids.is_empty() => Err(DomainError::invalid(
                "host_ids",
                Phrase::new("refuse.rule_needs_host", &[]),
            )),
            RuleKind::KeepTogether | RuleKind::KeepApart if !rule.host_ids.is_empty() => {
                Err(DomainError::invalid(
                    "host_ids",
                    Phrase::new("refuse.rule_no_host", &[])
                        .with("kind", rule_kind_words(rule.kind)),
                ))
            }
            _ => {
                for (i, id) in rule.host_ids.iter().enumerate() {
                    let field = format!("host_ids[{i}]");
                    match self.hosts.get(id) {
                        None => return Err(unknown(&field, ObjectKind::Host, id)),
                        Some(h) if h.cluster_id != rule.cluster_id => {
                            return Err(DomainError::invalid(
                                field.clone(),
                                Phrase::new(
                                    "refuse.host_not_in_cluster",
                                    &[
                                        ("field", field.clone()),
                                        ("host", h.name.to_string()),
                                        ("cluster", cluster.name.to_string()),
                                    ],
                                ),
                            ))
                        }
                        Some(_) => {}
                    }
                }
                Ok(())
            }
        }
    }

    /// A host named by a rule of its cluster stays in that cluster.
    pub(super) fn check_host_still_valid(&self, host: &Host) -> Result<(), DomainError> {
        match self
            .rules
            .values()
            .find(|r| r.host_ids.contains(&host.id) && r.cluster_id != host.cluster_id)
        {
            Some(rule) => Err(DomainError::in_use(
                Some("cluster_id"),
                Phrase::new(
                    "refuse.host_named_by_rule",
                    &[
                        ("host", host.name.to_string()),
                        ("rule", rule.name.to_string()),
                    ],
                ),
            )),
            None => Ok(()),
        }
    }
}
