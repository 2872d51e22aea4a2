//! The QEMU driver behind the engine: lab guests really migrate when the engine runs their
//! migrations, with the same checks, events and switchover as simulated ones. Skipped, saying
//! why, where QEMU or the lab guest are missing.

use domain::checks::{check_migration, MigrationKind, MigrationOptions, MigrationRequest};
use domain::engine::Engine;
use domain::migration::{Migration, MigrationEvent, Phase};
use domain::platform::Platform;
use domain::prediction::{predict, predict_on};
use domain::{
    DatastoreId, HostId, Inventory, MigrationId, Mutation, Object, PowerState, RateMibS, SizeMib,
    VmId,
};
use server::lab::driver::QemuDriver;
use server::lab::qemu::Lab;
use server::lab::runtime::LabRuntime;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

mod common;

fn lab() -> Option<Lab> {
    if std::env::var_os("VMSHIFT_TEST_POSTGRES").is_some() {
        eprintln!("skipped: run once, in the SQLite pass");
        return None;
    }
    match Lab::find(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/lab")) {
        Ok(lab) => Some(lab),
        Err(why) => {
            eprintln!("skipped: {why}");
            None
        }
    }
}

/// Guests under TCG share 2 cores: one test at a time.
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
        .lock()
        .await
}

fn vm(inv: &Inventory, name: &str) -> VmId {
    inv.vms
        .values()
        .find(|v| v.name.as_str() == name)
        .unwrap()
        .id
}

fn host(inv: &Inventory, name: &str) -> HostId {
    inv.hosts
        .values()
        .find(|h| h.name.as_str() == name)
        .unwrap()
        .id
}

fn datastore(inv: &Inventory, name: &str) -> DatastoreId {
    inv.datastores
        .values()
        .find(|d| d.name.as_str() == name)
        .unwrap()
        .id
}

/// A move of `vm` at `cap_mbps`, the downtime target 300 ms.
fn move_of(
    vm: VmId,
    kind: MigrationKind,
    host: Option<HostId>,
    datastore: Option<DatastoreId>,
    cap_mbps: u32,
) -> MigrationRequest {
    MigrationRequest {
        vm_id: vm,
        kind,
        target_host_id: host,
        target_datastore_id: datastore,
        options: MigrationOptions {
            downtime_target_ms: Some(300),
            bandwidth_cap_mbps: Some(cap_mbps),
            priority: None,
        },
    }
}

fn assert_allowed(inv: &Inventory, request: &MigrationRequest) {
    let report = check_migration(inv, request, &BTreeSet::new()).unwrap();
    assert!(report.allowed, "{report:?}");
}

/// The process running `vm` now: running, and beating again within 20 s.
async fn running_and_beating(runtime: &LabRuntime, vm: VmId) -> Arc<server::lab::qemu::Guest> {
    let guest = runtime.guest(vm).unwrap();
    assert_eq!(guest.status().await.unwrap(), "running");
    let beat = guest.last_heartbeat().map_or(0, |b| b.seq);
    assert!(
        guest
            .wait_heartbeat(beat, Duration::from_secs(20))
            .await
            .is_some(),
        "{vm} beats again"
    );
    guest
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Ticks the engine in real time until `id` ends (or `limit` passes); its events, and its
/// record if it completed (the switchover applied to `inv`).
/// Percent never goes back over every event; the stored ones (not transient) count on by one
/// (docs/DESIGN.md#stored-history); no figure is -0.0 in what the API would write.
fn history_is_whole(events: &[MigrationEvent], summary: Option<&Migration>) {
    assert!(events.windows(2).all(|w| w[0].percent <= w[1].percent));
    let stored: Vec<u64> = events
        .iter()
        .filter(|e| !e.transient)
        .map(|e| e.seq)
        .collect();
    assert!(stored.windows(2).all(|w| w[1] == w[0] + 1), "{stored:?}");
    assert!(events
        .iter()
        .filter(|e| e.transient)
        .all(|e| stored.contains(&e.seq)));
    let json = serde_json::to_value((events, summary)).unwrap();
    assert_eq!(common::negative_zeros(&json), Vec::<String>::new());
}

async fn run_to_end(
    engine: &mut Engine<QemuDriver>,
    inv: &mut Inventory,
    id: MigrationId,
    limit: Duration,
) -> (Vec<MigrationEvent>, Option<Migration>) {
    let started = Instant::now();
    let mut last = Instant::now();
    let mut events = Vec::new();
    while started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let dt = last.elapsed().as_secs_f64();
        last = Instant::now();
        let out = engine.tick(inv, dt, now_ms());
        events.extend(out.events.into_iter().filter(|e| e.migration_id == id));
        if let Some(s) = out.switchovers.into_iter().find(|s| s.record.id == id) {
            events.push(s.event.clone());
            inv.apply(&domain::Change::Upsert {
                object: domain::Object::Vm(s.moved),
            });
            return (events, Some(s.record));
        }
        if events.last().is_some_and(|e| e.phase.is_final()) {
            return (events, None);
        }
    }
    panic!("the migration did not end in {limit:?}: {events:?}");
}

