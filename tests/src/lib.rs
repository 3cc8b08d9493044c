//! # spincart-tests
//!
//! Support shared by spincart's test suites:
//!
//! * `tests/e2e` — the whole app over HTTP, started by the suite on the local host or on a real
//!   Spin binary (`SPINCART_RUNTIME`, see [`running_app`]), or any app already running
//!   (`SPINCART_BASE_URL`);
//! * `tests/components` — one component at a time through the host's per-function harness.
//!
//! Both run against the real PostgreSQL and Redis that `scripts/services.sh` starts (or the ones
//! named by `SPINCART_TEST_DB_URL` / `SPINCART_TEST_REDIS_URL`).

#![deny(unsafe_code)]

pub mod cpu;
pub mod invariants;
pub mod running_app;

pub use spincart_testkit::{eventually, host_port, not_applicable, skip, PrivateRedis};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository")
        .to_path_buf()
}

/// A database URL on the test server (any database; used to create others).
pub fn pg_url() -> String {
    std::env::var("SPINCART_TEST_DB_URL")
        .unwrap_or_else(|_| "postgres://spincart@127.0.0.1:15432/spincart".into())
}

/// The Redis of this test process: `SPINCART_TEST_REDIS_URL`, or a private redis-server
/// started on first use (so that no running app consumes what the tests publish).
pub fn redis_url() -> String {
    if let Ok(url) = std::env::var("SPINCART_TEST_REDIS_URL") {
        return url;
    }
    static REDIS: std::sync::OnceLock<std::sync::Mutex<PrivateRedis>> = std::sync::OnceLock::new();
    REDIS
        .get_or_init(|| std::sync::Mutex::new(PrivateRedis::start()))
        .lock()
        .unwrap()
        .url()
}

fn with_database(url: &str, name: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a database URL");
    format!("{base}/{name}")
}

async fn admin_client() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&pg_url(), tokio_postgres::NoTls)
        .await
        .expect("the test PostgreSQL is running (scripts/services.sh start)");
    tokio::spawn(connection);
    client
}

fn migrations_checksum() -> String {
    let dir = repo_root().join("migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut hasher = Sha256::new();
    for f in files {
        hasher.update(f.file_name().unwrap().as_encoded_bytes());
        hasher.update(std::fs::read(&f).unwrap());
    }
    hasher.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// A migrated template database for the current migrations (built once, reused across runs).
async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("spincart_tpl_{}", migrations_checksum());
            let admin = admin_client().await;
            let exists = admin
                .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
                .await
                .unwrap()
                .is_some();
            if !exists {
                let building =
                    format!("{name}_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
                admin
                    .batch_execute(&format!("CREATE DATABASE {building}"))
                    .await
                    .unwrap();
                spincart_host::migrate::migrate(
                    &with_database(&pg_url(), &building),
                    &repo_root().join("migrations"),
                )
                .await
                .expect("migrations apply to a fresh database");
                // Another process may have built it meanwhile: then ours is dropped.
                if admin
                    .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}"))
                    .await
                    .is_err()
                {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE {building}"))
                        .await;
                }
            }
            name
        })
        .await
}

/// A fresh, migrated database of its own; returns its URL.
pub async fn fresh_database() -> String {
    let template = template().await;
    let name = format!("spincart_t_{}", uuid::Uuid::new_v4().simple());
    let admin = admin_client().await;
    // CREATE DATABASE ... TEMPLATE refuses while another clone is being made from the template:
    // retry briefly.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
        {
            Ok(()) => break,
            Err(e) if Instant::now() < deadline && e.to_string().contains("being accessed") => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("creating test database {name}: {e}"),
        }
    }
    with_database(&pg_url(), &name)
}

/// A direct connection to a test database, for assertions on what was stored.
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connecting to the test database");
    tokio::spawn(connection);
    client
}

/// The host binary built by `make build`.
pub fn host_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let path = target.join("release/spincart-host");
    assert!(
        Path::new(&path).exists(),
        "{path:?} is missing: run `make build`"
    );
    path
}
