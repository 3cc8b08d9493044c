//! The shipment step end to end: each of the carrier's test addresses to its terminal state,
//! with stock, money and the shipment back where they were when the checkout fails; the
//! compensation of a booked shipment; and shipping an order hands its shipment to the carrier.

use serde_json::{json, Value};

use crate::helpers::{app, history_with, types, TestApp, User, BOOKS, FLAKY, REJECTS, SILENT};

async fn place(app: &TestApp, user: &User, cart: &str, line1: &str) -> String {
    let placed = app.checkout_to(user, cart, "tok_visa", line1).await;
    placed.expect(202);
    placed.body["order_id"].as_str().unwrap().to_owned()
}

/// The payment of an order as stored: (status, captured, refunded), when the suite can see the
/// app's database.
async fn payment(app: &TestApp, order: &str) -> Option<(String, i64, i64)> {
    let db = app.db_or_skip().await?;
    let id: uuid::Uuid = order.parse().unwrap();
    let row = db
        .query_one(
            "SELECT status, captured_minor, refunded_minor FROM payments.payments WHERE order_id = $1",
            &[&id],
        )
        .await
        .unwrap();
    Some((row.get(0), row.get(1), row.get(2)))
}

/// Asserts a checkout the shipment step failed gave everything back (as a failed payment
/// does: `checkout::everything_given_back`), and more: the shipment `shipment_status` (never
/// live), the payment voided, the compensations in reverse step order.
async fn everything_given_back(
    app: &TestApp,
    user: &User,
    order_id: &str,
    cart: &str,
    product: &str,
    shipment_status: &str,
) -> Value {
    let order = crate::checkout::everything_given_back(app, user, order_id, cart, product).await;
    assert_eq!(order["shipment"]["status"], shipment_status, "{order}");
    assert_eq!(
        app.stock(product).await,
        json!({ "product_id": product, "on_hand": 5, "locked": 2, "reserved": 0, "available": 3 }),
        "the restored cart locks its stock again"
    );
    if let Some((status, captured, refunded)) = payment(app, order_id).await {
        assert_eq!((status.as_str(), captured, refunded), ("voided", 0, 0));
    }
    let history = history_with(
        app,
        user,
        order_id,
        &["payment.voided", "inventory.released", "cart.restored"],
    )
    .await;
    let seen = types(&history);
    let at = |t: &str| seen.iter().position(|x| *x == t).unwrap();
    assert!(
        at("saga.cancel_shipment_requested") < at("saga.cancel_payment_requested")
            && at("saga.cancel_payment_requested") < at("saga.release_inventory_requested")
            && at("saga.release_inventory_requested") < at("saga.restore_cart_requested"),
        "compensations in reverse step order: {seen:?}"
    );
    order
}

#[tokio::test]
async fn a_booked_shipment_has_a_tracking_number_before_the_order_is_confirmed() {
    let app = app().await;
    let (user, cart, _) = app.shopper("12.50", 5, 2).await;
    let order_id = place(app, &user, &cart, BOOKS).await;
    let order = app
        .order_until(&user, &order_id, 30, |o| o["status"] == "CONFIRMED")
        .await;
    assert_eq!(
        order["shipping_address"],
        json!({ "name": "Ada Lovelace", "line1": BOOKS, "city": "London", "postal_code": "N1 9GU", "country": "GB" })
    );
    let shipment = &order["shipment"];
    assert_eq!(shipment["status"], "booked");
    let tracking = shipment["tracking_number"].as_str().unwrap();
    assert!(
        tracking.len() == 14 && tracking.starts_with("SC"),
        "{tracking}"
    );

    let history = app.history(&user, &order_id).await;
    let seen = types(&history);
    let at = |t: &str| seen.iter().position(|x| *x == t).unwrap();
    assert!(at("payment.authorized") < at("shipment.requested"));
    assert!(at("shipment.requested") < at("shipment.created"));
    assert!(at("shipment.created") < at("order.confirmed"));
    let created = history
        .iter()
        .find(|e| e["event_type"] == "shipment.created")
        .unwrap();
    assert_eq!(created["aggregate_type"], "shipment");
    assert_eq!(created["data"]["tracking_number"], tracking);

    let admin = app.admin().await;
    let saga = app
        .get(
            &format!(
                "/api/v1/admin/sagas/{}",
                order["saga"]["id"].as_str().unwrap()
            ),
            Some(&admin.token),
        )
        .await;
    saga.expect(200);
    let steps: Vec<(&str, &str)> = saga.body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("reserve_inventory", "done"),
            ("authorize_payment", "done"),
            ("create_shipment", "done"),
            ("confirm_order", "done")
        ]
    );
}

#[tokio::test]
async fn an_address_the_carrier_rejects_gives_back_payment_stock_and_cart() {
    let app = app().await;
    let (user, cart, product) = app.shopper("10.00", 5, 2).await;
    let order_id = place(app, &user, &cart, REJECTS).await;
    let order = everything_given_back(app, &user, &order_id, &cart, &product, "rejected").await;
    assert_eq!(
        order["shipment"]["reason"],
        "the carrier does not deliver to this address"
    );
    assert!(order["shipment"]["tracking_number"].is_null());
    let seen = types(&app.history(&user, &order_id).await).join(" ");
    assert!(seen.contains("shipment.rejected"), "{seen}");
    assert!(!seen.contains("order.confirmed"), "{seen}");
}

