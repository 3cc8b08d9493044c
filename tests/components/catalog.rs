use serde_json::json;

use crate::support::{admin_token, json_body, json_request, load, load_with_database};

fn product() -> serde_json::Value {
    json!({ "sku": "LAMP-1", "name": "Lamp", "category": "lighting", "price": "79.99", "currency": "USD", "initial_stock": 4 })
}

#[tokio::test]
async fn creating_a_product_stores_it_its_stock_and_its_event_in_one_go() {
    let products = load("catalog-products").await;
    let response = products
        .component
        .request(json_request(
            "POST",
            "/api/v1/products",
            Some(&admin_token(&products.db_url).await),
            &product(),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let id: uuid::Uuid = json_body(&response)["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let db = spincart_tests::connect(&products.db_url).await;
    let on_hand: i32 = db
        .query_one(
            "SELECT on_hand FROM inventory.stock WHERE product_id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(on_hand, 4);
    let event = db
        .query_one("SELECT event_type, aggregate_version, published_at IS NOT NULL FROM messaging.events WHERE aggregate_id = $1", &[&id])
        .await
        .unwrap();
    assert_eq!(event.get::<_, String>(0), "catalog.product_created");
    assert_eq!(event.get::<_, i64>(1), 1);
    assert!(event.get::<_, bool>(2), "published after commit");
}

#[tokio::test]
async fn the_search_projection_applies_each_product_event_once() {
    let products = load("catalog-products").await;
    let response = products
        .component
        .request(json_request(
            "POST",
            "/api/v1/products",
            Some(&admin_token(&products.db_url).await),
            &product(),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let db = spincart_tests::connect(&products.db_url).await;
    let payload: serde_json::Value = db
        .query_one(
            "SELECT json_build_object('event_id', event_id, 'event_type', event_type, 'schema_version', schema_version,
                    'correlation_id', correlation_id, 'causation_id', causation_id, 'aggregate_type', aggregate_type,
                    'aggregate_id', aggregate_id, 'aggregate_version', aggregate_version,
                    'occurred_at', platform.rfc3339(occurred_at), 'data', data)
               FROM messaging.events WHERE event_type = 'catalog.product_created'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let projector = load_with_database("on-product-changed", products.db_url.clone()).await;
    let message = serde_json::to_vec(&payload).unwrap();
    projector.component.message(&message).await.unwrap();
    projector.component.message(&message).await.unwrap();
    let rows: i64 = db
        .query_one("SELECT count(*) FROM catalog.product_search", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);
    let applied: i64 = db
        .query_one(
            "SELECT count(*) FROM messaging.processed_events WHERE consumer = 'catalog-search'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, 1);
}

#[tokio::test]
async fn an_unreadable_message_goes_to_the_dead_letters() {
    let projector = load("on-product-changed").await;
    projector
        .component
        .message(b"this is not an event")
        .await
        .unwrap();
    let db = spincart_tests::connect(&projector.db_url).await;
    let error: String = db
        .query_one(
            "SELECT error FROM messaging.dead_letters WHERE consumer = 'catalog-search'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(error.contains("not an event envelope"), "{error}");
}

#[tokio::test]
async fn getting_an_unknown_product_is_a_404() {
    let product = load("catalog-product").await;
    let response = product
        .component
        .get(&format!("/api/v1/products/{}", uuid::Uuid::new_v4()))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_database_with_no_connection_to_spare_is_a_503_with_retry_after() {
    // A role allowed no connections: PostgreSQL refuses it as it refuses anyone once
    // max_connections is reached (SQLSTATE 53300, "too many connections").
    let admin = spincart_tests::connect(&spincart_tests::pg_url()).await;
    admin
        .batch_execute(
            "DO $$ BEGIN
                 IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spincart_no_slots') THEN
                     CREATE ROLE spincart_no_slots LOGIN CONNECTION LIMIT 0;
                 END IF;
             END $$",
        )
        .await
        .unwrap();
    let database = spincart_tests::fresh_database().await;
    let (base, name) = database.rsplit_once('/').unwrap();
    let host = base.rsplit_once('@').map(|(_, h)| h).unwrap_or(base);
    let saturated = format!("postgres://spincart_no_slots@{host}/{name}");
    let products = load_with_database("catalog-products", saturated).await;
    let response = products
        .component
        .request(json_request("GET", "/api/v1/products", None, &json!({})))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some("1")
    );
    assert_eq!(json_body(&response)["error"]["code"], "service_unavailable");
}
