//! The messaging foundation (CONTRACT.md §5):
//!
//! * [`Outbox::record`] writes an event to the event store (`messaging.events`) inside the
//!   caller's transaction, so the event exists exactly when the change it announces does;
//! * [`Outbox::publish`] publishes the recorded events on Redis *after* the commit (channel =
//!   event type, and for the saga's events its shard: [`channel_of`]). An event is stored
//!   already marked published (`published_at`, the moment it is handed to publishing), so the
//!   happy path costs no second statement; an event whose
//!   publishing fails is marked unpublished again and the sweep re-publishes it, and one lost
//!   between the commit and Redis (the component died) is published again by the sweep once
//!   its consumers have not acknowledged it (`redeliver_after_seconds`);
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

use spincart_domain::events::{shards, Causation, EnvelopeError, EventEnvelope, NewEvent};

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
    /// Stores `event` in the event store, in the transaction `db` is in: it is written with the
    /// transaction's next statement, or before its COMMIT ([`Db::record_event`]), so storing
    /// an event costs no round trip of its own.
    pub fn record(
        &mut self,
        db: &Db,
        event: NewEvent,
        causation: Causation,
    ) -> Result<EventEnvelope, DbError> {
        let envelope = event.into_envelope(causation, now_rfc3339());
        db.record_event(serde_json::json!({
            "event_id": envelope.event_id,
            "event_type": envelope.event_type,
            "schema_version": envelope.schema_version,
            "correlation_id": envelope.correlation_id,
            "causation_id": envelope.causation_id,
            "aggregate_type": envelope.aggregate_type,
            "aggregate_id": envelope.aggregate_id,
            "aggregate_version": envelope.aggregate_version,
            "occurred_at": envelope.occurred_at,
            "data": envelope.data,
        }));
        self.pending.push(envelope.clone());
        Ok(envelope)
    }

    /// The events recorded so far.
    pub fn events(&self) -> &[EventEnvelope] {
        &self.pending
    }

    /// Publishes the recorded events (call after COMMIT). Failures are logged, not returned:
    /// the events are safely stored, those that failed are marked unpublished, and the sweep
    /// re-publishes them.
    pub fn publish(self, db: &Db) {
        if self.pending.is_empty() {
            return;
        }
        // Recorded outside a transaction and not yet written by a later statement: written now,
        // and never published unless stored.
        if let Err(e) = db.write_recorded() {
            eprintln!(
                "storing {} events failed, so they are not published: {e}",
                self.pending.len()
            );
            return;
        }
        let published = publish_envelopes(&self.pending);
        let failed: Vec<uuid::Uuid> = self
            .pending
            .iter()
            .map(|e| e.event_id.as_uuid())
            .filter(|id| !published.contains(id))
            .collect();
        if let Err(e) = mark_unpublished(db, &failed) {
            eprintln!("marking {} events unpublished failed: {e}", failed.len());
        }
    }
}

/// How many shards the saga runs on (`saga_shards`, which spin.toml's saga consumers are
/// rendered for by `scripts/saga-shards.sh`). A component that publishes must have it: guessing
/// would publish on a channel nobody takes.
pub fn saga_shards() -> Result<u32, String> {
    let shards: u32 = crate::config::parse("saga_shards").map_err(|e| e.to_string())?;
    if (1..=shards::MAX).contains(&shards) {
        Ok(shards)
    } else {
        Err(format!(
            "setting \"saga_shards\": {shards} is not within 1..={}",
            shards::MAX
        ))
    }
}

/// The channel `envelope` is published on (its type, and for saga events its shard).
pub fn channel_of(envelope: &EventEnvelope, shards: u32) -> String {
    shards::channel(&envelope.event_type, envelope.correlation_id, shards)
}

