//! The messaging foundation (CONTRACT.md §5):
//!
//! * [`Outbox::record`] writes an event to the event store (`messaging.events`) inside the
//!   caller's transaction, so the event exists exactly when the change it announces does;
//! * [`Outbox::publish`] publishes the recorded events on Redis *after* the commit (channel =
//!   event type) and marks them published; what fails to publish is re-published by the sweep;
//! * [`consume`] makes a Redis-triggered handler idempotent by `event_id`: the "processed" mark
//!   is written in the same transaction as the handler's effect, so a message delivered twice
//!   (or replayed) changes nothing the second time. Unreadable messages go to the dead-letter
//!   table; failing handlers are recorded for retry with backoff, then dead-lettered.
//!
//! ```no_run
//! use spincart_domain::events::{Causation, EventType, NewEvent};
//! use spincart_platform::{db::Db, events::Outbox};
//!
//! # fn example(db: &Db, product_id: uuid::Uuid) -> Result<(), spincart_platform::db::DbError> {
//! let mut outbox = Outbox::default();
//! db.transaction(|tx| {
//!     // ... the change itself ...
//!     outbox.record(tx, NewEvent::new(EventType::ProductCreated, "product", product_id, 1, &()),
//!                   Causation::new_chain(uuid::Uuid::new_v4()))?;
//!     Ok::<_, spincart_platform::db::DbError>(())
//! })?;
//! outbox.publish(db);
//! # Ok(()) }
//! ```

use spin_sdk::redis;
use spincart_domain::events::{Causation, EnvelopeError, EventEnvelope, NewEvent};

use crate::db::{self, Db, DbError};

/// Now, as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Events recorded in a transaction, published once it has committed.
#[derive(Debug, Default)]
pub struct Outbox {
    pending: Vec<EventEnvelope>,
}

impl Outbox {
    /// Stores `event` in the event store, in the transaction `db` is in.
    pub fn record(
        &mut self,
        db: &Db,
        event: NewEvent,
        causation: Causation,
    ) -> Result<EventEnvelope, DbError> {
        let envelope = event.into_envelope(causation, now_rfc3339());
        insert_event(db, &envelope)?;
        self.pending.push(envelope.clone());
        Ok(envelope)
    }

    /// The events recorded so far.
    pub fn events(&self) -> &[EventEnvelope] {
        &self.pending
    }

    /// Publishes the recorded events (call after COMMIT). Failures are logged, not returned:
    /// the events are safely stored and the sweep re-publishes what was not marked published.
    pub fn publish(self, db: &Db) {
        if self.pending.is_empty() {
            return;
        }
        let published = publish_envelopes(&self.pending);
        if let Err(e) = mark_published(db, &published) {
            eprintln!("marking {} events published failed: {e}", published.len());
        }
    }
}

fn insert_event(db: &Db, e: &EventEnvelope) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO messaging.events
            (event_id, event_type, schema_version, correlation_id, causation_id,
             aggregate_type, aggregate_id, aggregate_version, occurred_at, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::timestamptz, $10)",
        &[
            db::uuid(e.event_id),
            db::text(&e.event_type),
            i32::try_from(e.schema_version).unwrap_or(i32::MAX).into(),
            db::uuid(e.correlation_id),
            e.causation_id.map(db::uuid).unwrap_or(db::Param::DbNull),
            db::text(&e.aggregate_type),
            db::uuid(e.aggregate_id),
            e.aggregate_version.into(),
            db::text(&e.occurred_at),
            db::json(&e.data),
        ],
    )?;
    Ok(())
}

/// Publishes envelopes on their channels; returns the ids that were published.
pub fn publish_envelopes(envelopes: &[EventEnvelope]) -> Vec<uuid::Uuid> {
    let connection = match crate::config::require("redis_url")
        .map_err(|e| e.to_string())
        .and_then(|url| redis::Connection::open(&url).map_err(|e| format!("{e:?}")))
    {
        Ok(connection) => connection,
        Err(e) => {
            eprintln!(
                "cannot publish {} events now (the sweep will): {e}",
                envelopes.len()
            );
            return Vec::new();
        }
    };
    let mut published = Vec::with_capacity(envelopes.len());
    for envelope in envelopes {
        match connection.publish(&envelope.event_type, &envelope.to_json()) {
            Ok(()) => published.push(envelope.event_id.as_uuid()),
            Err(e) => eprintln!(
                "publishing {} {} failed: {e:?}",
                envelope.event_type, envelope.event_id
            ),
        }
    }
    published
}

/// Marks events published.
pub fn mark_published(db: &Db, ids: &[uuid::Uuid]) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<Option<String>> = ids.iter().map(|id| Some(id.to_string())).collect();
    db.execute(
        "UPDATE messaging.events SET published_at = now()
          WHERE event_id = ANY($1::text[]::uuid[]) AND published_at IS NULL",
        &[ids.into()],
    )?;
    Ok(())
}

/// Why a handler did not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth retrying (database hiccup, dependency down, a flaky provider...).
    #[error("{0}")]
    Transient(String),
    /// Will never succeed (malformed data): dead-lettered at once.
    #[error("{0}")]
    Permanent(String),
}

impl From<DbError> for HandlerError {
    fn from(e: DbError) -> Self {
        HandlerError::Transient(e.to_string())
    }
}

