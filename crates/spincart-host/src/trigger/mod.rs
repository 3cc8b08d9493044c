//! The triggers of a Spin app: HTTP requests and Redis messages.

pub mod http;
pub mod redis;
