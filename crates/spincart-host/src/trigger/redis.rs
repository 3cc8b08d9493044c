//! The Redis trigger: one subscription connection per address, `SUBSCRIBE` to every configured
//! channel, and for each message a fresh instance of every component on that channel (run
//! concurrently), calling `fermyon:spin/inbound-redis.handle-message`.
//!
//! As in Spin, the messages of one connection are handled one at a time and a failed handler's
//! message is dropped (logged). When the connection drops (or cannot be made at start), the
//! trigger ends with an error, as Spin's does, and `up` stops the whole process: a supervisor
//! (Kubernetes, or the test suite) starts it again. Under the lenient profile it reconnects with
//! backoff instead. Either way, messages published while it is away are lost, as with any
//! pub/sub subscriber, and the app's own sweep re-drives the work they carried.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;

use crate::runtime::{App, Handler};

/// Channels and their components, for one Redis address.
type Subscriptions = BTreeMap<String, Vec<String>>;

/// The Redis side of a running app.
pub struct RedisTrigger {
    app: Arc<App>,
    by_address: HashMap<String, Subscriptions>,
}

impl RedisTrigger {
    pub fn new(app: Arc<App>) -> anyhow::Result<RedisTrigger> {
        let resolver = &app.services.resolver;
        let default_address = match &app.manifest.redis_default_address {
            Some(expr) => Some(resolver.resolve_text(expr).with_context(|| {
                format!("failed to resolve redis trigger default address {expr:?}")
            })?),
            None => None,
        };
        let mut by_address: HashMap<String, Subscriptions> = HashMap::new();
        for trigger in &app.manifest.redis_triggers {
            let address = match &trigger.address {
                Some(expr) => resolver.resolve_text(expr).with_context(|| {
                    format!("failed to resolve redis trigger address {expr:?} for component {}", trigger.component)
                })?,
                None => default_address.clone().with_context(|| {
                    format!(
                        "component {}: no Redis address (set [application.trigger.redis] address or the trigger's address)",
                        trigger.component
                    )
                })?,
            };
            let channel = resolver.resolve_text(&trigger.channel).with_context(|| {
                format!(
                    "failed to resolve redis trigger channel {:?} for component {}",
                    trigger.channel, trigger.component
                )
            })?;
            let component = app.component(&trigger.component)?;
            if !matches!(component.handler, Handler::Redis(_)) {
                anyhow::bail!(
                    "component {:?} is used by a Redis trigger but does not export `fermyon:spin/inbound-redis`",
                    trigger.component
                );
            }
            by_address
                .entry(address)
                .or_default()
                .entry(channel)
                .or_default()
                .push(trigger.component.clone());
        }
        Ok(RedisTrigger { app, by_address })
    }

    pub fn is_empty(&self) -> bool {
        self.by_address.is_empty()
    }

    /// Runs every subscription. Strict profile (Spin's behaviour): returns the error of the
    /// first subscription that cannot connect or is disconnected. Lenient: reconnects for ever.
    pub async fn run(self: Arc<Self>) -> anyhow::Result<()> {
        let strict = self.app.services.profile.is_strict();
        let tasks: Vec<_> = self
            .by_address
            .iter()
            .map(|(address, subscriptions)| {
                let trigger = self.clone();
                let address = address.clone();
                let subscriptions = subscriptions.clone();
                tokio::spawn(async move {
                    if strict {
                        trigger
                            .subscribe_until_disconnected(address, subscriptions)
                            .await
                    } else {
                        trigger.subscribe_forever(address, subscriptions).await;
                        Ok(())
                    }
                })
            })
            .collect();
        if tasks.is_empty() {
            return std::future::pending().await;
        }
        let (ended, _, _) = futures::future::select_all(tasks).await;
        ended?
    }

    /// Like Spin: one subscription, and an error when it cannot start or ends.
    async fn subscribe_until_disconnected(
        &self,
        address: String,
        subscriptions: Subscriptions,
    ) -> anyhow::Result<()> {
        let addr = redis_display_address(&address);
        self.subscribe_once(&address, &addr, &subscriptions).await?;
        Err(anyhow::anyhow!("disconnected from {addr}"))
    }

