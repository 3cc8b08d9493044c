//! Per-component testing: load one component from `spin.toml` and invoke it directly, against
//! real Postgres and Redis, without starting the whole app.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use spincart_host::harness::TestComponent;
//!
//! let health = TestComponent::load("spin.toml", "health")
//!     .variable("db_url", "postgres://spincart@127.0.0.1:15432/spincart")
//!     .start()
//!     .await?;
//! let response = health.get("/health").await?;
//! assert_eq!(response.status(), 200);
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use crate::manifest::AppManifest;
use crate::runtime::{App, HostOptions};
use crate::trigger::http::HttpTrigger;
use crate::variables::Provider;

/// Builder for a [`TestComponent`].
pub struct TestComponentBuilder {
    manifest: PathBuf,
    component: String,
    variables: HashMap<String, String>,
}

impl TestComponentBuilder {
    /// Sets an app variable (overrides `SPIN_VARIABLE_*` and the manifest default).
    pub fn variable(mut self, name: &str, value: &str) -> Self {
        self.variables.insert(name.to_owned(), value.to_owned());
        self
    }

    pub async fn start(self) -> anyhow::Result<TestComponent> {
        let manifest = AppManifest::from_file(&self.manifest)?;
        let options = HostOptions {
            provider: Provider::Fixed(self.variables, Box::new(Provider::environment())),
            pg_pool_size: 8,
            ..HostOptions::default()
        };
        let app = Arc::new(
            App::load_components(manifest, std::slice::from_ref(&self.component), options).await?,
        );
        let http = HttpTrigger::new(app.clone())?;
        Ok(TestComponent {
            app,
            http,
            id: self.component,
        })
    }
}

/// One loaded component.
pub struct TestComponent {
    app: Arc<App>,
    http: HttpTrigger,
    id: String,
}

impl TestComponent {
    /// Starts building a harness for component `id` of the manifest at `manifest`.
    pub fn load(manifest: impl Into<PathBuf>, id: &str) -> TestComponentBuilder {
        TestComponentBuilder {
            manifest: manifest.into(),
            component: id.to_owned(),
            variables: HashMap::new(),
        }
    }

    /// Sends an HTTP request through the component's route(s) and collects the response.
    pub async fn request(
        &self,
        request: http::Request<Bytes>,
    ) -> anyhow::Result<http::Response<Bytes>> {
        let (mut parts, body) = request.into_parts();
        if !parts.headers.contains_key(http::header::HOST) {
            parts.headers.insert(
                http::header::HOST,
                http::HeaderValue::from_static("localhost"),
            );
        }
        let body = Full::new(body).map_err(|never| -> wasmtime_wasi_http::Error { match never {} });
        let request = http::Request::from_parts(parts, body);
        let client: SocketAddr = "127.0.0.1:1".parse().expect("valid address");
        let response = self.http.handle(request, client).await?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("reading the response body: {e:?}"))?
            .to_bytes();
        Ok(http::Response::from_parts(parts, body))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> anyhow::Result<http::Response<Bytes>> {
        self.request(http::Request::get(path).body(Bytes::new())?)
            .await
    }

    /// Delivers a Redis message to the component, as its trigger would.
    pub async fn message(&self, payload: &[u8]) -> anyhow::Result<()> {
        crate::trigger::redis::dispatch(&self.app, &self.id, payload)
            .await
            .with_context(|| format!("component {:?}", self.id))
    }
}
