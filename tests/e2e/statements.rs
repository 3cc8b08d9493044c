//! What one checkout costs the database and Redis, counted by PostgreSQL itself
//! (pg_stat_statements) and by Redis (`INFO stats`): every statement the app sends and every
//! Redis connection it opens from the checkout request until the saga and its follow-ups are
//! done (order confirmed, payment captured, stock committed, cart cleared). The test watches for
//! the end through a role of its own, so its polling is not counted.

use std::time::Duration;

use spincart_tests::running_app::RunningApp;

use crate::helpers::{own_app, TestApp, E2E_SETTINGS};

/// The most statements a checkout may take: the goal of the issue "Checkout at scale". It was
/// 79; merging the consumers' bookkeeping into their first statement, storing events as
/// published, writing the saga's log with its state, locking the saga in the same statement as
/// the consumer's processed mark, and writing an order with its lines, a saga with its first log
/// entry, a payment returning itself and a cart's checkout end each in one statement brought it
/// to 45. The shipment step (a saga step with a transaction of its own: mark and saga lock, the
/// shipment's events and the order's address, two events, the read model, the saga, and the
/// confirmation's look-up of the payment it confirms) made it 55; events that ride in front of
/// the next statement instead of an INSERT of their own (issue "Checkout efficiency"), 49.
/// This budget only goes down for the same saga.
const BUDGET: i64 = 49;

/// The most Redis connections a checkout may open, from its request to its last follow-up: one
/// per invocation (the checkout request and the seven messages of its saga and follow-ups).
/// It was 15 when every publish, metrics flush and cache use opened its own.
const REDIS_CONNECTIONS: i64 = 8;

