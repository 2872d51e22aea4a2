//! A host's vMotion link speed (docs/VCENTER.md#mapping): the vmknic selected for vMotion
//! (`config.virtualNicManagerInfo.netConfig`, nicType `vmotion`), its standard port group
//! (`config.network.portgroup`), that port group's vSwitch (`config.network.vswitch`) and the
//! vSwitch's physical NICs (`config.network.pnic`): the fastest linked one's `linkSpeed`. A
//! vmknic on a distributed switch (whose uplinks the host's config does not name) counts the
//! fastest linked physical NIC of the host. `None` when no vmknic is selected for vMotion.

use super::collect::{fragment, Object as Read};
use super::soap::text_of;

/// The properties read for it.
pub const PATHS: [&str; 4] = [
    "config.virtualNicManagerInfo.netConfig",
    "config.network.portgroup",
    "config.network.vswitch",
    "config.network.pnic",
];

/// Each element named `name` of a property's value, as a parsed document's nodes.
fn with_items<T>(host: &Read, path: &str, f: impl FnOnce(Vec<roxmltree::Node<'_, '_>>) -> T) -> T {
    let xml = host.props.get(path).map_or("", |v| v.xml.as_str());
    let wrapped = fragment(xml);
    match roxmltree::Document::parse(&wrapped) {
        Ok(doc) => {
            let items = doc
                .root_element()
                .first_element_child()
                .map(|val| val.children().filter(|n| n.is_element()).collect())
                .unwrap_or_default();
            f(items)
        }
        Err(_) => f(Vec::new()),
    }
}

fn child_texts(node: roxmltree::Node<'_, '_>, name: &str) -> Vec<String> {
    node.children()
        .filter(|n| n.tag_name().name() == name)
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect()
}

fn find<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|n| n.tag_name().name() == name)
}

/// The vMotion link's speed, Gbit/s.
pub fn link_gbps(host: &Read) -> Option<f64> {
    // The selected vMotion vmknic: its standard port group, if it has one.
    let vmotion: Option<Option<String>> =
        with_items(host, "config.virtualNicManagerInfo.netConfig", |configs| {
            configs
                .into_iter()
                .filter(|c| text_of(*c, "nicType").as_deref() == Some("vmotion"))
                .find_map(|config| {
                    let selected = child_texts(config, "selectedVnic");
                    let vnic = config
                        .children()
                        .filter(|n| n.tag_name().name() == "candidateVnic")
                        .find(|v| text_of(*v, "key").is_some_and(|k| selected.contains(&k)))?;
                    Some(text_of(vnic, "portgroup").filter(|p| !p.is_empty()))
                })
        });
    let portgroup = vmotion?;
    let vswitch = portgroup.and_then(|pg| {
        with_items(host, "config.network.portgroup", |groups| {
            groups.into_iter().find_map(|g| {
                let spec = find(g, "spec")?;
                (text_of(spec, "name")? == pg).then(|| text_of(spec, "vswitchName"))?
            })
        })
    });
    let uplinks: Option<Vec<String>> = vswitch.map(|name| {
        with_items(host, "config.network.vswitch", |switches| {
            switches
                .into_iter()
                .find(|s| text_of(*s, "name").as_deref() == Some(name.as_str()))
                .map(|s| child_texts(s, "pnic"))
                .unwrap_or_default()
        })
    });
    let mbps = with_items(host, "config.network.pnic", |pnics| {
        pnics
            .into_iter()
            .filter(|p| {
                uplinks
                    .as_ref()
                    .is_none_or(|keys| text_of(*p, "key").is_some_and(|k| keys.contains(&k)))
            })
            .filter_map(|p| {
                text_of(find(p, "linkSpeed")?, "speedMb")?
                    .parse::<f64>()
                    .ok()
            })
            .fold(0.0_f64, f64::max)
    });
    Some(mbps / 1000.0)
}