/// Publishes envelopes on their channels; returns the ids that were published.
pub fn publish_envelopes(envelopes: &[EventEnvelope]) -> Vec<uuid::Uuid> {
    let connection =
        match saga_shards().and_then(|shards| Ok((crate::redis::connection()?, shards))) {
            Ok(connection) => connection,
            Err(e) => {
                eprintln!(
                    "cannot publish {} events now (the sweep will): {e}",
                    envelopes.len()
                );
                for envelope in envelopes {
                    let labels = [("event_type", envelope.event_type.as_str())];
                    crate::metrics::count("spincart_events_publish_failed_total", &labels, 1);
                }
                return Vec::new();
            }
        };
    let (connection, shards) = connection;
    let mut published = Vec::with_capacity(envelopes.len());
    for envelope in envelopes {
        let labels = [("event_type", envelope.event_type.as_str())];
        match connection.publish(&channel_of(envelope, shards), &envelope.to_json()) {
            Ok(()) => {
                published.push(envelope.event_id.as_uuid());
                crate::metrics::count("spincart_events_published_total", &labels, 1);
                crate::metrics::log_event("published", None, envelope);
            }
            Err(e) => {
                eprintln!(
                    "publishing {} {} failed: {e:?}",
                    envelope.event_type, envelope.event_id
                );
                crate::redis::forget();
                crate::metrics::count("spincart_events_publish_failed_total", &labels, 1);
            }
        }
    }
    published
}

/// Marks events unpublished after their publishing failed (the sweep re-publishes them).
pub fn mark_unpublished(db: &Db, ids: &[uuid::Uuid]) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<Option<String>> = ids.iter().map(|id| Some(id.to_string())).collect();
    db.execute(
        "UPDATE messaging.events SET published_at = NULL WHERE event_id = ANY($1::text[]::uuid[])",
        &[ids.into()],
    )?;
    Ok(())
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

/// One delivery of a message to a consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// 1 for the first delivery, 2 for the first retry, ...
    pub attempt: u32,
}

/// Runs when a message is dead-lettered, in the same transaction, so that a consumer can make
/// the failure count (a saga step that gives up reports it).
pub type OnDeadLetter = fn(&Db, &EventEnvelope, &mut Outbox, &str) -> Result<(), DbError>;

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
    consume_with(consumer, payload, None, |db, event, outbox, _| {
        handle(db, event, outbox)
    })
}

/// [`consume`], telling the handler which attempt this is, with a dead-letter hook.
pub fn consume_with(
    consumer: &str,
    payload: &[u8],
    on_dead_letter: Option<OnDeadLetter>,
    handle: impl FnOnce(&Db, &EventEnvelope, &mut Outbox, Delivery) -> Result<(), HandlerError>,
) -> anyhow::Result<Consumed> {
    consume_reading_ahead(
        consumer,
        payload,
        on_dead_letter,
        None,
        Retry::from_settings(),
        handle,
    )
}

/// How a consumer's failed deliveries are retried: `attempts` deliveries in all, the second
/// `delay_seconds` after the first failure, each later one twice as long after the one before
/// (at most 5 minutes); then the message is dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub attempts: i32,
    pub delay_seconds: i64,
}

impl Retry {
    /// Every consumer's default: `max_delivery_attempts` (5), the first retry after 1 s.
    pub fn from_settings() -> Retry {
        Retry {
            attempts: crate::config::parse("max_delivery_attempts")
                .unwrap_or(5)
                .clamp(1, 100),
            delay_seconds: 1,
        }
    }
}

/// A row that a consumer's handler reads (and locks) first, read in the same statement as the
/// "processed" mark and kept for the handler's own query ([`Db::take_ahead`]): one round trip
/// instead of two for every message.
pub struct ReadAhead {
    /// What the handler's query asks [`Db::take_ahead`] for.
    pub key: String,
    /// A `SELECT` (e.g. `… FOR UPDATE`) of at most one row whose first column is never NULL;
    /// its one parameter is `$3`.
    pub sql: String,
    pub param: db::Param,
}

