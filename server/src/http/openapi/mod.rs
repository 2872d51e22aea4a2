//! The OpenAPI 3.1 document of the REST API, built from the same kind table as the router.
//! A test walks every path and method in it against the router.

mod connections;
mod imports;
mod plans;

use axum::Json;
use domain::ObjectKind;
use serde_json::{json, Map, Value};

pub async fn document() -> Json<Value> {
    static DOCUMENT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    Json(DOCUMENT.get_or_init(build).clone())
}

/// Each operation gets the role its route declares (`x-vmshift-role`, from the router's own
/// table) and the statuses every route can answer besides its own: 401 and 403 where a role
/// is needed (403 also for a write from another site), 400 for a malformed path, 413/415 for
/// a JSON body, 503 while the server stops.
fn decorate(paths: &mut Map<String, Value>) {
    let table = super::routes().table().to_vec();
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            let Ok(m) = method.to_uppercase().parse::<axum::http::Method>() else {
                continue;
            };
            // The route that serves this path: itself, else the template it fits
            // (`/api/v1/hosts/{id}` is served by `/api/v1/{collection}/{id}`).
            let fits = |template: &str| {
                let (a, b): (Vec<&str>, Vec<&str>) =
                    (template.split('/').collect(), path.split('/').collect());
                a.len() == b.len()
                    && a.iter()
                        .zip(&b)
                        .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}')))
            };
            let Some(route) = table
                .iter()
                .filter(|r| r.method == m)
                .find(|r| r.path == *path)
                .or_else(|| {
                    table
                        .iter()
                        .filter(|r| r.method == m)
                        .find(|r| fits(&r.path))
                })
            else {
                continue;
            };
            let role = match route.access {
                super::routes::Access::Public => "anyone",
                super::routes::Access::Needs(r) => r.as_str(),
                super::routes::Access::Undeclared => "nobody",
            };
            operation["x-vmshift-role"] = json!(role);
            let mut extra: Vec<u16> = vec![400];
            if role != "anyone" {
                extra.extend([401, 403]);
            } else if m != axum::http::Method::GET {
                extra.push(403);
            }
            if operation.get("requestBody").is_some() {
                extra.extend([413, 415]);
            }
            if path.starts_with("/api/v1/migrations") || path.starts_with("/api/v1/faults") {
                extra.push(503);
            }
            let responses = operation["responses"].as_object_mut().expect("responses");
            for (code, response) in error_responses(&extra) {
                responses.entry(code).or_insert(response);
            }
        }
    }
}

pub(super) fn uuid() -> Value {
    json!({"type": "string", "format": "uuid"})
}
fn int(min: u64) -> Value {
    json!({"type": "integer", "minimum": min})
}
fn num(min: f64, max: f64) -> Value {
    json!({"type": "number", "minimum": min, "maximum": max})
}
fn name() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 80})
}
pub(super) fn enumeration(values: &[&str]) -> Value {
    json!({"type": "string", "enum": values})
}
pub(super) fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": properties})
}

fn schema_name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Cluster => "Cluster",
        ObjectKind::Host => "Host",
        ObjectKind::Datastore => "Datastore",
        ObjectKind::Switch => "Switch",
        ObjectKind::Portgroup => "Portgroup",
        ObjectKind::Vm => "Vm",
        ObjectKind::Rule => "Rule",
    }
}

fn schemas() -> Value {
    let mut all = inventory_and_check_schemas();
    let Value::Object(migrations) = migration_schemas() else {
        unreachable!("an object")
    };
    all.as_object_mut().expect("an object").extend(migrations);
    let Value::Object(plans) = plans::schemas() else {
        unreachable!("an object")
    };
    all.as_object_mut().expect("an object").extend(plans);
    all
}

