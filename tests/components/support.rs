//! Loading a component with variables pointing at a fresh database, and minting tokens.

#![allow(dead_code)]

use bytes::Bytes;
use spincart_domain::auth::{sign, Claims, Role};
use spincart_domain::ids::UserId;
use spincart_host::harness::TestComponent;
use spincart_tests::{fresh_database, host_port, redis_url, repo_root};

pub const JWT_SECRET: &str = "component-test-signing-key-0f9c2e7d41b8a653";

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
        // Components share the test Redis across tests and runs: failed logins must not add up
        // to a throttle here (the e2e suite tests the throttle on a Redis of its own).
        .variable("login_failures_per_account", "1000000")
        .variable("login_failures_per_address", "1000000")
        .variable("registrations_per_address", "1000000")
        .start()
        .await
        .unwrap_or_else(|e| panic!("loading {id}: {e:#}"));
    Subject { component, db_url }
}

/// A valid token for a user with the given role.
pub fn token(user: UserId, role: Role) -> String {
    let now = chrono::Utc::now().timestamp();
    sign(
        &Claims::new(user, role, "someone@components.test", now, 600),
        JWT_SECRET.as_bytes(),
    )
}

/// A token of an admin of the database at `db_url`: a user an operator made an admin there (the
/// platform checks every admin token against the database).
pub async fn admin_token(db_url: &str) -> String {
    let db = spincart_tests::connect(db_url).await;
    let id = UserId::new();
    db.execute(
        "INSERT INTO users.users (id, email, password_hash, full_name, role)
         VALUES ($1, $2, 'not a password hash', 'Component Admin', 'admin')",
        &[&id.as_uuid(), &format!("admin-{id}@components.test")],
    )
    .await
    .unwrap();
    token(id, Role::Admin)
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

/// Creates a product with `stock` units (through the catalog-products component) in `db_url`.
pub async fn seed_product(db_url: &str, stock: i64) -> String {
    let products = load_with_database("catalog-products", db_url.to_owned()).await;
    let sku = format!("SEED-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let response = products
        .component
        .request(json_request(
            "POST",
            "/api/v1/products",
            Some(&admin_token(db_url).await),
            &serde_json::json!({ "sku": sku, "name": "Seed", "category": "seed", "price": "2.50", "currency": "USD", "initial_stock": stock }),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    json_body(&response)["id"].as_str().unwrap().to_owned()
}

/// Creates `user`'s cart (through cart-create) in `db_url`; returns its id.
pub async fn seed_cart(db_url: &str, user_token: &str) -> String {
    let create = load_with_database("cart-create", db_url.to_owned()).await;
    let response = create
        .component
        .request(json_request(
            "POST",
            "/api/v1/carts",
            Some(user_token),
            &serde_json::json!({}),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    json_body(&response)["id"].as_str().unwrap().to_owned()
}

/// The stock row of a product: (on_hand, locked, reserved).
pub async fn stock_of(db_url: &str, product: &str) -> (i32, i32, i32) {
    let db = spincart_tests::connect(db_url).await;
    let id: uuid::Uuid = product.parse().unwrap();
    let row = db
        .query_one(
            "SELECT on_hand, locked, reserved FROM inventory.stock WHERE product_id = $1",
            &[&id],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}
