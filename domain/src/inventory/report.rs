//! What an import of an export from elsewhere (RVTools, docs/IMPORT.md#the-route) did or would
//! do: per kind the objects created, updated, kept and removed; every row left out or value
//! replaced, where it is in the file; every inference with the objects it touched.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A row left out or a value replaced, where it is in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportWarning {
    pub tab: String,
    pub row: usize,
    pub column: String,
    pub message: String,
    /// The message as a code and values, for the pages (docs/DESIGN.md#languages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<crate::Phrase>,
}

/// One inference: what was guessed, how, and for how many objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportGuess {
    pub what: String,
    pub objects: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<crate::Phrase>,
}

/// The codes of what an import reader says (`ImportWarning`, `ImportGuess`): its English
/// messages are recognised against them (`Phrase::recognize`).
pub const IMPORT_CODES: &[&str] = &[
    "import.trunk",
    "import.disk_datastore",
    "import.no_disk_datastore",
    "import.no_vm_name",
    "import.bad_name",
    "import.vm_twice",
    "import.vm_no_host",
    "import.bad_power",
    "import.vm_empty",
    "import.no_datastore_name",
    "import.datastore_unmounted",
    "import.datastore_no_capacity",
    "import.nic_no_network",
    "import.nic_unreachable",
    "import.no_host_name",
    "import.host_twice",
    "import.guess_members",
    "import.guess_portgroups",
    "import.guess_split_disks",
    "import.guess_nics",
    "import.guess_working_set",
    "import.guess_workloads",
    "import.guess_throughput",
    "import.guess_datastores_paths",
    "import.guess_datastores_cluster",
    "import.guess_host_defaults",
    "import.guess_hosts_from_vms",
    "import.guess_link",
    "import.guess_feature_level",
    "import.guess_hosts",
    "import.guess_suffixed",
];

/// Per kind of object: how many the import creates, updates, leaves as they are, and removes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub create: usize,
    pub update: usize,
    pub keep: usize,
    pub remove: usize,
}

/// The answer to an import: what the file holds and what it would do (or did).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Written (`true`) or only previewed.
    pub applied: bool,
    /// Objects absent from the file removed (or to be).
    pub remove_absent: bool,
    /// By kind: `clusters`, `hosts`, `datastores`, `switches`, `portgroups`, `vms`.
    pub counts: BTreeMap<String, ImportCounts>,
    /// The tabs read, with their rows.
    pub tabs: BTreeMap<String, usize>,
    pub templates_skipped: usize,
    pub warnings: Vec<ImportWarning>,
    pub guesses: Vec<ImportGuess>,
}