impl From<EnvelopeError> for HandlerError {
    fn from(e: EnvelopeError) -> Self {
        HandlerError::Permanent(e.to_string())
    }
}

/// What [`consume`] did with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    Applied,
    Duplicate,
    DeadLettered,
}

/// Handles one message for `consumer` at most once per `event_id`.
///
/// `handle` runs inside a transaction together with the "processed" mark; events it records in
/// the outbox are published after the commit. An `Err` is returned (and logged by the host) when
/// the handler failed; the delivery is then recorded for retry or dead-lettered.
pub fn consume(
    consumer: &str,
    payload: &[u8],
    handle: impl FnOnce(&Db, &EventEnvelope, &mut Outbox) -> Result<(), HandlerError>,
) -> anyhow::Result<Consumed> {
    let db = Db::connect()?;
    let envelope = match EventEnvelope::from_json(payload) {
        Ok(envelope) => envelope,
        Err(e) => {
            dead_letter(&db, consumer, None, None, payload, &e.to_string(), 1)?;
            eprintln!("{consumer}: dead-lettered an unreadable message: {e}");
            return Ok(Consumed::DeadLettered);
        }
    };
    let mut outbox = Outbox::default();
    let result = db.transaction(|tx| -> Result<bool, HandlerError> {
        let fresh = tx.execute(
            "INSERT INTO messaging.processed_events (consumer, event_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
            &[db::text(consumer), db::uuid(envelope.event_id)],
        )?;
        if fresh == 0 {
            return Ok(false);
        }
        handle(tx, &envelope, &mut outbox)?;
        tx.execute(
            "DELETE FROM messaging.failed_deliveries WHERE consumer = $1 AND event_id = $2",
            &[db::text(consumer), db::uuid(envelope.event_id)],
        )?;
        Ok(true)
    });
    match result {
        Ok(true) => {
            outbox.publish(&db);
            Ok(Consumed::Applied)
        }
        Ok(false) => Ok(Consumed::Duplicate),
        Err(HandlerError::Permanent(reason)) => {
            dead_letter(&db, consumer, Some(&envelope), None, payload, &reason, 1)?;
            anyhow::bail!(
                "{consumer}: {} {} dead-lettered: {reason}",
                envelope.event_type,
                envelope.event_id
            )
        }
        Err(HandlerError::Transient(reason)) => {
            let outcome = record_failure(&db, consumer, &envelope, payload, &reason)?;
            anyhow::bail!(
                "{consumer}: {} {} failed ({outcome}): {reason}",
                envelope.event_type,
                envelope.event_id
            )
        }
    }
}

/// Records a failed delivery with exponential backoff; dead-letters it after
/// `max_delivery_attempts`. Returns what happened, for the log.
fn record_failure(
    db: &Db,
    consumer: &str,
    envelope: &EventEnvelope,
    payload: &[u8],
    reason: &str,
) -> Result<String, DbError> {
    let max_attempts: i32 = crate::config::parse("max_delivery_attempts").unwrap_or(5);
    let row = db.query_one(
        "INSERT INTO messaging.failed_deliveries
             (consumer, event_id, event_type, payload, attempts, last_error, next_attempt_at)
         VALUES ($1, $2, $3, $4, 1, $5, now() + interval '1 second')
         ON CONFLICT (consumer, event_id) DO UPDATE
            SET attempts = messaging.failed_deliveries.attempts + 1,
                last_error = EXCLUDED.last_error,
                next_attempt_at = now() + least(interval '5 minutes',
                    interval '1 second' * power(2, messaging.failed_deliveries.attempts))
         RETURNING attempts",
        &[
            db::text(consumer),
            db::uuid(envelope.event_id),
            db::text(&envelope.event_type),
            payload.to_vec().into(),
            db::text(reason),
        ],
    )?;
    let attempts: i32 = row.get(0)?;
    if attempts >= max_attempts {
        db.transaction(|tx| {
            dead_letter(
                tx,
                consumer,
                Some(envelope),
                None,
                payload,
                reason,
                attempts,
            )?;
            tx.execute(
                "DELETE FROM messaging.failed_deliveries WHERE consumer = $1 AND event_id = $2",
                &[db::text(consumer), db::uuid(envelope.event_id)],
            )
        })?;
        Ok(format!(
            "attempt {attempts} of {max_attempts}, dead-lettered"
        ))
    } else {
        Ok(format!("attempt {attempts} of {max_attempts}, will retry"))
    }
}

/// Puts a message in the dead-letter table.
pub fn dead_letter(
    db: &Db,
    consumer: &str,
    envelope: Option<&EventEnvelope>,
    channel: Option<&str>,
    payload: &[u8],
    error: &str,
    attempts: i32,
) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO messaging.dead_letters (id, consumer, event_id, event_type, payload, error, attempts)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            db::uuid(uuid::Uuid::new_v4()),
            db::text(consumer),
            envelope.map(|e| db::uuid(e.event_id)).unwrap_or(db::Param::DbNull),
            db::opt_text(envelope.map(|e| e.event_type.clone()).or(channel.map(str::to_owned))),
            payload.to_vec().into(),
            db::text(error),
            attempts.into(),
        ],
    )?;
    Ok(())
}
