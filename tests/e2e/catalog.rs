use std::time::Duration;

use serde_json::json;
use spincart_tests::eventually;

use crate::helpers::app;

fn product_body(sku: &str) -> serde_json::Value {
    json!({
        "sku": sku, "name": "Walnut desk", "description": "Solid walnut", "category": "Furniture",
        "price": "1249.50", "currency": "EUR", "initial_stock": 3,
    })
}

fn unique_sku() -> String {
    format!("SKU-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]).to_uppercase()
}

#[tokio::test]
async fn an_admin_creates_a_product_with_its_stock() {
    let app = app().await;
    let admin = app.admin().await;
    let sku = unique_sku();
    let created = app
        .post("/api/v1/products", Some(&admin.token), product_body(&sku))
        .await;
    created.expect(201);
    let p = &created.body;
    assert_eq!(p["sku"], sku);
    assert_eq!(p["price"], "1249.50");
    assert_eq!(p["currency"], "EUR");
    assert_eq!(p["category"], "furniture");
    assert_eq!(p["available"], 3);
    for field in ["created_at", "updated_at"] {
        assert!(chrono::DateTime::parse_from_rfc3339(p[field].as_str().unwrap()).is_ok());
    }
    let id = p["id"].as_str().unwrap();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/products/{id}").as_str())
    );
    let fetched = app.get(&format!("/api/v1/products/{id}"), None).await;
    fetched.expect(200);
    assert_eq!(fetched.body, created.body);
    let stock = app.stock(id).await;
    assert_eq!(
        stock,
        json!({ "product_id": id, "on_hand": 3, "locked": 0, "reserved": 0, "available": 3 })
    );
}

#[tokio::test]
async fn a_created_product_reaches_the_search_listing_through_its_event() {
    let app = app().await;
    let product = app.create_product("19.99", 5).await;
    let sku = product["sku"].as_str().unwrap().to_owned();
    let listed = eventually(
        Duration::from_secs(10),
        "product in search results",
        || async {
            let page = app.get(&format!("/api/v1/products?q={sku}"), None).await;
            page.expect(200);
            (page.body["total"] == 1).then_some(page.body)
        },
    )
    .await;
    assert_eq!(listed["items"][0]["id"], product["id"]);
    assert_eq!(listed["items"][0]["available"], 5);
    assert_eq!(listed["page"], 1);
    assert_eq!(listed["limit"], 20);
    let by_category = app.get("/api/v1/products?category=e2e&limit=1", None).await;
    by_category.expect(200);
    assert_eq!(by_category.body["items"].as_array().unwrap().len(), 1);
    assert!(by_category.body["total"].as_i64().unwrap() >= 1);
}

#[tokio::test]
async fn only_admins_may_create_products() {
    let app = app().await;
    let customer = app.customer().await;
    app.post(
        "/api/v1/products",
        Some(&customer.token),
        product_body(&unique_sku()),
    )
    .await
    .expect_error(403, "forbidden");
    app.post("/api/v1/products", None, product_body(&unique_sku()))
        .await
        .expect_error(401, "unauthorized");
}

#[tokio::test]
async fn a_duplicate_sku_is_a_conflict_and_changes_nothing() {
    let app = app().await;
    let admin = app.admin().await;
    let product = app.create_product("5.00", 1).await;
    let mut body = product_body(product["sku"].as_str().unwrap());
    body["initial_stock"] = json!(99);
    app.post("/api/v1/products", Some(&admin.token), body)
        .await
        .expect_error(409, "sku_taken");
    let stock = app.stock(product["id"].as_str().unwrap()).await;
    assert_eq!(stock["on_hand"], 1);
}

#[tokio::test]
async fn bad_product_input_is_a_400_naming_the_field_and_nothing_is_created() {
    let app = app().await;
    let admin = app.admin().await;
    let sku = unique_sku();
    let cases = [
        ("price", json!(1249.5)),
        ("price", json!("1249.5")),
        ("price", json!("-1.00")),
        ("currency", json!("DOGE")),
        ("initial_stock", json!(-1)),
        ("initial_stock", json!(10_000_000_000i64)),
        ("initial_stock", json!("3")),
        ("name", json!("")),
    ];
    for (field, value) in cases {
        let mut body = product_body(&sku);
        body[field] = value.clone();
        let response = app.post("/api/v1/products", Some(&admin.token), body).await;
        response.expect_error(400, "validation_failed");
        assert_eq!(
            response.body["error"]["details"][0]["field"], field,
            "{field} = {value}"
        );
    }
    // Nothing was created: the SKU is still free, and once it is taken the listing shows that
    // one product alone (were any of the refused requests stored, it would list two, or the
    // create would be a 409 sku_taken).
    let created = app
        .post("/api/v1/products", Some(&admin.token), product_body(&sku))
        .await;
    created.expect(201);
    let listed = eventually(
        Duration::from_secs(10),
        "the product in search results",
        || async {
            let page = app.get(&format!("/api/v1/products?q={sku}"), None).await;
            (page.body["total"] != 0).then_some(page.body)
        },
    )
    .await;
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["items"][0]["id"], created.body["id"]);
}

