//! Faults and contention, each on an app of its own (database, Redis and host process): Redis
//! stopped mid-saga, the host killed mid-saga, and a hundred checkouts for ten units. After the
//! sweep every saga has ended and the invariants of CONTRACT.md §7 hold. Skipped when the suite
//! runs against an app it did not start (they need to stop and start its parts).

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;
use spincart_tests::local_app::LocalApp;

use crate::helpers::{app, TestApp, User};

const FAST: &[(&str, &str)] = &[
    ("SPIN_VARIABLE_SAGA_STEP_TIMEOUT_SECONDS", "3"),
    ("SPIN_VARIABLE_MAX_DELIVERY_ATTEMPTS", "3"),
    ("SPIN_VARIABLE_REDELIVER_AFTER_SECONDS", "2"),
];

async fn may_start_apps() -> bool {
    app().await.is_local()
}

/// `count` customers, each with a cart holding `quantity` units of `product`.
async fn shoppers(
    app: &TestApp,
    product: &str,
    count: usize,
    quantity: i64,
) -> Vec<(User, String)> {
    join_all((0..count).map(|_| async {
        let user = app.customer().await;
        let cart = app.cart_of(&user).await["id"].as_str().unwrap().to_owned();
        app.add_item(&user, &cart, product, quantity)
            .await
            .expect(200);
        (user, cart)
    }))
    .await
}

async fn unsettled_sagas(db_url: &str) -> i64 {
    let db = spincart_tests::connect(db_url).await;
    db.query_one(
        "SELECT count(*) FROM checkout.sagas WHERE status NOT IN ('CONFIRMED', 'COMPENSATED', 'CANCELLED', 'COMPENSATION_FAILED')",
        &[],
    )
    .await
    .unwrap()
    .get(0)
}

