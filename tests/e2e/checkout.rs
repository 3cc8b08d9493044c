//! The checkout saga end to end: every payment token's path, cancel, ship, and what happens to
//! stock, money and the cart on each.

use serde_json::{json, Value};

use crate::helpers::{address, app, history_with, types, TestApp, User, BOOKS};

fn event<'a>(history: &'a [Value], event_type: &str) -> &'a Value {
    history
        .iter()
        .find(|e| e["event_type"] == event_type)
        .unwrap_or_else(|| panic!("no {event_type}"))
}

#[tokio::test]
async fn a_visa_checkout_is_confirmed_captured_and_clears_the_cart() {
    let app = app().await;
    let (user, cart, product) = app.shopper("12.50", 5, 2).await;
    let placed = app.checkout(&user, &cart, "tok_visa").await;
    placed.expect(202);
    let order_id = placed.body["order_id"].as_str().unwrap().to_owned();
    assert_eq!(placed.body["status"], "PENDING");
    assert!(placed.body["saga_id"].is_string());
    assert_eq!(
        placed.body["links"]["order"],
        format!("/api/v1/orders/{order_id}")
    );

    let order = app
        .order_until(&user, &order_id, 30, |o| o["status"] == "CONFIRMED")
        .await;
    assert_eq!(order["saga"]["status"], "CONFIRMED");
    assert_eq!(order["total"], "25.00");
    assert_eq!(order["currency"], "USD");
    assert_eq!(order["items"][0]["quantity"], 2);
    assert_eq!(order["items"][0]["unit_price"], "12.50");
    assert_eq!(order["cart_id"], cart.as_str());

    let history = history_with(app, &user, &order_id, &["payment.captured", "cart.cleared"]).await;
    let saga_id = placed.body["saga_id"].as_str().unwrap();
    assert!(
        history.iter().all(|e| e["correlation_id"] == saga_id),
        "every event carries the saga id"
    );
    let order_of = types(&history);
    let position = |t: &str| order_of.iter().position(|x| *x == t).unwrap();
    assert!(position("order.placed") < position("inventory.reserved"));
    assert!(position("inventory.reserved") < position("payment.authorized"));
    assert!(position("payment.authorized") < position("shipment.created"));
    assert!(position("shipment.created") < position("order.confirmed"));
    assert_eq!(
        event(&history, "payment.captured")["data"]["amount"],
        "25.00"
    );

    assert_eq!(
        app.stock(&product).await,
        json!({ "product_id": product, "on_hand": 5, "locked": 0, "reserved": 2, "available": 3 })
    );
    let cart_now = app
        .get(&format!("/api/v1/carts/{cart}"), Some(&user.token))
        .await;
    assert_eq!(cart_now.body["status"], "CHECKED_OUT");
    assert_eq!(cart_now.body["items"], json!([]));
    let listed = app.get("/api/v1/orders", Some(&user.token)).await;
    assert_eq!(listed.body["items"][0]["id"], order_id.as_str());
    // The customer can shop again: a new cart.
    app.post("/api/v1/carts", Some(&user.token), json!({}))
        .await
        .expect(201);
}

/// Asserts a failed checkout gave everything back: order FAILED, saga COMPENSATED, nothing
/// reserved, the cart ACTIVE with its line and its stock locked again.
pub(crate) async fn everything_given_back(
    app: &TestApp,
    user: &User,
    order_id: &str,
    cart: &str,
    product: &str,
) -> Value {
    let order = app
        .order_until(user, order_id, 60, |o| o["saga"]["status"] == "COMPENSATED")
        .await;
    assert_eq!(order["status"], "FAILED");
    let stock = app.stock(product).await;
    assert_eq!(stock["reserved"], 0, "{stock}");
    assert_eq!(
        stock["locked"], 2,
        "the restored cart locks its stock again: {stock}"
    );
    let cart_now = app
        .get(&format!("/api/v1/carts/{cart}"), Some(&user.token))
        .await;
    assert_eq!(cart_now.body["status"], "ACTIVE");
    assert_eq!(cart_now.body["items"][0]["quantity"], 2);
    assert_eq!(cart_now.body["items"][0]["availability"], "available");
    order
}

