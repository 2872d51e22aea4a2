//! The pages' one way to the server: typed server functions, each a thin call into the
//! server's services through [`ssr::Backend`] (implemented by the server, `http::server_fns`),
//! the same services the REST API uses.
//!
//! A server function's role is the first segment of its endpoint (`operator/migrations/start`):
//! the server refuses the call over HTTP to anyone without it (and a server function without a
//! role to everyone), and [`ssr::backend`] checks it again for calls made in-process while a
//! page renders. Errors are [`ServerError`]: the code, message and field the REST API answers
//! with, sent with the same HTTP status.

use domain::accounts::{CurrentUser, NewToken, Role, TokenInfo};
use domain::audit::{AuditEntry, AuditFilter};
use domain::checks::MigrationRequest;
use domain::migration::{Fault, FaultRequest, Migration, MigrationEvent};
use domain::plan::{PlanRecord, PlanRequest, Preview};
use domain::source::{Connection, NewConnection};
use domain::{
    FaultId, ImportSummary, Inventory, InventoryFile, MigrationId, Object, ObjectKind, PlanId,
};
use leptos::prelude::*;
use leptos::server_fn::codec::{Post, PostUrl};
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why the server refused or failed a call: what the REST API answers in
/// `{"error": {"code", "message", "field"}}`, with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ServerError {
    pub status: u16,
    /// `invalid`, `not_found`, `duplicate`, `in_use`, `conflict`, `blocked`, `forbidden`…
    pub code: String,
    pub message: String,
    /// The field at fault (`disks[0].capacity_mib`), when there is one.
    pub field: Option<String>,
    /// The message as a code and values, when the domain gave one (docs/DESIGN.md#languages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<Box<domain::Phrase>>,
}

impl ServerError {
    /// Its message in `locale`: the domain's words, else the English as it came.
    pub fn said(&self, locale: crate::i18n::Locale) -> String {
        crate::phrase_text::said_in(locale, self.words.as_deref(), &self.message)
    }

    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ServerError {
            status,
            code: code.into(),
            message: message.into(),
            field: None,
            words: None,
        }
    }
}

impl From<domain::DomainError> for ServerError {
    /// A refusal of the domain, as the REST API maps it.
    fn from(e: domain::DomainError) -> Self {
        use domain::ErrorCode::*;
        let (status, code) = match e.code {
            Invalid => (422, "invalid"),
            NotFound => (404, "not_found"),
            Duplicate => (409, "duplicate"),
            InUse => (409, "in_use"),
        };
        ServerError {
            status,
            code: code.into(),
            message: e.message,
            field: e.field,
            words: e.words,
        }
    }
}

impl FromServerFnError for ServerError {
    type Encoder = TextJsonEncoding;

    /// What went wrong around the call itself: arguments that do not decode (the field
    /// named, 422), the server out of reach, an unreadable answer.
    fn from_server_fn_error(e: ServerFnErrorErr) -> Self {
        // On the server, a body that does not decode is the caller's (the arguments);
        // in the browser, an answer that does not decode is not.
        let arguments = match &e {
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => Some(m.clone()),
            ServerFnErrorErr::Deserialization(m) if cfg!(feature = "ssr") => Some(m.clone()),
            _ => None,
        };
        if let Some(message) = arguments {
            let field = message
                .split_once(": ")
                .map(|(field, _)| field.to_owned())
                .filter(|f| !f.contains(' '));
            let mut error = ServerError::new(422, "invalid", message);
            error.field = field;
            ssr::set_status(error.status);
            return error;
        }
        match e {
            ServerFnErrorErr::Request(m) => ServerError::new(
                0,
                "unreachable",
                format!("the server cannot be reached: {m}"),
            ),
            other => {
                ssr::set_status(500);
                ServerError::new(500, "internal", other.to_string())
            }
        }
    }
}

/// JSON arguments decoded with the path of the offending field in the error
/// (`request.options.downtime_target_ms: invalid type…`).
pub struct FieldJsonEncoding;
pub type FieldJson = Post<FieldJsonEncoding>;

impl leptos::server_fn::ContentType for FieldJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl leptos::server_fn::FormatType for FieldJsonEncoding {
    const FORMAT_TYPE: leptos::server_fn::Format = leptos::server_fn::Format::Text;
}

impl<T: Serialize> leptos::server_fn::Encodes<T> for FieldJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<leptos::server_fn::Bytes, Self::Error> {
        serde_json::to_vec(output).map(Into::into)
    }
}

