//! The storefront in a real browser: the Playwright tests of `storefront/tests` (the shopper's
//! journey with a shipping address, a declined card, an address the carrier rejects, the admin
//! console, a customer kept out of it) in Debian's
//! Chromium, against an app of their own on the runtime under test. Screenshots of a failure go
//! to `target/playwright/`, the deliberate ones (catalog, cart, live order, saga monitor) to
//! `target/screenshots/`.

use spincart_tests::running_app::{RunningApp, ADMIN_PASSWORD};

use crate::helpers::own_app;

#[tokio::test]
async fn the_storefront_passes_its_browser_tests_in_chromium() {
    if own_app("runs the browser tests on an app of its own")
        .await
        .is_none()
    {
        return;
    }
    // The saga's own step deadline (30 s): the admin test re-drives a saga while it waits.
    let running = RunningApp::start(
        "browser",
        &[
            ("SPIN_VARIABLE_LOGIN_FAILURES_PER_ADDRESS", "100000"),
            ("SPIN_VARIABLE_REGISTRATIONS_PER_ADDRESS", "100000"),
            ("SPIN_VARIABLE_GRAPHQL_EXPLORER", "true"),
        ],
    )
    .await;
    // The explorer, turned on here: its page may run only its pinned scripts.
    let explorer = reqwest::Client::new()
        .get(format!("{}/graphql", running.base_url))
        .header("accept", "text/html")
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    assert_eq!(explorer.status(), 200);
    let policy = explorer.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("script-src https://unpkg.com 'sha256-"),
        "{policy}"
    );
    assert!(explorer
        .text()
        .await
        .unwrap()
        .contains("integrity=\"sha384-"));
    let root = spincart_tests::repo_root();
    let output = tokio::process::Command::new(root.join("scripts/storefront.sh"))
        .arg("test")
        .arg(&running.base_url)
        .env("SPINCART_ADMIN_EMAIL", &running.admin_email)
        .env("SPINCART_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .current_dir(&root)
        .output()
        .await
        .expect("scripts/storefront.sh runs");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{printed}");
    assert!(
        output.status.success(),
        "the browser tests failed on {} (screenshots and traces in target/playwright/; the \
         app's log: {}):\n{printed}",
        running.runtime.label(),
        running.log_path.display()
    );
    assert!(
        printed.contains("5 passed"),
        "all five browser tests ran:\n{printed}"
    );
}
