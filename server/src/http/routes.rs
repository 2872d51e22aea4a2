//! Routes are declared with the role each method needs, next to the handler:
//!
//! ```ignore
//! Routes::new().route("/hosts/{id}", get(Viewer, one).put(Admin, update))
//! ```
//!
//! The builder is the only way routes join the router, so a route cannot exist without its
//! role; each method is wrapped in a layer that enforces it ([`super::auth::require`]). The
//! builder also keeps the table of what it registered: the role test walks it (the routes the
//! router really serves).
//! See docs/DESIGN.md#roles.

use super::auth::require;
pub use super::auth::{Access, Public, ADMIN, OPERATOR, VIEWER};
use super::AppState;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::from_fn;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;

/// One method of one route, as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    /// The path as axum matches it (`/api/v1/hosts/{id}`).
    pub path: String,
    pub access: Access,
}

/// The methods of one path, each with its role.
pub struct Endpoint {
    methods: MethodRouter<AppState>,
    declared: Vec<(Method, Access)>,
}

fn one<H, T>(method: Method, access: Access, handler: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method).expect("a standard method");
    let route = on(filter, handler);
    match access {
        Access::Public => route,
        Access::Needs(_) | Access::Undeclared => {
            route.route_layer(from_fn(move |request, next| require(access, request, next)))
        }
    }
}

macro_rules! methods {
    ($($name:ident => $method:ident),*) => {
        $(
            /// A route answering this method, for users with `access`.
            pub fn $name<H, T>(access: Access, handler: H) -> Endpoint
            where
                H: Handler<T, AppState>,
                T: 'static,
            {
                Endpoint {
                    methods: one(Method::$method, access, handler),
                    declared: vec![(Method::$method, access)],
                }
            }
        )*
        impl Endpoint {
            $(
                /// Adds this method, for users with `access`.
                pub fn $name<H, T>(mut self, access: Access, handler: H) -> Self
                where
                    H: Handler<T, AppState>,
                    T: 'static,
                {
                    self.methods = self.methods.merge(one(Method::$method, access, handler));
                    self.declared.push((Method::$method, access));
                    self
                }
            )*
        }
    };
}

methods!(get => GET, post => POST, put => PUT, delete => DELETE);

/// Routes with their roles.
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    table: Vec<RouteInfo>,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn route(mut self, path: &str, endpoint: Endpoint) -> Self {
        for (method, access) in endpoint.declared {
            self.table.push(RouteInfo {
                method,
                path: path.to_owned(),
                access,
            });
        }
        self.router = self.router.route(path, endpoint.methods);
        self
    }

    /// Another resource's routes, beside these.
    pub fn merge(mut self, other: Routes) -> Self {
        self.table.extend(other.table);
        self.router = self.router.merge(other.router);
        self
    }

    /// Another set of routes under `prefix` (`/api/v1`).
    pub fn nest(mut self, prefix: &str, other: Routes) -> Self {
        self.table
            .extend(other.table.into_iter().map(|r| RouteInfo {
                path: format!("{prefix}{}", r.path),
                ..r
            }));
        self.router = self.router.nest(prefix, other.router);
        self
    }

    /// Applies a change to the router that adds no route (fallbacks, layers).
    pub fn map_router(mut self, f: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Self {
        self.router = f(self.router);
        self
    }

    pub fn table(&self) -> &[RouteInfo] {
        &self.table
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteInfo>) {
        (self.router, self.table)
    }
}