/// Ticks the engine in real time until `id` reaches `phase` (within 30 s).
async fn tick_until(
    engine: &mut Engine<QemuDriver>,
    inv: &Inventory,
    id: MigrationId,
    phase: Phase,
) {
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let out = engine.tick(inv, 0.25, now_ms());
        if out
            .events
            .iter()
            .any(|e| e.migration_id == id && e.phase == phase)
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{id} reaches {phase:?}"
        );
    }
}

#[tokio::test]
async fn qemu_the_engine_moves_real_guests_and_a_cancel_leaves_them_running() {
    let Some(lab) = lab() else { return };
    let _one = one_at_a_time().await;
    let sockets = qmp_sockets();
    let root = tempfile::tempdir().unwrap();
    let mut inv = server::lab::cluster();
    let runtime = Arc::new(LabRuntime::new(lab, root.path().to_path_buf()));
    let hosts: Vec<HostId> = inv.hosts.keys().copied().collect();
    assert_eq!(runtime.boot_all(&inv, &hosts).await.unwrap(), 2);
    let (web, db) = (vm(&inv, "lab-web"), vm(&inv, "lab-db"));
    let (esx1, esx2) = (host(&inv, "lab-esx-01"), host(&inv, "lab-esx-02"));
    for v in [web, db] {
        assert!(runtime
            .guest(v)
            .unwrap()
            .wait_heartbeat(0, Duration::from_secs(60))
            .await
            .is_some());
    }
    let mut engine = Engine::new(QemuDriver::new(runtime.clone()));

    // Checks still rule: lab-db's disk sits on lab-esx-01's local datastore.
    let blocked = MigrationRequest {
        vm_id: db,
        kind: MigrationKind::VMotion,
        target_host_id: Some(esx2),
        target_datastore_id: None,
        options: MigrationOptions::default(),
    };
    let report = check_migration(&inv, &blocked, &BTreeSet::new()).unwrap();
    assert!(!report.allowed);
    assert!(
        report.results.iter().any(|r| r.id == "storage.local"),
        "{report:?}"
    );

    // A vMotion of lab-web: the engine's events, the guest beating on lab-esx-02.
    let request = move_of(web, MigrationKind::VMotion, Some(esx2), None, 800);
    assert_allowed(&inv, &request);
    let before = runtime.guest(web).unwrap().last_heartbeat().unwrap();
    let id = MigrationId::new_random();
    let (record, _) = engine.submit(&inv, request.clone(), id, now_ms()).unwrap();
    // Predicted with the lab's figures (no destination started yet: the platform's own
    // preparation time); vSphere's figures predict a far longer stun.
    let platform = runtime.platform();
    assert_eq!(platform, Platform::QEMU_LOOPBACK);
    assert_eq!(
        record.prediction,
        predict_on(&inv, &request, platform).unwrap()
    );
    let vsphere = predict(&inv, &request).unwrap();
    assert!(record.prediction.downtime_ms < vsphere.downtime_ms / 4.0);
    assert!(record.prediction.duration_s < vsphere.duration_s);
    let (events, completed) = run_to_end(&mut engine, &mut inv, id, Duration::from_secs(120)).await;
    assert!(completed.is_some(), "{events:?}");
    let phases: Vec<Phase> = events.iter().map(|e| e.phase).collect();
    assert!(phases.contains(&Phase::MemoryPrecopy), "{phases:?}");
    assert_eq!(events.last().unwrap().phase, Phase::Completed);
    history_is_whole(&events, completed.as_ref());
    assert_eq!(inv.vms[&web].host_id, esx2);
    // From now on the lab predicts with the preparation time it measured.
    let measured = runtime.platform().prepare_s;
    assert!(
        measured > 0.0 && measured < 30.0 && measured != Platform::QEMU_LOOPBACK.prepare_s,
        "{measured}"
    );
    let beats = runtime.heartbeats();
    let (_, on, _) = beats.iter().find(|(v, _, _)| *v == web).unwrap();
    assert_eq!(*on, esx2, "the lab runs lab-web on lab-esx-02 now");
    let after = runtime
        .guest(web)
        .unwrap()
        .wait_heartbeat(before.seq, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(after.disk_bad, 0);
    assert_eq!(engine.driver().in_flight(), 0);

    // A Storage vMotion of lab-db cancelled while its disk is copied: it keeps running on
    // its source image, and the half-copied target is gone.
    let shared = datastore(&inv, "lab-shared");
    let request = move_of(db, MigrationKind::StorageVMotion, None, Some(shared), 16);
    assert_allowed(&inv, &request);
    let image = runtime.image_of(db).unwrap();
    let id = MigrationId::new_random();
    engine.submit(&inv, request, id, now_ms()).unwrap();
    tick_until(&mut engine, &inv, id, Phase::DiskCopy).await;
    engine.cancel(id, now_ms()).unwrap();
    let target = runtime.image_path(db, shared);
    for _ in 0..50 {
        if !target.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!target.exists(), "the half-copied image is removed");
    assert_eq!(runtime.image_of(db).unwrap(), image);
    let guest = running_and_beating(&runtime, db).await;
    assert_eq!(
        server::lab::qemu::migrate::open_images(&guest)
            .await
            .unwrap(),
        vec![image.display().to_string()]
    );

    // A combined move of lab-db to lab-esx-02 and lab-local-02 (a datastore no VM has used
    // yet): it runs there, on an image identical to the one it left, and beats.
    let local_2 = datastore(&inv, "lab-local-02");
    // 16 MB/s: the disk (what lab-db has written so far) takes a few ticks to copy.
    let request = move_of(db, MigrationKind::Combined, Some(esx2), Some(local_2), 128);
    assert_allowed(&inv, &request);
    let id = MigrationId::new_random();
    engine.submit(&inv, request, id, now_ms()).unwrap();
    let (events, completed) = run_to_end(&mut engine, &mut inv, id, Duration::from_secs(120)).await;
    assert!(completed.is_some(), "{:?}", events.last());
    let phases: Vec<Phase> = events.iter().map(|e| e.phase).collect();
    let disk = phases.iter().position(|p| *p == Phase::DiskCopy);
    let memory = phases.iter().position(|p| *p == Phase::MemoryPrecopy);
    assert!(
        disk.is_some() && disk < memory,
        "disks, then memory: {phases:?}"
    );
    assert_eq!(inv.vms[&db].host_id, esx2);
    assert_eq!(inv.vms[&db].disks[0].datastore_id, local_2);
    let moved = runtime.image_of(db).unwrap();
    assert_eq!(moved, runtime.image_path(db, local_2));
    assert!(
        !image.exists(),
        "the old image is gone once the guest left it"
    );
    let guest = runtime.guest(db).unwrap();
    let beat = guest.last_heartbeat().map_or(0, |b| b.seq);
    let after = guest
        .wait_heartbeat(beat, Duration::from_secs(30))
        .await
        .expect("lab-db beats on lab-esx-02");
    assert_eq!(after.disk_bad, 0, "its disk verifies on the new datastore");
    assert_eq!(
        server::lab::qemu::migrate::open_images(&guest)
            .await
            .unwrap(),
        vec![moved.display().to_string()]
    );

    // A destination that dies mid-flight: the migration fails, lab-web runs on where it was,
    // and nothing of the attempt is left.
    let request = move_of(web, MigrationKind::VMotion, Some(esx1), None, 16);
    let id = MigrationId::new_random();
    engine.submit(&inv, request, id, now_ms()).unwrap();
    tick_until(&mut engine, &inv, id, Phase::MemoryPrecopy).await;
    // The destination: started with -incoming, and not a VM's current process (lab-web's is
    // itself a former destination).
    let current: Vec<u32> = [web, db]
        .iter()
        .filter_map(|v| runtime.guest(*v)?.pid())
        .collect();
    let destinations = || {
        qemu_processes_in(root.path(), "-incoming")
            .into_iter()
            .filter(|p| !current.contains(p))
            .collect::<Vec<u32>>()
    };
    let incoming = destinations();
    assert_eq!(incoming.len(), 1, "one destination");
    unsafe {
        libc::kill(incoming[0] as i32, libc::SIGKILL);
    }
    let (events, completed) = run_to_end(&mut engine, &mut inv, id, Duration::from_secs(60)).await;
    assert!(completed.is_none());
    let last = events.last().unwrap();
    assert_eq!(last.phase, Phase::Failed);
    assert!(
        last.message.contains("lab-web keeps running on lab-esx-02"),
        "{}",
        last.message
    );
    assert_eq!(inv.vms[&web].host_id, esx2);
    running_and_beating(&runtime, web).await;
    assert!(
        destinations().is_empty(),
        "the dead destination is gone, nothing else started"
    );
    assert_eq!(engine.driver().in_flight(), 0);

    // Shutdown: no QEMU left.
    let pids: Vec<u32> = [web, db]
        .iter()
        .filter_map(|v| runtime.guest(*v)?.pid())
        .collect();
    runtime.shutdown().await;
    assert_eq!(qmp_sockets(), sockets, "no QMP socket left");
    for pid in pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}/exe")).exists() || {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                stat.rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
            },
            "QEMU {pid} stopped"
        );
    }
}

