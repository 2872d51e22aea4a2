//! The inventory service as seen by the pages' server functions.

use crate::inventory_service::{InventoryService, ServiceError};
use app::domain::{Change, ImportSummary, Inventory, InventoryFile, Mutation};
use app::rpc::ssr::{BackendError, InventoryBackend};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The service behind the pages' server functions.
pub struct ServiceBackend(pub Arc<InventoryService>);

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
}

fn backend_error(e: ServiceError) -> BackendError {
    match e {
        ServiceError::Refused(d) => BackendError::Refused(d),
        ServiceError::Storage(s) => {
            tracing::error!(error = %s, "storing a change failed");
            BackendError::Internal(s.to_string())
        }
    }
}
