//! End-to-end tests: the whole app over HTTP, with real PostgreSQL and Redis.
//!
//! `cargo test -p spincart-tests --test e2e` starts the app itself, on the local host or on the
//! real Spin that `SPINCART_RUNTIME` names; set `SPINCART_BASE_URL` to run the same tests
//! against an app that is already running (tests that need more of it than HTTP are then
//! skipped, loudly: see `helpers.rs`).

mod browser;
mod carts;
mod catalog;
mod checkout;
mod concurrency;
mod contract;
mod faults;
mod graphql;
mod harness;
mod health;
mod helpers;
mod identity;
mod inventory;
mod limits;
mod metrics;
mod security;
mod shipping;
mod statements;
mod storefront_files;
mod telemetry;
