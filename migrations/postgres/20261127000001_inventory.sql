-- The cluster inventory (SPEC §1). Lists inside objects (mounts, members, disks, NICs,
-- devices) are child tables keeping their order in `position`.

CREATE TABLE clusters (
    id        TEXT PRIMARY KEY NOT NULL,
    name      TEXT NOT NULL UNIQUE,
    evc_level BIGINT
);

CREATE TABLE hosts (
    id                TEXT PRIMARY KEY NOT NULL,
    name              TEXT NOT NULL UNIQUE,
    cluster_id        TEXT NOT NULL REFERENCES clusters (id),
    cpu_vendor        TEXT NOT NULL,
    cpu_feature_level BIGINT NOT NULL,
    cores             BIGINT NOT NULL CHECK (cores > 0),
    cpu_mhz           BIGINT NOT NULL CHECK (cpu_mhz > 0),
    memory_mib        BIGINT NOT NULL CHECK (memory_mib > 0),
    state             TEXT NOT NULL,
    vmotion_enabled   BIGINT NOT NULL,
    vmotion_link_gbps DOUBLE PRECISION NOT NULL CHECK (vmotion_link_gbps >= 0),
    ip_family         TEXT NOT NULL
);

CREATE TABLE datastores (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    capacity_mib     BIGINT NOT NULL CHECK (capacity_mib > 0),
    throughput_mib_s BIGINT NOT NULL CHECK (throughput_mib_s > 0)
);

CREATE TABLE datastore_mounts (
    datastore_id TEXT NOT NULL REFERENCES datastores (id) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
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
    position  BIGINT NOT NULL,
    host_id   TEXT NOT NULL REFERENCES hosts (id),
    PRIMARY KEY (switch_id, position),
    UNIQUE (switch_id, host_id)
);

CREATE TABLE portgroups (
    id        TEXT PRIMARY KEY NOT NULL,
    name      TEXT NOT NULL,
    vlan      BIGINT NOT NULL CHECK (vlan BETWEEN 0 AND 4094),
    switch_id TEXT REFERENCES switches (id),
    host_id   TEXT REFERENCES hosts (id),
    CHECK ((switch_id IS NULL) <> (host_id IS NULL))
);

CREATE TABLE vms (
    id                     TEXT PRIMARY KEY NOT NULL,
    name                   TEXT NOT NULL UNIQUE,
    host_id                TEXT NOT NULL REFERENCES hosts (id),
    power_state            TEXT NOT NULL,
    vcpus                  BIGINT NOT NULL CHECK (vcpus > 0),
    memory_mib             BIGINT NOT NULL CHECK (memory_mib > 0),
    memory_reservation_mib BIGINT NOT NULL CHECK (memory_reservation_mib >= 0),
    cpu_feature_level      BIGINT NOT NULL,
    dirty_rate_mib_s       DOUBLE PRECISION NOT NULL,
    working_set_mib        BIGINT,
    zero_page_fraction     DOUBLE PRECISION NOT NULL,
    disk_write_mib_s       DOUBLE PRECISION NOT NULL,
    fault_tolerance        BIGINT NOT NULL,
    cpu_affinity           BIGINT NOT NULL
);
CREATE INDEX vms_host ON vms (host_id);

CREATE TABLE vm_disks (
    vm_id        TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    datastore_id TEXT NOT NULL REFERENCES datastores (id),
    capacity_mib BIGINT NOT NULL CHECK (capacity_mib > 0),
    used_mib     BIGINT NOT NULL CHECK (used_mib >= 0),
    thin         BIGINT NOT NULL,
    PRIMARY KEY (vm_id, position)
);
CREATE INDEX vm_disks_datastore ON vm_disks (datastore_id);

CREATE TABLE vm_nics (
    vm_id        TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    portgroup_id TEXT NOT NULL REFERENCES portgroups (id),
    connected    BIGINT NOT NULL,
    PRIMARY KEY (vm_id, position)
);

CREATE TABLE vm_devices (
    vm_id        TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    backing      TEXT NOT NULL,
    datastore_id TEXT REFERENCES datastores (id),
    connected    BIGINT NOT NULL,
    PRIMARY KEY (vm_id, position)
);
