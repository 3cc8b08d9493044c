//! `make bench`: loads the app with concurrent requests per scenario and prints requests/s and
//! latency percentiles, the checkout saga's throughput and latency, and the PostgreSQL
//! connections the app held — for every runtime in one run, side by side: the local host, then
//! each real Spin binary in `SPIN_BINS` (each on a fresh database, one after the other). With
//! `--url` it loads an app that is already running instead. It also measures, on PostgreSQL
//! directly, what the zero-row guard (spinframework/spin#3671) adds to a statement.
//!
//! ```text
//! cargo run --release -p spincart-tests --bin spincart-bench -- --seconds 10 --concurrency 32
//! SPIN_BINS="target/spin/spin-4.0.2" target/release/spincart-bench
//! target/release/spincart-bench --url http://127.0.0.1:3000 --admin-email admin@spincart.local \
//!     --admin-password "$(cat .spincart/admin_password)"
//! ```
//!
//! An app given with `--url` must lift the per-address and per-cart limits as the apps the bench
//! starts do ([`BENCH_SETTINGS`]): its shoppers all come from one address.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{json, Value};
use spincart_tests::cpu::{self, Cpu};
use spincart_tests::running_app::{Layout, RunningApp, Runtime, ADMIN_PASSWORD};

struct Options {
    seconds: u64,
    concurrency: usize,
    only: Option<String>,
    /// An app that is already running (then nothing is started).
    url: Option<String>,
    /// Its admin (an operator made them one) and database (for server-side saga timings).
    admin_email: String,
    admin_password: String,
    db_url: Option<String>,
    /// Offered rates (checkouts per second) of the open-loop saga bench.
    rates: Vec<u32>,
    /// How the app runs: one process, or the saga's shards split over two (`--layout halves`).
    layout: Layout,
}

fn options() -> Options {
    let mut options = Options {
        seconds: 10,
        concurrency: 32,
        only: None,
        url: std::env::var("SPINCART_BASE_URL").ok(),
        admin_email: std::env::var("SPINCART_ADMIN_EMAIL")
            .unwrap_or_else(|_| "admin@spincart.local".into()),
        admin_password: std::env::var("SPINCART_ADMIN_PASSWORD").unwrap_or_else(|_| {
            std::fs::read_to_string(".spincart/admin_password")
                .map(|p| p.trim().to_owned())
                .unwrap_or_default()
        }),
        db_url: std::env::var("SPINCART_DB_URL").ok(),
        rates: vec![25, 50],
        layout: Layout::OneProcess,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                options.seconds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--seconds N")
            }
            "--concurrency" => {
                options.concurrency = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--concurrency N")
            }
            "--only" => options.only = args.next(),
            "--url" => options.url = args.next(),
            "--admin-email" => options.admin_email = args.next().expect("--admin-email EMAIL"),
            "--admin-password" => {
                options.admin_password = args.next().expect("--admin-password PASSWORD")
            }
            "--db-url" => options.db_url = args.next(),
            "--rates" => {
                options.rates = args
                    .next()
                    .map(|v| {
                        v.split(',')
                            .map(|r| r.trim().parse().expect("--rates 25,50"))
                            .collect()
                    })
                    .expect("--rates R1,R2,...")
            }
            "--layout" => {
                options.layout = match args.next().as_deref() {
                    Some("one") => Layout::OneProcess,
                    Some("halves") => Layout::ShardHalves,
                    other => panic!("--layout one|halves, not {other:?}"),
                }
            }
            other => {
                panic!("unknown argument {other}; use --seconds N --concurrency N --only NAME --url URL --admin-email EMAIL --admin-password PASSWORD --db-url URL --rates R1,R2 --layout one|halves")
            }
        }
    }
    options
}

/// Builds the n-th request of a scenario.
type MakeRequest = Arc<dyn Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Send + Sync>;

struct Scenario {
    name: &'static str,
    expect: u16,
    make: MakeRequest,
}

#[derive(Default)]
struct Stats {
    latencies: Vec<Duration>,
    unexpected: usize,
    elapsed: Duration,
    /// What a request cost (an app the bench started).
    cost: Option<Cost>,
}

impl Stats {
    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[index]
    }
}

async fn run(
    scenario: &Scenario,
    seconds: u64,
    concurrency: usize,
    meter: Option<&Meter>,
) -> Stats {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    // Warm-up: a second of load that is not measured.
    for measured in [false, true] {
        let window = if measured {
            Duration::from_secs(seconds)
        } else {
            Duration::from_secs(1)
        };
        let before = match meter {
            Some(meter) if measured => Some(meter.read().await),
            _ => None,
        };
        let started = Instant::now();
        let deadline = started + window;
        let workers = (0..concurrency).map(|_| {
            let client = client.clone();
            let make = scenario.make.clone();
            let counter = counter.clone();
            let expect = scenario.expect;
            async move {
                let mut latencies = Vec::new();
                let mut unexpected = 0;
                while Instant::now() < deadline {
                    let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let request = make(&client, n);
                    let sent = Instant::now();
                    let status = match request.send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let _ = response.bytes().await;
                            status
                        }
                        Err(_) => 0,
                    };
                    latencies.push(sent.elapsed());
                    if status != expect {
                        unexpected += 1;
                    }
                }
                (latencies, unexpected)
            }
        });
        let results = join_all(workers).await;
        if measured {
            let mut stats = Stats {
                elapsed: started.elapsed(),
                ..Stats::default()
            };
            for (latencies, unexpected) in results {
                stats.latencies.extend(latencies);
                stats.unexpected += unexpected;
            }
            if let (Some(meter), Some(before)) = (meter, before) {
                stats.cost = Some(meter.read().await.per(&before, stats.latencies.len()));
            }
            stats.latencies.sort();
            return stats;
        }
    }
    unreachable!()
}

