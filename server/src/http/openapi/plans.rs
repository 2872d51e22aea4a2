//! The maintenance plans' part of the OpenAPI document: their paths and schemas.

use super::{enumeration, error_responses, object, uuid, with};
use serde_json::{json, Map, Value};

fn number() -> Value {
    json!({"type": "number"})
}

fn list_of(schema: &str) -> Value {
    json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{schema}")}})
}

fn reference(schema: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{schema}")})
}

pub(super) fn schemas() -> Value {
    let mut all = Map::new();
    for part in [request_schemas(), draft_schemas(), prediction_schemas()] {
        if let Value::Object(m) = part {
            all.extend(m);
        }
    }
    Value::Object(all)
}

fn request_schemas() -> Value {
    json!({
        "Goal": {"oneOf": [
            object(&["kind", "host_id"], json!({
                "kind": {"const": "evacuate_host"}, "host_id": uuid(),
                "enter_maintenance": {"type": "boolean", "description": "default true: the host enters maintenance mode once empty"}})),
            object(&["kind", "host_id"], json!({
                "kind": {"const": "exit_maintenance"}, "host_id": uuid(),
                "return_vm_ids": {"type": "array", "items": uuid(), "description": "VMs brought back to the host where the checks allow"}})),
            object(&["kind", "datastore_id"], json!({
                "kind": {"const": "drain_datastore"}, "datastore_id": uuid()})),
            object(&["kind", "cluster_id"], json!({
                "kind": {"const": "rolling_maintenance"}, "cluster_id": uuid(),
                "at_a_time": {"type": "integer", "minimum": 1, "description": "hosts out at once (default 1)"},
                "maintenance_s": {"type": "integer", "minimum": 0, "maximum": 4294967295u64, "description": "simulated seconds each host stays in maintenance"}})),
            object(&["kind", "moves"], json!({
                "kind": {"const": "moves"},
                "moves": {"type": "array", "minItems": 1, "items": object(&["vm_id"], json!({
                    "vm_id": uuid(), "target_host_id": uuid(), "target_datastore_id": uuid(),
                    "priority": {"type": "integer", "minimum": 0, "maximum": 255}}))}}))
        ]},
        "PlanOptions": object(&[], json!({
            "max_concurrent": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000, "description": "moves at once at most (default: only vSphere's limits)"},
            "bandwidth_cap_mbps": {"type": ["integer", "null"], "minimum": 1},
            "downtime_target_ms": {"type": ["integer", "null"], "minimum": 1, "maximum": 100000},
            "order": enumeration(&["largest_first", "smallest_first", "by_priority"]),
            "start_at_ms": {"type": ["integer", "null"], "description": "when it starts (ms since the epoch)"},
            "must_finish_by_ms": {"type": ["integer", "null"], "description": "the end of its window"},
            "stop_on_failure": {"type": "boolean"},
            "pacing": {
                "type": "string", "enum": ["converge", "vsphere_limits"],
                "description": "converge (default): a move waits while its share of a vMotion link would be under twice the fastest dirty rate on it; vsphere_limits: only the slot limits and max_concurrent hold moves back"
            }
        })),
        "PlanRequest": object(&["goal"], json!({
            "goal": reference("Goal"), "options": reference("PlanOptions")
        })),
    })
}

fn draft_schemas() -> Value {
    json!({
        "Breakdown": {"type": "object", "description": "where a move's time goes, seconds (docs/DESIGN.md#transfer-model)", "properties": {
            "queue_s": number(), "prepare_s": number(), "disk_copy_s": number(),
            "memory_precopy_s": number(), "switchover_s": number()
        }},
        "PlannedMove": {"type": "object", "properties": {
            "vm_id": uuid(), "vm_name": {"type": "string"},
            "kind": enumeration(&["vmotion", "storage_vmotion", "combined"]),
            "live": {"type": "boolean"}, "source_host_id": uuid(), "target_host_id": uuid(),
            "target_datastore_id": uuid(), "target": {"type": "string"}, "why": {"type": "string"},
            "target_phrase": reference("Phrase"), "why_phrase": reference("Phrase"),
            "memory_mib": {"type": "integer"}, "priority": {"type": "integer"}
        }},
        "Blocker": {"type": "object", "properties": {
            "vm_id": uuid(), "vm_name": {"type": "string"},
            "check": {"type": "string", "description": "the failing check's id (affinity.rules, storage.local…)"},
            "code": {"type": "string", "description": "the wording's stable code, as a check result's"},
            "args": {"type": "object", "additionalProperties": {"type": "string"}},
            "message": {"type": "string"}, "remedy": {"type": "string"}
        }},
        "Phrase": {"type": "object", "description": "words as a stable code and the values they name, for a page to word in its language; english is the API's text (docs/DESIGN.md#languages)", "properties": {
            "code": {"type": "string"},
            "args": {"type": "object", "additionalProperties": {"type": "string"}},
            "because": reference("Phrase"),
            "english": {"type": "string"}
        }},
        "Step": {"type": "object", "required": ["step"], "properties": {
            "step": enumeration(&["moves", "enter_maintenance", "hold", "exit_maintenance"]),
            "moves": list_of("PlannedMove"), "host_ids": {"type": "array", "items": uuid()},
            "seconds": {"type": "integer"}
        }},
        "Draft": {"type": "object", "properties": {
            "goal": reference("Goal"), "title": {"type": "string"}, "title_phrase": reference("Phrase"),
            "steps": list_of("Step"), "blockers": list_of("Blocker"),
            "notes": {"type": "array", "items": {"type": "string"}}, "note_phrases": list_of("Phrase")
        }},
    })
}

