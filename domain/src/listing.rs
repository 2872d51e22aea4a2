//! One kind of object, filtered by name, sorted and paged (docs/DESIGN.md#paged-lists): what
//! the REST list routes and the inventory pages show at any size.

use crate::*;
use serde::{Deserialize, Serialize};

/// The most objects one page may hold.
pub const MAX_LIMIT: usize = 10_000;

/// What a list asks for. Without `limit`, every object from `offset` on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only objects whose name contains this (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// The field to sort by (see [`sort_fields`]), `-` first for descending; by name
    /// otherwise. Ties are broken by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    #[serde(default)]
    pub offset: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// One page: the objects' ids in order, and how many match in all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    pub ids: Vec<uuid::Uuid>,
    pub total: usize,
}

/// The fields each kind of object sorts by, besides `name`.
pub fn sort_fields(kind: ObjectKind) -> &'static [&'static str] {
    match kind {
        ObjectKind::Cluster => &["hosts", "evc_level"],
        ObjectKind::Host => &[
            "cluster",
            "state",
            "cpu_feature_level",
            "cores",
            "memory_mib",
            "vms",
        ],
        ObjectKind::Datastore => &["kind", "capacity_mib", "free_mib"],
        ObjectKind::Switch => &["hosts"],
        ObjectKind::Portgroup => &["vlan"],
        ObjectKind::Vm => &["host", "power_state", "vcpus", "memory_mib", "disk_mib"],
        ObjectKind::Rule => &["kind"],
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Number(u64),
    Text(String),
}

/// The objects of `kind` that `query` asks for.
pub fn list(inv: &Inventory, kind: ObjectKind, query: &ListQuery) -> Result<Listing, DomainError> {
    if let Some(limit) = query.limit {
        if limit == 0 || limit > MAX_LIMIT {
            return Err(DomainError::invalid(
                "limit",
                format!("limit: between 1 and {MAX_LIMIT}"),
            ));
        }
    }
    let (field, descending) = match query.sort.as_deref() {
        None | Some("") => ("name", false),
        Some(s) => match s.strip_prefix('-') {
            Some(f) => (f, true),
            None => (s, false),
        },
    };
    if field != "name" && !sort_fields(kind).contains(&field) {
        let known = std::iter::once("name")
            .chain(sort_fields(kind).iter().copied())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(DomainError::invalid(
            "sort",
            format!("sort: {} sort by one of {known}", kind.plural()),
        ));
    }
    let needle = query
        .q
        .as_deref()
        .map(str::to_lowercase)
        .unwrap_or_default();
    let mut rows: Vec<(Option<Key>, &str, uuid::Uuid)> = Vec::new();
    collect(inv, kind, field, &needle, &mut rows);
    rows.sort_by(|a, b| {
        let order = a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1));
        if descending {
            order.reverse()
        } else {
            order
        }
    });
    let total = rows.len();
    let ids = rows
        .into_iter()
        .skip(query.offset)
        .take(query.limit.unwrap_or(usize::MAX))
        .map(|(_, _, id)| id)
        .collect();
    Ok(Listing { ids, total })
}

/// Every object of `kind` whose name holds `needle`, with its sort key.
fn collect<'a>(
    inv: &'a Inventory,
    kind: ObjectKind,
    field: &str,
    needle: &str,
    out: &mut Vec<(Option<Key>, &'a str, uuid::Uuid)>,
) {
    let mut push = |name: &'a Name, id: uuid::Uuid, key: &dyn Fn() -> Key| {
        if needle.is_empty() || name.as_str().to_lowercase().contains(needle) {
            out.push(((field != "name").then(key), name.as_str(), id));
        }
    };
    let num = |v: u64| Key::Number(v);
    let text = |s: &str| Key::Text(s.to_lowercase());
    let host_name = |h: &HostId| inv.hosts.get(h).map(|h| h.name.as_str()).unwrap_or("");
    match kind {
        ObjectKind::Cluster => inv.clusters.values().for_each(|c| {
            push(&c.name, c.id.0, &|| match field {
                "hosts" => num(inv.hosts.values().filter(|h| h.cluster_id == c.id).count() as u64),
                _ => num(c.evc_level.map_or(0, u64::from)),
            })
        }),
        ObjectKind::Host => inv.hosts.values().for_each(|h| {
            push(&h.name, h.id.0, &|| match field {
                "cluster" => text(
                    inv.clusters
                        .get(&h.cluster_id)
                        .map(|c| c.name.as_str())
                        .unwrap_or(""),
                ),
                "state" => text(&format!("{:?}", h.state)),
                "cpu_feature_level" => num(u64::from(h.cpu_feature_level)),
                "cores" => num(u64::from(h.cores.get())),
                "memory_mib" => num(h.memory_mib.get()),
                _ => num(u64::from(inv.host_load(h.id).vms)),
            })
        }),
        ObjectKind::Datastore => inv.datastores.values().for_each(|d| {
            push(&d.name, d.id.0, &|| match field {
                "kind" => text(d.kind.label()),
                "capacity_mib" => num(d.capacity_mib.get()),
                _ => num(inv.free_mib(d)),
            })
        }),
        ObjectKind::Switch => inv
            .switches
            .values()
            .for_each(|s| push(&s.name, s.id.0, &|| num(s.host_ids.len() as u64))),
        ObjectKind::Portgroup => inv
            .portgroups
            .values()
            .for_each(|p| push(&p.name, p.id.0, &|| num(u64::from(p.vlan.get())))),
        ObjectKind::Vm => inv.vms.values().for_each(|v| {
            push(&v.name, v.id.0, &|| match field {
                "host" => text(host_name(&v.host_id)),
                "power_state" => text(&format!("{:?}", v.power_state)),
                "vcpus" => num(u64::from(v.vcpus.get())),
                "memory_mib" => num(v.memory_mib.get()),
                _ => num(v.disks.iter().map(|d| d.capacity_mib.get()).sum()),
            })
        }),
        ObjectKind::Rule => inv
            .rules
            .values()
            .for_each(|r| push(&r.name, r.id.0, &|| text(r.kind.label()))),
    }
}

#[cfg(test)]
mod tests;
