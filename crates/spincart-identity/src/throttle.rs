//! Login throttling: failed logins are counted in Redis per account (the e-mail) and per client
//! address, each within a window; once either count reaches its limit, logins for that account
//! or from that address get 429 `too_many_requests` with `Retry-After` until the window lapses.
//! A successful login clears its account's count (not the address's).
//!
//! Limits are Spin variables: `login_failures_per_account` (default 5),
//! `login_failures_per_address` (default 20) and `login_throttle_window_seconds` (default 900).
//! The counts live in Redis, not in a component's memory, since every request gets a fresh
//! instance. Redis trouble only costs the throttle: logins are then not throttled (and the
//! failure is logged), so a Redis outage never locks everybody out.

use spin_sdk::redis::{self, RedisParameter, RedisResult};
use spincart_domain::identity::Email;
use spincart_platform::config;
use spincart_platform::http::{ApiError, Ctx};

/// The limits in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_account: i64,
    pub per_address: i64,
    pub window_seconds: i64,
}

impl Limits {
    pub fn from_config() -> Limits {
        Limits {
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
            address: ctx
                .header("spin-client-addr")
                .and_then(client_ip)
                .map(|ip| format!("login:failures:address:{ip}")),
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

/// 429 `too_many_requests` with `Retry-After`.
pub fn too_many(retry_after: i64) -> ApiError {
    let seconds = retry_after.max(1);
    let mut error = ApiError::new(
        429,
        "too_many_requests",
        format!("Too many failed logins; try again in {seconds} seconds."),
    )
    .with("retry_after_seconds", seconds);
    error.retry_after = Some(seconds as u32);
    error
}

fn connection() -> Option<redis::Connection> {
    let url = config::require("redis_url").ok()?;
    match redis::Connection::open(&url) {
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

/// `Err(429)` while either count is at its limit, with the seconds left in its window.
pub fn check(keys: &Keys, limits: Limits) -> Result<(), ApiError> {
    let Some(redis) = connection() else {
        return Ok(());
    };
    for (key, limit) in keys.with_limits(limits) {
        let failures = match redis.execute("GET", &[key_param(key)]) {
            Ok(result) => integer(&result).unwrap_or(0),
            Err(e) => {
                eprintln!("login throttle: reading {key} failed: {e:?}");
                continue;
            }
        };
        if failures >= limit {
            let ttl = redis
                .execute("TTL", &[key_param(key)])
                .ok()
                .and_then(|r| integer(&r))
                .filter(|ttl| *ttl > 0)
                .unwrap_or(limits.window_seconds);
            return Err(too_many(ttl));
        }
    }
    Ok(())
}

/// Counts a failed login against its account and address; the window starts at the first.
pub fn failed(keys: &Keys, limits: Limits) {
    let Some(redis) = connection() else {
        return;
    };
    for (key, _) in keys.with_limits(limits) {
        match redis.incr(key) {
            Ok(1) => {
                let expire = redis.execute(
                    "EXPIRE",
                    &[key_param(key), RedisParameter::Int64(limits.window_seconds)],
                );
                if let Err(e) = expire {
                    eprintln!("login throttle: expiring {key} failed: {e:?}");
                }
            }
            Ok(_) => {}
            Err(e) => eprintln!("login throttle: counting {key} failed: {e:?}"),
        }
    }
}

/// A successful login clears its account's count.
pub fn succeeded(keys: &Keys) {
    if let (Some(account), Some(redis)) = (&keys.account, connection()) {
        if let Err(e) = redis.del(std::slice::from_ref(account)) {
            eprintln!("login throttle: clearing {account} failed: {e:?}");
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
