-- Migrations and their progress events (SPEC §3, §4). The summary of a migration is kept as
-- JSON next to the columns that are queried; the VM is not a foreign key, so that history
-- outlives the VM.

CREATE TABLE migrations (
    id            TEXT PRIMARY KEY NOT NULL,
    vm_id         TEXT NOT NULL,
    phase         TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    record        TEXT NOT NULL
);
CREATE INDEX migrations_phase ON migrations (phase);
CREATE INDEX migrations_created ON migrations (created_at_ms);

CREATE TABLE migration_events (
    migration_id TEXT NOT NULL REFERENCES migrations (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL CHECK (seq > 0),
    event        TEXT NOT NULL,
    PRIMARY KEY (migration_id, seq)
);
