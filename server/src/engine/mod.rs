//! The migration engine's runtime: the engine core (`domain::engine`) ticked on an injected
//! clock, its events stored and pushed live.

pub mod clock;
pub mod qemu_driver;
pub mod service;

pub use domain::engine::{CancelError, Engine, SubmitError, Switchover, TickOutput};
