//! The import routes' part of the OpenAPI document (docs/IMPORT.md).

use super::error_responses;
use serde_json::{json, Map, Value};

fn report(applied: &str) -> Value {
    let counts = json!({"type": "object", "properties": {
        "create": {"type": "integer"}, "update": {"type": "integer"}, "keep": {"type": "integer"}, "remove": {"type": "integer"}}});
    json!({"type": "object", "description": applied, "properties": {
        "applied": {"type": "boolean"},
        "remove_absent": {"type": "boolean"},
        "counts": {"type": "object", "description": "per kind (clusters, hosts, datastores, switches, portgroups, vms): objects the file creates, updates, leaves as they are, and removes (remove_absent)",
            "additionalProperties": counts},
        "tabs": {"type": "object", "description": "the tabs read, with their rows", "additionalProperties": {"type": "integer"}},
        "templates_skipped": {"type": "integer"},
        "warnings": {"type": "array", "items": {"type": "object", "properties": {
            "tab": {"type": "string"}, "row": {"type": "integer"}, "column": {"type": "string"}, "message": {"type": "string"},
            "words": {"$ref": "#/components/schemas/Phrase"}}}},
        "guesses": {"type": "array", "items": {"type": "object", "properties": {
            "what": {"type": "string"}, "objects": {"type": "integer"},
            "words": {"$ref": "#/components/schemas/Phrase"}}}}
    }})
}

pub(super) fn paths(paths: &mut Map<String, Value>) {
    let binary = json!({"schema": {"type": "string", "format": "binary"}});
    let mut responses = error_responses(&[400, 413, 422]);
    let answer = |description: &str, applied: &str| json!({"description": description, "content": {"application/json": {"schema": report(applied)}}});
    responses.insert(
        "200".into(),
        answer("the report (nothing written)", "a preview"),
    );
    responses.insert("201".into(), answer("the report (applied)", "applied"));
    paths.insert(
        "/api/v1/imports/rvtools".into(),
        json!({"post": {
            "summary": "Import an RVTools export (admin): the xlsx workbook or a zip of its CSV files as the body, or the CSV files as a form (RVTools_tabvInfo.csv, …). apply=false (default) writes nothing and reports what would be created, updated and kept, every warning (tab, row, column) and every guess; apply=true imports it, all or nothing (201). remove_absent=true also deletes the objects the file does not hold (affinity rules aside). Objects are matched by vCenter and VM UUID, else by name. A file that is not an export, encrypted, a zip bomb, without vInfo, without a column the mapping needs or with a value that does not parse is refused (422, field \"file\"); over 256 MiB, 413.",
            "operationId": "import_rvtools",
            "parameters": [{"name": "apply", "in": "query", "required": false, "schema": {"type": "boolean"}},
                {"name": "remove_absent", "in": "query", "required": false, "schema": {"type": "boolean"}}],
            "requestBody": {"required": true, "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": binary,
                "application/zip": binary,
                "application/octet-stream": binary,
                "multipart/form-data": {"schema": {"type": "object", "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}
            }},
            "responses": responses
        }}),
    );
    paths.insert(
        "/api/v1/inventory.xlsx".into(),
        json!({"get": {
            "summary": "The inventory as an RVTools-layout workbook (admin): vInfo, vDisk, vNetwork, vCD, vUSB, vMemory, vCPU, vCluster, vHost, vNIC, vSC_VMK, vDatastore, dvSwitch, dvPort, vPort — what POST /api/v1/imports/rvtools reads back to the same inventory.",
            "operationId": "export_rvtools",
            "responses": {
                "200": {"description": "the workbook", "content": {
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": binary}},
                "401": {"description": "not signed in"},
                "403": {"description": "not an admin"}
            }
        }}),
    );
}
