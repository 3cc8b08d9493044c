use serde_json::json;

use crate::helpers::app;

fn id(value: &serde_json::Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn creating_a_cart_gives_201_then_the_same_open_cart_200() {
    let app = app().await;
    let user = app.customer().await;
    let first = app
        .post("/api/v1/carts", Some(&user.token), json!({}))
        .await;
    first.expect(201);
    assert_eq!(first.body["status"], "ACTIVE");
    assert_eq!(first.body["items"], json!([]));
    assert_eq!(first.body["total"], "0.00");
    assert_eq!(first.body["user_id"], user.id.as_str());
    assert_eq!(first.header("etag"), Some("\"1\""));
    let second = app
        .post("/api/v1/carts", Some(&user.token), json!({}))
        .await;
    second.expect(200);
    assert_eq!(second.body["id"], first.body["id"]);
    app.post("/api/v1/carts", None, json!({}))
        .await
        .expect_error(401, "unauthorized");
}

#[tokio::test]
async fn a_cart_shows_snapshot_prices_exact_totals_and_locked_lines() {
    let app = app().await;
    let user = app.customer().await;
    let cheap = app.create_product("0.10", 10).await;
    let lamp = app.create_product("19.99", 10).await;
    let cart = id(&app.cart_of(&user).await);
    app.add_item(&user, &cart, &id(&cheap), 3).await.expect(200);
    let added = app.add_item(&user, &cart, &id(&lamp), 2).await;
    added.expect(200);
    let body = &added.body;
    assert_eq!(body["total"], "40.28");
    assert_eq!(body["item_count"], 5);
    assert_eq!(body["currency"], "USD");
    assert_eq!(body["version"], 3);
    assert_eq!(added.header("etag"), Some("\"3\""));
    let line = &body["items"][1];
    assert_eq!(line["product_id"], lamp["id"]);
    assert_eq!(line["unit_price"], "19.99");
    assert_eq!(line["quantity"], 2);
    assert_eq!(line["line_total"], "39.98");
    assert_eq!(line["availability"], "available");
    assert!(chrono::DateTime::parse_from_rfc3339(line["locked_until"].as_str().unwrap()).is_ok());
    assert!(chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).is_ok());
    let read = app
        .get(&format!("/api/v1/carts/{cart}"), Some(&user.token))
        .await;
    read.expect(200);
    assert_eq!(read.body, added.body);
}

