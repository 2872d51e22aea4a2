//! Properties of the transfer model over any valid input (docs/DESIGN.md#transfer-model): a
//! prediction is finite and non-negative, and consistent — it sends at least the memory and
//! disks it moves, its downtime fits in its duration, its rounds add up — or it says plainly
//! that the move does not converge.

use domain::checks::{MigrationKind, MigrationOptions, MigrationRequest};
use domain::platform::Platform;
use domain::prediction::{predict_on, Prediction};
use domain::testing::{disk, fixture, nz32, nz64};
use domain::*;
use proptest::prelude::*;

const MIB: f64 = 1024.0 * 1024.0;

/// One migration's inputs: the VM's memory and workload, its disks, the network, the storage
/// and the options.
#[derive(Debug, Clone)]
struct Case {
    kind: MigrationKind,
    memory_mib: u64,
    zero_fraction: f64,
    dirty_mib_s: f64,
    working_set_mib: Option<u64>,
    disks: Vec<(u64, u64, bool)>,
    link_gbps: f64,
    throughput_mib_s: u32,
    downtime_target_ms: Option<u32>,
    cap_mbps: Option<u32>,
    powered_on: bool,
    qemu: bool,
}

fn link() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(LinkGbps::MIN_UP),
        0.01f64..1.0,
        1.0f64..100.0,
        Just(800.0)
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![
            Just(MigrationKind::VMotion),
            Just(MigrationKind::StorageVMotion),
            Just(MigrationKind::Combined)
        ],
        1u64..(1 << 20),
        0.0f64..=1.0,
        prop_oneof![Just(0.0), 0.0f64..100.0, 100.0f64..100_000.0],
        prop::option::of(1u64..(1 << 20)),
        prop::collection::vec((1u64..(1 << 22), 0u64..(1 << 22), any::<bool>()), 0..4),
        link(),
        1u32..20_000,
        prop::option::of(1u32..=100_000),
        prop::option::of(1u32..1_000_000),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(kind, memory, z, dirty, ws, disks, link, tp, target, cap, on, qemu)| Case {
                kind,
                memory_mib: memory,
                zero_fraction: z,
                dirty_mib_s: dirty,
                working_set_mib: ws,
                disks: disks
                    .into_iter()
                    .map(|(cap, used, thin)| (cap, used.min(cap), thin))
                    .collect(),
                link_gbps: link,
                throughput_mib_s: tp,
                downtime_target_ms: target,
                cap_mbps: cap,
                powered_on: on,
                qemu,
            },
        )
}

