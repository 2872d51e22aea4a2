//! What a VM's disks hold (docs/VCENTER.md#mapping): `layoutEx` lists each disk's chain of
//! files (`disk[].chain[].fileKey`) and each file's size (`file[]`); a disk's committed space
//! is the size of its files. Empty when the server does not give `layoutEx`.

use super::collect::{fragment, Object as Read};
use super::soap::text_of;
use std::collections::HashMap;

/// Bytes committed per disk key (`2000`).
pub fn committed(vm: &Read) -> HashMap<String, u64> {
    let xml = vm.props.get("layoutEx").map_or("", |v| v.xml.as_str());
    let wrapped = fragment(xml);
    let Ok(doc) = roxmltree::Document::parse(&wrapped) else {
        return HashMap::new();
    };
    let Some(layout) = doc.root_element().first_element_child() else {
        return HashMap::new();
    };
    let sizes: HashMap<String, u64> = layout
        .children()
        .filter(|n| n.tag_name().name() == "file")
        .filter_map(|f| Some((text_of(f, "key")?, text_of(f, "size")?.parse().ok()?)))
        .collect();
    layout
        .children()
        .filter(|n| n.tag_name().name() == "disk")
        .filter_map(|d| {
            let key = text_of(d, "key")?;
            let bytes = d
                .children()
                .filter(|n| n.tag_name().name() == "chain")
                .flat_map(|c| c.children().filter(|n| n.tag_name().name() == "fileKey"))
                .filter_map(|k| sizes.get(k.text()?.trim()))
                .sum();
            Some((key, bytes))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vcenter::collect::Value;
    use crate::vcenter::soap::MoRef;

    #[test]
    fn a_disk_holds_the_files_of_its_chain() {
        let xml = r#"<val xsi:type="VirtualMachineFileLayoutEx"><file><key>0</key><name>[ds] vm/vm.vmx</name><type>config</type><size>3000</size></file><file><key>1</key><name>[ds] vm/vm.vmdk</name><type>diskDescriptor</type><size>500</size></file><file><key>2</key><name>[ds] vm/vm-flat.vmdk</name><type>diskExtent</type><size>1048576000</size></file><disk><key>2000</key><chain><fileKey>1</fileKey><fileKey>2</fileKey></chain></disk></val>"#;
        let vm = Read {
            obj: MoRef::new("VirtualMachine", "vm-1"),
            props: [(
                "layoutEx".to_string(),
                Value {
                    xml: xml.into(),
                    ..Value::default()
                },
            )]
            .into(),
        };
        assert_eq!(committed(&vm).get("2000"), Some(&1_048_576_500));
    }
}
