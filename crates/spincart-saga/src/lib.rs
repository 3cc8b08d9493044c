//! # spincart-saga
//!
//! Coordination of the checkout saga (a choreography over Redis pub/sub), which every
//! participant — inventory, payments, cart, checkout, operations — depends on.
//!
//! Each participant reacts to an event in its own component and transaction: it locks the saga
//! row ([`lock`]), checks that its step is still wanted ([`step`], [`compensate`]), does its
//! work, records its event, and reports the fact ([`report`]). The saga's decisions
//! ([`spincart_domain::saga`]) become events here: failures fail the order and request
//! compensations one at a time, in reverse step order (`saga.*_requested`); the last one ends
//! the saga (and, for a cancel, the order). The saga tables are in [`queries`].
//!
//! ```no_run
//! use spincart_domain::events::EventEnvelope;
//! use spincart_domain::saga::{Fact, SagaStatus};
//! use spincart_platform::db::Db;
//! use spincart_platform::events::{HandlerError, Outbox};
//!
//! /// A participant's forward step: runs only while the saga waits for it.
//! fn on_inventory_reserved(db: &Db, event: &EventEnvelope, outbox: &mut Outbox) -> Result<(), HandlerError> {
//!     spincart_saga::step(db, event, outbox, SagaStatus::InventoryReserved, |_tx, _saga, _outbox, _causation| {
//!         Ok(Some(Fact::PaymentAuthorized))
//!     })
//! }
//! # fn main() {}
//! ```

#![deny(unsafe_code)]

pub mod queries;

use spincart_domain::events::{Causation, EventType, NewEvent};
use spincart_domain::ids::{CartId, OrderId, SagaId, UserId};
use spincart_domain::order::OrderCommand;
use spincart_domain::saga::{Compensation, Decision, Fact, Saga, SagaStatus};
use spincart_platform::config;
use spincart_platform::db::{Db, DbError};
use spincart_platform::events::{HandlerError, Outbox};

/// The aggregate type of saga events (compensation requests).
pub const AGGREGATE: &str = "saga";

/// Seconds a step may take before the sweep re-drives or compensates it
/// (`saga_step_timeout_seconds`, default 30).
pub fn step_timeout_seconds() -> i64 {
    config::parse::<i64>("saga_step_timeout_seconds")
        .unwrap_or(30)
        .clamp(1, 86_400)
}

/// Seconds a compensation may take before the sweep re-drives it or gives it up
/// (`saga_compensation_timeout_seconds`, default 30).
pub fn compensation_timeout_seconds() -> i64 {
    config::parse::<i64>("saga_compensation_timeout_seconds")
        .unwrap_or(30)
        .clamp(1, 86_400)
}

/// The deadline a saga gets while it is in `status`.
pub fn deadline_seconds(status: SagaStatus) -> i64 {
    if status == SagaStatus::Compensating {
        compensation_timeout_seconds()
    } else {
        step_timeout_seconds()
    }
}

/// How a saga step (or compensation) whose handler fails is retried
/// (`saga_retry_attempts`, default 5 deliveries in all; `saga_retry_delay_seconds`, default 1,
/// doubling after each failure) before it is dead-lettered and the saga compensates (or, for a
/// compensation, shows COMPENSATION_FAILED).
pub fn retry() -> spincart_platform::events::Retry {
    spincart_platform::events::Retry {
        attempts: config::parse::<i32>("saga_retry_attempts")
            .unwrap_or(5)
            .clamp(1, 100),
        delay_seconds: config::parse::<i64>("saga_retry_delay_seconds")
            .unwrap_or(1)
            .clamp(1, 3_600),
    }
}

/// How many times the sweep re-publishes a step's event before giving up on the step.
pub const MAX_REDRIVES: i32 = 1;

/// A saga as stored, locked for the transaction that loaded it.
#[derive(Debug, Clone)]
pub struct SagaRecord {
    pub id: SagaId,
    pub order_id: OrderId,
    pub cart_id: CartId,
    pub user_id: UserId,
    pub saga: Saga,
    pub payment_token: String,
    pub redrives: i32,
    pub version: i64,
    /// Seconds since checkout, when the row was read (in the database's clock).
    pub age_seconds: f64,
}

impl SagaRecord {
    /// Events about this saga carry its id as correlation id.
    pub fn causation(&self, cause: Option<uuid::Uuid>) -> Causation {
        Causation {
            correlation_id: self.id.as_uuid(),
            causation_id: cause,
        }
    }
}

/// Locks the saga's row for this transaction.
pub fn lock(db: &Db, id: SagaId) -> Result<Option<SagaRecord>, DbError> {
    queries::lock(db, id)
}

/// The saga `event` belongs to, locked, if it still waits in `status` (what a step's
/// dead-letter hook acts on; a saga that moved on is left alone).
pub fn lock_waiting(
    db: &Db,
    event: &spincart_domain::events::EventEnvelope,
    status: SagaStatus,
) -> Result<Option<SagaRecord>, DbError> {
    Ok(lock(db, SagaId::from_uuid(event.correlation_id))?.filter(|r| r.saga.status == status))
}

