//! Roles, proven on every route the server serves: the routes come from the router's own table
//! (`server::http::route_table`, what the router was built from — not a list kept here, not
//! the OpenAPI document). Each route is called by nobody, a viewer, an operator and an admin;
//! where its declared role allows the caller it must answer its exact success status, else
//! 401 (pages: a redirect to the sign-in page) without a user and 403 below the role.

mod common;

use common::{TestServer, ADMIN_PASSWORD};
use domain::accounts::Role;
use reqwest::Method;
use serde_json::{json, Value};
use server::http::routes::Access;
use std::collections::HashMap;

/// Someone calling, signed in through a browser session (API tokens cannot create tokens).
struct Caller {
    role: Option<Role>,
    username: String,
    password: String,
    cookie: Option<String>,
}

enum Body {
    None,
    Json(Value),
    Form(String),
    /// A file, with its content type.
    Bytes(&'static [u8], &'static str),
}

/// One call of a route: its path with parameters filled in, its body, the status that means
/// success, and a session of its own when the call would end the caller's.
struct Call {
    path: String,
    body: Body,
    success: u16,
    own_session: bool,
}

impl Call {
    fn new(path: impl Into<String>, success: u16) -> Self {
        Call {
            path: path.into(),
            body: Body::None,
            success,
            own_session: false,
        }
    }

    fn json(mut self, body: Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    fn bytes(mut self, body: &'static [u8], content_type: &'static str) -> Self {
        self.body = Body::Bytes(body, content_type);
        self
    }
}

/// An RVTools workbook: the import route's preview reads it and writes nothing.
const RVTOOLS: &[u8] = include_bytes!("../../rvtools/tests/data/SizingWorkshop-RVTools.xlsx");

struct Fixture {
    s: TestServer,
    ids: HashMap<String, String>,
    /// A migration that has ended (its pages and reads).
    finished: String,
    counter: std::sync::atomic::AtomicU32,
}

impl Fixture {
    fn fresh(&self, what: &str) -> String {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{what}-{n}")
    }

    fn id(&self, name: &str) -> &str {
        &self.ids[name]
    }

    /// A request for a slow vMotion of web-01 (it keeps running until cancelled).
    fn move_request(&self) -> Value {
        json!({
            "vm_id": self.id("web-01"), "kind": "vmotion",
            "target_host_id": self.id("esx-02"),
            "options": { "bandwidth_cap_mbps": 1 }
        })
    }

    /// Starts that move as the admin; its id.
    async fn running_migration(&self) -> String {
        let (status, m) = self
            .s
            .post("/api/v1/migrations", &self.move_request())
            .await;
        assert_eq!(status, 201, "{m}");
        m["id"].as_str().unwrap().to_owned()
    }

    /// Cancels whatever moves web-01, so the next call can start it again.
    async fn free_web01(&self) {
        // Plans first: a plan that has just started may not have queued its move yet.
        let (_, plans) = self.s.get("/api/v1/plans").await;
        for p in plans.as_array().unwrap() {
            if ["scheduled", "running", "paused"].contains(&p["state"].as_str().unwrap()) {
                let id = p["id"].as_str().unwrap();
                self.s
                    .post(&format!("/api/v1/plans/{id}/cancel"), &json!({}))
                    .await;
                self.plan_over(id).await;
            }
        }
        let (_, list) = self.s.get("/api/v1/migrations").await;
        for m in list.as_array().unwrap() {
            let done = ["completed", "failed", "cancelled"].contains(&m["phase"].as_str().unwrap());
            if !done {
                let id = m["id"].as_str().unwrap();
                self.s
                    .post(&format!("/api/v1/migrations/{id}/cancel"), &json!({}))
                    .await;
            }
        }
    }

    /// A plan request that moves nothing (esx-06 is empty, in maintenance mode).
    fn idle_plan(&self) -> Value {
        json!({ "goal": { "kind": "evacuate_host", "host_id": self.id("esx-06") } })
    }

