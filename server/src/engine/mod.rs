//! The migration engine (SPEC §3): a synchronous core ([`scheduler::Engine`]) that decides
//! and accounts, a [`driver::Driver`] that moves the bytes (simulated here; a hypervisor
//! later), and the runtime ([`service::MigrationService`]) that ticks it on an injected
//! clock, stores its events and pushes them live.

pub mod clock;
pub mod driver;
pub mod qemu_driver;
pub mod scheduler;
pub mod service;
pub mod simulated;

pub use scheduler::{CancelError, Engine, SubmitError, Switchover, TickOutput};

#[cfg(test)]
mod tests;
