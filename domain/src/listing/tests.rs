use super::*;
use crate::generate::scale_inventory;

fn names(inv: &Inventory, kind: ObjectKind, listing: &Listing) -> Vec<String> {
    listing
        .ids
        .iter()
        .map(|id| inv.get(kind, *id).unwrap().name().to_string())
        .collect()
}

fn query(q: Option<&str>, sort: Option<&str>, offset: usize, limit: Option<usize>) -> ListQuery {
    ListQuery {
        q: q.map(String::from),
        sort: sort.map(String::from),
        offset,
        limit,
    }
}

#[test]
fn a_page_is_a_slice_of_the_sorted_filtered_list_with_its_total() {
    let inv = scale_inventory(2, 3, 4);
    let all = list(&inv, ObjectKind::Vm, &ListQuery::default()).unwrap();
    assert_eq!(all.total, 24);
    let every = names(&inv, ObjectKind::Vm, &all);
    let mut sorted = every.clone();
    sorted.sort();
    assert_eq!(every, sorted);
    let page = list(&inv, ObjectKind::Vm, &query(None, None, 5, Some(3))).unwrap();
    assert_eq!(page.total, 24);
    assert_eq!(names(&inv, ObjectKind::Vm, &page), every[5..8]);
    // Past the end: nothing, the total still counted.
    let past = list(&inv, ObjectKind::Vm, &query(None, None, 30, Some(3))).unwrap();
    assert_eq!((past.ids.len(), past.total), (0, 24));
    // Filtered by name, case-insensitive.
    let some = list(
        &inv,
        ObjectKind::Vm,
        &query(Some("VM-001-002"), None, 0, None),
    )
    .unwrap();
    assert_eq!(
        names(&inv, ObjectKind::Vm, &some),
        [
            "vm-001-002-000",
            "vm-001-002-001",
            "vm-001-002-002",
            "vm-001-002-003"
        ]
    );
}

#[test]
fn a_list_sorts_by_a_field_either_way_ties_by_name() {
    let mut inv = scale_inventory(1, 3, 2);
    let mut big = inv
        .vms
        .values()
        .find(|v| v.name.as_str() == "vm-000-001-001")
        .unwrap()
        .clone();
    big.memory_mib = SizeMib::parse(64 * 1024).unwrap();
    inv.apply(&Change::Upsert {
        object: Object::Vm(big),
    });
    let by_memory = list(
        &inv,
        ObjectKind::Vm,
        &query(None, Some("-memory_mib"), 0, Some(2)),
    )
    .unwrap();
    assert_eq!(
        names(&inv, ObjectKind::Vm, &by_memory),
        ["vm-000-001-001", "vm-000-002-001"]
    );
    let by_host = list(&inv, ObjectKind::Vm, &query(None, Some("host"), 0, None)).unwrap();
    assert_eq!(
        names(&inv, ObjectKind::Vm, &by_host)[..2],
        ["vm-000-000-000", "vm-000-000-001"]
    );
    let hosts = list(&inv, ObjectKind::Host, &query(None, Some("-name"), 0, None)).unwrap();
    assert_eq!(
        names(&inv, ObjectKind::Host, &hosts),
        ["esx-000-002", "esx-000-001", "esx-000-000"]
    );
}

#[test]
fn an_unknown_sort_field_or_a_bad_limit_is_refused_naming_it() {
    let inv = scale_inventory(1, 1, 1);
    let e = list(&inv, ObjectKind::Vm, &query(None, Some("cores"), 0, None)).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("sort"));
    assert!(e.message.contains("memory_mib"), "{}", e.message);
    for limit in [0, MAX_LIMIT + 1] {
        let e = list(&inv, ObjectKind::Vm, &query(None, None, 0, Some(limit))).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("limit"));
    }
}
