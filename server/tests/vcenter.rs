//! vCenter as a source of inventory, against govmomi's vSphere simulator (the test server
//! `target/vcsim/vcsim`, built by scripts/install-vcsim.sh): login, bad credentials, an
//! unreachable vCenter, and the whole inventory read in one property-collector pass, accepted
//! by the gate. Skipped by scripts/test.sh where the test server is missing; run once (in the
//! SQLite pass).

mod common;

use common::vcsim::{simulator, MODEL, PASSWORD};
use server::vcenter::{read_inventory, SoapError};

#[tokio::test]
async fn vcenter_inventory_is_read_in_one_pass_and_accepted_by_the_gate() {
    let sim = simulator(MODEL);
    let (content, mapped) = read_inventory(&sim.endpoint(PASSWORD)).await.unwrap();
    let file = mapped.file;
    // Every object knows its managed object id.
    assert_eq!(mapped.morefs.len(), file.len());
    assert!(content.full_name.contains("vCenter"), "{content:?}");
    assert!(!content.instance_uuid.is_empty());
    // Two clusters of three hosts, a standalone host (in vmshift's standalone cluster).
    assert_eq!(file.hosts.len(), 7);
    assert_eq!(file.clusters.len(), 3);
    assert_eq!(file.datastores.len(), 2);
    // Two VMs per resource pool: each cluster's and the standalone host's.
    assert_eq!(
        file.vms.len(),
        6,
        "{:?}",
        file.vms.iter().map(|v| v.name.as_str()).collect::<Vec<_>>()
    );
    for h in &file.hosts {
        assert!(
            h.vmotion_enabled,
            "{}: the test server enables vMotion",
            h.name
        );
        assert!(
            h.cores.get() > 1 && h.cpu_mhz.get() > 1 && h.memory_mib.get() > 1024,
            "{h:?}"
        );
        // The vMotion vmknic's uplink, 25 Gbit/s in the test server (the default is 10).
        assert_eq!(h.vmotion_link_gbps.get(), 25.0, "{}", h.name);
    }
    for d in &file.datastores {
        assert_eq!(d.host_ids.len(), 7, "{} is mounted by every host", d.name);
    }
    for v in &file.vms {
        assert!(!v.disks.is_empty(), "{}: its virtual disk", v.name);
        assert_eq!(v.nics.len(), 1, "{}: its NIC", v.name);
        assert!(
            v.devices.is_empty(),
            "{}: the test server's CD-ROMs are taken out",
            v.name
        );
    }
    // One distributed switch with every host, its two port groups (the uplinks' left out).
    assert_eq!(file.switches.len(), 1);
    assert_eq!(file.switches[0].host_ids.len(), 7);
    let names: Vec<&str> = file.portgroups.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().all(|n| !n.contains("Uplinks")), "{names:?}");
    assert!(file
        .portgroups
        .iter()
        .all(|p| p.switch_id == Some(file.switches[0].id)));
    let (inv, _, summary) = domain::Inventory::default()
        .validate_import(file.clone())
        .expect("the gate accepts the vCenter's inventory");
    assert_eq!(summary.created, file.len());
    // Read again: the same ids (derived from the vCenter and its object ids).
    let (_, again) = read_inventory(&sim.endpoint(PASSWORD)).await.unwrap();
    let again = again.file;
    assert!(again.vms.iter().all(|v| inv.vms.contains_key(&v.id)));
    assert!(again.hosts.iter().all(|h| inv.hosts.contains_key(&h.id)));
}

#[tokio::test]
async fn vcenter_bad_credentials_and_an_unreachable_url_are_clear_errors() {
    let sim = simulator(&[]);
    let wrong = read_inventory(&sim.endpoint("not-the-password")).await;
    assert!(matches!(wrong, Err(SoapError::BadLogin)), "{wrong:?}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut endpoint = sim.endpoint(PASSWORD);
    endpoint.url = format!("http://127.0.0.1:{port}/sdk");
    let gone = read_inventory(&endpoint).await;
    match gone {
        Err(SoapError::Unreachable { url, .. }) => assert!(url.contains(&port.to_string())),
        other => panic!("{other:?}"),
    }
}