fn migration_schemas() -> Value {
    json!({
        "Phase": enumeration(&["queued", "checking", "preparing", "disk_copy", "memory_precopy", "switchover", "completed", "failed", "cancelled"]),
        "MigrationEvent": {"type": "object", "required": ["migration_id", "seq", "sim_time_s", "phase", "percent", "bytes_sent", "bytes_total_estimate", "rate_bytes_s", "eta_s", "round", "dirty_rate_bytes_s", "remaining_dirty_bytes", "expected_downtime_ms", "message"], "properties": {
            "migration_id": uuid(), "seq": {"type": "integer", "minimum": 1, "description": "1, 2, 3… per migration over the stored events, no gaps; a transient event (live stream only) repeats the last stored one's"},
            "sim_time_s": {"type": "number", "description": "simulated seconds since the migration was created"},
            "phase": {"$ref": "#/components/schemas/Phase"},
            "percent": {"type": "number", "minimum": 0, "maximum": 100, "description": "never goes backwards"},
            "bytes_sent": {"type": "number"}, "bytes_total_estimate": {"type": "number"},
            "rate_bytes_s": {"type": "number"}, "eta_s": {"type": ["number", "null"]},
            "round": {"type": "integer"}, "dirty_rate_bytes_s": {"type": "number"},
            "remaining_dirty_bytes": {"type": "number"}, "expected_downtime_ms": {"type": "number"},
            "message": {"type": "string"},
            "words": {"$ref": "#/components/schemas/Phrase", "description": "the message as a code and values, on events whose message differs from the one before"},
            "transient": {"type": "boolean", "description": "true on a progress point sent on the live stream and not stored (absent otherwise): the history keeps every phase change, round boundary and message, and a progress sample at most once a simulated second"}
        }},
        "Migration": {"type": "object", "required": ["id", "vm_id", "vm_name", "kind", "phase", "percent", "message", "prediction"], "properties": {
            "id": uuid(), "vm_id": uuid(), "vm_name": {"type": "string"},
            "kind": enumeration(&["vmotion", "storage_vmotion", "combined"]),
            "source_host_id": uuid(), "target_host_id": uuid(),
            "source_datastore_ids": {"type": "array", "items": uuid()},
            "target_datastore_id": {"type": ["string", "null"], "format": "uuid"},
            "options": {"type": "object"},
            "phase": {"$ref": "#/components/schemas/Phase"}, "percent": {"type": "number"},
            "queue_reason": {"type": ["string", "null"], "description": "e.g. waiting: host esx-02 has 8/8 slots in use"},
            "queue_words": {"$ref": "#/components/schemas/Phrase"},
            "message": {"type": "string"},
            "words": {"$ref": "#/components/schemas/Phrase"},
            "target": {"type": "string"}, "target_words": {"$ref": "#/components/schemas/Phrase"},
            "created_at_ms": {"type": "integer"}, "finished_at_ms": {"type": ["integer", "null"]},
            "sim_time_s": {"type": "number"}, "bytes_sent": {"type": "number"}, "bytes_total_estimate": {"type": "number"},
            "rate_bytes_s": {"type": "number"}, "eta_s": {"type": ["number", "null"]}, "round": {"type": "integer"},
            "dirty_rate_bytes_s": {"type": "number"}, "remaining_dirty_bytes": {"type": "number"},
            "expected_downtime_ms": {"type": "number"}, "downtime_ms": {"type": ["number", "null"]},
            "max_throttle": {"type": "number"},
            "rounds": {"type": "array", "items": {"type": "object"}},
            "prediction": {"$ref": "#/components/schemas/Prediction"},
            "last_seq": {"type": "integer"}
        }},
        "FaultRequest": object(&["kind", "target_id"], json!({
            "kind": enumeration(&["vmotion_link_down", "host_down", "datastore_full"]),
            "target_id": {"type": "string", "format": "uuid", "description": "a host (vmotion_link_down, host_down) or a datastore (datastore_full)"}
        })),
        "Fault": {"type": "object", "properties": {
            "id": uuid(), "kind": enumeration(&["vmotion_link_down", "host_down", "datastore_full"]),
            "target_id": uuid(), "target_name": {"type": "string"}, "created_at_ms": {"type": "integer"}
        }}
    })
}

