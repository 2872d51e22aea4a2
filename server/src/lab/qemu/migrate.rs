//! The migration sequences of the reference note, over QMP: vMotion (memory, to another QEMU
//! on the same disk), Storage vMotion (the disk to another image, inside one QEMU) — each
//! reporting progress as it goes and a measured outcome at the end.

use super::guest::{create_image, image_size, Guest, LabError};
use super::qmp::QmpEvent;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// Caps and targets of one migration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Bytes/s for memory and for the disk mirror (`None`: as fast as it goes).
    pub bandwidth_bytes_s: Option<u64>,
    /// The switchover happens once QEMU expects to stop the guest for at most this long.
    pub downtime_limit_ms: u64,
    /// Throttle the guest's CPUs when rounds stop shrinking (QEMU's auto-converge, vSphere's
    /// SDPS): 20 % at first, +10 points a round.
    pub auto_converge: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            bandwidth_bytes_s: None,
            downtime_limit_ms: 300,
            auto_converge: true,
        }
    }
}

/// Where a memory migration stands (`query-migrate`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MemoryProgress {
    pub status: String,
    pub transferred_bytes: u64,
    pub remaining_bytes: u64,
    pub total_bytes: u64,
    pub dirty_bytes_s: f64,
    /// Dirty-bitmap syncs so far: the pre-copy round.
    pub round: u64,
    pub expected_downtime_ms: u64,
    pub throttle_percent: u64,
}

impl MemoryProgress {
    fn of(info: &Value) -> MemoryProgress {
        let ram = &info["ram"];
        let n = |v: &Value| v.as_u64().unwrap_or(0);
        let page = ram["page-size"].as_u64().unwrap_or(4096) as f64;
        MemoryProgress {
            status: info["status"].as_str().unwrap_or("none").to_owned(),
            transferred_bytes: n(&ram["transferred"]),
            remaining_bytes: n(&ram["remaining"]),
            total_bytes: n(&ram["total"]),
            dirty_bytes_s: ram["dirty-pages-rate"].as_f64().unwrap_or(0.0) * page,
            round: n(&ram["dirty-sync-count"]),
            expected_downtime_ms: n(&info["expected-downtime"]),
            throttle_percent: n(&info["cpu-throttle-percentage"]),
        }
    }
}

/// What a finished memory migration measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MemoryOutcome {
    pub total_ms: u64,
    pub downtime_ms: u64,
    pub rounds: u64,
    pub transferred_bytes: u64,
    pub max_throttle_percent: u64,
}

/// A free TCP port on loopback for a migration stream.
fn free_port() -> Result<u16, LabError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| LabError::Failed(format!("no free port: {e}")))
}

/// Readies both ends of a memory migration (destination listening, source's capabilities
/// and parameters set) and returns the stream's URI; `migrate` to it starts the transfer.
/// `hold_switchover` stops the source before the switchover until `migrate-continue`.
async fn ready_memory_migration(
    source: &Guest,
    destination: &Guest,
    limits: Limits,
    hold_switchover: bool,
) -> Result<String, LabError> {
    let uri = format!("tcp:127.0.0.1:{}", free_port()?);
    destination
        .qmp
        .execute(
            "migrate-set-capabilities",
            json!({ "capabilities": [ { "capability": "events", "state": true } ] }),
        )
        .await?;
    destination
        .qmp
        .execute("migrate-incoming", json!({ "uri": uri }))
        .await?;
    // Capabilities before `migrate`; parameters may change in flight.
    source
        .qmp
        .execute(
            "migrate-set-capabilities",
            json!({ "capabilities": [
                { "capability": "events", "state": true },
                { "capability": "auto-converge", "state": limits.auto_converge },
                { "capability": "pause-before-switchover", "state": hold_switchover },
            ] }),
        )
        .await?;
    let mut parameters = json!({
        "downtime-limit": limits.downtime_limit_ms,
        "cpu-throttle-initial": 20,
        "cpu-throttle-increment": 10,
    });
    if let Some(b) = limits.bandwidth_bytes_s {
        parameters["max-bandwidth"] = json!(b);
    }
    source
        .qmp
        .execute("migrate-set-parameters", parameters)
        .await?;
    Ok(uri)
}