    /// Waits until a plan is over.
    async fn plan_over(&self, id: &str) {
        for _ in 0..400 {
            let (_, p) = self.s.get(&format!("/api/v1/plans/{id}")).await;
            if ["completed", "failed", "cancelled", "interrupted"]
                .contains(&p["state"].as_str().unwrap())
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("plan {id} does not end");
    }

    /// A stored draft; its id.
    async fn draft_plan(&self) -> String {
        let (status, p) = self.s.post("/api/v1/plans", &self.idle_plan()).await;
        assert_eq!(status, 201, "{p}");
        p["id"].as_str().unwrap().to_owned()
    }

    /// A plan running a slow move of web-01 (until cancelled); its id.
    async fn running_plan(&self) -> String {
        self.free_web01().await;
        let body = json!({
            "goal": { "kind": "moves", "moves": [
                { "vm_id": self.id("web-01"), "target_host_id": self.id("esx-02") }
            ] },
            "options": { "bandwidth_cap_mbps": 1 }
        });
        let (status, p) = self.s.post("/api/v1/plans", &body).await;
        assert_eq!(status, 201, "{p}");
        let id = p["id"].as_str().unwrap().to_owned();
        let (status, p) = self
            .s
            .post(&format!("/api/v1/plans/{id}/start"), &json!({}))
            .await;
        assert_eq!(status, 200, "{p}");
        id
    }

    async fn new_cluster(&self) -> String {
        let (status, c) = self
            .s
            .post(
                "/api/v1/clusters",
                &json!({ "name": self.fresh("cluster") }),
            )
            .await;
        assert_eq!(status, 201, "{c}");
        c["id"].as_str().unwrap().to_owned()
    }

    async fn new_fault(&self) -> String {
        let body = json!({ "kind": "host_down", "target_id": self.id("esx-06") });
        let (status, f) = self.s.post("/api/v1/faults", &body).await;
        assert_eq!(status, 201, "{f}");
        f["id"].as_str().unwrap().to_owned()
    }

    async fn clear_faults(&self) {
        let (_, list) = self.s.get("/api/v1/faults").await;
        for f in list.as_array().unwrap() {
            self.s
                .delete(&format!("/api/v1/faults/{}", f["id"].as_str().unwrap()))
                .await;
        }
    }

    async fn new_user(&self) -> String {
        let body = json!({ "username": self.fresh("user"), "password": "a-long-password", "role": "viewer" });
        let (status, u) = self.s.post("/api/v1/users", &body).await;
        assert_eq!(status, 201, "{u}");
        u["id"].as_str().unwrap().to_owned()
    }

    /// One of the caller's own API tokens.
    async fn new_token(&self, caller: &Caller) -> String {
        let Some(cookie) = &caller.cookie else {
            return "6f1c0d35-7a4c-4a77-9d0e-9b61f6a5e0a1".into();
        };
        let res = reqwest::Client::new()
            .post(self.s.url("/api/v1/tokens"))
            .header("cookie", cookie)
            .json(&json!({ "name": "to revoke" }))
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// The call of `method path` this caller makes (`None`: no fixture for this route).
    async fn call(&self, method: &Method, path: &str, caller: &Caller) -> Option<Call> {
        let get = *method == Method::GET;
        let post = *method == Method::POST;
        let del = *method == Method::DELETE;
        let put = *method == Method::PUT;
        let tasks_id = |p: &str| {
            p.replace("{id}", &self.finished)
                .replace(":id", &self.finished)
        };
        let call = match path {
            "/healthz" | "/api/v1/openapi.json" | "/api/v1/session" | "/api/v1/tokens"
            | "/api/v1/users" | "/api/v1/migrations" | "/api/v1/faults" | "/api/v1/inventory"
            | "/api/v1/audit" | "/api/v1/audit.csv" | "/api/v1/inventory.xlsx"
                if get =>
            {
                Call::new(path, 200)
            }
            "/api/v1/session" if post => Call::new(path, 200).json(
                json!({ "username": caller.username, "password": caller.password }),
            ),
            "/api/v1/session" if del => Call {
                own_session: true,
                ..Call::new(path, 204)
            },
            "/api/v1/tokens" if post => Call::new(path, 201).json(json!({ "name": "a script" })),
            "/api/v1/tokens/{id}" if del => {
                let id = self.new_token(caller).await;
                Call::new(format!("/api/v1/tokens/{id}"), 204)
            }
            "/api/v1/users" if post => Call::new(path, 201).json(
                json!({ "username": self.fresh("user"), "password": "a-long-password", "role": "viewer" }),
            ),
            "/api/v1/users/{id}/role" if put => {
                let id = self.new_user().await;
                Call::new(format!("/api/v1/users/{id}/role"), 200).json(json!({ "role": "operator" }))
            }
            "/api/v1/checks" | "/api/v1/predictions" if post => {
                Call::new(path, 200).json(self.move_request())
            }
            "/api/v1/vms/{id}/targets" if get => Call::new(
                format!("/api/v1/vms/{}/targets?kind=vmotion", self.id("web-01")),
                200,
            ),
            "/api/v1/migrations" if post => {
                self.free_web01().await;
                Call::new(path, 201).json(self.move_request())
            }
            "/api/v1/migrations/{id}" | "/api/v1/migrations/{id}/events" if get => {
                Call::new(tasks_id(path), 200)
            }
            "/api/v1/migrations/{id}/cancel" if post => {
                self.free_web01().await;
                let id = self.running_migration().await;
                Call::new(format!("/api/v1/migrations/{id}/cancel"), 200).json(json!({}))
            }
            "/api/v1/faults" if post => {
                self.clear_faults().await;
                Call::new(path, 201)
                    .json(json!({ "kind": "host_down", "target_id": self.id("esx-06") }))
            }
            "/api/v1/faults/{id}" if del => {
                self.clear_faults().await;
                Call::new(format!("/api/v1/faults/{}", self.new_fault().await), 204)
            }
            "/api/v1/inventory" if post => Call::new(path, 200).json(json!({})),
            "/api/v1/imports/rvtools" if post => Call::new(path, 200).bytes(
                RVTOOLS,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            // No vCenter here: a request refused before any login, an unknown connection.
            "/api/v1/connections" if get => Call::new(path, 200),
            "/api/v1/connections" if post => Call::new(path, 422).json(json!({
                "kind": "hyper-v", "url": "http://127.0.0.1:9", "username": "u", "password": "p"
            })),
            "/api/v1/connections/{id}" if get || del => {
                Call::new(path.replace("{id}", &uuid::Uuid::new_v4().to_string()), 404)
            }
            "/api/v1/connections/{id}/test" if post => {
                Call::new(path.replace("{id}", &uuid::Uuid::new_v4().to_string()), 404)
                    .json(json!({}))
            }
            "/api/v1/plans" if get => Call::new(path, 200),
            "/api/v1/plans" if post => Call::new(path, 201).json(self.idle_plan()),
            "/api/v1/plans/preview" if post => Call::new(path, 200).json(self.idle_plan()),
            "/api/v1/plans/{id}" if get => {
                Call::new(format!("/api/v1/plans/{}", self.draft_plan().await), 200)
            }
            "/api/v1/plans/{id}/start" if post => {
                let id = self.draft_plan().await;
                Call::new(format!("/api/v1/plans/{id}/start"), 200).json(json!({}))
            }
            "/api/v1/plans/{id}/pause" | "/api/v1/plans/{id}/cancel" if post => {
                let id = self.running_plan().await;
                Call::new(path.replace("{id}", &id), 200).json(json!({}))
            }
            "/api/v1/plans/{id}/resume" if post => {
                let id = self.running_plan().await;
                let (status, p) = self.s.post(&format!("/api/v1/plans/{id}/pause"), &json!({})).await;
                assert_eq!(status, 200, "{p}");
                Call::new(format!("/api/v1/plans/{id}/resume"), 200).json(json!({}))
            }
            "/api/v1/{collection}" if get => Call::new("/api/v1/hosts", 200),
            "/api/v1/{collection}" if post => {
                Call::new("/api/v1/clusters", 201).json(json!({ "name": self.fresh("cluster") }))
            }
            "/api/v1/{collection}/{id}" if get => {
                Call::new(format!("/api/v1/hosts/{}", self.id("esx-01")), 200)
            }
            "/api/v1/{collection}/{id}" if put => {
                let id = self.new_cluster().await;
                Call::new(format!("/api/v1/clusters/{id}"), 200)
                    .json(json!({ "name": self.fresh("renamed") }))
            }
            "/api/v1/{collection}/{id}" if del => {
                let id = self.new_cluster().await;
                Call::new(format!("/api/v1/clusters/{id}"), 204)
            }
            "/auth/signin" if post => Call {
                body: Body::Form(format!(
                    "username={}&password={}&next=/",
                    caller.username, caller.password
                )),
                ..Call::new(path, 303)
            },
            "/auth/signout" if post => Call {
                own_session: true,
                body: Body::Form(String::new()),
                ..Call::new(path, 303)
            },
            _ if path.starts_with("/rpc/") => return self.server_function(path, caller).await,
            _ if get && !path.starts_with("/api/") => {
                let page = tasks_id(path)
                    .replace("{kind}", "hosts")
                    .replace(":kind", "hosts");
                Call::new(page, 200)
            }
            _ => return None,
        };
        Some(call)
    }

    /// A call of a server function (its arguments as the page sends them).
    async fn server_function(&self, path: &str, caller: &Caller) -> Option<Call> {
        let endpoint = path.strip_prefix("/rpc/")?;
        let args = match endpoint {
            "viewer/inventory"
            | "viewer/map/overview"
            | "viewer/tokens/list"
            | "admin/users/list"
            | "admin/connections/list" => {
                return Some(Call {
                    body: Body::Form(String::new()),
                    ..Call::new(path, 200)
                })
            }
            "admin/save" => json!({ "create": true, "object": { "kind": "cluster",
                "object": { "id": uuid::Uuid::new_v4(), "name": self.fresh("cluster") } } }),
            "admin/delete" => json!({ "kind": "cluster", "id": self.new_cluster().await }),
            "admin/import" => json!({ "file": {} }),
            "operator/migrations/start" => {
                self.free_web01().await;
                json!({ "request": self.move_request() })
            }
            "operator/migrations/cancel" => {
                self.free_web01().await;
                json!({ "id": self.running_migration().await })
            }
            "viewer/migrations/events" | "viewer/migrations/get" => json!({ "id": self.finished }),
            "operator/faults/add" => {
                self.clear_faults().await;
                json!({ "request": { "kind": "host_down", "target_id": self.id("esx-06") } })
            }
            "operator/faults/clear" => {
                self.clear_faults().await;
                json!({ "id": self.new_fault().await })
            }
            "viewer/tokens/create" => json!({ "name": "from the page" }),
            "viewer/plans/list" => json!({ "active_only": false }),
            "viewer/plans/get" => json!({ "id": self.draft_plan().await }),
            "operator/plans/preview" | "operator/plans/create" => {
                json!({ "request": self.idle_plan() })
            }
            "operator/plans/command" => {
                json!({ "id": self.running_plan().await, "command": "pause" })
            }
            "viewer/tokens/revoke" => json!({ "id": self.new_token(caller).await }),
            "admin/users/create" => json!({ "username": self.fresh("user"),
                "password": "a-long-password", "role": "viewer" }),
            "admin/users/role" => json!({ "id": self.new_user().await, "role": "operator" }),
            "admin/audit" => json!({ "filter": {} }),
            "viewer/account/language" => json!({ "lang": "en" }),
            "viewer/map/clusters" => json!({ "clusters": [] }),
            "viewer/inventory/page" => json!({ "kind": "vm", "query": { "limit": 5 } }),
            "viewer/inventory/names" => json!({ "ids": [self.id("web-01")] }),
            "viewer/map/vm" => json!({ "vm": self.id("web-01") }),
            "viewer/search" => json!({ "text": "web", "only": null, "limit": 5 }),
            // Not a vCenter VM: nothing for vCenter to judge (an empty list).
            "viewer/checks/vcenter" => {
                json!({ "vm": self.id("web-01"), "host": self.id("esx-02") })
            }
            // No vCenter here: refused before any login, or an unknown connection.
            "admin/connections/create" => {
                return Some(
                    Call::new(path, 422).json(json!({ "request": { "kind": "hyper-v",
                    "url": "http://127.0.0.1:9", "username": "u", "password": "p" } })),
                )
            }
            "admin/connections/test" | "admin/connections/delete" => {
                return Some(Call::new(path, 404).json(json!({ "id": uuid::Uuid::new_v4() })))
            }
            _ => return None,
        };
        Some(Call::new(path, 200).json(args))
    }
}

/// Signs in through the JSON API; the session cookie.
async fn session(s: &TestServer, username: &str, password: &str) -> String {
    let res = reqwest::Client::new()
        .post(s.url("/api/v1/session"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{username} signs in");
    res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn caller(s: &TestServer, role: Option<Role>) -> Caller {
    // Nobody signed in still knows a user's password, for the public sign-in routes.
    let (username, password) = match role {
        Some(Role::Admin) => ("admin".to_string(), ADMIN_PASSWORD.to_string()),
        _ => {
            let name = format!("a-{}", role.map_or("nobody", Role::as_str));
            s.user(&name, "viewer").await;
            if let Some(r) = role {
                let (_, users) = s.get("/api/v1/users").await;
                let id = users
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|u| u["username"] == name)
                    .unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let (status, _) = s
                    .put(
                        &format!("/api/v1/users/{id}/role"),
                        &json!({ "role": r.as_str() }),
                    )
                    .await;
                assert_eq!(status, 200);
            }
            (name.clone(), format!("{name}-password"))
        }
    };
    let cookie = match role {
        None => None,
        Some(_) => Some(session(s, &username, &password).await),
    };
    Caller {
        role,
        username,
        password,
        cookie,
    }
}

/// Sends a call; its status.
async fn send(s: &TestServer, method: &Method, call: &Call, caller: &Caller) -> u16 {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = client.request(method.clone(), s.url(&call.path));
    let cookie = match (&caller.role, call.own_session) {
        (Some(_), true) => Some(session(s, &caller.username, &caller.password).await),
        _ => caller.cookie.clone(),
    };
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request = match &call.body {
        Body::None => request,
        Body::Json(v) => request.json(v),
        Body::Form(text) => request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(text.clone()),
        Body::Bytes(bytes, content_type) => request
            .header("content-type", *content_type)
            .body(bytes.to_vec()),
    };
    request.send().await.unwrap().status().as_u16()
}

/// The websocket: the handshake's status (101 when it upgrades).
async fn websocket(s: &TestServer, caller: &Caller) -> u16 {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{}/ws", s.addr).into_client_request().unwrap();
    if let Some(cookie) = &caller.cookie {
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("websocket: {e}"),
    }
}

#[tokio::test]
async fn every_route_answers_each_role_exactly() {
    let s = TestServer::start(true).await;
    let ids = s.ids().await;
    let fixture = Fixture {
        finished: String::new(),
        ids,
        s,
        counter: Default::default(),
    };
    let finished = fixture.running_migration().await;
    fixture.free_web01().await;
    let fixture = Fixture {
        finished,
        ..fixture
    };
    let s = &fixture.s;
    let mut callers = Vec::new();
    for role in [
        None,
        Some(Role::Viewer),
        Some(Role::Operator),
        Some(Role::Admin),
    ] {
        callers.push(caller(s, role).await);
    }
    let table = server::http::route_table();
    assert!(table.len() > 50, "the router serves {} routes", table.len());
    let mut checked = 0;
    for route in &table {
        for caller in &callers {
            let allowed = match route.access {
                Access::Public => true,
                Access::Needs(role) => caller.role.is_some_and(|r| r.allows(role)),
                Access::Undeclared => false,
            };
            let page = !route.path.starts_with("/api/")
                && !route.path.starts_with("/rpc/")
                && route.path != "/ws";
            let (status, success) = if route.path == "/ws" {
                (websocket(s, caller).await, 101)
            } else {
                let call = fixture
                    .call(&route.method, &route.path, caller)
                    .await
                    .unwrap_or_else(|| {
                        panic!(
                            "no call written for {} {}: add one",
                            route.method, route.path
                        )
                    });
                (send(s, &route.method, &call, caller).await, call.success)
            };
            let who = caller.role.map_or("nobody", Role::as_str);
            let expected = match (allowed, caller.role) {
                (true, _) => success,
                (false, None) if page => 303,
                (false, None) => 401,
                (false, Some(_)) => 403,
            };
            assert_eq!(
                status, expected,
                "{who} {} {} ({:?})",
                route.method, route.path, route.access
            );
            checked += 1;
        }
    }
    // Every route was called by every caller.
    assert_eq!(checked, table.len() * callers.len());
}
