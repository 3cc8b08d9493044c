//! The maintenance sweep: `POST /api/v1/admin/maintenance/run` runs it once and answers with
//! what it did. A scheduler calls it (the local host on an interval; in production e.g. a
//! Kubernetes CronJob) with an admin token or the `maintenance_token`. Every task claims its
//! rows with `FOR UPDATE SKIP LOCKED`, so sweeps may run concurrently.

use serde::Serialize;
use spincart_domain::events::{Causation, EventType, NewEvent};
use spincart_domain::ids::CartId;

use spincart_domain::saga::Fact;

use spincart_platform::config;
use spincart_platform::db::{self, Db, DbError};
use spincart_platform::events::{self, Outbox};
use spincart_platform::http::{ApiError, Ctx, Reply};

const BATCH: i64 = 500;

/// What one sweep did.
#[derive(Debug, Default, Serialize)]
pub struct SweepReport {
    /// Cart locks past their TTL, whose stock went back.
    pub locks_expired: i64,
    /// Carts untouched for `cart_expiry_days`.
    pub carts_expired: i64,
    /// Order reservations past their TTL that no saga had released.
    pub reservations_expired: i64,
    /// Stored events that had not been published.
    pub outbox_republished: i64,
    /// Published events a subscribed consumer had not acknowledged, published again.
    pub unacknowledged_redelivered: i64,
    /// Failed deliveries whose backoff was over, published again.
    pub deliveries_retried: i64,
    /// Sagas past a step deadline whose step's event was published again.
    pub sagas_redriven: i64,
    /// Sagas past a step deadline that were compensated (or whose compensation was given up).
    pub sagas_timed_out: i64,
    /// Failed deliveries moved to the dead letters.
    pub dead_lettered: i64,
    /// Idempotency keys older than 24 h.
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
    let (deliveries_retried, dead_lettered) = retry_deliveries(db)?;
    let (sagas_redriven, sagas_timed_out) = saga_deadlines(db)?;
    Ok(SweepReport {
        locks_expired: expire_cart_locks(db)?,
        carts_expired: expire_carts(db, correlation)?,
        reservations_expired: expire_reservations(db)?,
        outbox_republished: republish_outbox(db)?,
        unacknowledged_redelivered: redeliver_unacknowledged(db)?,
        deliveries_retried,
        sagas_redriven,
        sagas_timed_out,
        dead_lettered,
        idempotency_keys_deleted: delete_old_idempotency_keys(db)?,
    })
}

/// Order reservations past their TTL go back to stock.
fn expire_reservations(db: &Db) -> Result<i64, DbError> {
    let mut total = 0;
    loop {
        let expired: i32 = db.transaction(|tx| {
            tx.query_one(
                "SELECT inventory.expire_reservations($1::bigint::integer)",
                &[BATCH.into()],
            )?
            .get(0)
        })?;
        total += i64::from(expired);
        if i64::from(expired) < BATCH {
            return Ok(total);
        }
    }
}

/// Events stored but never published (Redis was down, the component died after the commit)
/// are published now.
fn republish_outbox(db: &Db) -> Result<i64, DbError> {
    let mut total = 0;
    loop {
        let count = db.transaction(|tx| -> Result<i64, DbError> {
            let events = events::claim_unpublished(tx, 5, BATCH)?;
            events::republish(tx, &events)?;
            Ok(events.len() as i64)
        })?;
        total += count;
        if count < BATCH {
            return Ok(total);
        }
    }
}

/// Events published more than `redeliver_after_seconds` ago (and not redelivered since) that a
/// subscribed consumer has neither applied, skipped, nor got in a retry or the dead letters:
/// their message was lost after publishing (e.g. the subscriber was disconnected). Published
/// again, at most 10 times, for events of the last day.
fn redeliver_unacknowledged(db: &Db) -> Result<i64, DbError> {
    let grace: i64 = config::parse::<i64>("redeliver_after_seconds")
        .unwrap_or(30)
        .max(1);
    let (types, consumers): (Vec<Option<String>>, Vec<Option<String>>) =
        spincart_platform::consumers::SUBSCRIPTIONS
            .iter()
            .map(|(t, c)| (Some(t.as_str().to_owned()), Some((*c).to_owned())))
            .unzip();
    db.transaction(|tx| -> Result<i64, DbError> {
        let ids: Vec<uuid::Uuid> = tx
            .query(
                "WITH subs (event_type, consumer) AS (SELECT * FROM unnest($1::text[], $2::text[]))
                 SELECT e.event_id FROM messaging.events e
                  WHERE e.occurred_at > now() - interval '1 day'
                    AND e.published_at < now() - make_interval(secs => $3::bigint)
                    AND (e.redelivered_at IS NULL OR e.redelivered_at < now() - make_interval(secs => $3::bigint))
                    AND e.redeliveries < 10
                    AND EXISTS (
                        SELECT 1 FROM subs s
                         WHERE s.event_type = e.event_type
                           AND NOT EXISTS (SELECT 1 FROM messaging.processed_events p
                                            WHERE p.consumer = s.consumer AND p.event_id = e.event_id)
                           AND NOT EXISTS (SELECT 1 FROM messaging.failed_deliveries f
                                            WHERE f.consumer = s.consumer AND f.event_id = e.event_id))
                  ORDER BY e.position
                  LIMIT $4
                  FOR UPDATE OF e SKIP LOCKED",
                &[types.into(), consumers.into(), grace.into(), BATCH.into()],
            )?
            .map(|r| r.get(0))?;
        let mut envelopes = Vec::new();
        for id in &ids {
            envelopes.extend(events::load(tx, *id)?);
        }
        let published = events::publish_envelopes(&envelopes);
        let published: Vec<Option<String>> = published.iter().map(|id| Some(id.to_string())).collect();
        tx.execute(
            "UPDATE messaging.events SET redelivered_at = now(), redeliveries = redeliveries + 1
              WHERE event_id = ANY($1::text[]::uuid[])",
            &[published.clone().into()],
        )?;
        Ok(published.len() as i64)
    })
}