#[tokio::test]
async fn a_declined_card_compensates_in_reverse_and_restores_the_cart() {
    let app = app().await;
    let (user, cart, product) = app.shopper("10.00", 5, 2).await;
    let order_id = app.place_order(&user, &cart, "tok_decline").await;
    everything_given_back(app, &user, &order_id, &cart, &product).await;
    let history = app.history(&user, &order_id).await;
    let seen = types(&history);
    for expected in [
        "payment.declined",
        "order.failed",
        "saga.cancel_payment_requested",
        "saga.release_inventory_requested",
        "inventory.released",
        "saga.restore_cart_requested",
        "cart.restored",
    ] {
        assert!(seen.contains(&expected), "{expected} missing from {seen:?}");
    }
    assert!(!seen.contains(&"payment.captured"));
    let at = |t: &str| seen.iter().position(|x| *x == t).unwrap();
    assert!(
        !seen.contains(&"saga.cancel_shipment_requested"),
        "no shipment was asked for: nothing to cancel"
    );
    assert!(at("saga.cancel_payment_requested") < at("saga.release_inventory_requested"));
    assert!(at("saga.release_inventory_requested") < at("saga.restore_cart_requested"));
}

#[tokio::test]
async fn a_provider_that_keeps_failing_is_retried_then_dead_lettered_and_compensated() {
    let app = app().await;
    let (user, cart, product) = app.shopper("10.00", 5, 2).await;
    let order_id = app.place_order(&user, &cart, "tok_error").await;
    everything_given_back(app, &user, &order_id, &cart, &product).await;
    let history = app.history(&user, &order_id).await;
    let declined = event(&history, "payment.declined");
    assert!(
        declined["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("payment provider error"),
        "{declined}"
    );
    let admin = app.admin().await;
    let dead = app
        .get("/api/v1/admin/dead-letters?limit=100", Some(&admin.token))
        .await;
    let reserved_event = event(&history, "inventory.reserved")["event_id"].clone();
    let ours = dead.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["event_id"] == reserved_event)
        .expect("dead-lettered");
    assert_eq!(ours["consumer"], "payments-authorize");
    assert_eq!(ours["attempts"], 3);
}

