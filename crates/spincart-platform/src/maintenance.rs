//! The maintenance sweep: `POST /api/v1/admin/maintenance/run` runs it once and answers with
//! what it did. A scheduler calls it (the local host on an interval; in production e.g. a
//! Kubernetes CronJob) with an admin token or the `maintenance_token`. Every task claims its
//! rows with `FOR UPDATE SKIP LOCKED`, so sweeps may run concurrently.

use serde::Serialize;
use spincart_domain::events::{Causation, EventType, NewEvent};
use spincart_domain::ids::CartId;

use crate::db::{self, Db, DbError};
use crate::events::Outbox;
use crate::http::{ApiError, Ctx, Reply};
use crate::{cart, config};

const BATCH: i64 = 500;

/// What one sweep did.
#[derive(Debug, Default, Serialize)]
pub struct SweepReport {
    pub locks_expired: i64,
    pub carts_expired: i64,
    pub idempotency_keys_deleted: i64,
}

/// Admin token, or `X-Maintenance-Token` equal to a non-empty `maintenance_token`.
fn authorize(ctx: &Ctx) -> Result<(), ApiError> {
    if let (Some(given), Ok(expected)) = (
        ctx.header("x-maintenance-token"),
        config::require("maintenance_token"),
    ) {
        if !expected.is_empty() && constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            return Ok(());
        }
        return Err(ApiError::unauthorized("Invalid maintenance token."));
    }
    ctx.admin().map(|_| ())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `POST /api/v1/admin/maintenance/run`.
pub fn run(ctx: &Ctx) -> Result<Reply, ApiError> {
    authorize(ctx)?;
    let db = Db::connect()?;
    let report = sweep(&db, ctx.request_id())?;
    Ok(Reply::ok(&report))
}

pub fn sweep(db: &Db, correlation: uuid::Uuid) -> Result<SweepReport, ApiError> {
    Ok(SweepReport {
        locks_expired: expire_cart_locks(db)?,
        carts_expired: expire_carts(db, correlation)?,
        idempotency_keys_deleted: delete_old_idempotency_keys(db)?,
    })
}

/// Gives back the stock of cart locks whose TTL has passed.
fn expire_cart_locks(db: &Db) -> Result<i64, DbError> {
    let mut total = 0;
    loop {
        let released: i32 = db.transaction(|tx| {
            tx.query_one(
                "SELECT inventory.expire_cart_locks($1::bigint::integer)",
                &[BATCH.into()],
            )?
            .get(0)
        })?;
        total += i64::from(released);
        if i64::from(released) < BATCH {
            return Ok(total);
        }
    }
}

/// Expires carts untouched for `cart_expiry_days`: their locks go back, `cart.expired` is
/// recorded.
fn expire_carts(db: &Db, correlation: uuid::Uuid) -> Result<i64, DbError> {
    let days: i64 = config::parse::<i64>("cart_expiry_days")
        .unwrap_or(30)
        .clamp(1, 3650);
    let mut total = 0;
    loop {
        let mut outbox = Outbox::default();
        let expired = db.transaction(|tx| -> Result<i64, DbError> {
            let carts = tx.query(
                "SELECT id FROM cart.carts
                  WHERE status = 'ACTIVE' AND updated_at < now() - make_interval(days => $1::bigint::integer)
                  ORDER BY updated_at
                  LIMIT $2
                  FOR UPDATE SKIP LOCKED",
                &[days.into(), BATCH.into()],
            )?;
            let ids: Vec<CartId> = carts.map(|r| db::id(r, 0))?;
            for id in &ids {
                cart::queries::release_locks(tx, *id)?;
                let version: i64 = tx
                    .query_one(
                        "UPDATE cart.carts SET status = 'EXPIRED', version = version + 1, updated_at = now()
                          WHERE id = $1 RETURNING version",
                        &[db::uuid(*id)],
                    )?
                    .get(0)?;
                outbox.record(
                    tx,
                    NewEvent::new(
                        EventType::CartExpired,
                        cart::AGGREGATE,
                        *id,
                        version,
                        &serde_json::json!({ "cart_id": id, "after_days": days }),
                    ),
                    Causation::new_chain(correlation),
                )?;
            }
            Ok(ids.len() as i64)
        })?;
        outbox.publish(db);
        total += expired;
        if expired < BATCH {
            return Ok(total);
        }
    }
}

/// Idempotency keys are kept at least 24 h.
fn delete_old_idempotency_keys(db: &Db) -> Result<i64, DbError> {
    let deleted = db.execute(
        "DELETE FROM platform.idempotency_keys WHERE created_at < now() - interval '24 hours'",
        &[],
    )?;
    Ok(deleted as i64)
}
