//! [`Object`] and [`Change`] read tag first in the browser (docs/DESIGN.md#tag-first-reading).

use serde::de::MapAccess;
use serde::Deserialize;
use uuid::Uuid;

use super::{Change, Object, ObjectKind};
use crate::tag_first::{content, rest, unknown, TagFirst};

const OBJECTS: &[&str] = &[
    "cluster",
    "host",
    "datastore",
    "switch",
    "portgroup",
    "vm",
    "rule",
];

impl TagFirst for Object {
    const TAG: &'static str = "kind";
    const EXPECTING: &'static str = "an inventory object tagged with its kind";

    fn variant<'de, A: MapAccess<'de>>(tag: &str, map: A) -> Result<Self, A::Error> {
        const KEY: &str = "object";
        Ok(match tag {
            "cluster" => Object::Cluster(content(map, KEY)?),
            "host" => Object::Host(content(map, KEY)?),
            "datastore" => Object::Datastore(content(map, KEY)?),
            "switch" => Object::Switch(content(map, KEY)?),
            "portgroup" => Object::Portgroup(content(map, KEY)?),
            "vm" => Object::Vm(content(map, KEY)?),
            "rule" => Object::Rule(content(map, KEY)?),
            other => return Err(unknown(other, OBJECTS)),
        })
    }
}
crate::tag_first_in_browser!(Object);

// The fields of `Change`'s variants, as its derived `Serialize` writes them.
#[derive(Deserialize)]
struct Upsert {
    object: Object,
}
#[derive(Deserialize)]
struct Delete {
    kind: ObjectKind,
    id: Uuid,
}
#[derive(Deserialize)]
struct Source {
    kind: ObjectKind,
    id: Uuid,
    source: Option<crate::source::Source>,
}
#[derive(Deserialize)]
struct Batch {
    changes: Vec<Change>,
}

impl TagFirst for Change {
    const TAG: &'static str = "op";
    const EXPECTING: &'static str = "an inventory change tagged with its op";

    fn variant<'de, A: MapAccess<'de>>(tag: &str, map: A) -> Result<Self, A::Error> {
        Ok(match tag {
            "upsert" => Change::Upsert {
                object: rest::<Upsert, _>(map)?.object,
            },
            "delete" => {
                let Delete { kind, id } = rest(map)?;
                Change::Delete { kind, id }
            }
            "source" => {
                let Source { kind, id, source } = rest(map)?;
                Change::Source { kind, id, source }
            }
            "batch" => Change::Batch {
                changes: rest::<Batch, _>(map)?.changes,
            },
            other => return Err(unknown(other, &["upsert", "delete", "source", "batch"])),
        })
    }
}
crate::tag_first_in_browser!(Change);

#[cfg(test)]
mod tests;
