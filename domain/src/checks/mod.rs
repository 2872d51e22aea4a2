//! The prerequisite checks of a migration (docs/DESIGN.md#checks): pure functions of the inventory and a
//! request, run by the server before every start and by the browser for instant feedback.

mod affinity;
mod compute;
mod devices;
mod network;
pub(crate) mod rules;
mod storage;
mod targets;
#[cfg(test)]
mod tests;

use super::error::DomainError;
use super::ids::*;
use crate::inventory::Inventory;
use crate::object::ObjectKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub use rules::{CPU_OVERCOMMIT_WARNING, SLOW_LINK_GBPS, SPACE_HEADROOM};
pub use targets::{rank_targets, TargetSummary, Targets};

/// The three ways a running VM moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MigrationKind {
    /// Compute: memory and CPU state move to another host; disks stay.
    #[serde(rename = "vmotion")]
    VMotion,
    /// Storage: disks move to another datastore; the VM stays on its host.
    #[serde(rename = "storage_vmotion")]
    StorageVMotion,
    /// Both at once: another host and another datastore.
    #[serde(rename = "combined")]
    Combined,
}

impl MigrationKind {
    pub const ALL: [MigrationKind; 3] = [
        MigrationKind::VMotion,
        MigrationKind::StorageVMotion,
        MigrationKind::Combined,
    ];

    pub fn moves_host(self) -> bool {
        !matches!(self, MigrationKind::StorageVMotion)
    }

    pub fn moves_storage(self) -> bool {
        !matches!(self, MigrationKind::VMotion)
    }

    pub fn label(self) -> &'static str {
        match self {
            MigrationKind::VMotion => "vMotion",
            MigrationKind::StorageVMotion => "Storage vMotion",
            MigrationKind::Combined => "vMotion + Storage vMotion",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MigrationKind::VMotion => "vmotion",
            MigrationKind::StorageVMotion => "storage_vmotion",
            MigrationKind::Combined => "combined",
        }
    }
}

/// How a migration should run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationOptions {
    /// Stun time aimed at, ms (default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downtime_target_ms: Option<u32>,
    /// Upper bound of the transfer rate, Mbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_cap_mbps: Option<u32>,
    /// Queue priority (higher first), 0–10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
}

impl MigrationOptions {
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(t) = self.downtime_target_ms {
            if !(1..=100_000).contains(&t) {
                return Err(DomainError::invalid(
                    "options.downtime_target_ms",
                    crate::Phrase::new("refuse.downtime_target", &[]),
                ));
            }
        }
        if self.bandwidth_cap_mbps == Some(0) {
            return Err(DomainError::invalid(
                "options.bandwidth_cap_mbps",
                crate::Phrase::new("refuse.bandwidth_cap", &[]),
            ));
        }
        if self.priority.is_some_and(|p| p > 10) {
            return Err(DomainError::invalid(
                "options.priority",
                crate::Phrase::new("refuse.priority", &[]),
            ));
        }
        Ok(())
    }
}

/// What a user asks to check, predict or start: the move, and how it should run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationRequest {
    pub vm_id: VmId,
    pub kind: MigrationKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_host_id: Option<HostId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_datastore_id: Option<DatastoreId>,
    #[serde(default)]
    pub options: MigrationOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks the migration.
    Error,
    /// Worth knowing; does not block.
    Warning,
    /// Explains how the migration will run.
    Info,
}

/// An object a check result is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    pub kind: ObjectKind,
    pub id: uuid::Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Stable id of the rule (`storage.shared`).
    pub id: String,
    /// Stable code of this wording of the rule (`host.state.maintenance`): what the pages
    /// translate, with `args` (docs/DESIGN.md#languages).
    #[serde(default)]
    pub code: String,
    /// The values the wording names: object names as they are, figures as plain numbers
    /// (`free_mib`: MiB, `link_gbps`: Gbit/s), formatted by the page in its language.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    pub severity: Severity,
    /// In English, as the REST API has always said it.
    pub message: String,
    /// How to fix it, in English.
    pub remedy: String,
    pub objects: Vec<ObjectRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// No result of severity `error`.
    pub allowed: bool,
    /// Errors first, then warnings, then information.
    pub results: Vec<CheckResult>,
}

impl CheckReport {
    pub fn from_results(mut results: Vec<CheckResult>) -> Self {
        results.sort_by_key(|r| r.severity);
        CheckReport {
            allowed: !results.iter().any(|r| r.severity == Severity::Error),
            results,
        }
    }

    pub fn first_error(&self) -> Option<&CheckResult> {
        self.results.iter().find(|r| r.severity == Severity::Error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.results
            .iter()
            .filter(|r| r.severity == severity)
            .count()
    }
}

/// Every rule id, for documentation and tests.
pub const RULE_IDS: [&str; 21] = [
    "vm.powered_on",
    "host.target_same",
    "host.state",
    "vmotion.vmknic",
    "vmotion.link_speed",
    "vmotion.ip_family",
    "cpu.vendor",
    "cpu.features",
    "storage.shared",
    "storage.local",
    "network.portgroup",
    "device.local_backing",
    "resources.memory",
    "resources.cpu",
    "datastore.target_same",
    "datastore.space",
    "datastore.reachable",
    "ft.enabled",
    "affinity.cpu",
    "affinity.rules",
    "vm.busy",
];

/// Checks a migration request against the inventory. `busy` holds the VMs that already have
/// a migration queued or running. A malformed request (unknown VM, a target missing for the
/// kind, an unknown target) is refused naming the field.
pub fn check_migration(
    inv: &Inventory,
    request: &MigrationRequest,
    busy: &BTreeSet<VmId>,
) -> Result<CheckReport, DomainError> {
    request.options.validate()?;
    let plan = rules::Plan::resolve(inv, request)?;
    Ok(CheckReport::from_results(rules::run(inv, &plan, busy)))
}
