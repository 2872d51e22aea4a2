//! Rows of the inventory tables to domain objects and back.

use super::DbError;
use super::{Statement, Tx};
use domain::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::num::NonZeroU32;
use uuid::Uuid;

/// The snake_case spelling of a unit enum (as in the API).
pub(super) fn enum_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => unreachable!("unit enums serialize as strings, got {other:?}"),
    }
}

fn parse_enum<T: DeserializeOwned>(text: String) -> Result<T, DbError> {
    serde_json::from_value(serde_json::Value::String(text.clone()))
        .map_err(|_| DbError::Corrupt(format!("unknown value {text:?}")))
}

fn uuid(row: &AnyRow, column: &str) -> Result<Uuid, DbError> {
    let text: String = row.try_get(column)?;
    Uuid::parse_str(&text).map_err(|_| DbError::Corrupt(format!("{column}: bad id {text:?}")))
}

fn opt_uuid(row: &AnyRow, column: &str) -> Result<Option<Uuid>, DbError> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| Uuid::parse_str(&t).map_err(|_| DbError::Corrupt(format!("{column}: {t:?}"))))
        .transpose()
}

fn name(row: &AnyRow) -> Result<Name, DbError> {
    Name::parse(&row.try_get::<String, _>("name")?).map_err(DbError::Corrupt)
}

fn size(row: &AnyRow, column: &str) -> Result<SizeMib, DbError> {
    let v: i64 = row.try_get(column)?;
    u64::try_from(v)
        .ok()
        .and_then(|v| SizeMib::parse(v).ok())
        .ok_or_else(|| DbError::Corrupt(format!("{column} = {v}")))
}

fn nz32(row: &AnyRow, column: &str) -> Result<NonZeroU32, DbError> {
    let v: i64 = row.try_get(column)?;
    u32::try_from(v)
        .ok()
        .and_then(NonZeroU32::new)
        .ok_or_else(|| DbError::Corrupt(format!("{column} = {v}")))
}

fn u64_of(row: &AnyRow, column: &str) -> Result<u64, DbError> {
    let v: i64 = row.try_get(column)?;
    u64::try_from(v).map_err(|_| DbError::Corrupt(format!("{column} = {v}")))
}

fn u32_of(row: &AnyRow, column: &str) -> Result<u32, DbError> {
    let v: i64 = row.try_get(column)?;
    u32::try_from(v).map_err(|_| DbError::Corrupt(format!("{column} = {v}")))
}

fn float<T: TryFrom<f64, Error = String>>(row: &AnyRow, column: &str) -> Result<T, DbError> {
    T::try_from(row.try_get::<f64, _>(column)?).map_err(DbError::Corrupt)
}

/// Flags are stored as 0/1 (the same on every backend).
fn flag(row: &AnyRow, column: &str) -> Result<bool, DbError> {
    match row.try_get::<i64, _>(column)? {
        0 => Ok(false),
        1 => Ok(true),
        v => Err(DbError::Corrupt(format!("{column} = {v}"))),
    }
}

/// Sizes are bounded by the domain ([`SizeMib::MAX`]), far below `i64::MAX`.
pub(super) fn as_i64(v: u64) -> i64 {
    i64::try_from(v).expect("domain sizes fit in i64")
}

