//! Files sent to the server with their progress (docs/DESIGN.md#the-pages-way-to-the-server):
//! an RVTools export goes to `POST /api/v1/imports/rvtools` as a form, through the browser's
//! `XMLHttpRequest` — the one request a page makes outside the server functions, because a
//! `fetch` (what they use) cannot report how much of a 200 MB upload has been sent. The answer
//! and the errors are the same types as theirs.

use crate::rpc::ServerError;

/// Where an upload is: sending (the fraction sent), or waiting while the server reads the
/// file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stage {
    Sending(f64),
    Reading,
}

/// The query of an RVTools import: preview or apply, removing absent objects or not.
pub fn query(apply: bool, remove_absent: bool) -> String {
    format!("apply={apply}&remove_absent={remove_absent}")
}

/// The REST API's error answer (`{"error": {"code", "message", "field"}}`) as a
/// [`ServerError`].
pub fn refusal(status: u16, body: &str) -> ServerError {
    #[derive(serde::Deserialize)]
    struct Answer {
        error: Inner,
    }
    #[derive(serde::Deserialize)]
    struct Inner {
        code: String,
        message: String,
        field: Option<String>,
        #[serde(default)]
        words: Option<Box<domain::Phrase>>,
    }
    match serde_json::from_str::<Answer>(body) {
        Ok(a) => ServerError {
            status,
            code: a.error.code,
            message: a.error.message,
            field: a.error.field,
            words: a.error.words,
        },
        Err(_) => ServerError::new(status, "internal", format!("the server answered {status}")),
    }
}

/// Sends `files` to the RVTools import, reporting each stage to `stage`.
#[cfg(feature = "hydrate")]
pub async fn rvtools(
    files: Vec<web_sys::File>,
    apply: bool,
    remove_absent: bool,
    stage: impl Fn(Stage) + 'static,
) -> Result<domain::ImportReport, ServerError> {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let unreachable =
        |what: &str| ServerError::new(0, "unreachable", format!("the upload failed: {what}"));
    let form = web_sys::FormData::new().map_err(|_| unreachable("no form"))?;
    for f in &files {
        form.append_with_blob_and_filename("files", f, &f.name())
            .map_err(|_| unreachable("a file could not be added"))?;
    }
    let xhr = web_sys::XmlHttpRequest::new().map_err(|_| unreachable("no request"))?;
    xhr.open(
        "POST",
        &format!("/api/v1/imports/rvtools?{}", query(apply, remove_absent)),
    )
    .map_err(|_| unreachable("open"))?;
    let stage = std::rc::Rc::new(stage);
    let on_progress = {
        let stage = stage.clone();
        Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            if e.length_computable() && e.total() > 0.0 {
                let sent = e.loaded() / e.total();
                stage(if sent >= 1.0 {
                    Stage::Reading
                } else {
                    Stage::Sending(sent)
                });
            }
        })
    };
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    let done = js_sys::Promise::new(&mut |resolve, reject| {
        xhr.set_onload(Some(&resolve));
        xhr.set_onerror(Some(&reject));
        xhr.set_onabort(Some(&reject));
    });
    stage(Stage::Sending(0.0));
    xhr.send_with_opt_form_data(Some(&form))
        .map_err(|_| unreachable("send"))?;
    let outcome = wasm_bindgen_futures::JsFuture::from(done).await;
    drop(on_progress);
    outcome.map_err(|_| unreachable("the connection dropped"))?;
    let status = xhr.status().unwrap_or(0);
    let body = xhr.response_text().ok().flatten().unwrap_or_default();
    if !(200..300).contains(&status) {
        return Err(refusal(status, &body));
    }
    serde_json::from_str(&body)
        .map_err(|e| ServerError::new(500, "internal", format!("an unreadable answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rest_apis_refusals_read_as_server_errors() {
        let e = refusal(
            422,
            r#"{"error":{"code":"invalid","message":"file: not an RVTools export","field":"file"}}"#,
        );
        assert_eq!((e.status, e.field.as_deref()), (422, Some("file")));
        assert_eq!(refusal(502, "<html>").code, "internal");
        assert_eq!(query(true, false), "apply=true&remove_absent=false");
    }
}
