//! What the mapping parses out of a VM's or a host's structures (its devices and disk layout;
//! its vMotion link), kept per object while the XML it came from is unchanged: after a change
//! in vCenter, mapping 10,000 VMs parses only the ones that changed
//! (docs/PERFORMANCE.md, "Issue 15").

use super::collect::Object as Read;
use super::devices::{self, Devices};
use super::soap::MoRef;
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A VM's parsed structures.
#[derive(Debug, Default)]
pub struct VmParts {
    pub devices: Devices,
    /// Bytes committed per disk key (`layoutEx`).
    pub committed: HashMap<String, u64>,
}

/// Parsed structures by object, with the hash of the XML they were parsed from.
#[derive(Debug, Default)]
pub struct Cache {
    vms: HashMap<MoRef, (u64, Arc<VmParts>)>,
    links: HashMap<MoRef, (u64, Option<f64>)>,
    seen: HashSet<MoRef>,
}

fn digest(o: &Read, paths: &[&str]) -> u64 {
    let mut h = DefaultHasher::new();
    for p in paths {
        o.props.get(*p).map(|v| v.xml.as_str()).hash(&mut h);
    }
    h.finish()
}

const VM_PATHS: [&str; 2] = ["config.hardware.device", "layoutEx"];

impl Cache {
    pub fn vm(&mut self, vm: &Read) -> Arc<VmParts> {
        self.seen.insert(vm.obj.clone());
        let key = digest(vm, &VM_PATHS);
        if let Some((k, parts)) = self.vms.get(&vm.obj) {
            if *k == key {
                return parts.clone();
            }
        }
        let parts = Arc::new(VmParts {
            devices: vm
                .props
                .get("config.hardware.device")
                .map(|d| devices::read(&d.xml))
                .unwrap_or_default(),
            committed: super::layout::committed(vm),
        });
        self.vms.insert(vm.obj.clone(), (key, parts.clone()));
        parts
    }

    /// A host's vMotion link speed, Gbit/s (`super::vmknic`).
    pub fn link_gbps(&mut self, host: &Read) -> Option<f64> {
        self.seen.insert(host.obj.clone());
        let key = digest(host, &super::vmknic::PATHS);
        if let Some((k, gbps)) = self.links.get(&host.obj) {
            if *k == key {
                return *gbps;
            }
        }
        let gbps = super::vmknic::link_gbps(host);
        self.links.insert(host.obj.clone(), (key, gbps));
        gbps
    }

    /// Forgets the objects not asked about since the last call (gone from vCenter).
    pub fn sweep(&mut self) {
        let seen = std::mem::take(&mut self.seen);
        self.vms.retain(|r, _| seen.contains(r));
        self.links.retain(|r, _| seen.contains(r));
    }
}