/// Reads the whole inventory. The rows were validated on their way in, so they are applied
/// directly (re-validating 45,000 VMs one by one would be quadratic).
pub async fn load_inventory(tx: &mut Tx<'_>) -> Result<Inventory, DbError> {
    let mut inv = Inventory::default();

    for row in sqlx::query("SELECT * FROM clusters")
        .fetch_all(&mut **tx)
        .await?
    {
        let evc: Option<i64> = row.try_get("evc_level")?;
        let c = Cluster {
            id: ClusterId(uuid(&row, "id")?),
            name: name(&row)?,
            evc_level: evc.map(|v| u32::try_from(v).unwrap_or(0)),
        };
        inv.clusters.insert(c.id, c);
    }
    for row in sqlx::query("SELECT * FROM hosts")
        .fetch_all(&mut **tx)
        .await?
    {
        let h = Host {
            id: HostId(uuid(&row, "id")?),
            name: name(&row)?,
            cluster_id: ClusterId(uuid(&row, "cluster_id")?),
            cpu_vendor: parse_enum(row.try_get("cpu_vendor")?)?,
            cpu_feature_level: u32_of(&row, "cpu_feature_level")?,
            cores: nz32(&row, "cores")?,
            cpu_mhz: nz32(&row, "cpu_mhz")?,
            memory_mib: size(&row, "memory_mib")?,
            state: parse_enum(row.try_get("state")?)?,
            vmotion_enabled: flag(&row, "vmotion_enabled")?,
            vmotion_link_gbps: float(&row, "vmotion_link_gbps")?,
            ip_family: parse_enum(row.try_get("ip_family")?)?,
        };
        inv.hosts.insert(h.id, h);
    }
    for row in sqlx::query("SELECT * FROM datastores")
        .fetch_all(&mut **tx)
        .await?
    {
        let d = Datastore {
            id: DatastoreId(uuid(&row, "id")?),
            name: name(&row)?,
            kind: parse_enum(row.try_get("kind")?)?,
            capacity_mib: size(&row, "capacity_mib")?,
            throughput_mib_s: nz32(&row, "throughput_mib_s")?,
            host_ids: vec![],
        };
        inv.datastores.insert(d.id, d);
    }
    for row in sqlx::query("SELECT * FROM datastore_mounts ORDER BY datastore_id, position")
        .fetch_all(&mut **tx)
        .await?
    {
        let ds = DatastoreId(uuid(&row, "datastore_id")?);
        let host = HostId(uuid(&row, "host_id")?);
        if let Some(d) = inv.datastores.get_mut(&ds) {
            d.host_ids.push(host);
        }
    }
    for row in sqlx::query("SELECT * FROM switches")
        .fetch_all(&mut **tx)
        .await?
    {
        let s = Switch {
            id: SwitchId(uuid(&row, "id")?),
            name: name(&row)?,
            host_ids: vec![],
        };
        inv.switches.insert(s.id, s);
    }
    for row in sqlx::query("SELECT * FROM switch_members ORDER BY switch_id, position")
        .fetch_all(&mut **tx)
        .await?
    {
        let sw = SwitchId(uuid(&row, "switch_id")?);
        let host = HostId(uuid(&row, "host_id")?);
        if let Some(s) = inv.switches.get_mut(&sw) {
            s.host_ids.push(host);
        }
    }
    for row in sqlx::query("SELECT * FROM portgroups")
        .fetch_all(&mut **tx)
        .await?
    {
        let vlan: i64 = row.try_get("vlan")?;
        let p = Portgroup {
            id: PortgroupId(uuid(&row, "id")?),
            name: name(&row)?,
            vlan: u16::try_from(vlan)
                .map_err(|e| e.to_string())
                .and_then(VlanId::parse)
                .map_err(DbError::Corrupt)?,
            switch_id: opt_uuid(&row, "switch_id")?.map(SwitchId),
            host_id: opt_uuid(&row, "host_id")?.map(HostId),
        };
        inv.portgroups.insert(p.id, p);
    }
    load_vms(tx, &mut inv).await?;
    for row in sqlx::query("SELECT record FROM rules")
        .fetch_all(&mut **tx)
        .await?
    {
        let record: String = row.try_get("record")?;
        let rule: Rule =
            serde_json::from_str(&record).map_err(|e| DbError::Corrupt(format!("rule: {e}")))?;
        inv.rules.insert(rule.id, rule);
    }
    for row in sqlx::query("SELECT object_id, connection_id, moref, vcenter FROM object_sources")
        .fetch_all(&mut **tx)
        .await?
    {
        let source = Source {
            connection: uuid(&row, "connection_id")?,
            moref: row.try_get("moref")?,
            vcenter: row.try_get("vcenter")?,
        };
        inv.sources.insert(uuid(&row, "object_id")?, source);
    }
    inv.reindex();
    Ok(inv)
}

