//! CRUD for every kind of inventory object under `/api/v1/{collection}`.

use super::error::ApiError;
use super::imports::UPLOAD_LIMIT_BYTES;
use super::json::{is_json, parse_slice, parse_value, JsonBody};
use super::path::{Collection, Id, Query};
use super::routes::{get, Routes, ADMIN, VIEWER};
use super::upload::spool_body;
use super::AppState;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::listing::ListQuery;
use domain::{ClusterId, DatastoreId, HostId, PortgroupId, RuleId, SwitchId, VmId};
use domain::{Mutation, Object, ObjectKind};
use serde_json::Value;
use uuid::Uuid;

/// Parses a request body as an object of the given kind.
pub fn parse_object(kind: ObjectKind, body: Value) -> Result<Object, ApiError> {
    Ok(match kind {
        ObjectKind::Cluster => Object::Cluster(parse_value(body)?),
        ObjectKind::Host => Object::Host(parse_value(body)?),
        ObjectKind::Datastore => Object::Datastore(parse_value(body)?),
        ObjectKind::Switch => Object::Switch(parse_value(body)?),
        ObjectKind::Portgroup => Object::Portgroup(parse_value(body)?),
        ObjectKind::Vm => Object::Vm(parse_value(body)?),
        ObjectKind::Rule => Object::Rule(parse_value(body)?),
    })
}

/// The object alone, as the API shows it (without the kind tag).
fn object_json(object: &Object) -> Value {
    match serde_json::to_value(object) {
        Ok(mut tagged) => tagged["object"].take(),
        Err(_) => Value::Null,
    }
}

/// `GET /api/v1/{collection}?q=&sort=&offset=&limit=`: the objects in order (by name unless
/// `sort` says otherwise), their number in all in `X-Total-Count`, and the next page in `Link`
/// (docs/DESIGN.md#paged-lists).
pub async fn list(
    State(state): State<AppState>,
    Collection(kind): Collection,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let inv = state.inventory.read();
    let listing = domain::listing::list(&inv, kind, &query)?;
    let ids = listing.ids.iter().copied();
    let body = match kind {
        ObjectKind::Cluster => json_of(ids.filter_map(|id| inv.clusters.get(&ClusterId(id)))),
        ObjectKind::Host => json_of(ids.filter_map(|id| inv.hosts.get(&HostId(id)))),
        ObjectKind::Datastore => json_of(ids.filter_map(|id| inv.datastores.get(&DatastoreId(id)))),
        ObjectKind::Switch => json_of(ids.filter_map(|id| inv.switches.get(&SwitchId(id)))),
        ObjectKind::Portgroup => json_of(ids.filter_map(|id| inv.portgroups.get(&PortgroupId(id)))),
        ObjectKind::Vm => json_of(ids.filter_map(|id| inv.vms.get(&VmId(id)))),
        ObjectKind::Rule => json_of(ids.filter_map(|id| inv.rules.get(&RuleId(id)))),
    };
    drop(inv);
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    let headers = response.headers_mut();
    headers.insert("x-total-count", listing.total.into());
    let next = query.offset + listing.ids.len();
    if query.limit.is_some() && next < listing.total {
        let next_query = ListQuery {
            offset: next,
            ..query
        };
        let encoded = serde_urlencoded::to_string(&next_query).unwrap_or_default();
        let link = format!("</api/v1/{}?{encoded}>; rel=\"next\"", kind.plural());
        if let Ok(value) = header::HeaderValue::from_str(&link) {
            headers.insert(header::LINK, value);
        }
    }
    Ok(response)
}

/// Serializes objects straight to a JSON array.
fn json_of<'a, T: serde::Serialize + 'a>(items: impl Iterator<Item = &'a T>) -> String {
    let items: Vec<&T> = items.collect();
    serde_json::to_string(&items).unwrap_or_else(|_| "[]".into())
}

pub async fn get_one(
    State(state): State<AppState>,
    Collection(kind): Collection,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    let object = state
        .inventory
        .read()
        .get(kind, id)
        .ok_or_else(|| ApiError::NotFound(format!("no {} has id {id}", kind.label())))?;
    Ok(Json(object_json(&object)))
}

pub async fn create(
    State(state): State<AppState>,
    Collection(kind): Collection,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let object = parse_object(kind, body.0)?;
    state
        .inventory
        .apply(Mutation::Create(object.clone()))
        .await?;
    let location = format!("/api/v1/{}/{}", kind.plural(), object.id());
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(object_json(&object)),
    )
        .into_response())
}

pub async fn update(
    State(state): State<AppState>,
    Collection(kind): Collection,
    Id(id): Id,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    if let Some(body_id) = body.0.get("id") {
        let same = body_id
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
            .is_some_and(|b| b == id);
        if !same {
            return Err(ApiError::InvalidField {
                field: "id".into(),
                message: "id: the body's id differs from the id in the path".into(),
            });
        }
    }
    let mut object = parse_object(kind, body.0)?;
    object.set_id(id);
    state
        .inventory
        .apply(Mutation::Update(object.clone()))
        .await?;
    Ok(Json(object_json(&object)))
}

pub async fn delete(
    State(state): State<AppState>,
    Collection(kind): Collection,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    state.inventory.apply(Mutation::Delete(kind, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The whole inventory in the import/export format.
pub async fn export(State(state): State<AppState>) -> Response {
    let (_, mut inventory) = state.inventory.snapshot();
    // Where mirrored objects come from is this server's business, not the file's.
    inventory.sources.clear();
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"vmshift-inventory.json\"",
            ),
        ],
        serde_json::to_string_pretty(&inventory).unwrap_or_default(),
    )
        .into_response()
}

/// Imports objects in the export format: new ids are created, known ones replaced; all or
/// nothing.
/// The body is spooled to disk (up to the upload limit, not the router's: vCenter's maximum
/// exported is ~28 MB) and parsed off the async threads straight into the file's objects.
pub async fn import(
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<domain::ImportSummary>, ApiError> {
    if !is_json(request.headers()) {
        return Err(ApiError::NotJson);
    }
    let body = spool_body(request, UPLOAD_LIMIT_BYTES).await?;
    let file: domain::InventoryFile =
        tokio::task::spawn_blocking(move || parse_slice(body.bytes()))
            .await
            .map_err(|e| ApiError::Internal(format!("import task: {e}")))??;
    Ok(Json(state.inventory.import(file).await?))
}

pub fn routes() -> Routes {
    Routes::new()
        .route("/inventory", get(VIEWER, export).post(ADMIN, import))
        .route("/{collection}", get(VIEWER, list).post(ADMIN, create))
        .route(
            "/{collection}/{id}",
            get(VIEWER, get_one)
                .put(ADMIN, update)
                .delete(ADMIN, delete),
        )
}
