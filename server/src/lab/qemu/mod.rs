//! Real migrations with QEMU (the lab hypervisor): a QMP client, guest processes and the
//! migration sequences, each host a QEMU process manager on this machine and each datastore a
//! directory. Used by the QEMU driver; usable on its own (tests, benchmarks).

pub mod guest;
pub mod migrate;
pub mod qmp;

pub use guest::{Boot, Guest, GuestSpec, Heartbeat, Lab, LabError};
pub use migrate::{Limits, MemoryOutcome, MemoryProgress, MirrorOutcome, MirrorProgress};