impl<T: serde::de::DeserializeOwned> leptos::server_fn::Decodes<T> for FieldJsonEncoding {
    type Error = String;

    fn decode(bytes: leptos::server_fn::Bytes) -> Result<T, Self::Error> {
        let mut json = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut json).map_err(|e| {
            let path = e.path().to_string();
            format!("{path}: {}", e.into_inner())
        })
    }
}

/// Answers read from text, as the page's hydrated resources and the live link read theirs: the
/// browser compiles one JSON reader per type instead of one per kind of input (text, bytes).
/// docs/DESIGN.md#tag-first-reading says why that matters to the bundle.
pub struct TextJsonEncoding;
pub type TextJson = Post<TextJsonEncoding>;

impl leptos::server_fn::ContentType for TextJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl leptos::server_fn::FormatType for TextJsonEncoding {
    const FORMAT_TYPE: leptos::server_fn::Format = leptos::server_fn::Format::Text;
}

impl<T: Serialize> leptos::server_fn::Encodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<leptos::server_fn::Bytes, Self::Error> {
        serde_json::to_vec(output).map(Into::into)
    }
}

impl<T: serde::de::DeserializeOwned> leptos::server_fn::Decodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: leptos::server_fn::Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}

/// The role a server function needs, from its path (`/rpc/operator/…`): `None` when it
/// declares none (refused to everyone).
pub fn role_of(path: &str) -> Option<Role> {
    let endpoint = path.strip_prefix("/rpc/")?;
    Role::parse(endpoint.split('/').next()?)
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::ServerError;
    use domain::accounts::{Caller, CurrentUser, NewToken, Role, TokenInfo};
    use domain::audit::{AuditEntry, AuditFilter};
    use domain::checks::MigrationRequest;
    use domain::migration::{Fault, FaultRequest, Migration, MigrationEvent};
    use domain::plan::{PlanRecord, PlanRequest, Preview};
    use domain::source::{Connection, NewConnection};
    use domain::{
        Change, FaultId, ImportSummary, Inventory, InventoryFile, MigrationId, Mutation, PlanId,
    };
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    pub type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, ServerError>> + Send + 'a>>;

    /// What the pages need from the server's services (implemented by the server).
    pub trait Backend: Send + Sync + 'static {
        fn inventory(&self) -> Inventory;
        fn apply(&self, mutation: Mutation) -> Answer<'_, Change>;
        fn import(&self, file: InventoryFile) -> Answer<'_, ImportSummary>;
        fn start_migration(&self, request: MigrationRequest) -> Answer<'_, Migration>;
        fn cancel_migration(&self, id: MigrationId) -> Answer<'_, Migration>;
        fn migration(&self, id: MigrationId) -> Option<Migration>;
        fn migration_events(&self, id: MigrationId) -> Answer<'_, Vec<MigrationEvent>>;
        fn add_fault(&self, request: FaultRequest) -> Answer<'_, Fault>;
        fn clear_fault(&self, id: FaultId) -> Answer<'_, Fault>;
        fn tokens(&self, caller: Caller) -> Answer<'_, Vec<TokenInfo>>;
        fn create_token(&self, caller: Caller, name: String) -> Answer<'_, NewToken>;
        fn revoke_token(&self, caller: Caller, id: uuid::Uuid) -> Answer<'_, ()>;
        fn users(&self) -> Answer<'_, Vec<CurrentUser>>;
        fn create_user(
            &self,
            username: String,
            password: String,
            role: Role,
        ) -> Answer<'_, CurrentUser>;
        fn set_role(&self, id: uuid::Uuid, role: Role) -> Answer<'_, CurrentUser>;
        fn set_language(&self, caller: Caller, lang: domain::Lang) -> Answer<'_, ()>;
        fn audit(&self, filter: AuditFilter) -> Answer<'_, Vec<AuditEntry>>;
        fn preview_plan(&self, request: PlanRequest) -> Answer<'_, Preview>;
        fn create_plan(&self, request: PlanRequest) -> Answer<'_, PlanRecord>;
        fn plans(&self) -> Answer<'_, Vec<PlanRecord>>;
        fn plan(&self, id: PlanId) -> Answer<'_, PlanRecord>;
        fn plan_command(&self, id: PlanId, command: super::PlanAction) -> Answer<'_, PlanRecord>;
        fn connections(&self) -> Answer<'_, Vec<Connection>>;
        fn create_connection(&self, request: NewConnection) -> Answer<'_, Connection>;
        fn test_connection(&self, id: uuid::Uuid) -> Answer<'_, String>;
        fn delete_connection(&self, id: uuid::Uuid) -> Answer<'_, ()>;
        fn vcenter_verdict(
            &self,
            vm: domain::VmId,
            host: domain::HostId,
        ) -> Answer<'_, Vec<domain::checks::CheckResult>>;
        /// How many VMs the inventory holds (the map's overview past a few thousand).
        fn vm_count(&self) -> usize;
        /// Every cluster's overview tile, by name.
        fn overview(&self) -> Vec<domain::overview::ClusterTile>;
        /// Runs `f` on the current inventory (under the server's read lock: keep it short).
        fn read_inventory(&self, f: &mut dyn FnMut(&Inventory));
        /// What the cluster of this VM shows (`None`: no such VM).
        fn vm_scope(&self, vm: domain::VmId) -> Option<Inventory>;
        /// What these clusters show on the map.
        fn inventory_scope(
            &self,
            clusters: std::collections::BTreeSet<domain::ClusterId>,
        ) -> Inventory;
        fn search(
            &self,
            text: String,
            only: Option<domain::ObjectKind>,
            limit: usize,
        ) -> domain::search::Found;
    }

    /// The server's services, provided to every server function and page render.
    pub type Services = Arc<dyn Backend>;

    /// The backend and the caller, once the caller is known to have the role the server
    /// function at `path` declares (checked again here for calls made in-process while a
    /// page renders, which do not cross the server's route layer).
    pub fn backend(path: &str) -> Result<(Services, Caller), ServerError> {
        let caller = leptos::prelude::use_context::<axum::http::request::Parts>()
            .and_then(|p| p.extensions.get::<Caller>().cloned());
        let needed = super::role_of(path);
        let refusal = match (&caller, needed) {
            (_, None) => Some(ServerError::new(
                403,
                "forbidden",
                "no role is declared for this server function",
            )),
            (None, _) => Some(ServerError::new(401, "unauthenticated", "sign in first")),
            (Some(c), Some(role)) if !c.user.role.allows(role) => Some(ServerError::new(
                403,
                "forbidden",
                format!("this needs the {} role", role.as_str()),
            )),
            _ => None,
        };
        if let Some(e) = refusal {
            set_status(e.status);
            return Err(e);
        }
        let services = leptos::prelude::use_context::<Services>().ok_or_else(|| {
            ServerError::new(500, "internal", "the server's services are not available")
        })?;
        Ok((services, caller.expect("checked above")))
    }

    /// Answers a server function's HTTP call with this status (a call made while a page
    /// renders leaves the page's status alone).
    pub fn set_status(status: u16) {
        let over_http = leptos::prelude::use_context::<axum::http::request::Parts>()
            .is_some_and(|p| p.uri.path().starts_with("/rpc/"));
        if !over_http {
            return;
        }
        if let (Some(options), Ok(status)) = (
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
            axum::http::StatusCode::from_u16(status),
        ) {
            options.set_status(status);
        }
    }

    /// Passes an answer on, its error with its status.
    pub fn answer<T>(result: Result<T, ServerError>) -> Result<T, ServerError> {
        if let Err(e) = &result {
            set_status(e.status);
        }
        result
    }

    /// The signed-in user of the page being rendered.
    pub fn current_user() -> Option<CurrentUser> {
        leptos::prelude::use_context::<axum::http::request::Parts>()
            .and_then(|p| p.extensions.get::<Caller>().map(|c| c.user.clone()))
    }
}