#[tokio::test]
async fn an_unknown_or_malformed_product_id_is_a_404() {
    let app = app().await;
    let unknown = uuid::Uuid::new_v4();
    app.get(&format!("/api/v1/products/{unknown}"), None)
        .await
        .expect_error(404, "not_found");
    app.get("/api/v1/products/not-a-uuid", None)
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn list_paging_is_bounded() {
    let app = app().await;
    app.get("/api/v1/products?limit=101", None)
        .await
        .expect_error(400, "validation_failed");
    app.get("/api/v1/products?page=0", None)
        .await
        .expect_error(400, "validation_failed");
    app.get("/api/v1/products?limit=abc", None)
        .await
        .expect_error(400, "validation_failed");
}

#[tokio::test]
async fn an_admin_changes_a_product_and_the_listing_follows() {
    let app = app().await;
    let admin = app.admin().await;
    let product = app.create_product("10.00", 2).await;
    let id = product["id"].as_str().unwrap();
    let patched = app
        .patch(
            &format!("/api/v1/products/{id}"),
            Some(&admin.token),
            json!({ "price": "12.50", "name": "Renamed lamp" }),
        )
        .await;
    patched.expect(200);
    assert_eq!(patched.body["price"], "12.50");
    assert_eq!(patched.body["name"], "Renamed lamp");
    let sku = product["sku"].as_str().unwrap().to_owned();
    eventually(
        Duration::from_secs(10),
        "listing shows the new price",
        || async {
            let page = app.get(&format!("/api/v1/products?q={sku}"), None).await;
            (page.body["items"][0]["price"] == "12.50").then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn changing_a_product_needs_an_admin_a_known_id_and_a_change() {
    let app = app().await;
    let admin = app.admin().await;
    let customer = app.customer().await;
    let product = app.create_product("10.00", 2).await;
    let path = format!("/api/v1/products/{}", product["id"].as_str().unwrap());
    app.patch(&path, Some(&customer.token), json!({ "price": "1.00" }))
        .await
        .expect_error(403, "forbidden");
    app.patch(&path, Some(&admin.token), json!({}))
        .await
        .expect_error(400, "validation_failed");
    app.patch(&path, Some(&admin.token), json!({ "price": 1.0 }))
        .await
        .expect_error(400, "validation_failed");
    app.patch(
        &format!("/api/v1/products/{}", uuid::Uuid::new_v4()),
        Some(&admin.token),
        json!({ "price": "1.00" }),
    )
    .await
    .expect_error(404, "not_found");
    let unchanged = app.get(&path, None).await;
    assert_eq!(unchanged.body["price"], "10.00");
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_response() {
    let app = app().await;
    let admin = app.admin().await;
    let key = uuid::Uuid::new_v4().to_string();
    let body = product_body(&unique_sku());
    let send = |body: serde_json::Value| {
        app.send(
            app.request(
                reqwest::Method::POST,
                "/api/v1/products",
                Some(&admin.token),
            )
            .header("idempotency-key", &key)
            .json(&body),
        )
    };
    let first = send(body.clone()).await;
    first.expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = send(body.clone()).await;
    again.expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    let mut different = body;
    different["name"] = json!("Something else");
    send(different)
        .await
        .expect_error(422, "idempotency_key_reused");
}

#[tokio::test]
async fn a_request_whose_key_is_still_in_progress_is_a_409() {
    let app = app().await;
    if app.db_or_skip().await.is_none() {
        return;
    }
    let db_url = app.db_url.as_ref().unwrap();
    let admin = app.admin().await;
    let key = uuid::Uuid::new_v4().to_string();
    let body = product_body(&unique_sku());
    // The first request with this key is "still running": its record is claimed and fresh.
    let fingerprint_source = app
        .send(
            app.request(
                reqwest::Method::POST,
                "/api/v1/products",
                Some(&admin.token),
            )
            .header("idempotency-key", &key)
            .json(&body),
        )
        .await;
    fingerprint_source.expect(201);
    let db = spincart_tests::connect(db_url).await;
    db.execute(
        "UPDATE platform.idempotency_keys SET state = 'in_progress', locked_at = now() WHERE key = $1",
        &[&key],
    )
    .await
    .unwrap();
    let busy = app
        .send(
            app.request(
                reqwest::Method::POST,
                "/api/v1/products",
                Some(&admin.token),
            )
            .header("idempotency-key", &key)
            .json(&body),
        )
        .await;
    busy.expect_error(409, "request_in_progress");
}
