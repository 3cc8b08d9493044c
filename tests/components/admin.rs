//! The admin operations components and /metrics.

use serde_json::json;

use crate::support::{admin_token, json_body, json_request, load, load_with_database};

async fn seeded() -> (String, String) {
    // A checkout whose payment step the admin will push.
    let db_url = spincart_tests::fresh_database().await;
    let user = crate::support::token(
        spincart_domain::ids::UserId::new(),
        spincart_domain::auth::Role::Customer,
    );
    let product = crate::support::seed_product(&db_url, 5).await;
    let cart = crate::support::seed_cart(&db_url, &user).await;
    let add = load_with_database("cart-add-item", db_url.clone()).await;
    add.component
        .request(json_request(
            "POST",
            &format!("/api/v1/carts/{cart}/items"),
            Some(&user),
            &json!({ "product_id": product, "quantity": 1 }),
        ))
        .await
        .unwrap();
    let checkout = load_with_database("cart-checkout", db_url.clone()).await;
    let placed = checkout
        .component
        .request(json_request(
            "POST",
            &format!("/api/v1/carts/{cart}/checkout"),
            Some(&user),
            &json!({ "payment_token": "tok_visa", "shipping_address": { "name": "Ada Lovelace", "line1": "1 Book Street", "city": "London", "postal_code": "N1 9GU", "country": "GB" } }),
        ))
        .await
        .unwrap();
    (
        db_url,
        json_body(&placed)["saga_id"].as_str().unwrap().to_owned(),
    )
}

async fn call(db_url: &str, component: &str, method: &str, path: &str) -> (u16, serde_json::Value) {
    let c = load_with_database(component, db_url.to_owned()).await;
    let response = c
        .component
        .request(json_request(
            method,
            path,
            Some(&admin_token(db_url).await),
            &json!({}),
        ))
        .await
        .unwrap();
    (response.status().as_u16(), json_body(&response))
}

#[tokio::test]
async fn sagas_are_listed_and_shown_with_their_steps_and_events() {
    let (db, saga) = seeded().await;
    let (status, list) = call(
        &db,
        "admin-sagas",
        "GET",
        "/api/v1/admin/sagas?status=PENDING",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["id"], saga.as_str());
    let (status, detail) = call(
        &db,
        "admin-saga",
        "GET",
        &format!("/api/v1/admin/sagas/{saga}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(detail["steps"][0]["status"], "running");
    assert_eq!(detail["events"][0]["correlation_id"], saga.as_str());
    let (status, _) = call(&db, "admin-sagas", "GET", "/api/v1/admin/sagas?status=NOPE").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn an_admin_compensates_a_running_saga_and_cannot_retry_an_ended_one() {
    let (db, saga) = seeded().await;
    let (status, view) = call(
        &db,
        "admin-saga-compensate",
        "POST",
        &format!("/api/v1/admin/sagas/{saga}/compensate"),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(view["status"], "COMPENSATING");
    let (status, _) = call(
        &db,
        "admin-saga-compensate",
        "POST",
        &format!("/api/v1/admin/sagas/{saga}/compensate"),
    )
    .await;
    assert_eq!(status, 409);
    let (status, view) = call(
        &db,
        "admin-saga-retry",
        "POST",
        &format!("/api/v1/admin/sagas/{saga}/retry"),
    )
    .await;
    assert_eq!(status, 202, "a running compensation is re-driven");
    assert_eq!(view["redrives"], 1);
}

#[tokio::test]
async fn the_event_store_is_queryable_by_correlation_and_position() {
    let (db, saga) = seeded().await;
    let (status, page) = call(
        &db,
        "admin-events",
        "GET",
        &format!("/api/v1/admin/events?correlation_id={saga}"),
    )
    .await;
    assert_eq!(status, 200);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let after = items[0]["position"].as_i64().unwrap();
    let (_, rest) = call(
        &db,
        "admin-events",
        "GET",
        &format!("/api/v1/admin/events?correlation_id={saga}&after={after}"),
    )
    .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    let (status, _) = call(
        &db,
        "admin-events",
        "GET",
        "/api/v1/admin/events?after=yesterday",
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_dead_letter_is_listed_and_replayed() {
    let projector = load("on-product-changed").await;
    let envelope = json!({
        "event_id": uuid::Uuid::new_v4(), "event_type": "catalog.product_created", "schema_version": 1,
        "correlation_id": uuid::Uuid::new_v4(), "causation_id": null, "aggregate_type": "product",
        "aggregate_id": uuid::Uuid::new_v4(), "aggregate_version": 1, "occurred_at": "2026-11-21T00:00:00.000Z",
        "data": { "unexpected": true },
    });
    // The handler reports the failure to the trigger (as Spin logs it) and dead-letters it.
    projector
        .component
        .message(&serde_json::to_vec(&envelope).unwrap())
        .await
        .expect_err("a product event without a product is refused");
    let (status, list) = call(
        &projector.db_url,
        "admin-dead-letters",
        "GET",
        "/api/v1/admin/dead-letters",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["event_id"], envelope["event_id"], "{list}");
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, replay) = call(
        &projector.db_url,
        "admin-dead-letter-replay",
        "POST",
        &format!("/api/v1/admin/dead-letters/{id}/replay"),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(replay["channel"], "catalog.product_created");
    let (status, _) = call(
        &projector.db_url,
        "admin-dead-letter-replay",
        "POST",
        &format!("/api/v1/admin/dead-letters/{}/replay", uuid::Uuid::new_v4()),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn carts_are_listed_for_admins() {
    let (db, _) = seeded().await;
    let (status, page) = call(
        &db,
        "admin-carts",
        "GET",
        "/api/v1/admin/carts?status=CHECKING_OUT",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["item_count"], 1);
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let (db, _) = seeded().await;
    let metrics = load_with_database("metrics", db).await;
    let response = metrics.component.get("/metrics").await.unwrap();
    assert_eq!(response.status(), 200);
    let text = String::from_utf8(response.body().to_vec()).unwrap();
    assert!(text.contains("# TYPE spincart_orders gauge"), "{text}");
    assert!(
        text.contains("spincart_orders{status=\"PENDING\"} 1"),
        "{text}"
    );
    assert!(text.contains("spincart_sagas{status=\"PENDING\"} 1"));
}
