-- Several replicas on one database. The inventory's revision and the log of its changes, so
-- that every replica applies the same changes in the same order; who owns each migration in
-- flight and until when (a lease the owner renews); the injected faults every engine honours.

CREATE TABLE inventory_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO inventory_revision (id, revision) VALUES (1, 0);

-- `change` is the JSON of one applied change; NULL means the inventory was replaced as a
-- whole (an import, the demo): replicas reload it.
CREATE TABLE inventory_changes (
    revision INTEGER PRIMARY KEY NOT NULL,
    change   TEXT
);

ALTER TABLE migrations ADD COLUMN owner TEXT;
ALTER TABLE migrations ADD COLUMN lease_expires_at_ms INTEGER;
ALTER TABLE migrations ADD COLUMN cancel_requested_by TEXT;
CREATE UNIQUE INDEX migrations_one_in_flight_per_vm ON migrations (vm_id)
    WHERE phase NOT IN ('completed', 'failed', 'cancelled');
CREATE INDEX migrations_owner ON migrations (owner);

CREATE TABLE faults (
    id            TEXT PRIMARY KEY NOT NULL,
    kind          TEXT NOT NULL,
    target_id     TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    record        TEXT NOT NULL,
    UNIQUE (kind, target_id)
);