#[tokio::test]
async fn a_flaky_carrier_fails_once_then_the_retry_books() {
    let app = app().await;
    let (user, cart, _) = app.shopper("10.00", 5, 2).await;
    let order_id = place(app, &user, &cart, FLAKY).await;
    let order = app
        .order_until(&user, &order_id, 60, |o| o["status"] == "CONFIRMED")
        .await;
    assert_eq!(order["shipment"]["status"], "booked");
    let history = app.history(&user, &order_id).await;
    let requested = types(&history)
        .iter()
        .filter(|t| **t == "shipment.requested")
        .count();
    assert_eq!(
        requested, 1,
        "the failed attempt left nothing behind: its transaction rolled back"
    );
}

#[tokio::test]
async fn a_carrier_that_never_answers_times_out_and_the_request_is_withdrawn() {
    let app = app().await;
    let (user, cart, product) = app.shopper("10.00", 5, 2).await;
    let order_id = place(app, &user, &cart, SILENT).await;
    let order = everything_given_back(app, &user, &order_id, &cart, &product, "cancelled").await;
    assert!(
        order["shipment"]["reason"]
            .as_str()
            .unwrap()
            .contains("create_shipment timed out"),
        "{order}"
    );
    let history = app.history(&user, &order_id).await;
    let failed = history
        .iter()
        .find(|e| e["event_type"] == "order.failed")
        .unwrap();
    assert!(
        failed["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("create_shipment timed out"),
        "{failed}"
    );
}

#[tokio::test]
async fn cancelling_a_confirmed_order_cancels_its_booked_shipment_and_refunds() {
    let app = app().await;
    let (user, cart, product) = app.shopper("7.25", 5, 2).await;
    let order_id = place(app, &user, &cart, BOOKS).await;
    app.order_until(&user, &order_id, 30, |o| o["status"] == "CONFIRMED")
        .await;
    history_with(app, &user, &order_id, &["payment.captured", "cart.cleared"]).await;
    app.post(
        &format!("/api/v1/orders/{order_id}/cancel"),
        Some(&user.token),
        json!({}),
    )
    .await
    .expect(202);
    let order = app
        .order_until(&user, &order_id, 30, |o| o["status"] == "CANCELLED")
        .await;
    assert_eq!(order["shipment"]["status"], "cancelled");
    assert_eq!(order["shipment"]["reason"], "cancelled");
    assert_eq!(
        app.stock(&product).await,
        json!({ "product_id": product, "on_hand": 5, "locked": 0, "reserved": 0, "available": 5 })
    );
    if let Some((status, captured, refunded)) = payment(app, &order_id).await {
        assert_eq!(
            (status.as_str(), captured, refunded),
            ("refunded", 1450, 1450)
        );
    }
    let history = app.history(&user, &order_id).await;
    let seen = types(&history);
    let at = |t: &str| seen.iter().position(|x| *x == t).unwrap();
    assert!(
        at("shipment.cancelled") < at("payment.refunded"),
        "{seen:?}"
    );
}

#[tokio::test]
async fn shipping_an_order_hands_its_booked_shipment_to_the_carrier() {
    let app = app().await;
    let admin = app.admin().await;
    let (user, cart, _) = app.shopper("3.00", 5, 2).await;
    let order_id = place(app, &user, &cart, BOOKS).await;
    let confirmed = app
        .order_until(&user, &order_id, 30, |o| o["status"] == "CONFIRMED")
        .await;
    let ship = format!("/api/v1/orders/{order_id}/ship");
    let shipped = app.post(&ship, Some(&admin.token), json!({})).await;
    shipped.expect(200);
    assert_eq!(shipped.body["status"], "SHIPPED");
    assert_eq!(shipped.body["shipment"]["status"], "shipped");
    assert_eq!(
        shipped.body["shipment"]["tracking_number"],
        confirmed["shipment"]["tracking_number"]
    );
    // Shipping again changes nothing.
    let again = app.post(&ship, Some(&admin.token), json!({})).await;
    again.expect(200);
    let history = app.history(&user, &order_id).await;
    let seen = types(&history);
    assert_eq!(
        seen.iter().filter(|t| **t == "shipment.shipped").count(),
        1,
        "{seen:?}"
    );
}

#[tokio::test]
async fn an_order_without_a_booked_shipment_does_not_ship() {
    let app = app().await;
    let admin = app.admin().await;
    // Needs the app's database: a confirmed order whose shipment was withdrawn.
    let Some(db) = app.db_or_skip().await else {
        return;
    };
    let (user, cart, _) = app.shopper("3.00", 5, 1).await;
    let order_id = place(app, &user, &cart, BOOKS).await;
    app.order_until(&user, &order_id, 30, |o| o["status"] == "CONFIRMED")
        .await;
    // The carrier withdrew the booking behind the app's back: its last event says cancelled.
    let id: uuid::Uuid = order_id.parse().unwrap();
    db.execute(
        "INSERT INTO messaging.events (event_id, event_type, schema_version, correlation_id,
             aggregate_type, aggregate_id, aggregate_version, occurred_at, data, published_at)
         SELECT gen_random_uuid(), 'shipment.cancelled', 1, s.saga_id, 'shipment', s.id, s.version + 1,
                now(), '{\"kind\": \"cancelled\", \"reason\": \"withdrawn by the carrier\"}'::jsonb, now()
           FROM shipping.shipments s WHERE s.order_id = $1",
        &[&id],
    )
    .await
    .unwrap();
    app.post(
        &format!("/api/v1/orders/{order_id}/ship"),
        Some(&admin.token),
        json!({}),
    )
    .await
    .expect_error(409, "shipment_not_booked");
    let order = app
        .get(&format!("/api/v1/orders/{order_id}"), Some(&user.token))
        .await;
    assert_eq!(order.body["status"], "CONFIRMED", "nothing half-written");
}
