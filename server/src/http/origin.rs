//! Cross-site request protection: a browser sends `Origin` with every state-changing request
//! and websocket upgrade; one from another site is refused, so a page the admin happens to
//! visit cannot change (or, through the websocket, read) the inventory. Requests without
//! `Origin` (scripts, curl) are not from a browser page and pass. With `--public-url`, the
//! origin must be exactly that one (a page served under another name that resolves to this
//! server — DNS rebinding — is refused too); otherwise it must match the `Host` header.

use super::error::ApiError;
use super::AppState;
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn same_origin_only(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let guarded = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || request.headers().contains_key(header::UPGRADE);
    if guarded {
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            let allowed = match &state.public_origin {
                Some(public) => origin.eq_ignore_ascii_case(public),
                None => {
                    let host = request
                        .headers()
                        .get(header::HOST)
                        .and_then(|h| h.to_str().ok())
                        .unwrap_or("");
                    let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
                    !origin_host.is_empty() && origin_host.eq_ignore_ascii_case(host)
                }
            };
            if !allowed {
                return ApiError::CrossSite.into_response();
            }
        }
    }
    next.run(request).await
}
