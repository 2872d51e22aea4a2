//! Accounts: sessions, tokens, sign-in throttling, security headers (every route's roles:
//! `roles.rs`).

mod common;

use common::{client_with, token_for, TestServer, ADMIN_PASSWORD};
use serde_json::{json, Value};

#[tokio::test]
async fn sessions_cookies_tokens_and_sign_out() {
    let s = TestServer::start(false).await;
    let http = reqwest::Client::new();
    let sign_in = |proto: Option<&'static str>| {
        let mut r = http
            .post(s.url("/api/v1/session"))
            .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }));
        if let Some(p) = proto {
            r = r.header("x-forwarded-proto", p);
        }
        r.send()
    };
    let res = sign_in(None).await.unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: no Secure flag");
    let https = sign_in(Some("https")).await.unwrap();
    assert!(https.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("; Secure"));
    let session = cookie.split(';').next().unwrap().to_string();
    let me = http
        .get(s.url("/api/v1/session"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(me.json::<Value>().await.unwrap()["role"], "admin");
    // Sign-out: the same cookie no longer works.
    let out = http
        .delete(s.url("/api/v1/session"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let again = http
        .get(s.url("/api/v1/hosts"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
    // A revoked token stops working.
    let token = token_for(s.addr, "admin", ADMIN_PASSWORD).await;
    let script = client_with(&token);
    assert_eq!(
        script
            .get(s.url("/api/v1/hosts"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (_, tokens) = s.get("/api/v1/tokens").await;
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|t| t["revoked"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let revoke = script
        .delete(s.url(&format!("/api/v1/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    assert_eq!(
        script
            .get(s.url("/api/v1/hosts"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // The tokens are stored hashed: the secret is nowhere in the database.
    if let Some(path) = s.db.sqlite_path() {
        let db = std::fs::read(path).unwrap();
        assert!(!db.windows(token.len()).any(|w| w == token.as_bytes()));
    } else {
        let db = server::db::connect(&s.db.url).await.unwrap();
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT token_hash, name FROM api_tokens")
            .fetch_all(&db)
            .await
            .unwrap();
        assert!(!rows.is_empty());
        assert!(rows
            .iter()
            .all(|(hash, name)| !hash.contains(&token) && !name.contains(&token)));
    }
    // Wrong password: 401, the same answer as an unknown user.
    let bad = http
        .post(s.url("/api/v1/session"))
        .json(&json!({ "username": "admin", "password": "not-the-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert_eq!(
        bad.json::<Value>().await.unwrap()["error"]["code"],
        "bad_credentials"
    );
    // Security headers on every answer.
    let res = http.get(s.url("/healthz")).send().await.unwrap();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
    ] {
        assert_eq!(res.headers()[name], value);
    }
    assert!(res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn sign_in_is_throttled_per_account_and_users_are_managed_by_admins() {
    let s = TestServer::start(false).await;
    let http = reqwest::Client::new();
    let attempt = |password: &'static str| {
        http.post(s.url("/api/v1/session"))
            .json(&json!({ "username": "admin", "password": password }))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(attempt("wrong-password").await.unwrap().status(), 401);
    }
    // Now even the right password waits.
    let res = attempt(ADMIN_PASSWORD).await.unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    // Users: bad input names the field; duplicates are refused; the last admin stays admin.
    let (status, body) = s
        .post(
            "/api/v1/users",
            &json!({ "username": "Bad Name", "password": "long-enough-pw", "role": "viewer" }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "username");
    let (status, body) = s
        .post(
            "/api/v1/users",
            &json!({ "username": "ann", "password": "short", "role": "viewer" }),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (422, json!("password"))
    );
    let (status, body) = s
        .post(
            "/api/v1/users",
            &json!({ "username": "ann", "password": "long-enough-pw", "role": "root" }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, ann) = s
        .post(
            "/api/v1/users",
            &json!({ "username": "ann", "password": "long-enough-pw", "role": "viewer" }),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = s
        .post(
            "/api/v1/users",
            &json!({ "username": "ann", "password": "long-enough-pw", "role": "viewer" }),
        )
        .await;
    assert_eq!(status, 409);
    let (_, users) = s.get("/api/v1/users").await;
    let admin = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "admin")
        .unwrap();
    let (status, body) = s
        .put(
            &format!("/api/v1/users/{}/role", admin["id"].as_str().unwrap()),
            &json!({ "role": "viewer" }),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = s
        .put(
            &format!("/api/v1/users/{}/role", ann["id"].as_str().unwrap()),
            &json!({ "role": "operator" }),
        )
        .await;
    assert_eq!((status, body["role"].clone()), (200, json!("operator")));
}

#[tokio::test]
async fn sign_in_cannot_be_raced_redirected_or_abused() {
    let s = TestServer::start(false).await;
    // Parallel wrong guesses: at most five get an answer on the password, the rest wait.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let url = s.url("/api/v1/session");
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({ "username": "admin", "password": "guess-guess-guess" }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert_eq!(
        answers.iter().filter(|s| **s == 401).count(),
        5,
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|s| **s == 429).count(),
        15,
        "{answers:?}"
    );
    // A malformed or huge name is refused without a trace in the audit log.
    let long = "x".repeat(100_000);
    let res = reqwest::Client::new()
        .post(s.url("/api/v1/session"))
        .json(&json!({ "username": long, "password": "p" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let (_, audit) = s
        .get("/api/v1/audit?action=session.sign_in_failed&limit=100")
        .await;
    assert_eq!(audit.as_array().unwrap().len(), 5);
    assert!(audit
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["actor"] == "anonymous"));
    // The sign-in form only sends the user to a local path.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let other = s.user("ola", "viewer").await;
    drop(other);
    for (next, expected) in [
        ("/tasks", "/tasks"),
        ("/\t/evil.example", "/"),
        ("//evil.example", "/"),
    ] {
        let res = no_redirects
            .post(s.url("/auth/signin"))
            .form(&[
                ("username", "ola"),
                ("password", "ola-password"),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], expected, "{next:?}");
    }
    // Paths that mean something else once normalized are refused.
    // Sent raw: an HTTP client library would normalize them before sending.
    for path in ["/pkg/../audit", "/pkg/%2e%2e/tasks", "/api/v1%2fusers"] {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            s.addr
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tcp.read_to_end(&mut answer).await.unwrap();
        let status_line = String::from_utf8_lossy(&answer)
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        assert!(
            status_line.starts_with("HTTP/1.1 400"),
            "{path}: {status_line}"
        );
    }
    // A token cannot mint tokens.
    let res = s
        .client
        .post(s.url("/api/v1/tokens"))
        .json(&json!({ "name": "copy" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn a_live_link_closes_when_its_token_is_revoked() {
    use futures::StreamExt;
    let s = TestServer::start(false).await;
    let mut ws = s.ws().await;
    let first = ws.next().await.unwrap().unwrap();
    assert!(first.to_text().unwrap().contains("\"snapshot\""));
    // Revoke the admin's token (from a session: a token cannot be managed with itself
    // only by its owner, which the admin is).
    let (_, tokens) = s.get("/api/v1/tokens").await;
    let id = tokens[0]["id"].as_str().unwrap().to_string();
    assert_eq!(s.delete(&format!("/api/v1/tokens/{id}")).await, 204);
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(tokio_tungstenite::tungstenite::Message::Close(_)) | Err(_) => return true,
                Ok(_) => {}
            }
        }
        true
    })
    .await;
    assert_eq!(closed, Ok(true), "the socket closed");
}

#[tokio::test]
async fn with_a_public_url_only_that_origin_may_write_and_cookies_are_secure() {
    let s = TestServer::start_public("https://vmshift.example.com").await;
    let http = reqwest::Client::new();
    let sign_in = |origin: &'static str| {
        http.post(s.url("/api/v1/session"))
            .header("origin", origin)
            .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
            .send()
    };
    // The server's own Host is not enough: a rebound name is another origin.
    let rebound = sign_in("http://127.0.0.1").await.unwrap();
    assert_eq!(rebound.status(), 403);
    let ok = sign_in("https://vmshift.example.com").await.unwrap();
    assert_eq!(ok.status(), 200);
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("; Secure"), "{cookie}");
    // Scripts (no Origin) still work.
    assert_eq!(
        s.client
            .get(s.url("/api/v1/hosts"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