/// [`consume_with`], reading `read_ahead(event)` with the "processed" mark.
pub fn consume_reading_ahead(
    consumer: &str,
    payload: &[u8],
    on_dead_letter: Option<OnDeadLetter>,
    read_ahead: Option<fn(&EventEnvelope) -> ReadAhead>,
    retry: Retry,
    handle: impl FnOnce(&Db, &EventEnvelope, &mut Outbox, Delivery) -> Result<(), HandlerError>,
) -> anyhow::Result<Consumed> {
    // Records the message's duration and flushes its metrics to Redis when it ends.
    let _timer = crate::metrics::RequestTimer::start(consumer, "event");
    let consumed = |outcome: &str| {
        let labels = [("consumer", consumer), ("outcome", outcome)];
        crate::metrics::count("spincart_events_consumed_total", &labels, 1);
    };
    let db = Db::connect()?;
    let envelope = match EventEnvelope::from_json(payload) {
        Ok(envelope) => envelope,
        Err(e) => {
            dead_letter(&db, consumer, None, None, payload, &e.to_string(), 1)?;
            consumed("dead_lettered");
            eprintln!("{consumer}: dead-lettered an unreadable message: {e}");
            return Ok(Consumed::DeadLettered);
        }
    };
    crate::metrics::log_event("consumed", Some(consumer), &envelope);
    let mut outbox = Outbox::default();
    let mut delivery = Delivery { attempt: 1 };
    let result = db.transaction(|tx| -> Result<bool, HandlerError> {
        // One statement marks the event processed (a duplicate: no row), says how many
        // deliveries failed before this one, reads the event as the event store holds it, and
        // reads ahead what the handler needs first.
        // (A function: its plans are cached per session, where a statement would be planned
        // anew every time on real Spin; migration 0011.)
        const MARK: &str = "SELECT failed_before, stored FROM messaging.mark_processed($1, $2)";
        let mark = match read_ahead.map(|read| read(&envelope)) {
            None => tx.query_opt(MARK, &[db::text(consumer), db::uuid(envelope.event_id)])?,
            Some(ahead) => {
                let rows = tx.query(
                    &format!(
                        "SELECT m.failed_before, m.stored, ahead.*
                           FROM messaging.mark_processed($1, $2) m
                           LEFT JOIN LATERAL ({}) ahead ON true",
                        ahead.sql
                    ),
                    &[db::text(consumer), db::uuid(envelope.event_id), ahead.param],
                )?;
                let mut first = rows.into_owned().into_iter().next();
                if let Some(row) = first.as_mut() {
                    tx.keep_ahead(ahead.key, row.split_off(2));
                }
                first
            }
        };
        let Some(mark) = mark else {
            return Ok(false);
        };
        let failed_before: Option<i32> = mark.get(0)?;
        delivery.attempt = u32::try_from(failed_before.unwrap_or(0)).unwrap_or(0) + 1;
        // Redis is a trust boundary: what a handler acts on is the event as the event store
        // holds it, never what the message claims. A message naming no stored event is refused.
        let stored: Option<serde_json::Value> = mark.get(1)?;
        let trusted = as_stored(&envelope, stored).map_err(HandlerError::Permanent)?;
        handle(tx, &trusted, &mut outbox, delivery)?;
        if failed_before.is_some() {
            tx.execute(
                "DELETE FROM messaging.failed_deliveries WHERE consumer = $1 AND event_id = $2",
                &[db::text(consumer), db::uuid(envelope.event_id)],
            )?;
        }
        Ok(true)
    });
    match result {
        Ok(true) => {
            consumed("applied");
            outbox.publish(&db);
            Ok(Consumed::Applied)
        }
        Ok(false) => {
            consumed("duplicate");
            Ok(Consumed::Duplicate)
        }
        Err(HandlerError::Permanent(reason)) => {
            consumed("dead_lettered");
            give_up(
                &db,
                consumer,
                &envelope,
                payload,
                &reason,
                delivery.attempt as i32,
                on_dead_letter,
            )?;
            anyhow::bail!(
                "{consumer}: {} {} dead-lettered: {reason}",
                envelope.event_type,
                envelope.event_id
            )
        }
        Err(HandlerError::Transient(reason)) => {
            let outcome = record_failure(
                &db,
                consumer,
                &envelope,
                payload,
                &reason,
                on_dead_letter,
                retry,
            )?;
            consumed(if outcome.ends_with("dead-lettered") {
                "dead_lettered"
            } else {
                "failed"
            });
            anyhow::bail!(
                "{consumer}: {} {} failed ({outcome}): {reason}",
                envelope.event_type,
                envelope.event_id
            )
        }
    }
}