async fn post(client: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("setup request");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "setup failed: {status} {body}");
    body
}

/// Registers a customer (when new) and logs them in; returns the token.
async fn login(client: &reqwest::Client, base: &str, email: &str) -> String {
    let password = "bench password";
    let _ = client
        .post(format!("{base}/api/v1/users/register"))
        .json(&json!({ "email": email, "password": password, "full_name": "Bench" }))
        .send()
        .await;
    log_in(client, base, email, password).await
}

/// Logs a registered user in; returns the token.
async fn log_in(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let login = post(
        client,
        format!("{base}/api/v1/users/login"),
        None,
        json!({ "email": email, "password": password }),
    )
    .await;
    login["token"]
        .as_str()
        .unwrap_or_else(|| panic!("logging in as {email}: {login}"))
        .to_owned()
}

/// The bench's shoppers all register and log in from 127.0.0.1, hundreds at a time, and fill
/// carts past a shopper's usual limits: the app it starts lifts those limits (an app given with
/// `--url` needs the same settings).
const BENCH_SETTINGS: &[(&str, &str)] = &[
    ("SPIN_VARIABLE_REGISTRATIONS_PER_ADDRESS", "10000000"),
    ("SPIN_VARIABLE_LOGIN_FAILURES_PER_ADDRESS", "10000000"),
    ("SPIN_VARIABLE_MAX_LOCKED_UNITS_PER_USER", "100000"),
    ("SPIN_VARIABLE_MAX_CART_LINES", "1000"),
];

fn parse_duration(text: &str) -> Option<Duration> {
    let units = [
        ("ns", 1e-9),
        ("µs", 1e-6),
        ("us", 1e-6),
        ("ms", 1e-3),
        ("s", 1.0),
    ];
    for (unit, scale) in units {
        if let Some(number) = text.strip_suffix(unit) {
            return number
                .parse::<f64>()
                .ok()
                .map(|n| Duration::from_secs_f64(n * scale));
        }
    }
    None
}

/// Instantiation times the host logged, sorted.
fn instantiation_times(log: &std::path::Path) -> Vec<Duration> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut times: Vec<Duration> = text
        .lines()
        .filter_map(|l| l.split("(instantiate ").nth(1))
        .filter_map(|rest| rest.strip_suffix(')'))
        .filter_map(parse_duration)
        .filter(|d| !d.is_zero())
        .collect();
    times.sort();
    times
}

/// What the checkout saga bench measured.
struct SagaFigures {
    shoppers: usize,
    confirmed: usize,
    per_second: f64,
    /// p50, p90, p99 in ms, and whose clock they are from.
    percentiles: (f64, f64, f64),
    clock: &'static str,
}

