//! Loading an application: compile each component once, link Spin's host interfaces, and keep an
//! `InstancePre` so that every request and every message gets a fresh instance cheaply.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use anyhow::{bail, Context};
use wasmtime::component::{Component, HasSelf, InstancePre, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::allowed_hosts::AllowedHosts;
use crate::bindings::{imports, redis_handler::RedisHandlerPre};
use crate::files::MountedFiles;
use crate::host::{http_outbound::OutboundHttp, key_value, postgres, redis};
use crate::key_value::{KeyValueStores, StateDir};
use crate::manifest::AppManifest;
use crate::variables::{Provider, Resolver};

/// How the host is set up; the defaults are what `spincart-host up` uses.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// Where variable values come from (environment by default).
    pub provider: Provider,
    /// Cache compiled components on disk (wasmtime's cache, `~/.cache/wasmtime`).
    pub compilation_cache: bool,
    /// Use wasmtime's pooling allocator for faster instantiation.
    pub pooling: bool,
    /// Maximum pooled Postgres connections per pool (Spin uses 64).
    pub pg_pool_size: usize,
    /// How closely to copy real Spin 4.0.2 (strict by default).
    pub profile: crate::profile::Profile,
    /// Where the app keeps its state, e.g. the default key-value store (Spin's `--state-dir`).
    pub state_dir: StateDir,
}

impl Default for HostOptions {
    fn default() -> Self {
        Self {
            provider: Provider::environment(),
            compilation_cache: true,
            pooling: true,
            pg_pool_size: 64,
            profile: crate::profile::Profile::Strict,
            state_dir: StateDir::default(),
        }
    }
}

/// What every instance of the app shares: variables, database pools, key-value stores.
pub struct Services {
    pub resolver: Resolver,
    pub pg: postgres::PgPools,
    pub key_value: KeyValueStores,
    pub profile: crate::profile::Profile,
}

/// A component's configuration from the manifest, resolved once at load.
#[derive(Debug)]
pub struct ComponentConfig {
    pub id: String,
    pub environment: Vec<(String, String)>,
    /// The resolved `allowed_outbound_hosts`, or why they could not be resolved (then every
    /// outbound connection of the component fails, as in Spin).
    pub allowed_hosts: Result<AllowedHosts, String>,
    /// The key-value store labels the component may open (`key_value_stores`).
    pub key_value_stores: HashSet<String>,
    /// The copy of the component's `files`, mounted read-only at `/` in every instance.
    pub files: Option<PathBuf>,
}

/// What a loaded component can be triggered by.
pub enum Handler {
    Http(ProxyPre<HostState>),
    Redis(RedisHandlerPre<HostState>),
}

/// A compiled, linked component ready to be instantiated.
pub struct LoadedComponent {
    pub config: Arc<ComponentConfig>,
    pub handler: Handler,
}

/// A loaded application.
pub struct App {
    pub manifest: AppManifest,
    pub engine: Engine,
    pub services: Arc<Services>,
    pub components: HashMap<String, Arc<LoadedComponent>>,
    /// The components' `files`, copied at load; removed when the app is dropped.
    _files: Option<MountedFiles>,
}

impl App {
    /// Loads every component that a trigger of the manifest refers to; with `only` not empty,
    /// just those components and their triggers (Spin's `--component-id`).
    pub async fn load(
        manifest_path: &Path,
        only: &[String],
        options: HostOptions,
    ) -> anyhow::Result<App> {
        let mut manifest = AppManifest::from_file(manifest_path)?;
        manifest.retain_components(only)?;
        let ids: Vec<String> = manifest
            .http_triggers
            .iter()
            .map(|t| t.component.clone())
            .chain(manifest.redis_triggers.iter().map(|t| t.component.clone()))
            .collect();
        Self::load_components(manifest, &ids, options).await
    }

