-- Connections to vCenters (docs/VCENTER.md#connections) and the inventory objects mirrored
-- from them (docs/VCENTER.md#mirrored-objects). The password is stored encrypted with the
-- server's secret key, never in clear.
CREATE TABLE connections (
    id            TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    url           TEXT NOT NULL,
    username      TEXT NOT NULL,
    password      TEXT NOT NULL,
    insecure_tls  INTEGER NOT NULL,
    ca_pem        TEXT,
    accept_sha256 TEXT,
    created_at_ms INTEGER NOT NULL,
    -- What its sync last said: state, when it last matched vCenter, the last error.
    state         TEXT NOT NULL,
    synced_at_ms  INTEGER,
    last_error    TEXT
);

CREATE TABLE object_sources (
    object_id     TEXT PRIMARY KEY NOT NULL,
    kind          TEXT NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id),
    moref         TEXT NOT NULL,
    vcenter       TEXT NOT NULL
);

CREATE INDEX object_sources_by_connection ON object_sources (connection_id);
