//! Networks (docs/IMPORT.md#networks): distributed switches and their port groups (dvSwitch,
//! dvPort), standard port groups per host (vPort); without them, one distributed switch per
//! cluster holding a port group for each network its VMs name (vNetwork, or vInfo's
//! `Network #1…#8`).

use super::hosts::Hosts;
use super::{need, Work};
use crate::{ReadError, Table};
use domain::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The port groups made, as the VMs' NICs find them.
#[derive(Debug, Default)]
pub struct Network {
    /// Standard port groups: (host, name lower-cased).
    standard: HashMap<(HostId, String), PortgroupId>,
    /// Distributed port groups by name lower-cased: (switch's hosts, port group).
    distributed: HashMap<String, Vec<(BTreeSet<HostId>, PortgroupId)>>,
}

impl Network {
    /// The port group named `name` that `host` reaches: its own standard one, else a
    /// distributed one on a switch it is a member of.
    pub fn find(&self, host: HostId, name: &str) -> Option<PortgroupId> {
        let key = name.trim().to_lowercase();
        self.standard
            .get(&(host, key.clone()))
            .copied()
            .or_else(|| {
                self.distributed
                    .get(&key)?
                    .iter()
                    .find(|(hosts, _)| hosts.contains(&host))
                    .map(|(_, pg)| *pg)
            })
    }
}

/// A VLAN cell: a number; a range or a list (a trunk) is read as untagged, with a warning.
fn vlan(t: &Table, row: &crate::Row, col: Option<usize>) -> (VlanId, bool) {
    let text = col.and_then(|c| t.text(row, c)).unwrap_or_default();
    match text
        .trim()
        .parse::<u16>()
        .ok()
        .and_then(|v| VlanId::parse(v).ok())
    {
        Some(v) => (v, true),
        None => (VlanId::parse(0).expect("0"), text.trim().is_empty()),
    }
}