fn inventory_and_check_schemas() -> Value {
    json!({
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": enumeration(&["malformed_json", "invalid", "bad_path", "not_found", "duplicate", "in_use", "conflict", "blocked", "not_json", "method_not_allowed", "cross_site", "unauthenticated", "bad_credentials", "forbidden", "too_many_requests", "payload_too_large", "unavailable", "internal"]),
                "message": {"type": "string"},
                "field": {"type": ["string", "null"], "description": "Path of the offending field, e.g. disks[0].capacity_mib"},
                "words": {"$ref": "#/components/schemas/Phrase", "description": "the message as a code and values, for a page to word in its language (a refusal of the domain)"}
            }}}
        },
        "Cluster": object(&["name"], json!({
            "id": uuid(), "name": name(),
            "evc_level": {"type": ["integer", "null"], "minimum": 0}
        })),
        "Host": object(&["name", "cluster_id", "cpu_vendor", "cpu_feature_level", "cores", "cpu_mhz", "memory_mib", "state", "vmotion_enabled", "vmotion_link_gbps", "ip_family"], json!({
            "id": uuid(), "name": name(), "cluster_id": uuid(),
            "cpu_vendor": enumeration(&["intel", "amd"]),
            "cpu_feature_level": int(0), "cores": int(1), "cpu_mhz": int(1), "memory_mib": int(1),
            "state": enumeration(&["connected", "maintenance", "disconnected"]),
            "vmotion_enabled": {"type": "boolean"},
            "vmotion_link_gbps": num(0.0, 800.0),
            "ip_family": enumeration(&["v4", "v6"])
        })),
        "Datastore": object(&["name", "kind", "capacity_mib", "throughput_mib_s", "host_ids"], json!({
            "id": uuid(), "name": name(),
            "kind": enumeration(&["local", "vmfs_shared", "nfs", "vsan"]),
            "capacity_mib": int(1), "throughput_mib_s": int(1),
            "host_ids": {"type": "array", "items": uuid(), "minItems": 1}
        })),
        "Switch": object(&["name", "host_ids"], json!({
            "id": uuid(), "name": name(), "host_ids": {"type": "array", "items": uuid()}
        })),
        "Portgroup": object(&["name", "vlan"], json!({
            "id": uuid(), "name": name(),
            "vlan": {"type": "integer", "minimum": 0, "maximum": 4094},
            "switch_id": uuid(), "host_id": uuid()
        })),
        "Disk": object(&["datastore_id", "capacity_mib", "used_mib", "thin"], json!({
            "datastore_id": uuid(), "capacity_mib": int(1), "used_mib": int(0), "thin": {"type": "boolean"}
        })),
        "Nic": object(&["portgroup_id", "connected"], json!({
            "portgroup_id": uuid(), "connected": {"type": "boolean"}
        })),
        "Device": object(&["kind", "backing", "connected"], json!({
            "kind": enumeration(&["cdrom", "floppy", "serial", "usb"]),
            "backing": enumeration(&["host_device", "file"]),
            "datastore_id": uuid(), "connected": {"type": "boolean"}
        })),
        "Workload": object(&["dirty_rate_mib_s", "zero_page_fraction", "disk_write_mib_s"], json!({
            "dirty_rate_mib_s": num(0.0, 1_000_000.0),
            "working_set_mib": {"type": ["integer", "null"], "minimum": 1},
            "zero_page_fraction": num(0.0, 1.0),
            "disk_write_mib_s": num(0.0, 1_000_000.0)
        })),
        "Vm": object(&["name", "host_id", "power_state", "vcpus", "memory_mib", "cpu_feature_level"], json!({
            "id": uuid(), "name": name(), "host_id": uuid(),
            "power_state": enumeration(&["on", "off", "suspended"]),
            "vcpus": int(1), "memory_mib": int(1), "memory_reservation_mib": int(0),
            "cpu_feature_level": int(0),
            "disks": {"type": "array", "items": {"$ref": "#/components/schemas/Disk"}},
            "nics": {"type": "array", "items": {"$ref": "#/components/schemas/Nic"}},
            "devices": {"type": "array", "items": {"$ref": "#/components/schemas/Device"}},
            "workload": {"$ref": "#/components/schemas/Workload"},
            "fault_tolerance": {"type": "boolean"}, "cpu_affinity": {"type": "boolean"}
        })),
        "Rule": object(&["name", "cluster_id", "kind", "vm_ids"], json!({
            "id": uuid(), "name": name(), "cluster_id": uuid(),
            "kind": enumeration(&["keep_together", "keep_apart", "run_on_hosts"]),
            "mandatory": {"type": "boolean", "description": "run_on_hosts: must (true) or should (false); keep_apart always must, keep_together should"},
            "vm_ids": {"type": "array", "items": uuid(), "minItems": 1},
            "host_ids": {"type": "array", "items": uuid(), "description": "run_on_hosts only: hosts of the rule's cluster"},
            "enabled": {"type": "boolean"}
        })),
        "MigrationRequest": object(&["vm_id", "kind"], json!({
            "vm_id": uuid(),
            "kind": enumeration(&["vmotion", "storage_vmotion", "combined"]),
            "target_host_id": uuid(),
            "target_datastore_id": uuid(),
            "options": object(&[], json!({
                "downtime_target_ms": {"type": "integer", "minimum": 1, "maximum": 100000},
                "bandwidth_cap_mbps": {"type": "integer", "minimum": 1},
                "priority": {"type": "integer", "minimum": 0, "maximum": 10}
            }))
        })),
        "CheckResult": {"type": "object", "required": ["id", "severity", "message", "remedy", "objects"], "properties": {
            "id": {"type": "string", "description": "Stable rule id, e.g. storage.shared"},
            "severity": enumeration(&["error", "warning", "info"]),
            "code": {"type": "string", "description": "Stable code of the wording, e.g. host.state.maintenance: what a client translates, with args"},
            "args": {"type": "object", "additionalProperties": {"type": "string"}, "description": "The values the wording names: object names, and figures as plain numbers (free_mib in MiB, link_gbps in Gbit/s)"},
            "message": {"type": "string", "description": "In English"},
            "remedy": {"type": "string", "description": "In English"},
            "objects": {"type": "array", "items": {"type": "object", "properties": {
                "kind": {"type": "string"}, "id": uuid(), "name": {"type": "string"}}}}
        }},
        "CheckReport": {"type": "object", "required": ["allowed", "results"], "properties": {
            "allowed": {"type": "boolean"},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/CheckResult"}}
        }},
        "Prediction": {"type": "object", "required": ["converges", "duration_s", "downtime_ms", "bytes_total", "rounds"], "properties": {
            "converges": {"type": "boolean"}, "duration_s": {"type": "number"}, "downtime_ms": {"type": "number"},
            "bytes_total": {"type": "number"}, "disk_bytes": {"type": "number"}, "max_throttle": {"type": "number"},
            "failure": {"type": "string"},
            "failure_words": {"$ref": "#/components/schemas/Phrase"},
            "breakdown": {"$ref": "#/components/schemas/Breakdown"},
            "rounds": {"type": "array", "items": {"type": "object", "properties": {
                "round": {"type": "integer"}, "bytes": {"type": "number"}, "duration_s": {"type": "number"}}}}
        }},
        "TargetSummary": {"type": "object", "properties": {
            "id": uuid(), "name": {"type": "string"}, "allowed": {"type": "boolean"},
            "errors": {"type": "integer"}, "warnings": {"type": "integer"},
            "first_error": {"type": "string"}, "free_mib": {"type": "integer"}
        }},
        "Targets": {"type": "object", "properties": {
            "hosts": {"type": "array", "items": {"$ref": "#/components/schemas/TargetSummary"}},
            "datastores": {"type": "array", "items": {"$ref": "#/components/schemas/TargetSummary"}}
        }},
        "Inventory": {"type": "object", "properties": {
            "clusters": {"type": "array", "items": {"$ref": "#/components/schemas/Cluster"}},
            "hosts": {"type": "array", "items": {"$ref": "#/components/schemas/Host"}},
            "datastores": {"type": "array", "items": {"$ref": "#/components/schemas/Datastore"}},
            "switches": {"type": "array", "items": {"$ref": "#/components/schemas/Switch"}},
            "portgroups": {"type": "array", "items": {"$ref": "#/components/schemas/Portgroup"}},
            "vms": {"type": "array", "items": {"$ref": "#/components/schemas/Vm"}},
            "rules": {"type": "array", "items": {"$ref": "#/components/schemas/Rule"}}
        }}
    })
}