#[tokio::test]
async fn adding_locks_stock_and_every_way_of_removing_gives_it_back() {
    let app = app().await;
    let user = app.customer().await;
    let a = app.create_product("5.00", 10).await;
    let b = app.create_product("7.00", 10).await;
    let cart = id(&app.cart_of(&user).await);
    app.add_item(&user, &cart, &id(&a), 2).await.expect(200);
    app.add_item(&user, &cart, &id(&a), 3).await.expect(200);
    assert_eq!(app.stock(&id(&a)).await["locked"], 5);
    let item = format!("/api/v1/carts/{cart}/items/{}", id(&a));
    let lowered = app
        .put(&item, Some(&user.token), json!({ "quantity": 1 }))
        .await;
    lowered.expect(200);
    assert_eq!(lowered.body["items"][0]["quantity"], 1);
    assert_eq!(app.stock(&id(&a)).await["locked"], 1);
    app.put(&item, Some(&user.token), json!({ "quantity": 8 }))
        .await
        .expect(200);
    assert_eq!(app.stock(&id(&a)).await["available"], 2);
    let removed = app.delete(&item, Some(&user.token)).await;
    removed.expect(200);
    assert_eq!(removed.body["items"], json!([]));
    assert_eq!(app.stock(&id(&a)).await["locked"], 0);
    app.add_item(&user, &cart, &id(&a), 4).await.expect(200);
    app.add_item(&user, &cart, &id(&b), 6).await.expect(200);
    let emptied = app
        .delete(&format!("/api/v1/carts/{cart}"), Some(&user.token))
        .await;
    emptied.expect(200);
    assert_eq!(emptied.body["item_count"], 0);
    assert_eq!(emptied.body["total"], "0.00");
    assert_eq!(app.stock(&id(&a)).await["locked"], 0);
    assert_eq!(app.stock(&id(&b)).await["locked"], 0);
    app.delete(&item, Some(&user.token))
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn asking_for_more_than_is_available_is_a_409_that_changes_nothing() {
    let app = app().await;
    let user = app.customer().await;
    let product = app.create_product("5.00", 3).await;
    let cart = id(&app.cart_of(&user).await);
    app.add_item(&user, &cart, &id(&product), 2)
        .await
        .expect(200);
    let refused = app.add_item(&user, &cart, &id(&product), 2).await;
    refused.expect_error(409, "insufficient_stock");
    assert_eq!(refused.body["error"]["available"], 1);
    assert_eq!(
        refused.body["error"]["message"],
        "Insufficient stock. Only 1 available."
    );
    let raise = app
        .put(
            &format!("/api/v1/carts/{cart}/items/{}", id(&product)),
            Some(&user.token),
            json!({ "quantity": 4 }),
        )
        .await;
    raise.expect_error(409, "insufficient_stock");
    assert_eq!(raise.body["error"]["available"], 3);
    let cart_now = app
        .get(&format!("/api/v1/carts/{cart}"), Some(&user.token))
        .await;
    assert_eq!(cart_now.body["version"], 2);
    assert_eq!(cart_now.body["items"][0]["quantity"], 2);
    assert_eq!(app.stock(&id(&product)).await["locked"], 2);
}

#[tokio::test]
async fn a_price_change_never_alters_lines_already_in_a_cart() {
    let app = app().await;
    let admin = app.admin().await;
    let user = app.customer().await;
    let product = app.create_product("10.00", 10).await;
    let cart = id(&app.cart_of(&user).await);
    app.add_item(&user, &cart, &id(&product), 1)
        .await
        .expect(200);
    app.patch(
        &format!("/api/v1/products/{}", id(&product)),
        Some(&admin.token),
        json!({ "price": "15.00" }),
    )
    .await
    .expect(200);
    let more = app.add_item(&user, &cart, &id(&product), 1).await;
    more.expect(200);
    assert_eq!(more.body["items"][0]["unit_price"], "10.00");
    assert_eq!(more.body["total"], "20.00");
    let other_user = app.customer().await;
    let other_cart = id(&app.cart_of(&other_user).await);
    let fresh = app
        .add_item(&other_user, &other_cart, &id(&product), 1)
        .await;
    assert_eq!(fresh.body["items"][0]["unit_price"], "15.00");
}

#[tokio::test]
async fn a_cart_holds_one_currency() {
    let app = app().await;
    let admin = app.admin().await;
    let user = app.customer().await;
    let dollars = app.create_product("1.00", 5).await;
    let euros = app
        .post(
            "/api/v1/products",
            Some(&admin.token),
            json!({ "sku": format!("EUR-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]), "name": "Euro thing",
                    "category": "e2e", "price": "1.00", "currency": "EUR", "initial_stock": 5 }),
        )
        .await;
    euros.expect(201);
    let cart = id(&app.cart_of(&user).await);
    app.add_item(&user, &cart, &id(&dollars), 1)
        .await
        .expect(200);
    app.add_item(&user, &cart, &id(&euros.body), 1)
        .await
        .expect_error(409, "currency_mismatch");
    assert_eq!(app.stock(&id(&euros.body)).await["locked"], 0);
}

#[tokio::test]
async fn bad_cart_input_gets_a_4xx_and_leaves_cart_and_stock_untouched() {
    let app = app().await;
    let user = app.customer().await;
    let product = app.create_product("2.00", 500).await;
    let pid = id(&product);
    let cart = id(&app.cart_of(&user).await);
    app.add_item(&user, &cart, &pid, 1).await.expect(200);
    let items = format!("/api/v1/carts/{cart}/items");
    let cases = [
        (json!({ "product_id": pid, "quantity": 0 }), 400, "quantity"),
        (
            json!({ "product_id": pid, "quantity": -3 }),
            400,
            "quantity",
        ),
        (
            json!({ "product_id": pid, "quantity": 101 }),
            400,
            "quantity",
        ),
        (
            json!({ "product_id": pid, "quantity": 100 }),
            400,
            "quantity",
        ),
        (
            json!({ "product_id": pid, "quantity": 1e40 }),
            400,
            "quantity",
        ),
        (
            json!({ "product_id": pid, "quantity": "2" }),
            400,
            "quantity",
        ),
        (
            json!({ "product_id": pid, "quantity": 1.5 }),
            400,
            "quantity",
        ),
        (json!({ "product_id": pid }), 400, "quantity"),
        (
            json!({ "product_id": "not-a-uuid", "quantity": 1 }),
            400,
            "product_id",
        ),
        (
            json!({ "product_id": 42, "quantity": 1 }),
            400,
            "product_id",
        ),
        (
            json!({ "product_id": pid, "quantity": 1, "price": "0.01" }),
            400,
            "price",
        ),
    ];
    for (body, status, field) in cases {
        let response = app.post(&items, Some(&user.token), body.clone()).await;
        response.expect_error(status, "validation_failed");
        assert_eq!(
            response.body["error"]["details"][0]["field"], field,
            "{body}"
        );
    }
    app.post_raw(&items, Some(&user.token), "{\"product_id\":")
        .await
        .expect_error(400, "validation_failed");
    app.post_raw(&items, Some(&user.token), "")
        .await
        .expect_error(400, "validation_failed");
    app.add_item(&user, &cart, &uuid::Uuid::new_v4().to_string(), 1)
        .await
        .expect_error(404, "not_found");
    let item = format!("/api/v1/carts/{cart}/items/{pid}");
    for body in [
        json!({ "quantity": 0 }),
        json!({ "quantity": "x" }),
        json!({}),
        json!({ "quantity": 2, "x": 1 }),
    ] {
        app.put(&item, Some(&user.token), body)
            .await
            .expect_error(400, "validation_failed");
    }
    app.put(
        &format!("/api/v1/carts/{cart}/items/{}", uuid::Uuid::new_v4()),
        Some(&user.token),
        json!({ "quantity": 1 }),
    )
    .await
    .expect_error(404, "not_found");
    let unchanged = app
        .get(&format!("/api/v1/carts/{cart}"), Some(&user.token))
        .await;
    assert_eq!(unchanged.body["version"], 2);
    assert_eq!(unchanged.body["items"][0]["quantity"], 1);
    assert_eq!(app.stock(&pid).await["locked"], 1);
}

#[tokio::test]
async fn another_users_cart_does_not_exist_for_a_customer_but_an_admin_sees_it() {
    let app = app().await;
    let owner = app.customer().await;
    let stranger = app.customer().await;
    let product = app.create_product("2.00", 5).await;
    let cart = id(&app.cart_of(&owner).await);
    app.add_item(&owner, &cart, &id(&product), 1)
        .await
        .expect(200);
    let path = format!("/api/v1/carts/{cart}");
    app.get(&path, Some(&stranger.token))
        .await
        .expect_error(404, "not_found");
    app.add_item(&stranger, &cart, &id(&product), 1)
        .await
        .expect_error(404, "not_found");
    app.put(
        &format!("{path}/items/{}", id(&product)),
        Some(&stranger.token),
        json!({ "quantity": 2 }),
    )
    .await
    .expect_error(404, "not_found");
    app.delete(
        &format!("{path}/items/{}", id(&product)),
        Some(&stranger.token),
    )
    .await
    .expect_error(404, "not_found");
    app.delete(&path, Some(&stranger.token))
        .await
        .expect_error(404, "not_found");
    app.get(&path, None).await.expect_error(401, "unauthorized");
    app.get(
        &format!("/api/v1/carts/{}", uuid::Uuid::new_v4()),
        Some(&owner.token),
    )
    .await
    .expect_error(404, "not_found");
    app.get("/api/v1/carts/nope", Some(&owner.token))
        .await
        .expect_error(404, "not_found");
    let admin = app.admin().await;
    let seen = app.get(&path, Some(&admin.token)).await;
    seen.expect(200);
    assert_eq!(seen.body["items"][0]["quantity"], 1);
}

#[tokio::test]
async fn a_stale_if_match_is_a_412_and_a_current_one_succeeds() {
    let app = app().await;
    let user = app.customer().await;
    let product = app.create_product("2.00", 5).await;
    let cart = id(&app.cart_of(&user).await);
    let items = format!("/api/v1/carts/{cart}/items");
    let body = json!({ "product_id": id(&product), "quantity": 1 });
    let stale = app
        .send(
            app.request(reqwest::Method::POST, &items, Some(&user.token))
                .header("if-match", "\"7\"")
                .json(&body),
        )
        .await;
    stale.expect_error(412, "version_mismatch");
    assert_eq!(stale.body["error"]["current_version"], 1);
    let current = app
        .send(
            app.request(reqwest::Method::POST, &items, Some(&user.token))
                .header("if-match", "\"1\"")
                .json(&body),
        )
        .await;
    current.expect(200);
    assert_eq!(current.header("etag"), Some("\"2\""));
    let garbled = app
        .send(
            app.request(reqwest::Method::POST, &items, Some(&user.token))
                .header("if-match", "soon")
                .json(&body),
        )
        .await;
    garbled.expect_error(400, "validation_failed");
    assert_eq!(app.stock(&id(&product)).await["locked"], 1);
}

#[tokio::test]
async fn an_idempotency_key_adds_an_item_once() {
    let app = app().await;
    let user = app.customer().await;
    let product = app.create_product("2.00", 5).await;
    let cart = id(&app.cart_of(&user).await);
    let key = uuid::Uuid::new_v4().to_string();
    let add = |quantity: i64| {
        app.send(
            app.request(
                reqwest::Method::POST,
                &format!("/api/v1/carts/{cart}/items"),
                Some(&user.token),
            )
            .header("idempotency-key", &key)
            .json(&json!({ "product_id": id(&product), "quantity": quantity })),
        )
    };
    add(2).await.expect(200);
    let replay = add(2).await;
    replay.expect(200);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(app.stock(&id(&product)).await["locked"], 2);
    add(3).await.expect_error(422, "idempotency_key_reused");
}

#[tokio::test]
async fn reads_are_served_from_the_cache_and_never_stale_after_a_write() {
    let app = app().await;
    let user = app.customer().await;
    let product = app.create_product("2.00", 5).await;
    let cart = id(&app.cart_of(&user).await);
    let path = format!("/api/v1/carts/{cart}");
    app.get(&path, Some(&user.token)).await.expect(200);
    let cached = app.get(&path, Some(&user.token)).await;
    assert_eq!(cached.header("x-spincart-cache"), Some("hit"));
    app.add_item(&user, &cart, &id(&product), 2)
        .await
        .expect(200);
    let after_write = app.get(&path, Some(&user.token)).await;
    assert_eq!(after_write.body["version"], 2);
    assert_eq!(after_write.body["items"][0]["quantity"], 2);
    let uncached = app
        .send(
            app.request(reqwest::Method::GET, &path, Some(&user.token))
                .header("cache-control", "no-cache"),
        )
        .await;
    assert_eq!(uncached.header("x-spincart-cache"), Some("miss"));
    assert_eq!(uncached.body, after_write.body);
}

#[tokio::test]
async fn an_expired_lock_is_shown_released_by_the_sweep_and_taken_again_on_change() {
    let app = app().await;
    let Some(db) = app.db_or_skip().await else {
        return;
    };
    let user = app.customer().await;
    let product = app.create_product("2.00", 5).await;
    let pid = id(&product);
    let cart = id(&app.cart_of(&user).await);
    app.add_item(&user, &cart, &pid, 2).await.expect(200);
    let cart_uuid: uuid::Uuid = cart.parse().unwrap();
    db.execute(
        "UPDATE inventory.cart_locks SET expires_at = now() - interval '1 minute' WHERE cart_id = $1",
        &[&cart_uuid],
    )
    .await
    .unwrap();
    let report = app.sweep().await;
    assert!(report["locks_expired"].as_i64().unwrap() >= 1, "{report}");
    assert_eq!(app.stock(&pid).await["locked"], 0);
    let path = format!("/api/v1/carts/{cart}");
    let fresh = app
        .send(
            app.request(reqwest::Method::GET, &path, Some(&user.token))
                .header("cache-control", "no-cache"),
        )
        .await;
    assert_eq!(fresh.body["items"][0]["availability"], "lock_expired");
    assert_eq!(
        fresh.body["items"][0]["locked_until"],
        serde_json::Value::Null
    );
    app.put(
        &format!("{path}/items/{pid}"),
        Some(&user.token),
        json!({ "quantity": 2 }),
    )
    .await
    .expect(200);
    assert_eq!(app.stock(&pid).await["locked"], 2);
}

#[tokio::test]
async fn an_untouched_cart_expires_and_gives_back_its_stock() {
    let app = app().await;
    let Some(db) = app.db_or_skip().await else {
        return;
    };
    let user = app.customer().await;
    let product = app.create_product("2.00", 5).await;
    let pid = id(&product);
    let cart = id(&app.cart_of(&user).await);
    app.add_item(&user, &cart, &pid, 3).await.expect(200);
    let cart_uuid: uuid::Uuid = cart.parse().unwrap();
    db.execute(
        "UPDATE cart.carts SET updated_at = now() - interval '31 days' WHERE id = $1",
        &[&cart_uuid],
    )
    .await
    .unwrap();
    let report = app.sweep().await;
    assert!(report["carts_expired"].as_i64().unwrap() >= 1, "{report}");
    assert_eq!(app.stock(&pid).await["locked"], 0);
    let expired = app
        .get(&format!("/api/v1/carts/{cart}"), Some(&user.token))
        .await;
    assert_eq!(expired.body["status"], "EXPIRED");
    app.add_item(&user, &cart, &pid, 1)
        .await
        .expect_error(409, "cart_not_active");
    let next = app
        .post("/api/v1/carts", Some(&user.token), json!({}))
        .await;
    next.expect(201);
    assert_ne!(next.body["id"], expired.body["id"]);
}

#[tokio::test]
async fn only_an_admin_runs_the_sweep() {
    let app = app().await;
    let customer = app.customer().await;
    app.post(
        "/api/v1/admin/maintenance/run",
        Some(&customer.token),
        json!({}),
    )
    .await
    .expect_error(403, "forbidden");
    app.post("/api/v1/admin/maintenance/run", None, json!({}))
        .await
        .expect_error(401, "unauthorized");
    let report = app.sweep().await;
    for count in ["locks_expired", "carts_expired", "idempotency_keys_deleted"] {
        assert!(report[count].is_i64(), "{report}");
    }
}

#[tokio::test]
async fn a_cart_cannot_lock_more_than_its_limits_and_says_which() {
    let app = app().await;
    let user = app.customer().await;
    let cart = id(&app.cart_of(&user).await);
    // Units: 200 by default (max_locked_units_per_user).
    let big = id(&app.create_product("1.00", 500).await);
    let other = id(&app.create_product("1.00", 500).await);
    app.add_item(&user, &cart, &big, 100).await.expect(200);
    app.add_item(&user, &cart, &other, 100).await.expect(200);
    let third = id(&app.create_product("1.00", 5).await);
    let refused = app.add_item(&user, &cart, &third, 1).await;
    refused.expect_error(409, "cart_unit_limit");
    assert_eq!(refused.body["error"]["max_units"], 200);
    assert_eq!(refused.body["error"]["requested"], 201);
    assert_eq!(app.stock(&third).await["locked"], 0, "nothing locked");
    // Lowering is always allowed, and makes room.
    app.put(
        &format!("/api/v1/carts/{cart}/items/{other}"),
        Some(&user.token),
        json!({ "quantity": 1 }),
    )
    .await
    .expect(200);
    // Lines: 50 by default (max_cart_lines).
    let mut added = 2;
    while added < 50 {
        let product = id(&app.create_product("1.00", 5).await);
        app.add_item(&user, &cart, &product, 1).await.expect(200);
        added += 1;
    }
    let one_more = id(&app.create_product("1.00", 5).await);
    let refused = app.add_item(&user, &cart, &one_more, 1).await;
    refused.expect_error(409, "cart_line_limit");
    assert_eq!(refused.body["error"]["max_lines"], 50);
    assert_eq!(app.stock(&one_more).await["locked"], 0, "nothing locked");
}
