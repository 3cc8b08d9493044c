//! Limits of the contract: request bodies over 1 MiB are refused with 413 before they are
//! parsed, whether they declare their length or not, and nothing is written; failed logins are
//! throttled per account and per client address, and registrations per address, with 429 and
//! `Retry-After` — counted before the password is checked or hashed, and by the address the
//! runtime saw, whatever `spin-*` headers a client sends.

use serde_json::json;
use spincart_tests::running_app::RunningApp;

use crate::helpers::{app, own_app, Res, TestApp, E2E_SETTINGS};

const LIMIT: usize = 1 << 20;

/// A registration whose JSON is padded with spaces (still valid JSON) to `size` bytes.
fn registration_of_size(email: &str, size: usize) -> String {
    let body = json!({ "email": email, "password": "correct horse battery", "full_name": "Big" })
        .to_string();
    assert!(size >= body.len());
    format!("{body}{}", " ".repeat(size - body.len()))
}

fn unique_email() -> String {
    format!("limits-{}@e2e.test", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn a_20_mb_body_is_refused_with_413_and_nothing_is_written() {
    let app = app().await;
    let email = unique_email();
    let refused = app
        .post_raw(
            "/api/v1/users/register",
            None,
            &registration_of_size(&email, 20_000_000),
        )
        .await;
    refused.expect_error(413, "payload_too_large");
    assert_eq!(refused.body["error"]["limit_bytes"], LIMIT);
    let login = app
        .post(
            "/api/v1/users/login",
            None,
            json!({ "email": email, "password": "correct horse battery" }),
        )
        .await;
    login.expect(401);
}

#[tokio::test]
async fn a_body_without_a_length_is_refused_once_it_passes_the_limit() {
    let app = app().await;
    let body = registration_of_size(&unique_email(), LIMIT + 4096);
    // A stream has no Content-Length: the body goes chunked.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body
        .into_bytes()
        .chunks(64 * 1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let refused = app
        .send(
            app.request(reqwest::Method::POST, "/api/v1/users/register", None)
                .header("content-type", "application/json")
                .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks))),
        )
        .await;
    refused.expect_error(413, "payload_too_large");
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_is_read_and_parsed() {
    let app = app().await;
    let created = app
        .post_raw(
            "/api/v1/users/register",
            None,
            &registration_of_size(&unique_email(), LIMIT),
        )
        .await;
    created.expect(201);
}

async fn log_in(app: &TestApp, email: &str, password: &str) -> Res {
    app.post(
        "/api/v1/users/login",
        None,
        json!({ "email": email, "password": password }),
    )
    .await
}

fn retry_after(res: &Res) -> u64 {
    let seconds: u64 = res
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .unwrap();
    assert_eq!(res.body["error"]["retry_after_seconds"], seconds);
    seconds
}

#[tokio::test]
async fn the_sixth_wrong_password_in_a_row_for_an_account_gets_429_with_retry_after() {
    let app = app().await;
    let user = app.customer().await;
    for _ in 0..5 {
        log_in(app, &user.email, "wrong password")
            .await
            .expect_error(401, "invalid_credentials");
    }
    let throttled = log_in(app, &user.email, "wrong password").await;
    throttled.expect_error(429, "too_many_requests");
    let seconds = retry_after(&throttled);
    assert!((1..=900).contains(&seconds), "{seconds}");
    // While the account is throttled, even its password gets 429.
    log_in(app, &user.email, &user.password)
        .await
        .expect_error(429, "too_many_requests");
    // Other accounts are not affected.
    let other = app.customer().await;
    log_in(app, &other.email, &other.password).await.expect(200);
}

#[tokio::test]
async fn a_successful_login_clears_the_account_count() {
    let app = app().await;
    let user = app.customer().await;
    for _ in 0..4 {
        log_in(app, &user.email, "wrong password").await.expect(401);
    }
    log_in(app, &user.email, &user.password).await.expect(200);
    for _ in 0..4 {
        log_in(app, &user.email, "wrong password").await.expect(401);
    }
    log_in(app, &user.email, &user.password).await.expect(200);
}

#[tokio::test]
async fn fifty_parallel_wrong_passwords_get_at_most_the_limit_of_password_checks() {
    let app = app().await;
    let user = app.customer().await;
    let answers =
        futures::future::join_all((0..50).map(|_| log_in(app, &user.email, "wrong password")))
            .await;
    let checked = answers.iter().filter(|r| r.status == 401).count();
    let throttled = answers.iter().filter(|r| r.status == 429).count();
    assert_eq!(checked + throttled, 50, "only 401s and 429s");
    assert!(
        checked <= 5,
        "{checked} of 50 parallel guesses had their password checked (the limit is 5)"
    );
}

/// A login through `/graphql`, with extra headers.
async fn graphql_log_in(app: &TestApp, email: &str, headers: &[(&str, &str)]) -> Res {
    let mut request = app.request(reqwest::Method::POST, "/graphql", None).json(&json!({
        "query": "mutation($e: String!) { loginUser(email: $e, password: \"wrong password\") { token } }",
        "variables": { "e": email },
    }));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request).await
}

