//! Which role each route needs, in one table, and the middleware that enforces it for every
//! REST route, server function, websocket and page: 401 without a user (pages redirect to
//! the sign-in page), 403 without the role. Unknown routes that change something need admin.

use super::Principal;
use crate::api::error::ApiError;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use domain::accounts::Role;

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// A signed-in user with at least this role.
    Needs(Role),
}

/// The role a request needs, from its method and path.
pub fn access(method: &Method, path: &str) -> Access {
    use Access::*;
    let read = matches!(*method, Method::GET | Method::HEAD);
    match path {
        "/healthz"
        | "/favicon.svg"
        | "/signin"
        | "/auth/signin"
        | "/auth/signout"
        | "/api/v1/openapi.json" => return Public,
        "/api/v1/session" if *method == Method::POST => return Public,
        _ if path.starts_with("/pkg/") => return Public,
        _ => {}
    }
    if let Some(rest) = path.strip_prefix("/api/v1") {
        let first = rest.trim_start_matches('/').split('/').next().unwrap_or("");
        return match (first, read) {
            ("users" | "audit" | "audit.csv", _) => Needs(Role::Admin),
            (_, true) => Needs(Role::Viewer),
            ("checks" | "predictions" | "session" | "tokens", false) => Needs(Role::Viewer),
            ("migrations" | "faults", false) => Needs(Role::Operator),
            _ => Needs(Role::Admin),
        };
    }
    if let Some(endpoint) = path.strip_prefix("/rpc/") {
        return match endpoint {
            "inventory" | "whoami" | "migrations/events" | "migrations/get" => Needs(Role::Viewer),
            "migrations/start" | "migrations/cancel" | "faults/add" | "faults/clear" => {
                Needs(Role::Operator)
            }
            _ => Needs(Role::Admin),
        };
    }
    if read {
        // The websocket and the pages.
        Needs(Role::Viewer)
    } else {
        Needs(Role::Admin)
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
        .find(|(name, _)| *name == super::SESSION_COOKIE)
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

pub async fn authorize(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if ambiguous(&path) {
        return ApiError::BadPath {
            field: "path".into(),
            message: "the path has dot segments or encoded separators".into(),
        }
        .into_response();
    }
    let needed = access(request.method(), &path);
    let (session, bearer) = credentials(request.headers());
    let principal: Option<Principal> = {
        let found = match (&session, &bearer) {
            (_, Some(token)) => state.accounts.from_token(token).await,
            (Some(s), None) => state.accounts.from_session(s).await,
            (None, None) => Ok(None),
        };
        match found {
            Ok(p) => p,
            Err(e) => return ApiError::Internal(e.to_string()).into_response(),
        }
    };
    if let Some(p) = &principal {
        request.extensions_mut().insert(p.clone());
        request.extensions_mut().insert(p.user.clone());
    }
    // The request runs as its user (for the audit log).
    let actor = principal
        .as_ref()
        .map_or_else(|| "anonymous".to_string(), |p| p.user.username.clone());
    let run = |request| crate::audit::ACTOR.scope(actor, next.run(request));
    match (needed, &principal) {
        (Access::Public, _) => run(request).await,
        (Access::Needs(_), None) if !is_machine_route(&path) => {
            let target = request
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            let next_param = super::encode_path(&target);
            Redirect::to(&format!("/signin?next={next_param}")).into_response()
        }
        (Access::Needs(_), None) => ApiError::Unauthenticated.into_response(),
        (Access::Needs(role), Some(p)) if !p.user.role.allows(role) => {
            ApiError::Forbidden(format!(
                "this needs the {} role; {} is {}",
                role.as_str(),
                p.user.username,
                p.user.role.as_str()
            ))
            .into_response()
        }
        (Access::Needs(_), Some(_)) => run(request).await,
    }
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
    fn the_policy_table() {
        use Access::*;
        let get = Method::GET;
        let post = Method::POST;
        for (method, path, expected) in [
            (&get, "/healthz", Public),
            (&get, "/signin", Public),
            (&get, "/pkg/vmshift.wasm", Public),
            (&post, "/api/v1/session", Public),
            (&get, "/", Needs(Role::Viewer)),
            (&get, "/tasks/123", Needs(Role::Viewer)),
            (&get, "/ws", Needs(Role::Viewer)),
            (&get, "/api/v1/vms", Needs(Role::Viewer)),
            (&post, "/api/v1/checks", Needs(Role::Viewer)),
            (&post, "/api/v1/migrations", Needs(Role::Operator)),
            (&post, "/api/v1/migrations/x/cancel", Needs(Role::Operator)),
            (&Method::DELETE, "/api/v1/faults/x", Needs(Role::Operator)),
            (&post, "/api/v1/vms", Needs(Role::Admin)),
            (&Method::PUT, "/api/v1/hosts/x", Needs(Role::Admin)),
            (&post, "/api/v1/inventory", Needs(Role::Admin)),
            (&get, "/api/v1/users", Needs(Role::Admin)),
            (&get, "/api/v1/audit", Needs(Role::Admin)),
            (&get, "/api/v1/audit.csv", Needs(Role::Admin)),
            (&post, "/rpc/inventory", Needs(Role::Viewer)),
            (&post, "/rpc/migrations/start", Needs(Role::Operator)),
            (&post, "/rpc/save", Needs(Role::Admin)),
            (&post, "/rpc/something-new", Needs(Role::Admin)),
            (&post, "/anything-else", Needs(Role::Admin)),
        ] {
            assert_eq!(access(method, path), expected, "{method} {path}");
        }
    }
}