/// The message's envelope with what the event store holds for its `event_id` (type,
/// correlation, aggregate and data); an error when the store has no such event, or holds it as
/// another type (a message that is not what it claims).
fn as_stored(
    message: &EventEnvelope,
    stored: Option<serde_json::Value>,
) -> Result<EventEnvelope, String> {
    let not_stored = || {
        format!(
            "{} {} is not in the event store: refused (messages are trusted only as far as the \
             event store backs them)",
            message.event_type, message.event_id
        )
    };
    let serde_json::Value::Array(fields) = stored.ok_or_else(not_stored)? else {
        return Err(not_stored());
    };
    let [event_type, correlation_id, aggregate_type, aggregate_id, aggregate_version, data] =
        <[serde_json::Value; 6]>::try_from(fields).map_err(|_| not_stored())?;
    let text = |v: serde_json::Value| v.as_str().map(str::to_owned).ok_or_else(not_stored);
    let event_type = text(event_type)?;
    if event_type != message.event_type {
        return Err(format!(
            "{} {} is stored as {event_type}: refused",
            message.event_type, message.event_id
        ));
    }
    Ok(EventEnvelope {
        event_type,
        correlation_id: text(correlation_id)?.parse().map_err(|_| not_stored())?,
        aggregate_type: text(aggregate_type)?,
        aggregate_id: text(aggregate_id)?.parse().map_err(|_| not_stored())?,
        aggregate_version: aggregate_version.as_i64().ok_or_else(not_stored)?,
        data,
        ..message.clone()
    })
}

/// Dead-letters a message (and runs the consumer's hook) in one transaction; the "processed"
/// mark is written too, so that a later copy of the message is not applied.
fn give_up(
    db: &Db,
    consumer: &str,
    envelope: &EventEnvelope,
    payload: &[u8],
    reason: &str,
    attempts: i32,
    on_dead_letter: Option<OnDeadLetter>,
) -> Result<(), DbError> {
    let mut outbox = Outbox::default();
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
        )?;
        tx.execute(
            "INSERT INTO messaging.processed_events (consumer, event_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
            &[db::text(consumer), db::uuid(envelope.event_id)],
        )?;
        if let Some(hook) = on_dead_letter {
            hook(tx, envelope, &mut outbox, reason)?;
        }
        Ok::<_, DbError>(())
    })?;
    outbox.publish(db);
    Ok(())
}

/// Records a failed delivery with exponential backoff; dead-letters it after
/// `retry.attempts`. Returns what happened, for the log.
fn record_failure(
    db: &Db,
    consumer: &str,
    envelope: &EventEnvelope,
    payload: &[u8],
    reason: &str,
    on_dead_letter: Option<OnDeadLetter>,
    retry: Retry,
) -> Result<String, DbError> {
    let max_attempts = retry.attempts;
    // The row keeps its own limit, so that the sweep dead-letters it by the same rule.
    let row = db.query_one(
        "INSERT INTO messaging.failed_deliveries
             (consumer, event_id, event_type, payload, attempts, last_error, next_attempt_at, max_attempts)
         VALUES ($1, $2, $3, $4, 1, $5, now() + make_interval(secs => $6::bigint), $7)
         ON CONFLICT (consumer, event_id) DO UPDATE
            SET attempts = messaging.failed_deliveries.attempts + 1,
                last_error = EXCLUDED.last_error,
                max_attempts = EXCLUDED.max_attempts,
                next_attempt_at = now() + least(interval '5 minutes',
                    make_interval(secs => $6::bigint) * power(2, messaging.failed_deliveries.attempts))
         RETURNING attempts",
        &[
            db::text(consumer),
            db::uuid(envelope.event_id),
            db::text(&envelope.event_type),
            payload.to_vec().into(),
            db::text(reason),
            retry.delay_seconds.into(),
            max_attempts.into(),
        ],
    )?;
    let attempts: i32 = row.get(0)?;
    if attempts >= max_attempts {
        give_up(
            db,
            consumer,
            envelope,
            payload,
            reason,
            attempts,
            on_dead_letter,
        )?;
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
    crate::metrics::count("spincart_dead_letters_total", &[("consumer", consumer)], 1);
    Ok(())
}

/// An event as stored, with its position in the store.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredEvent {
    pub position: i64,
    #[serde(flatten)]
    pub envelope: EventEnvelope,
    pub published_at: Option<String>,
}