pub(super) fn error_responses(codes: &[u16]) -> Map<String, Value> {
    codes
        .iter()
        .map(|c| {
            (
                c.to_string(),
                json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
            )
        })
        .collect()
}

pub(super) fn with(
    mut base: Map<String, Value>,
    code: &str,
    description: &str,
    schema: Option<Value>,
) -> Value {
    let mut response = json!({"description": description});
    if let Some(s) = schema {
        response["content"] = json!({"application/json": {"schema": s}});
    }
    base.insert(code.to_string(), response);
    Value::Object(base)
}

/// A list route's answers: the page, with its total and the next page's link.
fn page_responses(schema: &Value) -> Value {
    let mut responses = with(
        error_responses(&[400, 422]),
        "200",
        "the page",
        Some(json!({"type": "array", "items": schema})),
    );
    responses["200"]["headers"] = json!({
        "X-Total-Count": {"description": "how many objects match in all", "schema": {"type": "integer"}},
        "Link": {"description": "the next page, `<…>; rel=\"next\"` (when limit leaves some out)", "schema": {"type": "string"}}
    });
    responses
}

/// The query of a list route (docs/DESIGN.md#paged-lists).
fn list_params(kind: ObjectKind) -> Value {
    let mut sorts: Vec<String> = vec!["name".into(), "-name".into()];
    for f in domain::listing::sort_fields(kind) {
        sorts.push((*f).to_string());
        sorts.push(format!("-{f}"));
    }
    json!([
        {"name": "q", "in": "query", "description": "only names containing this (case-insensitive)", "schema": {"type": "string"}},
        {"name": "sort", "in": "query", "description": "the field to sort by, `-` first for descending", "schema": {"type": "string", "enum": sorts}},
        {"name": "offset", "in": "query", "description": "objects to skip", "schema": {"type": "integer", "minimum": 0, "default": 0}},
        {"name": "limit", "in": "query", "description": "the most objects to return (all without it)", "schema": {"type": "integer", "minimum": 1, "maximum": domain::listing::MAX_LIMIT}}
    ])
}

