//! Throttling of logins and registrations, in Redis (every request gets a fresh instance, so
//! nothing may live in a component's memory).
//!
//! **Logins** are counted per account (the e-mail) and per client address, each within a window.
//! The count goes up **before** the password is checked, in one atomic step for both keys (an
//! `EVAL` that increments each key and starts its window with the first increment: no count can
//! be left without an expiry). A login that takes either count past its limit gets 429
//! `too_many_requests` with `Retry-After`, without its password being checked — so 50 parallel
//! guesses cost at most the limit's worth of password checks. A successful login clears its
//! account's count and takes its own attempt back from the address's.
//!
//! **Registrations** are counted per client address the same way, before the password is hashed
//! (`registrations_per_address`, default 20, within `registration_window_seconds`, default 3600).
//!
//! The client address is Spin's `spin-client-addr`, the value the runtime sets: Spin (and the
//! local host) append their own `spin-*` headers after any a client sent, and the request keeps
//! the last value of each header, so a client cannot choose its address.
//!
//! Limits are Spin variables: `login_failures_per_account` (default 5),
//! `login_failures_per_address` (default 20) and `login_throttle_window_seconds` (default 900).
//! Redis trouble only costs the throttle: nothing is then throttled (and the failure is logged),
//! so a Redis outage never locks everybody out.

use spin_sdk::redis::{self, RedisParameter, RedisResult};
use spincart_domain::identity::Email;
use spincart_platform::config;
use spincart_platform::http::{ApiError, Ctx};

/// The limits in force, and what they limit (for the 429's message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_account: i64,
    pub per_address: i64,
    pub window_seconds: i64,
    pub what: &'static str,
}

impl Limits {
    /// The registration limit: per address only.
    pub fn registrations() -> Limits {
        Limits {
            per_account: i64::MAX,
            per_address: config::parse("registrations_per_address")
                .unwrap_or(20)
                .max(1),
            window_seconds: config::parse("registration_window_seconds")
                .unwrap_or(3600)
                .clamp(1, 86_400),
            what: "registrations from this address",
        }
    }

    /// The login limits.
    pub fn from_config() -> Limits {
        Limits {
            what: "failed logins",
            per_account: config::parse("login_failures_per_account")
                .unwrap_or(5)
                .max(1),
            per_address: config::parse("login_failures_per_address")
                .unwrap_or(20)
                .max(1),
            window_seconds: config::parse("login_throttle_window_seconds")
                .unwrap_or(900)
                .clamp(1, 86_400),
        }
    }
}

/// The Redis keys of a login attempt: its account and its client address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    account: Option<String>,
    address: Option<String>,
}

impl Keys {
    /// Keys for a login as `email` (when it parses) from the caller's address (Spin's
    /// `spin-client-addr`, whose port is dropped: each connection has its own).
    pub fn for_login(ctx: &Ctx, email: Option<&Email>) -> Keys {
        Keys {
            account: email.map(|e| format!("login:failures:account:{}", e.as_str())),
            address: client_address(ctx).map(|ip| format!("login:failures:address:{ip}")),
        }
    }

    /// The key of a registration from the caller's address.
    pub fn for_registration(ctx: &Ctx) -> Keys {
        Keys {
            account: None,
            address: client_address(ctx).map(|ip| format!("register:address:{ip}")),
        }
    }

    fn with_limits(&self, limits: Limits) -> impl Iterator<Item = (&str, i64)> {
        self.account
            .as_deref()
            .map(|k| (k, limits.per_account))
            .into_iter()
            .chain(self.address.as_deref().map(|k| (k, limits.per_address)))
    }
}

/// The caller's IP, from the `spin-client-addr` the runtime set.
fn client_address(ctx: &Ctx) -> Option<String> {
    ctx.header("spin-client-addr").and_then(client_ip)
}

/// The IP of `host:port` (`[v6]:port` too); a bare address as it is.
fn client_ip(addr: &str) -> Option<String> {
    match addr.parse::<std::net::SocketAddr>() {
        Ok(socket) => Some(socket.ip().to_string()),
        Err(_) => addr
            .parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| ip.to_string()),
    }
}

