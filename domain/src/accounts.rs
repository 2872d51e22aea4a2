//! Who may do what (issue "Teams"): roles, the signed-in user, and the rules a username and a
//! password must follow.

use super::DomainError;
use serde::{Deserialize, Serialize};

/// What a user may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees everything, live.
    Viewer,
    /// Also starts and cancels migrations and injects faults.
    Operator,
    /// Also edits the inventory and manages users.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role includes `needed`.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

/// The signed-in user, as the pages see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: uuid::Uuid,
    pub username: String,
    pub role: Role,
    /// The language the user chose for the pages; `None`: the browser's (docs/DESIGN.md#languages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<crate::Lang>,
}

/// Who is calling, as the server found them: the user, and whether through a browser session
/// (an API token cannot create tokens: a leaked one must not outlive its revocation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: CurrentUser,
    pub with_session: bool,
}

/// An API token as listed (the secret itself is shown once, at creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: uuid::Uuid,
    pub name: String,
    pub created_at_ms: i64,
    pub revoked: bool,
}

/// A token just created: its secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub token: String,
    #[serde(flatten)]
    pub info: TokenInfo,
}

/// Minimum password length.
pub const MIN_PASSWORD: usize = 10;

/// A username: 1–64 characters, lowercase letters, digits, `.`, `_`, `-`.
pub fn parse_username(raw: &str) -> Result<String, DomainError> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(DomainError::invalid(
            "username",
            crate::Phrase::new("refuse.username", &[]),
        ))
    }
}

/// A new password: at least [`MIN_PASSWORD`] characters, at most 1,024.
pub fn check_password(raw: &str) -> Result<(), DomainError> {
    let n = raw.chars().count();
    if (MIN_PASSWORD..=1024).contains(&n) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "password",
            crate::Phrase::new("refuse.password", &[("min", MIN_PASSWORD.to_string())]),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_ones_below_and_names_and_passwords_are_checked() {
        assert!(Role::Admin.allows(Role::Operator));
        assert!(Role::Operator.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Operator));
        assert!(!Role::Operator.allows(Role::Admin));
        assert_eq!(Role::parse("operator"), Some(Role::Operator));
        assert_eq!(Role::parse("root"), None);
        assert!(parse_username("ops.team-1").is_ok());
        for bad in ["", "Admin", "a b", &"x".repeat(65)] {
            assert_eq!(
                parse_username(bad).unwrap_err().field.as_deref(),
                Some("username")
            );
        }
        assert!(check_password("correct horse").is_ok());
        assert_eq!(
            check_password("short").unwrap_err().field.as_deref(),
            Some("password")
        );
    }
}
