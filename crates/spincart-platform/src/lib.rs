//! # spincart-platform
//!
//! The infrastructure every context stands on, over spin-sdk's Postgres, Redis and variables —
//! and nothing about any one context:
//!
//! * [`db`] — connections, transactions that always end, typed row access, and the zero-row
//!   guard real Spin 4.0.2 needs (spinframework/spin#3671);
//! * [`events`] — the event store and outbox, publishing after commit, idempotent consumers,
//!   failed deliveries and dead letters;
//! * [`http`] — the API conventions: serving a route's methods, JSON parsing, auth, paging,
//!   limits;
//! * [`reply`] — what an endpoint answers: a reply, or an error in the contract's shape;
//! * [`idempotency`] — the `Idempotency-Key` rules;
//! * [`metrics`] — counters and histograms buffered per request and flushed to Redis in one
//!   command at its end, rendered by `GET /metrics`;
//! * [`redis`] — the request's one Redis connection, shared by publishing, metrics, the cache
//!   and the throttles;
//! * [`config`] — the component's Spin variables.
//!
//! Each context crate (`spincart-identity`, `spincart-cart`, …) re-exports this crate as
//! `platform`, so a component depends on its context crate only:
//!
//! ```no_run
//! use spin_sdk::http::{IncomingRequest, Response};
//! use spincart_platform::http::{serve, Endpoint, Reply};
//!
//! #[spin_sdk::http_component]
//! async fn handle(request: IncomingRequest) -> Response {
//!     serve(request, &[Endpoint::get(|_ctx| Ok(Reply::json(200, &"hello")))]).await
//! }
//! # fn main() {}
//! ```

#![deny(unsafe_code)]

pub mod config;
pub mod db;
pub mod events;
pub mod http;
pub mod idempotency;
pub mod metrics;
pub mod redis;
pub mod reply;

/// The consumer names and subscriptions of [`spincart_domain::events::consumers`].
pub use spincart_domain::events::consumers;
