//! `TestApp`: the running application and typed requests against it.
//!
//! By default the suite starts the app once per run on a free port with a fresh database and a
//! Redis of its own, on the runtime `SPINCART_RUNTIME` names: the local host (default) or a real
//! `spin` binary, which `make test` does for every binary in `SPIN_BINS`. With
//! `SPINCART_BASE_URL=http://host:port` it runs against that app instead, registering its admin
//! as `SPINCART_ADMIN_EMAIL` (default `admin@spincart.local`, which `make up` lists in
//! `admin_emails`); tests that must start or stop parts of an app are skipped then.

#![allow(dead_code)]

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::OnceCell;

use spincart_tests::running_app::{RestartWatch, RunningApp, ADMIN_PASSWORD};

/// The longest any request of the suite may take: longer than the longest long poll a test
/// asks for (`?wait=`, `waitSeconds`, up to 30 s), shorter than a hung app.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(45);

/// The app under test.
pub struct TestApp {
    pub base_url: String,
    pub admin_email: String,
    pub admin_password: String,
    /// The database of the app, when this suite started it (for direct assertions).
    pub db_url: Option<String>,
    /// The app's token signing key, when known (this suite started the app, or
    /// `SPINCART_JWT_SECRET` is set): lets tests mint expired tokens.
    pub jwt_secret: Option<String>,
    /// The app's Redis, when known (`SPINCART_REDIS_URL` for an app the suite did not start):
    /// lets tests publish messages themselves.
    pub redis_url: Option<String>,
    admin: OnceCell<User>,
    /// The deadline of every request ([`REQUEST_TIMEOUT`]).
    pub request_timeout: Duration,
    /// What the app's (first) process printed, when the suite started it.
    pub log_path: Option<std::path::PathBuf>,
    /// Tells whether the app restarted under the test, when the suite started it.
    watch: Option<RestartWatch>,
    _app: Option<Mutex<RunningApp>>,
}

static APP: OnceCell<TestApp> = OnceCell::const_new();

/// The app, started on first use.
pub async fn app() -> &'static TestApp {
    APP.get_or_init(|| async {
        match std::env::var("SPINCART_BASE_URL") {
            Ok(base_url) => TestApp {
                admin_email: std::env::var("SPINCART_ADMIN_EMAIL")
                    .unwrap_or_else(|_| "admin@spincart.local".into()),
                admin_password: std::env::var("SPINCART_ADMIN_PASSWORD").unwrap_or_else(|_| {
                    std::fs::read_to_string(
                        spincart_tests::repo_root().join(".spincart/admin_password"),
                    )
                    .map(|p| p.trim().to_owned())
                    .unwrap_or_default()
                }),
                jwt_secret: std::env::var("SPINCART_JWT_SECRET").ok(),
                redis_url: std::env::var("SPINCART_REDIS_URL").ok(),
                ..TestApp::at(&base_url)
            },
            Err(_) => start_app().await,
        }
    })
    .await
}

/// The carrier's test addresses (by first line): books, rejects, fails once, never answers.
pub const BOOKS: &str = "1 Book Street";
pub const REJECTS: &str = "2 Reject Road";
pub const FLAKY: &str = "3 Flaky Lane";
pub const SILENT: &str = "4 Silent Way";

/// A valid shipping address whose first line is `line1`.
pub fn address(line1: &str) -> Value {
    json!({
        "name": "Ada Lovelace",
        "line1": line1,
        "city": "London",
        "postal_code": "N1 9GU",
        "country": "GB",
    })
}

/// Saga settings that keep the suite quick: short step deadlines, few delivery attempts.
pub const E2E_SETTINGS: &[(&str, &str)] = &[
    ("SPIN_VARIABLE_SAGA_STEP_TIMEOUT_SECONDS", "3"),
    ("SPIN_VARIABLE_SAGA_COMPENSATION_TIMEOUT_SECONDS", "3"),
    ("SPIN_VARIABLE_MAX_DELIVERY_ATTEMPTS", "3"),
    ("SPIN_VARIABLE_SAGA_RETRY_ATTEMPTS", "3"),
    ("SPIN_VARIABLE_REDELIVER_AFTER_SECONDS", "5"),
    // Every test logs in and registers from 127.0.0.1: the per-address throttles are tested on
    // an app of their own (limits.rs), the per-account one here.
    ("SPIN_VARIABLE_LOGIN_FAILURES_PER_ADDRESS", "100000"),
    ("SPIN_VARIABLE_REGISTRATIONS_PER_ADDRESS", "100000"),
];