    async fn subscribe_forever(&self, address: String, subscriptions: Subscriptions) {
        const FIRST_BACKOFF: Duration = Duration::from_millis(100);
        const MAX_BACKOFF: Duration = Duration::from_secs(5);
        let mut backoff = FIRST_BACKOFF;
        let addr = redis_display_address(&address);
        loop {
            match self.subscribe_once(&address, &addr, &subscriptions).await {
                Ok(()) => {
                    tracing::warn!("Redis trigger disconnected from {addr}; reconnecting");
                    backoff = FIRST_BACKOFF;
                }
                Err(e) => {
                    tracing::warn!(
                        "Redis trigger cannot subscribe on {addr}: {e:#}; retrying in {backoff:?}"
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Subscribes and handles messages until the connection ends (`Ok`) or fails to start.
    async fn subscribe_once(
        &self,
        address: &str,
        addr: &str,
        subscriptions: &Subscriptions,
    ) -> anyhow::Result<()> {
        let client = redis::Client::open(address).context("invalid Redis address")?;
        let mut pubsub = client
            .get_async_pubsub()
            .await
            .with_context(|| format!("Redis trigger failed to connect to {addr}"))?;
        // Printed as Spin prints it, a line per channel once subscribed.
        println!("Active Channels on {addr}:");
        for (channel, components) in subscriptions {
            pubsub.subscribe(channel).await.with_context(|| {
                format!("Redis trigger failed to subscribe to channel {channel:?} on {addr}")
            })?;
            println!("\t{addr}/{channel}: [{}]", components.join(","));
        }
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let channel = message.get_channel_name().to_owned();
            let Some(components) = subscriptions.get(&channel) else {
                tracing::error!("message from unexpected channel {channel:?}");
                continue;
            };
            let payload = message.get_payload_bytes().to_vec();
            let handlers = components
                .iter()
                .map(|component| self.dispatch_logged(component, &channel, &payload));
            futures::future::join_all(handlers).await;
        }
        Ok(())
    }

    async fn dispatch_logged(&self, component: &str, channel: &str, payload: &[u8]) {
        let started = Instant::now();
        let result = self.dispatch(component, payload).await;
        let elapsed = started.elapsed();
        match result {
            Ok(()) => tracing::info!(
                target: "spincart_host::message",
                "{component} message on {channel} -> ok in {elapsed:.2?}"
            ),
            Err(e) => tracing::warn!(
                target: "spincart_host::message",
                "{component} message on {channel} -> handler failed in {elapsed:.2?}: {e:#}"
            ),
        }
    }

    /// Runs `component`'s handler on `payload` in a fresh instance.
    pub async fn dispatch(&self, component: &str, payload: &[u8]) -> anyhow::Result<()> {
        dispatch(&self.app, component, payload).await
    }
}

/// Runs a Redis component's handler on `payload` in a fresh instance of `app`.
pub async fn dispatch(app: &App, component_id: &str, payload: &[u8]) -> anyhow::Result<()> {
    let component = app.component(component_id)?;
    let Handler::Redis(pre) = &component.handler else {
        anyhow::bail!("component {component_id:?} is not a Redis component");
    };
    let mut store = app.new_store(component);
    let handler = pre.instantiate_async(&mut store).await?;
    handler
        .fermyon_spin_inbound_redis()
        .call_handle_message(&mut store, &payload.to_vec())
        .await?
        .map_err(|e| anyhow::anyhow!("Redis handler returned an error ({e:?})"))
}

/// `host:port` of a Redis URL, without credentials.
fn redis_display_address(address: &str) -> String {
    match url::Url::parse(address) {
        Ok(url) => format!(
            "{}:{}",
            url.host_str().unwrap_or("?"),
            url.port().unwrap_or(6379)
        ),
        Err(_) => "<invalid address>".into(),
    }
}
