//! Loading a component with variables pointing at a fresh database, and minting tokens.

#![allow(dead_code)]

use bytes::Bytes;
use spincart_domain::auth::{sign, Claims, Role};
use spincart_domain::ids::UserId;
use spincart_host::harness::TestComponent;
use spincart_tests::{fresh_database, host_port, redis_url, repo_root};

pub const JWT_SECRET: &str = "component-test-secret";
pub const ADMIN_EMAIL: &str = "admin@components.test";

/// A component and the database it uses.
pub struct Subject {
    pub component: TestComponent,
    pub db_url: String,
}

/// Loads component `id` from spin.toml against a fresh database.
pub async fn load(id: &str) -> Subject {
    load_with_database(id, fresh_database().await).await
}

/// Loads component `id` against an existing database (several components, one database).
pub async fn load_with_database(id: &str, db_url: String) -> Subject {
    let redis = redis_url();
    let component = TestComponent::load(repo_root().join("spin.toml"), id)
        .variable("db_url", &db_url)
        .variable("db_host", &host_port(&db_url))
        .variable("redis_url", &redis)
        .variable("redis_host", &host_port(&redis))
        .variable("jwt_secret", JWT_SECRET)
        .variable("admin_emails", ADMIN_EMAIL)
        .start()
        .await
        .unwrap_or_else(|e| panic!("loading {id}: {e:#}"));
    Subject { component, db_url }
}

/// A valid token for a user with the given role.
pub fn token(user: UserId, role: Role) -> String {
    let now = chrono::Utc::now().timestamp();
    sign(
        &Claims {
            sub: user,
            role,
            email: "someone@components.test".into(),
            iat: now,
            exp: now + 600,
        },
        JWT_SECRET.as_bytes(),
    )
}

pub fn admin_token() -> String {
    token(UserId::new(), Role::Admin)
}

/// A JSON request.
pub fn json_request(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> http::Request<Bytes> {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder
        .body(Bytes::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

pub fn json_body(response: &http::Response<Bytes>) -> serde_json::Value {
    serde_json::from_slice(response.body()).unwrap_or(serde_json::Value::Null)
}
