use serde_json::json;

use crate::support::{json_body, json_request, load};

#[tokio::test]
async fn the_sweep_runs_for_an_admin_and_reports_its_counts() {
    let sweep = load("admin-maintenance").await;
    let response = sweep
        .component
        .request(json_request(
            "POST",
            "/api/v1/admin/maintenance/run",
            Some(&crate::support::admin_token(&sweep.db_url).await),
            &json!({}),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let report = json_body(&response);
    assert_eq!(report["locks_expired"], 0);
    assert_eq!(report["carts_expired"], 0);
}

#[tokio::test]
async fn the_sweep_accepts_the_maintenance_token_and_refuses_a_wrong_one() {
    let redis = spincart_tests::redis_url();
    let db_url = spincart_tests::fresh_database().await;
    let sweep = spincart_host::harness::TestComponent::load(
        spincart_tests::repo_root().join("spin.toml"),
        "admin-maintenance",
    )
    .variable("db_url", &db_url)
    .variable("db_host", &spincart_tests::host_port(&db_url))
    .variable("redis_url", &redis)
    .variable("redis_host", &spincart_tests::host_port(&redis))
    .variable("jwt_secret", crate::support::JWT_SECRET)
    .variable("maintenance_token", "let-the-cron-in")
    .start()
    .await
    .unwrap();
    let request = |t: &str| {
        let mut r = json_request("POST", "/api/v1/admin/maintenance/run", None, &json!({}));
        r.headers_mut()
            .insert("x-maintenance-token", t.parse().unwrap());
        r
    };
    assert_eq!(
        sweep
            .request(request("let-the-cron-in"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(sweep.request(request("guess")).await.unwrap().status(), 401);
}
