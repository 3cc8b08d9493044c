//! The cart read cache: a cart's JSON view in Redis under `cart:{id}:v{version}`.
//!
//! Every write bumps the version, so a write never serves a stale cart: the next read asks for
//! the new key. A view is kept only as long as it stays right (until its earliest stock lock or
//! the cart itself expires, at most `cart_cache_seconds`). Redis trouble only costs the cache.

use spin_sdk::redis::{self, RedisParameter};
use spincart_domain::ids::CartId;

pub fn key(cart: CartId, version: i64) -> String {
    format!("cart:{cart}:v{version}")
}

fn connection() -> Option<std::rc::Rc<redis::Connection>> {
    match spincart_platform::redis::connection() {
        Ok(connection) => Some(connection),
        Err(e) => {
            eprintln!("cart cache unavailable: {e:?}");
            None
        }
    }
}

/// The cached view, if there is one.
pub fn get(key: &str) -> Option<Vec<u8>> {
    connection()?.get(key).ok().flatten()
}

/// Caches a view for `seconds`.
pub fn put(key: &str, view: &[u8], seconds: i64) {
    if let Some(connection) = connection() {
        let set = connection.execute(
            "SET",
            &[
                RedisParameter::Binary(key.as_bytes().to_vec()),
                RedisParameter::Binary(view.to_vec()),
                RedisParameter::Binary(b"EX".to_vec()),
                RedisParameter::Int64(seconds.max(1)),
            ],
        );
        if let Err(e) = set {
            eprintln!("caching {key} failed: {e:?}");
        }
    }
}
