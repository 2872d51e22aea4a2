//! Signing the benchmark clients in: the server under test starts with a known admin
//! password; each client then sends an API token, as a script would.

#![allow(dead_code)]

/// Password of the admin in benchmark servers (`--admin-password`).
pub const PASSWORD: &str = "bench-admin-password";

/// Signs in as the admin and creates an API token.
pub async fn admin_token(base: &str) -> String {
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({ "username": "admin", "password": PASSWORD }))
        .send()
        .await
        .expect("sign in");
    assert!(res.status().is_success(), "the admin signs in");
    let cookie = res
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string();
    let body: serde_json::Value = http
        .post(format!("{base}/api/v1/tokens"))
        .header(reqwest::header::COOKIE, cookie)
        .json(&serde_json::json!({ "name": "benchmarks" }))
        .send()
        .await
        .expect("create a token")
        .json()
        .await
        .expect("the token");
    body["token"].as_str().expect("a token").to_string()
}

/// Default headers carrying the token.
pub fn headers(token: &str) -> reqwest::header::HeaderMap {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("ASCII"),
    );
    h
}

/// A client that sends the token with every request.
pub fn client(token: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .default_headers(headers(token))
        .build()
        .expect("a client")
}
