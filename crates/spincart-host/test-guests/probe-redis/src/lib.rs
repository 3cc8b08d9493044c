//! A Redis-triggered guest: appends each message to the Redis list named by its `list_key`
//! variable, at its `redis_url` variable, and fails (after recording) for a message that says `fail`.
//! Used only by spincart-host's tests.

use spin_sdk::{redis, variables};

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    let address = variables::get("redis_url")?;
    let key = variables::get("list_key")?;
    let connection = redis::Connection::open(&address)?;
    connection.execute(
        "RPUSH",
        &[
            redis::RedisParameter::Binary(key.into_bytes()),
            redis::RedisParameter::Binary(message.clone()),
        ],
    )?;
    if message == b"fail" {
        anyhow::bail!("asked to fail");
    }
    Ok(())
}
