use serde_json::json;

use crate::support::{
    admin_token, json_body, json_request, load, load_with_database, seed_product, stock_of,
};

#[tokio::test]
async fn stock_shows_the_levels_of_a_product() {
    let stock = load("inventory-stock").await;
    let product = seed_product(&stock.db_url, 7).await;
    let response = stock
        .component
        .get(&format!("/api/v1/inventory/{product}"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json_body(&response)["available"], 7);
    let missing = stock
        .component
        .get(&format!("/api/v1/inventory/{}", uuid::Uuid::new_v4()))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn adjust_restocks_and_records_an_inventory_adjusted_event() {
    let adjust = load("inventory-adjust").await;
    let product = seed_product(&adjust.db_url, 2).await;
    let response = adjust
        .component
        .request(json_request(
            "POST",
            &format!("/api/v1/inventory/{product}/adjust"),
            Some(&admin_token(&adjust.db_url).await),
            &json!({ "delta": 5, "reason": "delivery" }),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(stock_of(&adjust.db_url, &product).await, (7, 0, 0));
    let db = spincart_tests::connect(&adjust.db_url).await;
    let events: i64 = db
        .query_one(
            "SELECT count(*) FROM messaging.events WHERE event_type = 'inventory.adjusted'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(events, 1);
}

#[tokio::test]
async fn reserve_and_release_move_units_between_available_and_reserved_once() {
    let reserve = load("inventory-reserve").await;
    let product = seed_product(&reserve.db_url, 5).await;
    let admin = admin_token(&reserve.db_url).await;
    let body = json!({ "quantity": 2, "reference": "order:1" });
    let path = format!("/api/v1/inventory/{product}/reserve");
    let first = reserve
        .component
        .request(json_request("POST", &path, Some(&admin), &body))
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let again = reserve
        .component
        .request(json_request("POST", &path, Some(&admin), &body))
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(stock_of(&reserve.db_url, &product).await, (5, 0, 2));
    let release = load_with_database("inventory-release", reserve.db_url.clone()).await;
    let path = format!("/api/v1/inventory/{product}/release");
    for _ in 0..2 {
        let released = release
            .component
            .request(json_request("POST", &path, Some(&admin), &body))
            .await
            .unwrap();
        assert_eq!(released.status(), 200);
    }
    assert_eq!(stock_of(&reserve.db_url, &product).await, (5, 0, 0));
}