/// Handles one saga event for `consumer` ([`spincart_platform::events::consume_with`]), with
/// the saga row locked in the same statement as the "processed" mark: every saga participant
/// locks its saga first, so this saves a round trip per message.
pub fn consume(
    consumer: &str,
    payload: &[u8],
    on_dead_letter: Option<spincart_platform::events::OnDeadLetter>,
    handle: impl FnOnce(
        &Db,
        &spincart_domain::events::EventEnvelope,
        &mut Outbox,
        spincart_platform::events::Delivery,
    ) -> Result<(), HandlerError>,
) -> anyhow::Result<spincart_platform::events::Consumed> {
    spincart_platform::events::consume_reading_ahead(
        consumer,
        payload,
        on_dead_letter,
        Some(queries::lock_ahead),
        retry(),
        handle,
    )
}

fn request_type(c: Compensation) -> EventType {
    match c {
        Compensation::CancelShipment => EventType::SagaCancelShipmentRequested,
        Compensation::CancelPayment => EventType::SagaCancelPaymentRequested,
        Compensation::ReleaseInventory => EventType::SagaReleaseInventoryRequested,
        Compensation::RestoreCart => EventType::SagaRestoreCartRequested,
    }
}

/// Records the request for compensation `c` (its component reacts to it).
fn request(
    db: &Db,
    record: &mut SagaRecord,
    c: Compensation,
    outbox: &mut Outbox,
    cause: Option<uuid::Uuid>,
) -> Result<(), DbError> {
    record.version += 1;
    outbox.record(
        db,
        NewEvent::new(
            request_type(c),
            AGGREGATE,
            record.id,
            record.version,
            &serde_json::json!({
                "saga_id": record.id, "order_id": record.order_id, "cart_id": record.cart_id,
                "compensation": c.as_str(),
            }),
        ),
        record.causation(cause),
    )?;
    Ok(())
}

/// Reports `fact` to the saga (in the caller's transaction, with the saga locked): decides,
/// records what the decision implies, saves and logs. Returns the decision.
pub fn report(
    db: &Db,
    record: &mut SagaRecord,
    fact: Fact,
    outbox: &mut Outbox,
    cause: Option<uuid::Uuid>,
) -> Result<Decision, DbError> {
    let from = record.saga.status;
    let step = record.saga.current_step().map(|s| s.as_str().to_owned());
    let decision = record.saga.decide(&fact);
    record.saga.apply(&decision);
    let causation = record.causation(cause);
    // The log entries of this decision are written with the saga's new state, in one statement.
    let mut log = Vec::new();
    match &decision {
        Decision::Ignore { why } => {
            queries::log(
                db,
                record.id,
                "note",
                step.as_deref(),
                from,
                from,
                &format!("ignored {fact:?}: {why}"),
            )?;
            return Ok(decision);
        }
        Decision::Advance { to } => {
            log.push(queries::NewLogEntry::new(
                "transition",
                step.as_deref(),
                from,
                *to,
                &format!("{fact:?}"),
            ));
        }
        Decision::Compensate {
            plan,
            reason,
            cancel,
        } => {
            if !cancel {
                // A cancel already recorded order.cancel_requested; a failure fails the order.
                let failed = spincart_orders::execute(
                    db,
                    record.order_id,
                    &OrderCommand::Fail {
                        reason: reason.clone(),
                    },
                    outbox,
                    causation,
                )?;
                if let Err(e) = failed {
                    eprintln!("saga {}: order not failed: {e}", record.id);
                }
            }
            log.push(queries::NewLogEntry::new(
                "transition",
                step.as_deref(),
                from,
                SagaStatus::Compensating,
                reason,
            ));
            request(db, record, plan[0], outbox, cause)?;
        }
        Decision::NextCompensation { done, next } => {
            log.push(queries::NewLogEntry::new(
                "compensation",
                Some(done.as_str()),
                from,
                from,
                "done",
            ));
            request(db, record, *next, outbox, cause)?;
        }
        Decision::Finish { done, to } => {
            log.push(queries::NewLogEntry::new(
                "compensation",
                Some(done.as_str()),
                from,
                from,
                "done",
            ));
            log.push(queries::NewLogEntry::new(
                "transition",
                None,
                from,
                *to,
                "compensations done",
            ));
            if *to == SagaStatus::Cancelled {
                let cancelled = spincart_orders::execute(
                    db,
                    record.order_id,
                    &OrderCommand::CompleteCancel,
                    outbox,
                    causation,
                )?;
                if let Err(e) = cancelled {
                    eprintln!("saga {}: order not cancelled: {e}", record.id);
                }
            }
        }
        Decision::GiveUp {
            compensation,
            reason,
        } => {
            log.push(queries::NewLogEntry::new(
                "compensation",
                Some(compensation.as_str()),
                from,
                from,
                &format!("failed: {reason}"),
            ));
            log.push(queries::NewLogEntry::new(
                "transition",
                None,
                from,
                SagaStatus::CompensationFailed,
                reason,
            ));
        }
        Decision::RetryCompensation { compensation } => {
            log.push(queries::NewLogEntry::new(
                "transition",
                Some(compensation.as_str()),
                from,
                SagaStatus::Compensating,
                "retried by an admin",
            ));
            request(db, record, *compensation, outbox, cause)?;
        }
    }
    record.redrives = 0;
    queries::save(db, record, deadline_seconds(record.saga.status), &log)?;
    if record.saga.status.is_terminal() && record.saga.status != from {
        spincart_platform::metrics::observe(
            "spincart_saga_duration_seconds",
            &[("outcome", &record.saga.status.as_str().to_ascii_lowercase())],
            record.age_seconds,
        );
    }
    Ok(decision)
}

