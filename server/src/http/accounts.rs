//! Sign-in and sign-out (a JSON API for scripts, plain HTML forms for the sign-in page), the
//! signed-in user's API tokens, and user management for admins.

use super::auth::encode_path;
use super::error::ApiError;
use super::json::JsonBody;
use super::path::Id;
use super::routes::{delete, get, post, put, Public, Routes, ADMIN, VIEWER};
use super::AppState;
use crate::accounts::{AuthError, Principal, SESSION_COOKIE, SESSION_TTL};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use domain::accounts::TokenInfo;
use domain::accounts::{CurrentUser, Role};
use serde::Deserialize;
use serde_json::json;
use std::net::{IpAddr, SocketAddr};

/// The session cookie: HttpOnly, SameSite=Strict, Secure when the site is served over https
/// (the configured public URL says so, or the proxy's `X-Forwarded-Proto`).
fn session_cookie(state: &AppState, headers: &HeaderMap, value: &str, max_age: u64) -> HeaderValue {
    let https = state
        .public_origin
        .as_deref()
        .is_some_and(|o| o.starts_with("https://"))
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("cookie text is ASCII")
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy (`--trusted-proxy`),
/// in which case the nearest address in `X-Forwarded-For` that is not a trusted proxy itself.
pub fn client_address(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    let trusted = |ip: IpAddr| state.trusted_proxies.iter().any(|net| net.contains(ip));
    let mut client = peer.ip();
    if !trusted(client) {
        return client;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.into_iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // An unreadable hop: stop at the last one vouched for.
            break;
        };
        client = ip;
        if !trusted(ip) {
            break;
        }
    }
    client
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    username: String,
    password: String,
}

/// `POST /api/v1/session`: signs in, sets the session cookie.
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let c: Credentials = body.parse()?;
    let client = client_address(&state, address, &headers);
    let (token, user) = state
        .accounts
        .sign_in(&c.username, &c.password, client)
        .await?;
    let mut response = Json(user).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&state, &headers, &token, SESSION_TTL.as_secs()),
    );
    Ok(response)
}

/// `GET /api/v1/session`: who is signed in.
pub async fn current(Extension(user): Extension<CurrentUser>) -> Json<CurrentUser> {
    Json(user)
}

/// `DELETE /api/v1/session`: signs out (the session stops working everywhere).
pub async fn sign_out(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(session) = &principal.session {
        state.accounts.sign_out(session).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, &headers, "", 0));
    Ok(response)
}

#[derive(Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Only local paths: a sign-in link cannot send the user to another site. The path must
/// start with one `/`, and hold nothing but URL-safe characters (no tab, backslash or
/// anything a browser would strip or reinterpret).
pub fn local_target(next: &str) -> &str {
    let safe = next.len() <= 2048
        && next.starts_with('/')
        && !next.starts_with("//")
        && next.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'/' | b'_' | b'-' | b'.' | b'?' | b'=' | b'&' | b'%' | b'~'
                )
        });
    if safe {
        next
    } else {
        "/"
    }
}

/// `POST /auth/signin` (the sign-in page's form): on success, back where the user was going.
pub async fn form_sign_in(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let client = client_address(&state, address, &headers);
    match state
        .accounts
        .sign_in(&form.username, &form.password, client)
        .await
    {
        Ok((token, _)) => {
            let mut response = Redirect::to(local_target(&form.next)).into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&state, &headers, &token, SESSION_TTL.as_secs()),
            );
            response
        }
        Err(e) => {
            let reason = match e {
                AuthError::RateLimited(_) => "throttled",
                AuthError::Storage(s) => {
                    tracing::error!(error = %s, "sign-in failed");
                    "error"
                }
                _ => "credentials",
            };
            let next = encode_path(&form.next);
            Redirect::to(&format!("/signin?error={reason}&next={next}")).into_response()
        }
    }
}

/// `POST /auth/signout` (the header's button).
pub async fn form_sign_out(
    State(state): State<AppState>,
    principal: Option<Extension<Principal>>,
    headers: HeaderMap,
) -> Response {
    if let Some(session) = principal.and_then(|Extension(p)| p.session) {
        if let Err(e) = state.accounts.sign_out(&session).await {
            tracing::error!(error = %e, "sign-out failed");
        }
    }
    let mut response = Redirect::to("/signin").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, &headers, "", 0));
    response
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
}

/// `POST /api/v1/tokens`: a new API token for the signed-in user; the secret is shown once.
pub async fn create_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    body: JsonBody,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    // A token cannot mint tokens: a leaked one must not outlive its revocation.
    if principal.session.is_none() {
        return Err(ApiError::TokenMintsToken);
    }
    let user = principal.user;
    let t: NewToken = body.parse()?;
    let (secret, info) = state.accounts.create_token(&user, &t.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "token": secret, "id": info.id, "name": info.name,
                     "created_at_ms": info.created_at_ms, "revoked": false })),
    ))
}

pub async fn list_tokens(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    Ok(Json(state.accounts.tokens(&user).await?))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    state.accounts.revoke_token(&user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    username: String,
    password: String,
    role: Role,
}

pub async fn list_users(State(state): State<AppState>) -> Result<Json<Vec<CurrentUser>>, ApiError> {
    Ok(Json(state.accounts.users().await?))
}

/// `POST /api/v1/users` (admin).
pub async fn create_user(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<(StatusCode, Json<CurrentUser>), ApiError> {
    let u: NewUser = body.parse()?;
    let user = state
        .accounts
        .create_user(&u.username, &u.password, u.role)
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    role: Role,
}

/// `PUT /api/v1/users/{id}/role` (admin).
pub async fn set_role(
    State(state): State<AppState>,
    Id(id): Id,
    body: JsonBody,
) -> Result<Json<CurrentUser>, ApiError> {
    let change: RoleChange = body.parse()?;
    Ok(Json(state.accounts.set_role(id, change.role).await?))
}

/// Under `/api/v1`: the session, tokens and users.
pub fn api_routes() -> Routes {
    Routes::new()
        .route(
            "/session",
            get(VIEWER, current)
                .post(Public, sign_in)
                .delete(VIEWER, sign_out),
        )
        .route(
            "/tokens",
            get(VIEWER, list_tokens).post(VIEWER, create_token),
        )
        .route("/tokens/{id}", delete(VIEWER, revoke_token))
        .route("/users", get(ADMIN, list_users).post(ADMIN, create_user))
        .route("/users/{id}/role", put(ADMIN, set_role))
}

/// The sign-in page's forms.
pub fn form_routes() -> Routes {
    Routes::new()
        .route("/auth/signin", post(Public, form_sign_in))
        .route("/auth/signout", post(Public, form_sign_out))
}

#[cfg(test)]
mod tests {
    use super::local_target;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        for ok in ["/", "/tasks", "/tasks/3f1c?x=1&y=%20", "/inventory/vms"] {
            assert_eq!(local_target(ok), ok);
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "evil",
            "/\n/evil",
            "",
        ] {
            assert_eq!(local_target(bad), "/", "{bad:?}");
        }
    }
}
