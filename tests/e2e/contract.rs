//! The contract, checked from the outside: schemathesis (PyPI) generates requests from
//! `openapi.yaml` — valid and invalid ones, and sequences that follow the API's links — against
//! an app of its own, with every check (status codes, headers, content types, response schemas,
//! auth, negative data rejected, positive data accepted, 405s with `Allow`), and any finding
//! fails the test. `make test` installs the pinned schemathesis into `target/venv`.
//!
//! The answers allowed for schema-valid requests that depend on state are listed, with why, in
//! `tests/schemathesis/schemathesis.toml`; a 400 is not among them, so every rule the server
//! checks on its input has to be written in `openapi.yaml`.

use std::path::PathBuf;
use std::process::Command;

use spincart_tests::repo_root;
use spincart_tests::running_app::RunningApp;

use crate::helpers::{own_app, TestApp, E2E_SETTINGS};

/// The `st` command: `SPINCART_SCHEMATHESIS`, or the one `make test` installs.
fn schemathesis() -> PathBuf {
    let path = std::env::var_os("SPINCART_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/venv/bin/st"));
    assert!(
        path.exists(),
        "{path:?} is missing: `make test` installs schemathesis (scripts/test.sh), or set SPINCART_SCHEMATHESIS"
    );
    path
}

#[tokio::test]
async fn schemathesis_finds_nothing_with_every_check() {
    if own_app("runs schemathesis on an app of its own")
        .await
        .is_none()
    {
        return;
    }
    let st = schemathesis();
    // Its generated logins must not lock the admin out: both login limits are lifted here (the
    // throttle has tests of its own).
    let settings: Vec<(&str, &str)> = E2E_SETTINGS
        .iter()
        .copied()
        .filter(|(k, _)| !k.starts_with("SPIN_VARIABLE_LOGIN_"))
        .chain([
            ("SPIN_VARIABLE_LOGIN_FAILURES_PER_ACCOUNT", "1000000"),
            ("SPIN_VARIABLE_LOGIN_FAILURES_PER_ADDRESS", "1000000"),
            ("SPIN_VARIABLE_REGISTRATIONS_PER_ADDRESS", "1000000"),
        ])
        .collect();
    let running = RunningApp::start("contract", &settings).await;
    let app = TestApp::talking_to(&running);
    let admin = app.admin().await.token.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(st)
            .arg("--no-color")
            .arg("--config-file")
            .arg(repo_root().join("tests/schemathesis/schemathesis.toml"))
            .arg("run")
            .arg(repo_root().join("openapi.yaml"))
            .args(["--url", &running.base_url])
            .args(["--checks", "all"])
            .args(["--header", &format!("Authorization: Bearer {admin}")])
            .args(["--max-examples", "50", "--seed", "1"])
            // One worker: Python 3.11's `ast` is not thread-safe, and hypothesis uses it to
            // describe its strategies (seen as "AST constructor recursion depth mismatch").
            .args(["--workers", "1"])
            .current_dir(repo_root().join("target"))
            .output()
            .expect("schemathesis runs")
    })
    .await
    .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let tail: Vec<&str> = report.lines().rev().take(300).collect();
    assert!(
        output.status.success(),
        "schemathesis found something:\n{}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    assert!(report.contains(" passed"), "{report}");
}