#[tokio::test]
async fn a_flaky_provider_fails_once_then_the_retry_confirms() {
    let app = app().await;
    let (user, cart, _) = app.shopper("10.00", 5, 2).await;
    let order_id = app.place_order(&user, &cart, "tok_flaky").await;
    let order = app
        .order_until(&user, &order_id, 60, |o| o["status"] == "CONFIRMED")
        .await;
    assert_eq!(order["saga"]["status"], "CONFIRMED");
    if let Some(db) = app.db_or_skip().await {
        let id: uuid::Uuid = order_id.parse().unwrap();
        let attempts: i32 = db
            .query_one(
                "SELECT attempts FROM payments.payments WHERE order_id = $1",
                &[&id],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(
            attempts, 2,
            "the first attempt failed, the second authorized"
        );
    }
}

#[tokio::test]
async fn a_provider_that_never_answers_times_out_and_compensates() {
    let app = app().await;
    let (user, cart, product) = app.shopper("10.00", 5, 2).await;
    let order_id = app.place_order(&user, &cart, "tok_timeout").await;
    let order = everything_given_back(app, &user, &order_id, &cart, &product).await;
    assert_eq!(order["saga"]["step"], "done");
    let history = app.history(&user, &order_id).await;
    let voided = event(&history, "payment.voided");
    assert_eq!(voided["data"]["was"], "pending");
    let failed = event(&history, "order.failed");
    assert!(
        failed["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{failed}"
    );
}

#[tokio::test]
async fn cancelling_a_confirmed_order_refunds_the_capture_and_releases_the_stock() {
    let app = app().await;
    let (user, cart, product) = app.shopper("7.25", 5, 2).await;
    let order_id = app.place_order(&user, &cart, "tok_visa").await;
    app.order_until(&user, &order_id, 30, |o| o["status"] == "CONFIRMED")
        .await;
    // Every follow-up of the confirmation done (they run side by side, each on its own
    // connection): cancelled before `cart.cleared`, the cart would be restored with its lines.
    history_with(app, &user, &order_id, &["payment.captured", "cart.cleared"]).await;
    let cancel = app
        .post(
            &format!("/api/v1/orders/{order_id}/cancel"),
            Some(&user.token),
            json!({}),
        )
        .await;
    cancel.expect(202);
    let order = app
        .order_until(&user, &order_id, 30, |o| o["status"] == "CANCELLED")
        .await;
    assert_eq!(order["saga"]["status"], "CANCELLED");
    let history = app.history(&user, &order_id).await;
    assert_eq!(
        event(&history, "payment.refunded")["data"]["amount"],
        event(&history, "payment.captured")["data"]["amount"]
    );
    assert!(types(&history).contains(&"order.cancel_requested"));
    assert_eq!(
        app.stock(&product).await,
        json!({ "product_id": product, "on_hand": 5, "locked": 0, "reserved": 0, "available": 5 })
    );
    app.post(
        &format!("/api/v1/orders/{order_id}/cancel"),
        Some(&user.token),
        json!({}),
    )
    .await
    .expect_error(409, "order_not_cancellable");
}

#[tokio::test]
async fn shipping_takes_the_reserved_units_out_of_on_hand_and_forbids_a_cancel() {
    let app = app().await;
    let admin = app.admin().await;
    let (user, cart, product) = app.shopper("3.00", 5, 2).await;
    let order_id = app.place_order(&user, &cart, "tok_visa").await;
    app.order_until(&user, &order_id, 30, |o| o["status"] == "CONFIRMED")
        .await;
    let ship = format!("/api/v1/orders/{order_id}/ship");
    app.post(&ship, Some(&user.token), json!({}))
        .await
        .expect_error(403, "forbidden");
    let shipped = app.post(&ship, Some(&admin.token), json!({})).await;
    shipped.expect(200);
    assert_eq!(shipped.body["status"], "SHIPPED");
    assert_eq!(
        app.stock(&product).await,
        json!({ "product_id": product, "on_hand": 3, "locked": 0, "reserved": 0, "available": 3 })
    );
    app.post(
        &format!("/api/v1/orders/{order_id}/cancel"),
        Some(&user.token),
        json!({}),
    )
    .await
    .expect_error(409, "order_shipped");
    assert!(types(&app.history(&user, &order_id).await).contains(&"inventory.shipped"));
}

#[tokio::test]
async fn only_a_confirmed_order_ships() {
    let app = app().await;
    let admin = app.admin().await;
    let (user, cart, _) = app.shopper("3.00", 5, 1).await;
    let order_id = app.place_order(&user, &cart, "tok_decline").await;
    app.order_until(&user, &order_id, 60, |o| {
        o["saga"]["status"] == "COMPENSATED"
    })
    .await;
    app.post(
        &format!("/api/v1/orders/{order_id}/ship"),
        Some(&admin.token),
        json!({}),
    )
    .await
    .expect_error(409, "order_not_in_that_state");
}

#[tokio::test]
async fn checkout_refuses_empty_busy_foreign_and_malformed_requests() {
    let app = app().await;
    let user = app.customer().await;
    let empty = app.cart_of(&user).await["id"].as_str().unwrap().to_owned();
    app.checkout(&user, &empty, "tok_visa")
        .await
        .expect_error(409, "cart_empty");

    let (shopper, cart, _) = app.shopper("3.00", 5, 1).await;
    let to = address(BOOKS);
    for bad in [
        json!({}),
        json!({ "payment_token": "tok_visa" }),
        json!({ "payment_token": "", "shipping_address": to }),
        json!({ "payment_token": 42, "shipping_address": to }),
        json!({ "payment_token": "tok visa", "shipping_address": to }),
        json!({ "payment_token": "tok_visa", "shipping_address": to, "tip": "1.00" }),
        json!({ "payment_token": "tok_visa", "shipping_address": "London" }),
    ] {
        app.post(
            &format!("/api/v1/carts/{cart}/checkout"),
            Some(&shopper.token),
            bad.clone(),
        )
        .await
        .expect_error(400, "validation_failed");
    }
    // Every bad field of the address is named, with the token's, in one answer.
    let refused = app
        .post(
            &format!("/api/v1/carts/{cart}/checkout"),
            Some(&shopper.token),
            json!({ "payment_token": "tok visa", "shipping_address": {
                "name": "", "line1": "1 Book Street", "city": " ", "postal_code": "N1 9GU!", "country": "XX"
            } }),
        )
        .await;
    refused.expect_error(400, "validation_failed");
    let fields: Vec<&str> = refused.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "payment_token",
            "shipping_address.name",
            "shipping_address.city",
            "shipping_address.postal_code",
            "shipping_address.country"
        ]
    );
    app.checkout(&user, &cart, "tok_visa")
        .await
        .expect_error(404, "not_found");
    app.post(
        &format!("/api/v1/carts/{cart}/checkout"),
        None,
        json!({ "payment_token": "tok_visa", "shipping_address": to }),
    )
    .await
    .expect_error(401, "unauthorized");

    app.checkout(&shopper, &cart, "tok_timeout")
        .await
        .expect(202);
    app.checkout(&shopper, &cart, "tok_visa")
        .await
        .expect_error(409, "checkout_in_progress");
    let add = app
        .add_item(&shopper, &cart, &uuid::Uuid::new_v4().to_string(), 1)
        .await;
    add.expect_error(409, "checkout_in_progress");
}