/// A product with stock enough for any saga bench; returns its id.
async fn bench_product(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    sku: &str,
    name: &str,
) -> String {
    let body = json!({ "sku": sku, "name": name, "category": "bench",
                       "price": "2.50", "currency": "USD", "initial_stock": 1_000_000 });
    post(client, format!("{base}/api/v1/products"), Some(admin), body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Seconds from each saga's creation (at or after `since`, RFC 3339) to its CONFIRMED
/// transition, by the server's clock.
async fn confirmed_latencies(db: &tokio_postgres::Client, since: &str) -> Vec<f64> {
    db.query(
        "SELECT extract(epoch FROM l.at - s.created_at)::float8 FROM checkout.saga_log l
           JOIN checkout.sagas s ON s.id = l.saga_id
          WHERE l.to_status = 'CONFIRMED' AND s.created_at >= $1::text::timestamptz",
        &[&since],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<_, f64>(0))
    .collect()
}

/// p50, p90 and p99 of latencies in seconds, in ms.
fn percentiles(mut latencies: Vec<f64>) -> (f64, f64, f64) {
    latencies.sort_by(f64::total_cmp);
    let at = |p: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
            * 1000.0
    };
    (at(0.5), at(0.9), at(0.99))
}

/// Checkout → CONFIRMED at a steady load: `shoppers` customers each fill a cart, check out,
/// wait (long-polling) for the order to be confirmed, and start again. Latency is taken from the
/// server's own clock when the database is known (the saga's creation to its CONFIRMED
/// transition), else from the client's (checkout sent to CONFIRMED seen).
async fn saga_bench(
    db_url: Option<&str>,
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    run_id: &str,
    seconds: u64,
    shoppers: usize,
) -> SagaFigures {
    eprintln!("==> checkout saga for {seconds}s with {shoppers} shoppers (each: cart, add, checkout, wait for CONFIRMED)");
    let product = bench_product(
        client,
        base,
        admin,
        &format!("BENCH-{run_id}-SAGA"),
        "Saga bench",
    )
    .await;
    let tokens: Vec<String> = join_all((0..shoppers).map(|i| {
        let email = format!("saga-{run_id}-{i}@bench.test");
        async move { login(client, base, &email).await }
    }))
    .await;
    let db = match db_url {
        Some(url) => Some(spincart_tests::connect(url).await),
        None => None,
    };
    let started_at: Option<String> = match &db {
        Some(db) => Some(
            db.query_one("SELECT platform.rfc3339(now())", &[])
                .await
                .unwrap()
                .get(0),
        ),
        None => None,
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let results: Vec<Vec<f64>> = join_all(tokens.iter().map(|token| {
        let (client, base, product) = (client.clone(), base.to_owned(), product.clone());
        async move {
            let mut seen = Vec::new();
            while Instant::now() < deadline {
                // The previous cart may still be clearing (a follow-up of the confirmation).
                let cart = loop {
                    let cart = post(
                        &client,
                        format!("{base}/api/v1/carts"),
                        Some(token),
                        json!({}),
                    )
                    .await;
                    if cart["status"] == "ACTIVE" {
                        break cart["id"].as_str().unwrap().to_owned();
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                };
                post(
                    &client,
                    format!("{base}/api/v1/carts/{cart}/items"),
                    Some(token),
                    json!({ "product_id": product, "quantity": 1 }),
                )
                .await;
                let sent = Instant::now();
                let placed = post(
                    &client,
                    format!("{base}/api/v1/carts/{cart}/checkout"),
                    Some(token),
                    json!({ "payment_token": "tok_visa", "shipping_address": { "name": "Bench Shopper", "line1": "1 Book Street", "city": "London", "postal_code": "N1 9GU", "country": "GB" } }),
                )
                .await;
                let order = placed["order_id"].as_str().unwrap().to_owned();
                loop {
                    let current: Value = client
                        .get(format!("{base}/api/v1/orders/{order}?wait=5"))
                        .bearer_auth(token)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    if current["status"] == "CONFIRMED" {
                        seen.push(sent.elapsed().as_secs_f64());
                        break;
                    }
                    assert_ne!(current["status"], "FAILED", "{current}");
                }
            }
            seen
        }
    }))
    .await;
    let elapsed = started.elapsed();
    let confirmed: usize = results.iter().map(Vec::len).sum();
    let (latencies, clock) = match (&db, &started_at) {
        (Some(db), Some(started_at)) => (confirmed_latencies(db, started_at).await, "server clock"),
        _ => (results.concat(), "client clock"),
    };
    SagaFigures {
        shoppers,
        confirmed,
        per_second: confirmed as f64 / elapsed.as_secs_f64(),
        percentiles: percentiles(latencies),
        clock,
    }
}

/// What one open-loop phase measured.
struct OpenLoopFigures {
    rate: u32,
    offered: usize,
    confirmed: usize,
    /// What a confirmed saga cost, from its checkout to its last follow-up.
    cost: Option<Cost>,
    /// p50, p90, p99 in ms (server clock: the saga's creation to CONFIRMED).
    percentiles: (f64, f64, f64),
}

/// Checkout → CONFIRMED at a fixed offered rate (open loop): checkouts start on a schedule,
/// `rate` a second for `seconds`, whether or not earlier ones have finished, so a saga that
/// slows down shows as latency instead of lowering the load. Carts are filled beforehand; the
/// latency is the server's (saga created → CONFIRMED, from `checkout.saga_log`).
async fn open_loop_saga(
    db_url: &str,
    meter: Option<&Meter>,
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    run_id: &str,
    options: &Options,
) -> Vec<OpenLoopFigures> {
    let (rates, seconds) = (&options.rates, options.seconds);
    let most = rates.iter().copied().max().unwrap_or(0) as usize * seconds as usize;
    eprintln!("==> open-loop checkout saga: {most} shoppers log in");
    let product = bench_product(
        client,
        base,
        admin,
        &format!("BENCH-{run_id}-OPEN"),
        "Open-loop bench",
    )
    .await;
    let mut tokens = Vec::with_capacity(most);
    for chunk in (0..most).collect::<Vec<_>>().chunks(32) {
        tokens.extend(
            join_all(chunk.iter().map(|i| {
                let email = format!("open-{run_id}-{i}@bench.test");
                async move { login(client, base, &email).await }
            }))
            .await,
        );
    }
    // The bench's own queries go through the meter's observer role when there is one, so that
    // they are not counted as the app's statements.
    let own_db;
    let db = match meter {
        Some(meter) => &meter.observer,
        None => {
            own_db = spincart_tests::connect(db_url).await;
            &own_db
        }
    };
    let mut phases = Vec::new();
    for &rate in rates.iter() {
        let offered = rate as usize * seconds as usize;
        // Every shopper's cart filled before the clock starts (a confirmed order's cart is
        // ACTIVE again once the confirmation's follow-ups have cleared it).
        let mut carts = Vec::with_capacity(offered);
        for chunk in tokens[..offered].chunks(32) {
            carts.extend(
                join_all(chunk.iter().map(|token| async {
                    let cart = loop {
                        let cart = post(
                            client,
                            format!("{base}/api/v1/carts"),
                            Some(token),
                            json!({}),
                        )
                        .await;
                        if cart["status"] == "ACTIVE"
                            && cart["items"].as_array().is_none_or(Vec::is_empty)
                        {
                            break cart["id"].as_str().unwrap().to_owned();
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    };
                    post(
                        client,
                        format!("{base}/api/v1/carts/{cart}/items"),
                        Some(token),
                        json!({ "product_id": product, "quantity": 1 }),
                    )
                    .await;
                    (token.clone(), cart)
                }))
                .await,
            );
        }
        eprintln!("==> open-loop checkout saga: {rate} checkouts/s for {seconds}s");
        let started_at: String = db
            .query_one("SELECT platform.rfc3339(now())", &[])
            .await
            .unwrap()
            .get(0);
        let before = match meter {
            Some(meter) => Some(meter.read().await),
            None => None,
        };
        let start = tokio::time::Instant::now();
        let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
        let sent = join_all(carts.into_iter().enumerate().map(|(i, (token, cart))| {
            let client = client.clone();
            let base = base.to_owned();
            async move {
                tokio::time::sleep_until(start + interval * i as u32).await;
                let response = client
                    .post(format!("{base}/api/v1/carts/{cart}/checkout"))
                    .bearer_auth(&token)
                    .json(&json!({ "payment_token": "tok_visa", "shipping_address": { "name": "Bench Shopper", "line1": "1 Book Street", "city": "London", "postal_code": "N1 9GU", "country": "GB" } }))
                    .send()
                    .await;
                response.is_ok_and(|r| r.status().is_success())
            }
        }))
        .await;
        let accepted = sent.iter().filter(|ok| **ok).count();
        // Wait for the sagas to end (at most 60 s), then read their timings.
        let deadline = Instant::now() + Duration::from_secs(60);
        let latencies = loop {
            let latencies = confirmed_latencies(db, &started_at).await;
            if latencies.len() >= accepted || Instant::now() > deadline {
                break latencies;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        // A saga's cost runs to its last follow-up (capture, stock, cart): seven consumers take
        // a confirmed checkout's events.
        let cost = match (meter, before) {
            (Some(meter), Some(before)) => {
                let wanted = 7 * latencies.len() as i64;
                while Instant::now() < deadline {
                    let processed: i64 = db
                        .query_one(
                            "SELECT count(*) FROM messaging.processed_events
                              WHERE processed_at >= $1::text::timestamptz",
                            &[&started_at],
                        )
                        .await
                        .unwrap()
                        .get(0);
                    if processed >= wanted {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Some(meter.read().await.per(&before, latencies.len()))
            }
            _ => None,
        };
        phases.push(OpenLoopFigures {
            rate,
            offered,
            confirmed: latencies.len(),
            cost,
            percentiles: percentiles(latencies),
        });
    }
    phases
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// An app to load: one the bench started (and stops), or one already running.
struct Target {
    label: String,
    base_url: String,
    admin_email: String,
    admin_password: String,
    db_url: Option<String>,
    running: Option<RunningApp>,
}

/// What the bench reads around a measured phase of an app it started: the CPU of its runtime,
/// of PostgreSQL and of its Redis (from /proc), the Redis connections it opened (`INFO stats`)
/// and the statements it sent (pg_stat_statements, the app's role only).
struct Meter {
    groups: Vec<u32>,
    redis_pid: Option<u32>,
    redis_url: String,
    observer: tokio_postgres::Client,
}

#[derive(Debug, Clone, Copy, Default)]
struct Reading {
    cpu: Cpu,
    redis_connections: i64,
    statements: i64,
}

/// What a phase cost per unit of work (a confirmed saga, a request).
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    /// Milliseconds of CPU per unit, by process kind.
    cpu: Cpu,
    redis_connections: f64,
    statements: f64,
}

impl Meter {
    async fn of(running: &RunningApp) -> Meter {
        Meter {
            groups: running.process_groups(),
            redis_pid: running.redis.pid(),
            redis_url: running.redis.suite_url(),
            observer: running.observer().await,
        }
    }

    async fn read(&self) -> Reading {
        let redis_connections = redis::Client::open(self.redis_url.as_str())
            .and_then(|c| c.get_connection())
            .and_then(|mut c| redis::cmd("INFO").arg("stats").query::<String>(&mut c))
            .ok()
            .and_then(|info| {
                info.lines()
                    .find_map(|l| l.strip_prefix("total_connections_received:"))
                    .and_then(|v| v.trim().parse().ok())
            })
            .unwrap_or(0);
        let statements: i64 = self
            .observer
            .query_one(
                "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
                  WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                    AND userid = (SELECT oid FROM pg_roles WHERE rolname = 'spincart')",
                &[],
            )
            .await
            .map(|r| r.get(0))
            .unwrap_or(0);
        Reading {
            cpu: cpu::sample(&self.groups, self.redis_pid),
            redis_connections,
            statements,
        }
    }
}

impl Reading {
    /// What was spent since `earlier`, per `units` of work (the meter's own reading connection
    /// to Redis is taken off).
    fn per(&self, earlier: &Reading, units: usize) -> Cost {
        let n = units.max(1) as f64;
        Cost {
            cpu: self.cpu.since(&earlier.cpu).per(units),
            redis_connections: (self.redis_connections - earlier.redis_connections - 1) as f64 / n,
            statements: (self.statements - earlier.statements) as f64 / n,
        }
    }
}

/// What one target measured.
struct Figures {
    label: String,
    /// Per scenario: (requests/s, p50, p99, unexpected statuses, cost per request).
    scenarios: Vec<(String, f64, Duration, Duration, usize, Option<Cost>)>,
    saga: Option<SagaFigures>,
    /// The saga again while a burst of catalog events is being produced: (events, figures).
    burst: Option<(usize, SagaFigures)>,
    /// The saga at fixed offered rates.
    open_loop: Vec<OpenLoopFigures>,
    /// PostgreSQL connections the app held after the run (when its database is known).
    pg_connections: Option<i64>,
    instantiation: Option<(usize, Duration, Duration)>,
}

/// Whether scenario `name` runs: `--only` names one or more (comma-separated) parts of names.
fn wanted(options: &Options, name: &str) -> bool {
    options
        .only
        .as_deref()
        .is_none_or(|only| only.split(',').any(|part| name.contains(part.trim())))
}

async fn measure(target: &Target, options: &Options) -> Figures {
    let base = target.base_url.clone();
    let client = reqwest::Client::new();
    eprintln!(
        "==> [{}] setting up: admin, 40 products, 40 customers with carts",
        target.label
    );
    let admin = log_in(&client, &base, &target.admin_email, &target.admin_password).await;
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let products: Vec<String> = join_all((0..40).map(|i| {
        let (client, base, admin, run_id) = (client.clone(), base.clone(), admin.clone(), run_id.clone());
        async move {
            let body = json!({ "sku": format!("BENCH-{run_id}-P{i}"), "name": format!("Bench product {i}"),
                               "category": "bench", "price": "4.99", "currency": "USD", "initial_stock": 1_000_000 });
            post(&client, format!("{base}/api/v1/products"), Some(&admin), body).await["id"].as_str().unwrap().to_owned()
        }
    }))
    .await;
    let shoppers: Vec<(String, String)> = join_all((0..40).map(|i| {
        let (client, base, run_id) = (client.clone(), base.clone(), run_id.clone());
        async move {
            let token = login(&client, &base, &format!("bench-{run_id}-{i}@bench.test")).await;
            let cart = post(
                &client,
                format!("{base}/api/v1/carts"),
                Some(&token),
                json!({}),
            )
            .await;
            (token, cart["id"].as_str().unwrap().to_owned())
        }
    }))
    .await;
    let shoppers = Arc::new(shoppers);
    let products = Arc::new(products);

    let scenarios = [
        Scenario {
            name: "GET /health",
            expect: 200,
            make: {
                let base = base.clone();
                Arc::new(move |c, _| c.get(format!("{base}/health")))
            },
        },
        Scenario {
            name: "GET /api/v1/products/{id}",
            expect: 200,
            make: {
                let (base, products) = (base.clone(), products.clone());
                Arc::new(move |c, n| {
                    c.get(format!(
                        "{base}/api/v1/products/{}",
                        products[(n % 40) as usize]
                    ))
                })
            },
        },
        Scenario {
            name: "POST /api/v1/products (write + event)",
            expect: 201,
            make: {
                let (base, admin, run_id) = (base.clone(), admin.clone(), run_id.clone());
                Arc::new(move |c, n| {
                    c.post(format!("{base}/api/v1/products")).bearer_auth(&admin).json(&json!({
                        "sku": format!("BENCH-{run_id}-W{n}"), "name": "Bench write", "category": "bench",
                        "price": "1.00", "currency": "USD", "initial_stock": 10,
                    }))
                })
            },
        },
        Scenario {
            name: "POST /api/v1/carts/{id}/items (add item)",
            expect: 200,
            make: {
                let (base, shoppers, products) = (base.clone(), shoppers.clone(), products.clone());
                Arc::new(move |c, n| {
                    let (token, cart) = &shoppers[(n % 40) as usize];
                    let product = &products[((n / 40) % 40) as usize];
                    c.post(format!("{base}/api/v1/carts/{cart}/items"))
                        .bearer_auth(token)
                        .json(&json!({ "product_id": product, "quantity": 1 }))
                })
            },
        },
        Scenario {
            name: "GET /api/v1/carts/{id} (cached)",
            expect: 200,
            make: {
                let (base, shoppers) = (base.clone(), shoppers.clone());
                Arc::new(move |c, n| {
                    let (token, cart) = &shoppers[(n % 40) as usize];
                    c.get(format!("{base}/api/v1/carts/{cart}"))
                        .bearer_auth(token)
                })
            },
        },
        Scenario {
            name: "GET /api/v1/carts/{id} (uncached)",
            expect: 200,
            make: {
                let (base, shoppers) = (base.clone(), shoppers.clone());
                Arc::new(move |c, n| {
                    let (token, cart) = &shoppers[(n % 40) as usize];
                    c.get(format!("{base}/api/v1/carts/{cart}"))
                        .bearer_auth(token)
                        .header("cache-control", "no-cache")
                })
            },
        },
    ];

    let meter = match &target.running {
        Some(running) => Some(Meter::of(running).await),
        None => None,
    };
    let mut figures = Figures {
        label: target.label.clone(),
        scenarios: Vec::new(),
        saga: None,
        burst: None,
        open_loop: Vec::new(),
        pg_connections: None,
        instantiation: None,
    };
    // The saga first, on a quiet app: after the write scenarios, thousands of catalog events
    // wait on the shared subscription connection ahead of the saga's messages (issue "Checkout
    // at scale"), which would measure that queue instead.
    if wanted(options, "checkout saga open loop") {
        match target.db_url.as_deref() {
            Some(db_url) => {
                figures.open_loop = open_loop_saga(
                    db_url,
                    meter.as_ref(),
                    &client,
                    &base,
                    &admin,
                    &run_id,
                    options,
                )
                .await
            }
            None => eprintln!(
                "==> open-loop checkout saga: skipped (needs --db-url for the server's timings)"
            ),
        }
    }
    if wanted(options, "checkout saga") {
        figures.saga = Some(
            saga_bench(
                target.db_url.as_deref(),
                &client,
                &base,
                &admin,
                &run_id,
                options.seconds,
                options.concurrency.min(16),
            )
            .await,
        );
    }
    if wanted(options, "checkout saga during a burst") {
        // 5,000 catalog events (one per product created) produced while the saga runs: each
        // consumer has its own subscription connection, so the saga should barely notice.
        const BURST: usize = 5_000;
        eprintln!(
            "==> [{}] checkout saga during a burst of {BURST} catalog events",
            target.label
        );
        let burst = {
            let (client, base, admin, run_id) =
                (client.clone(), base.clone(), admin.clone(), run_id.clone());
            tokio::spawn(async move {
                let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                join_all((0..16).map(|_| {
                    let (client, base, admin, run_id, next) =
                        (client.clone(), base.clone(), admin.clone(), run_id.clone(), next.clone());
                    async move {
                        loop {
                            let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if n >= BURST {
                                break;
                            }
                            let _ = client
                                .post(format!("{base}/api/v1/products"))
                                .bearer_auth(&admin)
                                .json(&json!({ "sku": format!("BURST-{run_id}-{n}"), "name": "Burst", "category": "burst",
                                               "price": "1.00", "currency": "USD", "initial_stock": 1 }))
                                .send()
                                .await;
                        }
                    }
                }))
                .await;
            })
        };
        let during = saga_bench(
            target.db_url.as_deref(),
            &client,
            &base,
            &admin,
            &format!("{run_id}b"),
            options.seconds,
            options.concurrency.min(16),
        )
        .await;
        let _ = burst.await;
        figures.burst = Some((BURST, during));
    }
    for scenario in scenarios.iter().filter(|s| wanted(options, s.name)) {
        eprintln!(
            "==> [{}] {} for {}s at concurrency {}",
            target.label, scenario.name, options.seconds, options.concurrency
        );
        let stats = run(
            scenario,
            options.seconds,
            options.concurrency,
            meter.as_ref(),
        )
        .await;
        let rps = stats.latencies.len() as f64 / stats.elapsed.as_secs_f64();
        figures.scenarios.push((
            scenario.name.to_owned(),
            rps,
            stats.percentile(0.50),
            stats.percentile(0.99),
            stats.unexpected,
            stats.cost,
        ));
    }
    if let Some(running) = &target.running {
        figures.pg_connections = Some(running.pg_connections().await);
        let times = instantiation_times(&running.log_path);
        if !times.is_empty() {
            let at = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
            figures.instantiation = Some((times.len(), at(0.5), at(0.99)));
        }
    }
    figures
}

/// The runtimes to compare: the local host, then every binary in `SPIN_BINS`.
fn runtimes() -> Vec<Runtime> {
    let mut runtimes = vec![Runtime::LocalHost];
    if let Ok(bins) = std::env::var("SPIN_BINS") {
        runtimes.extend(
            bins.split_whitespace()
                .map(|b| Runtime::Spin(spincart_tests::repo_root().join(b))),
        );
    }
    runtimes
}

/// What the zero-row guard (`spincart_platform::db::at_least_one_row`) costs PostgreSQL per
/// statement, measured directly: typical statements of the app, sent as Spin sends them (text
/// with parameters: parsed and planned every time), plain and wrapped, alternately.
async fn zero_row_guard_cost(db_url: &str, rounds: usize) -> String {
    let db = spincart_tests::connect(db_url).await;
    let product: uuid::Uuid = db
        .query_one("SELECT product_id FROM inventory.stock LIMIT 1", &[])
        .await
        .unwrap()
        .get(0);
    let missing = uuid::Uuid::new_v4();
    let statements: [(&str, &str, uuid::Uuid); 3] = [
        (
            "a product by id (1 row)",
            "SELECT p.id, p.sku, p.name, p.price_minor, p.currency FROM catalog.products p WHERE p.id = $1",
            product,
        ),
        (
            "a missing key (0 rows)",
            "SELECT p.id, p.sku FROM catalog.products p WHERE p.id = $1",
            missing,
        ),
        (
            "a page of 20, ordered",
            "SELECT p.id, p.sku, p.name FROM catalog.products p WHERE p.id <> $1 ORDER BY p.created_at DESC, p.id LIMIT 20",
            product,
        ),
    ];
    let mut report = String::from(
        "\nZero-row guard (spinframework/spin#3671) on PostgreSQL directly, unprepared as Spin sends statements:\n\n\
         | statement | plain p50 | wrapped p50 | difference |\n|---|---|---|---|\n",
    );
    for (name, sql, param) in statements {
        let wrapped = spincart_platform::db::at_least_one_row(sql);
        let mut plain_times = Vec::with_capacity(rounds);
        let mut wrapped_times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            for (text, times) in [
                (sql.to_owned(), &mut plain_times),
                (wrapped.clone(), &mut wrapped_times),
            ] {
                let started = Instant::now();
                let statement = db.prepare(&text).await.unwrap();
                db.query(&statement, &[&param]).await.unwrap();
                times.push(started.elapsed());
            }
        }
        plain_times.sort();
        wrapped_times.sort();
        let (plain, wrapped) = (plain_times[rounds / 2], wrapped_times[rounds / 2]);
        report.push_str(&format!(
            "| {name} | {:.1} µs | {:.1} µs | {:+.1} µs |\n",
            plain.as_secs_f64() * 1e6,
            wrapped.as_secs_f64() * 1e6,
            (wrapped.as_secs_f64() - plain.as_secs_f64()) * 1e6
        ));
    }
    report
}

/// A cost as a table cell: CPU ms by process and in all; Redis connections; statements.
fn cost_cell(cost: &Cost) -> String {
    format!(
        "{:.2} ms: runtime {:.2}, PostgreSQL {:.2}, Redis {:.2}; {:.1} Redis connections, {:.1} statements",
        cost.cpu.total(),
        cost.cpu.runtime,
        cost.cpu.postgres,
        cost.cpu.redis,
        cost.redis_connections,
        cost.statements
    )
}

/// The figure every change is judged by: CPU per unit of work by process kind (the load
/// generator left out), read from /proc around the measured phase only, with the Redis
/// connections and PostgreSQL statements per unit.
fn cost_tables(all: &[Figures]) -> String {
    let mut out = String::new();
    let has_cost = all.iter().any(|f| {
        f.open_loop.iter().any(|p| p.cost.is_some()) || f.scenarios.iter().any(|s| s.5.is_some())
    });
    if !has_cost {
        return out;
    }
    out.push_str("
CPU per unit of work (runtime + PostgreSQL + Redis, the load generator left out; from /proc around the measured phase), Redis connections opened and PostgreSQL statements (the app's role) per unit:

| unit |");
    for f in all {
        out.push_str(&format!(" {} |", f.label));
    }
    out.push_str(
        "
|---|",
    );
    out.push_str(&"---|".repeat(all.len()));
    out.push('\n');
    let phases = all.iter().map(|f| f.open_loop.len()).max().unwrap_or(0);
    for phase in 0..phases {
        let rate = all
            .iter()
            .find_map(|f| f.open_loop.get(phase))
            .map(|p| p.rate)
            .unwrap_or(0);
        out.push_str(&format!(
            "| a confirmed saga, open loop at {rate}/s (phase {}) |",
            phase + 1
        ));
        for f in all {
            match f.open_loop.get(phase).and_then(|p| p.cost.as_ref()) {
                Some(cost) => out.push_str(&format!(" {} |", cost_cell(cost))),
                None => out.push_str(" – |"),
            }
        }
        out.push('\n');
    }
    let names: Vec<String> = all
        .first()
        .map(|f| f.scenarios.iter().map(|s| s.0.clone()).collect())
        .unwrap_or_default();
    for (i, name) in names.iter().enumerate() {
        out.push_str(&format!("| a request: {name} |"));
        for f in all {
            match f.scenarios.get(i).and_then(|s| s.5.as_ref()) {
                Some(cost) => out.push_str(&format!(" {} |", cost_cell(cost))),
                None => out.push_str(" – |"),
            }
        }
        out.push('\n');
    }
    out
}

fn side_by_side(all: &[Figures], options: &Options) -> String {
    let mut report = format!(
        "Concurrency {}, {} s per scenario; each cell: requests/s, p50 / p99 latency.\n\n| scenario |",
        options.concurrency, options.seconds
    );
    for f in all {
        report.push_str(&format!(" {} |", f.label));
    }
    report.push_str("\n|---|");
    report.push_str(&"---|".repeat(all.len()));
    report.push('\n');
    let names: Vec<String> = all
        .first()
        .map(|f| f.scenarios.iter().map(|s| s.0.clone()).collect())
        .unwrap_or_default();
    for (i, name) in names.iter().enumerate() {
        report.push_str(&format!("| {name} |"));
        for f in all {
            match f.scenarios.get(i) {
                Some((_, rps, p50, p99, unexpected, _)) => {
                    report.push_str(&format!(" {rps:.0} req/s, {} / {}", ms(*p50), ms(*p99)));
                    if *unexpected > 0 {
                        report.push_str(&format!(" ({unexpected} unexpected statuses)"));
                    }
                    report.push_str(" |");
                }
                None => report.push_str(" – |"),
            }
        }
        report.push('\n');
    }
    if all.iter().any(|f| f.saga.is_some()) {
        report.push_str(
            "| checkout saga (closed loop): sagas/s; checkout → CONFIRMED p50 / p90 / p99 |",
        );
        for f in all {
            match &f.saga {
                Some(s) => report.push_str(&format!(
                    " {:.1} sagas/s ({} confirmed, {} shoppers); {:.1} / {:.1} / {:.1} ms ({}) |",
                    s.per_second,
                    s.confirmed,
                    s.shoppers,
                    s.percentiles.0,
                    s.percentiles.1,
                    s.percentiles.2,
                    s.clock
                )),
                None => report.push_str(" – |"),
            }
        }
        report.push('\n');
    }
    // One row per open-loop phase, in the order they ran (a rate may be given twice, e.g. to
    // see a warm-up: `--rates 25,25,50`).
    let phases = all.iter().map(|f| f.open_loop.len()).max().unwrap_or(0);
    for phase in 0..phases {
        let rate = all
            .iter()
            .find_map(|f| f.open_loop.get(phase))
            .map(|p| p.rate)
            .unwrap_or(0);
        report.push_str(&format!(
            "| checkout saga, open loop at {rate} checkouts/s (phase {}): checkout → CONFIRMED p50 / p90 / p99 (server clock) |",
            phase + 1
        ));
        for f in all {
            match f.open_loop.get(phase) {
                Some(p) => report.push_str(&format!(
                    " {:.1} / {:.1} / {:.1} ms ({} of {} confirmed) |",
                    p.percentiles.0, p.percentiles.1, p.percentiles.2, p.confirmed, p.offered
                )),
                None => report.push_str(" – |"),
            }
        }
        report.push('\n');
    }
    if all.iter().any(|f| f.burst.is_some()) {
        report.push_str("| the same saga while a burst of catalog events is produced: sagas/s; p50 / p90 / p99 (p99 against the quiet run) |");
        for f in all {
            match (&f.burst, &f.saga) {
                (Some((events, b)), quiet) => {
                    let change = quiet
                        .as_ref()
                        .filter(|q| q.percentiles.2 > 0.0)
                        .map(|q| {
                            format!(
                                ", p99 {:+.0}%",
                                (b.percentiles.2 / q.percentiles.2 - 1.0) * 100.0
                            )
                        })
                        .unwrap_or_default();
                    report.push_str(&format!(
                        " {events} events: {:.1} sagas/s; {:.1} / {:.1} / {:.1} ms{change} |",
                        b.per_second, b.percentiles.0, b.percentiles.1, b.percentiles.2
                    ));
                }
                _ => report.push_str(" – |"),
            }
        }
        report.push('\n');
    }
    report.push_str("| PostgreSQL connections held after the run |");
    for f in all {
        match f.pg_connections {
            Some(n) => report.push_str(&format!(" {n} |")),
            None => report.push_str(" – |"),
        }
    }
    report.push('\n');
    report.push_str(&cost_tables(all));
    for f in all {
        if let Some((n, p50, p99)) = f.instantiation {
            report.push_str(&format!(
                "\n{}: per-request instantiation ({n} requests, from its log): p50 {:.1} µs, p99 {:.1} µs\n",
                f.label,
                p50.as_secs_f64() * 1e6,
                p99.as_secs_f64() * 1e6
            ));
        }
    }
    report
}

/// The series `/metrics` of the app under load ended with most worth a look (the saga's duration,
/// checkout latency, the counters); the whole scrape goes to `target/<name>-metrics.txt`.
async fn scrape_metrics(base_url: &str, name: &str) -> String {
    let text = match reqwest::get(format!("{base_url}/metrics")).await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(e) => return format!("(scrape failed: {e})"),
    };
    let path = spincart_tests::repo_root().join(format!("target/{name}-metrics.txt"));
    std::fs::write(&path, &text).unwrap();
    let wanted = [
        "spincart_saga_duration_seconds_",
        "spincart_saga_success_ratio",
        "spincart_cart_conversion_ratio",
        "spincart_cart_abandonment_ratio",
        "spincart_cart_operations_total",
        "spincart_cache_requests_total",
        "spincart_stock_lock_conflicts_total",
        "spincart_events_publish",
        "spincart_dead_letters_total",
        "spincart_sagas{",
    ];
    let checkout = "spincart_request_duration_seconds_count";
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            (wanted.iter().any(|w| l.starts_with(w)) && !l.contains("_bucket"))
                || (l.starts_with(checkout) && l.contains("checkout"))
        })
        .take(60)
        .collect();
    format!(
        "```\n{}\n```\n(all of it: {})",
        lines.join("\n"),
        path.display()
    )
}

#[tokio::main]
async fn main() {
    let options = options();
    let mut all = Vec::new();
    let mut scrapes = Vec::new();
    let mut guard_db = None;
    match &options.url {
        Some(url) => {
            eprintln!("==> loading the app already running at {url}");
            let target = Target {
                label: url.clone(),
                base_url: url.trim_end_matches('/').to_owned(),
                admin_email: options.admin_email.clone(),
                admin_password: options.admin_password.clone(),
                db_url: options.db_url.clone(),
                running: None,
            };
            all.push(measure(&target, &options).await);
            scrapes.push((
                target.label.clone(),
                scrape_metrics(&target.base_url, "bench-url").await,
            ));
            guard_db = options.db_url.clone();
        }
        None => {
            for runtime in runtimes() {
                let label = match options.layout {
                    Layout::ShardHalves => format!("{} (shards on two processes)", runtime.label()),
                    _ => runtime.label(),
                };
                eprintln!("==> starting the app on {label} (fresh database, Redis of its own)");
                let name = match &runtime {
                    Runtime::LocalHost => "bench-local".to_owned(),
                    Runtime::Spin(path) => format!(
                        "bench-{}",
                        path.file_name().unwrap_or_default().to_string_lossy()
                    ),
                };
                let running =
                    RunningApp::start_with(&name, BENCH_SETTINGS, runtime, options.layout).await;
                let target = Target {
                    label,
                    base_url: running.base_url.clone(),
                    admin_email: running.admin_email.clone(),
                    admin_password: ADMIN_PASSWORD.to_owned(),
                    db_url: Some(running.db_url.clone()),
                    running: Some(running),
                };
                all.push(measure(&target, &options).await);
                scrapes.push((
                    target.label.clone(),
                    scrape_metrics(&target.base_url, &name).await,
                ));
                guard_db = target.db_url.clone();
                // Dropping the target stops the app before the next one starts.
            }
        }
    }
    let mut report = side_by_side(&all, &options);
    if let Some(db_url) = guard_db.filter(|_| wanted(&options, "zero-row guard")) {
        eprintln!("==> zero-row guard: plain and wrapped statements on PostgreSQL");
        report.push_str(&zero_row_guard_cost(&db_url, 2000).await);
    }
    for (label, scrape) in &scrapes {
        report.push_str(&format!(
            "\n### `/metrics` after the run: {label}\n\n{scrape}\n"
        ));
    }
    println!("\n{report}");
    let path = spincart_tests::repo_root().join("target/bench-report.md");
    std::fs::write(&path, &report).unwrap();
    eprintln!("(written to {})", path.display());
}
