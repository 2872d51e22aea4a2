//! `POST /api/v1/imports/rvtools`: the real anonymised RVTools workbook previewed (nothing
//! written), applied (201, every VM on the map, audited), applied again (nothing created);
//! CSV files as a form; bad files refused with 4xx and nothing written; admins only; the
//! RVTools-layout export read back to the same inventory; objects absent from a file removed
//! on request.

mod common;

use common::TestServer;
use serde_json::Value;

const SAMPLE: &[u8] = include_bytes!("../../rvtools/tests/data/SizingWorkshop-RVTools.xlsx");
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn upload(s: &TestServer, apply: bool, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    upload_with(s, &format!("apply={apply}"), content_type, body).await
}

async fn upload_with(
    s: &TestServer,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let r = s
        .client
        .post(s.url(&format!("/api/v1/imports/rvtools?{query}")))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn count(s: &TestServer, collection: &str) -> usize {
    let (st, body) = s.get(&format!("/api/v1/{collection}")).await;
    assert_eq!(st, 200);
    body.as_array()
        .map_or_else(|| body["items"].as_array().unwrap().len(), Vec::len)
}

#[tokio::test]
async fn the_real_export_is_previewed_then_applied_once() {
    let s = TestServer::start(false).await;
    let (st, preview) = upload(&s, false, XLSX, SAMPLE.to_vec()).await;
    assert_eq!(st, 200, "{preview}");
    assert_eq!(preview["applied"], false);
    assert_eq!(preview["counts"]["vms"]["create"], 795);
    assert_eq!(preview["templates_skipped"], 10);
    assert!(preview["guesses"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["what"].as_str().unwrap().starts_with("datastores")));
    let w = &preview["warnings"][0];
    assert!(
        w["tab"].is_string() && w["row"].is_u64() && w["column"].is_string(),
        "{w}"
    );
    assert_eq!(count(&s, "vms").await, 0, "a preview writes nothing");

    let (st, applied) = upload(&s, true, XLSX, SAMPLE.to_vec()).await;
    assert_eq!(st, 201, "{applied}");
    assert_eq!(count(&s, "vms").await, 795);
    assert_eq!(count(&s, "clusters").await, 4);
    let (st, audit) = s.get("/api/v1/audit?action=inventory.import").await;
    assert_eq!(st, 200, "{audit}");
    let entries = audit.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["actor"], "admin");
    assert!(
        entries[0]["summary"].as_str().unwrap().contains(" created"),
        "{audit}"
    );

    // The same export again: every object updated, none created.
    let (st, again) = upload(&s, true, XLSX, SAMPLE.to_vec()).await;
    assert_eq!(st, 201, "{again}");
    assert_eq!(again["counts"]["vms"]["create"], 0);
    assert_eq!(again["counts"]["vms"]["update"], 795);
    assert_eq!(count(&s, "vms").await, 795);
    s.stop().await;
}

