//! # spincart-host
//!
//! A Spin-compatible local host built on wasmtime. It runs a Spin manifest (`spin.toml`, version
//! 2) and the very same `.wasm` files that `spin up` would run:
//!
//! * the HTTP trigger, with Spin's routing, request headers, 404/500 behaviour and
//!   `/.well-known/spin/health`;
//! * the Redis trigger (`fermyon:spin/inbound-redis`), exiting when Redis goes away as Spin
//!   does (the [`profile::Profile::Strict`] default, which copies real Spin 4.0.2's rough edges);
//! * Spin's host interfaces for spin-sdk 5.2.0 components: `spin:postgres/postgres@4.0.0` and
//!   `@3.0.0`, `fermyon:spin/postgres@2.0.0`, `fermyon:spin/redis@2.0.0`,
//!   `fermyon:spin/key-value@2.0.0`, `fermyon:spin/variables@2.0.0`, WASI 0.2 and outgoing
//!   HTTP — bound from the WIT files inside the spin-sdk crate;
//! * key-value stores as `spin up` has them: the `"default"` store in SQLite in the app's state
//!   directory (`.spin/` next to `spin.toml`, or `--state-dir`), see [`key_value`];
//! * `allowed_outbound_hosts`, variables and their templates, as Spin enforces and resolves them;
//! * a component's `files` (and `exclude_files`), copied at start-up and mounted read-only at
//!   `/`, as `spin up` does, see [`files`].
//!
//! ```text
//! spincart-host up --manifest spin.toml --listen 127.0.0.1:3000
//! ```
//!
//! [`harness::TestComponent`] loads a single component for per-function tests, and
//! [`migrate::migrate`] applies the app's SQL migrations.

#![deny(unsafe_code)]

pub mod allowed_hosts;
pub mod componentize;
pub mod files;
pub mod harness;
pub mod host;
pub mod key_value;
pub mod manifest;
pub mod migrate;
pub mod profile;
pub mod router;
pub mod runtime;
pub mod schedule;
pub mod trigger;
pub mod up;
pub mod variables;

/// Bindings generated from spin-sdk 5.2.0's WIT (see `build.rs`).
#[allow(unsafe_code, clippy::all)]
pub mod bindings {
    include!(concat!(env!("OUT_DIR"), "/spin_bindings.rs"));
}
