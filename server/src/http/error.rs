//! The HTTP error type: every failure becomes `{"error": {"code", "message", "field"}}` with
//! a 4xx status naming the cause, or a 500 whose details are logged, never sent.

use crate::accounts::AuthError;
use crate::engine::{CommandError, StartError};
use crate::inventory::ServiceError;
use crate::plans::PlanError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::{DomainError, ErrorCode};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON at all (400).
    #[error("{0}")]
    MalformedJson(String),
    /// The body is JSON but a value has the wrong type or is out of range (422).
    #[error("{message}")]
    InvalidField { field: String, message: String },
    /// A path parameter is not well formed (400).
    #[error("{message}")]
    BadPath { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("the request body must be JSON (Content-Type: application/json)")]
    NotJson,
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("requests from another site are refused")]
    CrossSite,
    /// The prerequisite checks refuse the migration (422, with every result).
    #[error("{message}")]
    Blocked {
        message: String,
        report: domain::checks::CheckReport,
    },
    /// The request conflicts with the current state (409).
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
        words: Option<Box<domain::Phrase>>,
    },
    #[error("the migration engine is not running")]
    Unavailable,
    #[error("sign in first (a session cookie, or Authorization: Bearer <API token>)")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("API tokens are created from a signed-in session, not with a token")]
    TokenMintsToken,
    #[error("too many failed sign-ins; try again in {0} s")]
    TooManyRequests(u64),
    #[error("internal error")]
    Internal(String),
}

impl From<StartError> for ApiError {
    fn from(e: StartError) -> Self {
        match e {
            StartError::Refused(d) => ApiError::Domain(d),
            StartError::Blocked(report) => ApiError::Blocked {
                message: format!(
                    "the prerequisite checks failed: {}",
                    report.first_error().map_or("", |r| r.message.as_str())
                ),
                report,
            },
            StartError::Busy { vm, id } => {
                let args = [("vm", vm), ("migration", id.to_string())];
                let words = domain::Phrase::new("server.busy", &args);
                ApiError::Conflict {
                    field: Some("vm_id".into()),
                    message: words.english.clone(),
                    words: Some(Box::new(words)),
                }
            }
            StartError::Storage(s) => ApiError::Internal(s.to_string()),
            StartError::Stopped => ApiError::Unavailable,
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        match e {
            e @ (CommandError::NotFound(_) | CommandError::NoFault(_)) => {
                ApiError::NotFound(e.to_string())
            }
            CommandError::AlreadyFinished(phase) => {
                let phase = domain::Phrase::name("phase", phase, phase);
                let words =
                    domain::Phrase::new("server.already_finished", &[]).with("phase", phase);
                ApiError::Conflict {
                    field: None,
                    message: words.english.clone(),
                    words: Some(Box::new(words)),
                }
            }
            CommandError::Refused(d) => ApiError::Domain(d),
            CommandError::Storage(s) => ApiError::Internal(s.to_string()),
            CommandError::Stopped | CommandError::Foreign(_) => ApiError::Unavailable,
        }
    }
}

impl From<PlanError> for ApiError {
    fn from(e: PlanError) -> Self {
        match e {
            e @ PlanError::NotFound(_) => ApiError::NotFound(e.to_string()),
            PlanError::Conflict(words) => ApiError::Conflict {
                field: None,
                message: words.english.clone(),
                words: Some(Box::new(words)),
            },
            e @ PlanError::Elsewhere(_) => ApiError::Conflict {
                field: None,
                message: e.to_string(),
                words: None,
            },
            PlanError::Refused(d) => ApiError::Domain(d),
            PlanError::Storage(s) => ApiError::Internal(s.to_string()),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Refused(d) => ApiError::Domain(d),
            ServiceError::Storage(s) => ApiError::Internal(s.to_string()),
            e @ ServiceError::Fenced => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::BadCredentials => ApiError::BadCredentials,
            AuthError::RateLimited(s) => ApiError::TooManyRequests(s),
            AuthError::Refused(d) => ApiError::Domain(d),
            AuthError::Storage(s) => ApiError::Internal(s.to_string()),
        }
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl ApiError {
    /// The same error for a page's server function: its status, code, message and field.
    pub fn into_server_error(self) -> app::rpc::ServerError {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "a page request failed");
        }
        let (status, code, field) = self.parts();
        app::rpc::ServerError {
            status: status.as_u16(),
            code: code.into(),
            message: self.to_string(),
            field: field.map(str::to_owned),
            words: self.words().map(Box::new),
        }
    }

