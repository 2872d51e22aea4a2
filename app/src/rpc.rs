//! Server functions used by the pages. They are thin: each one hands its request to the
//! server's inventory service (behind [`ssr::InventoryBackend`]), the same one the REST API
//! uses, so pages and scripts share one validation gate.

use domain::accounts::CurrentUser;
#[cfg(feature = "ssr")]
use domain::accounts::Role;
use domain::migration::{Fault, Migration, MigrationEvent};
use domain::{DomainError, ImportSummary, Inventory};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
pub mod ssr {
    use domain::checks::MigrationRequest;
    use domain::migration::{Fault, FaultRequest, Migration, MigrationEvent};
    use domain::{
        Change, DomainError, FaultId, ImportSummary, Inventory, InventoryFile, MigrationId,
        Mutation,
    };
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
        fn start_migration(&self, request: MigrationRequest) -> BackendFuture<'_, Migration>;
        fn cancel_migration(&self, id: MigrationId) -> BackendFuture<'_, Migration>;
        fn migration_events(&self, id: MigrationId) -> BackendFuture<'_, Vec<MigrationEvent>>;
        fn migration(&self, id: MigrationId) -> Option<Migration>;
        fn add_fault(&self, request: FaultRequest) -> BackendFuture<'_, Fault>;
        fn clear_fault(&self, id: FaultId) -> BackendFuture<'_, Fault>;
    }

    pub type BackendFuture<'a, T> =
        Pin<Box<dyn Future<Output = Result<T, BackendError>> + Send + 'a>>;

    pub type Backend = Arc<dyn InventoryBackend>;

    /// The signed-in user, who must have at least `role` (the server's middleware checks the
    /// route too; this also covers server functions run in-process while rendering a page).
    pub async fn require(
        role: domain::accounts::Role,
    ) -> Result<domain::accounts::CurrentUser, leptos::prelude::ServerFnError> {
        let user = leptos_axum::extract::<Option<axum::Extension<domain::accounts::CurrentUser>>>()
            .await
            .ok()
            .flatten()
            .map(|axum::Extension(u)| u)
            .ok_or_else(|| leptos::prelude::ServerFnError::new("sign in first"))?;
        if user.role.allows(role) {
            Ok(user)
        } else {
            Err(leptos::prelude::ServerFnError::new(format!(
                "this needs the {} role",
                role.as_str()
            )))
        }
    }

    pub fn backend() -> Result<Backend, leptos::prelude::ServerFnError> {
        leptos::prelude::use_context::<Backend>().ok_or_else(|| {
            leptos::prelude::ServerFnError::new("the inventory backend is not available")
        })
    }
}

/// The whole inventory, for the first render; live changes then come over the websocket.
#[server(prefix = "/rpc", endpoint = "inventory")]
pub async fn load_inventory() -> Result<Inventory, ServerFnError> {
    ssr::require(Role::Viewer).await?;
    Ok(ssr::backend()?.snapshot())
}

/// Who is signed in (`None` on the sign-in page).
#[server(prefix = "/rpc", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<CurrentUser>, ServerFnError> {
    Ok(ssr::require(Role::Viewer).await.ok())
}

/// Parses an argument inside the function, so that a malformed one is a refusal naming its
/// field rather than a decoding failure (which server_fn reports as a 500).
#[cfg(feature = "ssr")]
fn parse_arg<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, DomainError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        DomainError::invalid(field.clone(), format!("{field}: {}", e.into_inner()))
    })
}

/// Hands a mutation to the backend: a refusal is `Ok(Err(..))`, for the form to show.
#[cfg(feature = "ssr")]
async fn apply(mutation: domain::Mutation) -> Result<Result<(), DomainError>, ServerFnError> {
    ssr::require(Role::Admin).await?;
    match ssr::backend()?.apply(mutation).await {
        Ok(_) => Ok(Ok(())),
        Err(ssr::BackendError::Refused(e)) => Ok(Err(e)),
        Err(ssr::BackendError::Internal(_)) => {
            Err(ServerFnError::new("the change could not be stored"))
        }
    }
}

/// Creates (`create = true`) or replaces an object (`{"kind", "object"}`). A refusal comes
/// back as `Ok(Err(..))` so the form can show it next to its field.
#[server(prefix = "/rpc", endpoint = "save", input = Json)]
pub async fn save_object(
    create: bool,
    object: serde_json::Value,
) -> Result<Result<(), DomainError>, ServerFnError> {
    use domain::Mutation;
    let object: domain::Object = match parse_arg(object) {
        Ok(o) => o,
        Err(e) => return Ok(Err(e)),
    };
    apply(if create {
        Mutation::Create(object)
    } else {
        Mutation::Update(object)
    })
    .await
}

