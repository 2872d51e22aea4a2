//! Inventory objects as the API, the change log and the live link carry them: any object
//! tagged with its kind, a requested change ([`Mutation`]) and a validated one ([`Change`]).

use crate::affinity::Rule;
use crate::ids::*;
use crate::model::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod tag_first;

/// The kinds of inventory object, spelled as in the API paths' singular form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Cluster,
    Host,
    Datastore,
    Switch,
    Portgroup,
    Vm,
    Rule,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 7] = [
        ObjectKind::Cluster,
        ObjectKind::Host,
        ObjectKind::Datastore,
        ObjectKind::Switch,
        ObjectKind::Portgroup,
        ObjectKind::Vm,
        ObjectKind::Rule,
    ];

    /// Plain words for messages ("host", "port group").
    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::Cluster => "cluster",
            ObjectKind::Host => "host",
            ObjectKind::Datastore => "datastore",
            ObjectKind::Switch => "switch",
            ObjectKind::Portgroup => "port group",
            ObjectKind::Vm => "VM",
            ObjectKind::Rule => "affinity rule",
        }
    }

    /// The collection name used in API paths (`/api/v1/{plural}`).
    pub fn plural(self) -> &'static str {
        match self {
            ObjectKind::Cluster => "clusters",
            ObjectKind::Host => "hosts",
            ObjectKind::Datastore => "datastores",
            ObjectKind::Switch => "switches",
            ObjectKind::Portgroup => "portgroups",
            ObjectKind::Vm => "vms",
            ObjectKind::Rule => "rules",
        }
    }

    pub fn from_plural(plural: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.plural() == plural)
    }
}

/// Any inventory object, tagged with its kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[serde(tag = "kind", content = "object", rename_all = "snake_case")]
pub enum Object {
    Cluster(Cluster),
    Host(Host),
    Datastore(Datastore),
    Switch(Switch),
    Portgroup(Portgroup),
    Vm(Vm),
    Rule(Rule),
}

impl Object {
    pub fn kind(&self) -> ObjectKind {
        match self {
            Object::Cluster(_) => ObjectKind::Cluster,
            Object::Host(_) => ObjectKind::Host,
            Object::Datastore(_) => ObjectKind::Datastore,
            Object::Switch(_) => ObjectKind::Switch,
            Object::Portgroup(_) => ObjectKind::Portgroup,
            Object::Vm(_) => ObjectKind::Vm,
            Object::Rule(_) => ObjectKind::Rule,
        }
    }

    pub fn id(&self) -> Uuid {
        match self {
            Object::Cluster(o) => o.id.0,
            Object::Host(o) => o.id.0,
            Object::Datastore(o) => o.id.0,
            Object::Switch(o) => o.id.0,
            Object::Portgroup(o) => o.id.0,
            Object::Vm(o) => o.id.0,
            Object::Rule(o) => o.id.0,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Object::Cluster(o) => o.name.as_str(),
            Object::Host(o) => o.name.as_str(),
            Object::Datastore(o) => o.name.as_str(),
            Object::Switch(o) => o.name.as_str(),
            Object::Portgroup(o) => o.name.as_str(),
            Object::Vm(o) => o.name.as_str(),
            Object::Rule(o) => o.name.as_str(),
        }
    }

    /// Gives the object another id (an update addressed by path keeps the path's id).
    pub fn set_id(&mut self, id: Uuid) {
        match self {
            Object::Cluster(o) => o.id = ClusterId(id),
            Object::Host(o) => o.id = HostId(id),
            Object::Datastore(o) => o.id = DatastoreId(id),
            Object::Switch(o) => o.id = SwitchId(id),
            Object::Portgroup(o) => o.id = PortgroupId(id),
            Object::Vm(o) => o.id = VmId(id),
            Object::Rule(o) => o.id = RuleId(id),
        }
    }
}

/// A requested change, not yet validated.
#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    Create(Object),
    Update(Object),
    Delete(ObjectKind, Uuid),
}

/// A validated change, ready to be stored and applied (and broadcast to browsers).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    Upsert {
        object: Object,
    },
    Delete {
        kind: ObjectKind,
        id: Uuid,
    },
    /// Marks an object as mirrored from a connection (docs/VCENTER.md#mirrored-objects), or
    /// clears the mark. Only a connection's sync makes this change.
    Source {
        kind: ObjectKind,
        id: Uuid,
        source: Option<crate::source::Source>,
    },
    /// Several changes made as one (a connection's sync): applied in order.
    Batch {
        changes: Vec<Change>,
    },
}
