//! Redis is a trust boundary (SECURITY.md): in production the app talks to it as a user that may
//! touch only the app's keys and channels with only the commands it sends. The whole app runs
//! here under `deploy/redis/users.acl`, verbatim, on every runtime — so the file stays exactly
//! what the app needs.

use spincart_tests::running_app::{Layout, RunningApp, Runtime};
use spincart_tests::{repo_root, PrivateRedis};

use crate::helpers::{own_app, TestApp, E2E_SETTINGS};

#[tokio::test]
async fn the_app_runs_whole_as_the_redis_user_of_deploy() {
    if own_app("starts an app of its own on a Redis under an ACL")
        .await
        .is_none()
    {
        return;
    }
    let redis =
        PrivateRedis::start_with_acl(&repo_root().join("deploy/redis/users.acl"), "spincart");
    let running = RunningApp::start_on(
        "redis-acl",
        E2E_SETTINGS,
        Runtime::from_env(),
        Layout::OneProcess,
        redis,
    )
    .await;
    let app = TestApp::talking_to(&running);
    // Every use the app makes of Redis: the cart cache, events published and consumed through a
    // whole saga, the login throttle, the metrics, the health check.
    let (user, cart, _) = app.shopper("5.00", 5, 1).await;
    let path = format!("/api/v1/carts/{cart}");
    app.get(&path, Some(&user.token)).await.expect(200);
    let cached = app.get(&path, Some(&user.token)).await;
    assert_eq!(
        cached.header("x-spincart-cache"),
        Some("hit"),
        "the cache works"
    );
    let order = app.place_order(&user, &cart, "tok_visa").await;
    let settled = app.order_settled(&user, &order).await;
    assert_eq!(settled["saga"]["status"], "CONFIRMED", "{settled}");
    app.post(
        "/api/v1/users/login",
        None,
        serde_json::json!({ "email": user.email, "password": "wrong password" }),
    )
    .await
    .expect_error(401, "invalid_credentials");
    app.login(&user.email, &user.password).await;
    let health = app.get("/health", None).await;
    health.expect(200);
    assert_eq!(health.body["checks"]["redis"], "ok");
    let metrics = app
        .metric(
            "spincart_cart_operations_total",
            &[("operation", "checkout")],
        )
        .await;
    assert!(metrics >= 1.0, "metrics were flushed and read");
    let log = std::fs::read_to_string(&running.log_path).unwrap();
    assert!(
        !log.contains("NOPERM"),
        "Redis refused a command the app sent; see {}",
        running.log_path.display()
    );
    running.restart_watch().assert_no_unexpected_restart();
}
