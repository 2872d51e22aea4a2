//! The vmshift domain: the cluster inventory and the rules that keep it consistent.
//!
//! Pure Rust with no I/O, no leptos, tokio or sqlx, so it compiles for the server and the
//! browser (wasm) alike and its tests run in milliseconds.

pub mod accounts;
pub mod affinity;
pub mod audit;
pub mod checks;
pub mod engine;
pub mod error;
pub mod evc;
pub mod format;
pub mod generate;
pub mod ids;
pub mod inventory;
pub mod lang;
pub mod listing;
pub mod migration;
pub mod model;
pub mod object;
pub mod overview;
pub mod phase;
pub mod phrase;
pub mod plan;
pub mod platform;
pub mod precopy;
pub mod prediction;
pub mod scheduling;
pub mod search;
pub mod source;
pub mod tag_first;
pub mod transfer;
pub mod values;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use affinity::{Rule, RuleKind};
pub use error::{DomainError, ErrorCode};
pub use ids::*;
pub use inventory::import::{ImportSummary, InventoryFile};
pub use inventory::report::{ImportCounts, ImportGuess, ImportReport, ImportWarning};
pub use inventory::{HostLoad, Inventory};
pub use lang::Lang;
pub use model::*;
pub use object::{Change, Mutation, Object, ObjectKind};
pub use phrase::Phrase;
pub use source::Source;
pub use values::*;
