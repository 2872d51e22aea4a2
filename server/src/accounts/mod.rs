//! Accounts: users with a role, password sign-in (argon2), sessions behind an HttpOnly cookie,
//! API tokens for scripts. The one place where accounts change (the role each route needs is
//! declared with the route: `http::routes`).

mod secrets;
mod throttle;

use crate::audit;
use crate::db::{Db, DbError};
use domain::accounts::{check_password, parse_username, CurrentUser, Role, TokenInfo};
use domain::DomainError;
use secrets::{digest, dummy_hash, hash_password, random_secret, verify_password};
use sqlx::Row;
use std::net::IpAddr;
use std::time::Duration;
use throttle::Key;
use uuid::Uuid;

/// The session cookie.
pub const SESSION_COOKIE: &str = "vmshift_session";
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Failed sign-ins allowed per account, and per address, within [`FAILURE_WINDOW`].
pub const MAX_FAILURES_PER_ACCOUNT: u32 = 5;
pub const MAX_FAILURES_PER_ADDRESS: u32 = 20;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Prefix of API tokens (recognizable in a script, or in a leaked file).
pub const TOKEN_PREFIX: &str = "vms_";

/// Who is making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: CurrentUser,
    /// The session token when signed in through the browser (for sign-out).
    pub session: Option<String>,
    /// The API token when a script calls.
    pub token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many failed sign-ins; try again in {0} s")]
    RateLimited(u64),
    #[error(transparent)]
    Refused(#[from] DomainError),
    #[error(transparent)]
    Storage(#[from] DbError),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        AuthError::Storage(DbError::from(e))
    }
}

