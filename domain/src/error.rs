use serde::{Deserialize, Serialize};

/// What kind of refusal a [`DomainError`] is; the HTTP layer maps it to a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A value or a reference in the request is not acceptable (422).
    Invalid,
    /// The object the request is about does not exist (404).
    NotFound,
    /// Another object already has this id or name (409).
    Duplicate,
    /// The object is used by others and cannot be deleted or changed that way (409).
    InUse,
}

/// Why a mutation of the inventory was refused, naming the offending field when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct DomainError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Invalid,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::NotFound,
            message: message.into(),
            field: None,
        }
    }

    pub fn duplicate(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Duplicate,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn in_use(field: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::InUse,
            message: message.into(),
            field: field.map(str::to_owned),
        }
    }
}