/// Runs the sweep (as a scheduler would) until every saga has ended and every invariant holds.
async fn settle(app: &TestApp, db_url: &str, seconds: u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let report = app
            .post(
                "/api/v1/admin/maintenance/run",
                Some(&app.admin().await.token),
                json!({}),
            )
            .await;
        report.expect(200);
        let unsettled = unsettled_sagas(db_url).await;
        let invariants = spincart_tests::invariants::check(db_url).await;
        if unsettled == 0 && invariants.is_ok() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not settled in {seconds}s: {unsettled} sagas running; {invariants:?}"
        );
        // Give in-flight messages a moment between sweeps (the app does the waiting).
        let _ = app
            .get("/api/v1/orders?wait=1", Some(&app.admin().await.token))
            .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn statuses(db_url: &str) -> Vec<(String, i64)> {
    let db = spincart_tests::connect(db_url).await;
    db.query(
        "SELECT status, count(*) FROM checkout.sagas GROUP BY status ORDER BY status",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

#[tokio::test]
async fn redis_stopped_mid_saga_and_started_again_loses_nothing() {
    if !may_start_apps().await {
        return;
    }
    let mut local = LocalApp::start("fault-redis", FAST).await;
    let app = TestApp::talking_to(&local);
    let product = app.create_product("4.00", 100).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let carts = shoppers(&app, &product, 12, 2).await;
    let (before, during) = carts.split_at(8);

    let placed = join_all(
        before
            .iter()
            .map(|(user, cart)| app.place_order(user, cart, "tok_visa")),
    )
    .await;
    local.redis.stop();
    // Without Redis, checkout still answers: its state is in Postgres and its events wait in
    // the store.
    let placed_during = join_all(
        during
            .iter()
            .map(|(user, cart)| app.place_order(user, cart, "tok_visa")),
    )
    .await;
    let down = app.get("/health", None).await;
    assert_eq!(down.status, 503, "{}", down.text);
    assert!(down.body["checks"]["redis"]
        .as_str()
        .unwrap()
        .starts_with("failed"));

    local.redis.restart();
    settle(&app, &local.db_url, 120).await;
    assert_eq!(
        statuses(&local.db_url).await,
        vec![("CONFIRMED".to_owned(), 12)]
    );
    for (order, (user, _)) in placed
        .iter()
        .chain(&placed_during)
        .zip(before.iter().chain(during))
    {
        let o = app
            .get(&format!("/api/v1/orders/{order}"), Some(&user.token))
            .await;
        assert_eq!(o.body["status"], "CONFIRMED");
    }
    assert_eq!(app.stock(&product).await["reserved"], 24);
}

#[tokio::test]
async fn the_host_killed_mid_saga_and_restarted_loses_nothing() {
    if !may_start_apps().await {
        return;
    }
    let mut local = LocalApp::start("fault-host", FAST).await;
    let app = TestApp::talking_to(&local);
    let product = app.create_product("6.00", 100).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let carts = shoppers(&app, &product, 10, 1).await;
    let tokens = [
        "tok_visa",
        "tok_visa",
        "tok_decline",
        "tok_visa",
        "tok_flaky",
        "tok_visa",
        "tok_timeout",
        "tok_visa",
        "tok_error",
        "tok_visa",
    ];
    join_all(
        carts
            .iter()
            .zip(tokens)
            .map(|((user, cart), token)| app.place_order(user, cart, token)),
    )
    .await;
    local.kill();
    local.launch();
    let app = TestApp::talking_to(&local);
    settle(&app, &local.db_url, 120).await;
    let ended = statuses(&local.db_url).await;
    assert_eq!(
        ended,
        vec![("COMPENSATED".to_owned(), 3), ("CONFIRMED".to_owned(), 7)],
        "{ended:?}"
    );
    let stock = app.stock(&product).await;
    assert_eq!(stock["reserved"], 7, "{stock}");
}

#[tokio::test]
async fn a_hundred_checkouts_for_ten_units_never_oversell() {
    if !may_start_apps().await {
        return;
    }
    let settings: Vec<(&str, &str)> = FAST
        .iter()
        .copied()
        .chain([("SPIN_VARIABLE_CART_LOCK_TTL_SECONDS", "1")])
        .collect();
    let local = LocalApp::start("contention", &settings).await;
    let app = TestApp::talking_to(&local);
    let admin = app.admin().await.clone();
    let product = app.create_product("9.99", 100).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let carts = shoppers(&app, &product, 100, 1).await;
    // Every cart lock lapses (1 s TTL) and the sweep gives the units back; then stock shrinks to
    // 10 units that 100 checkouts compete for.
    let deadline = Instant::now() + Duration::from_secs(60);
    while app.stock(&product).await["locked"] != 0 {
        assert!(Instant::now() < deadline, "locks did not lapse");
        app.sweep().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.post(
        &format!("/api/v1/inventory/{product}/adjust"),
        Some(&admin.token),
        json!({ "delta": -90, "reason": "scarcity" }),
    )
    .await
    .expect(200);

    let started = Instant::now();
    let placed = join_all(
        carts
            .iter()
            .map(|(user, cart)| app.checkout(user, cart, "tok_visa")),
    )
    .await;
    assert!(
        placed.iter().all(|p| p.status == 202),
        "every checkout is accepted"
    );
    settle(&app, &local.db_url, 180).await;
    eprintln!(
        "100 concurrent checkouts for 10 units settled in {:?}: {:?}",
        started.elapsed(),
        statuses(&local.db_url).await
    );
    assert_eq!(
        statuses(&local.db_url).await,
        vec![("COMPENSATED".to_owned(), 90), ("CONFIRMED".to_owned(), 10)]
    );
    let stock = app.stock(&product).await;
    assert_eq!(
        (
            stock["on_hand"].as_i64(),
            stock["reserved"].as_i64(),
            stock["available"].as_i64()
        ),
        (Some(10), Some(10), Some(0))
    );
    let db = spincart_tests::connect(&local.db_url).await;
    let captured: i64 = db
        .query_one(
            "SELECT coalesce(sum(captured_minor), 0)::bigint FROM payments.payments",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        captured,
        10 * 999,
        "captured money = the confirmed orders' totals"
    );
}
