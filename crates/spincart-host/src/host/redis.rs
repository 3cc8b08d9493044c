//! `fermyon:spin/redis@2.0.0`: like Spin, each `open` makes its own connection, held for the
//! life of the resource; a denied or unparsable address is `invalid-address`, every other
//! failure `other(message)`.

use std::collections::HashMap;

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, FromRedisValue, Value};
use wasmtime::component::Resource;

use crate::bindings::imports::fermyon::spin2_0_0::redis as v2;
use crate::runtime::HostState;

/// The open Redis connections of one instance.
#[derive(Default)]
pub struct RedisConnections {
    next_rep: u32,
    open: HashMap<u32, MultiplexedConnection>,
}

fn other(e: impl std::fmt::Display) -> v2::Error {
    v2::Error::Other(e.to_string())
}

impl HostState {
    fn redis(
        &mut self,
        this: &Resource<v2::Connection>,
    ) -> Result<&mut MultiplexedConnection, v2::Error> {
        self.redis
            .open
            .get_mut(&this.rep())
            .ok_or_else(|| v2::Error::Other("no connection found".into()))
    }
}

impl v2::Host for HostState {}

impl v2::HostConnection for HostState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<v2::Connection>, v2::Error>> {
        let allowed = match &self.component.allowed_hosts {
            Ok(allowed) => allowed.allows_url(&address, "redis"),
            Err(e) => return Ok(Err(v2::Error::Other(e.clone()))),
        };
        if !allowed {
            if let Ok(url) = crate::allowed_hosts::OutboundUrl::parse(&address, "redis") {
                crate::host::report_denied(
                    &self.component.id,
                    &format!("{}://{}", url.scheme, url.authority()),
                );
            }
            return Ok(Err(v2::Error::InvalidAddress));
        }
        let client = match redis::Client::open(address.as_str()) {
            Ok(client) => client,
            Err(_) => return Ok(Err(v2::Error::InvalidAddress)),
        };
        let connection = match client.get_multiplexed_async_connection().await {
            Ok(connection) => connection,
            Err(e) => return Ok(Err(other(e))),
        };
        let rep = self.redis.next_rep;
        self.redis.next_rep = self.redis.next_rep.wrapping_add(1);
        self.redis.open.insert(rep, connection);
        Ok(Ok(Resource::new_own(rep)))
    }

    async fn publish(
        &mut self,
        this: Resource<v2::Connection>,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), v2::Error>> {
        Ok(async {
            let conn = self.redis(&this)?;
            let () = conn.publish(&channel, &payload).await.map_err(other)?;
            Ok(())
        }
        .await)
    }

    async fn get(
        &mut self,
        this: Resource<v2::Connection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, v2::Error>> {
        Ok(async {
            let conn = self.redis(&this)?;
            conn.get::<_, Option<Vec<u8>>>(&key).await.map_err(other)
        }
        .await)
    }

    async fn set(
        &mut self,
        this: Resource<v2::Connection>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), v2::Error>> {
        Ok(async {
            let conn = self.redis(&this)?;
            let () = conn.set(&key, &value).await.map_err(other)?;
            Ok(())
        }
        .await)
    }

    async fn incr(
        &mut self,
        this: Resource<v2::Connection>,
        key: String,
    ) -> wasmtime::Result<Result<i64, v2::Error>> {
        Ok(async {
            let conn = self.redis(&this)?;
            conn.incr(&key, 1).await.map_err(other)
        }
        .await)
    }

    async fn del(
        &mut self,
        this: Resource<v2::Connection>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<u32, v2::Error>> {
        Ok(async {
            let conn = self.redis(&this)?;
            conn.del(&keys).await.map_err(other)
        }
        .await)
    }

    async fn sadd(
        &mut self,
        this: Resource<v2::Connection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, v2::Error>> {
        Ok(async {
            let conn = self.redis(&this)?;
            conn.sadd(&key, &values).await.map_err(|e| {
                if e.kind() == redis::ErrorKind::TypeError {
                    v2::Error::TypeError
                } else {
                    other(e)
                }
            })
        }
        .await)
    }

    async fn smembers(
        &mut self,
        this: Resource<v2::Connection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, v2::Error>> {
        Ok(async {
            let conn = self.redis(&this)?;
            conn.smembers(&key).await.map_err(other)
        }
        .await)
    }

    async fn srem(
        &mut self,
        this: Resource<v2::Connection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, v2::Error>> {
        Ok(async {
            let conn = self.redis(&this)?;
            conn.srem(&key, &values).await.map_err(other)
        }
        .await)
    }

    async fn execute(
        &mut self,
        this: Resource<v2::Connection>,
        command: String,
        arguments: Vec<v2::RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<v2::RedisResult>, v2::Error>> {
        Ok(async {
            let conn = self.redis(&this)?;
            let mut cmd = redis::cmd(&command);
            for argument in arguments {
                match argument {
                    v2::RedisParameter::Int64(v) => cmd.arg(v),
                    v2::RedisParameter::Binary(v) => cmd.arg(v),
                };
            }
            let results: RedisResults = cmd.query_async(conn).await.map_err(other)?;
            Ok(results.0)
        }
        .await)
    }

    async fn drop(&mut self, this: Resource<v2::Connection>) -> wasmtime::Result<()> {
        self.redis.open.remove(&this.rep());
        Ok(())
    }
}

/// A reply flattened into Spin's `list<redis-result>`.
struct RedisResults(Vec<v2::RedisResult>);

impl FromRedisValue for RedisResults {
    fn from_redis_value(value: &Value) -> redis::RedisResult<Self> {
        fn append(out: &mut Vec<v2::RedisResult>, value: &Value) -> redis::RedisResult<()> {
            let unsupported = |what: &str| -> redis::RedisResult<()> {
                Err((
                    redis::ErrorKind::TypeError,
                    "Could not convert Redis response",
                    format!("{what} is not supported"),
                )
                    .into())
            };
            match value {
                Value::Nil => out.push(v2::RedisResult::Nil),
                Value::Int(v) => out.push(v2::RedisResult::Int64(*v)),
                Value::BulkString(bytes) => out.push(v2::RedisResult::Binary(bytes.clone())),
                Value::SimpleString(s) => out.push(v2::RedisResult::Status(s.clone())),
                Value::Okay => out.push(v2::RedisResult::Status("OK".into())),
                Value::Array(items) | Value::Set(items) => {
                    for item in items {
                        append(out, item)?;
                    }
                }
                Value::Double(v) => out.push(v2::RedisResult::Binary(v.to_string().into_bytes())),
                Value::Boolean(v) => out.push(v2::RedisResult::Int64(i64::from(*v))),
                Value::BigNumber(v) => {
                    out.push(v2::RedisResult::Binary(v.to_string().into_bytes()))
                }
                Value::Map(_) => return unsupported("Redis Map type"),
                Value::Attribute { .. } => return unsupported("Redis Attribute type"),
                Value::VerbatimString { .. } => {
                    return unsupported("Redis string with format attribute")
                }
                Value::Push { .. } => return unsupported("Redis Pub/Sub types"),
                Value::ServerError(e) => {
                    return Err((
                        redis::ErrorKind::ResponseError,
                        "Server error",
                        format!("{e:?}"),
                    )
                        .into())
                }
            }
            Ok(())
        }
        let mut out = Vec::new();
        append(&mut out, value)?;
        Ok(RedisResults(out))
    }
}
