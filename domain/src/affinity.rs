//! Affinity rules, as vSphere's DRS has them (docs/DESIGN.md#affinity-rules): VMs kept
//! together on one host, VMs kept apart on different hosts, VMs bound to a group of hosts
//! (*must* run there, or *should*). What a rule says of one VM placed on one host, given where
//! the others are, is [`judge`]: the checks (`affinity.rules`), the placement of maintenance
//! plans and the wizard all ask it.

use crate::ids::*;
use crate::values::Name;
use crate::Inventory;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// The VMs run on one host.
    KeepTogether,
    /// No two of the VMs run on one host.
    KeepApart,
    /// The VMs run on the rule's hosts (`mandatory`: must; else should).
    RunOnHosts,
}

impl RuleKind {
    pub fn label(self) -> &'static str {
        match self {
            RuleKind::KeepTogether => "keep together",
            RuleKind::KeepApart => "keep apart",
            RuleKind::RunOnHosts => "run on hosts",
        }
    }
}

/// An affinity rule of a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default = "RuleId::new_random")]
    pub id: RuleId,
    pub name: Name,
    pub cluster_id: ClusterId,
    pub kind: RuleKind,
    /// For a host rule: *must* (`true`, breaking it is an error) or *should* (`false`, a
    /// warning). VMs kept apart always must be; VMs kept together should be.
    #[serde(default)]
    pub mandatory: bool,
    pub vm_ids: Vec<VmId>,
    /// The host group of a `run_on_hosts` rule (empty for the others).
    #[serde(default)]
    pub host_ids: Vec<HostId>,
    /// A disabled rule is kept but not applied.
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

impl Rule {
    /// Whether breaking it blocks a move (else it warns).
    pub fn is_hard(&self) -> bool {
        match self.kind {
            RuleKind::KeepApart => true,
            RuleKind::KeepTogether => false,
            RuleKind::RunOnHosts => self.mandatory,
        }
    }
}

/// A rule a placement would break.
#[derive(Debug, Clone, PartialEq)]
pub struct Breach<'a> {
    pub rule: &'a Rule,
    /// Breaking it blocks the move.
    pub hard: bool,
    /// The wording's code (`affinity.rules.keep_apart`) and the values it names, for the
    /// pages to translate (docs/DESIGN.md#languages).
    pub code: &'static str,
    pub args: Vec<(&'static str, String)>,
    pub message: String,
    pub remedy: String,
}

/// What the enabled rules say of `vm` running on `host`, the other VMs where `place_of` puts
/// them (the inventory as it is, or as a plan's earlier moves leave it).
pub fn judge<'a>(
    inv: &'a Inventory,
    vm: VmId,
    host: HostId,
    place_of: impl Fn(VmId) -> Option<HostId>,
) -> Vec<Breach<'a>> {
    let mut out = Vec::new();
    let name = |v: VmId| {
        inv.vms
            .get(&v)
            .map_or_else(|| v.to_string(), |v| v.name.to_string())
    };
    let host_name = |h: HostId| {
        inv.hosts
            .get(&h)
            .map_or_else(|| h.to_string(), |h| h.name.to_string())
    };
    for rule in inv
        .rules
        .values()
        .filter(|r| r.enabled && r.vm_ids.contains(&vm))
    {
        let others = rule.vm_ids.iter().filter(|v| **v != vm);
        let breach = match rule.kind {
            RuleKind::KeepApart => others
                .filter(|v| place_of(**v) == Some(host))
                .map(|v| {
                    (
                        format!(
                            "{} and {} must not run on the same host ({} would hold both)",
                            name(vm),
                            name(*v),
                            host_name(host)
                        ),
                        "affinity.rules.keep_apart",
                        vec![("other", name(*v)), ("host", host_name(host))],
                    )
                })
                .next(),
            RuleKind::KeepTogether => others
                .filter_map(|v| place_of(*v).map(|h| (v, h)))
                .find(|(_, h)| *h != host)
                .map(|(v, h)| {
                    (
                        format!(
                            "{} should run with {}, which runs on {}",
                            name(vm),
                            name(*v),
                            host_name(h)
                        ),
                        "affinity.rules.keep_together",
                        vec![("other", name(*v)), ("host", host_name(h))],
                    )
                }),
            RuleKind::RunOnHosts => (!rule.host_ids.contains(&host)).then(|| {
                let (verb, code) = if rule.mandatory {
                    ("must", "affinity.rules.run_on_must")
                } else {
                    ("should", "affinity.rules.run_on_should")
                };
                let hosts = rule
                    .host_ids
                    .iter()
                    .map(|h| host_name(*h))
                    .collect::<Vec<_>>()
                    .join(", ");
                (
                    format!(
                        "{} {verb} run on {hosts}, not on {}",
                        name(vm),
                        host_name(host)
                    ),
                    code,
                    vec![("hosts", hosts), ("host", host_name(host))],
                )
            }),
        };
        if let Some((message, code, mut args)) = breach {
            args.push(("rule", rule.name.to_string()));
            args.push(("vm", name(vm)));
            out.push(Breach {
                rule,
                hard: rule.is_hard(),
                code,
                args,
                message: format!("Affinity rule {}: {message}", rule.name),
                remedy: match rule.kind {
                    RuleKind::RunOnHosts => "Choose one of the rule's hosts, or change the rule.",
                    RuleKind::KeepApart => "Choose a host that none of the rule's other VMs runs on, or change the rule.",
                    RuleKind::KeepTogether => "Choose the host the rule's other VMs run on, or move them together.",
                }
                .to_string(),
            });
        }
    }
    out
}
