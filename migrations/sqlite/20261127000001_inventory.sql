-- The cluster inventory (SPEC §1). Lists inside objects (mounts, members, disks, NICs,
-- devices) are child tables keeping their order in `position`.

CREATE TABLE clusters (
    id        TEXT PRIMARY KEY NOT NULL,
    name      TEXT NOT NULL UNIQUE,
    evc_level INTEGER
);

CREATE TABLE hosts (
    id                TEXT PRIMARY KEY NOT NULL,
    name              TEXT NOT NULL UNIQUE,
    cluster_id        TEXT NOT NULL REFERENCES clusters (id),
    cpu_vendor        TEXT NOT NULL,
    cpu_feature_level INTEGER NOT NULL,
    cores             INTEGER NOT NULL CHECK (cores > 0),
    cpu_mhz           INTEGER NOT NULL CHECK (cpu_mhz > 0),
    memory_mib        INTEGER NOT NULL CHECK (memory_mib > 0),
    state             TEXT NOT NULL,
    vmotion_enabled   INTEGER NOT NULL,
    vmotion_link_gbps REAL NOT NULL CHECK (vmotion_link_gbps >= 0),
    ip_family         TEXT NOT NULL
);

CREATE TABLE datastores (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    capacity_mib     INTEGER NOT NULL CHECK (capacity_mib > 0),
    throughput_mib_s INTEGER NOT NULL CHECK (throughput_mib_s > 0)
);

CREATE TABLE datastore_mounts (
    datastore_id TEXT NOT NULL REFERENCES datastores (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    host_id      TEXT NOT NULL REFERENCES hosts (id),
    PRIMARY KEY (datastore_id, position),
    UNIQUE (datastore_id, host_id)
);

CREATE TABLE switches (
    id   TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE switch_members (
    switch_id TEXT NOT NULL REFERENCES switches (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    host_id   TEXT NOT NULL REFERENCES hosts (id),
    PRIMARY KEY (switch_id, position),
    UNIQUE (switch_id, host_id)
);

CREATE TABLE portgroups (
    id        TEXT PRIMARY KEY NOT NULL,
    name      TEXT NOT NULL,
    vlan      INTEGER NOT NULL CHECK (vlan BETWEEN 0 AND 4094),
    switch_id TEXT REFERENCES switches (id),
    host_id   TEXT REFERENCES hosts (id),
    CHECK ((switch_id IS NULL) <> (host_id IS NULL))
);

CREATE TABLE vms (
    id                     TEXT PRIMARY KEY NOT NULL,
    name                   TEXT NOT NULL UNIQUE,
    host_id                TEXT NOT NULL REFERENCES hosts (id),
    power_state            TEXT NOT NULL,
    vcpus                  INTEGER NOT NULL CHECK (vcpus > 0),
    memory_mib             INTEGER NOT NULL CHECK (memory_mib > 0),
    memory_reservation_mib INTEGER NOT NULL CHECK (memory_reservation_mib >= 0),
    cpu_feature_level      INTEGER NOT NULL,
    dirty_rate_mib_s       REAL NOT NULL,
    working_set_mib        INTEGER,
    zero_page_fraction     REAL NOT NULL,
    disk_write_mib_s       REAL NOT NULL,
    fault_tolerance        INTEGER NOT NULL,
    cpu_affinity           INTEGER NOT NULL
);
CREATE INDEX vms_host ON vms (host_id);

CREATE TABLE vm_disks (
    vm_id        TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    datastore_id TEXT NOT NULL REFERENCES datastores (id),
    capacity_mib INTEGER NOT NULL CHECK (capacity_mib > 0),
    used_mib     INTEGER NOT NULL CHECK (used_mib >= 0),
    thin         INTEGER NOT NULL,
    PRIMARY KEY (vm_id, position)
);
CREATE INDEX vm_disks_datastore ON vm_disks (datastore_id);

CREATE TABLE vm_nics (
    vm_id        TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    portgroup_id TEXT NOT NULL REFERENCES portgroups (id),
    connected    INTEGER NOT NULL,
    PRIMARY KEY (vm_id, position)
);

CREATE TABLE vm_devices (
    vm_id        TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    backing      TEXT NOT NULL,
    datastore_id TEXT REFERENCES datastores (id),
    connected    INTEGER NOT NULL,
    PRIMARY KEY (vm_id, position)
);
