//! The browser calling the REST API (same origin, signed in by the session cookie) — the
//! account and audit pages use the same operations as scripts do.

use serde_json::Value;

/// Calls `method path` with an optional JSON body; the answer's JSON (`null` for 204), or the
/// API's error message.
#[cfg(feature = "hydrate")]
pub async fn call(method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{Request, RequestInit, Response};

    let init = RequestInit::new();
    init.set_method(method);
    if let Some(b) = body {
        init.set_body(&wasm_bindgen::JsValue::from_str(&b.to_string()));
    }
    let request = Request::new_with_str_and_init(path, &init).map_err(|e| format!("{e:?}"))?;
    if body.is_some() {
        request
            .headers()
            .set("content-type", "application/json")
            .map_err(|e| format!("{e:?}"))?;
    }
    let window = leptos::prelude::window();
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| "the server cannot be reached".to_string())?
        .dyn_into()
        .map_err(|_| "not a response".to_string())?;
    let status = response.status();
    let text = match response.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let json: Value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    if (200..300).contains(&status) {
        Ok(json)
    } else {
        Err(json["error"]["message"]
            .as_str()
            .map_or_else(|| format!("the server answered {status}"), str::to_owned))
    }
}

/// On the server, pages do not call the API over HTTP.
#[cfg(not(feature = "hydrate"))]
pub async fn call(_method: &str, _path: &str, _body: Option<&Value>) -> Result<Value, String> {
    Err("only in the browser".into())
}
