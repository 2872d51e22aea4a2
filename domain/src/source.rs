//! Objects mirrored from a connection (docs/VCENTER.md#mirrored-objects): each carries its
//! source (the connection and the object's managed object id there). They are read-only in
//! vmshift — the connection's sync alone changes them, through [`Inventory::validate_sync`],
//! which turns what the connection holds now into the changes that make the inventory match.

use crate::inventory::Inventory;
use crate::object::{Change, Mutation, Object, ObjectKind};
use crate::{DomainError, InventoryFile, Phrase};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

#[cfg(test)]
mod tests;

/// Where a mirrored object comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Source {
    /// The connection's id.
    pub connection: Uuid,
    /// The object's managed object id in vCenter (`host-21`).
    pub moref: String,
    /// The connection's name (what the map shows).
    #[serde(default)]
    pub vcenter: String,
}

/// What a sync changed, per verb.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSummary {
    pub created: usize,
    pub updated: usize,
    pub removed: usize,
}

impl SyncSummary {
    pub fn is_empty(&self) -> bool {
        self.created + self.updated + self.removed == 0
    }
}

/// Deletion order: what refers to others goes first.
const REMOVAL_ORDER: [ObjectKind; 6] = [
    ObjectKind::Vm,
    ObjectKind::Portgroup,
    ObjectKind::Switch,
    ObjectKind::Datastore,
    ObjectKind::Host,
    ObjectKind::Cluster,
];

impl Inventory {
    /// A user's change of a mirrored object, or a new object placed in one (a VM on a
    /// mirrored host, a host in a mirrored cluster), is refused: vCenter owns them.
    pub(crate) fn refuse_mirrored(&self, mutation: &Mutation) -> Result<(), DomainError> {
        let (id, field, what) = match mutation {
            Mutation::Update(o) => (o.id(), "id", "is mirrored from vCenter and read-only here"),
            Mutation::Delete(_, id) => (*id, "id", "is mirrored from vCenter and read-only here"),
            Mutation::Create(Object::Vm(vm)) => (
                vm.host_id.0,
                "host_id",
                "is a vCenter host: create VMs there in vCenter",
            ),
            Mutation::Create(Object::Host(h)) => (
                h.cluster_id.0,
                "cluster_id",
                "is a vCenter cluster: add hosts to it in vCenter",
            ),
            Mutation::Create(_) => return Ok(()),
        };
        let Some(source) = self.sources.get(&id) else {
            return Ok(());
        };
        let name = self
            .objects_named(id)
            .unwrap_or_else(|| source.moref.clone());
        Err(DomainError::in_use(
            Some(field),
            format!("{name} ({}) {what}", source.moref),
        ))
    }

    /// A migration's VM where its hypervisor now runs it (the engine's switchover): for a
    /// mirrored VM too, which its vCenter moved (docs/VCENTER.md#migrations).
    pub fn validate_moved(&self, vm: crate::Vm) -> Result<Change, DomainError> {
        self.validate_any(Mutation::Update(Object::Vm(vm)))
    }

    /// The name of the object with this id, whatever its kind.
    fn objects_named(&self, id: Uuid) -> Option<String> {
        ObjectKind::ALL
            .into_iter()
            .find_map(|k| self.get(k, id))
            .map(|o| o.name().to_string())
    }

    /// The ids of the objects mirrored from `connection`, with their kinds.
    pub fn mirrored_from(&self, connection: Uuid) -> Vec<(ObjectKind, Uuid)> {
        let ids: HashSet<Uuid> = self
            .sources
            .iter()
            .filter(|(_, s)| s.connection == connection)
            .map(|(id, _)| *id)
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for kind in REMOVAL_ORDER {
            out.extend(
                ids.iter()
                    .filter(|id| self.contains(kind, **id))
                    .map(|id| (kind, *id)),
            );
        }
        out
    }

    /// Makes the objects mirrored from `connection` what `file` holds (`morefs` gives each
    /// object's managed object id): new objects created and marked, changed ones updated,
    /// the connection's objects `file` no longer holds removed. Unchanged objects make no
    /// change. All or nothing: a refusal names the object (a name another object of vmshift
    /// already has, say). Returns the inventory after the sync and the changes to store.
    pub fn validate_sync(
        &self,
        connection: Uuid,
        vcenter: &str,
        file: InventoryFile,
        morefs: &HashMap<Uuid, String>,
    ) -> Result<(Inventory, Vec<Change>, SyncSummary), DomainError> {
        // Removals first, so that objects vCenter replaced (another instance UUID behind the
        // same address: new ids, the same names) make room for their successors; where that
        // cannot be (what stays still refers to what goes until it is updated), updates first.
        let (file, morefs) = self.known_by_name(connection, file, morefs);
        let morefs = &morefs;
        let objects = file.into_objects();
        let keep: HashSet<Uuid> = objects.iter().map(|(_, o)| o.id()).collect();
        let at = (connection, vcenter);
        self.sync_in_order(at, &objects, &keep, morefs, true)
            .or_else(|_| self.sync_in_order(at, &objects, &keep, morefs, false))
    }

