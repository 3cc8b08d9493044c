//! The checkout saga one component at a time: each stored event is handed to the next
//! handler through the harness, as the Redis trigger would, and its effect checked.

use serde_json::json;
use spincart_domain::auth::Role;
use spincart_domain::ids::UserId;

use crate::support::{
    json_body, json_request, load, load_with_database, seed_cart, seed_product, stock_of, token,
};

/// A checked-out cart in a fresh database.
struct Checkout {
    db_url: String,
    user: String,
    product: String,
    cart: String,
    order: String,
    saga: String,
}

async fn checkout(payment_token: &str) -> Checkout {
    let add = load("cart-add-item").await;
    let user = token(UserId::new(), Role::Customer);
    let product = seed_product(&add.db_url, 5).await;
    let cart = seed_cart(&add.db_url, &user).await;
    let added = add
        .component
        .request(json_request(
            "POST",
            &format!("/api/v1/carts/{cart}/items"),
            Some(&user),
            &json!({ "product_id": product, "quantity": 2 }),
        ))
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    let checkout = load_with_database("cart-checkout", add.db_url.clone()).await;
    let placed = checkout
        .component
        .request(json_request(
            "POST",
            &format!("/api/v1/carts/{cart}/checkout"),
            Some(&user),
            &json!({ "payment_token": payment_token, "shipping_address": { "name": "Ada Lovelace", "line1": "1 Book Street", "city": "London", "postal_code": "N1 9GU", "country": "GB" } }),
        ))
        .await
        .unwrap();
    assert_eq!(placed.status(), 202);
    let body = json_body(&placed);
    Checkout {
        db_url: add.db_url,
        user,
        product,
        cart,
        order: body["order_id"].as_str().unwrap().to_owned(),
        saga: body["saga_id"].as_str().unwrap().to_owned(),
    }
}

impl Checkout {
    /// The latest stored event of `event_type` in this saga, as its message payload.
    async fn message(&self, event_type: &str) -> Vec<u8> {
        let db = spincart_tests::connect(&self.db_url).await;
        let saga: uuid::Uuid = self.saga.parse().unwrap();
        let payload: serde_json::Value = db
            .query_one(
                "SELECT json_build_object('event_id', event_id, 'event_type', event_type, 'schema_version', schema_version,
                        'correlation_id', correlation_id, 'causation_id', causation_id, 'aggregate_type', aggregate_type,
                        'aggregate_id', aggregate_id, 'aggregate_version', aggregate_version,
                        'occurred_at', platform.rfc3339(occurred_at), 'data', data)
                   FROM messaging.events WHERE correlation_id = $1 AND event_type = $2 ORDER BY position DESC LIMIT 1",
                &[&saga, &event_type],
            )
            .await
            .unwrap_or_else(|e| panic!("no {event_type}: {e}"))
            .get(0);
        serde_json::to_vec(&payload).unwrap()
    }

    /// Hands the saga's latest `event_type` event to `component`, twice (the second changes
    /// nothing).
    async fn deliver(&self, component: &str, event_type: &str) {
        let handler = load_with_database(component, self.db_url.clone()).await;
        let message = self.message(event_type).await;
        handler.component.message(&message).await.unwrap();
        let before = self.saga_row().await;
        handler.component.message(&message).await.unwrap();
        assert_eq!(
            self.saga_row().await,
            before,
            "a second delivery of {event_type} to {component} changed the saga"
        );
    }

    async fn saga_row(&self) -> (String, i64) {
        let db = spincart_tests::connect(&self.db_url).await;
        let saga: uuid::Uuid = self.saga.parse().unwrap();
        let row = db
            .query_one(
                "SELECT status, version FROM checkout.sagas WHERE id = $1",
                &[&saga],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    }

    async fn scalar(&self, sql: &str) -> String {
        let db = spincart_tests::connect(&self.db_url).await;
        let order: uuid::Uuid = self.order.parse().unwrap();
        db.query_one(sql, &[&order]).await.unwrap().get(0)
    }

    async fn get(&self, component: &str, path: &str) -> serde_json::Value {
        let c = load_with_database(component, self.db_url.clone()).await;
        let response = c
            .component
            .request(json_request("GET", path, Some(&self.user), &json!(null)))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{component} {path}");
        json_body(&response)
    }
}