#[tokio::test]
async fn csv_files_come_as_a_form_and_bad_files_are_refused_writing_nothing() {
    let s = TestServer::start(false).await;
    let info = "VM,Powerstate,CPUs,Memory,Host,Cluster\nweb-01,poweredOn,2,\"4,096\",esx-01,Prod\n";
    let host = "Host;Cluster;# Cores;Speed;# Memory\nesx-01;Prod;32;2.600;524.288\n";
    let form = reqwest::multipart::Form::new()
        .part(
            "files",
            reqwest::multipart::Part::bytes(info.as_bytes().to_vec())
                .file_name("RVTools_tabvInfo.csv"),
        )
        .part(
            "files",
            reqwest::multipart::Part::bytes(host.as_bytes().to_vec())
                .file_name("RVTools_tabvHost.csv"),
        );
    let r = s
        .client
        .post(s.url("/api/v1/imports/rvtools?apply=true"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let (_, hosts) = s.get("/api/v1/hosts").await;
    let h = &hosts.as_array().unwrap()[0];
    assert_eq!(
        (
            h["name"].as_str(),
            h["memory_mib"].as_u64(),
            h["cpu_mhz"].as_u64()
        ),
        (Some("esx-01"), Some(524_288), Some(2_600))
    );

    let mut locked = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    locked.resize(4_096, 0);
    for (body, says) in [
        (b"just some text".to_vec(), "not an RVTools export"),
        (locked, "password"),
        (SAMPLE[..SAMPLE.len() / 2].to_vec(), "damaged"),
        (
            "VM,Powerstate,CPUs,Host\nweb,poweredOn,1,esx\n"
                .as_bytes()
                .to_vec(),
            "not an RVTools export",
        ),
    ] {
        let (st, e) = upload(&s, true, "application/octet-stream", body).await;
        assert_eq!(st, 422, "{e}");
        assert_eq!(e["error"]["field"], "file", "{e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains(says),
            "{e}"
        );
    }
    assert_eq!(
        count(&s, "vms").await,
        1,
        "nothing written by a refused file"
    );

    // Operators and viewers read the inventory; only admins import.
    let operator = s.user("olga", "operator").await;
    let r = operator
        .post(s.url("/api/v1/imports/rvtools"))
        .header("content-type", XLSX)
        .body(SAMPLE.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    s.stop().await;
}

/// The inventory's objects without their ids, rules aside, sorted: what a round trip keeps.
async fn objects(s: &TestServer) -> Value {
    let (st, mut inv) = s.get("/api/v1/inventory").await;
    assert_eq!(st, 200);
    inv.as_object_mut().unwrap().remove("rules");
    inv
}

#[tokio::test]
async fn the_workbook_export_reads_back_to_the_same_inventory() {
    let s = TestServer::start(true).await;
    let before = objects(&s).await;
    let r = s
        .client
        .get(s.url("/api/v1/inventory.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], XLSX);
    let bytes = r.bytes().await.unwrap().to_vec();
    assert!(bytes.starts_with(b"PK"), "a zip, as every xlsx");
    let (st, report) = upload(&s, true, XLSX, bytes.clone()).await;
    assert_eq!(st, 201, "{report}");
    for kind in [
        "clusters",
        "hosts",
        "datastores",
        "switches",
        "portgroups",
        "vms",
    ] {
        assert_eq!(report["counts"][kind]["create"], 0, "{kind}: {report}");
        assert_eq!(report["counts"][kind]["keep"], 0, "{kind}: {report}");
    }
    assert_eq!(report["warnings"], serde_json::json!([]), "{report}");
    assert_eq!(
        objects(&s).await,
        before,
        "the same inventory, field by field"
    );
    // Only admins export it.
    let viewer = s.user("vera", "viewer").await;
    let r = viewer
        .get(s.url("/api/v1/inventory.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    s.stop().await;
}

#[tokio::test]
async fn objects_absent_from_the_file_are_removed_only_on_request() {
    let s = TestServer::start(true).await;
    let demo_vms = count(&s, "vms").await;
    let (st, preview) = upload_with(&s, "remove_absent=true", XLSX, SAMPLE.to_vec()).await;
    assert_eq!(st, 200, "{preview}");
    assert_eq!(preview["counts"]["vms"]["remove"], demo_vms as u64);
    assert_eq!(preview["counts"]["vms"]["keep"], 0);
    // The demo's affinity rules name its VMs: removing them is refused, nothing written.
    let (st, e) = upload_with(&s, "apply=true&remove_absent=true", XLSX, SAMPLE.to_vec()).await;
    assert_eq!(st, 409, "{e}");
    assert_eq!(e["error"]["field"], "remove_absent", "{e}");
    assert_eq!(count(&s, "vms").await, demo_vms, "nothing written");
    let (_, rules) = s.get("/api/v1/rules").await;
    for r in rules.as_array().unwrap() {
        assert_eq!(
            s.delete(&format!("/api/v1/rules/{}", r["id"].as_str().unwrap()))
                .await,
            204
        );
    }
    let (st, done) = upload_with(&s, "apply=true&remove_absent=true", XLSX, SAMPLE.to_vec()).await;
    assert_eq!(st, 201, "{done}");
    assert_eq!(count(&s, "vms").await, 795, "the demo's VMs are gone");
    assert_eq!(count(&s, "clusters").await, 4);
    let (_, audit) = s.get("/api/v1/audit?action=inventory.import").await;
    let removed: u64 = preview["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["remove"].as_u64().unwrap())
        .sum();
    assert!(
        audit.as_array().unwrap().iter().any(|a| a["summary"]
            .as_str()
            .unwrap()
            .ends_with(&format!(", {removed} removed"))),
        "{audit}"
    );
    s.stop().await;
}
