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
async fn registering_never_makes_an_admin_only_an_operator_does() {
    let register = load("identity-register").await;
    let email = format!("root-{}@components.test", uuid::Uuid::new_v4().simple());
    let body = json!({ "email": email, "password": "12345678", "full_name": "Root" });
    let registered = register
        .component
        .request(json_request("POST", "/api/v1/users/register", None, &body))
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let login = load_with_database("identity-login", register.db_url.clone()).await;
    let log_in = || {
        json_request(
            "POST",
            "/api/v1/users/login",
            None,
            &json!({ "email": email, "password": "12345678" }),
        )
    };
    let response = login.component.request(log_in()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json_body(&response)["user"]["role"], "customer");
    // The operator's act, against the database.
    let granted = spincart_admin::grant(&register.db_url, &email)
        .await
        .unwrap();
    assert_eq!(granted.to_string(), format!("{email} is now admin"));
    let response = login.component.request(log_in()).await.unwrap();
    assert_eq!(json_body(&response)["user"]["role"], "admin");
    assert_eq!(
        response.headers()["cache-control"],
        "no-store",
        "a token is never cached"
    );
}

#[tokio::test]
async fn me_refuses_a_request_without_a_token() {
    let me = load("identity-me").await;
    let response = me.component.get("/api/v1/users/me").await.unwrap();
    assert_eq!(response.status(), 401);
}
