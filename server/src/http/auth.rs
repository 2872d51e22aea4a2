//! Who is calling, and whether they may: [`authenticate`] (around every request) finds the
//! user behind the session cookie or API token and runs the request as them (for the audit
//! log); [`require`] (on every route, with the role the route declares: see `routes`) refuses
//! with 401 when nobody is signed in (pages redirect to the sign-in page) and 403 without the
//! role. Pages and server functions are declared by the Leptos app: a page needs a viewer
//! (the sign-in page: nobody); a server function's role is the first segment of its endpoint
//! (`/rpc/operator/migrations/start`), and one without a role is refused to everyone.

use super::error::ApiError;
use super::AppState;
use crate::accounts::{Principal, SESSION_COOKIE};
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use domain::accounts::Role;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// A signed-in user with at least this role.
    Needs(Role),
    /// Nobody: a route that declares no role is refused to everyone (deny by default).
    Undeclared,
}

pub use Access::Public;
pub const VIEWER: Access = Access::Needs(Role::Viewer);
pub const OPERATOR: Access = Access::Needs(Role::Operator);
pub const ADMIN: Access = Access::Needs(Role::Admin);

/// What a page or server function of the Leptos app needs, from its path.
pub fn page_access(path: &str) -> Access {
    if let Some(endpoint) = path.strip_prefix("/rpc/") {
        return match endpoint.split('/').next().and_then(Role::parse) {
            Some(Role::Viewer) => VIEWER,
            Some(Role::Operator) => OPERATOR,
            Some(Role::Admin) => ADMIN,
            None => Access::Undeclared,
        };
    }
    if path == "/signin" {
        Access::Public
    } else {
        VIEWER
    }
}

/// A request's credentials: the session cookie, or `Authorization: Bearer <API token>`.
pub fn credentials(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let session = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned());
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    (session, bearer)
}

fn is_machine_route(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/rpc/") || path == "/ws"
}

/// Whether a path could mean something else once decoded or normalized (dot segments,
/// encoded slashes or dots, backslashes): such paths are refused before the policy runs.
fn ambiguous(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    path.split('/')
        .any(|segment| segment == "." || segment == "..")
        || lower.contains("%2e")
        || lower.contains("%2f")
        || lower.contains("%5c")
        || path.contains('\\')
}

/// Finds who is calling (nobody, a session or an API token) and runs the request as them.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if ambiguous(path) {
        return ApiError::BadPath {
            field: "path".into(),
            message: "the path has dot segments or encoded separators".into(),
        }
        .into_response();
    }
    if public_file(path) {
        // The browser's bundle: a page load asks for dozens of files (a split build's chunks),
        // and none of them depends on who asks.
        return next.run(request).await;
    }
    let (session, bearer) = credentials(request.headers());
    let found = match (&session, &bearer) {
        (_, Some(token)) => state.accounts.from_token(token).await,
        (Some(s), None) => state.accounts.from_session(s).await,
        (None, None) => Ok(None),
    };
    let principal = match found {
        Ok(p) => p,
        Err(e) => return ApiError::Internal(e.to_string()).into_response(),
    };
    // The request runs as its user (for the audit log).
    let actor = principal
        .as_ref()
        .map_or_else(|| "anonymous".to_string(), |p| p.user.username.clone());
    if let Some(p) = principal {
        request.extensions_mut().insert(p.user.clone());
        request.extensions_mut().insert(domain::accounts::Caller {
            user: p.user.clone(),
            with_session: p.session.is_some(),
        });
        request.extensions_mut().insert(p);
    }
    crate::audit::ACTOR.scope(actor, next.run(request)).await
}

/// The static files everyone may fetch: the browser's bundle and the icon.
pub fn public_file(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg"
}

/// Lets the request through only for users with `access` (the route's declared role).
pub async fn require(access: Access, request: Request, next: Next) -> Response {
    match check(access, &request) {
        Ok(()) => next.run(request).await,
        Err(refusal) => *refusal,
    }
}

/// Whether the caller has `access`: the refusal otherwise (401, or a redirect to the sign-in
/// page for pages; 403).
pub fn check(access: Access, request: &Request) -> Result<(), Box<Response>> {
    let role = match access {
        Access::Public => return Ok(()),
        Access::Undeclared => {
            return Err(Box::new(
                ApiError::Forbidden("no role is declared for this route".into()).into_response(),
            ))
        }
        Access::Needs(role) => role,
    };
    // Nested routers see their path without the prefix: judge by the path as sent.
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map_or(request.uri(), |o| &o.0);
    match request.extensions().get::<Principal>() {
        None if !is_machine_route(uri.path()) => {
            let target = uri.path_and_query().map_or("/", |p| p.as_str());
            let next_param = encode_path(target);
            Err(Box::new(
                Redirect::to(&format!("/signin?next={next_param}")).into_response(),
            ))
        }
        None => Err(Box::new(ApiError::Unauthenticated.into_response())),
        Some(p) if !p.user.role.allows(role) => Err(Box::new(
            ApiError::Forbidden(format!(
                "this needs the {} role; {} is {}",
                role.as_str(),
                p.user.username,
                p.user.role.as_str()
            ))
            .into_response(),
        )),
        Some(_) => Ok(()),
    }
}

/// The Leptos app's pages and server functions, each with what it needs (see
/// [`page_access`]).
pub async fn require_page_access(request: Request, next: Next) -> Response {
    let access = page_access(request.uri().path());
    require(access, request, next).await
}

/// A path as a query parameter value: everything but unreserved characters and `/` is
/// percent-encoded.
pub fn encode_path(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ambiguous_paths_are_recognized() {
        for bad in [
            "/pkg/../audit",
            "/pkg/%2e%2e/tasks",
            "/api/v1%2fusers",
            "/a/./b",
            "/x\\y",
        ] {
            assert!(ambiguous(bad), "{bad}");
        }
        for ok in ["/", "/pkg/vmshift.wasm", "/tasks/1.2", "/api/v1/vms"] {
            assert!(!ambiguous(ok), "{ok}");
        }
    }

    #[test]
    fn pages_need_a_viewer_and_server_functions_the_role_in_their_path() {
        for (path, expected) in [
            ("/signin", Access::Public),
            ("/", VIEWER),
            ("/tasks/123", VIEWER),
            ("/rpc/viewer/inventory", VIEWER),
            ("/rpc/operator/migrations/start", OPERATOR),
            ("/rpc/admin/save", ADMIN),
            ("/rpc/save", Access::Undeclared),
            ("/rpc/root/anything", Access::Undeclared),
        ] {
            assert_eq!(page_access(path), expected, "{path}");
        }
    }
}