pub struct AccountService {
    db: Db,
    /// Password hashes computed at once (argon2 is deliberately costly).
    hashing: tokio::sync::Semaphore,
    /// Bumped when credentials are withdrawn (sign-out, revocation, role change): open
    /// websockets check theirs again.
    revoked: tokio::sync::watch::Sender<u64>,
    /// This replica's name: withdrawals are announced to the other replicas.
    replica: String,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn user_of(row: &sqlx::any::AnyRow) -> Result<CurrentUser, DbError> {
    let id: String = row.try_get("id")?;
    let role: String = row.try_get("role")?;
    let language: Option<String> = row.try_get("language")?;
    Ok(CurrentUser {
        id: Uuid::parse_str(&id).map_err(|_| DbError::Corrupt(format!("user id {id:?}")))?,
        username: row.try_get("username")?,
        role: Role::parse(&role).ok_or_else(|| DbError::Corrupt(format!("role {role:?}")))?,
        language: language.as_deref().and_then(domain::Lang::parse),
    })
}

impl AccountService {
    /// Opens the accounts. With no user at all, creates `admin` with `admin_password`, or
    /// with a random password printed once in the log.
    pub async fn start(
        db: Db,
        replica: String,
        admin_password: Option<String>,
    ) -> Result<Self, AuthError> {
        let service = AccountService {
            db,
            hashing: tokio::sync::Semaphore::new(2),
            revoked: tokio::sync::watch::channel(0).0,
            replica,
        };
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&service.db)
            .await?;
        if users == 0 {
            let (password, generated) = match admin_password {
                Some(p) => (p, false),
                None => (random_secret()[..20].to_string(), true),
            };
            match service.create_user("admin", &password, Role::Admin).await {
                Ok(_) => {}
                // Another replica starting at the same time created it.
                Err(AuthError::Refused(d)) if d.code == domain::ErrorCode::Duplicate => {
                    return Ok(service)
                }
                Err(e) => return Err(e),
            }
            if generated {
                // Printed once, on purpose: the only way to learn it.
                tracing::warn!(
                    "first start: created user `admin` with password {password} — sign in and keep it safe (or start with --admin-password)"
                );
            } else {
                tracing::info!("first start: created user `admin` with the given password");
            }
        }
        Ok(service)
    }

    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<CurrentUser, AuthError> {
        let username = parse_username(username)?;
        check_password(password)?;
        let user = CurrentUser {
            id: Uuid::new_v4(),
            username,
            role,
            language: None,
        };
        let hash = {
            let _slot = self
                .hashing
                .acquire()
                .await
                .expect("the semaphore is never closed");
            let password = password.to_owned();
            tokio::task::spawn_blocking(move || hash_password(&password))
                .await
                .map_err(|e| DbError::Corrupt(format!("hashing task: {e}")))?
        };
        let result = sqlx::query(
            "INSERT INTO users (id, username, password_hash, role, created_at_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user.id.to_string())
        .bind(&user.username)
        .bind(hash)
        .bind(role.as_str())
        .bind(now_ms())
        .execute(&self.db)
        .await;
        match result {
            Ok(_) => {
                let entry = audit::Record {
                    action: "user.create",
                    object_kind: Some("user".into()),
                    object_id: Some(user.id.to_string()),
                    words: domain::Phrase::new(
                        "audit.user_created",
                        &[("user", user.username.clone())],
                    )
                    .with("role", role_words(role)),
                    before: None,
                    after: serde_json::to_value(&user).ok(),
                };
                audit::record(&self.db, &audit::current_actor(), entry).await;
                Ok(user)
            }
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(
                DomainError::duplicate("username", format!("username: {} is taken", user.username))
                    .into(),
            ),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn users(&self) -> Result<Vec<CurrentUser>, AuthError> {
        let rows = sqlx::query("SELECT id, username, role, language FROM users ORDER BY username")
            .fetch_all(&self.db)
            .await?;
        Ok(rows.iter().map(user_of).collect::<Result<_, _>>()?)
    }

    /// Changes a user's role; the last admin cannot lose the role.
    pub async fn set_role(&self, id: Uuid, role: Role) -> Result<CurrentUser, AuthError> {
        let mut tx = self.db.begin().await?;
        // A write first: it takes SQLite's write lock at once. A transaction that reads first
        // cannot turn into a writer once another connection has written meanwhile (SQLite
        // answers "database is locked" at once, whatever the busy timeout): that was a 500.
        sqlx::query("UPDATE users SET role = role WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query("SELECT id, username, role, language FROM users WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("no user has id {id}")))?;
        let mut user = user_of(&row)?;
        if user.role == Role::Admin && role != Role::Admin {
            let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'")
                .fetch_one(&mut *tx)
                .await?;
            if admins <= 1 {
                return Err(DomainError::in_use(
                    Some("role"),
                    "role: the last admin keeps the admin role",
                )
                .into());
            }
        }
        sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
            .bind(role.as_str())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.withdrawn();
        let before = serde_json::to_value(&user).ok();
        let old = user.role;
        user.role = role;
        let entry = audit::Record {
            action: "user.role",
            object_kind: Some("user".into()),
            object_id: Some(user.id.to_string()),
            words: domain::Phrase::new("audit.role_changed", &[("user", user.username.clone())])
                .with("from", role_words(old))
                .with("to", role_words(role)),
            before,
            after: serde_json::to_value(&user).ok(),
        };
        audit::record(&self.db, &audit::current_actor(), entry).await;
        Ok(user)
    }

    /// Keeps the language `user` chose for the pages (docs/DESIGN.md#languages). A personal
    /// preference: not audited, and no session is withdrawn for it.
    pub async fn set_language(
        &self,
        user: &CurrentUser,
        lang: domain::Lang,
    ) -> Result<(), AuthError> {
        sqlx::query("UPDATE users SET language = $1 WHERE id = $2")
            .bind(lang.code())
            .bind(user.id.to_string())
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// Checks a password (rate-limited per account and per address); opens a session.
    ///
    /// The attempt counts against both limits before anything is checked (and is taken back
    /// on success), so parallel guesses cannot slip past the limit; malformed names never
    /// reach the database, the logs or the audit log; the hashing runs off the async workers,
    /// a few at a time; an unknown name costs the same single hash check as a known one.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        address: IpAddr,
    ) -> Result<(String, CurrentUser), AuthError> {
        // The same rule as at creation: characters, not bytes (domain::accounts::check_password).
        if parse_username(username).is_err() || password.chars().count() > 1024 {
            return Err(AuthError::BadCredentials);
        }
        let now = now_ms();
        let (by_account, by_address) = (Key::Account(username), Key::Address(address));
        if let Some(wait) =
            throttle::count(&self.db, &by_address, MAX_FAILURES_PER_ADDRESS, now).await?
        {
            return Err(AuthError::RateLimited(wait));
        }
        if let Some(wait) =
            throttle::count(&self.db, &by_account, MAX_FAILURES_PER_ACCOUNT, now).await?
        {
            // Refused: the address's count goes back to what it was.
            throttle::uncount(&self.db, &by_address).await?;
            return Err(AuthError::RateLimited(wait));
        }
        let row = sqlx::query(
            "SELECT id, username, role, language, password_hash FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.db)
        .await?;
        let (stored, found) = match &row {
            Some(row) => (row.try_get::<String, _>("password_hash")?, true),
            None => (dummy_hash().to_owned(), false),
        };
        let matches = {
            let _slot = self
                .hashing
                .acquire()
                .await
                .expect("the semaphore is never closed");
            let password = password.to_owned();
            tokio::task::spawn_blocking(move || verify_password(&password, &stored))
                .await
                .unwrap_or(false)
        };
        let user = match row {
            Some(row) if found && matches => Some(user_of(&row)?),
            _ => None,
        };
        let Some(user) = user else {
            tracing::warn!(%username, %address, "failed sign-in");
            let entry = audit::Record {
                action: "session.sign_in_failed",
                words: domain::Phrase::new(
                    "audit.sign_in_failed",
                    &[
                        ("user", username.to_string()),
                        ("address", address.to_string()),
                    ],
                ),
                ..Default::default()
            };
            audit::record(&self.db, "anonymous", entry).await;
            return Err(AuthError::BadCredentials);
        };
        // Success: this attempt does not count, and the account's failures are forgiven.
        throttle::succeeded(&self.db, username, address, now).await?;
        let token = random_secret();
        let created = now_ms();
        // Expired sessions are of no use: forget them as new ones open.
        sqlx::query("DELETE FROM sessions WHERE expires_at_ms <= $1")
            .bind(created)
            .execute(&self.db)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(digest(&token))
        .bind(user.id.to_string())
        .bind(created)
        .bind(created + SESSION_TTL.as_millis() as i64)
        .execute(&self.db)
        .await?;
        tracing::info!(username = %user.username, "signed in");
        let entry = audit::Record {
            action: "session.sign_in",
            object_kind: Some("user".into()),
            object_id: Some(user.id.to_string()),
            words: domain::Phrase::new("audit.signed_in", &[("address", address.to_string())]),
            ..Default::default()
        };
        audit::record(&self.db, &user.username, entry).await;
        Ok((token, user))
    }

    pub async fn sign_out(&self, session: &str) -> Result<(), AuthError> {
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(digest(session))
            .execute(&self.db)
            .await?;
        if done.rows_affected() > 0 {
            self.withdrawn();
            let entry = audit::Record {
                action: "session.sign_out",
                words: domain::Phrase::new("audit.signed_out", &[]),
                ..Default::default()
            };
            audit::record(&self.db, &audit::current_actor(), entry).await;
        }
        Ok(())
    }

    /// Notified whenever credentials are withdrawn.
    pub fn revocations(&self) -> tokio::sync::watch::Receiver<u64> {
        self.revoked.subscribe()
    }

    fn withdrawn(&self) {
        self.withdrawn_elsewhere();
        // The other replicas' websockets check theirs too (their HTTP requests read the
        // database anyway).
        let notice = crate::db::Notice::Credentials {
            from: self.replica.clone(),
        };
        let db = self.db.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::db::notify_now(&db, &notice).await {
                tracing::warn!(error = %e, "could not tell the other replicas of a withdrawal");
            }
        });
    }

    /// Credentials were withdrawn (here or on another replica): open websockets check theirs.
    pub fn withdrawn_elsewhere(&self) {
        self.revoked.send_modify(|n| *n += 1);
    }

    /// The same principal, as of now (`None` once its session or token is gone).
    pub async fn recheck(&self, p: &Principal) -> Result<Option<Principal>, AuthError> {
        match (&p.session, &p.token) {
            (Some(s), _) => self.from_session(s).await,
            (None, Some(t)) => self.from_token(t).await,
            (None, None) => Ok(None),
        }
    }

    /// The user behind a session cookie, if it is valid.
    pub async fn from_session(&self, session: &str) -> Result<Option<Principal>, AuthError> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.role, u.language FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at_ms > $2",
        )
        .bind(digest(session))
        .bind(now_ms())
        .fetch_optional(&self.db)
        .await?;
        Ok(row.map(|r| user_of(&r)).transpose()?.map(|user| Principal {
            user,
            session: Some(session.to_owned()),
            token: None,
        }))
    }

    /// The user behind an API token, if it is valid and not revoked.
    pub async fn from_token(&self, token: &str) -> Result<Option<Principal>, AuthError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT u.id, u.username, u.role, u.language FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.revoked_at_ms IS NULL",
        )
        .bind(digest(token))
        .fetch_optional(&self.db)
        .await?;
        Ok(row.map(|r| user_of(&r)).transpose()?.map(|user| Principal {
            user,
            session: None,
            token: Some(token.to_owned()),
        }))
    }

    /// Creates an API token for `user`; the secret is returned once and stored hashed.
    pub async fn create_token(
        &self,
        user: &CurrentUser,
        name: &str,
    ) -> Result<(String, TokenInfo), AuthError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(DomainError::invalid("name", "name: 1 to 80 characters").into());
        }
        let secret = format!("{TOKEN_PREFIX}{}", random_secret());
        let info = TokenInfo {
            id: Uuid::new_v4(),
            name: name.to_owned(),
            created_at_ms: now_ms(),
            revoked: false,
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(info.id.to_string())
        .bind(user.id.to_string())
        .bind(&info.name)
        .bind(digest(&secret))
        .bind(info.created_at_ms)
        .execute(&self.db)
        .await?;
        let entry = audit::Record {
            action: "token.create",
            object_kind: Some("token".into()),
            object_id: Some(info.id.to_string()),
            words: domain::Phrase::new("audit.token_created", &[("token", info.name.clone())]),
            before: None,
            after: serde_json::to_value(&info).ok(),
        };
        audit::record(&self.db, &user.username, entry).await;
        Ok((secret, info))
    }

    pub async fn tokens(&self, user: &CurrentUser) -> Result<Vec<TokenInfo>, AuthError> {
        let rows = sqlx::query(
            "SELECT id, name, created_at_ms, revoked_at_ms FROM api_tokens WHERE user_id = $1 ORDER BY created_at_ms",
        )
        .bind(user.id.to_string())
        .fetch_all(&self.db)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let revoked: Option<i64> = r.try_get("revoked_at_ms")?;
                Ok(TokenInfo {
                    id: Uuid::parse_str(&id)
                        .map_err(|_| DbError::Corrupt(format!("token id {id:?}")))?,
                    name: r.try_get("name")?,
                    created_at_ms: r.try_get("created_at_ms")?,
                    revoked: revoked.is_some(),
                })
            })
            .collect()
    }

    /// Revokes one of `user`'s tokens.
    pub async fn revoke_token(&self, user: &CurrentUser, id: Uuid) -> Result<(), AuthError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at_ms = $1 WHERE id = $2 AND user_id = $3 AND revoked_at_ms IS NULL",
        )
        .bind(now_ms())
        .bind(id.to_string())
        .bind(user.id.to_string())
        .execute(&self.db)
        .await?;
        if done.rows_affected() == 0 {
            return Err(
                DomainError::not_found(format!("no active token of yours has id {id}")).into(),
            );
        }
        self.withdrawn();
        let entry = audit::Record {
            action: "token.revoke",
            object_kind: Some("token".into()),
            object_id: Some(id.to_string()),
            words: domain::Phrase::new("audit.token_revoked", &[]),
            ..Default::default()
        };
        audit::record(&self.db, &user.username, entry).await;
        Ok(())
    }
}

/// A role as a name the pages translate.
fn role_words(role: Role) -> domain::Phrase {
    domain::Phrase::name("role", role.as_str(), role.as_str())
}