#[tokio::test]
async fn placing_an_order_by_cart_id_is_the_same_as_checkout() {
    let app = app().await;
    let (user, cart, _) = app.shopper("4.00", 5, 1).await;
    let placed = app
        .post(
            "/api/v1/orders",
            Some(&user.token),
            json!({ "cart_id": cart, "payment_token": "tok_visa", "shipping_address": address(BOOKS) }),
        )
        .await;
    placed.expect(202);
    let order_id = placed.body["order_id"].as_str().unwrap();
    app.order_until(&user, order_id, 30, |o| o["status"] == "CONFIRMED")
        .await;
    app.post(
        "/api/v1/orders",
        Some(&user.token),
        json!({ "cart_id": "nope", "payment_token": "tok_visa", "shipping_address": address(BOOKS) }),
    )
    .await
    .expect_error(400, "validation_failed");
}

#[tokio::test]
async fn another_customers_order_does_not_exist_for_you() {
    let app = app().await;
    let (user, cart, _) = app.shopper("4.00", 5, 1).await;
    let order_id = app.place_order(&user, &cart, "tok_visa").await;
    let stranger = app.customer().await;
    for path in [
        format!("/api/v1/orders/{order_id}"),
        format!("/api/v1/orders/{order_id}/events"),
    ] {
        app.get(&path, Some(&stranger.token))
            .await
            .expect_error(404, "not_found");
    }
    app.post(
        &format!("/api/v1/orders/{order_id}/cancel"),
        Some(&stranger.token),
        json!({}),
    )
    .await
    .expect_error(404, "not_found");
    app.get(
        &format!("/api/v1/orders/{}", uuid::Uuid::new_v4()),
        Some(&user.token),
    )
    .await
    .expect_error(404, "not_found");
    app.get(
        &format!("/api/v1/orders/{order_id}?wait=99"),
        Some(&user.token),
    )
    .await
    .expect_error(400, "validation_failed");
    let admin = app.admin().await;
    app.get(&format!("/api/v1/orders/{order_id}"), Some(&admin.token))
        .await
        .expect(200);
}

/// The channel the app publishes `event_type` on for the saga (or chain) `correlation_id`.
fn channel_of(event_type: &str, correlation_id: &str) -> String {
    spincart_domain::events::shards::channel(
        event_type,
        correlation_id.parse().unwrap(),
        spincart_tests::running_app::saga_shards(),
    )
}

/// The consumers subscribed to `event_type`.
fn consumers_of(event_type: &str) -> Vec<&'static str> {
    spincart_domain::events::consumers::SUBSCRIPTIONS
        .iter()
        .filter(|(t, _)| t.as_str() == event_type)
        .map(|(_, consumer)| *consumer)
        .collect()
}

