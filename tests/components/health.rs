use crate::support::{json_body, load};

#[tokio::test]
async fn health_answers_200_when_postgres_and_redis_answer() {
    let health = load("health").await;
    let response = health.component.get("/health").await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json_body(&response)["checks"]["redis"], "ok");
}

#[tokio::test]
async fn health_answers_503_naming_postgres_when_it_is_unreachable() {
    let redis = spincart_tests::redis_url();
    let health = spincart_host::harness::TestComponent::load(
        spincart_tests::repo_root().join("spin.toml"),
        "health",
    )
    .variable("db_url", "postgres://spincart@127.0.0.1:1/spincart")
    .variable("db_host", "127.0.0.1:1")
    .variable("redis_url", &redis)
    .variable("redis_host", &spincart_tests::host_port(&redis))
    .start()
    .await
    .unwrap();
    let response = health.get("/health").await.unwrap();
    assert_eq!(response.status(), 503);
    let body = json_body(&response);
    assert_eq!(body["status"], "unavailable");
    assert!(body["checks"]["postgres"]
        .as_str()
        .unwrap()
        .starts_with("failed"));
    assert_eq!(body["checks"]["redis"], "ok");
}
