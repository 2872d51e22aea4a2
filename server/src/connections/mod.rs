//! Connections to vCenters (docs/VCENTER.md#connections): created after a successful login,
//! stored with their password encrypted ([`secret`]), each kept in sync by a task of its own
//! ([`sync`]) that mirrors the vCenter's inventory through the inventory's gate.

pub mod secret;
pub mod sync;

use crate::audit;
use crate::db::{self, ConnectionRow, Db, DbError};
use crate::inventory::{InventoryService, ServiceError};
use crate::vcenter::{self, Endpoint, SoapError, Trust};
use domain::source::{Connection, NewConnection};
use domain::{DomainError, ObjectKind};
use secret::SecretBox;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{watch, Mutex};
use uuid::Uuid;

/// Where the key that encrypts passwords comes from (`--secret-key`, `--secret-key-file`).
#[derive(Clone)]
pub enum KeySource {
    Passphrase(String),
    File(PathBuf),
}

/// A running sync: its stop switch and its task.
type Running = (watch::Sender<bool>, tokio::task::JoinHandle<()>);

/// How often each sync reads the whole vCenter again, and how long one wait for changes lasts.
#[derive(Debug, Clone, Copy)]
pub struct SyncTiming {
    pub full_read: Duration,
    pub wait_s: u32,
}

pub struct ConnectionService {
    db: Db,
    inventory: Arc<InventoryService>,
    key: KeySource,
    secret: OnceLock<Arc<SecretBox>>,
    timing: SyncTiming,
    /// Each running sync's stop switch and task.
    syncs: Mutex<HashMap<Uuid, Running>>,
    stopping: watch::Receiver<bool>,
}

/// A refusal from vCenter at creation or test, as the field it is about.
fn refused(e: SoapError) -> ServiceError {
    let field = match &e {
        SoapError::BadLogin => "password",
        SoapError::Untrusted { .. } => "accept_sha256",
        SoapError::Config(m) if m.starts_with("ca_pem") => "ca_pem",
        _ => "url",
    };
    DomainError::invalid(field, format!("{field}: {e}")).into()
}

impl ConnectionService {
    /// Loads the connections and starts their syncs.
    pub async fn start(
        inventory: Arc<InventoryService>,
        key: KeySource,
        timing: SyncTiming,
        stopping: watch::Receiver<bool>,
    ) -> Result<Arc<Self>, DbError> {
        let service = Arc::new(ConnectionService {
            db: inventory.db().clone(),
            inventory,
            key,
            secret: OnceLock::new(),
            timing,
            syncs: Mutex::new(HashMap::new()),
            stopping,
        });
        for row in db::load_connections(&service.db).await? {
            service.clone().spawn_sync(&row).await;
        }
        Ok(service)
    }

    /// The key, read or created on first need.
    fn secret(&self) -> Result<Arc<SecretBox>, String> {
        if let Some(s) = self.secret.get() {
            return Ok(s.clone());
        }
        let made = match &self.key {
            KeySource::Passphrase(p) => SecretBox::from_passphrase(p),
            KeySource::File(path) => SecretBox::from_file(path)?,
        };
        Ok(self.secret.get_or_init(|| Arc::new(made)).clone())
    }

    fn endpoint(&self, row: &ConnectionRow) -> Result<Endpoint, String> {
        Ok(Endpoint {
            url: row.url.clone(),
            username: row.username.clone(),
            password: self.secret()?.open(&row.sealed_password)?,
            trust: Trust {
                insecure: row.insecure_tls,
                ca_pem: row.ca_pem.clone(),
                accept_sha256: row.accept_sha256.clone(),
            },
        })
    }

    /// How to reach a connection's vCenter (its password decrypted), for a migration.
    pub async fn endpoint_of(&self, id: Uuid) -> Result<Endpoint, String> {
        let row = db::load_connection(&self.db, id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("connection {id} is gone"))?;
        self.endpoint(&row)
    }

