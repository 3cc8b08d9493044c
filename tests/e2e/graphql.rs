//! The GraphQL gateway (`/graphql`) end to end: every query and mutation over the same use
//! cases as REST, auth, error codes in `extensions.code`, idempotency, the limits, the
//! `orderStatus` subscription over Server-Sent Events, and the statements a nested query costs.

use std::time::Duration;

use serde_json::{json, Value};
use spincart_tests::running_app::RunningApp;

use crate::helpers::{app, own_app, TestApp, User, E2E_SETTINGS};

/// Posts a GraphQL request; the whole response (`data`, `errors`).
async fn gql(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> Value {
    let res = app
        .post(
            "/graphql",
            token,
            json!({ "query": query, "variables": variables }),
        )
        .await;
    res.expect(200);
    res.body
}

/// The `data` of a request that must succeed.
async fn data(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> Value {
    let out = gql(app, token, query, variables).await;
    assert!(out.get("errors").is_none(), "{query}: {out}");
    out["data"].clone()
}

/// The first error's `extensions.code` of a request that must fail.
async fn error_code(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> Value {
    let out = gql(app, token, query, variables).await;
    assert!(out["errors"].is_array(), "{query} should fail: {out}");
    out["errors"][0]["extensions"].clone()
}

const CART: &str = "id status version itemCount total currency items { productId sku name unitPrice quantity lineTotal availability lockedUntil product { id name available } }";
const ORDER: &str = "id status total currency version items { productId quantity lineTotal } saga { id status step updatedAt } shippingAddress { name line1 line2 city postalCode country } shipment { id status trackingNumber reason updatedAt }";

/// A test address the simulated carrier books (`line1` "1 Book Street"), as GraphQL input.
fn address(line1: &str) -> Value {
    json!({ "name": "Ada GraphQL", "line1": line1, "line2": "Flat 2", "city": "London", "postalCode": "n1 9gu", "country": "GB" })
}

/// The carrier's tracking number: "SC" and 12 hex digits.
fn is_tracking_number(value: &Value) -> bool {
    value.as_str().is_some_and(|t| {
        t.len() == 14 && t.starts_with("SC") && t[2..].chars().all(|c| c.is_ascii_hexdigit())
    })
}

async fn admin_product(app: &TestApp, admin: &User, price: &str, stock: i64) -> Value {
    let sku = format!("GQL-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    data(
        app,
        Some(&admin.token),
        "mutation($input: NewProduct!) { createProduct(input: $input) { id sku name price currency available category } }",
        json!({ "input": { "sku": sku, "name": format!("Lamp {sku}"), "category": "gql", "price": price, "currency": "USD", "initialStock": stock } }),
    )
    .await["createProduct"]
        .clone()
}

#[tokio::test]
async fn a_shopper_registers_fills_a_cart_and_checks_out_through_graphql_alone() {
    let app = app().await;
    let admin = app.admin().await;
    let lamp = admin_product(app, admin, "12.50", 10).await;
    let desk = admin_product(app, admin, "99.99", 5).await;
    let (lamp_id, desk_id) = (lamp["id"].as_str().unwrap(), desk["id"].as_str().unwrap());

    let email = format!("gql-{}@e2e.test", uuid::Uuid::new_v4().simple());
    let registered = data(app, None, "mutation($e: String!) { registerUser(email: $e, password: \"correct horse battery\", fullName: \"Ada GraphQL\") { id email fullName } }", json!({ "e": email })).await;
    assert_eq!(registered["registerUser"]["fullName"], "Ada GraphQL");
    let session = data(app, None, "mutation($e: String!) { loginUser(email: $e, password: \"correct horse battery\") { token expiresAt user { id email role } } }", json!({ "e": email })).await;
    assert_eq!(session["loginUser"]["user"]["role"], "customer");
    let token = session["loginUser"]["token"].as_str().unwrap().to_owned();
    let me = data(
        app,
        Some(&token),
        "{ me { id email fullName role } }",
        json!({}),
    )
    .await;
    assert_eq!(me["me"]["email"], email.as_str());

    let product = data(app, None, "query($id: ID!) { product(id: $id) { name price available } stock(productId: $id) { onHand locked reserved available } }", json!({ "id": lamp_id })).await;
    assert_eq!(product["product"]["price"], "12.50");
    assert_eq!(product["stock"]["onHand"], 10);
    let sku = lamp["sku"].as_str().unwrap();
    let found = spincart_tests::eventually(Duration::from_secs(30), "the catalog search shows the product", || async {
        let out = data(app, None, "query($q: String) { products(q: $q, category: \"gql\") { total items { id sku } } }", json!({ "q": sku })).await;
        (out["products"]["total"] == 1).then_some(out)
    })
    .await;
    assert_eq!(found["products"]["items"][0]["id"], lamp_id);

    let cart = data(
        app,
        Some(&token),
        &format!("mutation {{ openCart {{ {CART} }} }}"),
        json!({}),
    )
    .await["openCart"]
        .clone();
    let cart_id = cart["id"].as_str().unwrap().to_owned();
    let add = format!("mutation($c: ID!, $p: ID!, $q: Int!) {{ addToCart(cartId: $c, productId: $p, quantity: $q) {{ {CART} }} }}");
    data(
        app,
        Some(&token),
        &add,
        json!({ "c": cart_id, "p": lamp_id, "q": 1 }),
    )
    .await;
    let cart = data(
        app,
        Some(&token),
        &add,
        json!({ "c": cart_id, "p": desk_id, "q": 1 }),
    )
    .await["addToCart"]
        .clone();
    assert_eq!(cart["itemCount"], 2);
    let cart = data(app, Some(&token), &format!("mutation($c: ID!, $p: ID!, $v: Int) {{ updateCartItem(cartId: $c, productId: $p, quantity: 3, expectedVersion: $v) {{ {CART} }} }}"), json!({ "c": cart_id, "p": lamp_id, "v": cart["version"] })).await["updateCartItem"].clone();
    assert_eq!(
        cart["total"], "137.49",
        "3 × 12.50 + 99.99, as the API computes it: {cart}"
    );
    let line = cart["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["productId"] == lamp_id)
        .unwrap()
        .clone();
    assert_eq!(line["availability"], "available");
    assert_eq!(
        line["product"]["available"], 7,
        "the product, loaded for the line: {line}"
    );
    let cart = data(app, Some(&token), &format!("mutation($c: ID!, $p: ID!) {{ removeFromCart(cartId: $c, productId: $p) {{ {CART} }} }}"), json!({ "c": cart_id, "p": desk_id })).await["removeFromCart"].clone();
    assert_eq!(cart["total"], "37.50");
    let read = data(
        app,
        Some(&token),
        &format!("query($c: ID!) {{ cart(id: $c) {{ {CART} }} }}"),
        json!({ "c": cart_id }),
    )
    .await;
    assert_eq!(read["cart"]["version"], cart["version"]);

    let started = data(app, Some(&token), &format!("mutation($c: ID!, $a: ShippingAddressInput!) {{ checkout(cartId: $c, paymentToken: \"tok_visa\", shippingAddress: $a) {{ orderId sagaId status order {{ {ORDER} }} }} }}"), json!({ "c": cart_id, "a": address("1 Book Street") })).await["checkout"].clone();
    assert_eq!(started["status"], "PENDING");
    assert_eq!(
        started["order"]["shippingAddress"],
        json!({ "name": "Ada GraphQL", "line1": "1 Book Street", "line2": "Flat 2", "city": "London", "postalCode": "N1 9GU", "country": "GB" }),
        "the address as stored (the postal code upper-case)"
    );
    let order_id = started["orderId"].as_str().unwrap().to_owned();
    let confirmed = spincart_tests::eventually(
        Duration::from_secs(60),
        "the order is confirmed",
        || async {
            let out = data(
                app,
                Some(&token),
                &format!("query($o: ID!) {{ order(id: $o, waitSeconds: 2) {{ {ORDER} }} }}"),
                json!({ "o": order_id }),
            )
            .await;
            (out["order"]["saga"]["status"] == "CONFIRMED").then_some(out)
        },
    )
    .await;
    assert_eq!(confirmed["order"]["status"], "CONFIRMED");
    assert_eq!(confirmed["order"]["total"], "37.50");
    let shipment = &confirmed["order"]["shipment"];
    assert_eq!(shipment["status"], "booked", "{confirmed}");
    assert!(
        is_tracking_number(&shipment["trackingNumber"]),
        "a booked shipment has the carrier's tracking number: {shipment}"
    );
    assert!(shipment["reason"].is_null(), "{shipment}");
    assert_eq!(confirmed["order"]["shippingAddress"]["city"], "London");

    let orders = data(
        app,
        Some(&token),
        &format!("{{ orders {{ total items {{ {ORDER} items {{ product {{ name }} }} }} }} }}"),
        json!({}),
    )
    .await;
    assert_eq!(orders["orders"]["total"], 1);
    assert_eq!(orders["orders"]["items"][0]["id"], order_id.as_str());
    let history = data(app, Some(&token), "query($o: ID!) { orderHistory(id: $o) { orderId items { position eventType aggregateType occurredAt data } } }", json!({ "o": order_id })).await;
    let types: Vec<&str> = history["orderHistory"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"order.confirmed"), "{types:?}");
    assert!(types.contains(&"shipment.created"), "{types:?}");

    let next_cart = data(
        app,
        Some(&token),
        &format!("mutation {{ openCart {{ {CART} }} }}"),
        json!({}),
    )
    .await["openCart"]
        .clone();
    let next_id = next_cart["id"].as_str().unwrap();
    assert_ne!(next_id, cart_id, "a checked-out cart is not reopened");
    data(
        app,
        Some(&token),
        &add,
        json!({ "c": next_id, "p": desk_id, "q": 2 }),
    )
    .await;
    let emptied = data(
        app,
        Some(&token),
        "mutation($c: ID!) { emptyCart(cartId: $c) { itemCount total } }",
        json!({ "c": next_id }),
    )
    .await;
    assert_eq!(emptied["emptyCart"]["itemCount"], 0);
    assert_eq!(
        app.stock(desk_id).await["locked"],
        0,
        "emptying released the locks"
    );
}

#[tokio::test]
async fn graphql_errors_carry_the_rest_error_codes() {
    let app = app().await;
    let customer = app.customer().await;
    let unknown = uuid::Uuid::new_v4().to_string();

    let e = error_code(app, None, "{ me { id } }", json!({})).await;
    assert_eq!(e["code"], "unauthorized");
    let e = error_code(
        app,
        None,
        "query($id: ID!) { product(id: $id) { id } }",
        json!({ "id": unknown }),
    )
    .await;
    assert_eq!(e["code"], "not_found");
    let e = error_code(app, Some(&customer.token), "{ sagas { total } }", json!({})).await;
    assert_eq!(e["code"], "forbidden");
    let e = error_code(app, Some(&customer.token), "mutation { createProduct(input: {sku: \"X-1\", name: \"x\", category: \"c\", price: \"1.00\", currency: \"USD\"}) { id } }", json!({})).await;
    assert_eq!(e["code"], "forbidden");

    let product = app.create_product("3.00", 1).await;
    let cart = app.cart_of(&customer).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let add = "mutation($c: ID!, $p: ID!, $q: Int!, $k: String) { addToCart(cartId: $c, productId: $p, quantity: $q, idempotencyKey: $k) { version items { quantity } } }";
    let e = error_code(
        app,
        Some(&customer.token),
        add,
        json!({ "c": cart, "p": product["id"], "q": 0 }),
    )
    .await;
    assert_eq!(e["code"], "validation_failed");
    assert_eq!(e["details"][0]["field"], "quantity", "{e}");
    let e = error_code(
        app,
        Some(&customer.token),
        add,
        json!({ "c": cart, "p": product["id"], "q": 2 }),
    )
    .await;
    assert_eq!(e["code"], "insufficient_stock");
    assert_eq!(
        e["available"], 1,
        "the REST error's members come along: {e}"
    );

    let key = uuid::Uuid::new_v4().to_string();
    let first = data(
        app,
        Some(&customer.token),
        add,
        json!({ "c": cart, "p": product["id"], "q": 1, "k": key }),
    )
    .await;
    let again = data(
        app,
        Some(&customer.token),
        add,
        json!({ "c": cart, "p": product["id"], "q": 1, "k": key }),
    )
    .await;
    assert_eq!(
        first, again,
        "the same key and request: the stored answer, not a second line"
    );
    assert_eq!(again["addToCart"]["items"][0]["quantity"], 1);
    let e = error_code(
        app,
        Some(&customer.token),
        add,
        json!({ "c": cart, "p": product["id"], "q": 3, "k": key }),
    )
    .await;
    assert_eq!(e["code"], "idempotency_key_reused");

    let checkout = "mutation($c: ID!, $a: ShippingAddressInput!) { checkout(cartId: $c, paymentToken: \"tok_visa\", shippingAddress: $a) { orderId } }";
    let mut bad = address("1 Book Street");
    bad["city"] = json!(" ");
    bad["country"] = json!("XX");
    let e = error_code(
        app,
        Some(&customer.token),
        checkout,
        json!({ "c": cart, "a": bad }),
    )
    .await;
    assert_eq!(e["code"], "validation_failed");
    let fields: Vec<&str> = e["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["shipping_address.city", "shipping_address.country"],
        "{e}"
    );
    let e = error_code(
        app,
        Some(&customer.token),
        "mutation($c: ID!) { checkout(cartId: $c, paymentToken: \"tok_visa\") { orderId } }",
        json!({ "c": cart }),
    )
    .await;
    assert!(
        e.get("code").is_none(),
        "a missing shippingAddress is refused by the schema itself: {e}"
    );

    let other = app.customer().await;
    let e = error_code(
        app,
        Some(&other.token),
        "query($c: ID!) { cart(id: $c) { id } }",
        json!({ "c": cart }),
    )
    .await;
    assert!(
        e["code"] == "not_found" || e["code"] == "forbidden",
        "another customer's cart stays hidden: {e}"
    );
}

#[tokio::test]
async fn an_admin_runs_the_back_office_through_graphql() {
    let app = app().await;
    let admin = app.admin().await;
    let token = Some(admin.token.as_str());
    let product = admin_product(app, admin, "20.00", 4).await;
    let id = product["id"].as_str().unwrap();
    let changed = data(app, token, "mutation($id: ID!) { updateProduct(id: $id, input: {name: \"Renamed lamp\", price: \"21.00\"}) { name price } }", json!({ "id": id })).await;
    assert_eq!(changed["updateProduct"]["price"], "21.00");
    let stock = data(app, token, "mutation($id: ID!) { adjustStock(productId: $id, delta: 6, reason: \"restock\") { onHand available } }", json!({ "id": id })).await;
    assert_eq!(stock["adjustStock"]["onHand"], 10);

    let (user, cart, _) = app.shopper("4.00", 5, 1).await;
    let order = app.place_order(&user, &cart, "tok_visa").await;
    app.order_settled(&user, &order).await;
    let detail = data(
        app,
        token,
        "query($o: ID!) { order(id: $o) { saga { id } } }",
        json!({ "o": order }),
    )
    .await;
    let saga = detail["order"]["saga"]["id"].as_str().unwrap().to_owned();
    let sagas = data(app, token, "{ sagas(status: \"CONFIRMED\", limit: 100) { total items { id status step compensations compensationsDone redrives createdAt } } }", json!({})).await;
    assert!(sagas["sagas"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] == "CONFIRMED"));
    let one = data(app, token, "query($s: ID!) { saga(id: $s) { saga { id status } steps { step status startedAt completedAt } compensationLog { kind } log { kind step fromStatus toStatus detail at } events { position eventType correlationId data } } }", json!({ "s": saga })).await;
    let steps: Vec<&str> = one["saga"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["done", "done", "done", "done"]);
    let names: Vec<&str> = one["saga"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "reserve_inventory",
            "authorize_payment",
            "create_shipment",
            "confirm_order"
        ]
    );
    let events = data(app, token, "query($s: ID!) { events(correlationId: $s, limit: 5) { limit nextAfter items { eventType } } }", json!({ "s": saga })).await;
    assert_eq!(events["events"]["limit"], 5);
    let e = error_code(
        app,
        token,
        "mutation($s: ID!) { retrySaga(id: $s) { id } }",
        json!({ "s": saga }),
    )
    .await;
    assert_eq!(e["code"], "saga_not_retryable");
    let e = error_code(
        app,
        token,
        "mutation($s: ID!) { compensateSaga(id: $s) { id } }",
        json!({ "s": saga }),
    )
    .await;
    assert_eq!(e["code"], "saga_not_compensable");
    let shipped = data(
        app,
        token,
        &format!("mutation($o: ID!) {{ shipOrder(id: $o) {{ {ORDER} }} }}"),
        json!({ "o": order }),
    )
    .await;
    assert_eq!(shipped["shipOrder"]["status"], "SHIPPED");
    assert_eq!(
        shipped["shipOrder"]["shipment"]["status"], "shipped",
        "the booked shipment went to the carrier: {shipped}"
    );

    let (user, cart, _) = app.shopper("4.00", 5, 1).await;
    let order = app.place_order(&user, &cart, "tok_visa").await;
    app.order_settled(&user, &order).await;
    let cancelled = data(
        app,
        Some(&user.token),
        "mutation($o: ID!) { cancelOrder(id: $o) { id status } }",
        json!({ "o": order }),
    )
    .await;
    assert_eq!(cancelled["cancelOrder"]["id"], order.as_str());

    let letters = data(app, token, "{ deadLetters(limit: 5) { total page limit items { id consumer eventType error attempts payload createdAt replayedAt } } }", json!({})).await;
    assert_eq!(letters["deadLetters"]["limit"], 5);
    let e = error_code(
        app,
        token,
        "mutation($d: ID!) { replayDeadLetter(id: $d) { channel } }",
        json!({ "d": uuid::Uuid::new_v4() }),
    )
    .await;
    assert_eq!(e["code"], "not_found");
    let carts = data(app, token, "{ carts(status: \"CHECKED_OUT\", limit: 3) { total items { id userId status version itemCount total currency } } }", json!({})).await;
    assert!(carts["carts"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] == "CHECKED_OUT"));
}

