//! vmshift's server. The architecture (README, "Architecture"; docs/DESIGN.md):
//!
//! - `startup`: the application built one way — for `main`, the tests and the benchmarks;
//! - `http`: everything HTTP — routes with their roles, the websocket, server functions;
//! - `inventory`: the one place the inventory changes;
//! - `engine`: the migration engine's runtime around the domain's engine core;
//! - `plans`: maintenance plans — previewed, stored, run step by step;
//! - `accounts`, `audit`: users, sessions, tokens; who did what;
//! - `live`: the hub every live message goes through;
//! - `replication`: what other replicas sharing the database did, applied here;
//! - `lab`: the QEMU lab (real guests, their driver);
//! - `db`: persistence (SQLite or PostgreSQL) and the notices replicas exchange;
//! - `config`, `demo`, `sync`, `failpoints`: flags, the demo data, locks that do not poison,
//!   test hooks.

pub mod accounts;
pub mod audit;
pub mod config;
pub mod connections;
pub mod db;
pub mod demo;
pub mod engine;
pub mod failpoints;
pub mod http;
pub mod inventory;
pub mod lab;
pub mod live;
pub mod plans;
pub mod replication;
pub mod startup;
pub mod sync;
pub mod vcenter;

pub use startup::{App, Running, Services};
