//! Finding objects by name (docs/DESIGN.md#search): the header's search box and the wizard's
//! VM picker. Case-insensitive; an exact name first, then names that start with the text,
//! then names that contain it; clusters, hosts and VMs before the rest; then by name.

use crate::*;
use serde::{Deserialize, Serialize};

/// One object found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub kind: ObjectKind,
    pub id: uuid::Uuid,
    pub name: String,
    /// Where it is, in words: a VM's host and cluster, a host's cluster.
    pub context: String,
    /// The cluster that shows it on the map (a datastore's or switch's first, by name).
    pub cluster: Option<ClusterId>,
}

/// What a search found: the first `limit` hits and how many there are in all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Found {
    pub hits: Vec<Hit>,
    pub total: usize,
}

/// Which kinds to look in: all, or one.
pub fn find(inv: &Inventory, text: &str, only: Option<ObjectKind>, limit: usize) -> Found {
    let needle = text.trim().to_lowercase();
    if needle.is_empty() {
        return Found::default();
    }
    let mut matches: Vec<Match<'_>> = Vec::new();
    let wanted = |k: ObjectKind| only.is_none_or(|o| o == k);
    if wanted(ObjectKind::Cluster) {
        look(
            &mut matches,
            &needle,
            ObjectKind::Cluster,
            inv.clusters.values().map(|o| (&o.name, o.id.0)),
        );
    }
    if wanted(ObjectKind::Host) {
        look(
            &mut matches,
            &needle,
            ObjectKind::Host,
            inv.hosts.values().map(|o| (&o.name, o.id.0)),
        );
    }
    if wanted(ObjectKind::Vm) {
        look(
            &mut matches,
            &needle,
            ObjectKind::Vm,
            inv.vms.values().map(|o| (&o.name, o.id.0)),
        );
    }
    if wanted(ObjectKind::Datastore) {
        look(
            &mut matches,
            &needle,
            ObjectKind::Datastore,
            inv.datastores.values().map(|o| (&o.name, o.id.0)),
        );
    }
    if wanted(ObjectKind::Portgroup) {
        look(
            &mut matches,
            &needle,
            ObjectKind::Portgroup,
            inv.portgroups.values().map(|o| (&o.name, o.id.0)),
        );
    }
    if wanted(ObjectKind::Switch) {
        look(
            &mut matches,
            &needle,
            ObjectKind::Switch,
            inv.switches.values().map(|o| (&o.name, o.id.0)),
        );
    }
    let total = matches.len();
    // Only the first `limit` need their order: select them, then sort those.
    if matches.len() > limit && limit > 0 {
        matches.select_nth_unstable(limit - 1);
    }
    matches.truncate(limit);
    matches.sort();
    let hits = matches
        .into_iter()
        .map(|(_, _, name, kind, id)| hit(inv, kind, id, name.to_string()))
        .collect();
    Found { hits, total }
}

/// Adds the names that match `needle` to `out`.
fn look<'a>(
    out: &mut Vec<Match<'a>>,
    needle: &str,
    kind: ObjectKind,
    names: impl Iterator<Item = (&'a Name, uuid::Uuid)>,
) {
    let order = ORDER.iter().position(|k| *k == kind).unwrap_or(ORDER.len()) as u8;
    for (name, id) in names {
        if let Some(rank) = rank(name.as_str(), needle) {
            out.push((rank, order, name.as_str(), kind, id));
        }
    }
}

/// (rank, kind's order, name, kind, id): sorting these ranks the hits.
type Match<'a> = (u8, u8, &'a str, ObjectKind, uuid::Uuid);

/// Clusters, hosts and VMs before the rest.
const ORDER: [ObjectKind; 6] = [
    ObjectKind::Cluster,
    ObjectKind::Host,
    ObjectKind::Vm,
    ObjectKind::Datastore,
    ObjectKind::Portgroup,
    ObjectKind::Switch,
];

/// 0: the name itself, 1: it starts with the text, 2: it contains it (`needle` is lower
/// case). ASCII names, nearly all of them, are compared in place: no copy per name.
fn rank(name: &str, needle: &str) -> Option<u8> {
    if name.len() < needle.len() {
        return None;
    }
    if !name.is_ascii() {
        let lower = name.to_lowercase();
        return rank_lower(&lower, needle);
    }
    let (hay, pin) = (name.as_bytes(), needle.as_bytes());
    let at = |i: usize| hay[i..i + pin.len()].eq_ignore_ascii_case(pin);
    if at(0) {
        Some(if hay.len() == pin.len() { 0 } else { 1 })
    } else if (1..=hay.len() - pin.len()).any(at) {
        Some(2)
    } else {
        None
    }
}

fn rank_lower(lower: &str, needle: &str) -> Option<u8> {
    if lower == needle {
        Some(0)
    } else if lower.starts_with(needle) {
        Some(1)
    } else if lower.contains(needle) {
        Some(2)
    } else {
        None
    }
}

fn hit(inv: &Inventory, kind: ObjectKind, id: uuid::Uuid, name: String) -> Hit {
    let cluster_name = |c: ClusterId| inv.clusters.get(&c).map(|c| c.name.to_string());
    let first_cluster = |hosts: &[HostId]| {
        let mut clusters: Vec<&Cluster> = hosts
            .iter()
            .filter_map(|h| inv.hosts.get(h))
            .filter_map(|h| inv.clusters.get(&h.cluster_id))
            .collect();
        clusters.sort_by(|a, b| a.name.cmp(&b.name));
        clusters.first().map(|c| c.id)
    };
    let (context, cluster) = match kind {
        ObjectKind::Cluster => (String::new(), Some(ClusterId(id))),
        ObjectKind::Host => {
            let c = inv.hosts.get(&HostId(id)).map(|h| h.cluster_id);
            (c.and_then(cluster_name).unwrap_or_default(), c)
        }
        ObjectKind::Vm => {
            let host = inv
                .vms
                .get(&VmId(id))
                .and_then(|v| inv.hosts.get(&v.host_id));
            let c = host.map(|h| h.cluster_id);
            let words = match (host, c.and_then(cluster_name)) {
                (Some(h), Some(c)) => format!("{} · {c}", h.name),
                (Some(h), None) => h.name.to_string(),
                _ => String::new(),
            };
            (words, c)
        }
        ObjectKind::Datastore => {
            let hosts = inv
                .datastores
                .get(&DatastoreId(id))
                .map(|d| d.host_ids.clone());
            (String::new(), hosts.and_then(|h| first_cluster(&h)))
        }
        ObjectKind::Switch => {
            let hosts = inv.switches.get(&SwitchId(id)).map(|s| s.host_ids.clone());
            (String::new(), hosts.and_then(|h| first_cluster(&h)))
        }
        ObjectKind::Portgroup => {
            let hosts = match inv
                .portgroups
                .get(&PortgroupId(id))
                .and_then(|p| p.attachment())
            {
                Some(PortgroupAttachment::Standard(h)) => vec![h],
                Some(PortgroupAttachment::Distributed(s)) => inv
                    .switches
                    .get(&s)
                    .map(|s| s.host_ids.clone())
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            (String::new(), first_cluster(&hosts))
        }
        ObjectKind::Rule => (String::new(), None),
    };
    Hit {
        kind,
        id,
        name,
        context,
        cluster,
    }
}

#[cfg(test)]
mod tests;