/// A guest dirtying memory faster than the cap lets a pre-copy converge (the QMP-level test
/// shows it never completes unthrottled): through the engine, SDPS (QEMU's auto-converge)
/// throttles it, the events say so as it rises, the record keeps it, and it completes.
#[tokio::test]
async fn qemu_a_guest_dirtying_faster_than_the_cap_completes_throttled_and_the_events_show_it() {
    let Some(lab) = lab() else { return };
    let _one = one_at_a_time().await;
    let sockets = qmp_sockets();
    let root = tempfile::tempdir().unwrap();
    let mut inv = server::lab::cluster();
    let (web, db) = (vm(&inv, "lab-web"), vm(&inv, "lab-db"));
    // lab-web dirties 96 MiB/s over 128 MiB; lab-db stays off.
    for (id, hot) in [(web, true), (db, false)] {
        let mut v = inv.vms[&id].clone();
        if hot {
            v.workload.dirty_rate_mib_s = RateMibS::parse(96.0).unwrap();
            v.workload.working_set_mib = Some(SizeMib::parse(128).unwrap());
        } else {
            v.power_state = PowerState::Off;
        }
        let change = inv.validate(Mutation::Update(Object::Vm(v))).unwrap();
        inv.apply(&change);
    }
    let runtime = Arc::new(LabRuntime::new(lab, root.path().to_path_buf()));
    let hosts: Vec<HostId> = inv.hosts.keys().copied().collect();
    assert_eq!(runtime.boot_all(&inv, &hosts).await.unwrap(), 1);
    assert!(runtime
        .guest(web)
        .unwrap()
        .wait_heartbeat(1, Duration::from_secs(60))
        .await
        .is_some());
    let mut engine = Engine::new(QemuDriver::new(runtime.clone()));
    let esx2 = host(&inv, "lab-esx-02");
    let request = move_of(web, MigrationKind::VMotion, Some(esx2), None, 256); // 32 MB/s
    let id = MigrationId::new_random();
    engine.submit(&inv, request, id, now_ms()).unwrap();
    let (events, record) = run_to_end(&mut engine, &mut inv, id, Duration::from_secs(180)).await;
    let record = record.unwrap_or_else(|| panic!("{:?}", events.last()));
    assert!(record.max_throttle >= 0.2, "{record:?}");
    assert!(record.rounds.len() >= 2, "{:?}", record.rounds);
    let sdps: Vec<&str> = events
        .iter()
        .filter(|e| e.phase == Phase::MemoryPrecopy && e.message.contains("SDPS slows the guest"))
        .map(|e| e.message.as_str())
        .collect();
    assert!(
        !sdps.is_empty(),
        "no event shows the throttle: {:?}",
        events.iter().map(|e| &e.message).collect::<BTreeSet<_>>()
    );
    history_is_whole(&events, None);
    let guest = runtime.guest(web).unwrap();
    let beat = guest.last_heartbeat().map_or(0, |b| b.seq);
    assert!(guest
        .wait_heartbeat(beat, Duration::from_secs(30))
        .await
        .is_some());
    runtime.shutdown().await;
    assert!(qemu_processes_in(root.path(), "").is_empty());
    assert_eq!(qmp_sockets(), sockets, "no QMP socket left");
}