/// Which events to read from the store (all conditions must hold).
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub correlation_id: Option<uuid::Uuid>,
    pub aggregate_id: Option<uuid::Uuid>,
    pub event_type: Option<String>,
    /// Events after this position.
    pub after_position: Option<i64>,
    /// Events that occurred after this instant (RFC 3339).
    pub after_time: Option<String>,
    /// Events with this correlation id, or of this aggregate (an order's whole history).
    pub correlation_or_aggregate: Option<(uuid::Uuid, uuid::Uuid)>,
}

const EVENT_COLUMNS: &str =
    "position, event_id, event_type, schema_version, correlation_id, causation_id,
    aggregate_type, aggregate_id, aggregate_version, platform.rfc3339(occurred_at), data,
    platform.rfc3339(published_at)";

fn stored_event(row: db::Row<'_>) -> Result<StoredEvent, DbError> {
    let schema_version: i32 = row.get(3)?;
    Ok(StoredEvent {
        position: row.get(0)?,
        envelope: EventEnvelope {
            event_id: db::id(row, 1)?,
            event_type: row.get(2)?,
            schema_version: u32::try_from(schema_version).unwrap_or(0),
            correlation_id: row.get(4)?,
            causation_id: row.get(5)?,
            aggregate_type: row.get(6)?,
            aggregate_id: row.get(7)?,
            aggregate_version: row.get(8)?,
            occurred_at: row.get(9)?,
            data: row.get(10)?,
        },
        published_at: row.get(11)?,
    })
}

/// Events matching `filter`, oldest first, at most `limit`.
pub fn query(db: &Db, filter: &EventFilter, limit: i64) -> Result<Vec<StoredEvent>, DbError> {
    let (either_correlation, either_aggregate) = filter.correlation_or_aggregate.unzip();
    let rows = db.query(
        &format!(
            "SELECT {EVENT_COLUMNS} FROM messaging.events
              WHERE ($1::uuid IS NULL OR correlation_id = $1)
                AND ($2::uuid IS NULL OR aggregate_id = $2)
                AND ($3::text IS NULL OR event_type = $3)
                AND ($4::bigint IS NULL OR position > $4)
                AND ($5::text IS NULL OR occurred_at > $5::text::timestamptz)
                AND ($6::uuid IS NULL OR correlation_id = $6 OR aggregate_id = $7)
              ORDER BY position
              LIMIT $8"
        ),
        &[
            filter
                .correlation_id
                .map(db::uuid)
                .unwrap_or(db::Param::DbNull),
            filter
                .aggregate_id
                .map(db::uuid)
                .unwrap_or(db::Param::DbNull),
            db::opt_text(filter.event_type.clone()),
            filter
                .after_position
                .map(Into::into)
                .unwrap_or(db::Param::DbNull),
            db::opt_text(filter.after_time.clone()),
            either_correlation
                .map(db::uuid)
                .unwrap_or(db::Param::DbNull),
            either_aggregate.map(db::uuid).unwrap_or(db::Param::DbNull),
            limit.into(),
        ],
    )?;
    rows.map(stored_event)
}

/// The latest stored event of `event_type` with this correlation id.
pub fn latest(
    db: &Db,
    correlation_id: uuid::Uuid,
    event_type: &str,
) -> Result<Option<EventEnvelope>, DbError> {
    db.query_opt(
        &format!(
            "SELECT {EVENT_COLUMNS} FROM messaging.events
              WHERE correlation_id = $1 AND event_type = $2 ORDER BY position DESC LIMIT 1"
        ),
        &[db::uuid(correlation_id), db::text(event_type)],
    )?
    .map(|r| stored_event(r.row()).map(|e| e.envelope))
    .transpose()
}