    /// Loads only the named components (the per-component test harness).
    pub async fn load_components(
        manifest: AppManifest,
        ids: &[String],
        options: HostOptions,
    ) -> anyhow::Result<App> {
        let engine = new_engine(&options)?;
        let resolver = Resolver::new(&manifest, options.provider.clone())?;
        let key_value = key_value_stores(&manifest, &options.state_dir)?;
        let services = Arc::new(Services {
            resolver,
            pg: postgres::PgPools::new(options.pg_pool_size, options.profile),
            key_value,
            profile: options.profile,
        });
        let linker = new_linker(&engine)?;
        let files = MountedFiles::prepare(&manifest, ids)?;

        let mut components = HashMap::new();
        // Components with the same source (a saga consumer's shards) share one compilation;
        // each still gets its own configuration, pools and instances.
        let mut compiled: HashMap<PathBuf, Component> = HashMap::new();
        for id in ids {
            if components.contains_key(id) {
                continue;
            }
            let started = Instant::now();
            let path = manifest.component_source_path(id)?;
            let component = match compiled.get(&path) {
                Some(component) => component.clone(),
                None => {
                    let component = compile(&engine, &path).with_context(|| {
                        format!("failed to load component {id:?} from {path:?}")
                    })?;
                    compiled.insert(path.clone(), component.clone());
                    component
                }
            };
            let pre = linker
                .instantiate_pre(&component)
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!("component {id:?} imports something this host does not provide")
                })?;
            let handler = handler_for(id, pre)?;
            let mut config = component_config(&manifest, &services.resolver, id)?;
            config.files = files
                .as_ref()
                .and_then(|f| f.dir(id))
                .map(Path::to_path_buf);
            tracing::debug!(component = %id, elapsed = ?started.elapsed(), "component ready");
            components.insert(
                id.clone(),
                Arc::new(LoadedComponent {
                    config: Arc::new(config),
                    handler,
                }),
            );
        }
        Ok(App {
            manifest,
            engine,
            services,
            components,
            _files: files,
        })
    }

    /// A fresh store for one request or message to `component`.
    pub fn new_store(&self, component: &LoadedComponent) -> Store<HostState> {
        new_store(&self.engine, &self.services, &component.config)
    }

    pub fn component(&self, id: &str) -> anyhow::Result<&Arc<LoadedComponent>> {
        self.components
            .get(id)
            .with_context(|| format!("no such component {id:?}"))
    }
}

/// The app's key-value stores. Like Spin, every label a component lists must be a defined store
/// or the app does not start. The state directory is only made when a component uses a store.
fn key_value_stores(
    manifest: &AppManifest,
    state_dir: &StateDir,
) -> anyhow::Result<KeyValueStores> {
    let used = manifest
        .components
        .values()
        .any(|c| !c.key_value_stores.is_empty());
    let stores = if used {
        let dir = state_dir
            .resolve(&manifest.dir)
            .context("cannot resolve the state directory")?;
        KeyValueStores::new(dir.as_deref())?
    } else {
        KeyValueStores::in_memory()
    };
    stores.check_labels(manifest)?;
    Ok(stores)
}

fn new_engine(options: &HostOptions) -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    if options.compilation_cache {
        match wasmtime::Cache::new(wasmtime::CacheConfig::new()) {
            Ok(cache) => {
                config.cache(Some(cache));
            }
            Err(e) => tracing::warn!("compilation cache disabled: {e:#}"),
        }
    }
    if options.pooling {
        let mut pooling = wasmtime::PoolingAllocationConfig::default();
        pooling.total_component_instances(1000);
        pooling.total_memories(1000);
        pooling.total_tables(2000);
        pooling.total_core_instances(5000);
        pooling.max_memory_size(64 << 20);
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pooling));
    }
    Ok(Engine::new(&config)?)
}

fn compile(engine: &Engine, path: &PathBuf) -> anyhow::Result<Component> {
    let bytes = std::fs::read(path).with_context(|| {
        format!("cannot read {path:?}; build the components first (`make build`)")
    })?;
    let component = crate::componentize::componentize_if_necessary(&bytes)
        .with_context(|| format!("failed to componentize {path:?}"))?;
    Ok(Component::new(engine, &component)?)
}

fn new_linker(engine: &Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    imports::Imports::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    Ok(linker)
}

fn handler_for(id: &str, pre: InstancePre<HostState>) -> anyhow::Result<Handler> {
    let http = ProxyPre::new(pre.clone()).ok();
    let redis = RedisHandlerPre::new(pre).ok();
    match (http, redis) {
        (Some(http), None) => Ok(Handler::Http(http)),
        (None, Some(redis)) => Ok(Handler::Redis(redis)),
        (Some(_), Some(_)) => bail!("component {id:?} exports both an HTTP and a Redis handler"),
        (None, None) => bail!(
            "component {id:?} exports neither `wasi:http/incoming-handler@0.2.*` nor `fermyon:spin/inbound-redis`"
        ),
    }
}