    /// The message as a code and values, when the domain gave one.
    fn words(&self) -> Option<domain::Phrase> {
        match self {
            ApiError::Domain(d) => d.words.as_deref().cloned(),
            ApiError::Conflict { words, .. } => words.as_deref().cloned(),
            ApiError::Unavailable => Some(domain::Phrase::new("server.unavailable", &[])),
            ApiError::Unauthenticated => Some(domain::Phrase::new("server.unauthenticated", &[])),
            ApiError::BadCredentials => Some(domain::Phrase::new("server.bad_credentials", &[])),
            ApiError::TokenMintsToken => Some(domain::Phrase::new("server.token_mints_token", &[])),
            ApiError::TooManyRequests(s) => Some(domain::Phrase::new(
                "server.too_many_requests",
                &[("seconds", s.to_string())],
            )),
            ApiError::Internal(_) => Some(domain::Phrase::new("server.internal", &[])),
            ApiError::CrossSite => Some(domain::Phrase::new("server.cross_site", &[])),
            _ => None,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    fn parts(&self) -> (StatusCode, &'static str, Option<&str>) {
        match self {
            ApiError::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json", None),
            ApiError::InvalidField { field, .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some(field))
            }
            ApiError::BadPath { field, .. } => (StatusCode::BAD_REQUEST, "bad_path", Some(field)),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", None),
            ApiError::PayloadTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None)
            }
            ApiError::Domain(d) => {
                let (status, code) = match d.code {
                    ErrorCode::Invalid => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
                    ErrorCode::NotFound => (StatusCode::NOT_FOUND, "not_found"),
                    ErrorCode::Duplicate => (StatusCode::CONFLICT, "duplicate"),
                    ErrorCode::InUse => (StatusCode::CONFLICT, "in_use"),
                };
                (status, code, d.field.as_deref())
            }
            ApiError::NotJson => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "not_json", None),
            ApiError::MethodNotAllowed(_) => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", None)
            }
            ApiError::CrossSite => (StatusCode::FORBIDDEN, "cross_site", None),
            ApiError::Blocked { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "blocked", None),
            ApiError::Conflict { field, .. } => {
                (StatusCode::CONFLICT, "conflict", field.as_deref())
            }
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", None),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated", None),
            ApiError::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials", None),
            ApiError::Forbidden(_) | ApiError::TokenMintsToken => {
                (StatusCode::FORBIDDEN, "forbidden", None)
            }
            ApiError::TooManyRequests(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests", None)
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", None),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let (status, code, field) = self.parts();
        let mut body = json!({
            "error": { "code": code, "message": self.to_string(), "field": field }
        });
        if let Some(words) = self.words() {
            body["error"]["words"] = json!(words);
        }
        if let ApiError::Blocked { report, .. } = &self {
            body["allowed"] = json!(false);
            body["results"] = json!(report.results);
        }
        if let ApiError::TooManyRequests(seconds) = &self {
            let mut response = (status, Json(body)).into_response();
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*seconds),
            );
            return response;
        }
        (status, Json(body)).into_response()
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(e: axum::extract::rejection::PathRejection) -> Self {
        ApiError::BadPath {
            field: "path".into(),
            message: format!("the path is not valid: {}", e.body_text()),
        }
    }
}