/// The case as an inventory (hosts a and b on the fixture's shared datastore, which is made
/// big enough, plus a second shared datastore) and a request.
fn setup(c: &Case) -> (Inventory, MigrationRequest, f64) {
    let mut f = fixture();
    let mut objects: Vec<Object> = f.inv.objects().collect();
    let big = SizeMib::parse(1 << 40).unwrap();
    for o in &mut objects {
        match o {
            Object::Host(h) => {
                h.vmotion_link_gbps = LinkGbps::parse(c.link_gbps).unwrap();
                h.memory_mib = SizeMib::parse(1 << 30).unwrap();
            }
            Object::Datastore(d) => {
                d.capacity_mib = big;
                d.throughput_mib_s = nz32(c.throughput_mib_s);
            }
            _ => {}
        }
    }
    let target_ds = Datastore {
        id: DatastoreId::new_random(),
        name: Name::parse("san-02").unwrap(),
        kind: DatastoreKind::VmfsShared,
        capacity_mib: big,
        throughput_mib_s: nz32(c.throughput_mib_s),
        host_ids: vec![f.a, f.b],
    };
    let target_id = target_ds.id;
    objects.push(Object::Datastore(target_ds));
    let mut vm = domain::testing::vm("vm", f.a, Vec::new(), Vec::new());
    vm.memory_mib = nz64(c.memory_mib);
    vm.power_state = if c.powered_on {
        PowerState::On
    } else {
        PowerState::Off
    };
    vm.workload = Workload {
        dirty_rate_mib_s: RateMibS::parse(c.dirty_mib_s).unwrap(),
        working_set_mib: c.working_set_mib.map(nz64),
        zero_page_fraction: Fraction::parse(c.zero_fraction).unwrap(),
        disk_write_mib_s: RateMibS::parse(0.0).unwrap(),
    };
    vm.disks = c
        .disks
        .iter()
        .map(|&(cap, used, thin)| disk(f.shared, cap, used, thin))
        .collect();
    let disk_bytes: f64 = vm
        .disks
        .iter()
        .map(|d| d.allocated_mib() as f64 * MIB)
        .sum();
    let id = vm.id;
    objects.push(Object::Vm(vm));
    f.inv = Inventory::from_objects(objects).expect("a valid inventory");
    let request = MigrationRequest {
        vm_id: id,
        kind: c.kind,
        target_host_id: c.kind.moves_host().then_some(f.b),
        target_datastore_id: c.kind.moves_storage().then_some(target_id),
        options: MigrationOptions {
            downtime_target_ms: c.downtime_target_ms,
            bandwidth_cap_mbps: c.cap_mbps,
            priority: None,
        },
    };
    let moved_disks = if c.kind.moves_storage() {
        disk_bytes
    } else {
        0.0
    };
    (f.inv, request, moved_disks)
}

fn finite_and_not_negative(p: &Prediction) -> Result<(), TestCaseError> {
    for (what, v) in [
        ("duration_s", p.duration_s),
        ("downtime_ms", p.downtime_ms),
        ("bytes_total", p.bytes_total),
        ("disk_bytes", p.disk_bytes),
        ("max_throttle", p.max_throttle),
    ] {
        prop_assert!(v.is_finite(), "{what} = {v}");
        prop_assert!(v >= 0.0, "{what} = {v}");
        prop_assert!(!(v == 0.0 && v.is_sign_negative()), "{what} is -0.0");
    }
    for r in &p.rounds {
        prop_assert!(r.bytes.is_finite() && r.bytes >= 0.0, "{r:?}");
        prop_assert!(r.duration_s.is_finite() && r.duration_s >= 0.0, "{r:?}");
    }
    prop_assert!(p.max_throttle <= 1.0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_prediction_is_finite_and_consistent(c in case()) {
        let (inv, request, moved_disks) = setup(&c);
        let platform = if c.qemu { Platform::QEMU_LOOPBACK } else { Platform::VSPHERE };
        let p = predict_on(&inv, &request, platform).expect("a well-formed request");
        finite_and_not_negative(&p)?;
        prop_assert!(p.converges == p.failure.is_none(), "{p:?}");
        if !p.converges {
            return Ok(());
        }
        // Everything that moves crosses the network or the storage at least once.
        let live_memory = c.kind.moves_host() && c.powered_on;
        let memory_floor = if live_memory {
            c.memory_mib as f64 * MIB * (1.0 - c.zero_fraction)
        } else {
            0.0
        };
        let floor = memory_floor + moved_disks;
        prop_assert!(
            p.bytes_total + 1.0 >= floor * (1.0 - 1e-9),
            "sent {} < memory {} + disks {}", p.bytes_total, memory_floor, moved_disks
        );
        prop_assert!((p.disk_bytes - moved_disks).abs() <= 1.0 + moved_disks * 1e-9);
        // The stun is part of the move.
        prop_assert!(p.downtime_ms / 1000.0 <= p.duration_s + 1e-9, "{p:?}");
        if !live_memory {
            prop_assert!(p.rounds.is_empty());
        }
        // The rounds add up to the memory sent.
        let rounds: f64 = p.rounds.iter().map(|r| r.bytes).sum();
        prop_assert!(rounds <= p.bytes_total - p.disk_bytes + 1.0, "{rounds} {p:?}");
    }
}
