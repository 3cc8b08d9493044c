use serde_json::json;

use crate::helpers::{app, own_app};

#[tokio::test]
async fn registering_returns_the_user_without_the_password() {
    let app = app().await;
    let email = format!("Ann-{}@E2E.test", uuid::Uuid::new_v4().simple());
    let registered = app
        .post(
            "/api/v1/users/register",
            None,
            json!({ "email": email, "password": "12345678", "full_name": "Ann" }),
        )
        .await;
    registered.expect(201);
    assert_eq!(registered.body["email"], email.to_lowercase());
    assert_eq!(registered.body["full_name"], "Ann");
    assert!(registered.body["id"].is_string());
    assert!(
        registered.body.get("password").is_none() && registered.body.get("password_hash").is_none()
    );
}

#[tokio::test]
async fn registering_an_email_twice_is_a_conflict() {
    let app = app().await;
    let user = app.customer().await;
    app.post(
        "/api/v1/users/register",
        None,
        json!({ "email": user.email.to_uppercase(), "password": "another password", "full_name": "Twin" }),
    )
    .await
    .expect_error(409, "email_taken");
}

#[tokio::test]
async fn registering_with_bad_input_is_a_400_naming_the_field() {
    let app = app().await;
    let email = format!("bad-{}@e2e.test", uuid::Uuid::new_v4().simple());
    let cases = [
        (
            json!({ "email": email, "password": "short", "full_name": "A" }),
            "password",
        ),
        (
            json!({ "email": "not-an-email", "password": "12345678", "full_name": "A" }),
            "email",
        ),
        (
            json!({ "email": email, "password": "12345678" }),
            "full_name",
        ),
        (
            json!({ "email": email, "password": 12345678, "full_name": "A" }),
            "password",
        ),
        (
            json!({ "email": email, "password": "12345678", "full_name": "A", "role": "admin" }),
            "role",
        ),
    ];
    for (body, field) in cases {
        let response = app.post("/api/v1/users/register", None, body.clone()).await;
        response.expect_error(400, "validation_failed");
        assert_eq!(
            response.body["error"]["details"][0]["field"], field,
            "{body}"
        );
    }
    app.post_raw("/api/v1/users/register", None, "{\"email\": ")
        .await
        .expect_error(400, "validation_failed");
    // None of these created the account.
    let login = app
        .post(
            "/api/v1/users/login",
            None,
            json!({ "email": email, "password": "12345678" }),
        )
        .await;
    login.expect_error(401, "invalid_credentials");
}

#[tokio::test]
async fn logging_in_returns_a_token_that_identifies_the_caller() {
    let app = app().await;
    let user = app.customer().await;
    let login = app
        .post(
            "/api/v1/users/login",
            None,
            json!({ "email": user.email, "password": user.password }),
        )
        .await;
    login.expect(200);
    assert_eq!(login.body["user"]["email"], user.email);
    assert_eq!(login.body["user"]["role"], "customer");
    let expires_at = login.body["expires_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(expires_at).is_ok(),
        "{expires_at}"
    );
    let me = app
        .get("/api/v1/users/me", login.body["token"].as_str())
        .await;
    me.expect(200);
    assert_eq!(me.body["id"], login.body["user"]["id"]);
    assert_eq!(me.body["role"], "customer");
}

#[tokio::test]
async fn registering_never_makes_an_admin() {
    let app = app().await;
    // Whoever registers first, with whatever address: a customer.
    for email in [
        "admin@spincart.local".to_owned(),
        format!("admin-{}@spincart.local", uuid::Uuid::new_v4().simple()),
    ] {
        let user = app
            .register_and_login(&email, "correct horse battery")
            .await;
        let me = app.get("/api/v1/users/me", Some(&user.token)).await;
        me.expect(200);
        assert_eq!(me.body["role"], "customer", "{email}");
        app.get("/api/v1/admin/sagas", Some(&user.token))
            .await
            .expect_error(403, "forbidden");
    }
    let admin = app.admin().await;
    let me = app.get("/api/v1/users/me", Some(&admin.token)).await;
    assert_eq!(me.body["role"], "admin");
}

