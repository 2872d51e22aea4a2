//! The inventory service as seen by the pages' server functions.

use crate::engine::service::{CommandError, MigrationService, StartError};
use crate::inventory_service::{InventoryService, ServiceError};
use app::rpc::ssr::{BackendError, BackendFuture, InventoryBackend};
use domain::checks::MigrationRequest;
use domain::migration::{Fault, FaultRequest, Migration, MigrationEvent};
use domain::{
    Change, DomainError, FaultId, ImportSummary, Inventory, InventoryFile, MigrationId, Mutation,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The services behind the pages' server functions.
pub struct ServiceBackend(pub Arc<InventoryService>, pub Arc<MigrationService>);

impl InventoryBackend for ServiceBackend {
    fn snapshot(&self) -> Inventory {
        self.0.snapshot().1
    }

    fn import(
        &self,
        file: InventoryFile,
    ) -> Pin<Box<dyn Future<Output = Result<ImportSummary, BackendError>> + Send + '_>> {
        Box::pin(async move { self.0.import(file).await.map_err(backend_error) })
    }

    fn apply(
        &self,
        mutation: Mutation,
    ) -> Pin<Box<dyn Future<Output = Result<Change, BackendError>> + Send + '_>> {
        Box::pin(async move { self.0.apply(mutation).await.map_err(backend_error) })
    }

    fn start_migration(&self, request: MigrationRequest) -> BackendFuture<'_, Migration> {
        Box::pin(async move {
            self.1.start_migration(request).await.map_err(|e| match e {
                StartError::Refused(d) => BackendError::Refused(d),
                e @ StartError::Busy { .. } => {
                    BackendError::Refused(DomainError::in_use(Some("vm_id"), e.to_string()))
                }
                e @ StartError::Blocked(_) => BackendError::Refused(DomainError {
                    code: domain::ErrorCode::Invalid,
                    message: e.to_string(),
                    field: None,
                }),
                other => internal(other.to_string()),
            })
        })
    }

    fn cancel_migration(&self, id: MigrationId) -> BackendFuture<'_, Migration> {
        Box::pin(async move { self.1.cancel(id).await.map_err(command_error) })
    }

    fn migration_events(&self, id: MigrationId) -> BackendFuture<'_, Vec<MigrationEvent>> {
        Box::pin(async move {
            match self.1.events(id).await {
                Ok(Some(events)) => Ok(events),
                Ok(None) => Err(BackendError::Refused(DomainError::not_found(format!(
                    "no migration has id {id}"
                )))),
                Err(e) => Err(internal(e.to_string())),
            }
        })
    }

    fn migration(&self, id: MigrationId) -> Option<Migration> {
        self.1.get(id)
    }

    fn add_fault(&self, request: FaultRequest) -> BackendFuture<'_, Fault> {
        Box::pin(async move { self.1.add_fault(request).await.map_err(command_error) })
    }

    fn clear_fault(&self, id: FaultId) -> BackendFuture<'_, Fault> {
        Box::pin(async move { self.1.clear_fault(id).await.map_err(command_error) })
    }
}

fn internal(detail: String) -> BackendError {
    tracing::error!(%detail, "a page request failed");
    BackendError::Internal(detail)
}

fn command_error(e: CommandError) -> BackendError {
    match e {
        CommandError::Refused(d) => BackendError::Refused(d),
        e @ (CommandError::NotFound(_) | CommandError::NoFault(_)) => {
            BackendError::Refused(DomainError::not_found(e.to_string()))
        }
        e @ CommandError::AlreadyFinished(_) => {
            BackendError::Refused(DomainError::in_use(None, e.to_string()))
        }
        other => internal(other.to_string()),
    }
}

fn backend_error(e: ServiceError) -> BackendError {
    match e {
        ServiceError::Refused(d) => BackendError::Refused(d),
        ServiceError::Storage(s) => {
            tracing::error!(error = %s, "storing a change failed");
            BackendError::Internal(s.to_string())
        }
        e @ ServiceError::Fenced => BackendError::Internal(e.to_string()),
    }
}