#[cfg(not(feature = "ssr"))]
mod ssr {
    /// Only the server sets statuses.
    pub fn set_status(_status: u16) {}
}

/// Runs `$call` on the server's services, as the server function `$f` (whose path names
/// the role it needs).
#[cfg(feature = "ssr")]
macro_rules! call {
    ($f:ty, |$api:ident, $caller:pat_param| $call:expr) => {{
        use leptos::server_fn::ServerFn;
        let ($api, $caller) = $crate::rpc::ssr::backend(<$f>::PATH)?;
        $crate::rpc::ssr::answer($call.await)
    }};
}

/// The whole inventory, for the first render; live changes then come over the websocket.
#[server(prefix = "/rpc", endpoint = "viewer/inventory", input = PostUrl, output = crate::rpc::TextJson)]
pub async fn load_inventory() -> Result<Inventory, ServerError> {
    call!(LoadInventory, |api, _| async { Ok(api.inventory()) })
}

/// Creates (`create = true`) or replaces an object.
#[server(prefix = "/rpc", endpoint = "admin/save", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn save_object(create: bool, object: Object) -> Result<(), ServerError> {
    use domain::Mutation;
    let mutation = if create {
        Mutation::Create(object)
    } else {
        Mutation::Update(object)
    };
    call!(SaveObject, |api, _| async {
        api.apply(mutation).await.map(drop)
    })
}

