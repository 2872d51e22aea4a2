//! vCenter's maximum through the API (docs/PERFORMANCE.md, "Issue 16"): a generated
//! inventory of 50 clusters, 2,500 hosts and 45,000 VMs.

mod common;

use common::TestServer;
use server::live::DEFAULT_LIVE_BUFFER;

/// 50 clusters × 50 hosts × 18 VMs: vCenter's maximum of 2,500 hosts and 45,000 VMs.
fn vcenter_maximum() -> domain::Inventory {
    domain::generate::scale_inventory(50, 50, 18)
}

#[tokio::test]
async fn the_export_of_vcenters_maximum_re_imports_in_one_request() {
    let source =
        TestServer::start_seeded(false, DEFAULT_LIVE_BUFFER, Some(vcenter_maximum())).await;
    let exported = source
        .client
        .get(source.url("/api/v1/inventory"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Larger than the router's limit for other requests: the import route has its own.
    assert!(
        exported.len() > server::http::BODY_LIMIT_BYTES,
        "{} bytes",
        exported.len()
    );

    let target = TestServer::start(false).await;
    let res = target
        .client
        .post(target.url("/api/v1/inventory"))
        .header("content-type", "application/json")
        .body(exported.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let summary: serde_json::Value = res.json().await.unwrap();
    assert_eq!(summary["created"], 50 + 2_500 + 50 + 50 + 50 + 45_000);
    assert_eq!(summary["updated"], 0);

    let again = target
        .client
        .get(target.url("/api/v1/inventory"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(again == exported, "the re-imported inventory differs");
}

#[tokio::test]
async fn an_import_past_the_upload_limit_or_not_json_is_refused_and_changes_nothing() {
    let s = TestServer::start(true).await;
    let before = s.export().await;
    let res = s
        .client
        .post(s.url("/api/v1/inventory"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 415);
    // A syntax error is a 400, the wrong shape a 422 naming the field.
    let res = s
        .client
        .post(s.url("/api/v1/inventory"))
        .header("content-type", "application/json")
        .body(r#"{"vms": [}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let res = s
        .client
        .post(s.url("/api/v1/inventory"))
        .header("content-type", "application/json")
        .body(r#"{"hosts": [{"name": "x", "cores": "many"}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "hosts[0].cores", "{body}");
    // Trailing garbage after the document is a syntax error too.
    let res = s
        .client
        .post(s.url("/api/v1/inventory"))
        .header("content-type", "application/json")
        .body(r#"{} {}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    // Past the upload limit: refused as soon as it is passed.
    let limit = server::http::imports::UPLOAD_LIMIT_BYTES;
    let res = s
        .client
        .post(s.url("/api/v1/inventory"))
        .header("content-type", "application/json")
        .body(vec![b' '; limit + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    assert_eq!(s.export().await, before);
}
