//! Per-component tests: each loads one component from spin.toml through the host's harness
//! and invokes it directly — an HTTP request in, the response out; a Redis message in, the
//! result out — against real PostgreSQL and Redis, with a fresh database per test.

mod admin;
mod architecture;
mod carts;
mod catalog;
mod health;
mod identity;
mod inventory;
mod maintenance;
mod manifest;
mod saga;
mod support;