#[tokio::test]
async fn checkout_stores_order_saga_and_first_event_in_one_go() {
    let c = checkout("tok_visa").await;
    assert_eq!(c.saga_row().await.0, "PENDING");
    assert_eq!(
        c.scalar("SELECT status FROM orders.orders WHERE id = $1")
            .await,
        "PENDING"
    );
    let cart = c.get("cart", &format!("/api/v1/carts/{}", c.cart)).await;
    assert_eq!(cart["status"], "CHECKING_OUT");
    let order = c.get("order", &format!("/api/v1/orders/{}", c.order)).await;
    assert_eq!(order["saga"]["step"], "reserve_inventory");
    let history = c
        .get(
            "order-events",
            &format!("/api/v1/orders/{}/events", c.order),
        )
        .await;
    let types: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["order.placed", "cart.checkout_requested"]);
    let mine = c.get("orders", "/api/v1/orders").await;
    assert_eq!(mine["total"], 1);
}

#[tokio::test]
async fn the_happy_path_one_handler_at_a_time() {
    let c = checkout("tok_visa").await;
    c.deliver("on-checkout-requested-s0", "cart.checkout_requested")
        .await;
    assert_eq!(c.saga_row().await.0, "INVENTORY_RESERVED");
    assert_eq!(stock_of(&c.db_url, &c.product).await, (5, 0, 2));
    c.deliver("on-inventory-reserved-s0", "inventory.reserved")
        .await;
    assert_eq!(c.saga_row().await.0, "PAYMENT_AUTHORIZED");
    assert_eq!(
        c.scalar("SELECT status FROM payments.payments WHERE order_id = $1")
            .await,
        "authorized"
    );
    c.deliver("on-payment-authorized-s0", "payment.authorized")
        .await;
    assert_eq!(c.saga_row().await.0, "SHIPMENT_CREATED");
    assert_eq!(
        c.scalar("SELECT status FROM shipping.shipments WHERE order_id = $1")
            .await,
        "booked"
    );
    c.deliver("on-shipment-created-s0", "shipment.created")
        .await;
    assert_eq!(c.saga_row().await.0, "CONFIRMED");
    assert_eq!(
        c.scalar("SELECT status FROM orders.orders WHERE id = $1")
            .await,
        "CONFIRMED"
    );
    c.deliver("on-order-confirmed-s0", "order.confirmed").await;
    assert_eq!(
        c.get("cart", &format!("/api/v1/carts/{}", c.cart)).await["status"],
        "CHECKED_OUT"
    );
    c.deliver("on-order-confirmed-capture-s0", "order.confirmed")
        .await;
    assert_eq!(
        c.scalar("SELECT status FROM payments.payments WHERE order_id = $1")
            .await,
        "captured"
    );
    c.deliver("on-order-confirmed-stock-s0", "order.confirmed")
        .await;
    assert_eq!(
        c.scalar(
            "SELECT min(status) FROM inventory.reservations WHERE reference = 'order:' || $1::uuid::text"
        )
        .await,
        "committed"
    );
}

