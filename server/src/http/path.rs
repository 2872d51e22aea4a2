//! Path and query parameters, parsed once: `{id}` as a UUID (or a typed id), `{collection}` as
//! a kind of inventory object, a query string into its type. A malformed one is a 400 naming
//! it (the REST API's JSON error); an unknown collection a 404.

use super::error::ApiError;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use domain::ObjectKind;
use uuid::Uuid;

/// The raw value of one path parameter.
async fn param<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    name: &str,
) -> Result<String, ApiError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|e| ApiError::BadPath {
            field: name.into(),
            message: format!("the path is not valid: {}", e.body_text()),
        })?;
    params
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .ok_or_else(|| ApiError::Internal(format!("the route has no {{{name}}} parameter")))
}

/// The `{id}` of a route, as a UUID or any id type made from one (`Id<MigrationId>`).
pub struct Id<T = Uuid>(pub T);

impl<S: Send + Sync, T: From<Uuid>> FromRequestParts<S> for Id<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = param(parts, state, "id").await?;
        Uuid::parse_str(&raw)
            .map(|id| Id(T::from(id)))
            .map_err(|_| ApiError::BadPath {
                field: "id".into(),
                message: format!("id: {raw:?} is not a UUID"),
            })
    }
}

/// The `{collection}` of an inventory route (`hosts`, `vms`, …).
pub struct Collection(pub ObjectKind);

impl<S: Send + Sync> FromRequestParts<S> for Collection {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = param(parts, state, "collection").await?;
        ObjectKind::from_plural(&raw)
            .map(Collection)
            .ok_or_else(|| ApiError::NotFound(format!("no collection named {raw}")))
    }
}

/// A query string deserialized into `T`; a malformed one is a JSON 400 (axum's own rejection
/// is plain text).
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(q)| Query(q))
            .map_err(|e| ApiError::BadPath {
                field: "query".into(),
                message: format!("the query string is not valid: {}", e.body_text()),
            })
    }
}
