//! # spincart-testkit
//!
//! The helpers every spincart test suite shares (the host's own tests, the per-component tests,
//! the end-to-end suite and the bench), in one place so that they cannot drift apart:
//!
//! * [`eventually`] polls a check until it holds or a deadline passes (tests never sleep);
//! * [`ports::reserve`] hands out a loopback port that no other suite on this machine can be
//!   given at the same time (a file lock per port, held for as long as the port is in use);
//! * [`PrivateRedis`] is a redis-server of a test's own on such a port, and proves that the
//!   server answering on it is the one it started;
//! * [`skip`] makes a test that cannot run here say so loudly, count itself, and fail under CI;
//! * [`host_port`] turns a service URL into the `host:port` that `allowed_outbound_hosts` wants.
//!
//! ```no_run
//! # async fn example() {
//! use std::time::Duration;
//! let redis = spincart_testkit::PrivateRedis::start();
//! let url = redis.url();
//! spincart_testkit::eventually(Duration::from_secs(5), "Redis answers", || async {
//!     redis::Client::open(url.as_str()).ok()?.get_connection().ok().map(|_| ())
//! })
//! .await;
//! # }
//! ```

#![deny(unsafe_code)]

pub mod ports;
mod private_redis;
mod skip;

pub use private_redis::PrivateRedis;
pub use skip::{not_applicable, skip, skipped_log};

use std::time::{Duration, Instant};

/// Polls `check` every 20 ms until it returns `Some`, and fails the test with `what` when
/// `timeout` passes first.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `host:port` of a service URL, for `allowed_outbound_hosts` (which needs the port): the
/// URL's own port, else the scheme's default (PostgreSQL 5432, Redis 6379, HTTP 80/443).
pub fn host_port(url: &str) -> String {
    let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("{url:?} is not a URL: {e}"));
    let host = parsed
        .host_str()
        .unwrap_or_else(|| panic!("{url:?} names no host"));
    let port = parsed.port_or_known_default().or(match parsed.scheme() {
        "postgres" | "postgresql" => Some(5432),
        "redis" | "rediss" => Some(6379),
        _ => None,
    });
    match port {
        Some(port) => format!("{host}:{port}"),
        None => panic!("{url:?} has no port and its scheme has no default"),
    }
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn a_url_becomes_its_host_and_port() {
        assert_eq!(host_port("redis://127.0.0.1:16379"), "127.0.0.1:16379");
        assert_eq!(
            host_port("postgres://spincart@127.0.0.1:15432/spincart_t_1"),
            "127.0.0.1:15432"
        );
        assert_eq!(host_port("postgres://db.internal/shop"), "db.internal:5432");
        assert_eq!(host_port("rediss://user:pw@cache:6380/0"), "cache:6380");
        assert_eq!(host_port("redis://cache"), "cache:6379");
    }
}