/// The VMs with their disks, NICs and devices (rows in their stored order).
async fn load_vms(tx: &mut Tx<'_>, inv: &mut Inventory) -> Result<(), DbError> {
    for row in sqlx::query("SELECT * FROM vms")
        .fetch_all(&mut **tx)
        .await?
    {
        let ws: Option<i64> = row.try_get("working_set_mib")?;
        let v = Vm {
            id: VmId(uuid(&row, "id")?),
            name: name(&row)?,
            host_id: HostId(uuid(&row, "host_id")?),
            power_state: parse_enum(row.try_get("power_state")?)?,
            vcpus: nz32(&row, "vcpus")?,
            memory_mib: size(&row, "memory_mib")?,
            memory_reservation_mib: u64_of(&row, "memory_reservation_mib")?,
            cpu_feature_level: u32_of(&row, "cpu_feature_level")?,
            disks: vec![],
            nics: vec![],
            devices: vec![],
            workload: Workload {
                dirty_rate_mib_s: float(&row, "dirty_rate_mib_s")?,
                working_set_mib: ws
                    .and_then(|v| u64::try_from(v).ok())
                    .and_then(|v| SizeMib::parse(v).ok()),
                zero_page_fraction: float(&row, "zero_page_fraction")?,
                disk_write_mib_s: float(&row, "disk_write_mib_s")?,
            },
            fault_tolerance: flag(&row, "fault_tolerance")?,
            cpu_affinity: flag(&row, "cpu_affinity")?,
        };
        inv.vms.insert(v.id, v);
    }
    for row in sqlx::query("SELECT * FROM vm_disks ORDER BY vm_id, position")
        .fetch_all(&mut **tx)
        .await?
    {
        let vm = VmId(uuid(&row, "vm_id")?);
        let disk = Disk {
            datastore_id: DatastoreId(uuid(&row, "datastore_id")?),
            capacity_mib: size(&row, "capacity_mib")?,
            used_mib: u64_of(&row, "used_mib")?,
            thin: flag(&row, "thin")?,
        };
        if let Some(v) = inv.vms.get_mut(&vm) {
            v.disks.push(disk);
        }
    }
    for row in sqlx::query("SELECT * FROM vm_nics ORDER BY vm_id, position")
        .fetch_all(&mut **tx)
        .await?
    {
        let vm = VmId(uuid(&row, "vm_id")?);
        let nic = Nic {
            portgroup_id: PortgroupId(uuid(&row, "portgroup_id")?),
            connected: flag(&row, "connected")?,
        };
        if let Some(v) = inv.vms.get_mut(&vm) {
            v.nics.push(nic);
        }
    }
    for row in sqlx::query("SELECT * FROM vm_devices ORDER BY vm_id, position")
        .fetch_all(&mut **tx)
        .await?
    {
        let vm = VmId(uuid(&row, "vm_id")?);
        let device = Device {
            kind: parse_enum(row.try_get("kind")?)?,
            backing: parse_enum(row.try_get("backing")?)?,
            datastore_id: opt_uuid(&row, "datastore_id")?.map(DatastoreId),
            connected: flag(&row, "connected")?,
        };
        if let Some(v) = inv.vms.get_mut(&vm) {
            v.devices.push(device);
        }
    }
    Ok(())
}

/// Writes one validated change inside the caller's transaction.
pub async fn store_change(tx: &mut Tx<'_>, change: &Change) -> Result<(), DbError> {
    match change {
        Change::Upsert { object } => upsert(tx, object).await,
        Change::Delete { kind, id } => {
            sqlx::query("DELETE FROM object_sources WHERE object_id = $1")
                .bind(id.to_string())
                .execute(&mut **tx)
                .await?;
            // Tables are named after the API collections; child rows cascade.
            let table = kind.plural();
            sqlx::query(&format!("DELETE FROM {table} WHERE id = $1"))
                .bind(id.to_string())
                .execute(&mut **tx)
                .await?;
            Ok(())
        }
        Change::Source { kind, id, source } => {
            match source {
                Some(s) => {
                    sqlx::query(
                        "INSERT INTO object_sources (object_id, kind, connection_id, moref, vcenter)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (object_id) DO UPDATE SET kind = excluded.kind,
                            connection_id = excluded.connection_id, moref = excluded.moref,
                            vcenter = excluded.vcenter",
                    )
                    .bind(id.to_string())
                    .bind(kind.plural())
                    .bind(s.connection.to_string())
                    .bind(&s.moref)
                    .bind(&s.vcenter)
                    .execute(&mut **tx)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM object_sources WHERE object_id = $1")
                        .bind(id.to_string())
                        .execute(&mut **tx)
                        .await?;
                }
            }
            Ok(())
        }
        Change::Batch { changes } => {
            for c in changes {
                Box::pin(store_change(tx, c)).await?;
            }
            Ok(())
        }
    }
}

