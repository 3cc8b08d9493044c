use serde_json::json;

use crate::support::{json_body, json_request, load, load_with_database};

#[tokio::test]
async fn register_creates_a_user_and_records_its_event() {
    let register = load("identity-register").await;
    let body =
        json!({ "email": "ann@components.test", "password": "12345678", "full_name": "Ann" });
    let response = register
        .component
        .request(json_request("POST", "/api/v1/users/register", None, &body))
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let db = spincart_tests::connect(&register.db_url).await;
    let events: i64 = db
        .query_one(
            "SELECT count(*) FROM messaging.events WHERE event_type = 'user.registered'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(events, 1);
    let again = register
        .component
        .request(json_request("POST", "/api/v1/users/register", None, &body))
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
}

#[tokio::test]
async fn login_returns_an_admin_token_for_a_listed_email() {
    let register = load("identity-register").await;
    let body = json!({ "email": crate::support::ADMIN_EMAIL, "password": "12345678", "full_name": "Root" });
    register
        .component
        .request(json_request("POST", "/api/v1/users/register", None, &body))
        .await
        .unwrap();
    let login = load_with_database("identity-login", register.db_url.clone()).await;
    let response = login
        .component
        .request(json_request(
            "POST",
            "/api/v1/users/login",
            None,
            &json!({ "email": crate::support::ADMIN_EMAIL, "password": "12345678" }),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json_body(&response)["user"]["role"], "admin");
}

#[tokio::test]
async fn me_refuses_a_request_without_a_token() {
    let me = load("identity-me").await;
    let response = me.component.get("/api/v1/users/me").await.unwrap();
    assert_eq!(response.status(), 401);
}
