use serde_json::json;
use spincart_domain::auth::Role;
use spincart_domain::ids::UserId;

use crate::support::{
    json_body, json_request, load, load_with_database, seed_cart, seed_product, stock_of, token,
};

#[tokio::test]
async fn create_makes_one_open_cart_per_user() {
    let create = load("cart-create").await;
    let user = token(UserId::new(), Role::Customer);
    let first = create
        .component
        .request(json_request(
            "POST",
            "/api/v1/carts",
            Some(&user),
            &json!({}),
        ))
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let second = create
        .component
        .request(json_request(
            "POST",
            "/api/v1/carts",
            Some(&user),
            &json!({}),
        ))
        .await
        .unwrap();
    assert_eq!(second.status(), 200);
    assert_eq!(json_body(&first)["id"], json_body(&second)["id"]);
}

#[tokio::test]
async fn add_item_locks_stock_for_the_cart() {
    let add = load("cart-add-item").await;
    let user = token(UserId::new(), Role::Customer);
    let product = seed_product(&add.db_url, 4).await;
    let cart = seed_cart(&add.db_url, &user).await;
    let response = add
        .component
        .request(json_request(
            "POST",
            &format!("/api/v1/carts/{cart}/items"),
            Some(&user),
            &json!({ "product_id": product, "quantity": 3 }),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(stock_of(&add.db_url, &product).await, (4, 3, 0));
    let too_many = add
        .component
        .request(json_request(
            "POST",
            &format!("/api/v1/carts/{cart}/items"),
            Some(&user),
            &json!({ "product_id": product, "quantity": 2 }),
        ))
        .await
        .unwrap();
    assert_eq!(too_many.status(), 409);
    assert_eq!(json_body(&too_many)["error"]["available"], 1);
}

#[tokio::test]
async fn cart_item_changes_and_removes_a_line() {
    let add = load("cart-add-item").await;
    let user = token(UserId::new(), Role::Customer);
    let product = seed_product(&add.db_url, 4).await;
    let cart = seed_cart(&add.db_url, &user).await;
    add.component
        .request(json_request(
            "POST",
            &format!("/api/v1/carts/{cart}/items"),
            Some(&user),
            &json!({ "product_id": product, "quantity": 1 }),
        ))
        .await
        .unwrap();
    let item = load_with_database("cart-item", add.db_url.clone()).await;
    let path = format!("/api/v1/carts/{cart}/items/{product}");
    let set = item
        .component
        .request(json_request(
            "PUT",
            &path,
            Some(&user),
            &json!({ "quantity": 4 }),
        ))
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    assert_eq!(stock_of(&add.db_url, &product).await, (4, 4, 0));
    let removed = item
        .component
        .request(json_request("DELETE", &path, Some(&user), &json!(null)))
        .await
        .unwrap();
    assert_eq!(removed.status(), 200);
    assert_eq!(stock_of(&add.db_url, &product).await, (4, 0, 0));
}

#[tokio::test]
async fn cart_serves_its_owner_from_the_cache_and_hides_it_from_others() {
    let cart = load("cart").await;
    let owner = token(UserId::new(), Role::Customer);
    let id = seed_cart(&cart.db_url, &owner).await;
    let path = format!("/api/v1/carts/{id}");
    let request = |t: &str| json_request("GET", &path, Some(t), &json!(null));
    let first = cart.component.request(request(&owner)).await.unwrap();
    assert_eq!(first.status(), 200);
    let second = cart.component.request(request(&owner)).await.unwrap();
    assert_eq!(second.headers()["x-spincart-cache"], "hit");
    let stranger = token(UserId::new(), Role::Customer);
    assert_eq!(
        cart.component
            .request(request(&stranger))
            .await
            .unwrap()
            .status(),
        404
    );
}