#[tokio::test]
async fn order_status_is_pushed_over_server_sent_events_until_the_order_settles() {
    let app = app().await;
    let (user, cart, _) = app.shopper("8.00", 3, 1).await;
    let order = app.place_order(&user, &cart, "tok_visa").await;
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", app.base_url))
        .bearer_auth(&user.token)
        .header("accept", "text/event-stream")
        .json(&json!({ "query": "subscription($o: ID!) { orderStatus(id: $o) { status saga { status step } } }", "variables": { "o": order } }))
        .timeout(Duration::from_secs(90))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let stream = response
        .text()
        .await
        .expect("the stream ends once the order has settled");
    let updates: Vec<Value> = stream
        .split("\n\n")
        .filter_map(|event| event.strip_prefix("event: next\ndata: "))
        .map(|data| serde_json::from_str(data).unwrap())
        .collect();
    assert!(
        stream.trim_end().ends_with("event: complete\ndata:"),
        "{stream}"
    );
    let last = &updates.last().expect("at least the order as it was")["data"]["orderStatus"];
    assert_eq!(last["status"], "CONFIRMED", "{stream}");
    assert_eq!(last["saga"]["status"], "CONFIRMED");
    let seen: Vec<&Value> = updates.iter().map(|u| &u["data"]["orderStatus"]).collect();
    for pair in seen.windows(2) {
        assert_ne!(pair[0], pair[1], "each event is a change: {stream}");
    }
}

