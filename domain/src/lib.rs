//! The vmshift domain: the cluster inventory and the rules that keep it consistent.
//!
//! Pure Rust with no I/O, no leptos, tokio or sqlx, so it compiles for the server and the
//! browser (wasm) alike and its tests run in milliseconds.

pub mod accounts;
pub mod audit;
pub mod checks;
pub mod engine;
pub mod error;
pub mod format;
pub mod generate;
pub mod ids;
pub mod import;
pub mod inventory;
pub mod migration;
pub mod model;
pub mod platform;
pub mod precopy;
pub mod prediction;
pub mod scheduling;
pub mod transfer;
pub mod usage;
pub mod values;

#[cfg(test)]
pub(crate) mod testing;

pub use error::{DomainError, ErrorCode};
pub use ids::*;
pub use import::{ImportSummary, InventoryFile};
pub use inventory::{Change, Inventory, Mutation, Object, ObjectKind};
pub use model::*;
pub use values::*;