/// The binary with `--driver qemu`, its lab's data in `data`.
async fn lab_server(db: &common::TestDb, data: &Path) -> common::process::Process {
    lab_server_with(db, data, &[]).await
}

/// Like [`lab_server`], with environment variables (failpoints).
async fn lab_server_with(
    db: &common::TestDb,
    data: &Path,
    env: &[(&str, &str)],
) -> common::process::Process {
    let lab_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/lab");
    let args = [
        "--driver",
        "qemu",
        "--lab-dir",
        lab_dir.to_str().unwrap(),
        "--lab-data",
        data.to_str().unwrap(),
    ];
    common::process::spawn_with(&db.url, &args, env, None).await
}

/// A server killed with SIGKILL cannot stop its guests: they run on, unmanaged. The next
/// start on the same lab data stops them (and their sockets) before booting the lab again.
#[tokio::test]
async fn qemu_the_guests_of_a_killed_server_are_stopped_at_its_next_start() {
    let Some(_) = lab() else { return };
    let _one = one_at_a_time().await;
    let sockets = qmp_sockets();
    let db = common::TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let mut first = lab_server(&db, data.path()).await;
    let orphans = qemu_processes_in(data.path(), "");
    assert_eq!(orphans.len(), 2, "the two lab VMs run");
    unsafe {
        libc::kill(first.child.id() as i32, libc::SIGKILL);
    }
    let _ = first.child.wait();
    drop(first);
    assert_eq!(
        qemu_processes_in(data.path(), ""),
        orphans,
        "they outlive the killed server"
    );

    let mut second = lab_server(&db, data.path()).await;
    let now = qemu_processes_in(data.path(), "");
    assert_eq!(now.len(), 2, "the lab runs again: {now:?}");
    assert!(
        orphans.iter().all(|p| !now.contains(p)),
        "the orphans were stopped: {orphans:?} {now:?}"
    );
    unsafe {
        libc::kill(second.child.id() as i32, libc::SIGTERM);
    }
    let _ = second.child.wait();
    assert!(qemu_processes_in(data.path(), "").is_empty());
    assert_eq!(qmp_sockets(), sockets, "no QMP socket left");
}