/// Moves the running guest's memory from `source` to `destination` (started with
/// `Boot::Incoming`), polling progress every `poll`. On success the guest runs on the
/// destination and the source is `postmigrate`; on failure or cancel it keeps running on
/// the source (and the destination has exited: start a new one to retry).
pub async fn vmotion(
    source: &Guest,
    destination: &Guest,
    limits: Limits,
    poll: Duration,
    mut on_progress: impl FnMut(&MemoryProgress),
) -> Result<MemoryOutcome, LabError> {
    let uri = ready_memory_migration(source, destination, limits, false).await?;
    let mut events = source.qmp.events();
    let started = Instant::now();
    source.qmp.execute("migrate", json!({ "uri": uri })).await?;
    let mut max_throttle = 0;
    loop {
        let info = source.qmp.execute("query-migrate", json!({})).await?;
        let progress = MemoryProgress::of(&info);
        max_throttle = max_throttle.max(progress.throttle_percent);
        on_progress(&progress);
        match progress.status.as_str() {
            "completed" => {
                loaded(source, destination).await?;
                return Ok(MemoryOutcome {
                    total_ms: info["total-time"]
                        .as_u64()
                        .unwrap_or(started.elapsed().as_millis() as u64),
                    downtime_ms: info["downtime"].as_u64().unwrap_or(0),
                    rounds: progress.round,
                    transferred_bytes: progress.transferred_bytes,
                    max_throttle_percent: max_throttle,
                });
            }
            "failed" => {
                let why = info["error-desc"].as_str().unwrap_or("no reason given");
                return Err(LabError::Failed(format!("the migration failed: {why}")));
            }
            "cancelled" => return Err(LabError::Failed("the migration was cancelled".into())),
            _ => until_status_changes(&mut events, poll).await,
        }
    }
}

/// Cancels a memory migration in flight: the guest keeps running on the source.
pub async fn cancel_vmotion(source: &Guest) -> Result<(), LabError> {
    source.qmp.execute("migrate_cancel", json!({})).await?;
    Ok(())
}

/// Where a disk mirror stands (`query-block-jobs`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MirrorProgress {
    pub offset_bytes: u64,
    pub len_bytes: u64,
    pub ready: bool,
}

/// What a finished Storage vMotion measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MirrorOutcome {
    pub total_ms: u64,
    pub copied_bytes: u64,
}

/// The source has sent everything; the destination still loads the last state before it
/// runs (or stays paused, if started so). Waits for that. If the destination fails to load
/// it, the guest resumes on its source (stopped since the switchover) and this fails.
async fn loaded(source: &Guest, destination: &Guest) -> Result<(), LabError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match destination.status().await.as_deref() {
            Ok("running" | "paused" | "prelaunch") => return Ok(()),
            Ok("inmigrate") if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(2)).await
            }
            other => {
                let why = match other {
                    Ok(status) => format!("it is {status}"),
                    Err(e) => e.to_string(),
                };
                let _ = source.qmp.execute("cont", json!({})).await;
                return Err(LabError::Failed(format!(
                    "the destination did not take over after the switchover ({why}); the guest resumed on its source"
                )));
            }
        }
    }
}

/// Waits `poll`, or less when the migration's status changes (QEMU's `MIGRATION` event):
/// a switchover to hold or an end is seen at once, not up to a poll later.
async fn until_status_changes(
    events: &mut tokio::sync::broadcast::Receiver<QmpEvent>,
    poll: Duration,
) {
    let _ = tokio::time::timeout(poll, async {
        loop {
            match events.recv().await {
                Ok(e) if e.name == "MIGRATION" => return,
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                // No more events: the poll alone paces the loop.
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    std::future::pending::<()>().await
                }
            }
        }
    })
    .await;
}

async fn next_event(
    events: &mut tokio::sync::broadcast::Receiver<QmpEvent>,
    names: &[&str],
    job: &str,
    wait: Duration,
) -> Result<QmpEvent, LabError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .map_err(|_| LabError::Failed(format!("no {names:?} for {job} in time")))?
            .map_err(|_| LabError::Failed("the QMP event stream ended".into()))?;
        if names.contains(&event.name.as_str()) && event.data["device"] == job {
            return Ok(event);
        }
    }
}

