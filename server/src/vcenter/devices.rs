//! A VM's device list (`config.hardware.device`) as vmshift's disks, NICs and devices
//! (docs/VCENTER.md#mapping): devices are told by their `xsi:type` (any prefix), NICs by their
//! backing (`VirtualEthernetCard…BackingInfo`), whatever the adapter model.

use super::collect::fragment;
use super::soap::{child, moref, text_of, MoRef};
use domain::*;

/// Where a NIC is plugged: a distributed port group (its key) or a standard network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plug {
    Distributed(MoRef),
    Standard(MoRef),
}

/// What the device list holds, references still vCenter's.
#[derive(Debug, Default)]
pub struct Devices {
    /// Capacity MiB, the datastore, thin.
    pub disks: Vec<(u64, MoRef, bool)>,
    /// Each disk's device key (`2000`), in the order of `disks` (a relocation's disk locators).
    pub disk_keys: Vec<String>,
    pub nics: Vec<(Plug, bool)>,
    /// Kind, backing, the datastore of a file backing, connected.
    pub devices: Vec<(DeviceKind, DeviceBacking, Option<MoRef>, bool)>,
}

/// The `xsi:type` of an element, whatever the prefix.
fn xsi_type<'a>(n: roxmltree::Node<'a, '_>) -> &'a str {
    n.attributes()
        .find(|a| a.name() == "type" && a.namespace().is_some())
        .map_or("", |a| a.value())
}

fn connected(dev: roxmltree::Node<'_, '_>) -> bool {
    child(dev, "connectable")
        .and_then(|c| text_of(c, "connected"))
        .is_none_or(|t| t == "true")
}

/// Reads a `config.hardware.device` value (its XML).
pub fn read(xml: &str) -> Devices {
    let mut out = Devices::default();
    let wrapped = fragment(xml);
    let Ok(doc) = roxmltree::Document::parse(&wrapped) else {
        return out;
    };
    let Some(val) = doc.root_element().first_element_child() else {
        return out;
    };
    for dev in val.children().filter(|n| n.is_element()) {
        let kind = xsi_type(dev);
        let backing = child(dev, "backing");
        let backing_kind = backing.map_or("", xsi_type);
        let datastore = backing.and_then(|b| child(b, "datastore")).and_then(moref);
        match kind {
            "VirtualDisk" => {
                let kib: u64 = text_of(dev, "capacityInKB")
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                let thin = backing
                    .and_then(|b| text_of(b, "thinProvisioned"))
                    .as_deref()
                    == Some("true");
                if let Some(ds) = datastore {
                    out.disks.push(((kib / 1024).max(1), ds, thin));
                    out.disk_keys.push(text_of(dev, "key").unwrap_or_default());
                }
            }
            "VirtualCdrom" | "VirtualFloppy" | "VirtualSerialPort" => {
                let kind = match kind {
                    "VirtualCdrom" => DeviceKind::Cdrom,
                    "VirtualFloppy" => DeviceKind::Floppy,
                    _ => DeviceKind::Serial,
                };
                let file = backing_kind.contains("Iso")
                    || backing_kind.contains("Image")
                    || backing_kind.contains("File");
                let backing = if file {
                    DeviceBacking::File
                } else {
                    DeviceBacking::HostDevice
                };
                out.devices
                    .push((kind, backing, datastore.filter(|_| file), connected(dev)));
            }
            k if k.starts_with("VirtualUSB") && !k.ends_with("Controller") => {
                out.devices.push((
                    DeviceKind::Usb,
                    DeviceBacking::HostDevice,
                    None,
                    connected(dev),
                ));
            }
            _ if backing_kind.starts_with("VirtualEthernetCard") => {
                let Some(b) = backing else { continue };
                let plug = if backing_kind.contains("DistributedVirtualPort") {
                    child(b, "port")
                        .and_then(|p| text_of(p, "portgroupKey"))
                        .map(|k| Plug::Distributed(MoRef::new("DistributedVirtualPortgroup", &k)))
                } else {
                    child(b, "network").and_then(moref).map(Plug::Standard)
                };
                if let Some(plug) = plug {
                    out.nics.push((plug, connected(dev)));
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disks_nics_and_devices_are_told_by_their_types_and_backings() {
        let xml = r#"<val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="ArrayOfVirtualDevice"><VirtualDevice XMLSchema-instance:type="VirtualDisk"><key>204</key><backing XMLSchema-instance:type="VirtualDiskFlatVer2BackingInfo"><fileName>[ds] vm/disk1.vmdk</fileName><datastore type="Datastore">datastore-1</datastore><thinProvisioned>true</thinProvisioned></backing><capacityInKB>10485760</capacityInKB></VirtualDevice><VirtualDevice XMLSchema-instance:type="VirtualVmxnet3"><backing XMLSchema-instance:type="VirtualEthernetCardDistributedVirtualPortBackingInfo"><port><switchUuid>u</switchUuid><portgroupKey>dvportgroup-13</portgroupKey></port></backing><connectable><connected>false</connected></connectable></VirtualDevice><VirtualDevice XMLSchema-instance:type="VirtualE1000"><backing XMLSchema-instance:type="VirtualEthernetCardNetworkBackingInfo"><deviceName>VM Network</deviceName><network type="Network">network-7</network></backing><connectable><connected>true</connected></connectable></VirtualDevice><VirtualDevice XMLSchema-instance:type="VirtualCdrom"><backing XMLSchema-instance:type="VirtualCdromIsoBackingInfo"><fileName>[ds] iso/tools.iso</fileName><datastore type="Datastore">datastore-1</datastore></backing><connectable><connected>true</connected></connectable></VirtualDevice><VirtualDevice XMLSchema-instance:type="VirtualUSBController"></VirtualDevice><VirtualDevice XMLSchema-instance:type="VirtualUSB"><connectable><connected>true</connected></connectable></VirtualDevice></val>"#;
        let d = read(xml);
        assert_eq!(
            d.disks,
            vec![(10_240, MoRef::new("Datastore", "datastore-1"), true)]
        );
        assert_eq!(
            d.nics,
            vec![
                (
                    Plug::Distributed(MoRef::new("DistributedVirtualPortgroup", "dvportgroup-13")),
                    false
                ),
                (Plug::Standard(MoRef::new("Network", "network-7")), true),
            ]
        );
        assert_eq!(d.devices.len(), 2);
        assert_eq!(
            d.devices[0],
            (
                DeviceKind::Cdrom,
                DeviceBacking::File,
                Some(MoRef::new("Datastore", "datastore-1")),
                true
            )
        );
        assert_eq!(d.devices[1].0, DeviceKind::Usb);
    }
}
