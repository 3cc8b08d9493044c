//! Helpers for the host tests: the test guests, a manifest written inline, and a host serving
//! it on a free port against the real PostgreSQL and Redis started by `scripts/services.sh`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use spincart_host::key_value::StateDir;
use spincart_host::profile::Profile;
use spincart_host::runtime::{App, HostOptions};
use spincart_host::trigger::http::HttpTrigger;
use spincart_host::trigger::redis::RedisTrigger;
use spincart_host::variables::Provider;

pub fn pg_url() -> String {
    std::env::var("SPINCART_TEST_DB_URL")
        .unwrap_or_else(|_| "postgres://spincart@127.0.0.1:15432/spincart".into())
}

pub fn redis_url() -> String {
    std::env::var("SPINCART_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:16379".into())
}

pub use spincart_testkit::{eventually, host_port};

/// The built wasm of a test guest (`make build` builds them).
pub fn guest(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/wasm32-wasip1/release")
        .join(format!("{}.wasm", name.replace('-', "_")));
    assert!(path.exists(), "{path:?} is missing: run `make build` first");
    path.canonicalize().unwrap().display().to_string()
}

/// A host serving a manifest on a free port.
pub struct TestHost {
    pub base_url: String,
    pub app: Arc<App>,
    /// The Redis trigger, when the manifest has one: it ends (with Spin's error) when Redis goes
    /// away under the strict profile.
    pub redis_trigger: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    dir: PathBuf,
}

impl TestHost {
    /// Writes `manifest` (with `{probe-http}`-style placeholders replaced by guest paths) and
    /// serves it with the given variable values, under the strict profile (as every test does
    /// unless it compares profiles).
    pub async fn start(manifest: &str, variables: &[(&str, &str)]) -> TestHost {
        Self::start_with(manifest, variables, Profile::Strict).await
    }

    /// [`TestHost::start`] under the given profile.
    pub async fn start_with(
        manifest: &str,
        variables: &[(&str, &str)],
        profile: Profile,
    ) -> TestHost {
        Self::launch(manifest, variables, profile, StateDir::default()).await
    }

    /// [`TestHost::start`] with the given state directory (`spincart-host up --state-dir`).
    pub async fn start_with_state_dir(manifest: &str, state_dir: StateDir) -> TestHost {
        Self::launch(manifest, &[], Profile::Strict, state_dir).await
    }

    /// [`TestHost::start`] with `files` (relative path, content) written next to the manifest
    /// first, for components' `files` mounts.
    pub async fn start_with_files(manifest: &str, files: &[(&str, &str)]) -> TestHost {
        let dir = write_manifest(manifest);
        for (path, content) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        Self::serve(dir, options(&[], Profile::Strict)).await
    }

    /// Loads `manifest` as [`TestHost::start`] would, without serving it: the load error, if any.
    pub async fn load_error(manifest: &str) -> Option<anyhow::Error> {
        let dir = write_manifest(manifest);
        let loaded = App::load(&dir.join("spin.toml"), &[], options(&[], Profile::Strict)).await;
        let _ = std::fs::remove_dir_all(&dir);
        loaded.err()
    }

    async fn launch(
        manifest: &str,
        variables: &[(&str, &str)],
        profile: Profile,
        state_dir: StateDir,
    ) -> TestHost {
        let dir = write_manifest(manifest);
        let options = HostOptions {
            state_dir,
            ..options(variables, profile)
        };
        Self::serve(dir, options).await
    }

    /// Loads and serves the `spin.toml` in `dir`.
    async fn serve(dir: PathBuf, options: HostOptions) -> TestHost {
        let app = Arc::new(
            App::load(&dir.join("spin.toml"), &[], options)
                .await
                .expect("the app loads"),
        );
        let http = Arc::new(HttpTrigger::new(app.clone()).unwrap());
        let redis = Arc::new(RedisTrigger::new(app.clone()).unwrap());
        let redis_trigger = (!redis.is_empty()).then(|| tokio::spawn(redis.run()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(http.serve(listener, std::future::pending()));
        TestHost {
            base_url,
            app,
            redis_trigger,
            dir,
        }
    }

    /// The directory holding the manifest (and, by default, the app's `.spin/` state).
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(format!("{}{path}", self.base_url))
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> serde_json::Value {
        let response = reqwest::Client::new()
            .post(format!("{}{path}", self.base_url))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "POST {path}");
        response.json().await.unwrap()
    }
}

/// Writes `manifest`, with `{probe-http}`-style placeholders replaced by guest paths, as
/// `spin.toml` in a fresh directory.
fn write_manifest(manifest: &str) -> PathBuf {
    let manifest = manifest
        .replace("{probe-http}", &guest("probe-http"))
        .replace("{probe-redis}", &guest("probe-redis"));
    let dir = std::env::temp_dir().join(format!("spincart-host-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("spin.toml"), manifest).unwrap();
    dir
}

fn options(variables: &[(&str, &str)], profile: Profile) -> HostOptions {
    let values: HashMap<String, String> = variables
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    HostOptions {
        provider: Provider::Fixed(values, Box::new(Provider::environment())),
        pg_pool_size: 4,
        profile,
        ..HostOptions::default()
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
