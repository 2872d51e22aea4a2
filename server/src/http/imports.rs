//! `POST /api/v1/imports/rvtools` (docs/IMPORT.md): an RVTools export — the xlsx workbook, a
//! zip of its CSV files (raw body), or CSV files (multipart) — read and mapped to the
//! inventory, then, with `apply=true`, imported through the inventory's gate, all or nothing.
//! Without it nothing is written: the report says what would be created, updated and kept.

use super::error::ApiError;
use super::path::Query;
use super::routes::{get, post, Routes, ADMIN};
use super::upload::{spool_body, Spooled, Writer};
use super::AppState;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::{DomainError, ImportCounts, ImportReport, Inventory, InventoryFile};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

/// The workbook's media type.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The largest upload (docs/IMPORT.md#refusals).
pub const UPLOAD_LIMIT_BYTES: usize = 256 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    #[serde(default)]
    apply: bool,
    /// Delete the objects the file does not hold (affinity rules aside).
    #[serde(default)]
    remove_absent: bool,
}

/// What each kind of the file does to `current`.
fn counts(
    file: &InventoryFile,
    current: &Inventory,
    remove_absent: bool,
) -> BTreeMap<String, ImportCounts> {
    let ids = |v: Vec<Uuid>| -> HashSet<Uuid> { v.into_iter().collect() };
    let kinds: [(&'static str, HashSet<Uuid>, HashSet<Uuid>); 6] = [
        (
            "clusters",
            ids(file.clusters.iter().map(|o| o.id.0).collect()),
            ids(current.clusters.keys().map(|k| k.0).collect()),
        ),
        (
            "hosts",
            ids(file.hosts.iter().map(|o| o.id.0).collect()),
            ids(current.hosts.keys().map(|k| k.0).collect()),
        ),
        (
            "datastores",
            ids(file.datastores.iter().map(|o| o.id.0).collect()),
            ids(current.datastores.keys().map(|k| k.0).collect()),
        ),
        (
            "switches",
            ids(file.switches.iter().map(|o| o.id.0).collect()),
            ids(current.switches.keys().map(|k| k.0).collect()),
        ),
        (
            "portgroups",
            ids(file.portgroups.iter().map(|o| o.id.0).collect()),
            ids(current.portgroups.keys().map(|k| k.0).collect()),
        ),
        (
            "vms",
            ids(file.vms.iter().map(|o| o.id.0).collect()),
            ids(current.vms.keys().map(|k| k.0).collect()),
        ),
    ];
    kinds
        .into_iter()
        .map(|(kind, file, current)| {
            let update = file.intersection(&current).count();
            let absent = current.len() - update;
            let counts = ImportCounts {
                create: file.len() - update,
                update,
                keep: if remove_absent { 0 } else { absent },
                remove: if remove_absent { absent } else { 0 },
            };
            (kind.to_string(), counts)
        })
        .collect()
}

/// A file refused: 413 when too large, else 422 naming the problem (`file`).
fn refused(e: rvtools::ReadError) -> ApiError {
    match e {
        rvtools::ReadError::TooLarge { .. } => ApiError::PayloadTooLarge(UPLOAD_LIMIT_BYTES),
        other => ApiError::Domain(DomainError::invalid("file", format!("file: {other}"))),
    }
}

/// The upload's files, spooled to disk as they arrive (docs/IMPORT.md#the-route): the parts of
/// a multipart form, or the body itself.
async fn files(state: &AppState, request: Request) -> Result<Vec<Spooled>, ApiError> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let mut total = 0;
    if !multipart {
        return Ok(vec![spool_body(request, UPLOAD_LIMIT_BYTES).await?]);
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
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        let name = field
            .file_name()
            .or(field.name())
            .unwrap_or("upload")
            .to_string();
        let mut file = Writer::new()?;
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            file.write(&chunk, &mut total, UPLOAD_LIMIT_BYTES).await?;
        }
        out.push(file.finish(name).await?);
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
            .map(|f| rvtools::Upload {
                name: &f.name,
                bytes: f.bytes(),
            })
            .collect();
        let book = rvtools::read(&uploads, &rvtools::Limits::default())?;
        drop(uploads);
        rvtools::translate(&book, &current).map(|t| (t, current))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("import task: {e}")))?
    .map_err(refused)?;
    let counts = counts(&translation.file, &current, query.remove_absent);
    let rvtools::Report {
        tabs,
        templates_skipped,
        warnings,
        guesses,
    } = translation.report;
    let report = ImportReport {
        applied: query.apply,
        remove_absent: query.remove_absent,
        counts,
        tabs,
        templates_skipped,
        warnings,
        guesses,
    };
    if !query.apply {
        return Ok((StatusCode::OK, Json(report)));
    }
    state
        .inventory
        .import_replacing(translation.file, query.remove_absent)
        .await?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// `GET /api/v1/inventory.xlsx`: the inventory as an RVTools-layout workbook
/// (docs/IMPORT.md#export).
async fn export(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (_, inventory) = state.inventory.snapshot();
    let bytes = tokio::task::spawn_blocking(move || {
        rvtools::write::xlsx(&rvtools::export::workbook(&inventory))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("export task: {e}")))?
    .map_err(|e| ApiError::Internal(format!("writing the workbook: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, XLSX),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"vmshift-rvtools.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

pub fn routes() -> Routes {
    Routes::new()
        .route("/inventory.xlsx", get(ADMIN, export))
        .route("/imports/rvtools", post(ADMIN, rvtools))
        .map_router(|router| router.layer(DefaultBodyLimit::max(UPLOAD_LIMIT_BYTES)))
}