impl Work<'_> {
    fn switch(&mut self, name: &str, host_ids: Vec<HostId>) -> Option<SwitchId> {
        let name = Name::parse(name).ok()?;
        let (id, name) = self.ids.resolve(ObjectKind::Switch, &name, None, None);
        let id = SwitchId(id);
        if !self.ids.place(id.0) {
            return Some(id);
        }
        self.file.switches.push(Switch { id, name, host_ids });
        Some(id)
    }

    fn portgroup(
        &mut self,
        net: &mut Network,
        name: &str,
        vlan: VlanId,
        on: PortgroupAttachment,
    ) -> Option<PortgroupId> {
        let name = Name::parse(name).ok()?;
        let scope = match on {
            PortgroupAttachment::Distributed(s) => s.0,
            PortgroupAttachment::Standard(h) => h.0,
        };
        let (id, name) = self
            .ids
            .resolve(ObjectKind::Portgroup, &name, None, Some(scope));
        let id = PortgroupId(id);
        if !self.ids.place(id.0) {
            return Some(id);
        }
        let (switch_id, host_id) = match on {
            PortgroupAttachment::Distributed(s) => (Some(s), None),
            PortgroupAttachment::Standard(h) => (None, Some(h)),
        };
        self.file.portgroups.push(Portgroup {
            id,
            name: name.clone(),
            vlan,
            switch_id,
            host_id,
        });
        let key = name.as_str().to_lowercase();
        match on {
            PortgroupAttachment::Standard(h) => {
                net.standard.insert((h, key), id);
            }
            PortgroupAttachment::Distributed(s) => {
                let members = self
                    .file
                    .switches
                    .iter()
                    .find(|w| w.id == s)
                    .map(|w| w.host_ids.iter().copied().collect())
                    .unwrap_or_default();
                net.distributed.entry(key).or_default().push((members, id));
            }
        }
        Some(id)
    }

    fn distributed(&mut self, net: &mut Network, hosts: &Hosts) -> Result<(), ReadError> {
        let book = self.book;
        let all: Vec<HostId> = self.file.hosts.iter().map(|h| h.id).collect();
        let mut guessed_members = 0;
        if let Some(t) = book.get("dvSwitch") {
            let name = need(t, &["Switch", "Name"])?;
            let members = t.column(&["Host members", "Hosts"]);
            for row in &t.rows {
                let Some(n) = t.text(row, name) else { continue };
                let listed: Vec<HostId> = members
                    .and_then(|c| t.text(row, c))
                    .map(|l| l.split([',', ';']).filter_map(|h| hosts.find(h)).collect())
                    .unwrap_or_default();
                if listed.is_empty() {
                    guessed_members += 1;
                }
                self.switch(
                    &n,
                    if listed.is_empty() {
                        all.clone()
                    } else {
                        listed
                    },
                );
            }
        }
        self.guess(
            guessed_members,
            "members of a distributed switch (dvSwitch lists none the export knows): every host"
                .into(),
        );
        if let Some(t) = book.get("dvPort") {
            let (port, switch) = (
                need(t, &["Port", "Port Group", "Name"])?,
                need(t, &["Switch"])?,
            );
            let vlan_col = t.column(&["VLAN"]);
            for row in &t.rows {
                let (Some(p), Some(s)) = (t.text(row, port), t.text(row, switch)) else {
                    continue;
                };
                let Some(sid) = self.switch(&s, all.clone()) else {
                    continue;
                };
                let (v, exact) = vlan(t, row, vlan_col);
                if !exact {
                    self.warn(
                        t,
                        row,
                        "VLAN",
                        format!(
                            "port group {p}: a VLAN range or list (a trunk) is read as untagged"
                        ),
                    );
                }
                self.portgroup(net, &p, v, PortgroupAttachment::Distributed(sid));
            }
        }
        Ok(())
    }

    fn standard(&mut self, net: &mut Network, hosts: &Hosts) -> Result<(), ReadError> {
        let book = self.book;
        let Some(t) = book.get("vPort") else {
            return Ok(());
        };
        let (host, port) = (need(t, &["Host"])?, need(t, &["Port Group", "Portgroup"])?);
        let vlan_col = t.column(&["VLAN"]);
        for row in &t.rows {
            let (Some(h), Some(p)) = (
                t.text(row, host).and_then(|h| hosts.find(&h)),
                t.text(row, port),
            ) else {
                continue;
            };
            let (v, _) = vlan(t, row, vlan_col);
            self.portgroup(net, &p, v, PortgroupAttachment::Standard(h));
        }
        Ok(())
    }

    /// The networks the VMs name that no port group read above carries: one switch per
    /// cluster ("<cluster>-vds"), a port group per network, VLAN untagged.
    fn inferred(&mut self, net: &mut Network, hosts: &Hosts) -> Result<(), ReadError> {
        let wanted = super::vms::networks_named(self.book, hosts)?;
        let mut made = 0;
        let mut by_cluster: BTreeMap<ClusterId, BTreeSet<String>> = BTreeMap::new();
        for (host, name) in wanted {
            if net.find(host, &name).is_none() {
                if let Some(c) = hosts.cluster_of.get(&host) {
                    by_cluster.entry(*c).or_default().insert(name);
                }
            }
        }
        for (cluster, names) in by_cluster {
            let cname = self
                .file
                .clusters
                .iter()
                .find(|c| c.id == cluster)
                .map(|c| c.name.to_string())
                .unwrap_or_default();
            let members = hosts.in_cluster.get(&cluster).cloned().unwrap_or_default();
            let Some(sid) = self.switch(&format!("{cname}-vds"), members) else {
                continue;
            };
            for n in names {
                if self
                    .portgroup(
                        net,
                        &n,
                        VlanId::parse(0).expect("0"),
                        PortgroupAttachment::Distributed(sid),
                    )
                    .is_some()
                {
                    made += 1;
                }
            }
        }
        self.guess(made, "port groups (no dvPort or vPort row names them): a distributed switch per cluster, one untagged port group per network its VMs name".into());
        Ok(())
    }
}

/// Switches and port groups.
pub fn map(work: &mut Work<'_>, hosts: &Hosts) -> Result<Network, ReadError> {
    let mut net = Network::default();
    work.distributed(&mut net, hosts)?;
    work.standard(&mut net, hosts)?;
    work.inferred(&mut net, hosts)?;
    Ok(net)
}
