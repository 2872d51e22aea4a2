//! Where a migration is in its life, and the coarse state derived from it.

use serde::{Deserialize, Serialize};

/// Where a migration is in its life. The last three are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Queued,
    Checking,
    Preparing,
    DiskCopy,
    MemoryPrecopy,
    Switchover,
    Completed,
    Failed,
    Cancelled,
}

impl Phase {
    pub const ALL: [Phase; 9] = [
        Phase::Queued,
        Phase::Checking,
        Phase::Preparing,
        Phase::DiskCopy,
        Phase::MemoryPrecopy,
        Phase::Switchover,
        Phase::Completed,
        Phase::Failed,
        Phase::Cancelled,
    ];

    /// Completed, failed or cancelled: nothing happens any more.
    pub fn is_final(self) -> bool {
        matches!(self, Phase::Completed | Phase::Failed | Phase::Cancelled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Queued => "queued",
            Phase::Checking => "checking",
            Phase::Preparing => "preparing",
            Phase::DiskCopy => "disk_copy",
            Phase::MemoryPrecopy => "memory_precopy",
            Phase::Switchover => "switchover",
            Phase::Completed => "completed",
            Phase::Failed => "failed",
            Phase::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Phase::Queued => "Queued",
            Phase::Checking => "Checking",
            Phase::Preparing => "Preparing",
            Phase::DiskCopy => "Copying disks",
            Phase::MemoryPrecopy => "Memory pre-copy",
            Phase::Switchover => "Switchover",
            Phase::Completed => "Completed",
            Phase::Failed => "Failed",
            Phase::Cancelled => "Cancelled",
        }
    }
}

/// The coarse state of a migration (docs/DESIGN.md#the-domain-model), derived from its phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationState {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl Phase {
    pub fn state(self) -> MigrationState {
        match self {
            Phase::Queued => MigrationState::Queued,
            Phase::Completed => MigrationState::Completed,
            Phase::Failed => MigrationState::Failed,
            Phase::Cancelled => MigrationState::Cancelled,
            _ => MigrationState::Running,
        }
    }
}
