//! Faults and contention, each on an app of its own (database, Redis and processes, on the
//! suite's runtime: the local host or real Spin): Redis stopped mid-saga — with the consumers in
//! a process of their own, and with everything in one process —, the app killed mid-saga, the
//! saga's shards on two processes with one killed mid-run, and a hundred checkouts for ten units. Real Spin exits when Redis goes away (so does the local host,
//! strict profile); the suite's supervisor starts it again, as Kubernetes would. After the sweep
//! every saga has ended and the invariants of CONTRACT.md §7 hold. Skipped when the suite runs
//! against an app it did not start (they need to stop and start its parts).

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;
use spincart_tests::running_app::{Layout, Role, RunningApp, Runtime};

use crate::helpers::{own_app, TestApp, User};

const FAST: &[(&str, &str)] = &[
    ("SPIN_VARIABLE_SAGA_STEP_TIMEOUT_SECONDS", "3"),
    ("SPIN_VARIABLE_MAX_DELIVERY_ATTEMPTS", "3"),
    ("SPIN_VARIABLE_REDELIVER_AFTER_SECONDS", "2"),
    // Every shopper registers and logs in from 127.0.0.1, many at once (a login counts against
    // its address until its password is found right).
    ("SPIN_VARIABLE_REGISTRATIONS_PER_ADDRESS", "100000"),
    ("SPIN_VARIABLE_LOGIN_FAILURES_PER_ADDRESS", "100000"),
];

