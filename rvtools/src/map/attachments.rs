//! What a VM is attached to (docs/IMPORT.md#vms): its NICs' port groups, from vNetwork or
//! vInfo's `Network #n`, and its CD/DVD drives and USB devices, from vCD and vUSB.

use super::network::Network;
use super::storage::{datastore_of_path, Storage};
use super::vms::{Children, Tally};
use super::{need, Work};
use crate::{ReadError, Row, Table};
use domain::*;

impl Work<'_> {
    /// The VM's NICs: its vNetwork rows, else vInfo's `Network #n` (connected).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn nics(
        &mut self,
        info: &Table,
        row: &Row,
        name: &str,
        host: HostId,
        rows: Option<&Vec<&Row>>,
        net: &Network,
        tally: &mut Tally,
    ) -> Result<Vec<Nic>, ReadError> {
        let mut out = Vec::new();
        if let Some(t) = self.book.get("vNetwork") {
            let (network, connected) = (need(t, &["Network"])?, t.column(&["Connected"]));
            for r in rows.into_iter().flatten() {
                let Some(n) = t.text(r, network) else {
                    self.warn(
                        t,
                        r,
                        "Network",
                        format!("a NIC of {name} names no network: left out"),
                    );
                    continue;
                };
                let Some(pg) = net.find(host, &n) else {
                    self.warn(
                        t,
                        r,
                        "Network",
                        format!("network {n} is not reachable from {name}'s host: NIC left out"),
                    );
                    continue;
                };
                let on = connected
                    .map(|c| t.boolean(r, c))
                    .transpose()?
                    .flatten()
                    .unwrap_or(true);
                out.push(Nic {
                    portgroup_id: pg,
                    connected: on,
                });
            }
            return Ok(out);
        }
        for i in 1..=8 {
            let Some(n) = info
                .column(&[&format!("Network #{i}")])
                .and_then(|c| info.text(row, c))
            else {
                continue;
            };
            if let Some(pg) = net.find(host, &n) {
                out.push(Nic {
                    portgroup_id: pg,
                    connected: true,
                });
            }
        }
        if !out.is_empty() {
            tally.from_network_columns += 1;
        }
        Ok(out)
    }

    /// CD/DVD drives (vCD) and USB devices (vUSB).
    pub(super) fn devices(
        &mut self,
        name: &str,
        children: &Children<'_>,
        storage: &Storage,
    ) -> Result<Vec<Device>, ReadError> {
        let mut out = Vec::new();
        if let Some(t) = self.book.get("vCD") {
            let (connected, kind) = (t.column(&["Connected"]), t.column(&["Device Type"]));
            for r in children.cds.get(name).into_iter().flatten() {
                let on = connected
                    .map(|c| t.boolean(r, c))
                    .transpose()?
                    .flatten()
                    .unwrap_or(false);
                let what = kind.and_then(|c| t.text(r, c)).unwrap_or_default();
                let file = datastore_of_path(&what)
                    .map(str::to_lowercase)
                    .and_then(|n| storage.by_name.get(&n).copied());
                let iso = file.is_some() || what.to_lowercase().contains("iso");
                out.push(Device {
                    kind: DeviceKind::Cdrom,
                    backing: if iso {
                        DeviceBacking::File
                    } else {
                        DeviceBacking::HostDevice
                    },
                    datastore_id: file,
                    connected: on,
                });
            }
        }
        if let Some(t) = self.book.get("vUSB") {
            let connected = t.column(&["Connected"]);
            for r in children.usbs.get(name).into_iter().flatten() {
                let on = connected
                    .map(|c| t.boolean(r, c))
                    .transpose()?
                    .flatten()
                    .unwrap_or(true);
                out.push(Device {
                    kind: DeviceKind::Usb,
                    backing: DeviceBacking::HostDevice,
                    datastore_id: None,
                    connected: on,
                });
            }
        }
        Ok(out)
    }
}