/// 429 `too_many_requests` with `Retry-After`: too many of `what`.
pub fn too_many(what: &str, retry_after: i64) -> ApiError {
    let seconds = retry_after.max(1);
    let mut error = ApiError::new(
        429,
        "too_many_requests",
        format!("Too many {what}; try again in {seconds} seconds."),
    )
    .with("retry_after_seconds", seconds);
    error.retry_after = Some(seconds as u32);
    error
}

fn connection() -> Option<std::rc::Rc<redis::Connection>> {
    match spincart_platform::redis::connection() {
        Ok(connection) => Some(connection),
        Err(e) => {
            eprintln!("login throttle unavailable (logins are not throttled): {e:?}");
            None
        }
    }
}

fn integer(result: &[RedisResult]) -> Option<i64> {
    match result.first() {
        Some(RedisResult::Int64(n)) => Some(*n),
        Some(RedisResult::Binary(bytes)) => std::str::from_utf8(bytes).ok()?.parse().ok(),
        _ => None,
    }
}

fn key_param(key: &str) -> RedisParameter {
    RedisParameter::Binary(key.as_bytes().to_vec())
}

/// Counts one attempt against every key, atomically, each key's window starting with its first
/// attempt; returns `(count, seconds left in its window)` per key, in order.
const ATTEMPT_SCRIPT: &str = "\
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  local ttl = redis.call('TTL', key)
  if ttl < 0 then
    redis.call('EXPIRE', key, ARGV[1])
    ttl = tonumber(ARGV[1])
  end
  out[#out + 1] = n
  out[#out + 1] = ttl
end
return out";

/// Counts an attempt (a login, a registration) against its keys, before the expensive part runs:
/// `Err(429)` when it takes any count past its limit, with the seconds left in that window.
pub fn attempt(keys: &Keys, limits: Limits) -> Result<(), ApiError> {
    let keyed: Vec<(&str, i64)> = keys.with_limits(limits).collect();
    if keyed.is_empty() {
        return Ok(());
    }
    let Some(redis) = connection() else {
        return Ok(());
    };
    let mut arguments = vec![
        RedisParameter::Binary(ATTEMPT_SCRIPT.as_bytes().to_vec()),
        RedisParameter::Int64(keyed.len() as i64),
    ];
    arguments.extend(keyed.iter().map(|(key, _)| key_param(key)));
    arguments.push(RedisParameter::Int64(limits.window_seconds));
    let counts = match redis.execute("EVAL", &arguments) {
        Ok(counts) => counts,
        Err(e) => {
            eprintln!("throttle: counting {keyed:?} failed (not throttled): {e:?}");
            return Ok(());
        }
    };
    for ((_, limit), pair) in keyed.iter().zip(counts.chunks_exact(2)) {
        let count = integer(&pair[..1]).unwrap_or(0);
        if count > *limit {
            let ttl = integer(&pair[1..]).filter(|t| *t > 0);
            return Err(too_many(limits.what, ttl.unwrap_or(limits.window_seconds)));
        }
    }
    Ok(())
}

/// A successful login: its account's count is cleared, and its own attempt is taken back from
/// the address's (only failures count against an address).
pub fn succeeded(keys: &Keys) {
    let Some(redis) = connection() else {
        return;
    };
    if let Some(account) = &keys.account {
        if let Err(e) = redis.del(std::slice::from_ref(account)) {
            eprintln!("login throttle: clearing {account} failed: {e:?}");
        }
    }
    if let Some(address) = &keys.address {
        if let Err(e) = redis.execute("DECR", &[key_param(address)]) {
            eprintln!("login throttle: taking back from {address} failed: {e:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::client_ip;

    #[test]
    fn the_client_address_loses_its_port() {
        assert_eq!(client_ip("127.0.0.1:53211").as_deref(), Some("127.0.0.1"));
        assert_eq!(client_ip("[::1]:8080").as_deref(), Some("::1"));
        assert_eq!(client_ip("10.0.0.7").as_deref(), Some("10.0.0.7"));
        assert_eq!(client_ip("not an address"), None);
    }
}
