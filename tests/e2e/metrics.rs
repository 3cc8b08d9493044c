//! `GET /metrics`, read as Prometheus reads it (the `prometheus-parse` crate): every family the
//! platform declares is there with its type, histograms are well formed, and the counters moved
//! by exactly what this test did — on an app of its own, so that no other test's requests count.

use std::time::Duration;

use prometheus_parse::{LineInfo, SampleType, Scrape, Value};
use serde_json::json;
use spincart_platform::metrics::{Kind, FAMILIES};
use spincart_tests::running_app::RunningApp;

use crate::helpers::{own_app, TestApp, E2E_SETTINGS};

/// One scrape of `/metrics`.
struct Metrics {
    text: String,
    scrape: Scrape,
}

impl Metrics {
    async fn of(app: &TestApp) -> Metrics {
        let response = app.get("/metrics", None).await;
        response.expect(200);
        assert_eq!(
            response.header("content-type"),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        let scrape = Scrape::parse(response.text.lines().map(|l| Ok(l.to_owned())))
            .expect("/metrics parses as the Prometheus text format");
        Metrics {
            text: response.text,
            scrape,
        }
    }

    /// The type each `# TYPE` line declares, by family name.
    fn declared_types(&self) -> Vec<(String, SampleType)> {
        self.text
            .lines()
            .filter_map(|line| match LineInfo::parse(line) {
                LineInfo::Type {
                    metric_name,
                    metric_alias,
                    sample_type,
                } => Some((metric_alias.unwrap_or(metric_name), sample_type)),
                _ => None,
            })
            .collect()
    }

    /// The sample of `metric` with exactly these labels.
    fn sample(&self, metric: &str, labels: &[(&str, &str)]) -> Option<&prometheus_parse::Sample> {
        self.scrape.samples.iter().find(|s| {
            s.metric == metric
                && s.labels.len() == labels.len()
                && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
        })
    }

    /// A counter's value (0 before its first increment).
    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        match self.sample(name, labels).map(|s| &s.value) {
            None => 0.0,
            Some(Value::Counter(v)) => *v,
            Some(other) => panic!("{name} is not a counter: {other:?}"),
        }
    }

    /// The sum of a counter over all its series.
    fn counter_total(&self, name: &str) -> f64 {
        self.scrape
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .map(|s| match s.value {
                Value::Counter(v) => v,
                ref other => panic!("{name} is not a counter: {other:?}"),
            })
            .sum()
    }

    /// A histogram series' `_count` (0 before its first observation).
    fn histogram_count(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let count = format!("{name}_count");
        match self.sample(&count, labels).map(|s| &s.value) {
            None => 0.0,
            Some(Value::Untyped(v)) => *v,
            Some(other) => panic!("{count}: {other:?}"),
        }
    }

    fn gauge(&self, name: &str) -> f64 {
        match self.sample(name, &[]).map(|s| &s.value) {
            Some(Value::Gauge(v)) => *v,
            other => panic!("{name} is not a gauge: {other:?}\n{}", self.text),
        }
    }
}

