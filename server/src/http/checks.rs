//! Prerequisite checks and predictions over the API: `POST /checks`, `POST /predictions`
//! and `GET /vms/{id}/targets`.

use super::error::ApiError;
use super::json::JsonBody;
use super::path::Id;
use super::path::Query;
use super::routes::{get, post, Routes, VIEWER};
use super::AppState;
use axum::extract::State;
use axum::Json;
use domain::checks::{
    check_migration, rank_targets, CheckReport, CheckResult, MigrationKind, MigrationRequest,
    ObjectRef, Severity, Targets,
};
use domain::ObjectKind;
use domain::{DatastoreId, HostId, VmId};
use serde::Deserialize;
use uuid::Uuid;

pub async fn check(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<Json<CheckReport>, ApiError> {
    let request: MigrationRequest = body.parse()?;
    let busy = state.inventory.busy_vms();
    let report = check_migration(&state.inventory.read(), &request, &busy)?;
    Ok(Json(with_vcenter_verdict(&state, &request, report).await))
}

/// vCenter's own verdict beside vmshift's checks, for a mirrored VM moving host
/// (docs/VCENTER.md#migrations).
async fn with_vcenter_verdict(
    state: &AppState,
    request: &MigrationRequest,
    report: CheckReport,
) -> CheckReport {
    let Some(host) = request.target_host_id.filter(|_| request.kind.moves_host()) else {
        return report;
    };
    let extra = vcenter_results(state, request.vm_id, host).await;
    if extra.is_empty() {
        return report;
    }
    let mut results = report.results;
    results.extend(extra);
    CheckReport::from_results(results)
}

/// What vCenter's compatibility check says of moving `vm` to `host`, as check results: its
/// errors block, its warnings warn; a vCenter that does not answer is said, not held against
/// the move. Empty when the move is not one vCenter judges.
pub async fn vcenter_results(state: &AppState, vm: VmId, host: HostId) -> Vec<CheckResult> {
    let Some(verdict) = state.connections.verdict(vm, host).await else {
        return Vec::new();
    };
    let objects: Vec<ObjectRef> = {
        let inv = state.inventory.read();
        let vm = inv.vms.get(&vm).map(|v| ObjectRef {
            kind: ObjectKind::Vm,
            id: v.id.0,
            name: v.name.to_string(),
        });
        let target = inv.hosts.get(&host).map(|h| ObjectRef {
            kind: ObjectKind::Host,
            id: h.id.0,
            name: h.name.to_string(),
        });
        vm.into_iter().chain(target).collect()
    };
    // The code says which wording; `reason` is vCenter's own text, passed on as it came.
    let result = |severity, message: String, remedy: &str| CheckResult {
        id: "vcenter.compatibility".into(),
        code: match severity {
            Severity::Error => "vcenter.compatibility.error",
            Severity::Warning => "vcenter.compatibility.warning",
            Severity::Info if message.starts_with("vCenter did not") => {
                "vcenter.compatibility.unanswered"
            }
            Severity::Info => "vcenter.compatibility.ok",
        }
        .into(),
        args: [("reason".to_string(), reason_of(&message))].into(),
        severity,
        message,
        remedy: remedy.into(),
        objects: objects.clone(),
    };
    match verdict {
        Ok(v) if v.errors.is_empty() && v.warnings.is_empty() => vec![result(
            Severity::Info,
            "vCenter's own check finds the move compatible".into(),
            "Nothing to do.",
        )],
        Ok(v) => v
            .errors
            .into_iter()
            .map(|e| {
                result(
                    Severity::Error,
                    format!("vCenter: {e}"),
                    "vCenter's own compatibility check refuses this move: act on its message in vCenter, or choose another host.",
                )
            })
            .chain(v.warnings.into_iter().map(|w| {
                result(
                    Severity::Warning,
                    format!("vCenter: {w}"),
                    "vCenter's own compatibility check warns: read its message before moving.",
                )
            }))
            .collect(),
        Err(why) => vec![result(
            Severity::Info,
            format!("vCenter did not answer its own compatibility check: {why}"),
            "vmshift's checks still hold.",
        )],
    }
}

/// vCenter's own words in a result's English message (after "vCenter: " or the colon).
fn reason_of(message: &str) -> String {
    message
        .strip_prefix("vCenter: ")
        .or_else(|| message.split_once(": ").map(|(_, why)| why))
        .unwrap_or("")
        .to_string()
}

#[derive(Deserialize)]
pub struct TargetsQuery {
    kind: Option<String>,
    target_host_id: Option<String>,
    target_datastore_id: Option<String>,
}

fn query_id(field: &str, raw: Option<String>) -> Result<Option<Uuid>, ApiError> {
    raw.map(|s| {
        Uuid::parse_str(&s).map_err(|_| ApiError::InvalidField {
            field: field.to_string(),
            message: format!("{field}: {s:?} is not a UUID"),
        })
    })
    .transpose()
}

pub async fn targets(
    State(state): State<AppState>,
    Id(vm): Id<VmId>,
    Query(query): Query<TargetsQuery>,
) -> Result<Json<Targets>, ApiError> {
    let kind = match query.kind.as_deref() {
        None => {
            return Err(ApiError::InvalidField {
                field: "kind".into(),
                message: "kind: give vmotion, storage_vmotion or combined".into(),
            })
        }
        Some(k) => MigrationKind::ALL
            .into_iter()
            .find(|m| m.as_str() == k)
            .ok_or_else(|| ApiError::InvalidField {
                field: "kind".into(),
                message: format!("kind: {k:?} is not vmotion, storage_vmotion or combined"),
            })?,
    };
    let host = query_id("target_host_id", query.target_host_id)?.map(HostId);
    let datastore = query_id("target_datastore_id", query.target_datastore_id)?.map(DatastoreId);
    let busy = state.inventory.busy_vms();
    let targets = rank_targets(&state.inventory.read(), vm, kind, host, datastore, &busy)?;
    Ok(Json(targets))
}

/// `POST /predictions`: the engine's model fast-forwarded for a move.
pub async fn predict(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<Json<domain::prediction::Prediction>, ApiError> {
    let request: MigrationRequest = body.parse()?;
    let platform = state.migrations.platform(request.vm_id);
    let prediction = domain::prediction::predict_on(&state.inventory.read(), &request, platform)?;
    Ok(Json(prediction))
}

pub fn routes() -> Routes {
    Routes::new()
        .route("/checks", post(VIEWER, check))
        .route("/predictions", post(VIEWER, predict))
        .route("/vms/{id}/targets", get(VIEWER, targets))
}