    /// vCenter's own verdict on moving a mirrored VM to a host of its vCenter
    /// (`QueryVMotionCompatibilityEx`); `None` when the move is not one vCenter judges.
    pub async fn verdict(
        &self,
        vm: domain::VmId,
        host: domain::HostId,
    ) -> Option<Result<vcenter::compat::Verdict, String>> {
        let (connection, vm, host) = {
            let inv = self.inventory.read();
            let v = inv.sources.get(&vm.0)?;
            let h = inv
                .sources
                .get(&host.0)
                .filter(|h| h.connection == v.connection)?;
            (
                v.connection,
                vcenter::soap::MoRef::new("VirtualMachine", &v.moref),
                vcenter::soap::MoRef::new("HostSystem", &h.moref),
            )
        };
        let endpoint = match self.endpoint_of(connection).await {
            Ok(e) => e,
            Err(why) => return Some(Err(why)),
        };
        Some(
            vcenter::compat::query(&endpoint, &vm, &host)
                .await
                .map_err(|e| e.to_string()),
        )
    }

    /// The API's view of a row, with the objects mirrored from it.
    fn view(&self, row: ConnectionRow) -> Connection {
        let mut objects = BTreeMap::new();
        for (kind, _) in self.inventory.read().mirrored_from(row.id) {
            *objects.entry(kind.plural().to_string()).or_insert(0) += 1;
        }
        for kind in ObjectKind::ALL.iter().filter(|k| **k != ObjectKind::Rule) {
            objects.entry(kind.plural().to_string()).or_insert(0);
        }
        Connection {
            id: row.id,
            name: row.name,
            kind: row.kind,
            url: row.url,
            username: row.username,
            insecure_tls: row.insecure_tls,
            has_ca: row.ca_pem.is_some(),
            accept_sha256: row.accept_sha256,
            created_at_ms: row.created_at_ms,
            state: row.state,
            synced_at_ms: row.synced_at_ms,
            last_error: row.last_error,
            objects,
        }
    }

    pub async fn list(&self) -> Result<Vec<Connection>, ServiceError> {
        let rows = db::load_connections(&self.db).await?;
        Ok(rows.into_iter().map(|r| self.view(r)).collect())
    }

    pub async fn get(&self, id: Uuid) -> Result<Connection, ServiceError> {
        let row = db::load_connection(&self.db, id).await?.ok_or_else(|| {
            ServiceError::Refused(DomainError::not_found(format!("no connection has id {id}")))
        })?;
        Ok(self.view(row))
    }

    /// Checks the request, logs in to vCenter (a refusal names the field: `password`, `url`,
    /// `accept_sha256`, `ca_pem`), stores the connection and starts its sync. Nothing is
    /// stored unless the login worked.
    pub async fn create(
        self: &Arc<Self>,
        request: NewConnection,
    ) -> Result<Connection, ServiceError> {
        let request = request.parse()?;
        if let Some(pem) = &request.ca_pem {
            vcenter::tls::parse_ca(pem)
                .map_err(|e| DomainError::invalid("ca_pem", format!("ca_pem {e}")))?;
        }
        let accept = match &request.accept_sha256 {
            Some(text) => Some(vcenter::tls::parse_fingerprint(text).ok_or_else(|| {
                DomainError::invalid(
                    "accept_sha256",
                    "accept_sha256: a SHA-256 fingerprint is 64 hex digits (colons allowed)",
                )
            })?),
            None => None,
        };
        let endpoint = Endpoint {
            url: request.url.clone(),
            username: request.username.clone(),
            password: request.password.clone(),
            trust: Trust {
                insecure: request.insecure_tls,
                ca_pem: request.ca_pem.clone(),
                accept_sha256: accept.clone(),
            },
        };
        let session = vcenter::soap::Session::login(&endpoint)
            .await
            .map_err(refused)?;
        session.logout().await;
        let secret = self
            .secret()
            .map_err(|e| ServiceError::Storage(DbError::Corrupt(e)))?;
        let row = ConnectionRow {
            id: Uuid::new_v4(),
            name: request.name.clone().unwrap_or_default(),
            kind: request.kind.clone(),
            url: request.url.clone(),
            username: request.username.clone(),
            sealed_password: secret.seal(&request.password),
            insecure_tls: request.insecure_tls,
            ca_pem: request.ca_pem.clone(),
            accept_sha256: accept,
            created_at_ms: now_ms(),
            state: "connecting".into(),
            synced_at_ms: None,
            last_error: None,
        };
        if !db::insert_connection(&self.db, &row).await? {
            return Err(DomainError::duplicate(
                "name",
                format!("name: a connection named {} exists already", row.name),
            )
            .into());
        }
        let record = audit::Record {
            action: "connection.create",
            object_kind: Some("connection".into()),
            object_id: Some(row.id.to_string()),
            words: domain::Phrase::new(
                "audit.connected",
                &[
                    ("connection", row.name.clone()),
                    ("url", row.url.clone()),
                    ("user", row.username.clone()),
                ],
            ),
            ..Default::default()
        };
        audit::record(&self.db, &audit::current_actor(), record).await;
        self.clone().spawn_sync(&row).await;
        Ok(self.view(row))
    }