#[tokio::test]
async fn metrics_count_what_happened_and_render_every_family_and_valid_histograms() {
    if own_app("reads the metrics of an app of its own")
        .await
        .is_none()
    {
        return;
    }
    let running = RunningApp::start("metrics", E2E_SETTINGS).await;
    let app = TestApp::talking_to(&running);
    let user = app.customer().await;
    let other = app.customer().await;
    let product = app.create_product("5.00", 3).await;
    let product_id = product["id"].as_str().unwrap().to_owned();

    let before = Metrics::of(&app).await;

    // What this test does to carts, counted by hand.
    let cart = app.cart_of(&user).await["id"].as_str().unwrap().to_owned(); // create
    let token = Some(user.token.as_str());
    app.add_item(&user, &cart, &product_id, 1).await.expect(200); // add_item
    for _ in 0..2 {
        let read = app.get(&format!("/api/v1/carts/{cart}"), token).await; // cache lookups
        read.expect(200);
        assert_eq!(read.header("x-spincart-cache"), Some("hit"));
    }
    app.put(
        &format!("/api/v1/carts/{cart}/items/{product_id}"),
        token,
        json!({ "quantity": 2 }),
    )
    .await
    .expect(200); // update_item
    app.add_item(&user, &cart, &product_id, 50)
        .await
        .expect_error(409, "insufficient_stock"); // a stock lock conflict, no add_item
    let order = app.place_order(&user, &cart, "tok_visa").await; // checkout
    let settled = app.order_settled(&user, &order).await;
    assert_eq!(settled["saga"]["status"], "CONFIRMED", "{settled}");

    // Another shopper's cart (the first one's is being checked out).
    let second = app.cart_of(&other).await["id"].as_str().unwrap().to_owned(); // create
    let other_token = Some(other.token.as_str());
    app.add_item(&other, &second, &product_id, 1)
        .await
        .expect(200); // add_item
    app.delete(
        &format!("/api/v1/carts/{second}/items/{product_id}"),
        other_token,
    )
    .await
    .expect(200); // remove_item
    app.add_item(&other, &second, &product_id, 1)
        .await
        .expect(200); // add_item
    app.delete(&format!("/api/v1/carts/{second}"), other_token)
        .await
        .expect(200); // clear

    // The saga's end is recorded by the consumer that ends it, once its message is done: wait
    // for it rather than for the order's status alone.
    let confirmed = [("outcome", "confirmed")];
    let saga = "spincart_saga_duration_seconds";
    let after = spincart_tests::eventually(
        Duration::from_secs(30),
        "the confirmed saga's duration is recorded",
        || async {
            let now = Metrics::of(&app).await;
            (now.histogram_count(saga, &confirmed) > before.histogram_count(saga, &confirmed))
                .then_some(now)
        },
    )
    .await;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        after.counter(name, labels) - before.counter(name, labels)
    };

    // Every declared family, with its type, even those nothing has touched yet.
    let types = after.declared_types();
    for family in FAMILIES {
        let expected = match family.kind {
            Kind::Counter => SampleType::Counter,
            Kind::Histogram(_) => SampleType::Histogram,
        };
        assert!(
            types.contains(&(family.name.to_owned(), expected)),
            "{} is not declared as {expected:?}:\n{}",
            family.name,
            after.text
        );
        assert!(
            after.scrape.docs.contains_key(family.name),
            "{}",
            family.name
        );
    }
    for gauge in [
        "spincart_orders",
        "spincart_sagas",
        "spincart_carts",
        "spincart_dead_letters",
        "spincart_saga_success_ratio",
        "spincart_cart_abandonment_ratio",
        "spincart_cart_conversion_ratio",
    ] {
        assert!(
            types.contains(&(gauge.to_owned(), SampleType::Gauge)),
            "{gauge} is not a gauge:\n{}",
            after.text
        );
    }

    // Cart operations: exactly what this test did.
    let operations = "spincart_cart_operations_total";
    for (operation, times) in [
        ("create", 2.0),
        ("add_item", 3.0),
        ("update_item", 1.0),
        ("remove_item", 1.0),
        ("clear", 1.0),
        ("checkout", 1.0),
    ] {
        assert_eq!(
            delta(operations, &[("operation", operation)]),
            times,
            "{operation}:\n{}",
            after.text
        );
    }
    assert_eq!(delta("spincart_stock_lock_conflicts_total", &[]), 1.0);
    let lookups = delta(
        "spincart_cache_requests_total",
        &[("cache", "cart"), ("result", "hit")],
    ) + delta(
        "spincart_cache_requests_total",
        &[("cache", "cart"), ("result", "miss")],
    );
    assert_eq!(lookups, 2.0);
    assert!(
        delta(
            "spincart_cache_requests_total",
            &[("cache", "cart"), ("result", "hit")]
        ) >= 1.0
    );
    assert!(
        after.counter_total("spincart_events_published_total")
            > before.counter_total("spincart_events_published_total")
    );

    // Request latency per route: at least the requests made (the route is the label, never the
    // path), and the consumers' messages under kind="event".
    let requests = "spincart_request_duration_seconds";
    for (route, made) in [
        ("/api/v1/carts", 2.0),
        ("/api/v1/carts/:id/items", 4.0),
        ("/api/v1/carts/:id/items/:product_id", 2.0),
        ("/api/v1/carts/:id", 3.0),
        ("/api/v1/carts/:id/checkout", 1.0),
    ] {
        let labels = [("component", route), ("kind", "http")];
        let grown =
            after.histogram_count(requests, &labels) - before.histogram_count(requests, &labels);
        assert!(grown >= made, "{route}: {grown} < {made}\n{}", after.text);
    }
    assert!(!after
        .text
        .contains(&format!("component=\"/api/v1/carts/{cart}")));
    assert!(
        after.histogram_count(
            requests,
            &[("component", "inventory-reserve"), ("kind", "event")]
        ) >= 1.0,
        "{}",
        after.text
    );

    // One confirmed saga.
    assert_eq!(
        after.histogram_count(saga, &confirmed) - before.histogram_count(saga, &confirmed),
        1.0
    );

    // Every histogram series: cumulative buckets ending in +Inf, which equals _count.
    let mut histograms = 0;
    for sample in &after.scrape.samples {
        let Value::Histogram(buckets) = &sample.value else {
            continue;
        };
        histograms += 1;
        let labels: Vec<(&str, &str)> = sample
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert!(
            buckets
                .windows(2)
                .all(|w| w[0].less_than < w[1].less_than && w[0].count <= w[1].count),
            "{} {labels:?}: {buckets:?}",
            sample.metric
        );
        let last = buckets.last().unwrap();
        assert_eq!(last.less_than, f64::INFINITY, "{}", sample.metric);
        assert_eq!(
            last.count,
            after.histogram_count(&sample.metric, &labels),
            "{} {labels:?}: +Inf is not _count",
            sample.metric
        );
    }
    assert!(histograms >= 6, "{}", after.text);

    // The ratios over the window: this test's carts and saga are in it.
    assert!(after.gauge("spincart_saga_success_ratio") > 0.0);
    assert!(after.gauge("spincart_cart_conversion_ratio") > 0.0);
    let abandonment = after.gauge("spincart_cart_abandonment_ratio");
    assert!((0.0..=1.0).contains(&abandonment), "{abandonment}");
}

#[tokio::test]
async fn a_client_cannot_invent_the_route_a_request_is_counted_under() {
    let app = crate::helpers::app().await;
    let forged = format!("/forged-{}", uuid::Uuid::new_v4().simple());
    let answered = app
        .send(
            app.request(reqwest::Method::GET, "/api/v1/products?limit=1", None)
                .header("spin-component-route", &forged)
                .header("spin-path-match-id", "forged"),
        )
        .await;
    answered.expect(200);
    let metrics = app.get("/metrics", None).await;
    metrics.expect(200);
    assert!(
        !metrics.text.contains(&forged),
        "a client's spin-component-route became a label"
    );
    assert!(metrics.text.contains(
        "spincart_request_duration_seconds_count{component=\"/api/v1/products\",kind=\"http\"}"
    ));
}
