//! The objects of a cluster inventory (docs/DESIGN.md#the-domain-model). Field names are the API contract.

use super::ids::*;
use super::values::*;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

/// A group of hosts managed together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    #[serde(default = "ClusterId::new_random")]
    pub id: ClusterId,
    pub name: Name,
    /// Enhanced vMotion Compatibility: the CPU feature level every host is lowered to.
    #[serde(default)]
    pub evc_level: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CpuVendor {
    Intel,
    Amd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostState {
    Connected,
    Maintenance,
    Disconnected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpFamily {
    V4,
    V6,
}

/// An ESXi host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    #[serde(default = "HostId::new_random")]
    pub id: HostId,
    pub name: Name,
    pub cluster_id: ClusterId,
    pub cpu_vendor: CpuVendor,
    /// Higher is a newer CPU generation.
    pub cpu_feature_level: u32,
    pub cores: NonZeroU32,
    pub cpu_mhz: NonZeroU32,
    pub memory_mib: SizeMib,
    pub state: HostState,
    /// Whether a VMkernel adapter has the vMotion service enabled.
    pub vmotion_enabled: bool,
    /// Speed of the vMotion link; 0 means the link is down.
    pub vmotion_link_gbps: LinkGbps,
    /// IP family of the management network.
    pub ip_family: IpFamily,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatastoreKind {
    Local,
    VmfsShared,
    Nfs,
    Vsan,
}

impl DatastoreKind {
    pub fn is_shared(self) -> bool {
        !matches!(self, DatastoreKind::Local)
    }

    pub fn label(self) -> &'static str {
        match self {
            DatastoreKind::Local => "local",
            DatastoreKind::VmfsShared => "VMFS (shared)",
            DatastoreKind::Nfs => "NFS",
            DatastoreKind::Vsan => "vSAN",
        }
    }
}

/// A datastore, mounted by one host (local) or several (shared).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Datastore {
    #[serde(default = "DatastoreId::new_random")]
    pub id: DatastoreId,
    pub name: Name,
    pub kind: DatastoreKind,
    pub capacity_mib: SizeMib,
    pub throughput_mib_s: NonZeroU32,
    /// Hosts that mount it: exactly one for a local datastore.
    pub host_ids: Vec<HostId>,
}

/// A distributed virtual switch (vDS) spanning its member hosts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Switch {
    #[serde(default = "SwitchId::new_random")]
    pub id: SwitchId,
    pub name: Name,
    pub host_ids: Vec<HostId>,
}

/// A port group: on a distributed switch (cluster-wide) or on one host's standard switch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Portgroup {
    #[serde(default = "PortgroupId::new_random")]
    pub id: PortgroupId,
    pub name: Name,
    pub vlan: VlanId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch_id: Option<SwitchId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<HostId>,
}

/// Where a port group lives, once its shape is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortgroupAttachment {
    Distributed(SwitchId),
    Standard(HostId),
}

impl Portgroup {
    /// `None` unless exactly one of `switch_id` and `host_id` is set.
    pub fn attachment(&self) -> Option<PortgroupAttachment> {
        match (self.switch_id, self.host_id) {
            (Some(s), None) => Some(PortgroupAttachment::Distributed(s)),
            (None, Some(h)) => Some(PortgroupAttachment::Standard(h)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerState {
    On,
    Off,
    Suspended,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disk {
    pub datastore_id: DatastoreId,
    pub capacity_mib: SizeMib,
    pub used_mib: u64,
    pub thin: bool,
}

impl Disk {
    /// Space the disk takes on its datastore: all of it when thick, what is written when thin.
    pub fn allocated_mib(&self) -> u64 {
        if self.thin {
            self.used_mib
        } else {
            self.capacity_mib.get()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nic {
    pub portgroup_id: PortgroupId,
    pub connected: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Cdrom,
    Floppy,
    Serial,
    Usb,
}

impl DeviceKind {
    /// The stable code, as in JSON: "cdrom", "usb".
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Cdrom => "cdrom",
            DeviceKind::Floppy => "floppy",
            DeviceKind::Serial => "serial",
            DeviceKind::Usb => "usb",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DeviceKind::Cdrom => "CD/DVD drive",
            DeviceKind::Floppy => "Floppy drive",
            DeviceKind::Serial => "Serial port",
            DeviceKind::Usb => "USB device",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceBacking {
    HostDevice,
    File,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    pub kind: DeviceKind,
    pub backing: DeviceBacking,
    /// The datastore holding the backing file (file backings only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datastore_id: Option<DatastoreId>,
    pub connected: bool,
}

/// How the guest uses memory and disk: what makes a migration fast or slow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    pub dirty_rate_mib_s: RateMibS,
    /// Writable working set; absent means unbounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_set_mib: Option<SizeMib>,
    pub zero_page_fraction: Fraction,
    pub disk_write_mib_s: RateMibS,
}

impl Default for Workload {
    fn default() -> Self {
        Self {
            dirty_rate_mib_s: RateMibS::parse(10.0).expect("in range"),
            working_set_mib: None,
            zero_page_fraction: Fraction::parse(0.1).expect("in range"),
            disk_write_mib_s: RateMibS::parse(1.0).expect("in range"),
        }
    }
}

/// A virtual machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vm {
    #[serde(default = "VmId::new_random")]
    pub id: VmId,
    pub name: Name,
    pub host_id: HostId,
    pub power_state: PowerState,
    pub vcpus: NonZeroU32,
    pub memory_mib: SizeMib,
    #[serde(default)]
    pub memory_reservation_mib: u64,
    /// CPU feature level the guest runs with.
    pub cpu_feature_level: u32,
    #[serde(default)]
    pub disks: Vec<Disk>,
    #[serde(default)]
    pub nics: Vec<Nic>,
    #[serde(default)]
    pub devices: Vec<Device>,
    #[serde(default)]
    pub workload: Workload,
    #[serde(default)]
    pub fault_tolerance: bool,
    #[serde(default)]
    pub cpu_affinity: bool,
}

impl Vm {
    pub fn is_running(&self) -> bool {
        self.power_state == PowerState::On
    }
}