pub fn build() -> Value {
    let mut paths = Map::new();
    let id_param = json!([{"name": "id", "in": "path", "required": true, "schema": uuid()}]);
    for kind in ObjectKind::ALL {
        let schema = json!({"$ref": format!("#/components/schemas/{}", schema_name(kind))});
        let label = kind.label();
        let body = json!({"required": true, "content": {"application/json": {"schema": schema}}});
        paths.insert(
            format!("/api/v1/{}", kind.plural()),
            json!({
                "get": {"summary": format!("List {label}s: filtered by name (q), sorted (sort; by name otherwise), paged (offset, limit); the number in all in X-Total-Count, the next page in Link"),
                    "operationId": format!("list_{}", kind.plural()),
                    "parameters": list_params(kind),
                    "responses": page_responses(&schema)},
                "post": {"summary": format!("Create a {label} (the server assigns an id unless one is given)"),
                    "operationId": format!("create_{}", kind.plural()), "requestBody": body,
                    "responses": with(error_responses(&[400, 409, 413, 422]), "201", "created", Some(schema.clone()))}
            }),
        );
        paths.insert(
            format!("/api/v1/{}/{{id}}", kind.plural()),
            json!({
                "parameters": id_param,
                "get": {"summary": format!("Get a {label}"), "operationId": format!("get_{}", kind.plural()),
                    "responses": with(error_responses(&[400, 404]), "200", "the object", Some(schema.clone()))},
                "put": {"summary": format!("Replace a {label}"), "operationId": format!("update_{}", kind.plural()),
                    "requestBody": body,
                    "responses": with(error_responses(&[400, 404, 409, 413, 422]), "200", "updated", Some(schema.clone()))},
                "delete": {"summary": format!("Delete a {label} (refused while others use it)"),
                    "operationId": format!("delete_{}", kind.plural()),
                    "responses": with(error_responses(&[400, 404, 409]), "204", "deleted", None)}
            }),
        );
    }
    paths.insert(
        "/api/v1/inventory".into(),
        json!({
            "get": {"summary": "Export the whole inventory", "operationId": "export_inventory",
                "responses": with(Map::new(), "200", "the inventory", Some(json!({"$ref": "#/components/schemas/Inventory"})))},
            "post": {"summary": "Import objects in the export format: new ids are created, known ids replaced; all or nothing. The body may be up to 256 MiB (vCenter's maximum exported is ~28 MB).",
                "operationId": "import_inventory",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Inventory"}}}},
                "responses": with(error_responses(&[400, 409, 413, 422]), "200", "what was imported",
                    Some(json!({"type": "object", "properties": {"created": {"type": "integer"}, "updated": {"type": "integer"}, "removed": {"type": "integer"}}})))}
        }),
    );
    paths.insert(
        "/api/v1/checks".into(),
        json!({"post": {"summary": "Run the prerequisite checks of a migration", "operationId": "check_migration",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MigrationRequest"}}}},
            "responses": with(error_responses(&[400, 413, 415, 422]), "200", "the results, errors first",
                Some(json!({"$ref": "#/components/schemas/CheckReport"})))}}),
    );
    paths.insert(
        "/api/v1/predictions".into(),
        json!({"post": {"summary": "Predict duration, data sent and downtime of a migration (the transfer model fast-forwarded)",
            "operationId": "predict_migration",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MigrationRequest"}}}},
            "responses": with(error_responses(&[400, 413, 415, 422]), "200", "the prediction",
                Some(json!({"$ref": "#/components/schemas/Prediction"})))}}),
    );
    paths.insert(
        "/api/v1/vms/{id}/targets".into(),
        json!({"get": {"summary": "Every host and/or datastore as a target of the VM's move, valid ones first, ranked by free resources",
            "operationId": "vm_targets",
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": uuid()},
                {"name": "kind", "in": "query", "required": true, "schema": enumeration(&["vmotion", "storage_vmotion", "combined"])},
                {"name": "target_host_id", "in": "query", "required": false, "schema": uuid(),
                    "description": "combined: judge datastores against this host"},
                {"name": "target_datastore_id", "in": "query", "required": false, "schema": uuid(),
                    "description": "combined: judge hosts against this datastore"}
            ],
            "responses": with(error_responses(&[400, 404, 422]), "200", "the targets",
                Some(json!({"$ref": "#/components/schemas/Targets"})))}}),
    );
    let migration = json!({"$ref": "#/components/schemas/Migration"});
    let request_body = json!({"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MigrationRequest"}}}});
    let mut blocked = error_responses(&[400, 409, 413, 415, 422]);
    blocked.insert("422".into(), json!({"description": "invalid, or blocked by the checks (then with allowed: false and every result)",
        "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/Error"},
            {"type": "object", "properties": {"allowed": {"type": "boolean"}, "results": {"type": "array", "items": {"$ref": "#/components/schemas/CheckResult"}}}}]}}}}));
    paths.insert(
        "/api/v1/migrations".into(),
        json!({
            "get": {"summary": "Every migration, newest first", "operationId": "list_migrations",
                "responses": with(Map::new(), "200", "the migrations", Some(json!({"type": "array", "items": migration})))},
            "post": {"summary": "Start a migration: the checks run again (422 with the results if blocked; 409 if the VM already has one in flight); it is queued, then runs",
                "operationId": "start_migration", "requestBody": request_body,
                "responses": with(blocked, "201", "the queued migration", Some(migration.clone()))}
        }),
    );
    paths.insert(
        "/api/v1/migrations/{id}".into(),
        json!({"parameters": id_param, "get": {"summary": "A migration", "operationId": "get_migration",
            "responses": with(error_responses(&[400, 404]), "200", "the migration", Some(migration.clone()))}}),
    );
    paths.insert(
        "/api/v1/migrations/{id}/events".into(),
        json!({"parameters": id_param, "get": {"summary": "A migration's progress events, in order", "operationId": "migration_events",
            "responses": with(error_responses(&[400, 404]), "200", "the events",
                Some(json!({"type": "array", "items": {"$ref": "#/components/schemas/MigrationEvent"}})))}}),
    );
    paths.insert(
        "/api/v1/migrations/{id}/cancel".into(),
        json!({"parameters": id_param, "post": {"summary": "Cancel a queued or running migration: the VM stays where it is",
            "operationId": "cancel_migration",
            "responses": with(error_responses(&[400, 404, 409]), "200", "the cancelled migration", Some(migration))}}),
    );
    let fault = json!({"$ref": "#/components/schemas/Fault"});
    paths.insert(
        "/api/v1/faults".into(),
        json!({
            "get": {"summary": "Faults in effect", "operationId": "list_faults",
                "responses": with(Map::new(), "200", "the faults", Some(json!({"type": "array", "items": fault})))},
            "post": {"summary": "Inject a fault (drills and tests); migrations it hits fail and their VMs stay on their sources",
                "operationId": "inject_fault",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FaultRequest"}}}},
                "responses": with(error_responses(&[400, 409, 415, 422]), "201", "the fault", Some(fault.clone()))}
        }),
    );
    paths.insert(
        "/api/v1/faults/{id}".into(),
        json!({"parameters": id_param, "delete": {"summary": "Clear a fault", "operationId": "clear_fault",
            "responses": with(error_responses(&[400, 404]), "204", "cleared", None)}}),
    );
    let user = json!({"type": "object", "properties": {"id": uuid(), "username": {"type": "string"},
        "role": enumeration(&["viewer", "operator", "admin"]),
        "language": {"description": "The language the user chose for the pages (absent: the browser's)", "type": "string", "enum": ["en", "fr"]}}});
    paths.insert(
        "/api/v1/session".into(),
        json!({
            "post": {"summary": "Sign in: sets the session cookie (HttpOnly, SameSite=Strict; Secure over https). Throttled after repeated failures (429 with Retry-After)",
                "operationId": "sign_in", "security": [],
                "requestBody": {"required": true, "content": {"application/json": {"schema": object(&["username", "password"], json!({"username": {"type": "string"}, "password": {"type": "string"}}))}}},
                "responses": with(error_responses(&[400, 401, 422, 429]), "200", "signed in", Some(user.clone()))},
            "get": {"summary": "Who is signed in", "operationId": "current_user",
                "responses": with(error_responses(&[401]), "200", "the user", Some(user.clone()))},
            "delete": {"summary": "Sign out: the session stops working", "operationId": "sign_out",
                "responses": with(error_responses(&[401]), "204", "signed out", None)}
        }),
    );
    let token = json!({"type": "object", "properties": {"id": uuid(), "name": {"type": "string"},
        "created_at_ms": {"type": "integer"}, "revoked": {"type": "boolean"},
        "token": {"type": "string", "description": "the secret, returned once at creation: send it as Authorization: Bearer <token>"}}});
    paths.insert(
        "/api/v1/tokens".into(),
        json!({
            "get": {"summary": "Your API tokens (without their secrets)", "operationId": "list_tokens",
                "responses": with(error_responses(&[401]), "200", "the tokens", Some(json!({"type": "array", "items": token})))},
            "post": {"summary": "Create an API token for scripts; the secret is shown once, stored hashed", "operationId": "create_token",
                "requestBody": {"required": true, "content": {"application/json": {"schema": object(&["name"], json!({"name": {"type": "string"}}))}}},
                "responses": with(error_responses(&[401, 422]), "201", "the token, with its secret", Some(token.clone()))}
        }),
    );
    paths.insert(
        "/api/v1/tokens/{id}".into(),
        json!({"parameters": id_param, "delete": {"summary": "Revoke one of your API tokens", "operationId": "revoke_token",
            "responses": with(error_responses(&[400, 401, 404]), "204", "revoked", None)}}),
    );
    paths.insert(
        "/api/v1/users".into(),
        json!({
            "get": {"summary": "Users (admin)", "operationId": "list_users",
                "responses": with(error_responses(&[401, 403]), "200", "the users", Some(json!({"type": "array", "items": user})))},
            "post": {"summary": "Create a user (admin)", "operationId": "create_user",
                "requestBody": {"required": true, "content": {"application/json": {"schema": object(&["username", "password", "role"], json!({
                    "username": {"type": "string", "pattern": "^[a-z0-9._-]{1,64}$"}, "password": {"type": "string", "minLength": 10},
                    "role": enumeration(&["viewer", "operator", "admin"])}))}}},
                "responses": with(error_responses(&[401, 403, 409, 422]), "201", "the user", Some(user.clone()))}
        }),
    );
    paths.insert(
        "/api/v1/users/{id}/role".into(),
        json!({"parameters": id_param, "put": {"summary": "Change a user's role (admin; the last admin keeps the role)", "operationId": "set_role",
            "requestBody": {"required": true, "content": {"application/json": {"schema": object(&["role"], json!({"role": enumeration(&["viewer", "operator", "admin"])}))}}},
            "responses": with(error_responses(&[400, 401, 403, 404, 409, 422]), "200", "the user", Some(user))}}),
    );
    let audit_params = json!([
        {"name": "actor", "in": "query", "required": false, "schema": {"type": "string"}},
        {"name": "action", "in": "query", "required": false, "schema": {"type": "string"},
            "description": "an action (migration.start) or a prefix ending with a dot (migration.)"},
        {"name": "since_ms", "in": "query", "required": false, "schema": {"type": "integer"}},
        {"name": "until_ms", "in": "query", "required": false, "schema": {"type": "integer"}},
        {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 10000}}
    ]);
    paths.insert(
        "/api/v1/audit".into(),
        json!({"get": {"summary": "The audit log, newest first (admin): who did what, when, before and after",
            "operationId": "audit_log", "parameters": audit_params,
            "responses": with(error_responses(&[401, 403, 422]), "200", "the entries",
                Some(json!({"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "at_ms": {"type": "integer"}, "actor": {"type": "string"},
                    "action": {"type": "string"}, "object_kind": {"type": ["string", "null"]},
                    "object_id": {"type": ["string", "null"]}, "summary": {"type": "string"},
                    "before": {}, "after": {}}}})))}}),
    );
    paths.insert(
        "/api/v1/audit.csv".into(),
        json!({"get": {"summary": "The audit log as CSV (admin), same filters (default limit 10,000)",
            "operationId": "audit_csv", "parameters": audit_params,
            "responses": with(error_responses(&[422]), "200", "the entries as CSV", None)}}),
    );
    plans::paths(&mut paths);
    imports::paths(&mut paths);
    connections::paths(&mut paths);
    paths.insert(
        "/api/v1/openapi.json".into(),
        json!({"get": {"summary": "This document", "operationId": "openapi",
            "responses": {"200": {"description": "OpenAPI 3.1 document"}}}}),
    );
    decorate(&mut paths);
    json!({
        "openapi": "3.1.0",
        "info": {"title": "vmshift API", "version": env!("CARGO_PKG_VERSION"),
            "description": "Cluster inventory and live VM migration. Errors are {\"error\": {\"code\", \"message\", \"field\"}}. Every operation needs a signed-in user (the session cookie, or Authorization: Bearer <API token>) with the role it names: viewer reads, operator also starts/cancels migrations, plans and runs maintenance plans (the only way an operator puts a host in maintenance mode) and injects faults, admin also changes the inventory and users; 401 without a user, 403 without the role."},
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer", "description": "an API token (vms_…)"},
                "session": {"type": "apiKey", "in": "cookie", "name": "vmshift_session"}
            }
        },
        "security": [{"token": []}, {"session": []}]
    })
}