/// Moves the guest's disk to a new image at `target` (created here, same virtual size) while
/// it runs and writes: a mirror job, then the switch to the new image, then the old one is
/// let go. On failure the guest keeps its old disk.
pub async fn storage_vmotion(
    guest: &Guest,
    source_image: &Path,
    target: &Path,
    limits: Limits,
    poll: Duration,
    mut on_progress: impl FnMut(&MirrorProgress),
) -> Result<MirrorOutcome, LabError> {
    let size = image_size(source_image).await?;
    create_image(target, size.div_ceil(1024 * 1024)).await?;
    let old = guest.disk_node.lock().clone();
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (file_node, new_node, job) = (
        format!("file-{}", &suffix[..8]),
        format!("disk-{}", &suffix[..8]),
        format!("mirror-{}", &suffix[..8]),
    );
    guest
        .qmp
        .execute(
            "blockdev-add",
            json!({ "driver": "file", "filename": target.display().to_string(), "node-name": file_node }),
        )
        .await?;
    guest
        .qmp
        .execute(
            "blockdev-add",
            json!({ "driver": "qcow2", "file": file_node, "node-name": new_node }),
        )
        .await?;
    let mut events = guest.qmp.events();
    // `top` copies the clusters the image has allocated (lab images have no backing file,
    // and the new image reads zeros elsewhere): a thin disk costs what it holds, as on
    // vSphere. `full` walks the whole virtual size, zeros included, against the rate limit:
    // twice the time for a half-full disk (measured).
    let mut mirror = json!({
        "job-id": job, "device": old, "target": new_node, "sync": "top",
    });
    if let Some(b) = limits.bandwidth_bytes_s {
        mirror["speed"] = json!(b);
    }
    let started = Instant::now();
    if let Err(e) = guest.qmp.execute("blockdev-mirror", mirror).await {
        let _ = guest
            .qmp
            .execute("blockdev-del", json!({ "node-name": new_node }))
            .await;
        let _ = guest
            .qmp
            .execute("blockdev-del", json!({ "node-name": file_node }))
            .await;
        return Err(e.into());
    }
    // Progress until READY (the copy has caught up; writes now go to both).
    let copied = loop {
        let jobs = guest.qmp.execute("query-block-jobs", json!({})).await?;
        let Some(j) = jobs
            .as_array()
            .and_then(|a| a.iter().find(|j| j["device"] == job.as_str()))
        else {
            return Err(LabError::Failed(format!("the mirror job {job} vanished")));
        };
        let progress = MirrorProgress {
            offset_bytes: j["offset"].as_u64().unwrap_or(0),
            len_bytes: j["len"].as_u64().unwrap_or(0),
            ready: j["ready"].as_bool().unwrap_or(false),
        };
        on_progress(&progress);
        if progress.ready {
            break progress.offset_bytes;
        }
        tokio::time::sleep(poll).await;
    };
    guest
        .qmp
        .execute("job-complete", json!({ "id": job }))
        .await?;
    let done = next_event(
        &mut events,
        &["BLOCK_JOB_COMPLETED"],
        &job,
        Duration::from_secs(60),
    )
    .await?;
    if let Some(error) = done.data["error"].as_str() {
        return Err(LabError::Failed(format!("the mirror failed: {error}")));
    }
    // The device reads the new image now: let the old one go.
    *guest.disk_node.lock() = new_node;
    let old_file = if old == "disk0" {
        "file0".to_string()
    } else {
        old.replacen("disk-", "file-", 1)
    };
    guest
        .qmp
        .execute("blockdev-del", json!({ "node-name": old }))
        .await?;
    guest
        .qmp
        .execute("blockdev-del", json!({ "node-name": old_file }))
        .await?;
    Ok(MirrorOutcome {
        total_ms: started.elapsed().as_millis() as u64,
        copied_bytes: copied,
    })
}