fn graphql_code(res: &Res) -> &str {
    res.body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test]
async fn per_address_throttles_count_the_address_the_runtime_saw_not_a_forged_one() {
    if own_app("throttles logins on an app of its own")
        .await
        .is_none()
    {
        return;
    }
    let settings: Vec<(&str, &str)> = E2E_SETTINGS
        .iter()
        .copied()
        .filter(|(k, _)| {
            !matches!(
                *k,
                "SPIN_VARIABLE_LOGIN_FAILURES_PER_ADDRESS"
                    | "SPIN_VARIABLE_REGISTRATIONS_PER_ADDRESS"
            )
        })
        .chain([
            ("SPIN_VARIABLE_LOGIN_FAILURES_PER_ADDRESS", "3"),
            ("SPIN_VARIABLE_REGISTRATIONS_PER_ADDRESS", "2"),
        ])
        .collect();
    let running = RunningApp::start("throttle-address", &settings).await;
    let app = TestApp::talking_to(&running);

    // Registrations: two from this address, then 429, whatever address the client claims.
    let user = app.customer().await;
    app.customer().await;
    let third = app
        .send(
            app.request(reqwest::Method::POST, "/api/v1/users/register", None)
                .header("spin-client-addr", "203.0.113.7:4000")
                .json(&json!({ "email": unique_email(), "password": "correct horse battery", "full_name": "Third" })),
        )
        .await;
    third.expect_error(429, "too_many_requests");
    retry_after(&third);

    // Failed logins for three accounts, each request claiming an address of its own, through
    // REST and through the GraphQL gateway: the runtime's address is the one counted.
    for n in 0..3 {
        let forged = format!("198.51.100.{n}:5000");
        let email = format!("nobody-{n}@e2e.test");
        if n % 2 == 0 {
            let res = graphql_log_in(&app, &email, &[("spin-client-addr", &forged)]).await;
            assert_eq!(graphql_code(&res), "invalid_credentials", "{}", res.text);
        } else {
            app.send(
                app.request(reqwest::Method::POST, "/api/v1/users/login", None)
                    .header("spin-client-addr", &forged)
                    .json(&json!({ "email": email, "password": "wrong password" })),
            )
            .await
            .expect_error(401, "invalid_credentials");
        }
    }
    let forged = graphql_log_in(
        &app,
        "nobody-3@e2e.test",
        &[("spin-client-addr", "192.0.2.1:1")],
    )
    .await;
    assert_eq!(
        graphql_code(&forged),
        "too_many_requests",
        "{}",
        forged.text
    );
    let throttled = log_in(&app, &user.email, &user.password).await;
    throttled.expect_error(429, "too_many_requests");
    retry_after(&throttled);
    running.restart_watch().assert_no_unexpected_restart();
}
