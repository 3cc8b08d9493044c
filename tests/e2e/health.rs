//! `GET /health` and its deep mode. The deep tests that break things do it with SQL on an app of
//! their own, where nothing runs the sweep (the suite's apps have no scheduler; these tests never
//! call it), so what they break stays broken until they look.

use serde_json::{json, Value};
use spincart_tests::running_app::RunningApp;

use crate::helpers::{app, own_app, TestApp, E2E_SETTINGS};

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
async fn deep_is_1_or_true_and_any_other_value_is_a_400_naming_it() {
    let app = app().await;
    for value in ["maybe", "0", "false", ""] {
        let refused = app.get(&format!("/health?deep={value}"), None).await;
        refused.expect_error(400, "validation_failed");
        assert_eq!(refused.body["error"]["details"][0]["field"], "deep");
    }
    for value in ["1", "true"] {
        let deep = app.get(&format!("/health?deep={value}"), None).await;
        // The suite's other tests share this app (sagas may be running, or waiting for an
        // admin): only the shape is certain, and that their events have no version gaps.
        assert!(deep.status == 200 || deep.status == 503, "{}", deep.text);
        assert_eq!(deep.body["checks"]["postgres"], "ok", "{}", deep.text);
        assert_eq!(deep.body["checks"]["redis"], "ok", "{}", deep.text);
        assert_eq!(
            deep.body["checks"]["event_store"]["aggregates_with_gaps"], 0,
            "{}",
            deep.text
        );
        assert!(deep.body["checks"]["sagas"]["past_deadline"].is_i64());
    }
}

/// A running saga inserted as the saga component would leave it, with its step deadline
/// `seconds_ago` in the past (no event names it, so no consumer touches it).
async fn running_saga_past_its_deadline(
    db: &tokio_postgres::Client,
    seconds_ago: f64,
) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    db.execute(
        "INSERT INTO checkout.sagas (id, order_id, cart_id, user_id, status, payment_token, step_deadline)
         VALUES ($1, gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'INVENTORY_RESERVED',
                 'tok_timeout', now() - make_interval(secs => $2))",
        &[&id, &seconds_ago],
    )
    .await
    .unwrap();
    id
}

async fn deep(app: &TestApp, status: u16) -> Value {
    let deep = app.get("/health?deep=1", None).await;
    deep.expect(status);
    deep.body
}

