//! The gate's rules for affinity rules (docs/DESIGN.md#affinity-rules): a rule belongs to a
//! cluster, names VMs that exist (no VM twice) and, for a host rule, hosts of its cluster.

use super::Inventory;
use crate::affinity::{Rule, RuleKind};
use crate::error::DomainError;
use crate::model::Host;
use std::collections::BTreeSet;

impl Inventory {
    pub(super) fn check_rule(&self, rule: &Rule) -> Result<(), DomainError> {
        let Some(cluster) = self.clusters.get(&rule.cluster_id) else {
            return Err(DomainError::invalid(
                "cluster_id",
                format!("cluster_id: no cluster has id {}", rule.cluster_id),
            ));
        };
        let least = match rule.kind {
            RuleKind::RunOnHosts => 1,
            RuleKind::KeepTogether | RuleKind::KeepApart => 2,
        };
        if rule.vm_ids.len() < least {
            return Err(DomainError::invalid(
                "vm_ids",
                format!(
                    "vm_ids: a {} rule names at least {least} VM(s)",
                    rule.kind.label()
                ),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, vm) in rule.vm_ids.iter().enumerate() {
            if !self.vms.contains_key(vm) {
                return Err(DomainError::invalid(
                    format!("vm_ids[{i}]"),
                    format!("vm_ids[{i}]: no VM has id {vm}"),
                ));
            }
            if !seen.insert(*vm) {
                return Err(DomainError::invalid(
                    format!("vm_ids[{i}]"),
                    format!("vm_ids[{i}]: {} is named twice", self.vms[vm].name),
                ));
            }
        }
        match rule.kind {
            RuleKind::RunOnHosts if rule.host_ids.is_empty() => Err(DomainError::invalid(
                "host_ids",
                "host_ids: a run-on-hosts rule names at least one host",
            )),
            RuleKind::KeepTogether | RuleKind::KeepApart if !rule.host_ids.is_empty() => {
                Err(DomainError::invalid(
                    "host_ids",
                    format!("host_ids: a {} rule names no host", rule.kind.label()),
                ))
            }
            _ => {
                for (i, id) in rule.host_ids.iter().enumerate() {
                    let field = format!("host_ids[{i}]");
                    match self.hosts.get(id) {
                        None => {
                            return Err(DomainError::invalid(
                                field.clone(),
                                format!("{field}: no host has id {id}"),
                            ))
                        }
                        Some(h) if h.cluster_id != rule.cluster_id => {
                            return Err(DomainError::invalid(
                                field.clone(),
                                format!("{field}: {} is not in cluster {}", h.name, cluster.name),
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
                format!(
                    "cluster_id: {} stays in its cluster while affinity rule {} names it",
                    host.name, rule.name
                ),
            )),
            None => Ok(()),
        }
    }
}