#[tokio::test]
async fn a_cancel_runs_each_compensation_handler_in_turn() {
    let c = checkout("tok_visa").await;
    c.deliver("on-checkout-requested-s0", "cart.checkout_requested")
        .await;
    c.deliver("on-inventory-reserved-s0", "inventory.reserved")
        .await;
    let cancel = load_with_database("order-cancel", c.db_url.clone()).await;
    let cancelled = cancel
        .component
        .request(json_request(
            "POST",
            &format!("/api/v1/orders/{}/cancel", c.order),
            Some(&c.user),
            &json!({}),
        ))
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 202);
    assert_eq!(c.saga_row().await.0, "COMPENSATING");
    // No shipment was asked for yet: cancelling it is a no-op, and the next one is requested.
    c.deliver(
        "on-cancel-shipment-requested-s0",
        "saga.cancel_shipment_requested",
    )
    .await;
    c.deliver(
        "on-cancel-payment-requested-s0",
        "saga.cancel_payment_requested",
    )
    .await;
    assert_eq!(
        c.scalar("SELECT status FROM payments.payments WHERE order_id = $1")
            .await,
        "voided"
    );
    c.deliver(
        "on-release-inventory-requested-s0",
        "saga.release_inventory_requested",
    )
    .await;
    assert_eq!(stock_of(&c.db_url, &c.product).await.2, 0);
    c.deliver(
        "on-restore-cart-requested-s0",
        "saga.restore_cart_requested",
    )
    .await;
    assert_eq!(c.saga_row().await.0, "CANCELLED");
    assert_eq!(
        c.scalar("SELECT status FROM orders.orders WHERE id = $1")
            .await,
        "CANCELLED"
    );
    let cart = c.get("cart", &format!("/api/v1/carts/{}", c.cart)).await;
    assert_eq!(cart["status"], "ACTIVE");
    assert_eq!(stock_of(&c.db_url, &c.product).await, (5, 2, 0));
}

#[tokio::test]
async fn a_pending_order_cannot_ship() {
    let c = checkout("tok_visa").await;
    let ship = load_with_database("order-ship", c.db_url.clone()).await;
    let admin = crate::support::admin_token(&c.db_url).await;
    let refused = ship
        .component
        .request(json_request(
            "POST",
            &format!("/api/v1/orders/{}/ship", c.order),
            Some(&admin),
            &json!({}),
        ))
        .await
        .unwrap();
    assert_eq!(refused.status(), 409);
}

#[tokio::test]
async fn placing_an_order_by_cart_id_starts_the_saga() {
    let orders = load("orders").await;
    let user = token(UserId::new(), Role::Customer);
    let cart = seed_cart(&orders.db_url, &user).await;
    let place = || {
        json_request(
            "POST",
            "/api/v1/orders",
            Some(&user),
            &json!({ "cart_id": cart, "payment_token": "tok_visa", "shipping_address": { "name": "Ada Lovelace", "line1": "1 Book Street", "city": "London", "postal_code": "N1 9GU", "country": "GB" } }),
        )
    };
    let empty = orders.component.request(place()).await.unwrap();
    assert_eq!(empty.status(), 409);
    assert_eq!(json_body(&empty)["error"]["code"], "cart_empty");

    let product = seed_product(&orders.db_url, 5).await;
    let add = load_with_database("cart-add-item", orders.db_url.clone()).await;
    let added = add
        .component
        .request(json_request(
            "POST",
            &format!("/api/v1/carts/{cart}/items"),
            Some(&user),
            &json!({ "product_id": product, "quantity": 2 }),
        ))
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    let placed = orders.component.request(place()).await.unwrap();
    assert_eq!(placed.status(), 202, "{}", json_body(&placed));
    let body = json_body(&placed);
    let saga: uuid::Uuid = body["saga_id"].as_str().unwrap().parse().unwrap();
    let order: uuid::Uuid = body["order_id"].as_str().unwrap().parse().unwrap();
    let db = spincart_tests::connect(&orders.db_url).await;
    let row = db
        .query_one(
            "SELECT s.status, s.order_id, o.status FROM checkout.sagas s
               JOIN orders.orders o ON o.id = s.order_id WHERE s.id = $1",
            &[&saga],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "PENDING");
    assert_eq!(row.get::<_, uuid::Uuid>(1), order);
    assert_eq!(row.get::<_, String>(2), "PENDING");
    let started: i64 = db
        .query_one(
            "SELECT count(*) FROM messaging.events
              WHERE correlation_id = $1 AND event_type = 'cart.checkout_requested'",
            &[&saga],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(started, 1, "the saga's first step is asked for");
}