#[tokio::test]
async fn deep_health_reports_its_figures_and_turns_503_naming_the_check_that_broke() {
    if own_app("breaks the database of an app of its own")
        .await
        .is_none()
    {
        return;
    }
    let running = RunningApp::start("health-deep", E2E_SETTINGS).await;
    let app = TestApp::talking_to(&running);
    let db = app.db().await.unwrap();

    // A fresh app with two users (the admin, a customer) and a product: all well.
    app.customer().await;
    app.create_product("5.00", 3).await;
    let fresh = deep(&app, 200).await;
    assert_eq!(fresh["status"], "ok");
    assert_eq!(fresh["checks"]["postgres"], "ok");
    assert_eq!(fresh["checks"]["redis"], "ok");
    let store = &fresh["checks"]["event_store"];
    assert_eq!(store["status"], "ok", "{fresh}");
    assert_eq!(store["problems"], json!([]));
    assert_eq!(
        store["gap_free_types"],
        json!(["order", "shipment", "user"])
    );
    assert_eq!(store["aggregates_checked"], 2, "{fresh}");
    assert_eq!(store["aggregates_with_gaps"], 0);
    assert!(
        store["versions_not_checked"]
            .as_array()
            .unwrap()
            .contains(&json!("product")),
        "{fresh}"
    );
    assert_eq!(store["unpublished"], 0);
    assert_eq!(store["oldest_unpublished_seconds"], Value::Null);
    assert_eq!(store["unpublished_stuck_after_seconds"], 125);
    assert_eq!(
        fresh["checks"]["sagas"],
        json!({
            "status": "ok", "problems": [], "past_deadline": 0,
            "oldest_past_deadline_seconds": null, "overdue_after_seconds": 120,
            "compensation_failed": 0,
        })
    );

    // A saga just past its step deadline is the sweep's next work: counted, still healthy.
    let saga = running_saga_past_its_deadline(&db, 30.0).await;
    let due = deep(&app, 200).await;
    let sagas = &due["checks"]["sagas"];
    assert_eq!(
        (sagas["status"].as_str(), sagas["past_deadline"].as_i64()),
        (Some("ok"), Some(1))
    );
    let late = sagas["oldest_past_deadline_seconds"].as_f64().unwrap();
    assert!((30.0..120.0).contains(&late), "{due}");

    // Past the grace period nothing has re-driven it: the sweep is not running.
    db.execute(
        "UPDATE checkout.sagas SET step_deadline = now() - interval '1 hour' WHERE id = $1",
        &[&saga],
    )
    .await
    .unwrap();
    let overdue = deep(&app, 503).await;
    assert_eq!(overdue["status"], "unavailable");
    assert_eq!(
        overdue["checks"]["event_store"]["status"], "ok",
        "{overdue}"
    );
    let sagas = &overdue["checks"]["sagas"];
    assert_eq!(sagas["status"], "unhealthy");
    assert_eq!(sagas["past_deadline"], 1);
    assert!(sagas["oldest_past_deadline_seconds"].as_f64().unwrap() >= 3600.0);
    assert!(
        sagas["problems"][0]
            .as_str()
            .unwrap()
            .starts_with("sagas past their step deadline: 1, the oldest by 36"),
        "{overdue}"
    );

    // Its compensation failed for good (terminal: no deadline): it waits for an admin.
    db.execute(
        "UPDATE checkout.sagas SET status = 'COMPENSATION_FAILED', step_deadline = NULL WHERE id = $1",
        &[&saga],
    )
    .await
    .unwrap();
    let degraded = deep(&app, 200).await;
    assert_eq!(degraded["status"], "degraded");
    let sagas = &degraded["checks"]["sagas"];
    assert_eq!(sagas["status"], "degraded");
    assert_eq!(
        (
            sagas["past_deadline"].as_i64(),
            sagas["compensation_failed"].as_i64()
        ),
        (Some(0), Some(1))
    );

    // An order whose events skip version 2: the event store is broken.
    let order = uuid::Uuid::new_v4();
    db.execute(
        "INSERT INTO messaging.events (event_id, event_type, schema_version, correlation_id,
             aggregate_type, aggregate_id, aggregate_version, occurred_at, data, published_at)
         SELECT gen_random_uuid(), 'order.placed', 1, gen_random_uuid(), 'order', $1, v, now(), '{}', now()
           FROM unnest(ARRAY[1, 3]::bigint[]) AS v",
        &[&order],
    )
    .await
    .unwrap();
    let gap = deep(&app, 503).await;
    assert_eq!(gap["status"], "unavailable");
    let store = &gap["checks"]["event_store"];
    assert_eq!(store["status"], "unhealthy", "{gap}");
    assert_eq!(store["aggregates_with_gaps"], 1);
    assert_eq!(store["aggregates_checked"], 3);
    let problem = store["problems"][0].as_str().unwrap();
    assert!(
        problem.contains(&format!("order {order} has 2 events, versions 1 to 3")),
        "{gap}"
    );

    // An event whose publishing failed an hour ago and that no sweep has re-published.
    db.execute(
        "UPDATE messaging.events SET published_at = NULL, occurred_at = now() - interval '1 hour'
          WHERE aggregate_id = $1 AND aggregate_version = 3",
        &[&order],
    )
    .await
    .unwrap();
    let stuck = deep(&app, 503).await;
    let store = &stuck["checks"]["event_store"];
    assert_eq!(store["unpublished"], 1, "{stuck}");
    assert!(store["oldest_unpublished_seconds"].as_f64().unwrap() >= 3600.0);
    assert_eq!(store["problems"].as_array().unwrap().len(), 2, "{stuck}");
    assert!(store["problems"][1]
        .as_str()
        .unwrap()
        .starts_with("unpublished events: 1, the oldest waiting for 36"));

    // The plain check still looks at PostgreSQL and Redis only.
    let plain = app.get("/health", None).await;
    plain.expect(200);
    assert_eq!(
        plain.body,
        json!({ "status": "ok", "checks": { "postgres": "ok", "redis": "ok" } })
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
