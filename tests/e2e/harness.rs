//! The suite's own safeguards, checked like everything else: an app that stops answering fails
//! the test waiting on it (within its deadline) instead of hanging the suite.

use std::time::{Duration, Instant};

use crate::helpers::TestApp;

#[tokio::test]
async fn an_app_that_never_answers_fails_the_request_within_its_deadline() {
    // Accepts connections and never says a word, as a hung app would.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let mut silent = TestApp::at(&format!("http://{address}"));
    silent.request_timeout = Duration::from_millis(500);
    let started = Instant::now();
    let outcome = tokio::spawn(async move { silent.get("/health", None).await.status }).await;
    let message = *outcome
        .expect_err("no answer is a failure")
        .into_panic()
        .downcast::<String>()
        .unwrap();
    assert!(message.contains("the app did not answer"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "failed after {:?}",
        started.elapsed()
    );
}