    /// Logs in with the stored settings: vCenter's name and version, or why not.
    pub async fn test(&self, id: Uuid) -> Result<String, ServiceError> {
        let row = db::load_connection(&self.db, id).await?.ok_or_else(|| {
            ServiceError::Refused(DomainError::not_found(format!("no connection has id {id}")))
        })?;
        let endpoint = self
            .endpoint(&row)
            .map_err(|e| DomainError::invalid("password", format!("password: {e}")))?;
        let session = vcenter::soap::Session::login(&endpoint)
            .await
            .map_err(refused)?;
        let name = session.content.full_name.clone();
        session.logout().await;
        Ok(name)
    }

    /// Stops the sync, removes the objects mirrored from the connection (refused while one of
    /// its VMs is being migrated), deletes it.
    pub async fn delete(&self, id: Uuid) -> Result<(), ServiceError> {
        let row = db::load_connection(&self.db, id).await?.ok_or_else(|| {
            ServiceError::Refused(DomainError::not_found(format!("no connection has id {id}")))
        })?;
        let busy = self.inventory.busy_vms();
        if let Some((_, vm)) = self
            .inventory
            .read()
            .mirrored_from(id)
            .into_iter()
            .find(|(k, v)| *k == ObjectKind::Vm && busy.contains(&domain::VmId(*v)))
        {
            let name = self.inventory.read().vms[&domain::VmId(vm)]
                .name
                .to_string();
            return Err(DomainError::in_use(
                Some("id"),
                format!("{name} is being migrated: wait for it or cancel it first"),
            )
            .into());
        }
        // The sync ends first (a write it began is in the gate's queue before the removal).
        if let Some((stop, task)) = self.syncs.lock().await.remove(&id) {
            let _ = stop.send(true);
            let _ = task.await;
        }
        self.inventory
            .sync_mirror(id, row.name.clone(), Default::default(), HashMap::new())
            .await?;
        db::delete_connection(&self.db, id).await?;
        let record = audit::Record {
            action: "connection.delete",
            object_kind: Some("connection".into()),
            object_id: Some(id.to_string()),
            words: domain::Phrase::new("audit.disconnected", &[("connection", row.name.clone())]),
            ..Default::default()
        };
        audit::record(&self.db, &audit::current_actor(), record).await;
        Ok(())
    }

    async fn spawn_sync(self: Arc<Self>, row: &ConnectionRow) {
        let (stop, stopped) = watch::channel(false);
        let endpoint = self.endpoint(row);
        let task = sync::Sync {
            id: row.id,
            name: row.name.clone(),
            db: self.db.clone(),
            inventory: self.inventory.clone(),
            timing: self.timing,
        };
        let shutdown = self.stopping.clone();
        let handle = tokio::spawn(task.run(endpoint, stopped, shutdown));
        self.syncs.lock().await.insert(row.id, (stop, handle));
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
