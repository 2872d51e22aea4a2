//! Server functions used by the pages. They are thin: each one hands its request to the
//! server's inventory service (behind [`ssr::InventoryBackend`]), the same one the REST API
//! uses, so pages and scripts share one validation gate.

use crate::domain::{DomainError, ImportSummary, Inventory, InventoryFile, Object, ObjectKind};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::domain::{Change, DomainError, ImportSummary, Inventory, InventoryFile, Mutation};
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    /// Why the server could not apply a mutation.
    #[derive(Debug)]
    pub enum BackendError {
        /// Refused by validation: shown to the user next to the field.
        Refused(DomainError),
        /// Anything else; logged by the server, reported as a generic failure.
        Internal(String),
    }

    /// What the pages need from the server: the inventory and its validation gate.
    pub trait InventoryBackend: Send + Sync + 'static {
        fn snapshot(&self) -> Inventory;
        fn import(
            &self,
            file: InventoryFile,
        ) -> Pin<Box<dyn Future<Output = Result<ImportSummary, BackendError>> + Send + '_>>;
        fn apply(
            &self,
            mutation: Mutation,
        ) -> Pin<Box<dyn Future<Output = Result<Change, BackendError>> + Send + '_>>;
    }

    pub type Backend = Arc<dyn InventoryBackend>;

    pub fn backend() -> Result<Backend, leptos::prelude::ServerFnError> {
        leptos::prelude::use_context::<Backend>().ok_or_else(|| {
            leptos::prelude::ServerFnError::new("the inventory backend is not available")
        })
    }
}

/// The whole inventory, for the first render; live changes then come over the websocket.
#[server(prefix = "/rpc", endpoint = "inventory")]
pub async fn load_inventory() -> Result<Inventory, ServerFnError> {
    Ok(ssr::backend()?.snapshot())
}

/// Creates (`create = true`) or replaces an object. A refusal comes back as `Ok(Err(..))`
/// so the form can show it next to its field.
#[server(prefix = "/rpc", endpoint = "save", input = Json)]
pub async fn save_object(
    create: bool,
    object: Object,
) -> Result<Result<(), DomainError>, ServerFnError> {
    use crate::domain::Mutation;
    let mutation = if create {
        Mutation::Create(object)
    } else {
        Mutation::Update(object)
    };
    match ssr::backend()?.apply(mutation).await {
        Ok(_) => Ok(Ok(())),
        Err(ssr::BackendError::Refused(e)) => Ok(Err(e)),
        Err(ssr::BackendError::Internal(_)) => {
            Err(ServerFnError::new("the change could not be stored"))
        }
    }
}

/// Deletes an object; refused (with who uses it) when others depend on it.
#[server(prefix = "/rpc", endpoint = "delete", input = Json)]
pub async fn delete_object(
    kind: ObjectKind,
    id: Uuid,
) -> Result<Result<(), DomainError>, ServerFnError> {
    use crate::domain::Mutation;
    match ssr::backend()?.apply(Mutation::Delete(kind, id)).await {
        Ok(_) => Ok(Ok(())),
        Err(ssr::BackendError::Refused(e)) => Ok(Err(e)),
        Err(ssr::BackendError::Internal(_)) => {
            Err(ServerFnError::new("the change could not be stored"))
        }
    }
}

/// Imports objects in the export format (all or nothing).
#[server(prefix = "/rpc", endpoint = "import", input = Json)]
pub async fn import_inventory(
    file: InventoryFile,
) -> Result<Result<ImportSummary, DomainError>, ServerFnError> {
    match ssr::backend()?.import(file).await {
        Ok(summary) => Ok(Ok(summary)),
        Err(ssr::BackendError::Refused(e)) => Ok(Err(e)),
        Err(ssr::BackendError::Internal(_)) => {
            Err(ServerFnError::new("the import could not be stored"))
        }
    }
}