#[tokio::test]
async fn the_gateway_keeps_its_limits_and_serves_no_explorer_unless_asked_to() {
    let app = app().await;
    let mut deep = String::from("{ __schema { types { ");
    for _ in 0..12 {
        deep.push_str("fields { type { ");
    }
    deep.push_str("name");
    for _ in 0..12 {
        deep.push_str(" } }");
    }
    deep.push_str(" } } }");
    let out = gql(app, None, &deep, json!({})).await;
    assert!(
        out["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nested too deep"),
        "{out}"
    );

    let get = app
        .get("/graphql?query=%7Bproducts(limit%3A1)%7Btotal%7D%7D", None)
        .await;
    get.expect(200);
    assert!(
        get.body["data"]["products"]["total"].is_number(),
        "{}",
        get.text
    );
    let mutation = app
        .get("/graphql?query=mutation%7BopenCart%7Bid%7D%7D", None)
        .await;
    assert!(mutation.body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("Only queries"));

    let not_graphql = app.post_raw("/graphql", None, "{\"nope\": 1}").await;
    assert_eq!(not_graphql.status, 400, "{}", not_graphql.text);
    let explorer = app
        .send(
            app.request(reqwest::Method::GET, "/graphql", None)
                .header("accept", "text/html"),
        )
        .await;
    // Off by default (`graphql_explorer`): the browser test's app turns it on.
    explorer.expect(404);
    assert!(
        explorer.text.contains("graphql_explorer"),
        "{}",
        explorer.text
    );
    let put = app.put("/graphql", None, json!({})).await;
    assert_eq!(put.status, 405);

    // What one request may ask: the same field under many aliases, many mutations, long waits.
    let aliases: String = (0..11).map(|i| format!("a{i}: me {{ id }} ")).collect();
    let registrations: String = (0..6)
        .map(|i| format!("r{i}: registerUser(email: \"many-{i}-{}@e2e.test\", password: \"correct horse\", fullName: \"M\") {{ id }} ", uuid::Uuid::new_v4().simple()))
        .collect();
    for query in [
        format!("{{ {aliases} }}"),
        format!("mutation {{ {registrations} }}"),
        "{ a: order(id: \"00000000-0000-0000-0000-000000000000\", waitSeconds: 20) { id } b: order(id: \"00000000-0000-0000-0000-000000000000\", waitSeconds: 20) { id } }".to_owned(),
    ] {
        let started = std::time::Instant::now();
        let out = gql(app, None, &query, json!({})).await;
        assert_eq!(
            out["errors"][0]["extensions"]["code"], "query_too_expensive",
            "{out}"
        );
        assert!(out["data"].is_null(), "nothing of it ran: {out}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}

#[tokio::test]
async fn a_nested_query_costs_the_same_statements_for_one_order_as_for_three() {
    if own_app("counts PostgreSQL statements on an app of its own")
        .await
        .is_none()
    {
        return;
    }
    let running = RunningApp::start("graphql-statements", E2E_SETTINGS).await;
    let app = TestApp::talking_to(&running);
    let user = app.customer().await;
    let query = "{ orders(limit: 20) { total items { id status items { quantity product { name available } } } } }";

    let observer = running.observer().await;
    let mut costs = Vec::new();
    for orders in [1, 3] {
        while data(&app, Some(&user.token), query, json!({})).await["orders"]["total"] != orders {
            // The last checkout's cart is cleared by a follower of order.confirmed: until
            // then the caller's open cart is still that one.
            let cart = spincart_tests::eventually(
                Duration::from_secs(30),
                "the caller has an active cart again",
                || async {
                    let cart = app.cart_of(&user).await;
                    (cart["status"] == "ACTIVE").then(|| cart["id"].as_str().unwrap().to_owned())
                },
            )
            .await;
            for _ in 0..2 {
                let product = app.create_product("1.00", 5).await;
                app.add_item(&user, &cart, product["id"].as_str().unwrap(), 1)
                    .await
                    .expect(200);
            }
            let order = app.place_order(&user, &cart, "tok_visa").await;
            app.order_settled(&user, &order).await;
            // Its follow-ups (cart, capture, stock) must not run while the query is counted.
            crate::statements::follow_ups_done(&observer, &order).await;
        }
        let cost = crate::statements::count(&observer, || async {
            let out = data(&app, Some(&user.token), query, json!({})).await;
            let lines: Vec<&Value> = out["orders"]["items"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|o| o["items"].as_array().unwrap())
                .collect();
            assert_eq!(lines.len(), orders * 2);
            assert!(
                lines.iter().all(|l| l["product"]["name"].is_string()),
                "{out}"
            );
        })
        .await;
        costs.push(cost);
    }
    eprintln!(
        "the nested query: {} statements for 1 order, {} for 3",
        costs[0], costs[1]
    );
    assert_eq!(
        costs[0], costs[1],
        "the products of every line are loaded in one statement"
    );
    assert!(
        costs[1] <= 4,
        "orders, their count and the products: {} statements",
        costs[1]
    );
}