/// Deliveries whose handler failed and whose backoff is over are published again (their
/// consumer retries; the others skip them as duplicates); a retry is leased for 30 s so that
/// concurrent sweeps do not publish it twice. Deliveries already at their limit (their
/// consumer's, else `max_delivery_attempts`) go to the dead letters. Returns (retried,
/// dead-lettered).
fn retry_deliveries(db: &Db) -> Result<(i64, i64), DbError> {
    let max_attempts: i32 = config::parse("max_delivery_attempts").unwrap_or(5);
    db.transaction(|tx| {
        let due = tx.query(
            "SELECT consumer, event_id, event_type, payload, attempts, last_error,
                    coalesce(max_attempts, $2) FROM messaging.failed_deliveries
              WHERE next_attempt_at <= now()
              ORDER BY next_attempt_at
              LIMIT $1
              FOR UPDATE SKIP LOCKED",
            &[BATCH.into(), max_attempts.into()],
        )?;
        let (mut retried, mut dead) = (0, 0);
        for row in due.iter() {
            let consumer: String = row.get(0)?;
            let event_id: uuid::Uuid = row.get(1)?;
            let event_type: String = row.get(2)?;
            let payload: Vec<u8> = row.get(3)?;
            let attempts: i32 = row.get(4)?;
            let max_attempts: i32 = row.get(6)?;
            if attempts >= max_attempts {
                let error: String = row.get(5)?;
                events::dead_letter(tx, &consumer, None, Some(&event_type), &payload, &error, attempts)?;
                tx.execute(
                    "DELETE FROM messaging.failed_deliveries WHERE consumer = $1 AND event_id = $2",
                    &[db::text(&consumer), db::uuid(event_id)],
                )?;
                dead += 1;
                continue;
            }
            if let Err(e) = events::publish_raw(&event_type, &payload) {
                eprintln!("retrying {event_type} {event_id} for {consumer}: {e}");
                continue;
            }
            tx.execute(
                "UPDATE messaging.failed_deliveries SET next_attempt_at = now() + interval '30 seconds'
                  WHERE consumer = $1 AND event_id = $2",
                &[db::text(&consumer), db::uuid(event_id)],
            )?;
            retried += 1;
        }
        Ok((retried, dead))
    })
}

/// Sagas past their step deadline: the step's event is published again (up to
/// `MAX_REDRIVES` times: a lost message is delivered, a handled one is skipped); after that
/// the step times out and the saga compensates, or a compensation that does not finish is
/// given up (COMPENSATION_FAILED). Returns (re-driven, timed out).
fn saga_deadlines(db: &Db) -> Result<(i64, i64), DbError> {
    let mut outbox = Outbox::default();
    let mut redrive = Vec::new();
    let counts = db.transaction(|tx| -> Result<(i64, i64), DbError> {
        let (mut redriven, mut timed_out) = (0, 0);
        for mut saga in spincart_saga::queries::claim_due(tx, 100)? {
            if saga.redrives < spincart_saga::MAX_REDRIVES {
                if let Some(event) = spincart_saga::last_step_event(tx, &saga)? {
                    redrive.push(event);
                }
                spincart_saga::queries::redriven(
                    tx,
                    saga.id,
                    spincart_saga::deadline_seconds(saga.saga.status),
                )?;
                spincart_saga::queries::log(
                    tx,
                    saga.id,
                    "redrive",
                    None,
                    saga.saga.status,
                    saga.saga.status,
                    "step deadline passed; step event published again",
                )?;
                redriven += 1;
                continue;
            }
            let fact = match saga.saga.current_compensation() {
                Some(compensation) => Fact::CompensationFailed {
                    compensation,
                    reason: "compensation timed out".into(),
                },
                None => Fact::StepTimedOut,
            };
            spincart_saga::report(tx, &mut saga, fact, &mut outbox, None)?;
            timed_out += 1;
        }
        Ok((redriven, timed_out))
    })?;
    events::republish(db, &redrive)?;
    outbox.publish(db);
    Ok(counts)
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
                spincart_cart::queries::release_locks(tx, *id)?;
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
                        spincart_cart::AGGREGATE,
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
