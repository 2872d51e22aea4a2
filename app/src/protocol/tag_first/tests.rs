use super::*;
use domain::{InventoryFile, Object};

const DEMO: &str = include_str!("../../../../server/data/demo.json");

/// The variants the server's websocket tests do not all meet read the same tag first (those
/// tests read every frame both ways too).
#[test]
fn live_messages_read_the_same_tag_first() {
    let file: InventoryFile = serde_json::from_str(DEMO).unwrap();
    let (inv, _, _) = Inventory::default().validate_import(file).unwrap();
    let vm = inv.vms.values().next().unwrap().clone();
    let host = inv.hosts.values().next().unwrap().id;
    let tiles = domain::overview::overview(&inv);
    let messages = [
        LiveMessage::Snapshot {
            revision: 7,
            inventory: inv.clone(),
            migrations: Some(Vec::new()),
            faults: None,
            overview: Some(tiles.clone()),
        },
        LiveMessage::OverviewChanged {
            tiles: tiles.iter().map(|t| TileChange::between(None, t)).collect(),
            removed: vec![ClusterId::new_random()],
        },
        LiveMessage::InventoryChanged {
            revision: 8,
            change: Change::Upsert {
                object: Object::Vm(vm.clone()),
            },
        },
        LiveMessage::FaultsChanged { faults: Vec::new() },
        LiveMessage::LabHeartbeats {
            guests: vec![LabGuest {
                vm_id: vm.id,
                host_id: host,
                heartbeat: Some(42),
                uptime_ms: None,
                disk_ok: 3,
                disk_bad: 0,
            }],
            platform: None,
        },
    ];
    for message in &messages {
        domain::testing::reads_the_same_tag_first(message);
    }
}

#[test]
fn an_unknown_type_is_refused_by_name() {
    let err = domain::tag_first::deserialize::<LiveMessage, _>(
        &mut serde_json::Deserializer::from_str(r#"{"type":"gossip"}"#),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("unknown variant `gossip`"),
        "{err}"
    );
}