/// Deletes an object; refused (with who uses it) when others depend on it.
#[server(prefix = "/rpc", endpoint = "admin/delete", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn delete_object(kind: ObjectKind, id: Uuid) -> Result<(), ServerError> {
    let mutation = domain::Mutation::Delete(kind, id);
    call!(DeleteObject, |api, _| async {
        api.apply(mutation).await.map(drop)
    })
}

/// Imports objects in the export format (all or nothing).
#[server(prefix = "/rpc", endpoint = "admin/import", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn import_inventory(file: InventoryFile) -> Result<ImportSummary, ServerError> {
    call!(ImportInventory, |api, _| api.import(file))
}

/// Starts a migration; the server runs the checks again.
#[server(prefix = "/rpc", endpoint = "operator/migrations/start", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn start_migration(request: MigrationRequest) -> Result<Migration, ServerError> {
    call!(StartMigration, |api, _| api.start_migration(request))
}

/// Cancels a queued or running migration; the VM stays where it is.
#[server(prefix = "/rpc", endpoint = "operator/migrations/cancel", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn cancel_migration(id: MigrationId) -> Result<Migration, ServerError> {
    call!(CancelMigration, |api, _| api.cancel_migration(id))
}

/// A migration's stored events, in order.
#[server(prefix = "/rpc", endpoint = "viewer/migrations/events", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn migration_events(id: MigrationId) -> Result<Vec<MigrationEvent>, ServerError> {
    call!(MigrationEvents, |api, _| api.migration_events(id))
}

/// One migration (for a page opened on one the live snapshot no longer carries).
#[server(prefix = "/rpc", endpoint = "viewer/migrations/get", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn get_migration(id: MigrationId) -> Result<Option<Migration>, ServerError> {
    call!(GetMigration, |api, _| async { Ok(api.migration(id)) })
}

/// Injects a fault.
#[server(prefix = "/rpc", endpoint = "operator/faults/add", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn add_fault(request: FaultRequest) -> Result<Fault, ServerError> {
    call!(AddFault, |api, _| api.add_fault(request))
}

/// Clears a fault.
#[server(prefix = "/rpc", endpoint = "operator/faults/clear", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn clear_fault(id: FaultId) -> Result<Fault, ServerError> {
    call!(ClearFault, |api, _| api.clear_fault(id))
}

/// The signed-in user's API tokens.
#[server(prefix = "/rpc", endpoint = "viewer/tokens/list", input = PostUrl, output = crate::rpc::TextJson)]
pub async fn list_tokens() -> Result<Vec<TokenInfo>, ServerError> {
    call!(ListTokens, |api, caller| api.tokens(caller))
}

/// A new API token for the signed-in user; its secret is in the answer, this once.
#[server(prefix = "/rpc", endpoint = "viewer/tokens/create", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn create_token(name: String) -> Result<NewToken, ServerError> {
    call!(CreateToken, |api, caller| api.create_token(caller, name))
}

/// Revokes one of the signed-in user's tokens.
#[server(prefix = "/rpc", endpoint = "viewer/tokens/revoke", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn revoke_token(id: Uuid) -> Result<(), ServerError> {
    call!(RevokeToken, |api, caller| api.revoke_token(caller, id))
}

/// Every user (admins).
#[server(prefix = "/rpc", endpoint = "admin/users/list", input = PostUrl, output = crate::rpc::TextJson)]
pub async fn list_users() -> Result<Vec<CurrentUser>, ServerError> {
    call!(ListUsers, |api, _| api.users())
}

/// Creates a user (admins).
#[server(prefix = "/rpc", endpoint = "admin/users/create", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn create_user(
    username: String,
    password: String,
    role: Role,
) -> Result<CurrentUser, ServerError> {
    call!(CreateUser, |api, _| api
        .create_user(username, password, role))
}

