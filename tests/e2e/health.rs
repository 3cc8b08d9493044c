use crate::helpers::app;

#[tokio::test]
async fn health_reports_postgres_and_redis_ok() {
    let app = app().await;
    let health = app.get("/health", None).await;
    health.expect(200);
    assert_eq!(
        health.body,
        serde_json::json!({ "status": "ok", "checks": { "postgres": "ok", "redis": "ok" } })
    );
}

#[tokio::test]
async fn an_unknown_route_is_a_404_with_an_empty_body() {
    let app = app().await;
    let missing = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.text, "");
}

#[tokio::test]
async fn a_method_a_route_does_not_serve_is_a_405_naming_the_allowed_ones() {
    let app = app().await;
    let wrong = app.delete("/health", None).await;
    wrong.expect_error(405, "method_not_allowed");
    assert_eq!(wrong.header("allow"), Some("GET"));
}