fn component_config(
    manifest: &AppManifest,
    resolver: &Resolver,
    id: &str,
) -> anyhow::Result<ComponentConfig> {
    let component = &manifest.components[id];
    // Literal entries must parse at load time, like Spin; templates are checked once resolved.
    let mut entries = Vec::new();
    let mut unresolved = None;
    for entry in &component.allowed_outbound_hosts {
        match resolver.resolve_text(entry) {
            Ok(text) => entries.push(text),
            Err(e) => unresolved = Some(e.to_string()),
        }
    }
    let allowed_hosts = match unresolved {
        Some(e) => Err(e),
        None => Ok(AllowedHosts::parse(&entries)
            .with_context(|| format!("component {id:?}: invalid allowed_outbound_hosts"))?),
    };
    Ok(ComponentConfig {
        id: id.to_owned(),
        environment: component
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        allowed_hosts,
        key_value_stores: component.key_value_stores.iter().cloned().collect(),
        files: None,
    })
}

fn new_store(
    engine: &Engine,
    services: &Arc<Services>,
    config: &Arc<ComponentConfig>,
) -> Store<HostState> {
    let mut wasi = WasiCtx::builder();
    wasi.envs(&config.environment)
        .stdout(ComponentOutput::stdout(&config.id))
        .stderr(ComponentOutput::stderr(&config.id));
    if let Some(files) = &config.files {
        // Read-only, as Spin without `--allow-transient-write`. The directory was made at load
        // and lives as long as the app, so opening it cannot fail short of outside interference.
        if let Err(e) = wasi.preopened_dir(files, "/", FsPerms::ReadOnly) {
            tracing::error!(component = %config.id, "cannot mount the component's files: {e:#}");
        }
    }
    Store::new(
        engine,
        HostState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            outbound_http: OutboundHttp::new(config.clone()),
            component: config.clone(),
            services: services.clone(),
            pg: postgres::PgConnections::default(),
            redis: redis::RedisConnections::default(),
            key_value: key_value::OpenStores::default(),
        },
    )
}

/// The data of one instance's store.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    outbound_http: OutboundHttp,
    pub(crate) component: Arc<ComponentConfig>,
    pub(crate) services: Arc<Services>,
    pub(crate) pg: postgres::PgConnections,
    pub(crate) redis: redis::RedisConnections,
    pub(crate) key_value: key_value::OpenStores,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound_http,
        }
    }
}

/// A component's stdout or stderr: each line goes to the host's own stream, prefixed with the
/// component id, so that concurrent instances do not interleave mid-line.
#[derive(Clone)]
struct ComponentOutput {
    prefix: Arc<str>,
    to_stderr: bool,
}

impl ComponentOutput {
    fn stdout(id: &str) -> Self {
        Self {
            prefix: format!("[{id}] ").into(),
            to_stderr: false,
        }
    }

    fn stderr(id: &str) -> Self {
        Self {
            prefix: format!("[{id}] ").into(),
            to_stderr: true,
        }
    }
}

impl IsTerminal for ComponentOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for ComponentOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(LineWriter {
            output: self.clone(),
            pending: Vec::new(),
        })
    }
}

struct LineWriter {
    output: ComponentOutput,
    pending: Vec<u8>,
}

impl LineWriter {
    fn emit(&self, line: &[u8]) {
        let mut text = Vec::with_capacity(self.output.prefix.len() + line.len() + 1);
        text.extend_from_slice(self.output.prefix.as_bytes());
        text.extend_from_slice(line);
        text.push(b'\n');
        let _ = if self.output.to_stderr {
            std::io::stderr().lock().write_all(&text)
        } else {
            std::io::stdout().lock().write_all(&text)
        };
    }
}

impl tokio::io::AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.pending.extend_from_slice(buf);
        while let Some(newline) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=newline).collect();
            self.emit(&line[..line.len() - 1]);
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line);
        }
    }
}
