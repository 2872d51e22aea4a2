//! Cross-site request protection: a browser sends `Origin` with every state-changing request
//! and websocket upgrade; one from another site is refused, so a page the admin happens to
//! visit cannot change (or, through the websocket, read) the inventory. Requests without
//! `Origin` (scripts, curl) are not from a browser page and pass.

use crate::api::error::ApiError;
use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn same_origin_only(request: Request, next: Next) -> Response {
    let guarded = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || request.headers().contains_key(header::UPGRADE);
    if guarded {
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let host = request
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("");
            let origin_host = origin
                .to_str()
                .ok()
                .and_then(|o| o.split_once("://").map(|(_, rest)| rest))
                .unwrap_or("");
            if origin_host.is_empty() || !origin_host.eq_ignore_ascii_case(host) {
                return ApiError::CrossSite.into_response();
            }
        }
    }
    next.run(request).await
}
