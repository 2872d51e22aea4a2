//! The services behind the pages' server functions (`app::rpc`): each call goes to the same
//! service the REST API uses, and each error through the same mapping to an HTTP status
//! ([`ApiError`]).

use super::error::ApiError;
use super::AppState;
use crate::audit;
use app::rpc::ssr::{Answer, Backend, Services};
use app::rpc::{PlanAction, ServerError};
use domain::accounts::{Caller, CurrentUser, NewToken, Role, TokenInfo};
use domain::audit::{AuditEntry, AuditFilter};
use domain::checks::MigrationRequest;
use domain::migration::{Fault, FaultRequest, Migration, MigrationEvent};
use domain::plan::{PlanRecord, PlanRequest, Preview};
use domain::source::{Connection, NewConnection};
use domain::PlanId;
use domain::{Change, FaultId, ImportSummary, Inventory, InventoryFile, MigrationId, Mutation};
use std::sync::Arc;

/// What the pages' server functions reach.
pub fn backend(state: &AppState) -> Services {
    Arc::new(ServiceBackend(state.clone()))
}

struct ServiceBackend(AppState);

/// A service's answer, its error mapped as the REST API maps it.
fn mapped<T, E: Into<ApiError>>(result: Result<T, E>) -> Result<T, ServerError> {
    result.map_err(|e| e.into().into_server_error())
}

impl Backend for ServiceBackend {
    fn inventory(&self) -> Inventory {
        self.0.inventory.snapshot().1
    }