async fn upsert(tx: &mut Tx<'_>, object: &Object) -> Result<(), DbError> {
    let id = object.id().to_string();
    match object {
        Object::Cluster(c) => {
            sqlx::query(
                "INSERT INTO clusters (id, name, evc_level) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, evc_level = excluded.evc_level",
            )
            .bind(&id)
            .bind(c.name.as_str())
            .bind(c.evc_level.map(i64::from))
            .execute(&mut **tx)
            .await?;
        }
        Object::Host(h) => super::batch::hosts(tx, &[h]).await?,
        Object::Datastore(d) => {
            sqlx::query(
                "INSERT INTO datastores (id, name, kind, capacity_mib, throughput_mib_s)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                    capacity_mib = excluded.capacity_mib, throughput_mib_s = excluded.throughput_mib_s",
            )
            .bind(&id)
            .bind(d.name.as_str())
            .bind(enum_text(&d.kind))
            .bind(as_i64(d.capacity_mib.get()))
            .bind(i64::from(d.throughput_mib_s.get()))
            .execute(&mut **tx)
            .await?;
            replace_host_list(tx, "datastore_mounts", "datastore_id", &id, &d.host_ids).await?;
        }
        Object::Switch(s) => {
            sqlx::query(
                "INSERT INTO switches (id, name) VALUES ($1, $2)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            )
            .bind(&id)
            .bind(s.name.as_str())
            .execute(&mut **tx)
            .await?;
            replace_host_list(tx, "switch_members", "switch_id", &id, &s.host_ids).await?;
        }
        Object::Portgroup(p) => {
            sqlx::query(
                "INSERT INTO portgroups (id, name, vlan, switch_id, host_id) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, vlan = excluded.vlan,
                    switch_id = excluded.switch_id, host_id = excluded.host_id",
            )
            .bind(&id)
            .bind(p.name.as_str())
            .bind(i64::from(p.vlan.get()))
            .bind(p.switch_id.map(|s| s.to_string()))
            .bind(p.host_id.map(|h| h.to_string()))
            .execute(&mut **tx)
            .await?;
        }
        Object::Vm(v) => super::batch::vms(tx, &[v]).await?,
        Object::Rule(r) => {
            let record = serde_json::to_string(r).map_err(|e| DbError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO rules (id, name, cluster_id, record) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                    cluster_id = excluded.cluster_id, record = excluded.record",
            )
            .bind(&id)
            .bind(r.name.as_str())
            .bind(r.cluster_id.to_string())
            .bind(record)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

async fn replace_host_list(
    tx: &mut Tx<'_>,
    table: &str,
    owner_column: &str,
    owner: &str,
    hosts: &[HostId],
) -> Result<(), DbError> {
    sqlx::query(&format!("DELETE FROM {table} WHERE {owner_column} = $1"))
        .bind(owner)
        .execute(&mut **tx)
        .await?;
    if hosts.is_empty() {
        return Ok(());
    }
    // One multi-row INSERT (SQLite allows 32,766 bound values: 10,922 hosts).
    let mut insert = Statement::new(format!(
        "INSERT INTO {table} ({owner_column}, position, host_id)"
    ));
    insert.values(hosts.iter().enumerate(), |row, (i, h)| {
        row.bind(owner.to_owned())
            .bind(i as i64)
            .bind(h.to_string());
    });
    insert.execute(&mut **tx).await?;
    Ok(())
}