    fn sync_in_order(
        &self,
        (connection, vcenter): (Uuid, &str),
        objects: &[(String, Object)],
        keep: &HashSet<Uuid>,
        morefs: &HashMap<Uuid, String>,
        removals_first: bool,
    ) -> Result<(Inventory, Vec<Change>, SyncSummary), DomainError> {
        let mut next = self.clone();
        let mut changes = Vec::new();
        let mut summary = SyncSummary::default();
        if removals_first {
            next.sync_removals(connection, keep, &mut changes, &mut summary)?;
        }
        for (path, object) in objects {
            let moref = morefs.get(&object.id()).cloned().unwrap_or_default();
            let source = Source {
                connection,
                moref,
                vcenter: vcenter.to_string(),
            };
            next.sync_object(path, object, source, &mut changes, &mut summary)?;
        }
        if !removals_first {
            next.sync_removals(connection, keep, &mut changes, &mut summary)?;
        }
        Ok((next, changes, summary))
    }

    /// The file with the objects that have a new id but the name of one of the connection's
    /// objects the file no longer holds given that object's id (a datastore whose managed
    /// object id changed is the same datastore), and the managed object ids keyed to match.
    fn known_by_name(
        &self,
        connection: Uuid,
        mut file: InventoryFile,
        morefs: &HashMap<Uuid, String>,
    ) -> (InventoryFile, HashMap<Uuid, String>) {
        // Every object's kind, id, name scope (a port group's switch or host) and name, in
        // dependency order: a port group's scope is renamed before it is looked up.
        let mut keys: Vec<Key<'_>> = Vec::with_capacity(file.len());
        fn plain(kind: ObjectKind, id: Uuid, name: &crate::Name) -> Key<'_> {
            (kind, id, None, name.as_str())
        }
        type Key<'a> = (ObjectKind, Uuid, Option<Uuid>, &'a str);
        keys.extend(
            file.clusters
                .iter()
                .map(|o| plain(ObjectKind::Cluster, o.id.0, &o.name)),
        );
        keys.extend(
            file.hosts
                .iter()
                .map(|o| plain(ObjectKind::Host, o.id.0, &o.name)),
        );
        keys.extend(
            file.datastores
                .iter()
                .map(|o| plain(ObjectKind::Datastore, o.id.0, &o.name)),
        );
        keys.extend(
            file.switches
                .iter()
                .map(|o| plain(ObjectKind::Switch, o.id.0, &o.name)),
        );
        keys.extend(file.portgroups.iter().map(|p| {
            let scope = p.switch_id.map(|s| s.0).or(p.host_id.map(|h| h.0));
            (ObjectKind::Portgroup, p.id.0, scope, p.name.as_str())
        }));
        keys.extend(
            file.vms
                .iter()
                .map(|o| plain(ObjectKind::Vm, o.id.0, &o.name)),
        );
        let ids: HashSet<Uuid> = keys.iter().map(|k| k.1).collect();
        let mut map = HashMap::new();
        for (kind, id, scope, name) in keys {
            if self.contains(kind, id) {
                continue;
            }
            let scope = scope.map(|s| *map.get(&s).unwrap_or(&s));
            let Some(old) = self.named(kind, scope, name) else {
                continue;
            };
            let mine = self
                .sources
                .get(&old)
                .is_some_and(|s| s.connection == connection);
            if mine && !ids.contains(&old) {
                map.insert(id, old);
            }
        }
        file.remap_ids(&map);
        let morefs = morefs
            .iter()
            .map(|(id, m)| (*map.get(id).unwrap_or(id), m.clone()))
            .collect();
        (file, morefs)
    }

    /// The connection's objects not in `keep`, removed.
    fn sync_removals(
        &mut self,
        connection: Uuid,
        keep: &HashSet<Uuid>,
        changes: &mut Vec<Change>,
        summary: &mut SyncSummary,
    ) -> Result<(), DomainError> {
        for (kind, id) in self.mirrored_from(connection) {
            if keep.contains(&id) {
                continue;
            }
            let name = self.objects_named(id).unwrap_or_default();
            let change = self.validate_any(Mutation::Delete(kind, id)).map_err(|e| {
                let field = e.field.clone();
                e.reworded(field, |m| format!("{name} is gone from vCenter but {m}"))
            })?;
            self.apply(&change);
            changes.push(change);
            summary.removed += 1;
        }
        Ok(())
    }

    /// One object of the connection created, updated or left alone, and marked.
    fn sync_object(
        &mut self,
        path: &str,
        object: &Object,
        source: Source,
        changes: &mut Vec<Change>,
        summary: &mut SyncSummary,
    ) -> Result<(), DomainError> {
        let (kind, id) = (object.kind(), object.id());
        if let Some(other) = self
            .sources
            .get(&id)
            .filter(|s| s.connection != source.connection)
        {
            return Err(DomainError::duplicate(
                path,
                format!(
                    "{} is already mirrored from another connection",
                    other.moref
                ),
            ));
        }
        let mutation = match self.same(object) {
            Some(true) => None,
            Some(false) => Some(Mutation::Update(object.clone())),
            None => Some(Mutation::Create(object.clone())),
        };
        if let Some(mutation) = mutation {
            match &mutation {
                Mutation::Create(_) => summary.created += 1,
                _ => summary.updated += 1,
            }
            let change = self.validate_any(mutation).map_err(|e| {
                let field = Some(match &e.field {
                    Some(f) => format!("{path}.{f}"),
                    None => path.to_string(),
                });
                e.reworded(field, |m| format!("{}: {m}", object.name()))
            })?;
            self.apply(&change);
            changes.push(change);
        }
        if self.sources.get(&id) != Some(&source) {
            let change = Change::Source {
                kind,
                id,
                source: Some(source),
            };
            self.apply(&change);
            changes.push(change);
        }
        Ok(())
    }

    /// Whether `object` equals the stored object with its id (`None`: there is none).
    pub(crate) fn same(&self, object: &Object) -> Option<bool> {
        Some(match object {
            Object::Cluster(o) => self.clusters.get(&o.id)? == o,
            Object::Host(o) => self.hosts.get(&o.id)? == o,
            Object::Datastore(o) => self.datastores.get(&o.id)? == o,
            Object::Switch(o) => self.switches.get(&o.id)? == o,
            Object::Portgroup(o) => self.portgroups.get(&o.id)? == o,
            Object::Vm(o) => self.vms.get(&o.id)? == o,
            Object::Rule(o) => self.rules.get(&o.id)? == o,
        })
    }
}

