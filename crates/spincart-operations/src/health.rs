//! `GET /health`: PostgreSQL and Redis, each checked for real.

use spin_sdk::redis;

use spincart_platform::db::Db;
use spincart_platform::http::{ApiError, Ctx, Reply};

/// 200 `{"status":"ok","checks":{"postgres":"ok","redis":"ok"}}`, or 503 naming what failed.
pub fn check(_ctx: &Ctx) -> Result<Reply, ApiError> {
    let postgres = check_postgres();
    let redis = check_redis();
    let healthy = postgres.is_ok() && redis.is_ok();
    let describe = |r: &Result<(), String>| match r {
        Ok(()) => "ok".to_owned(),
        Err(e) => format!("failed: {e}"),
    };
    let body = serde_json::json!({
        "status": if healthy { "ok" } else { "unavailable" },
        "checks": { "postgres": describe(&postgres), "redis": describe(&redis) },
    });
    Ok(Reply::json(if healthy { 200 } else { 503 }, &body))
}

fn check_postgres() -> Result<(), String> {
    let db = Db::connect().map_err(|e| e.to_string())?;
    let row = db.query_one("SELECT 1", &[]).map_err(|e| e.to_string())?;
    match row.get::<i32>(0) {
        Ok(1) => Ok(()),
        other => Err(format!("unexpected answer {other:?}")),
    }
}

fn check_redis() -> Result<(), String> {
    let url = spincart_platform::config::require("redis_url").map_err(|e| e.to_string())?;
    let connection = redis::Connection::open(&url).map_err(|e| format!("{e:?}"))?;
    match connection.execute("PING", &[]) {
        Ok(results)
            if results
                .iter()
                .any(|r| matches!(r, redis::RedisResult::Status(s) if s == "PONG")) =>
        {
            Ok(())
        }
        Ok(other) => Err(format!("unexpected answer {other:?}")),
        Err(e) => Err(format!("{e:?}")),
    }
}
