//! `make bench`: starts the app on the local host (fresh database), loads it with concurrent
//! requests per scenario, and prints requests/s and latency percentiles, plus the host's
//! per-request instantiation time read from its log.
//!
//! ```text
//! cargo run --release -p spincart-tests --bin spincart-bench -- --seconds 10 --concurrency 32
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{json, Value};
use spincart_tests::local_app::LocalApp;

struct Options {
    seconds: u64,
    concurrency: usize,
    only: Option<String>,
}

fn options() -> Options {
    let mut options = Options {
        seconds: 10,
        concurrency: 32,
        only: None,
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
            other => {
                panic!("unknown argument {other}; use --seconds N --concurrency N --only NAME")
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

async fn run(scenario: &Scenario, seconds: u64, concurrency: usize) -> Stats {
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

async fn login(client: &reqwest::Client, base: &str, email: &str) -> String {
    let password = "bench password";
    let _ = client
        .post(format!("{base}/api/v1/users/register"))
        .json(&json!({ "email": email, "password": password, "full_name": "Bench" }))
        .send()
        .await;
    let login = post(
        client,
        format!("{base}/api/v1/users/login"),
        None,
        json!({ "email": email, "password": password }),
    )
    .await;
    login["token"].as_str().unwrap().to_owned()
}

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

/// Checkout → CONFIRMED at a steady load: `shoppers` customers each fill a cart, check out,
/// wait (long-polling) for the order to be confirmed, and start again. Latency is taken from the
/// server's own clock: the saga's creation to its CONFIRMED transition.
async fn saga_bench(
    app: &LocalApp,
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    run_id: &str,
    seconds: u64,
    shoppers: usize,
) -> String {
    eprintln!("==> checkout saga for {seconds}s with {shoppers} shoppers (each: cart, add, checkout, wait for CONFIRMED)");
    let body = json!({ "sku": format!("BENCH-{run_id}-SAGA"), "name": "Saga bench", "category": "bench",
                       "price": "2.50", "currency": "USD", "initial_stock": 1_000_000 });
    let product = post(client, format!("{base}/api/v1/products"), Some(admin), body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tokens: Vec<String> = join_all((0..shoppers).map(|i| {
        let email = format!("saga-{run_id}-{i}@bench.test");
        async move { login(client, base, &email).await }
    }))
    .await;
    let db = spincart_tests::connect(&app.db_url).await;
    let started_at: String = db
        .query_one("SELECT platform.rfc3339(now())", &[])
        .await
        .unwrap()
        .get(0);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let confirmed: usize = join_all(tokens.iter().map(|token| {
        let (client, base, product) = (client.clone(), base.to_owned(), product.clone());
        async move {
            let mut done = 0;
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
                let placed = post(
                    &client,
                    format!("{base}/api/v1/carts/{cart}/checkout"),
                    Some(token),
                    json!({ "payment_token": "tok_visa" }),
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
                        done += 1;
                        break;
                    }
                    assert_ne!(current["status"], "FAILED", "{current}");
                }
            }
            done
        }
    }))
    .await
    .into_iter()
    .sum();
    let elapsed = started.elapsed();
    let mut latencies: Vec<f64> = db
        .query(
            "SELECT extract(epoch FROM l.at - s.created_at)::float8 FROM checkout.saga_log l
               JOIN checkout.sagas s ON s.id = l.saga_id
              WHERE l.to_status = 'CONFIRMED' AND s.created_at >= $1::text::timestamptz",
            &[&started_at],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, f64>(0))
        .collect();
    latencies.sort_by(f64::total_cmp);
    let at = |p: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
            * 1000.0
    };
    format!(
        "\nCheckout saga, {shoppers} shoppers for {seconds}s: {confirmed} orders confirmed ({:.1} sagas/s); \
         checkout → CONFIRMED p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms (server clock)\n",
        confirmed as f64 / elapsed.as_secs_f64(),
        at(0.5),
        at(0.9),
        at(0.99)
    )
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let options = options();
    eprintln!("==> starting the app on the local host (fresh database)");
    let app = LocalApp::start("bench", &[]).await;
    let base = app.base_url.clone();
    let client = reqwest::Client::new();

    eprintln!("==> setting up: admin, 40 products, 40 customers with carts");
    let admin = login(&client, &base, &app.admin_email).await;
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

    let scenarios = vec![
        Scenario {
            name: "GET /health",
            expect: 200,
            make: {
                let base = base.clone();
                Arc::new(move |c, _| c.get(format!("{base}/health")))
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

    let mut report = String::from(
        "| scenario | concurrency | requests | unexpected | req/s | p50 | p90 | p99 |\n|---|---|---|---|---|---|---|---|\n",
    );
    for scenario in &scenarios {
        if options
            .only
            .as_deref()
            .is_some_and(|only| !scenario.name.contains(only))
        {
            continue;
        }
        eprintln!(
            "==> {} for {}s at concurrency {}",
            scenario.name, options.seconds, options.concurrency
        );
        let stats = run(scenario, options.seconds, options.concurrency).await;
        let rps = stats.latencies.len() as f64 / stats.elapsed.as_secs_f64();
        report.push_str(&format!(
            "| {} | {} | {} | {} | {:.0} | {} | {} | {} |\n",
            scenario.name,
            options.concurrency,
            stats.latencies.len(),
            stats.unexpected,
            rps,
            ms(stats.percentile(0.50)),
            ms(stats.percentile(0.90)),
            ms(stats.percentile(0.99)),
        ));
    }
    if options
        .only
        .as_deref()
        .is_none_or(|only| "checkout saga".contains(only))
    {
        report.push_str(
            &saga_bench(
                &app,
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
    let times = instantiation_times(&app.log_path);
    if !times.is_empty() {
        let at = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
        report.push_str(&format!(
            "\nPer-request instantiation (host log, {} requests): p50 {:.1} µs, p99 {:.1} µs\n",
            times.len(),
            at(0.5).as_secs_f64() * 1e6,
            at(0.99).as_secs_f64() * 1e6
        ));
    }
    println!("\n{report}");
    let path = spincart_tests::repo_root().join("target/bench-report.md");
    std::fs::write(&path, &report).unwrap();
    eprintln!("(written to {})", path.display());
}