fn prediction_schemas() -> Value {
    json!({
        "MoveTimeline": {"type": "object", "properties": {
            "vm_id": uuid(), "vm_name": {"type": "string"},
            "kind": enumeration(&["vmotion", "storage_vmotion", "combined"]),
            "step": {"type": "integer"}, "queued_s": number(), "start_s": number(), "end_s": number(),
            "downtime_ms": number(), "bytes": number(), "breakdown": reference("Breakdown"),
            "failure": {"type": "string"}
        }},
        "PlanPrediction": {"type": "object", "properties": {
            "total_s": number(), "moves": list_of("MoveTimeline"),
            "steps": {"type": "array", "items": {"type": "object", "properties": {
                "step": {"type": "integer"}, "kind": {"type": "string"}, "start_s": number(), "end_s": number()}}},
            "peak_concurrency": {"type": "integer"}, "bytes_total": number(),
            "worst_downtime_ms": number(), "median_downtime_ms": number(), "failures": {"type": "integer"},
            "window": {"type": "object", "properties": {
                "start_at_ms": {"type": "integer"}, "ends_at_ms": {"type": "integer"},
                "must_finish_by_ms": {"type": "integer"}, "fits": {"type": "boolean"}, "margin_s": number()}}
        }},
        "WhatIf": {"type": "object", "properties": {
            "max_concurrent": {"type": ["integer", "null"]}, "total_s": number(),
            "worst_downtime_ms": number(), "median_downtime_ms": number(), "peak_concurrency": {"type": "integer"}
        }},
        "Preview": {"type": "object", "properties": {
            "draft": reference("Draft"), "options": reference("PlanOptions"),
            "prediction": reference("PlanPrediction"), "what_if": list_of("WhatIf")
        }},
        "Plan": plan_schema()
    })
}

fn plan_schema() -> Value {
    json!({"type": "object", "properties": {
            "id": uuid(), "draft": reference("Draft"), "options": reference("PlanOptions"),
            "prediction": reference("PlanPrediction"), "what_if": list_of("WhatIf"),
            "state": enumeration(&["draft", "scheduled", "running", "paused", "completed", "failed", "cancelled", "interrupted"]),
            "message": {"type": "string"}, "message_words": reference("Phrase"),
            "created_by": {"type": "string"},
            "created_at_ms": {"type": "integer"}, "started_at_ms": {"type": "integer"},
            "finished_at_ms": {"type": "integer"}, "step": {"type": "integer"},
            "elapsed_s": {"type": "number", "description": "simulated seconds the plan has run"},
            "predicted_end_ms": {"type": "integer", "description": "re-computed from the moves still to go"},
            "moves": {"type": "array", "items": {"type": "object", "properties": {
                "vm_id": uuid(), "step": {"type": "integer"}, "migration_id": uuid(),
                "phase": {"$ref": "#/components/schemas/Phase"}, "start_s": number(), "end_s": number(),
                "error": {"type": "string"}, "error_words": reference("Phrase")}}},
            "log": {"type": "array", "items": {"type": "string"}}, "log_words": list_of("Phrase")
    }})
}

pub(super) fn paths(paths: &mut Map<String, Value>) {
    let id_param = json!([{"name": "id", "in": "path", "required": true, "schema": uuid()}]);
    let request = json!({"required": true, "content": {"application/json": {"schema": reference("PlanRequest")}}});
    let plan = reference("Plan");
    paths.insert(
        "/api/v1/plans/preview".into(),
        json!({"post": {"summary": "Draft and predict a plan, writing nothing: placement, blockers (with the failing check and its fix), the timeline, the window verdict, the what-if rows",
            "operationId": "preview_plan", "requestBody": request,
            "responses": with(error_responses(&[400, 413, 415, 422]), "200", "the preview", Some(reference("Preview")))}}),
    );
    paths.insert(
        "/api/v1/plans".into(),
        json!({
            "get": {"summary": "Every plan, newest first", "operationId": "list_plans",
                "responses": with(Map::new(), "200", "the plans", Some(list_of("Plan")))},
            "post": {"summary": "Store a plan as a draft (its preview as of now)", "operationId": "create_plan",
                "requestBody": request,
                "responses": with(error_responses(&[400, 413, 415, 422]), "201", "the draft", Some(plan.clone()))}
        }),
    );
    paths.insert(
        "/api/v1/plans/{id}".into(),
        json!({"parameters": id_param, "get": {"summary": "A plan and its run", "operationId": "get_plan",
            "responses": with(error_responses(&[400, 404]), "200", "the plan", Some(plan.clone()))}}),
    );
    for (action, summary) in [
        (
            "start",
            "Start a draft: now, or at its start_at (409 unless a draft)",
        ),
        (
            "pause",
            "Pause: no new move starts; moves in flight go on (409 unless running)",
        ),
        ("resume", "Resume a paused plan (409 unless running)"),
        (
            "cancel",
            "Cancel: moves in flight are cancelled, every VM stays where it is, running",
        ),
    ] {
        paths.insert(
            format!("/api/v1/plans/{{id}}/{action}"),
            json!({"parameters": id_param, "post": {"summary": summary, "operationId": format!("{action}_plan"),
                "responses": with(error_responses(&[400, 404, 409]), "200", "the plan", Some(plan.clone()))}}),
        );
    }
}