/// A connection as the API and the pages show it: never its password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub id: Uuid,
    pub name: String,
    /// `vcenter`.
    pub kind: String,
    /// The SDK's URL (`https://vcenter.example.com/sdk`).
    pub url: String,
    pub username: String,
    pub insecure_tls: bool,
    /// Whether a CA file was given (its certificates are not repeated).
    pub has_ca: bool,
    /// The accepted certificate's SHA-256 fingerprint, when one was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_sha256: Option<String>,
    pub created_at_ms: i64,
    /// `connecting`, `synced`, `error`.
    pub state: String,
    /// When the inventory last matched vCenter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Objects mirrored from it, per kind (`hosts`, `vms`, …).
    pub objects: std::collections::BTreeMap<String, usize>,
}

/// A new connection as requested (`POST /api/v1/connections`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewConnection {
    pub kind: String,
    /// Defaults to the URL's host.
    #[serde(default)]
    pub name: Option<String>,
    pub url: String,
    pub username: String,
    pub password: String,
    /// Accept any certificate (lab vCenters only).
    #[serde(default)]
    pub insecure_tls: bool,
    /// PEM certificates of the CA that signed vCenter's certificate.
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// Accept exactly this certificate (its SHA-256 fingerprint).
    #[serde(default)]
    pub accept_sha256: Option<String>,
}

impl NewConnection {
    /// Checks the fields that need no network and normalises the URL (`https://host` becomes
    /// `https://host/sdk`); the name defaults to the host.
    pub fn parse(mut self) -> Result<NewConnection, DomainError> {
        if self.kind != "vcenter" {
            return Err(DomainError::invalid(
                "kind",
                Phrase::new("refuse.connection_kind", &[]),
            ));
        }
        let given = self.url.clone();
        let url = given.trim();
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(s, _)| matches!(s.to_ascii_lowercase().as_str(), "http" | "https"))
            .ok_or_else(|| DomainError::invalid("url", Phrase::new("refuse.url_scheme", &[])))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
        if host.is_empty()
            || authority.contains('@')
            || authority
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
            || url.len() > 2048
        {
            return Err(DomainError::invalid(
                "url",
                Phrase::new("refuse.url_host", &[]),
            ));
        }
        let path = path.trim_end_matches('/');
        let path = if path.is_empty() { "sdk" } else { path };
        self.url = format!("{}://{authority}/{path}", scheme.to_ascii_lowercase());
        let text = |field: &str, value: &str, max: usize| {
            if value.trim().is_empty() || value.len() > max || value.chars().any(char::is_control) {
                Err(DomainError::invalid(
                    field,
                    Phrase::new(
                        "refuse.text",
                        &[("field", field.to_string()), ("max", max.to_string())],
                    ),
                ))
            } else {
                Ok(())
            }
        };
        text("username", &self.username, 256)?;
        if self.password.is_empty() || self.password.len() > 1024 {
            return Err(DomainError::invalid(
                "password",
                Phrase::new("refuse.connection_password", &[]),
            ));
        }
        let host = host.to_string();
        let name = self.name.take().unwrap_or(host);
        text("name", &name, 128)?;
        self.name = Some(name.trim().to_string());
        if self.ca_pem.as_ref().is_some_and(|p| p.len() > 256 * 1024) {
            return Err(DomainError::invalid(
                "ca_pem",
                Phrase::new("refuse.ca_pem", &[]),
            ));
        }
        if self.insecure_tls && (self.ca_pem.is_some() || self.accept_sha256.is_some()) {
            return Err(DomainError::invalid(
                "insecure_tls",
                Phrase::new("refuse.insecure_tls", &[]),
            ));
        }
        Ok(self)
    }
}
