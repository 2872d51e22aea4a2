//! Typed, stable object identifiers (UUIDs): a host id cannot be passed where a VM id is meant.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random id.
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// Identifies a cluster.
    ClusterId
);
id_type!(
    /// Identifies an ESXi host.
    HostId
);
id_type!(
    /// Identifies a datastore.
    DatastoreId
);
id_type!(
    /// Identifies a distributed switch (vDS).
    SwitchId
);
id_type!(
    /// Identifies a port group.
    PortgroupId
);
id_type!(
    /// Identifies a virtual machine.
    VmId
);
id_type!(
    /// Identifies a migration.
    MigrationId
);
id_type!(
    /// Identifies an injected fault.
    FaultId
);
id_type!(
    /// Identifies an affinity rule.
    RuleId
);
id_type!(
    /// Identifies a maintenance plan.
    PlanId
);
