//! spincart-host's own tests: small guest components (`test-guests/`) run by the real host,
//! against the real PostgreSQL and Redis, checking that the host behaves as Spin does.

mod files;
mod http;
mod key_value;
mod outbound;
mod postgres;
mod redis;
mod support;
mod variables;
