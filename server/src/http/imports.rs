//! `POST /api/v1/imports/rvtools` (docs/IMPORT.md): an RVTools export — the xlsx workbook, a
//! zip of its CSV files (raw body), or CSV files (multipart) — read and mapped to the
//! inventory, then, with `apply=true`, imported through the inventory's gate, all or nothing.
//! Without it nothing is written: the report says what would be created, updated and kept.

use super::error::ApiError;
use super::path::Query;
use super::routes::{post, Routes, ADMIN};
use super::AppState;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::Json;
use domain::{DomainError, Inventory, InventoryFile};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The largest upload (docs/IMPORT.md#refusals).
pub const UPLOAD_LIMIT_BYTES: usize = 256 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    #[serde(default)]
    apply: bool,
}

/// Per kind of object: how many the import creates, updates, and leaves as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub keep: usize,
}

/// The answer: what the file holds and what it would do (or did).
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub applied: bool,
    pub counts: BTreeMap<&'static str, Counts>,
    #[serde(flatten)]
    pub report: rvtools::Report,
}

/// What each kind of the file does to `current`.
fn counts(file: &InventoryFile, current: &Inventory) -> BTreeMap<&'static str, Counts> {
    fn count<T>(
        items: &[T],
        id: impl Fn(&T) -> uuid::Uuid,
        known: impl Fn(uuid::Uuid) -> bool,
        total: usize,
    ) -> Counts {
        let update = items.iter().filter(|i| known(id(i))).count();
        Counts {
            create: items.len() - update,
            update,
            keep: total - update,
        }
    }
    BTreeMap::from([
        (
            "clusters",
            count(
                &file.clusters,
                |o| o.id.0,
                |id| current.clusters.contains_key(&domain::ClusterId(id)),
                current.clusters.len(),
            ),
        ),
        (
            "hosts",
            count(
                &file.hosts,
                |o| o.id.0,
                |id| current.hosts.contains_key(&domain::HostId(id)),
                current.hosts.len(),
            ),
        ),
        (
            "datastores",
            count(
                &file.datastores,
                |o| o.id.0,
                |id| current.datastores.contains_key(&domain::DatastoreId(id)),
                current.datastores.len(),
            ),
        ),
        (
            "switches",
            count(
                &file.switches,
                |o| o.id.0,
                |id| current.switches.contains_key(&domain::SwitchId(id)),
                current.switches.len(),
            ),
        ),
        (
            "portgroups",
            count(
                &file.portgroups,
                |o| o.id.0,
                |id| current.portgroups.contains_key(&domain::PortgroupId(id)),
                current.portgroups.len(),
            ),
        ),
        (
            "vms",
            count(
                &file.vms,
                |o| o.id.0,
                |id| current.vms.contains_key(&domain::VmId(id)),
                current.vms.len(),
            ),
        ),
    ])
}

/// A file refused: 413 when too large, else 422 naming the problem (`file`).
fn refused(e: rvtools::ReadError) -> ApiError {
    match e {
        rvtools::ReadError::TooLarge { .. } => ApiError::PayloadTooLarge(UPLOAD_LIMIT_BYTES),
        other => ApiError::Domain(DomainError::invalid("file", format!("file: {other}"))),
    }
}

/// The upload's files: the parts of a multipart form, or the body itself.
async fn files(state: &AppState, request: Request) -> Result<Vec<(String, Vec<u8>)>, ApiError> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let body = axum::body::to_bytes(request.into_body(), UPLOAD_LIMIT_BYTES)
            .await
            .map_err(|_| ApiError::PayloadTooLarge(UPLOAD_LIMIT_BYTES))?;
        return Ok(vec![("upload".into(), body.to_vec())]);
    }
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::Domain(DomainError::invalid(
            "file",
            format!("file: the form could not be read ({e})"),
        ))
    };
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::Domain(DomainError::invalid("file", format!("file: {e}"))))?;
    let mut out = Vec::new();
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field
            .file_name()
            .or(field.name())
            .unwrap_or("upload")
            .to_string();
        let bytes = field.bytes().await.map_err(bad)?;
        out.push((name, bytes.to_vec()));
    }
    Ok(out)
}

async fn rvtools(
    State(state): State<AppState>,
    Query(query): Query<ImportQuery>,
    request: Request,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    let files = files(&state, request).await?;
    // Reading and mapping are CPU work: off the async threads.
    let current = state.inventory.snapshot().1;
    let (translation, current) = tokio::task::spawn_blocking(move || {
        let uploads: Vec<rvtools::Upload> = files
            .iter()
            .map(|(name, bytes)| rvtools::Upload { name, bytes })
            .collect();
        let book = rvtools::read(&uploads, &rvtools::Limits::default())?;
        drop(uploads);
        rvtools::translate(&book, &current).map(|t| (t, current))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("import task: {e}")))?
    .map_err(refused)?;
    let counts = counts(&translation.file, &current);
    let report = ImportReport {
        applied: query.apply,
        counts,
        report: translation.report,
    };
    if !query.apply {
        return Ok((StatusCode::OK, Json(report)));
    }
    state.inventory.import(translation.file).await?;
    Ok((StatusCode::CREATED, Json(report)))
}

pub fn routes() -> Routes {
    Routes::new()
        .route("/imports/rvtools", post(ADMIN, rvtools))
        .map_router(|router| router.layer(DefaultBodyLimit::max(UPLOAD_LIMIT_BYTES)))
}