/// Changes a user's role (admins); the last admin keeps theirs.
#[server(prefix = "/rpc", endpoint = "admin/users/role", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn set_role(id: Uuid, role: Role) -> Result<CurrentUser, ServerError> {
    call!(SetRole, |api, _| api.set_role(id, role))
}

/// Keeps the language the signed-in user chose for the pages (docs/DESIGN.md#languages).
#[server(prefix = "/rpc", endpoint = "viewer/account/language", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn set_language(lang: domain::Lang) -> Result<(), ServerError> {
    call!(SetLanguage, |api, caller| api.set_language(caller, lang))
}

/// The audit log, newest first (admins).
#[server(prefix = "/rpc", endpoint = "admin/audit", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn audit_entries(filter: AuditFilter) -> Result<Vec<AuditEntry>, ServerError> {
    call!(AuditEntries, |api, _| api.audit(filter))
}

/// What a plan's page asks of a stored plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanAction {
    Start,
    Pause,
    Resume,
    Cancel,
}

/// A plan drafted and predicted, nothing written (docs/DESIGN.md#maintenance-plans).
#[server(prefix = "/rpc", endpoint = "operator/plans/preview", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn preview_plan(request: PlanRequest) -> Result<Preview, ServerError> {
    call!(PreviewPlan, |api, _| api.preview_plan(request))
}

/// The plan stored as a draft.
#[server(prefix = "/rpc", endpoint = "operator/plans/create", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn create_plan(request: PlanRequest) -> Result<PlanRecord, ServerError> {
    call!(CreatePlan, |api, _| api.create_plan(request))
}

/// Every plan, newest first (`active_only`: those not over).
#[server(prefix = "/rpc", endpoint = "viewer/plans/list", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn list_plans(active_only: bool) -> Result<Vec<PlanRecord>, ServerError> {
    call!(ListPlans, |api, _| async move {
        let mut plans = api.plans().await?;
        if active_only {
            plans.retain(|p| !p.state.is_final() && p.state != domain::plan::PlanState::Draft);
        }
        Ok(plans)
    })
}

#[server(prefix = "/rpc", endpoint = "viewer/plans/get", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn get_plan(id: PlanId) -> Result<PlanRecord, ServerError> {
    call!(GetPlan, |api, _| api.plan(id))
}

/// Starts, pauses, resumes or cancels a plan.
#[server(prefix = "/rpc", endpoint = "operator/plans/command", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn plan_command(id: PlanId, command: PlanAction) -> Result<PlanRecord, ServerError> {
    call!(PlanCommand, |api, _| api.plan_command(id, command))
}

/// vCenter connections with their sync state (docs/VCENTER.md#the-page).
#[server(prefix = "/rpc", endpoint = "admin/connections/list", input = PostUrl, output = crate::rpc::TextJson)]
pub async fn list_connections() -> Result<Vec<Connection>, ServerError> {
    call!(ListConnections, |api, _| api.connections())
}

/// Connects a vCenter: vmshift logs in first; a refusal names the field.
#[server(prefix = "/rpc", endpoint = "admin/connections/create", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn create_connection(request: NewConnection) -> Result<Connection, ServerError> {
    call!(CreateConnection, |api, _| api.create_connection(request))
}

/// Logs in with a connection's stored settings: vCenter's name and version.
#[server(prefix = "/rpc", endpoint = "admin/connections/test", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn test_connection(id: Uuid) -> Result<String, ServerError> {
    call!(TestConnection, |api, _| api.test_connection(id))
}

/// Disconnects a vCenter; its objects leave the inventory.
#[server(prefix = "/rpc", endpoint = "admin/connections/delete", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn delete_connection(id: Uuid) -> Result<(), ServerError> {
    call!(DeleteConnection, |api, _| api.delete_connection(id))
}

/// vCenter's own verdict on moving a mirrored VM to a host (empty for a move vCenter does not
/// judge), beside the checks the page runs itself.
#[server(prefix = "/rpc", endpoint = "viewer/checks/vcenter", input = FieldJson, output = crate::rpc::TextJson)]
pub async fn vcenter_verdict(
    vm: domain::VmId,
    host: domain::HostId,
) -> Result<Vec<domain::checks::CheckResult>, ServerError> {
    call!(VcenterVerdict, |api, _| api.vcenter_verdict(vm, host))
}

mod scale;
pub use scale::*;