#[tokio::test]
async fn the_same_events_delivered_again_change_nothing() {
    let app = app().await;
    if app.redis_or_skip().is_none() {
        return;
    }
    let (user, cart, product) = app.shopper("5.00", 5, 2).await;
    let order_id = app.place_order(&user, &cart, "tok_visa").await;
    app.order_until(&user, &order_id, 30, |o| o["status"] == "CONFIRMED")
        .await;
    let before = history_with(app, &user, &order_id, &["payment.captured", "cart.cleared"]).await;
    let stock_before = app.stock(&product).await;
    // Every event of the checkout goes again to every consumer of its type, on the channel it
    // really travels on; each of them must take it and call it a duplicate.
    let mut expected: std::collections::BTreeMap<&str, f64> = Default::default();
    let mut duplicates_before = std::collections::BTreeMap::new();
    for e in &before {
        for consumer in consumers_of(e["event_type"].as_str().unwrap()) {
            *expected.entry(consumer).or_default() += 1.0;
        }
    }
    assert_eq!(
        expected.keys().copied().collect::<Vec<_>>(),
        [
            "cart-clear",
            "inventory-commit",
            "inventory-reserve",
            "orders-confirm",
            "payments-authorize",
            "payments-capture",
            "shipping-create"
        ],
        "a confirmed checkout's events reach every consumer of its happy path"
    );
    for consumer in expected.keys() {
        let labels = [("consumer", *consumer), ("outcome", "duplicate")];
        duplicates_before.insert(
            *consumer,
            app.metric("spincart_events_consumed_total", &labels).await,
        );
    }
    for e in &before {
        let event_type = e["event_type"].as_str().unwrap();
        let consumers = consumers_of(event_type);
        if consumers.is_empty() {
            continue;
        }
        let envelope = json!({
            "event_id": e["event_id"], "event_type": e["event_type"], "schema_version": e["schema_version"],
            "correlation_id": e["correlation_id"], "causation_id": e["causation_id"], "aggregate_type": e["aggregate_type"],
            "aggregate_id": e["aggregate_id"], "aggregate_version": e["aggregate_version"], "occurred_at": e["occurred_at"], "data": e["data"],
        });
        let channel = channel_of(event_type, e["correlation_id"].as_str().unwrap());
        let reached = app
            .publish(&channel, &serde_json::to_vec(&envelope).unwrap())
            .await
            .unwrap();
        assert_eq!(
            reached,
            consumers.len() as i64,
            "{channel} reaches every consumer of {event_type}: {consumers:?}"
        );
    }
    // Messages of one subscription are handled one at a time: once each consumer has counted
    // its duplicates, they have all been handled.
    for (consumer, count) in &expected {
        let labels = [("consumer", *consumer), ("outcome", "duplicate")];
        let wanted = duplicates_before[consumer] + count;
        spincart_tests::eventually(
            std::time::Duration::from_secs(15),
            &format!("{consumer} takes {count} duplicates"),
            || async {
                (app.metric("spincart_events_consumed_total", &labels).await >= wanted)
                    .then_some(())
            },
        )
        .await;
    }
    assert_eq!(
        types(&app.history(&user, &order_id).await),
        types(&before),
        "the duplicates recorded nothing"
    );
    assert_eq!(app.stock(&product).await, stock_before);
    let order = app
        .get(&format!("/api/v1/orders/{order_id}"), Some(&user.token))
        .await;
    assert_eq!(order.body["status"], "CONFIRMED");
}

#[tokio::test]
async fn an_unreadable_message_is_dead_lettered_and_the_rest_keeps_flowing() {
    let app = app().await;
    let garbage = format!("not an event {}", uuid::Uuid::new_v4());
    // Ahead of whatever comes next on every shard's channel: the next order's payment step
    // waits behind it, on whichever shard the order lands.
    let shards = spincart_tests::running_app::saga_shards();
    for shard in 0..shards {
        let channel = format!("inventory.reserved.{shard}");
        let Some(reached) = app.publish(&channel, garbage.as_bytes()).await else {
            return;
        };
        assert_eq!(reached, 1, "{channel} has its consumer");
    }
    let (user, cart, _) = app.shopper("5.00", 5, 1).await;
    let order_id = app.place_order(&user, &cart, "tok_visa").await;
    app.order_until(&user, &order_id, 30, |o| o["status"] == "CONFIRMED")
        .await;
    let admin = app.admin().await;
    let ours = spincart_tests::eventually(
        std::time::Duration::from_secs(10),
        "every shard's garbage dead-lettered",
        || async {
            let dead = app
                .get("/api/v1/admin/dead-letters?limit=100", Some(&admin.token))
                .await;
            let ours: Vec<serde_json::Value> = dead.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["payload"] == garbage.as_str())
                .cloned()
                .collect();
            (ours.len() == shards as usize).then_some(ours)
        },
    )
    .await;
    for dead in ours {
        assert_eq!(dead["consumer"], "payments-authorize");
        assert!(dead["error"]
            .as_str()
            .unwrap()
            .contains("not an event envelope"));
    }
}
