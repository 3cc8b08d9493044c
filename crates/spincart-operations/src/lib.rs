//! # spincart-operations
//!
//! What operators use: `GET /health` ([`health`]), `GET /metrics` ([`metrics`]), the
//! maintenance sweep that re-drives what pub/sub lost and expires what lapsed
//! ([`maintenance`]), and the admin endpoints over sagas, the event store, dead letters and carts
//! ([`admin`]).

#![deny(unsafe_code)]

pub mod admin;
pub mod health;
pub mod maintenance;
pub mod metrics;

/// The platform, for this context's components (they depend on this crate only).
pub use spincart_platform as platform;