/// The suite's own app, or `None` after a loud [`spincart_tests::skip`] when the suite runs
/// against an app it did not start (`SPINCART_BASE_URL`): `needs` says what the test needs of
/// it (to start apps of its own, read its database, stop its parts...).
pub async fn own_app(needs: &str) -> Option<&'static TestApp> {
    let app = app().await;
    if app.owns_app() {
        Some(app)
    } else {
        spincart_tests::skip(&format!(
            "{needs}: only when the suite starts the app (SPINCART_BASE_URL is set)"
        ));
        None
    }
}

async fn start_app() -> TestApp {
    let running = RunningApp::start("e2e", E2E_SETTINGS).await;
    eprintln!(
        "e2e: the app runs on {} at {}",
        running.runtime.label(),
        running.base_url
    );
    let mut app = TestApp::talking_to(&running);
    app._app = Some(Mutex::new(running));
    app
}

/// A response, with its body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Res {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Res {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `error.code` of an error response.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts the status, showing the body when it differs.
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts a 4xx error response of the contract's shape with this status and code.
    pub fn expect_error(&self, status: u16, code: &str) -> &Self {
        self.expect(status);
        assert_eq!(self.error_code(), code, "body: {}", self.text);
        assert!(
            self.body["error"]["message"].is_string(),
            "body: {}",
            self.text
        );
        self
    }
}

/// A registered user and their token.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub password: String,
    pub token: String,
}

impl TestApp {
    /// A client of the app at `base_url`, knowing nothing else about it.
    pub fn at(base_url: &str) -> TestApp {
        TestApp {
            base_url: base_url.trim_end_matches('/').to_owned(),
            admin_email: "admin@spincart.local".into(),
            admin_password: ADMIN_PASSWORD.into(),
            db_url: None,
            jwt_secret: None,
            redis_url: None,
            admin: OnceCell::new(),
            request_timeout: REQUEST_TIMEOUT,
            log_path: None,
            watch: None,
            _app: None,
        }
    }

    /// A client of an app this test started itself (fault tests own their app).
    pub fn talking_to(running: &RunningApp) -> TestApp {
        TestApp {
            admin_email: running.admin_email.clone(),
            db_url: Some(running.db_url.clone()),
            jwt_secret: Some(running.jwt_secret.clone()),
            redis_url: Some(running.redis.suite_url()),
            log_path: Some(running.log_path.clone()),
            watch: Some(running.restart_watch()),
            ..TestApp::at(&running.base_url)
        }
    }

    /// Whether this suite started the app (so a test may start apps of its own too, on the
    /// same runtime).
    pub fn owns_app(&self) -> bool {
        self._app.is_some()
    }

    /// The app's Redis, or a loud skip (`SPINCART_REDIS_URL` unset for an app the suite did not
    /// start).
    pub fn redis_or_skip(&self) -> Option<&str> {
        if self.redis_url.is_none() {
            spincart_tests::skip("publishes to the app's Redis: set SPINCART_REDIS_URL");
        }
        self.redis_url.as_deref()
    }

    /// A connection to the app's database, or a loud skip (an app the suite did not start).
    pub async fn db_or_skip(&self) -> Option<tokio_postgres::Client> {
        let db = self.db().await;
        if db.is_none() {
            spincart_tests::skip("reads the app's database: only on an app the suite started");
        }
        db
    }