/// The QMP sockets of vmshift's QEMU processes on this machine (tests of this file run one
/// at a time, so new ones are this test's).
fn qmp_sockets() -> BTreeSet<String> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("vmshift-") && n.ends_with(".qmp"))
        .collect()
}

/// QEMU processes whose command line mentions `dir` (the lab's data directory) and `also`.
fn qemu_processes_in(dir: &Path, also: &str) -> Vec<u32> {
    let needle = dir.display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie = stat
                .rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'));
            cmdline.contains("qemu-system")
                && cmdline.contains(&needle)
                && cmdline.contains(also)
                && !zombie
        })
        .collect()
}

#[tokio::test]
async fn qemu_the_server_with_the_qemu_driver_migrates_a_real_vm_through_the_api() {
    let Some(_) = lab() else { return };
    let _one = one_at_a_time().await;
    let sockets = qmp_sockets();
    let db = common::TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let mut server = lab_server(&db, data.path()).await;
    assert_eq!(
        qemu_processes_in(data.path(), "").len(),
        2,
        "the two lab VMs run"
    );
    let id = server.ids().await;
    let mut ws = server.ws().await;
    // The map learns which VMs are real, and their heartbeat.
    let web = id["lab-web"].clone();
    let beat = common::next_matching(&mut ws, Duration::from_secs(60), |v| {
        (v["type"] == "lab_heartbeats").then_some(())?;
        v["guests"]
            .as_array()?
            .iter()
            .find(|g| g["vm_id"] == web.as_str() && g["heartbeat"].as_u64().is_some())
            .cloned()
    })
    .await
    .expect("lab heartbeats");
    assert_eq!(beat["host_id"], id["lab-esx-01"].as_str());
    let beat_platform = common::next_matching(&mut ws, Duration::from_secs(10), |v| {
        (v["type"] == "lab_heartbeats").then(|| v["platform"].clone())
    })
    .await
    .expect("the lab's platform");

    // The same checks rule: lab-db's disk is local to lab-esx-01.
    let (status, body) = server
        .post(
            "/api/v1/migrations",
            &serde_json::json!({ "vm_id": id["lab-db"], "kind": "vmotion", "target_host_id": id["lab-esx-02"] }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("storage.local"), "{body}");

    // The lab's figures reach the browsers (the wizard predicts with them) and the API:
    // a real VM is predicted as QEMU runs it, a simulated one with vSphere's figures.
    let platform: Platform = serde_json::from_value(beat_platform.clone()).unwrap();
    assert!(
        platform.switchover_rate.is_some() && platform.is_sane(),
        "{platform:?}"
    );
    let move_web = serde_json::json!({ "vm_id": web, "kind": "vmotion", "target_host_id": id["lab-esx-02"],
                                       "options": { "bandwidth_cap_mbps": 800 } });
    let (status, predicted) = server.post("/api/v1/predictions", &move_web).await;
    assert_eq!(status, 200, "{predicted}");
    let (status, simulated) = server
        .post(
            "/api/v1/predictions",
            &serde_json::json!({ "vm_id": id["web-01"], "kind": "vmotion", "target_host_id": id["esx-02"] }),
        )
        .await;
    assert_eq!(status, 200, "{simulated}");
    assert!(simulated["duration_s"].as_f64().unwrap() > Platform::VSPHERE.prepare_s);
    let inventory: Inventory =
        serde_json::from_value(server.get("/api/v1/inventory").await).unwrap();
    let request: MigrationRequest = serde_json::from_value(move_web.clone()).unwrap();
    let expected = predict_on(&inventory, &request, platform).unwrap();
    assert_eq!(
        predicted["downtime_ms"].as_f64().unwrap(),
        expected.downtime_ms
    );
    assert!(expected.downtime_ms < predict(&inventory, &request).unwrap().downtime_ms / 4.0);

    let (status, m) = server.post("/api/v1/migrations", &move_web).await;
    assert_eq!(status, 201, "{m}");
    // The record keeps the prediction made at start, with the same figures.
    assert_eq!(
        m["prediction"]["downtime_ms"], predicted["downtime_ms"],
        "{m}"
    );
    let mid = m["id"].as_str().unwrap().to_string();
    let mut done = serde_json::Value::Null;
    for _ in 0..600 {
        done = server.get(&format!("/api/v1/migrations/{mid}")).await;
        if ["completed", "failed", "cancelled"].contains(&done["phase"].as_str().unwrap()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(done["phase"], "completed", "{done}");
    assert_eq!(done["real"], true, "measured, not simulated");
    let downtime = done["result"]["downtime_ms"].as_f64().unwrap();
    assert!(
        downtime > 0.0 && downtime < 1000.0,
        "measured downtime {downtime} ms"
    );
    let vm = server.get(&format!("/api/v1/vms/{web}")).await;
    assert_eq!(vm["host_id"], id["lab-esx-02"].as_str());
    // Its heartbeat now comes from lab-esx-02's QEMU, and goes on: two successive rises
    // there (the first may still be the source's last beat, shown until the new process's).
    let mut seq = beat["heartbeat"].as_u64().unwrap();
    for _ in 0..2 {
        seq = common::next_matching(&mut ws, Duration::from_secs(30), |v| {
            (v["type"] == "lab_heartbeats").then_some(())?;
            v["guests"].as_array()?.iter().find_map(|g| {
                let h = g["heartbeat"].as_u64()?;
                (g["vm_id"] == web.as_str()
                    && g["host_id"] == id["lab-esx-02"].as_str()
                    && h > seq
                    && g["disk_bad"] == 0)
                    .then_some(h)
            })
        })
        .await
        .expect("the heartbeat continues on lab-esx-02");
    }
    assert_eq!(
        qemu_processes_in(data.path(), "").len(),
        2,
        "the source QEMU has stopped"
    );

    // The other clusters' VMs stay simulated in the same engine.
    let (status, sim) = server
        .post(
            "/api/v1/migrations",
            &serde_json::json!({ "vm_id": id["web-01"], "kind": "vmotion", "target_host_id": id["esx-02"] }),
        )
        .await;
    assert_eq!(status, 201, "{sim}");
    let sid = sim["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let running = server.get(&format!("/api/v1/migrations/{sid}")).await;
    assert!(
        ["preparing", "memory_precopy"].contains(&running["phase"].as_str().unwrap()),
        "{running}"
    );
    let (status, cancelled) = server
        .post(
            &format!("/api/v1/migrations/{sid}/cancel"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");

    // A clean stop leaves no QEMU behind.
    unsafe {
        libc::kill(server.child.id() as i32, libc::SIGTERM);
    }
    let _ = server.child.wait();
    assert!(
        qemu_processes_in(data.path(), "").is_empty(),
        "no QEMU left after the server stops"
    );
    assert_eq!(qmp_sockets(), sockets, "no QMP socket left");
}

/// QEMU switches over by itself; when the record of that switchover is refused (here on
/// purpose, at its commit), vmshift records where the guest really runs — on its target — and
/// says so, with exactly one QEMU process running it.
#[tokio::test]
async fn qemu_a_refused_switchover_record_follows_where_the_real_guest_runs() {
    let Some(_) = lab() else { return };
    let _one = one_at_a_time().await;
    let db = common::TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let refuse = [("VMSHIFT_FAILPOINTS", "switchover.commit=fail")];
    let mut server = lab_server_with(&db, data.path(), &refuse).await;
    let id = server.ids().await;
    let web = id["lab-web"].clone();
    let body = serde_json::json!({ "vm_id": web, "kind": "vmotion",
        "target_host_id": id["lab-esx-02"], "options": { "bandwidth_cap_mbps": 800 } });
    let (status, m) = server.post("/api/v1/migrations", &body).await;
    assert_eq!(status, 201, "{m}");
    let mid = m["id"].as_str().unwrap().to_string();
    let mut done = serde_json::Value::Null;
    for _ in 0..600 {
        done = server.get(&format!("/api/v1/migrations/{mid}")).await;
        if ["completed", "failed", "cancelled"].contains(&done["phase"].as_str().unwrap()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(done["phase"], "failed", "{done}");
    let message = done["message"].as_str().unwrap();
    assert!(
        message.contains("the hypervisor had already switched over")
            && message.contains("recorded there"),
        "{message}"
    );
    // The database ends where the guest runs...
    let mut vm = serde_json::Value::Null;
    for _ in 0..100 {
        vm = server.get(&format!("/api/v1/vms/{web}")).await;
        if vm["host_id"] == id["lab-esx-02"].as_str() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(vm["host_id"], id["lab-esx-02"].as_str(), "{vm}");
    // ...and exactly one QEMU process runs it: the destination's.
    let web_id = web.as_str();
    let processes = qemu_processes_in(data.path(), web_id);
    assert_eq!(processes.len(), 1, "one QEMU runs lab-web: {processes:?}");
    // A clean stop leaves no QEMU behind (a guest left running would burn a core for every
    // test after this one).
    unsafe {
        libc::kill(server.child.id() as i32, libc::SIGTERM);
    }
    let _ = server.child.wait();
    assert!(
        qemu_processes_in(data.path(), "").is_empty(),
        "no QEMU left after the server stops"
    );
}

/// A plan evacuating lab-esx-01 — lab-web by vMotion, lab-db (its disk on the host's local
/// datastore) by a combined move to lab-shared — predicted with the lab's figures, then run by
/// the engine with the real guests, one move at a time as the plan says: each move ends, and
/// the plan as a whole, within 20 % of the prediction (docs/DESIGN.md#plan-prediction).
#[tokio::test]
async fn qemu_a_plan_with_the_two_lab_guests_ends_within_20_percent_of_its_prediction() {
    use domain::plan::predict::{group_limit, request_of};
    use domain::plan::{draft, predict as predict_plan, Goal, PlanOptions};
    let Some(lab) = lab() else { return };
    let _one = one_at_a_time().await;
    let root = tempfile::tempdir().unwrap();
    let mut inv = server::lab::cluster();
    let runtime = Arc::new(LabRuntime::new(lab, root.path().to_path_buf()));
    let hosts: Vec<HostId> = inv.hosts.keys().copied().collect();
    assert_eq!(runtime.boot_all(&inv, &hosts).await.unwrap(), 2);
    for v in [vm(&inv, "lab-web"), vm(&inv, "lab-db")] {
        let beat = runtime
            .guest(v)
            .unwrap()
            .wait_heartbeat(0, Duration::from_secs(60))
            .await;
        assert!(beat.is_some());
    }
    let esx1 = host(&inv, "lab-esx-01");
    let options = PlanOptions {
        bandwidth_cap_mbps: Some(200),
        // One at a time: two QEMU destinations starting together under TCG on two cores
        // slow each other in ways the model does not cover (docs/PERFORMANCE.md).
        max_concurrent: Some(1),
        downtime_target_ms: Some(300),
        ..Default::default()
    };
    let goal = Goal::EvacuateHost {
        host_id: esx1,
        enter_maintenance: false,
    };
    let plan = draft(&inv, &goal, &options, &BTreeSet::new()).unwrap();
    assert!(plan.blockers.is_empty(), "{:?}", plan.blockers);
    let moves: Vec<_> = plan.moves().cloned().collect();
    assert_eq!(moves.len(), 2);
    let mut engine = Engine::new(QemuDriver::new(runtime.clone()));
    let predicted = predict_plan(&inv, &plan, &options, engine.platforms(), now_ms());
    assert_eq!(predicted.failures, 0);
    // Run as a plan runs: every move queued at once, under the plan's limits.
    let group = domain::PlanId::new_random();
    engine.set_group_limit(group, group_limit(&plan, &options, false));
    let mut ids = Vec::new();
    for m in &moves {
        let id = MigrationId::new_random();
        engine
            .submit(&inv, request_of(m, &options), id, now_ms())
            .unwrap();
        assert!(engine.join_group(id, group));
        ids.push(id);
    }
    let started = Instant::now();
    let mut last = Instant::now();
    let mut ends: std::collections::BTreeMap<MigrationId, f64> = Default::default();
    while ends.len() < ids.len() {
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "the plan ends: {ends:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        let dt = last.elapsed().as_secs_f64();
        last = Instant::now();
        let out = engine.tick(&inv, dt, now_ms());
        for s in out.switchovers {
            ends.insert(s.record.id, s.record.sim_time_s);
            inv.apply(&domain::Change::Upsert {
                object: domain::Object::Vm(s.moved),
            });
        }
        if let Some(r) = out.updated.iter().find(|r| r.phase.is_final()) {
            panic!("{} ended {:?}: {}", r.vm_name, r.phase, r.message);
        }
    }
    let total = ends.values().fold(0.0, |a: f64, b| a.max(*b));
    let within = |actual: f64, expected: f64| (actual - expected).abs() <= 0.2 * expected;
    assert!(
        within(total, predicted.total_s),
        "the plan took {total:.1} s, predicted {:.1} s",
        predicted.total_s
    );
    for (m, id) in moves.iter().zip(&ids) {
        let p = predicted.moves.iter().find(|p| p.vm_id == m.vm_id).unwrap();
        let end = ends[id];
        assert!(
            within(end, p.end_s),
            "{}: ended at {end:.1} s, predicted {:.1} s",
            m.vm_name,
            p.end_s
        );
        eprintln!(
            "{}: ended at {end:.1} s, predicted {:.1} s",
            m.vm_name, p.end_s
        );
    }
    assert!(inv.vms.values().all(|v| v.host_id != esx1));
    runtime.shutdown().await;
    assert!(
        qemu_processes_in(root.path(), "").is_empty(),
        "no QEMU left after the lab shuts down"
    );
}
