//! The connection routes' part of the OpenAPI document (docs/VCENTER.md#connections).

use super::{error_responses, with};
use serde_json::{json, Map, Value};

pub(super) fn paths(paths: &mut Map<String, Value>) {
    let connection = json!({"type": "object", "description": "a connection (never its password)", "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"}, "kind": {"type": "string", "enum": ["vcenter"]},
        "url": {"type": "string"}, "username": {"type": "string"},
        "insecure_tls": {"type": "boolean"}, "has_ca": {"type": "boolean"},
        "accept_sha256": {"type": "string"},
        "created_at_ms": {"type": "integer"},
        "state": {"type": "string", "enum": ["connecting", "synced", "error"]},
        "synced_at_ms": {"type": "integer"}, "last_error": {"type": "string"},
        "objects": {"type": "object", "description": "objects mirrored from it, per kind", "additionalProperties": {"type": "integer"}}
    }});
    let request = json!({"type": "object", "required": ["kind", "url", "username", "password"],
        "additionalProperties": false, "properties": {
        "kind": {"type": "string", "enum": ["vcenter"]},
        "name": {"type": "string", "description": "defaults to the URL's host"},
        "url": {"type": "string", "description": "https://vcenter.example.com (the /sdk path is added)"},
        "username": {"type": "string"}, "password": {"type": "string", "writeOnly": true},
        "insecure_tls": {"type": "boolean", "description": "accept any certificate (labs only)"},
        "ca_pem": {"type": "string", "description": "PEM certificates of the CA that signed vCenter's certificate"},
        "accept_sha256": {"type": "string", "description": "accept exactly this certificate (its SHA-256 fingerprint, as a refusal reports it)"}
    }});
    let id_param = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}]);
    paths.insert(
        "/api/v1/connections".into(),
        json!({
            "get": {"summary": "vCenter connections with their sync state (admin)", "operationId": "list_connections",
                "responses": with(error_responses(&[]), "200", "the connections", Some(json!({"type": "array", "items": connection})))},
            "post": {"summary": "Connect a vCenter (admin): vmshift logs in first — a refused password (field password), an unreachable URL (url) or an untrusted certificate (accept_sha256, with its fingerprint) is a 422 and nothing is stored — then stores the password encrypted and mirrors the vCenter's inventory, keeping it current.",
                "operationId": "create_connection",
                "requestBody": {"required": true, "content": {"application/json": {"schema": request}}},
                "responses": with(error_responses(&[400, 409, 413, 415, 422]), "201", "the connection", Some(connection.clone()))}
        }),
    );
    paths.insert(
        "/api/v1/connections/{id}".into(),
        json!({"parameters": id_param,
            "get": {"summary": "A connection (admin)", "operationId": "get_connection",
                "responses": with(error_responses(&[400, 404]), "200", "the connection", Some(connection))},
            "delete": {"summary": "Disconnect (admin): the objects mirrored from it are removed (409 while one of its VMs is being migrated)", "operationId": "delete_connection",
                "responses": with(error_responses(&[400, 404, 409]), "204", "disconnected", None)}
        }),
    );
    paths.insert(
        "/api/v1/connections/{id}/test".into(),
        json!({"parameters": id_param, "post": {"summary": "Log in with the stored settings (admin)", "operationId": "test_connection",
            "responses": with(error_responses(&[400, 404, 422]), "200", "vCenter answered", Some(json!({"type": "object", "properties": {
                "ok": {"type": "boolean"}, "server": {"type": "string"}}})))}}),
    );
}