/// A forward step's handler: locks the saga named by the event's correlation id and, if the
/// saga is still `expected`, runs `work`, which does the step and returns the fact to report
/// (none while waiting for an answer). Anything else (a duplicate, a late or out-of-order
/// message, a saga that moved on) is skipped.
pub fn step(
    db: &Db,
    event: &spincart_domain::events::EventEnvelope,
    outbox: &mut Outbox,
    expected: SagaStatus,
    work: impl FnOnce(&Db, &SagaRecord, &mut Outbox, Causation) -> Result<Option<Fact>, HandlerError>,
) -> Result<(), HandlerError> {
    let id = SagaId::from_uuid(event.correlation_id);
    let Some(mut record) = lock(db, id)? else {
        return Err(HandlerError::Permanent(format!("no saga {id}")));
    };
    if record.saga.status != expected {
        queries::log(
            db,
            id,
            "note",
            None,
            record.saga.status,
            record.saga.status,
            &format!(
                "skipped {} {}: saga is not {}",
                event.event_type,
                event.event_id,
                expected.as_str()
            ),
        )?;
        return Ok(());
    }
    let causation = record.causation(Some(event.event_id.as_uuid()));
    if let Some(fact) = work(db, &record, outbox, causation)? {
        report(
            db,
            &mut record,
            fact,
            outbox,
            Some(event.event_id.as_uuid()),
        )?;
    }
    Ok(())
}

/// A compensation's handler: runs `work` if `compensation` is the one the saga is waiting for,
/// then reports it done (which requests the next one or ends the saga).
pub fn compensate(
    db: &Db,
    event: &spincart_domain::events::EventEnvelope,
    outbox: &mut Outbox,
    compensation: Compensation,
    work: impl FnOnce(&Db, &SagaRecord, &mut Outbox, Causation) -> Result<(), HandlerError>,
) -> Result<(), HandlerError> {
    let id = SagaId::from_uuid(event.correlation_id);
    let Some(mut record) = lock(db, id)? else {
        return Err(HandlerError::Permanent(format!("no saga {id}")));
    };
    if record.saga.current_compensation() != Some(compensation) {
        return Ok(());
    }
    let causation = record.causation(Some(event.event_id.as_uuid()));
    work(db, &record, outbox, causation)?;
    report(
        db,
        &mut record,
        Fact::Compensated(compensation),
        outbox,
        Some(event.event_id.as_uuid()),
    )?;
    Ok(())
}

/// Dead-letter hook of a compensation's handler: the compensation failed for good.
pub fn compensation_gave_up(
    db: &Db,
    event: &spincart_domain::events::EventEnvelope,
    outbox: &mut Outbox,
    compensation: Compensation,
    reason: &str,
) -> Result<(), DbError> {
    if let Some(mut record) = lock(db, SagaId::from_uuid(event.correlation_id))? {
        report(
            db,
            &mut record,
            Fact::CompensationFailed {
                compensation,
                reason: reason.to_owned(),
            },
            outbox,
            Some(event.event_id.as_uuid()),
        )?;
    }
    Ok(())
}

/// The stored event that started the step (or compensation) the saga is waiting on, to publish
/// again when its deadline passes.
pub fn last_step_event(
    db: &Db,
    record: &SagaRecord,
) -> Result<Option<spincart_domain::events::EventEnvelope>, DbError> {
    let event_type = match record.saga.status {
        SagaStatus::Pending => EventType::CartCheckoutRequested,
        SagaStatus::InventoryReserved => EventType::InventoryReserved,
        SagaStatus::PaymentAuthorized => EventType::PaymentAuthorized,
        SagaStatus::ShipmentCreated => EventType::ShipmentCreated,
        SagaStatus::Compensating => match record.saga.current_compensation() {
            Some(c) => request_type(c),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    spincart_platform::events::latest(db, record.id.as_uuid(), event_type.as_str())
}
