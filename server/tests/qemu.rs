//! Real migrations of a running lab guest under QEMU (TCG): vMotion, Storage vMotion, a
//! non-converging guest that needs throttling, and a cancel. Skipped, saying why, where QEMU
//! or the lab guest (scripts/install-qemu.sh, scripts/lab-guest.sh) are missing.

use server::lab::qemu::migrate::{self, open_images};
use server::lab::qemu::{Boot, Guest, GuestSpec, Lab, Limits};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

const MIB: u64 = 1024 * 1024;

fn lab() -> Option<Lab> {
    // No database here: the suite's second pass (on PostgreSQL) need not run these again.
    if std::env::var_os("VMSHIFT_TEST_POSTGRES").is_some() {
        eprintln!("skipped: run once, in the SQLite pass");
        return None;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/lab");
    match Lab::find(&dir) {
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

fn alive(pid: u32) -> bool {
    // A zombie (exited, not yet reaped) is not alive.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Stops these QEMU processes and checks none is left running.
async fn stop_all(guests: &[&Guest]) {
    let pids: Vec<u32> = guests.iter().filter_map(|g| g.pid()).collect();
    for g in guests {
        g.stop().await;
    }
    for pid in pids {
        assert!(!alive(pid), "QEMU {pid} is gone");
    }
}

/// A destination QEMU for `spec` on `disk`, waiting for an incoming migration.
async fn incoming(lab: &Lab, dir: &Path, spec: &GuestSpec, disk: &Path, paused: bool) -> Guest {
    Guest::start(lab, "web-01", dir, spec, disk, Boot::Incoming { paused })
        .await
        .unwrap()
}

/// A booted guest on a fresh disk in `dir` (its "datastore").
async fn boot(lab: &Lab, dir: &Path, spec: &GuestSpec) -> (Guest, PathBuf) {
    let disk = dir.join("web-01.qcow2");
    server::lab::qemu::guest::create_image(&disk, 128)
        .await
        .unwrap();
    let guest = Guest::start(lab, "web-01", dir, spec, &disk, Boot::Fresh)
        .await
        .unwrap();
    let first = guest.wait_heartbeat(0, Duration::from_secs(60)).await;
    assert!(
        first.is_some(),
        "the guest boots and beats: {:?}",
        std::fs::read_to_string(&guest.serial)
    );
    (guest, disk)
}

#[tokio::test]
async fn qemu_vmotion_of_a_running_guest_moves_it_with_its_heartbeat() {
    let Some(lab) = lab() else { return };
    let _one = one_at_a_time().await;
    let dir = tempfile::tempdir().unwrap();
    let spec = GuestSpec {
        memory_mib: 256,
        working_set_mib: 64,
        dirty_mib_s: 8,
        disk_mib_s: 1,
    };
    let (source, disk) = boot(&lab, dir.path(), &spec).await;
    let before = source
        .wait_heartbeat(1, Duration::from_secs(20))
        .await
        .unwrap();
    // The destination host opens the same (shared) disk, waiting for the memory.
    let destination = incoming(&lab, dir.path(), &spec, &disk, false).await;
    assert_eq!(destination.status().await.unwrap(), "inmigrate");
    let mut rounds_seen = Vec::new();
    let limits = Limits {
        bandwidth_bytes_s: Some(100 * MIB),
        downtime_limit_ms: 300,
        auto_converge: true,
    };
    let outcome = migrate::vmotion(
        &source,
        &destination,
        limits,
        Duration::from_millis(100),
        |p| {
            rounds_seen.push(p.round);
        },
    )
    .await
    .unwrap();
    assert_eq!(source.status().await.unwrap(), "postmigrate");
    assert_eq!(destination.status().await.unwrap(), "running");
    assert!(
        outcome.downtime_ms < 1000,
        "downtime {} ms",
        outcome.downtime_ms
    );
    assert!(
        outcome.rounds >= 1 && outcome.transferred_bytes > 0,
        "{outcome:?}"
    );
    assert!(
        rounds_seen.windows(2).all(|w| w[0] <= w[1]),
        "rounds never go back: {rounds_seen:?}"
    );
    // The guest goes on where it is now: the same workload (its counters continue), its
    // disk still verifying.
    let after = destination
        .wait_heartbeat(0, Duration::from_secs(20))
        .await
        .unwrap();
    assert!(after.seq > before.seq, "{after:?} continues {before:?}");
    let later = destination
        .wait_heartbeat(after.seq, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(later.disk_bad, 0, "{later:?}");
    assert!(
        later.disk_ok > 0 && later.disk_writes > before.disk_writes,
        "{later:?}"
    );
    stop_all(&[&source, &destination]).await;
}

#[tokio::test]
async fn qemu_storage_vmotion_moves_the_disk_while_the_guest_writes() {
    let Some(lab) = lab() else { return };
    let _one = one_at_a_time().await;
    let datastore_a = tempfile::tempdir().unwrap();
    let datastore_b = tempfile::tempdir().unwrap();
    let spec = GuestSpec {
        memory_mib: 256,
        working_set_mib: 32,
        dirty_mib_s: 4,
        disk_mib_s: 2,
    };
    let (guest, disk) = boot(&lab, datastore_a.path(), &spec).await;
    let before = guest
        .wait_heartbeat(1, Duration::from_secs(20))
        .await
        .unwrap();
    assert!(before.disk_writes > 0);
    let target = datastore_b.path().join("web-01.qcow2");
    let mut offsets = Vec::new();
    let limits = Limits {
        bandwidth_bytes_s: Some(200 * MIB),
        ..Limits::default()
    };
    let outcome = migrate::storage_vmotion(
        &guest,
        &disk,
        &target,
        limits,
        Duration::from_millis(100),
        |p| offsets.push(p.offset_bytes),
    )
    .await
    .unwrap();
    assert!(outcome.copied_bytes > 0, "{outcome:?}");
    assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "{offsets:?}");
    // Only the new image is open; the guest goes on writing and verifying.
    let open = open_images(&guest).await.unwrap();
    assert_eq!(
        open,
        vec![target.display().to_string()],
        "the old image is no longer used"
    );
    let after = guest
        .wait_heartbeat(before.seq + 2, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(after.disk_bad, 0, "{after:?}");
    assert!(after.disk_ok > before.disk_ok, "{after:?}");
    assert_eq!(guest.status().await.unwrap(), "running");
    stop_all(&[&guest]).await;
}

#[tokio::test]
async fn qemu_a_guest_that_does_not_converge_needs_throttling_and_a_cancel_leaves_it_running() {
    let Some(lab) = lab() else { return };
    let _one = one_at_a_time().await;
    let dir = tempfile::tempdir().unwrap();
    // Dirties 96 MiB/s over 128 MiB, against a 32 MiB/s link.
    let spec = GuestSpec {
        memory_mib: 256,
        working_set_mib: 128,
        dirty_mib_s: 96,
        disk_mib_s: 0,
    };
    let (source, disk) = boot(&lab, dir.path(), &spec).await;
    let capped = Limits {
        bandwidth_bytes_s: Some(32 * MIB),
        downtime_limit_ms: 100,
        auto_converge: false,
    };
    // Without throttling it never converges: cancelled after 10 s, still rounds going.
    let destination = incoming(&lab, dir.path(), &spec, &disk, false).await;
    let mut last = migrate::MemoryProgress::default();
    let attempt = tokio::time::timeout(
        Duration::from_secs(10),
        migrate::vmotion(
            &source,
            &destination,
            capped,
            Duration::from_millis(200),
            |p| last = p.clone(),
        ),
    )
    .await;
    assert!(
        attempt.is_err(),
        "it does not complete without throttling: {attempt:?}"
    );
    assert!(last.round >= 2, "{last:?}");
    migrate::cancel_vmotion(&source).await.unwrap();
    let beat = source.last_heartbeat().unwrap();
    assert!(
        source
            .wait_heartbeat(beat.seq, Duration::from_secs(20))
            .await
            .is_some(),
        "still beating on the source"
    );
    for _ in 0..50 {
        if source.status().await.unwrap() == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(source.status().await.unwrap(), "running");
    stop_all(&[&destination]).await;

    // With throttling (SDPS), a new destination: it completes, the throttle recorded.
    let destination = incoming(&lab, dir.path(), &spec, &disk, false).await;
    let outcome = migrate::vmotion(
        &source,
        &destination,
        Limits {
            auto_converge: true,
            ..capped
        },
        Duration::from_millis(200),
        |_| {},
    )
    .await
    .unwrap();
    assert!(outcome.max_throttle_percent >= 20, "{outcome:?}");
    assert_eq!(destination.status().await.unwrap(), "running");
    assert!(destination
        .wait_heartbeat(0, Duration::from_secs(30))
        .await
        .is_some());
    stop_all(&[&source, &destination]).await;
}

#[tokio::test]
async fn qemu_combined_moves_host_and_disk_with_nothing_shared() {
    let Some(lab) = lab() else { return };
    let _one = one_at_a_time().await;
    let (datastore_a, datastore_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let spec = GuestSpec {
        memory_mib: 256,
        working_set_mib: 32,
        dirty_mib_s: 4,
        disk_mib_s: 1,
    };
    let (source, disk) = boot(&lab, datastore_a.path(), &spec).await;
    let before = source
        .wait_heartbeat(1, Duration::from_secs(20))
        .await
        .unwrap();
    // The target host has its own disk on the target datastore: empty, the same size.
    let target_disk = datastore_b.path().join("web-01.qcow2");
    server::lab::qemu::guest::create_image(&target_disk, 128)
        .await
        .unwrap();
    let destination = incoming(&lab, datastore_b.path(), &spec, &target_disk, true).await;
    let limits = Limits {
        bandwidth_bytes_s: Some(200 * MIB),
        ..Limits::default()
    };
    let (mut mirror_steps, mut memory_steps) = (0, 0);
    let outcome = migrate::combined(
        &source,
        &destination,
        limits,
        Duration::from_millis(100),
        |_| mirror_steps += 1,
        |_| memory_steps += 1,
    )
    .await
    .unwrap();
    assert!(mirror_steps > 0 && memory_steps > 0);
    assert!(outcome.memory.downtime_ms < 1000, "{outcome:?}");
    assert_eq!(source.status().await.unwrap(), "postmigrate");
    // Both copies hold the same disk before the guest resumes on the target.
    assert!(
        migrate::images_identical(&disk, &target_disk)
            .await
            .unwrap(),
        "images identical"
    );
    migrate::resume(&destination).await.unwrap();
    assert_eq!(destination.status().await.unwrap(), "running");
    let after = destination
        .wait_heartbeat(0, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(after.seq > before.seq);
    let later = destination
        .wait_heartbeat(after.seq, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(later.disk_bad, 0, "{later:?}");
    assert_eq!(
        open_images(&destination).await.unwrap(),
        vec![target_disk.display().to_string()]
    );
    stop_all(&[&source, &destination]).await;
}