    /// A request builder with the JSON content type; `token` adds `Authorization`.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        // A client per request: each test runs on a Tokio runtime of its own, and a pooled
        // connection must not outlive its runtime.
        let mut builder = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base_url))
            .timeout(self.request_timeout);
        if let Some(token) = token {
            builder = builder.bearer_auth(token);
        }
        builder
    }

    pub async fn send(&self, builder: reqwest::RequestBuilder) -> Res {
        if let Some(watch) = &self.watch {
            watch.assert_no_unexpected_restart();
        }
        let response = builder
            .send()
            .await
            .unwrap_or_else(|e| panic!("the app did not answer: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Res {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Res {
        self.send(self.request(reqwest::Method::GET, path, token))
            .await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Res {
        self.send(self.request(reqwest::Method::POST, path, token).json(&body))
            .await
    }

    pub async fn post_raw(&self, path: &str, token: Option<&str>, body: &str) -> Res {
        self.send(
            self.request(reqwest::Method::POST, path, token)
                .header("content-type", "application/json")
                .body(body.to_owned()),
        )
        .await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Res {
        self.send(self.request(reqwest::Method::PUT, path, token).json(&body))
            .await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Res {
        self.send(
            self.request(reqwest::Method::PATCH, path, token)
                .json(&body),
        )
        .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Res {
        self.send(self.request(reqwest::Method::DELETE, path, token))
            .await
    }

    /// Registers a new customer with a unique e-mail and logs them in.
    pub async fn customer(&self) -> User {
        let email = format!("customer-{}@e2e.test", uuid::Uuid::new_v4().simple());
        self.register_and_login(&email, "correct horse battery")
            .await
    }

    /// The app's admin (an operator made them one), logged in once.
    pub async fn admin(&self) -> &User {
        self.admin
            .get_or_init(|| async { self.login(&self.admin_email, &self.admin_password).await })
            .await
    }

    /// Logs a registered user in.
    pub async fn login(&self, email: &str, password: &str) -> User {
        let login = self
            .post(
                "/api/v1/users/login",
                None,
                json!({ "email": email, "password": password }),
            )
            .await;
        login.expect(200);
        User {
            id: login.body["user"]["id"].as_str().unwrap().to_owned(),
            email: email.to_owned(),
            password: password.to_owned(),
            token: login.body["token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn register_and_login(&self, email: &str, password: &str) -> User {
        let registered = self
            .post(
                "/api/v1/users/register",
                None,
                json!({ "email": email, "password": password, "full_name": "E2E User" }),
            )
            .await;
        assert!(
            registered.status == 201 || registered.status == 409,
            "register: {}",
            registered.text
        );
        self.login(email, password).await
    }

    /// Creates a product with a unique SKU (as the admin).
    pub async fn create_product(&self, price: &str, initial_stock: i64) -> Value {
        let admin = self.admin().await;
        let sku = format!("E2E-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let created = self
            .post(
                "/api/v1/products",
                Some(&admin.token),
                json!({
                    "sku": sku, "name": format!("Product {sku}"), "description": "made by the e2e suite",
                    "category": "e2e", "price": price, "currency": "USD", "initial_stock": initial_stock,
                }),
            )
            .await;
        created.expect(201);
        created.body
    }

    /// `GET /api/v1/inventory/{id}` as JSON.
    pub async fn stock(&self, product_id: &str) -> Value {
        let stock = self
            .get(&format!("/api/v1/inventory/{product_id}"), None)
            .await;
        stock.expect(200);
        stock.body
    }

    /// The caller's cart (creating it when needed).
    pub async fn cart_of(&self, user: &User) -> Value {
        let cart = self
            .post("/api/v1/carts", Some(&user.token), json!({}))
            .await;
        assert!(
            cart.status == 201 || cart.status == 200,
            "create cart: {}",
            cart.text
        );
        cart.body
    }

    /// `POST /api/v1/carts/{cart}/items`.
    pub async fn add_item(&self, user: &User, cart: &str, product: &str, quantity: i64) -> Res {
        self.post(
            &format!("/api/v1/carts/{cart}/items"),
            Some(&user.token),
            json!({ "product_id": product, "quantity": quantity }),
        )
        .await
    }

    /// Runs one maintenance sweep as the admin and returns its counts.
    pub async fn sweep(&self) -> Value {
        let admin = self.admin().await;
        let report = self
            .post(
                "/api/v1/admin/maintenance/run",
                Some(&admin.token),
                json!({}),
            )
            .await;
        report.expect(200);
        report.body
    }

    /// The value of the series `family{labels…}` on `GET /metrics` (the sum, when the labels
    /// given match several series; 0 before its first observation).
    pub async fn metric(&self, family: &str, labels: &[(&str, &str)]) -> f64 {
        let metrics = self.get("/metrics", None).await;
        metrics.expect(200);
        let prefix = format!("{family}{{");
        metrics
            .text
            .lines()
            .filter(|line| line.starts_with(&prefix))
            .filter(|line| {
                labels
                    .iter()
                    .all(|(name, value)| line.contains(&format!("{name}=\"{value}\"")))
            })
            .map(|line| {
                line.rsplit(' ')
                    .next()
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or_else(|| panic!("not a sample: {line}"))
            })
            .sum()
    }

    /// Publishes `payload` on the app's Redis channel `channel` and returns how many
    /// subscribers it reached (`None`, after a loud skip, without the app's Redis).
    pub async fn publish(&self, channel: &str, payload: &[u8]) -> Option<i64> {
        let url = self.redis_or_skip()?;
        let client = redis::Client::open(url).unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        let reached: i64 = redis::AsyncCommands::publish(&mut connection, channel, payload)
            .await
            .unwrap();
        Some(reached)
    }

    /// Direct access to the app's database, when this suite started the app.
    pub async fn db(&self) -> Option<tokio_postgres::Client> {
        match &self.db_url {
            Some(url) => Some(spincart_tests::connect(url).await),
            None => None,
        }
    }

    /// `POST /api/v1/carts/{cart}/checkout`, shipping to the carrier's booking test address.
    pub async fn checkout(&self, user: &User, cart: &str, payment_token: &str) -> Res {
        self.checkout_to(user, cart, payment_token, BOOKS).await
    }

    /// `POST /api/v1/carts/{cart}/checkout`, shipping to the address whose first line is
    /// `line1` (the carrier's test addresses: [`BOOKS`], [`REJECTS`], [`FLAKY`], [`SILENT`]).
    pub async fn checkout_to(
        &self,
        user: &User,
        cart: &str,
        payment_token: &str,
        line1: &str,
    ) -> Res {
        self.post(
            &format!("/api/v1/carts/{cart}/checkout"),
            Some(&user.token),
            json!({ "payment_token": payment_token, "shipping_address": address(line1) }),
        )
        .await
    }

    /// A customer with a cart holding `quantity` units of a new product (`stock` units, at
    /// `price`); returns the user, the cart id and the product id.
    pub async fn shopper(&self, price: &str, stock: i64, quantity: i64) -> (User, String, String) {
        let user = self.customer().await;
        let product = self.create_product(price, stock).await;
        let product_id = product["id"].as_str().unwrap().to_owned();
        let cart = self.cart_of(&user).await["id"].as_str().unwrap().to_owned();
        self.add_item(&user, &cart, &product_id, quantity)
            .await
            .expect(200);
        (user, cart, product_id)
    }

    /// Checks a shopper's cart out and returns the order id.
    pub async fn place_order(&self, user: &User, cart: &str, payment_token: &str) -> String {
        let placed = self.checkout(user, cart, payment_token).await;
        placed.expect(202);
        placed.body["order_id"].as_str().unwrap().to_owned()
    }

    /// Polls the order (long-polling, and running the sweep as a scheduler would) until `done`
    /// holds or `seconds` pass.
    pub async fn order_until(
        &self,
        user: &User,
        order: &str,
        seconds: u64,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            let current = self
                .get(&format!("/api/v1/orders/{order}?wait=1"), Some(&user.token))
                .await;
            current.expect(200);
            if done(&current.body) {
                return current.body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "order {order} did not get there in {seconds}s: {}",
                current.text
            );
            self.sweep().await;
        }
    }

    /// Waits until the order's saga has ended (CONFIRMED, COMPENSATED, CANCELLED).
    pub async fn order_settled(&self, user: &User, order: &str) -> Value {
        self.order_until(user, order, 60, |o| {
            [
                "CONFIRMED",
                "COMPENSATED",
                "CANCELLED",
                "COMPENSATION_FAILED",
            ]
            .contains(&o["saga"]["status"].as_str().unwrap_or(""))
        })
        .await
    }

    /// The order's event history, as event types in order.
    pub async fn history(&self, user: &User, order: &str) -> Vec<Value> {
        let events = self
            .get(&format!("/api/v1/orders/{order}/events"), Some(&user.token))
            .await;
        events.expect(200);
        events.body["items"].as_array().unwrap().clone()
    }
}

/// The event types of an order's history, in order.
pub fn types(history: &[Value]) -> Vec<&str> {
    history
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect()
}

/// Waits (sweeping) until the order's history holds every one of `wanted`.
pub async fn history_with(app: &TestApp, user: &User, order: &str, wanted: &[&str]) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let history = app.history(user, order).await;
        if wanted.iter().all(|w| types(&history).contains(w)) {
            return history;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "history lacks {wanted:?}: {:?}",
            types(&history)
        );
        app.sweep().await;
    }
}
