use super::*;
use crate::generate::scale_inventory;

#[test]
fn the_exact_name_comes_first_then_names_that_start_with_it_then_the_rest() {
    let inv = scale_inventory(2, 2, 12);
    let found = find(&inv, "VM-001-001-01", None, 5);
    // vm-001-001-010 and -011 start with it; nothing else contains it.
    assert_eq!(found.total, 2);
    let names: Vec<&str> = found.hits.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["vm-001-001-010", "vm-001-001-011"]);
    let exact = find(&inv, "vm-001-001-010", None, 5);
    assert_eq!(exact.hits[0].name, "vm-001-001-010");
    assert_eq!(exact.hits[0].kind, ObjectKind::Vm);
    assert_eq!(exact.hits[0].context, "esx-001-001 · cluster-001");
    let cluster = inv
        .clusters
        .values()
        .find(|c| c.name.as_str() == "cluster-001")
        .unwrap();
    assert_eq!(exact.hits[0].cluster, Some(cluster.id));
}

#[test]
fn every_kind_is_found_clusters_and_hosts_before_vms_and_the_total_counts_all() {
    let inv = scale_inventory(2, 2, 3);
    let found = find(&inv, "001", None, 100);
    let kinds: Vec<ObjectKind> = found.hits.iter().map(|h| h.kind).collect();
    // cluster-001; esx-000-001, esx-001-000, esx-001-001; the VMs; san-001, pg-001, dvs-001.
    assert_eq!(kinds[0], ObjectKind::Cluster);
    assert!(kinds[1..4].iter().all(|k| *k == ObjectKind::Host));
    assert_eq!(
        &kinds[kinds.len() - 3..],
        [
            ObjectKind::Datastore,
            ObjectKind::Portgroup,
            ObjectKind::Switch
        ]
    );
    assert_eq!(found.total, found.hits.len());
    let limited = find(&inv, "001", None, 4);
    assert_eq!(limited.hits, found.hits[..4]);
    assert_eq!(limited.total, found.total);
    // A datastore opens the cluster whose hosts mount it.
    let san = found.hits.iter().find(|h| h.name == "san-001").unwrap();
    assert_eq!(san.cluster, found.hits[0].cluster);
}

#[test]
fn a_search_can_keep_to_one_kind_and_an_empty_text_finds_nothing() {
    let inv = scale_inventory(1, 2, 2);
    let hosts = find(&inv, "0", Some(ObjectKind::Host), 10);
    assert_eq!(hosts.total, 2);
    assert!(hosts.hits.iter().all(|h| h.kind == ObjectKind::Host));
    assert_eq!(hosts.hits[0].context, "cluster-000");
    assert_eq!(find(&inv, "   ", None, 10), Found::default());
    assert_eq!(find(&inv, "nothing-like-this", None, 10).total, 0);
}

#[test]
fn names_beyond_ascii_are_compared_without_case_too() {
    assert_eq!(rank("Überlingen-01", "überlingen-01"), Some(0));
    assert_eq!(rank("Überlingen-01", "über"), Some(1));
    assert_eq!(rank("srv-Überlingen", "überl"), Some(2));
    assert_eq!(rank("web-01", "WEB".to_lowercase().as_str()), Some(1));
    assert_eq!(rank("web-01", "eb-0"), Some(2));
    assert_eq!(rank("web", "web-01"), None);
}
