//! Limits of the contract: request bodies over 1 MiB are refused with 413 before they are
//! parsed, whether they declare their length or not, and nothing is written; failed logins are
//! throttled per account and per client address with 429 and `Retry-After`.

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
async fn failed_logins_from_one_address_are_throttled_across_accounts() {
    if own_app("throttles logins on an app of its own")
        .await
        .is_none()
    {
        return;
    }
    let settings: Vec<(&str, &str)> = E2E_SETTINGS
        .iter()
        .copied()
        .filter(|(k, _)| *k != "SPIN_VARIABLE_LOGIN_FAILURES_PER_ADDRESS")
        .chain([("SPIN_VARIABLE_LOGIN_FAILURES_PER_ADDRESS", "3")])
        .collect();
    let running = RunningApp::start("throttle-address", &settings).await;
    let app = TestApp::talking_to(&running);
    let user = app.customer().await;
    for n in 0..3 {
        log_in(&app, &format!("nobody-{n}@e2e.test"), "wrong password")
            .await
            .expect(401);
    }
    let throttled = log_in(&app, &user.email, &user.password).await;
    throttled.expect_error(429, "too_many_requests");
    retry_after(&throttled);
}
