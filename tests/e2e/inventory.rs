use serde_json::json;

use crate::helpers::app;

#[tokio::test]
async fn stock_of_an_unknown_product_is_a_404() {
    let app = app().await;
    app.get(&format!("/api/v1/inventory/{}", uuid::Uuid::new_v4()), None)
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn an_admin_restocks_and_shrinks() {
    let app = app().await;
    let admin = app.admin().await;
    let product = app.create_product("3.00", 5).await;
    let id = product["id"].as_str().unwrap();
    let path = format!("/api/v1/inventory/{id}/adjust");
    let restocked = app
        .post(
            &path,
            Some(&admin.token),
            json!({ "delta": 7, "reason": "delivery" }),
        )
        .await;
    restocked.expect(200);
    assert_eq!(restocked.body["on_hand"], 12);
    let shrunk = app
        .post(
            &path,
            Some(&admin.token),
            json!({ "delta": -2, "reason": "damaged" }),
        )
        .await;
    shrunk.expect(200);
    assert_eq!(app.stock(id).await["available"], 10);
}

#[tokio::test]
async fn stock_cannot_shrink_below_what_is_reserved() {
    let app = app().await;
    let admin = app.admin().await;
    let product = app.create_product("3.00", 5).await;
    let id = product["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/inventory/{id}/reserve"),
        Some(&admin.token),
        json!({ "quantity": 4, "reference": "hold-1" }),
    )
    .await
    .expect(201);
    let refused = app
        .post(
            &format!("/api/v1/inventory/{id}/adjust"),
            Some(&admin.token),
            json!({ "delta": -2, "reason": "audit" }),
        )
        .await;
    refused.expect_error(409, "stock_held");
    assert_eq!(
        app.stock(id).await,
        json!({ "product_id": id, "on_hand": 5, "locked": 0, "reserved": 4, "available": 1 })
    );
}

#[tokio::test]
async fn adjusting_needs_an_admin_and_a_sensible_delta() {
    let app = app().await;
    let admin = app.admin().await;
    let customer = app.customer().await;
    let product = app.create_product("3.00", 5).await;
    let path = format!(
        "/api/v1/inventory/{}/adjust",
        product["id"].as_str().unwrap()
    );
    app.post(
        &path,
        Some(&customer.token),
        json!({ "delta": 1, "reason": "x" }),
    )
    .await
    .expect_error(403, "forbidden");
    app.post(&path, None, json!({ "delta": 1, "reason": "x" }))
        .await
        .expect_error(401, "unauthorized");
    for body in [
        json!({ "delta": 0, "reason": "x" }),
        json!({ "delta": 1 }),
        json!({ "delta": "1", "reason": "x" }),
        json!({ "delta": 1e12, "reason": "x" }),
    ] {
        app.post(&path, Some(&admin.token), body)
            .await
            .expect_error(400, "validation_failed");
    }
    app.post(
        &format!("/api/v1/inventory/{}/adjust", uuid::Uuid::new_v4()),
        Some(&admin.token),
        json!({ "delta": 1, "reason": "x" }),
    )
    .await
    .expect_error(404, "not_found");
}

#[tokio::test]
async fn a_reservation_is_idempotent_per_reference() {
    let app = app().await;
    let admin = app.admin().await;
    let product = app.create_product("3.00", 5).await;
    let id = product["id"].as_str().unwrap();
    let reserve = format!("/api/v1/inventory/{id}/reserve");
    let body = json!({ "quantity": 2, "reference": format!("order:{}", uuid::Uuid::new_v4()) });
    app.post(&reserve, Some(&admin.token), body.clone())
        .await
        .expect(201);
    let again = app.post(&reserve, Some(&admin.token), body.clone()).await;
    again.expect(200);
    assert_eq!(again.body["status"], "active");
    assert_eq!(app.stock(id).await["reserved"], 2);
    let mut other_quantity = body.clone();
    other_quantity["quantity"] = json!(3);
    app.post(&reserve, Some(&admin.token), other_quantity)
        .await
        .expect_error(409, "reservation_mismatch");

    let release = format!("/api/v1/inventory/{id}/release");
    let released = app.post(&release, Some(&admin.token), body.clone()).await;
    released.expect(200);
    assert_eq!(released.body["status"], "released");
    app.post(&release, Some(&admin.token), body.clone())
        .await
        .expect(200);
    assert_eq!(app.stock(id).await["reserved"], 0);
    let unknown = json!({ "quantity": 1, "reference": "never-made" });
    app.post(&release, Some(&admin.token), unknown)
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn reserving_more_than_available_is_refused_with_what_is_available() {
    let app = app().await;
    let admin = app.admin().await;
    let product = app.create_product("3.00", 3).await;
    let id = product["id"].as_str().unwrap();
    let refused = app
        .post(
            &format!("/api/v1/inventory/{id}/reserve"),
            Some(&admin.token),
            json!({ "quantity": 4, "reference": "too-many" }),
        )
        .await;
    refused.expect_error(409, "insufficient_stock");
    assert_eq!(refused.body["error"]["available"], 3);
    assert_eq!(
        refused.body["error"]["message"],
        "Insufficient stock. Only 3 available."
    );
    assert_eq!(app.stock(id).await["reserved"], 0);
}
