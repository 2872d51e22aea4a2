//! A JSON body extractor whose rejections are our API errors: a syntax error is a 400, a
//! value of the wrong type a 422 naming the field path (`disks[0].capacity_mib`), an oversize
//! body a 413.

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// The raw JSON value of a request body (syntax checked, shape not yet).
pub struct JsonBody(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::NotJson);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(super::BODY_LIMIT_BYTES)
            } else {
                ApiError::MalformedJson(format!("the request body could not be read: {e}"))
            }
        })?;
        let value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::MalformedJson(format!("the body is not valid JSON: {e}")))?;
        Ok(JsonBody(value))
    }
}

impl JsonBody {
    /// Deserializes into `T`, naming the offending field on failure.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        parse_value(self.0)
    }
}

/// Whether the request says its body is JSON. A JSON content type cannot be sent cross-site
/// without a CORS preflight.
pub fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("application/json")
                || (v.starts_with("application/") && v.ends_with("+json"))
        })
}

/// Deserializes JSON text straight into `T` (no intermediate value: a large import costs its
/// objects, not a tree of strings), with the same errors as [`parse_value`].
pub fn parse_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
        if e.inner().is_syntax() || e.inner().is_eof() {
            ApiError::MalformedJson(format!("the body is not valid JSON: {}", e.inner()))
        } else {
            field_error(e)
        }
    })?;
    reader
        .end()
        .map_err(|e| ApiError::MalformedJson(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

pub fn parse_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(field_error)
}

/// A value of the wrong shape: a 422 naming the field path.
fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde names an unknown or missing field in its message, not in the path.
        let field = field_from_message(&inner)
            .map(|f| {
                if path == "." {
                    f
                } else if path == f || path.ends_with(&format!(".{f}")) {
                    // serde_path_to_error already names an unknown field in the path.
                    path.clone()
                } else {
                    format!("{path}.{f}")
                }
            })
            .unwrap_or(path);
        ApiError::InvalidField {
            message: format!("{field}: {inner}"),
            field,
        }
    }
}

fn field_from_message(message: &str) -> Option<String> {
    for prefix in ["unknown field `", "missing field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return rest.split('`').next().map(str::to_owned);
        }
    }
    None
}