async fn may_start_apps() -> bool {
    own_app("starts and breaks apps of its own").await.is_some()
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

/// A new shopper's cart with one unit of `product`, read back: carts work.
async fn a_cart_still_works(app: &TestApp, product: &str) {
    let user = app.customer().await;
    let cart = app.cart_of(&user).await["id"].as_str().unwrap().to_owned();
    app.add_item(&user, &cart, product, 1).await.expect(200);
    let read = app
        .get(&format!("/api/v1/carts/{cart}"), Some(&user.token))
        .await;
    read.expect(200);
    assert_eq!(read.body["items"][0]["quantity"], 1, "{}", read.text);
}

#[tokio::test]
async fn with_consumers_in_a_process_of_their_own_a_redis_outage_leaves_the_api_up() {
    if !may_start_apps().await {
        return;
    }
    let mut running = RunningApp::start_with(
        "fault-redis-split",
        FAST,
        Runtime::from_env(),
        Layout::Split,
    )
    .await;
    let app = TestApp::talking_to(&running);
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
    running.expect_restarts();
    running.redis.stop();
    // The HTTP process stays up: health names Redis, carts and checkout still answer (their
    // state is in Postgres; the events wait in the store).
    let down = app.get("/health", None).await;
    assert_eq!(down.status, 503, "{}", down.text);
    assert!(
        down.body["checks"]["redis"]
            .as_str()
            .unwrap()
            .starts_with("failed"),
        "{}",
        down.text
    );
    a_cart_still_works(&app, &product).await;
    let placed_during = join_all(
        during
            .iter()
            .map(|(user, cart)| app.place_order(user, cart, "tok_visa")),
    )
    .await;

    running.redis.restart();
    running.ready().await;
    settle(&app, &running.db_url, 120).await;
    assert_eq!(
        statuses(&running.db_url).await,
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
    let starts = running.starts();
    assert!(
        starts.contains(&(Role::Http, 1)),
        "the HTTP process never stopped: {starts:?}"
    );
    assert!(
        starts
            .iter()
            .any(|&(role, n)| role == Role::Consumers && n > 1),
        "the consumers exited with Redis and were started again: {starts:?}"
    );
}

#[tokio::test]
async fn in_one_process_a_redis_outage_stops_the_app_and_a_restart_loses_nothing() {
    if !may_start_apps().await {
        return;
    }
    let mut running = RunningApp::start("fault-redis", FAST).await;
    let app = TestApp::talking_to(&running);
    let product = app.create_product("5.00", 100).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let carts = shoppers(&app, &product, 6, 1).await;
    join_all(
        carts
            .iter()
            .map(|(user, cart)| app.place_order(user, cart, "tok_visa")),
    )
    .await;
    running.expect_restarts();
    running.redis.stop();
    // As on Spin: the Redis trigger exits and takes HTTP with it.
    let client = reqwest::Client::new();
    spincart_tests::eventually(Duration::from_secs(30), "the app stops", || async {
        client
            .get(format!("{}/health", app.base_url))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_err()
            .then_some(())
    })
    .await;
    running.redis.restart();
    running.ready().await;
    settle(&app, &running.db_url, 120).await;
    assert_eq!(
        statuses(&running.db_url).await,
        vec![("CONFIRMED".to_owned(), 6)]
    );
    assert!(running.starts()[0].1 > 1, "{:?}", running.starts());
}

#[tokio::test]
async fn the_app_killed_mid_saga_and_restarted_loses_nothing() {
    if !may_start_apps().await {
        return;
    }
    let running = RunningApp::start("fault-kill", FAST).await;
    let app = TestApp::talking_to(&running);
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
    running.kill();
    running.ready().await;
    settle(&app, &running.db_url, 120).await;
    let ended = statuses(&running.db_url).await;
    assert_eq!(
        ended,
        vec![("COMPENSATED".to_owned(), 3), ("CONFIRMED".to_owned(), 7)],
        "{ended:?}"
    );
    let stock = app.stock(&product).await;
    assert_eq!(stock["reserved"], 7, "{stock}");
}

#[tokio::test]
async fn with_the_saga_shards_on_two_processes_one_killed_mid_run_loses_nothing_and_runs_nothing_twice(
) {
    if !may_start_apps().await {
        return;
    }
    let running = RunningApp::start_with(
        "fault-shards",
        FAST,
        Runtime::from_env(),
        Layout::ShardHalves,
    )
    .await;
    let app = TestApp::talking_to(&running);
    // Every shard's channels are taken by exactly one process: as many subscribers as spin.toml
    // has triggers on each, not twice as many.
    let manifest = spincart_host::manifest::AppManifest::from_file(
        &spincart_tests::repo_root().join("spin.toml"),
    )
    .unwrap();
    let redis = redis::Client::open(running.redis.suite_url()).unwrap();
    let mut connection = redis.get_multiplexed_async_connection().await.unwrap();
    for trigger in &manifest.redis_triggers {
        let triggers = manifest
            .redis_triggers
            .iter()
            .filter(|t| t.channel == trigger.channel)
            .count() as i64;
        let subscribers: Vec<(String, i64)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&trigger.channel)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(subscribers[0].1, triggers, "{}", trigger.channel);
    }

    let product = app.create_product("3.00", 100).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let carts = shoppers(&app, &product, 16, 1).await;
    let (before, after) = carts.split_at(8);
    join_all(
        before
            .iter()
            .map(|(user, cart)| app.place_order(user, cart, "tok_visa")),
    )
    .await;
    // The process with the second half of the shards dies mid-run (SIGKILL); the supervisor
    // starts it again, and checkouts go on meanwhile.
    running.kill_role(Role::BackShards);
    join_all(
        after
            .iter()
            .map(|(user, cart)| app.place_order(user, cart, "tok_visa")),
    )
    .await;
    running.ready().await;
    settle(&app, &running.db_url, 120).await;
    assert_eq!(
        statuses(&running.db_url).await,
        vec![("CONFIRMED".to_owned(), 16)]
    );
    assert_eq!(app.stock(&product).await["reserved"], 16);

    let db = spincart_tests::connect(&running.db_url).await;
    // Both processes had sagas to run: sixteen sagas on one half of the shards only happens
    // once in 30,000 runs, and would prove nothing.
    let sagas: Vec<uuid::Uuid> = db
        .query("SELECT id FROM checkout.sagas", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let shards = spincart_tests::running_app::saga_shards();
    let front = sagas
        .iter()
        .filter(|id| spincart_domain::events::shards::of(**id, shards) < shards / 2)
        .count();
    assert!(
        0 < front && front < sagas.len(),
        "{front} of {} sagas on the first half of the shards",
        sagas.len()
    );
    // Nothing ran twice: every saga has each step's event once.
    let repeated: Vec<(String, i64)> = db
        .query(
            "SELECT event_type, count(*) FROM messaging.events
              WHERE event_type IN ('inventory.reserved', 'payment.authorized', 'order.confirmed',
                                   'payment.captured', 'cart.cleared')
              GROUP BY correlation_id, event_type HAVING count(*) > 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert!(repeated.is_empty(), "{repeated:?}");
    let steps: i64 = db
        .query_one(
            "SELECT count(*) FROM messaging.events WHERE event_type = 'payment.captured'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(steps, 16);
    let starts = running.starts();
    assert!(
        starts
            .iter()
            .any(|&(role, n)| role == Role::BackShards && n > 1),
        "{starts:?}"
    );
    assert!(
        starts.contains(&(Role::FrontShards, 1)),
        "the other process kept running: {starts:?}"
    );
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
    let running = RunningApp::start("contention", &settings).await;
    let app = TestApp::talking_to(&running);
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
    settle(&app, &running.db_url, 180).await;
    eprintln!(
        "100 concurrent checkouts for 10 units settled in {:?}: {:?}",
        started.elapsed(),
        statuses(&running.db_url).await
    );
    assert_eq!(
        statuses(&running.db_url).await,
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
    let db = spincart_tests::connect(&running.db_url).await;
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
