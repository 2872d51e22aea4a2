-- Affinity rules of the inventory (docs/DESIGN.md#affinity-rules), kept as their JSON: the
-- inventory's gate checks every VM and host they name.
CREATE TABLE rules (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    cluster_id TEXT NOT NULL REFERENCES clusters (id),
    record     TEXT NOT NULL
);

-- Maintenance plans (docs/DESIGN.md#maintenance-plans): the whole plan as JSON (goal, options,
-- steps, blockers, prediction, progress of each move), its state beside it for listing.
CREATE TABLE plans (
    id            TEXT PRIMARY KEY NOT NULL,
    state         TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    record        TEXT NOT NULL
);

CREATE INDEX plans_by_state ON plans (state);