/// Deletes an object; refused (with who uses it) when others depend on it.
#[server(prefix = "/rpc", endpoint = "delete", input = Json)]
pub async fn delete_object(
    kind: serde_json::Value,
    id: serde_json::Value,
) -> Result<Result<(), DomainError>, ServerFnError> {
    use domain::Mutation;
    let (kind, id): (domain::ObjectKind, uuid::Uuid) = match (parse_arg(kind), parse_arg(id)) {
        (Ok(k), Ok(i)) => (k, i),
        (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
    };
    apply(Mutation::Delete(kind, id)).await
}

/// Imports objects in the export format (all or nothing).
#[server(prefix = "/rpc", endpoint = "import", input = Json)]
pub async fn import_inventory(
    file: serde_json::Value,
) -> Result<Result<ImportSummary, DomainError>, ServerFnError> {
    ssr::require(Role::Admin).await?;
    let file: domain::InventoryFile = match parse_arg(file) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    match ssr::backend()?.import(file).await {
        Ok(summary) => Ok(Ok(summary)),
        Err(ssr::BackendError::Refused(e)) => Ok(Err(e)),
        Err(ssr::BackendError::Internal(_)) => {
            Err(ServerFnError::new("the import could not be stored"))
        }
    }
}

/// Hands a backend answer to the page: a refusal is `Ok(Err(..))`, shown to the user.
#[cfg(feature = "ssr")]
fn answer<T>(
    result: Result<T, ssr::BackendError>,
    what: &str,
) -> Result<Result<T, DomainError>, ServerFnError> {
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(ssr::BackendError::Refused(e)) => Ok(Err(e)),
        Err(ssr::BackendError::Internal(_)) => Err(ServerFnError::new(format!("{what} failed"))),
    }
}

/// Starts a migration (`MigrationRequest`); the server runs the checks again. A refusal
/// (blocked by a check, VM busy, bad value) comes back as `Ok(Err(..))`.
#[server(prefix = "/rpc", endpoint = "migrations/start", input = Json)]
pub async fn start_migration(
    request: serde_json::Value,
) -> Result<Result<Migration, DomainError>, ServerFnError> {
    ssr::require(Role::Operator).await?;
    let request = match parse_arg(request) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    answer(
        ssr::backend()?.start_migration(request).await,
        "starting the migration",
    )
}

/// Cancels a queued or running migration; the VM stays where it is.
#[server(prefix = "/rpc", endpoint = "migrations/cancel", input = Json)]
pub async fn cancel_migration(
    id: serde_json::Value,
) -> Result<Result<Migration, DomainError>, ServerFnError> {
    ssr::require(Role::Operator).await?;
    let id = match parse_arg(id) {
        Ok(i) => i,
        Err(e) => return Ok(Err(e)),
    };
    answer(
        ssr::backend()?.cancel_migration(id).await,
        "cancelling the migration",
    )
}

/// A migration's stored events, in order.
#[server(prefix = "/rpc", endpoint = "migrations/events", input = Json)]
pub async fn migration_events(
    id: serde_json::Value,
) -> Result<Result<Vec<MigrationEvent>, DomainError>, ServerFnError> {
    ssr::require(Role::Viewer).await?;
    let id = match parse_arg(id) {
        Ok(i) => i,
        Err(e) => return Ok(Err(e)),
    };
    answer(
        ssr::backend()?.migration_events(id).await,
        "reading the events",
    )
}

/// One migration (for a page opened on one the live snapshot no longer carries).
#[server(prefix = "/rpc", endpoint = "migrations/get", input = Json)]
pub async fn get_migration(id: serde_json::Value) -> Result<Option<Migration>, ServerFnError> {
    ssr::require(Role::Viewer).await?;
    let Ok(id) = parse_arg(id) else {
        return Ok(None);
    };
    Ok(ssr::backend()?.migration(id))
}

/// Injects a fault (`{"kind", "target_id"}`).
#[server(prefix = "/rpc", endpoint = "faults/add", input = Json)]
pub async fn add_fault(
    request: serde_json::Value,
) -> Result<Result<Fault, DomainError>, ServerFnError> {
    ssr::require(Role::Operator).await?;
    let request = match parse_arg(request) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    answer(
        ssr::backend()?.add_fault(request).await,
        "injecting the fault",
    )
}

/// Clears a fault.
#[server(prefix = "/rpc", endpoint = "faults/clear", input = Json)]
pub async fn clear_fault(
    id: serde_json::Value,
) -> Result<Result<Fault, DomainError>, ServerFnError> {
    ssr::require(Role::Operator).await?;
    let id = match parse_arg(id) {
        Ok(i) => i,
        Err(e) => return Ok(Err(e)),
    };
    answer(ssr::backend()?.clear_fault(id).await, "clearing the fault")
}
