use crate::Phrase;
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
    /// In English, as the REST API has always said it.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The message as a code and values, for the pages (docs/DESIGN.md#languages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<Box<Phrase>>,
}

/// What a refusal says: English text, or a phrase (its English the message).
pub struct Said {
    message: String,
    words: Option<Box<Phrase>>,
}

impl From<String> for Said {
    fn from(message: String) -> Self {
        Said {
            message,
            words: None,
        }
    }
}

impl From<&str> for Said {
    fn from(message: &str) -> Self {
        message.to_string().into()
    }
}

impl From<Phrase> for Said {
    fn from(words: Phrase) -> Self {
        Said {
            message: words.english.clone(),
            words: Some(Box::new(words)),
        }
    }
}

impl DomainError {
    fn said(code: ErrorCode, field: Option<String>, said: impl Into<Said>) -> Self {
        let Said { message, words } = said.into();
        Self {
            code,
            message,
            field,
            words,
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<Said>) -> Self {
        Self::said(ErrorCode::Invalid, Some(field.into()), message)
    }

    pub fn not_found(message: impl Into<Said>) -> Self {
        Self::said(ErrorCode::NotFound, None, message)
    }

    pub fn duplicate(field: impl Into<String>, message: impl Into<Said>) -> Self {
        Self::said(ErrorCode::Duplicate, Some(field.into()), message)
    }

    pub fn in_use(field: Option<&str>, message: impl Into<Said>) -> Self {
        Self::said(ErrorCode::InUse, field.map(str::to_owned), message)
    }

    /// The same refusal reworded in English by `reword` (its phrase, if any, is dropped: it
    /// no longer says the same).
    pub fn reworded(self, field: Option<String>, reword: impl FnOnce(&str) -> String) -> Self {
        Self {
            message: reword(&self.message),
            field,
            words: None,
            code: self.code,
        }
    }
}