/// Publishes stored events again (they keep their ids, so consumers that applied them skip
/// them) and marks them published.
pub fn republish(db: &Db, envelopes: &[EventEnvelope]) -> Result<usize, DbError> {
    let published = publish_envelopes(envelopes);
    mark_published(db, &published)?;
    Ok(published.len())
}

/// Publishes a stored payload of `event_type` again (retries and dead-letter replays) on its
/// channel, the shard read from the payload's correlation id; returns the channel.
pub fn publish_raw(event_type: &str, payload: &[u8]) -> Result<String, String> {
    let shards = saga_shards()?;
    let channel = match EventEnvelope::from_json(payload) {
        Ok(envelope) => channel_of(&envelope, shards),
        // Unreadable: the saga's channels have no shard to name; shard 0 dead-letters it again.
        Err(_) => shards::channel(event_type, uuid::Uuid::nil(), shards),
    };
    let connection = crate::redis::connection()?;
    connection.publish(&channel, payload).map_err(|e| {
        crate::redis::forget();
        format!("{e:?}")
    })?;
    Ok(channel)
}

/// Events stored more than `older_than_seconds` ago and never marked published, locked for the
/// calling transaction (concurrent sweeps take different ones).
pub fn claim_unpublished(
    db: &Db,
    older_than_seconds: i64,
    limit: i64,
) -> Result<Vec<EventEnvelope>, DbError> {
    db.query(
        &format!(
            "SELECT {EVENT_COLUMNS} FROM messaging.events
              WHERE published_at IS NULL AND occurred_at < now() - make_interval(secs => $1::bigint)
              ORDER BY position
              LIMIT $2
              FOR UPDATE SKIP LOCKED"
        ),
        &[older_than_seconds.into(), limit.into()],
    )?
    .map(|r| stored_event(r).map(|e| e.envelope))
}

/// One stored event.
pub fn load(db: &Db, event_id: uuid::Uuid) -> Result<Option<EventEnvelope>, DbError> {
    db.query_opt(
        &format!("SELECT {EVENT_COLUMNS} FROM messaging.events WHERE event_id = $1"),
        &[db::uuid(event_id)],
    )?
    .map(|r| stored_event(r.row()).map(|e| e.envelope))
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(data: serde_json::Value) -> EventEnvelope {
        EventEnvelope::from_json(
            serde_json::json!({
                "event_id": "7f5b3c86-2f0e-4a5f-9a47-0b8c4f1d2e3a", "event_type": "cart.checkout_requested",
                "schema_version": 1, "correlation_id": "11111111-1111-4111-8111-111111111111",
                "causation_id": null, "aggregate_type": "cart",
                "aggregate_id": "22222222-2222-4222-8222-222222222222", "aggregate_version": 3,
                "occurred_at": "2026-12-03T10:00:00.000Z", "data": data,
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn a_handler_acts_on_the_stored_event_not_on_what_the_message_claims() {
        let forged =
            message(serde_json::json!({ "lines": [{ "product_id": "x", "quantity": 100 }] }));
        let stored = serde_json::json!([
            "cart.checkout_requested", "11111111-1111-4111-8111-111111111111", "cart",
            "22222222-2222-4222-8222-222222222222", 3, { "lines": [{ "product_id": "x", "quantity": 1 }] }
        ]);
        let trusted = as_stored(&forged, Some(stored)).unwrap();
        assert_eq!(trusted.data["lines"][0]["quantity"], 1);
        assert_eq!(trusted.event_id, forged.event_id);
    }

    #[test]
    fn a_message_the_event_store_does_not_back_is_refused() {
        let message = message(serde_json::json!({}));
        let refused = as_stored(&message, None).unwrap_err();
        assert!(refused.contains("is not in the event store"), "{refused}");
        let other_type = serde_json::json!([
            "order.confirmed",
            "11111111-1111-4111-8111-111111111111",
            "cart",
            "22222222-2222-4222-8222-222222222222",
            3,
            {}
        ]);
        let refused = as_stored(&message, Some(other_type)).unwrap_err();
        assert!(
            refused.contains("is stored as order.confirmed"),
            "{refused}"
        );
    }
}
