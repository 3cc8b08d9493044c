//! # spincart-domain
//!
//! The business rules of spincart as plain Rust: typed ids, exact money, validation, access
//! tokens, the event envelope, carts, inventory, orders, shipping and the checkout saga's state machine.
//!
//! Nothing here does I/O or depends on spin-sdk, so every rule is unit-tested on the host:
//!
//! ```
//! use spincart_domain::money::{Currency, Money};
//!
//! let price = Money::parse("19.99", Currency::USD).unwrap();
//! assert_eq!(price.times(3).unwrap().amount(), "59.97");
//! ```
//!
//! The wasm components (`components/*`) parse a request or message, call into this crate through
//! `spincart-platform`, and map the result back.

#![deny(unsafe_code)]

pub mod auth;
pub mod cart;
pub mod catalog;
pub mod events;
pub mod identity;
pub mod ids;
pub mod inventory;
pub mod money;
pub mod order;
pub mod payment;
pub mod saga;
pub mod shipping;
pub mod validation;
