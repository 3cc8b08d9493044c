//! # spincart-platform
//!
//! What every spincart component stands on, over spin-sdk's Postgres, Redis and variables:
//!
//! * [`db`] — connections, transactions that always end, typed row access;
//! * [`events`] — the event store, publishing after commit, idempotent consumers, dead letters;
//! * [`http`] — the API conventions: errors, JSON parsing, methods, auth, paging;
//! * [`idempotency`] — the `Idempotency-Key` rules;
//! * one module per bounded context with its queries and use cases.
//!
//! A component is one entry function that hands its request or message to this crate:
//!
//! ```no_run
//! use spin_sdk::http::{Request, Response};
//! use spincart_platform::http::{serve, Endpoint};
//!
//! #[spin_sdk::http_component]
//! fn handle(request: Request) -> Response {
//!     serve(request, &[Endpoint::get(spincart_platform::health::check)])
//! }
//! # fn main() {}
//! ```

#![deny(unsafe_code)]

pub mod admin;
pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod config;
pub mod db;
pub mod events;
pub mod health;
pub mod http;
pub mod idempotency;
pub mod identity;
pub mod inventory;
pub mod maintenance;
pub mod metrics;
pub mod orders;
pub mod payments;

/// The consumer names and subscriptions of [`spincart_domain::events::consumers`].
pub use spincart_domain::events::consumers;
