//! Names unique in their scope, and the name index the gate reads them from.

use super::*;

#[test]
fn names_are_unique_within_their_scope() {
    let mut f = fixture();
    let dup = host(f.cluster, "esx-a");
    let msg = refused(
        f.inv.validate(Mutation::Create(Object::Host(dup))),
        ErrorCode::Duplicate,
        Some("name"),
    );
    assert!(msg.contains("esx-a"), "{msg}");
    // A standard port group named like one on another host is fine: its scope differs.
    let other = Portgroup {
        id: PortgroupId::new_random(),
        name: name("legacy"),
        vlan: VlanId::parse(0).unwrap(),
        switch_id: None,
        host_id: Some(f.b),
    };
    create(&mut f.inv, Object::Portgroup(other.clone())).unwrap();
    // A port group on a switch may share a name with a standard one.
    let on_switch = Portgroup {
        id: PortgroupId::new_random(),
        switch_id: Some(f.vds),
        host_id: None,
        ..other.clone()
    };
    assert!(f
        .inv
        .validate(Mutation::Create(Object::Portgroup(on_switch)))
        .is_ok());
    let same_scope = Portgroup {
        id: PortgroupId::new_random(),
        ..other
    };
    refused(
        f.inv
            .validate(Mutation::Create(Object::Portgroup(same_scope))),
        ErrorCode::Duplicate,
        Some("name"),
    );
    // Renaming an object to its own name is not a duplicate.
    let mut same = f.inv.hosts[&f.a].clone();
    same.cores = nz32(64);
    assert!(f.inv.validate(Mutation::Update(Object::Host(same))).is_ok());
}

#[test]
fn the_name_index_follows_renames_and_deletions() {
    let mut f = fixture();
    let mut a = f.inv.hosts[&f.a].clone();
    a.name = name("esx-renamed");
    let change = f.inv.validate(Mutation::Update(Object::Host(a))).unwrap();
    f.inv.apply(&change);
    // The old name is free, the new one taken.
    assert!(f
        .inv
        .validate(Mutation::Create(Object::Host(host(f.cluster, "esx-a"))))
        .is_ok());
    refused(
        f.inv.validate(Mutation::Create(Object::Host(host(
            f.cluster,
            "esx-renamed",
        )))),
        ErrorCode::Duplicate,
        Some("name"),
    );
    // A host filled into the map directly (as storage does) is seen before any reindex.
    let direct = host(f.cluster, "esx-direct");
    f.inv.hosts.insert(direct.id, direct);
    refused(
        f.inv.validate(Mutation::Create(Object::Host(host(
            f.cluster,
            "esx-direct",
        )))),
        ErrorCode::Duplicate,
        Some("name"),
    );
    f.inv.reindex();
    let extra = host(f.cluster, "esx-extra");
    let change = f
        .inv
        .validate(Mutation::Create(Object::Host(extra.clone())))
        .unwrap();
    f.inv.apply(&change);
    let change = f
        .inv
        .validate(Mutation::Delete(ObjectKind::Host, extra.id.0))
        .unwrap();
    f.inv.apply(&change);
    assert!(f
        .inv
        .validate(Mutation::Create(Object::Host(host(f.cluster, "esx-extra"))))
        .is_ok());
}