#[tokio::test]
async fn an_operator_grants_the_admin_role_and_a_revocation_takes_effect_at_once() {
    let Some(app) = own_app("grants and revokes roles in the app's database").await else {
        return;
    };
    let db_url = app.db_url.as_deref().unwrap();
    let user = app.customer().await;
    spincart_admin::grant(db_url, &user.email).await.unwrap();
    let admin = app.login(&user.email, &user.password).await;
    app.get("/api/v1/admin/sagas", Some(&admin.token))
        .await
        .expect(200);
    spincart_admin::revoke(db_url, &user.email).await.unwrap();
    // The same token, still claiming admin, is a customer's from the next request on.
    app.get("/api/v1/admin/sagas", Some(&admin.token))
        .await
        .expect_error(403, "forbidden");
    let me = app.get("/api/v1/users/me", Some(&admin.token)).await;
    assert_eq!(me.body["role"], "customer");
    // Both acts are in the account's history.
    let db = app.db().await.unwrap();
    let changes: Vec<String> = db
        .query(
            "SELECT data->>'role' FROM messaging.events
              WHERE aggregate_id = $1::text::uuid AND event_type = 'user.role_changed'
              ORDER BY aggregate_version",
            &[&user.id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(changes, ["admin", "customer"]);
}

#[tokio::test]
async fn a_wrong_password_or_unknown_email_is_a_401() {
    let app = app().await;
    let user = app.customer().await;
    app.post(
        "/api/v1/users/login",
        None,
        json!({ "email": user.email, "password": "wrong password" }),
    )
    .await
    .expect_error(401, "invalid_credentials");
    app.post(
        "/api/v1/users/login",
        None,
        json!({ "email": "nobody@e2e.test", "password": "whatever1" }),
    )
    .await
    .expect_error(401, "invalid_credentials");
}

#[tokio::test]
async fn me_without_a_valid_token_is_a_401() {
    let app = app().await;
    let user = app.customer().await;
    app.get("/api/v1/users/me", None)
        .await
        .expect_error(401, "unauthorized");
    app.get("/api/v1/users/me", Some("not-a-token"))
        .await
        .expect_error(401, "unauthorized");
    // A token whose payload was edited fails its signature check.
    let mut parts: Vec<String> = user.token.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].chars().rev().collect();
    app.get("/api/v1/users/me", Some(&parts.join(".")))
        .await
        .expect_error(401, "unauthorized");
    let basic = app
        .send(
            app.request(reqwest::Method::GET, "/api/v1/users/me", None)
                .header("authorization", "Basic abc"),
        )
        .await;
    basic.expect_error(401, "unauthorized");
}

#[tokio::test]
async fn an_expired_or_forged_token_is_a_401() {
    use spincart_domain::auth::{sign, Claims, Role};
    let app = app().await;
    let user = app.customer().await;
    let claims = Claims::new(
        spincart_domain::ids::UserId::parse(&user.id).unwrap(),
        Role::Admin,
        user.email.clone(),
        1_000,
        1_000,
    );
    // Signed with a key the app does not have: forged.
    let forged = sign(
        &Claims {
            exp: i64::MAX / 2,
            ..claims.clone()
        },
        b"guessed-secret",
    );
    app.get("/api/v1/users/me", Some(&forged))
        .await
        .expect_error(401, "unauthorized");
    // Expired: only checkable when this suite knows the app's key (it started the app).
    match &app.jwt_secret {
        None => spincart_tests::skip("mints an expired token: set SPINCART_JWT_SECRET"),
        Some(secret) => {
            let expired = sign(&claims, secret.as_bytes());
            let response = app.get("/api/v1/users/me", Some(&expired)).await;
            response.expect_error(401, "unauthorized");
            assert_eq!(response.body["error"]["message"], "Token expired.");
        }
    }
}

#[tokio::test]
async fn an_anonymous_idempotency_key_replays_only_the_very_same_request() {
    let app = app().await;
    let key = format!("anon-{}", uuid::Uuid::new_v4().simple());
    let register = |email: String| {
        app.request(reqwest::Method::POST, "/api/v1/users/register", None)
            .header("idempotency-key", &key)
            .json(&json!({ "email": email, "password": "correct horse battery", "full_name": "Anon" }))
    };
    let email = format!("anon-{}@e2e.test", uuid::Uuid::new_v4().simple());
    app.send(register(email.clone())).await.expect(201);
    let replayed = app.send(register(email)).await;
    replayed.expect(201);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    // Another anonymous caller's request with the same key is not theirs to be refused.
    let other = app
        .send(register(format!(
            "anon-{}@e2e.test",
            uuid::Uuid::new_v4().simple()
        )))
        .await;
    other.expect(201);
    assert_eq!(other.header("idempotent-replayed"), None);
}

#[tokio::test]
async fn a_used_idempotency_key_without_a_token_gets_401_not_422() {
    let app = app().await;
    let user = app.customer().await;
    let key = format!("owned-{}", uuid::Uuid::new_v4().simple());
    let created = app
        .send(
            app.request(reqwest::Method::POST, "/api/v1/carts", Some(&user.token))
                .header("idempotency-key", &key)
                .json(&json!({})),
        )
        .await;
    assert!([200, 201].contains(&created.status), "{}", created.text);
    app.send(
        app.request(reqwest::Method::POST, "/api/v1/carts", None)
            .header("idempotency-key", &key)
            .json(&json!({ "other": "body" })),
    )
    .await
    .expect(401);
}

#[tokio::test]
async fn idempotency_records_never_hold_a_token_or_a_plain_hash_of_a_password() {
    let Some(app) = own_app("reads the app's idempotency records").await else {
        return;
    };
    let db = app.db().await.unwrap();
    let records = |key: String| {
        let db = &db;
        async move {
            db.query(
                "SELECT fingerprint, response_body FROM platform.idempotency_keys WHERE key = $1",
                &[&key],
            )
            .await
            .unwrap()
        }
    };
    let user = app.customer().await;
    // A login answers with a token: never stored, so the same key runs it again.
    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({ "email": user.email, "password": user.password }).to_string();
    for _ in 0..2 {
        let login = app
            .send(
                app.request(reqwest::Method::POST, "/api/v1/users/login", None)
                    .header("content-type", "application/json")
                    .header("idempotency-key", &key)
                    .body(body.clone()),
            )
            .await;
        login.expect(200);
        assert_eq!(login.header("cache-control"), Some("no-store"));
        assert_eq!(login.header("idempotent-replayed"), None);
    }
    assert!(records(key).await.is_empty(), "a login left a record");
    // A registration is kept (its answer holds no credential), by a keyed fingerprint: not the
    // plain SHA-256 of the request, which would let a reader test password guesses.
    let key = uuid::Uuid::new_v4().to_string();
    let email = format!("idem-{}@e2e.test", uuid::Uuid::new_v4().simple());
    let body = json!({ "email": email, "password": "correct horse battery", "full_name": "Idem" })
        .to_string();
    app.send(
        app.request(reqwest::Method::POST, "/api/v1/users/register", None)
            .header("content-type", "application/json")
            .header("idempotency-key", &key)
            .body(body.clone()),
    )
    .await
    .expect(201);
    let stored = records(key).await;
    assert_eq!(stored.len(), 1);
    let fingerprint: String = stored[0].get(0);
    let plain: String = sha2::Digest::finalize(sha2::Digest::chain_update(
        <sha2::Sha256 as sha2::Digest>::new(),
        format!("POST /api/v1/users/register?\n{body}"),
    ))
    .iter()
    .map(|b| format!("{b:02x}"))
    .collect();
    assert_ne!(fingerprint, plain);
    let response: Vec<u8> = stored[0].get(1);
    assert!(!String::from_utf8_lossy(&response).contains("correct horse battery"));
}