/// Redis connections the app's server has accepted so far (`INFO stats`).
fn redis_connections(running: &RunningApp) -> i64 {
    let mut connection = redis::Client::open(running.redis.suite_url())
        .unwrap()
        .get_connection()
        .unwrap();
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query(&mut connection)
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("total_connections_received:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("INFO stats has total_connections_received")
}

/// Consumers that acknowledge a successful checkout's events: reserve, authorize, create the
/// shipment, confirm, and the three followers of `order.confirmed`.
const ACKNOWLEDGEMENTS: i64 = 7;

/// What a runtime's connection pool sends when it hands a pooled connection out again (Spin
/// 3's `RecyclingMethod::Clean`): the runtime's cost, not the app's, so it is shown apart.
const POOL_RECYCLING: &[&str] = &[
    "CLOSE ALL",
    "SET SESSION AUTHORIZATION DEFAULT",
    "RESET ALL",
    "UNLISTEN *",
    "SELECT pg_advisory_unlock_all()",
    "DISCARD TEMP",
    "DISCARD SEQUENCES",
];

#[tokio::test]
async fn a_checkout_stays_within_its_statement_budget_from_request_to_every_follow_up() {
    if own_app("counts PostgreSQL statements on an app of its own")
        .await
        .is_none()
    {
        return;
    }
    let running = RunningApp::start("statements", E2E_SETTINGS).await;
    let app = TestApp::talking_to(&running);
    let (user, cart, _) = app.shopper("5.00", 10, 1).await;

    let observer = running.observer().await;
    // The product's catalog event is projected before counting starts, not during.
    spincart_tests::eventually(
        Duration::from_secs(30),
        "the catalog projection has the shopper's product",
        || async {
            let projected: i64 = observer
                .query_one("SELECT count(*) FROM catalog.product_search", &[])
                .await
                .unwrap()
                .get(0);
            (projected >= 1).then_some(())
        },
    )
    .await;
    observer
        .batch_execute(
            "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)",
        )
        .await
        .unwrap();
    // pg_stat_statements evicts its least-used entries when it is full, which would drop some
    // of the checkout's statements from the count: the count only stands if it evicted nothing.
    let evictions = || async {
        observer
            .query_one("SELECT dealloc FROM pg_stat_statements_info", &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
    };
    let evicted_before = evictions().await;
    let connections_before = redis_connections(&running);

    let order = app.place_order(&user, &cart, "tok_visa").await;
    follow_ups_done(&observer, &order).await;

    // Every Redis connection is a TCP connection on real Spin: one per request or message, the
    // one that publishes, flushes metrics and uses the cache alike (this test's own reading of
    // the count opens one more).
    let connections = redis_connections(&running) - connections_before - 1;
    eprintln!("one checkout: {connections} Redis connections opened");
    assert!(
        connections <= REDIS_CONNECTIONS,
        "one checkout opened {connections} Redis connections (budget {REDIS_CONNECTIONS}: one \
         per request and per message)"
    );

    let rows = observer
        .query(
            "SELECT s.calls, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 110)
               FROM pg_stat_statements s
              WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND s.userid = (SELECT oid FROM pg_roles WHERE rolname = 'spincart')
              ORDER BY s.calls DESC, 2",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        evictions().await,
        evicted_before,
        "pg_stat_statements evicted entries while counting: raise pg_stat_statements.max \
         (scripts/services.sh sets it; `make stop` and start again if yours predates that)"
    );
    let (recycling, rows): (Vec<_>, Vec<_>) = rows
        .iter()
        .partition(|r| POOL_RECYCLING.contains(&r.get::<_, String>(1).trim()));
    let total: i64 = rows.iter().map(|r| r.get::<_, i64>(0)).sum();
    let breakdown: Vec<String> = rows
        .iter()
        .map(|r| format!("{:>3}  {}", r.get::<_, i64>(0), r.get::<_, String>(1)))
        .collect();
    let recycled: i64 = recycling.iter().map(|r| r.get::<_, i64>(0)).sum();
    eprintln!(
        "one checkout: {total} statements (and {recycled} sent by the runtime's pool when it \
         reused connections)\n{}",
        breakdown.join("\n")
    );
    assert!(
        total <= BUDGET,
        "one checkout took {total} statements (budget {BUDGET}):\n{}",
        breakdown.join("\n")
    );
}

/// Waits until a confirmed checkout's saga and every follow-up of its confirmation are done
/// (each consumer acknowledged its event), so that nothing of it runs while statements are
/// counted.
pub async fn follow_ups_done(observer: &tokio_postgres::Client, order: &str) {
    let order: uuid::Uuid = order.parse().unwrap();
    spincart_tests::eventually(
        Duration::from_secs(30),
        "the saga and its follow-ups are done",
        || async {
            let done: i64 = observer
                .query_one(
                    "SELECT count(*) FROM messaging.processed_events p
                       JOIN messaging.events e ON e.event_id = p.event_id
                      WHERE e.correlation_id = (SELECT saga_id FROM orders.orders WHERE id = $1)",
                    &[&order],
                )
                .await
                .unwrap()
                .get(0);
            (done >= ACKNOWLEDGEMENTS).then_some(())
        },
    )
    .await;
}

/// The statements the app (role `spincart`) sent to its database while `work` ran, without
/// the runtime pool's recycling statements.
pub async fn count<F, Fut>(observer: &tokio_postgres::Client, work: F) -> i64
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    observer
        .batch_execute(
            "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)",
        )
        .await
        .unwrap();
    let dealloc = "SELECT dealloc FROM pg_stat_statements_info";
    let evicted_before: i64 = observer.query_one(dealloc, &[]).await.unwrap().get(0);
    work().await;
    let rows = observer
        .query(
            "SELECT s.calls, regexp_replace(s.query, '\\s+', ' ', 'g')
               FROM pg_stat_statements s
              WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND s.userid = (SELECT oid FROM pg_roles WHERE rolname = 'spincart')",
            &[],
        )
        .await
        .unwrap();
    let evicted_after: i64 = observer.query_one(dealloc, &[]).await.unwrap().get(0);
    assert_eq!(
        evicted_after, evicted_before,
        "pg_stat_statements evicted entries while counting"
    );
    rows.iter()
        .filter(|r| !POOL_RECYCLING.contains(&r.get::<_, String>(1).trim()))
        .map(|r| r.get::<_, i64>(0))
        .sum()
}