    fn apply(&self, mutation: Mutation) -> Answer<'_, Change> {
        Box::pin(async move { mapped(self.0.inventory.apply(mutation).await) })
    }

    fn import(&self, file: InventoryFile) -> Answer<'_, ImportSummary> {
        Box::pin(async move { mapped(self.0.inventory.import(file).await) })
    }

    fn start_migration(&self, request: MigrationRequest) -> Answer<'_, Migration> {
        Box::pin(async move { mapped(self.0.migrations.start_migration(request).await) })
    }

    fn cancel_migration(&self, id: MigrationId) -> Answer<'_, Migration> {
        Box::pin(async move { mapped(self.0.migrations.cancel(id).await) })
    }

    fn migration(&self, id: MigrationId) -> Option<Migration> {
        self.0.migrations.get(id)
    }

    fn migration_events(&self, id: MigrationId) -> Answer<'_, Vec<MigrationEvent>> {
        Box::pin(async move {
            match mapped(self.0.migrations.events(id).await)? {
                Some(events) => Ok(events),
                None => {
                    Err(ApiError::NotFound(format!("no migration has id {id}")).into_server_error())
                }
            }
        })
    }

    fn add_fault(&self, request: FaultRequest) -> Answer<'_, Fault> {
        Box::pin(async move { mapped(self.0.migrations.add_fault(request).await) })
    }

    fn clear_fault(&self, id: FaultId) -> Answer<'_, Fault> {
        Box::pin(async move { mapped(self.0.migrations.clear_fault(id).await) })
    }

    fn tokens(&self, caller: Caller) -> Answer<'_, Vec<TokenInfo>> {
        Box::pin(async move { mapped(self.0.accounts.tokens(&caller.user).await) })
    }

    fn create_token(&self, caller: Caller, name: String) -> Answer<'_, NewToken> {
        Box::pin(async move {
            if !caller.with_session {
                return Err(ApiError::TokenMintsToken.into_server_error());
            }
            let (token, info) = mapped(self.0.accounts.create_token(&caller.user, &name).await)?;
            Ok(NewToken { token, info })
        })
    }

    fn revoke_token(&self, caller: Caller, id: uuid::Uuid) -> Answer<'_, ()> {
        Box::pin(async move { mapped(self.0.accounts.revoke_token(&caller.user, id).await) })
    }

    fn users(&self) -> Answer<'_, Vec<CurrentUser>> {
        Box::pin(async move { mapped(self.0.accounts.users().await) })
    }

    fn create_user(
        &self,
        username: String,
        password: String,
        role: Role,
    ) -> Answer<'_, CurrentUser> {
        Box::pin(async move {
            mapped(
                self.0
                    .accounts
                    .create_user(&username, &password, role)
                    .await,
            )
        })
    }

    fn set_role(&self, id: uuid::Uuid, role: Role) -> Answer<'_, CurrentUser> {
        Box::pin(async move { mapped(self.0.accounts.set_role(id, role).await) })
    }

    fn set_language(&self, caller: Caller, lang: domain::Lang) -> Answer<'_, ()> {
        Box::pin(async move { mapped(self.0.accounts.set_language(&caller.user, lang).await) })
    }

    fn preview_plan(&self, request: PlanRequest) -> Answer<'_, Preview> {
        Box::pin(async move {
            let plans = self.0.plans.clone();
            // Planning a large cluster is CPU work: off the async threads.
            let preview = tokio::task::spawn_blocking(move || plans.preview(&request)).await;
            match preview {
                Ok(result) => mapped(result),
                Err(e) => Err(ApiError::Internal(e.to_string()).into_server_error()),
            }
        })
    }

    fn create_plan(&self, request: PlanRequest) -> Answer<'_, PlanRecord> {
        Box::pin(async move { mapped(self.0.plans.create(&request).await) })
    }

    fn plans(&self) -> Answer<'_, Vec<PlanRecord>> {
        Box::pin(async move { mapped(self.0.plans.list().await) })
    }

    fn plan(&self, id: PlanId) -> Answer<'_, PlanRecord> {
        Box::pin(async move { mapped(self.0.plans.get(id).await) })
    }

    fn plan_command(&self, id: PlanId, command: PlanAction) -> Answer<'_, PlanRecord> {
        Box::pin(async move {
            let plans = &self.0.plans;
            mapped(match command {
                PlanAction::Start => plans.start_plan(id).await,
                PlanAction::Pause => plans.pause(id).await,
                PlanAction::Resume => plans.resume(id).await,
                PlanAction::Cancel => plans.cancel(id).await,
            })
        })
    }

    fn audit(&self, filter: AuditFilter) -> Answer<'_, Vec<AuditEntry>> {
        Box::pin(async move {
            let filter = super::audit::checked(filter).map_err(ApiError::into_server_error)?;
            mapped(audit::query(self.0.inventory.db(), &filter).await)
        })
    }

    fn connections(&self) -> Answer<'_, Vec<Connection>> {
        Box::pin(async move { mapped(self.0.connections.list().await) })
    }

    fn create_connection(&self, request: NewConnection) -> Answer<'_, Connection> {
        Box::pin(async move { mapped(self.0.connections.create(request).await) })
    }

    fn test_connection(&self, id: uuid::Uuid) -> Answer<'_, String> {
        Box::pin(async move { mapped(self.0.connections.test(id).await) })
    }

    fn delete_connection(&self, id: uuid::Uuid) -> Answer<'_, ()> {
        Box::pin(async move { mapped(self.0.connections.delete(id).await) })
    }

    fn vm_count(&self) -> usize {
        self.0.inventory.read().vms.len()
    }

    fn overview(&self) -> Vec<domain::overview::ClusterTile> {
        self.0.inventory.overview()
    }

    fn read_inventory(&self, f: &mut dyn FnMut(&Inventory)) {
        f(&self.0.inventory.read())
    }

    fn vm_scope(&self, vm: domain::VmId) -> Option<Inventory> {
        let inv = self.0.inventory.read();
        let cluster = inv
            .vms
            .get(&vm)
            .and_then(|v| inv.hosts.get(&v.host_id))?
            .cluster_id;
        Some(inv.scope(&[cluster].into()))
    }

    fn inventory_scope(
        &self,
        clusters: std::collections::BTreeSet<domain::ClusterId>,
    ) -> Inventory {
        self.0.inventory.read().scope(&clusters)
    }

    fn search(
        &self,
        text: String,
        only: Option<domain::ObjectKind>,
        limit: usize,
    ) -> domain::search::Found {
        domain::search::find(&self.0.inventory.read(), &text, only, limit)
    }

    fn vcenter_verdict(
        &self,
        vm: domain::VmId,
        host: domain::HostId,
    ) -> Answer<'_, Vec<domain::checks::CheckResult>> {
        Box::pin(async move { Ok(super::checks::vcenter_results(&self.0, vm, host).await) })
    }
}