/// The image files the guest's block nodes have open.
pub async fn open_images(guest: &Guest) -> Result<Vec<String>, LabError> {
    let nodes = guest
        .qmp
        .execute("query-named-block-nodes", json!({ "flat": true }))
        .await?;
    Ok(nodes
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|n| n["drv"] == "file")
                .filter_map(|n| n["file"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// What a finished combined migration measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CombinedOutcome {
    pub mirror: MirrorOutcome,
    pub memory: MemoryOutcome,
}

/// Moves the running guest to another host *and* its disk to another datastore, sharing
/// nothing: `destination` was started with `Boot::Incoming { paused: true }` on an empty image
/// of the same size on the target datastore. The disk is mirrored to it over NBD first; once
/// caught up, the memory follows with the switchover held (`pause-before-switchover`) until
/// the mirror is let go, so both copies are identical when the guest resumes on the target.
/// `on_memory` sees the memory stage; `on_mirror` the disk stage.
pub async fn combined(
    source: &Guest,
    destination: &Guest,
    limits: Limits,
    poll: Duration,
    mut on_mirror: impl FnMut(&MirrorProgress),
    mut on_memory: impl FnMut(&MemoryProgress),
) -> Result<CombinedOutcome, LabError> {
    let started = Instant::now();
    let mut events = source.qmp.events();
    if let Err(e) = start_nbd_mirror(source, destination, limits).await {
        return Err(undo_nbd_mirror(source, e).await);
    }
    let copied = match mirror_ready(source, poll, &mut on_mirror).await {
        Ok(copied) => copied,
        Err(e) => return Err(undo_nbd_mirror(source, e).await),
    };
    let mirror = MirrorOutcome {
        total_ms: started.elapsed().as_millis() as u64,
        copied_bytes: copied,
    };

    // The memory, held before the switchover.
    let uri = match ready_memory_migration(source, destination, limits, true).await {
        Ok(uri) => uri,
        Err(e) => return Err(undo_nbd_mirror(source, e).await),
    };
    let memory_started = Instant::now();
    if let Err(e) = source.qmp.execute("migrate", json!({ "uri": uri })).await {
        return Err(undo_nbd_mirror(source, e.into()).await);
    }
    let mut max_throttle = 0;
    let mut released = false;
    loop {
        let info = source.qmp.execute("query-migrate", json!({})).await?;
        let progress = MemoryProgress::of(&info);
        max_throttle = max_throttle.max(progress.throttle_percent);
        on_memory(&progress);
        match progress.status.as_str() {
            "pre-switchover" if !released => {
                release_nbd_mirror(source, &mut events).await?;
                released = true;
            }
            "completed" => {
                loaded(source, destination).await?;
                stop_nbd_export(destination).await?;
                let memory = MemoryOutcome {
                    total_ms: info["total-time"]
                        .as_u64()
                        .unwrap_or(memory_started.elapsed().as_millis() as u64),
                    downtime_ms: info["downtime"].as_u64().unwrap_or(0),
                    rounds: progress.round,
                    transferred_bytes: progress.transferred_bytes,
                    max_throttle_percent: max_throttle,
                };
                return Ok(CombinedOutcome { mirror, memory });
            }
            "failed" | "cancelled" => {
                let why = info["error-desc"].as_str().unwrap_or("cancelled");
                let e = LabError::Failed(format!("the migration failed: {why}"));
                if !released {
                    return Err(undo_nbd_mirror(source, e).await);
                }
                return Err(e);
            }
            _ => until_status_changes(&mut events, poll).await,
        }
    }
}

/// The block job of a combined migration's disk mirror.
const NBD_MIRROR_JOB: &str = "vmshift-mirror";

/// Exports the destination's empty image over NBD and mirrors the source's disk to it
/// (allocated clusters only, as a Storage vMotion does).
async fn start_nbd_mirror(
    source: &Guest,
    destination: &Guest,
    limits: Limits,
) -> Result<(), LabError> {
    let nbd_port = free_port()?;
    let dest_node = destination.disk_node.lock().clone();
    destination
        .qmp
        .execute(
            "nbd-server-start",
            json!({ "addr": { "type": "inet", "data": { "host": "127.0.0.1", "port": nbd_port.to_string() } } }),
        )
        .await?;
    destination
        .qmp
        .execute(
            "block-export-add",
            json!({ "type": "nbd", "id": "vmshift-export", "node-name": dest_node, "name": "vmshift", "writable": true }),
        )
        .await?;
    let source_node = source.disk_node.lock().clone();
    source
        .qmp
        .execute(
            "blockdev-add",
            json!({ "driver": "nbd", "node-name": "vmshift-nbd", "export": "vmshift",
                    "server": { "type": "inet", "host": "127.0.0.1", "port": nbd_port.to_string() } }),
        )
        .await?;
    let mut mirror = json!({ "job-id": NBD_MIRROR_JOB, "device": source_node,
                              "target": "vmshift-nbd", "sync": "top" });
    if let Some(b) = limits.bandwidth_bytes_s {
        mirror["speed"] = json!(b);
    }
    source.qmp.execute("blockdev-mirror", mirror).await?;
    Ok(())
}

/// Waits until the mirror has caught up (it then mirrors every write); the bytes copied.
async fn mirror_ready(
    source: &Guest,
    poll: Duration,
    on_mirror: &mut impl FnMut(&MirrorProgress),
) -> Result<u64, LabError> {
    loop {
        let jobs = source.qmp.execute("query-block-jobs", json!({})).await?;
        let Some(j) = jobs
            .as_array()
            .and_then(|a| a.iter().find(|j| j["device"] == NBD_MIRROR_JOB))
        else {
            return Err(LabError::Failed("the disk mirror stopped".into()));
        };
        let progress = MirrorProgress {
            offset_bytes: j["offset"].as_u64().unwrap_or(0),
            len_bytes: j["len"].as_u64().unwrap_or(0),
            ready: j["ready"].as_bool().unwrap_or(false),
        };
        on_mirror(&progress);
        if progress.ready {
            return Ok(progress.offset_bytes);
        }
        tokio::time::sleep(poll).await;
    }
}

/// The guest is stopped before the switchover: lets the mirror go (a ready job completes
/// without switching the source to the copy), then lets the switchover happen.
async fn release_nbd_mirror(
    source: &Guest,
    events: &mut tokio::sync::broadcast::Receiver<QmpEvent>,
) -> Result<(), LabError> {
    source
        .qmp
        .execute("block-job-cancel", json!({ "device": NBD_MIRROR_JOB }))
        .await?;
    next_event(
        events,
        &["BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED"],
        NBD_MIRROR_JOB,
        Duration::from_secs(30),
    )
    .await?;
    source
        .qmp
        .execute("blockdev-del", json!({ "node-name": "vmshift-nbd" }))
        .await?;
    source
        .qmp
        .execute("migrate-continue", json!({ "state": "pre-switchover" }))
        .await?;
    Ok(())
}

/// Stops a failed combined migration's mirror on the source (the guest runs on there).
async fn undo_nbd_mirror(source: &Guest, e: LabError) -> LabError {
    let _ = source
        .qmp
        .execute(
            "block-job-cancel",
            json!({ "device": NBD_MIRROR_JOB, "force": true }),
        )
        .await;
    let _ = source
        .qmp
        .execute("blockdev-del", json!({ "node-name": "vmshift-nbd" }))
        .await;
    e
}

/// The destination's NBD export, no longer needed once the guest runs there.
async fn stop_nbd_export(destination: &Guest) -> Result<(), LabError> {
    destination
        .qmp
        .execute("block-export-del", json!({ "id": "vmshift-export" }))
        .await?;
    destination
        .qmp
        .execute("nbd-server-stop", json!({}))
        .await?;
    Ok(())
}

/// Resumes a guest whose migration has completed into a destination started paused.
pub async fn resume(guest: &Guest) -> Result<(), LabError> {
    guest.qmp.execute("cont", json!({})).await?;
    Ok(())
}

/// Whether two images hold the same guest-visible content (`qemu-img compare`, read-only).
pub async fn images_identical(a: &Path, b: &Path) -> Result<bool, LabError> {
    let out = tokio::process::Command::new("qemu-img")
        .args(["compare", "-U", "-q"])
        .arg(a)
        .arg(b)
        .output()
        .await
        .map_err(|e| LabError::Image(e.to_string()))?;
    match out.status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(LabError::Image(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )),
    }
}
