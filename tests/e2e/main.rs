//! End-to-end tests: the whole app over HTTP, with real PostgreSQL and Redis.
//!
//! `cargo test -p spincart-tests --test e2e` starts the local host itself; set
//! `SPINCART_BASE_URL` to run the same tests against an app that is already running (for
//! example a real `spin up`).

mod browser;
mod carts;
mod catalog;
mod checkout;
mod concurrency;
mod contract;
mod faults;
mod graphql;
mod health;
mod helpers;
mod identity;
mod inventory;
mod limits;
mod metrics;
mod shipping;
mod statements;
mod storefront_files;
mod telemetry;
