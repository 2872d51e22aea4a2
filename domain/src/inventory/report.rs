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
}

/// One inference: what was guessed, how, and for how many objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportGuess {
    pub what: String,
    pub objects: usize,
}

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
