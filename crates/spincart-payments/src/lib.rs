//! # spincart-payments
//!
//! Payments' part in the checkout saga, with the simulated provider of
//! [`spincart_domain::payment`]: authorize when stock is reserved, capture when the order is
//! confirmed, and — as a compensation — void an authorization, refund a capture, or cancel an
//! authorization still waiting for the provider.

#![deny(unsafe_code)]

pub mod queries;

use spincart_domain::events::{EventEnvelope, EventType, NewEvent};
use spincart_domain::money::format_minor;
use spincart_domain::payment::{self, PaymentStatus, ProviderAnswer, Undo};
use spincart_domain::saga::{Compensation, Fact, SagaStatus};

use spincart_platform::db::{Db, DbError};
use spincart_platform::events::{Delivery, HandlerError, Outbox};
use spincart_saga::{self, SagaRecord};

/// The platform, for this context's components (they depend on this crate only).
pub use spincart_platform as platform;
/// Handles a saga event with the saga locked in the same statement as the "processed" mark
/// (what every saga consumer component calls).
pub use spincart_saga::consume as consume_saga_event;

/// The aggregate type of payment events.
pub const AGGREGATE: &str = "payment";

/// A payment event to record: its type, the payment as it is now, the amount it is about, and
/// anything else its data should say.
struct PaymentNews<'a> {
    event_type: EventType,
    payment: &'a queries::PaymentRow,
    amount_minor: i64,
    extra: serde_json::Value,
}

fn record(
    db: &Db,
    outbox: &mut Outbox,
    saga: &SagaRecord,
    causation: spincart_domain::events::Causation,
    news: PaymentNews<'_>,
) -> Result<(), DbError> {
    let p = news.payment;
    let mut data = serde_json::json!({
        "payment_id": p.id, "order_id": saga.order_id, "saga_id": saga.id,
        "amount": format_minor(news.amount_minor), "currency": p.currency,
    });
    if let (Some(data), serde_json::Value::Object(extra)) = (data.as_object_mut(), news.extra) {
        data.extend(extra);
    }
    outbox.record(
        db,
        NewEvent::new(news.event_type, AGGREGATE, p.id, p.version, &data),
        causation,
    )?;
    Ok(())
}

/// `inventory.reserved` → ask the provider (attempt by attempt): `payment.authorized`,
/// `payment.declined`, a retryable error, or silence (the step deadline handles it).
pub fn authorize(
    db: &Db,
    event: &EventEnvelope,
    outbox: &mut Outbox,
    delivery: Delivery,
) -> Result<(), HandlerError> {
    spincart_saga::step(
        db,
        event,
        outbox,
        SagaStatus::InventoryReserved,
        |tx, saga, outbox, causation| {
            if queries::by_order(tx, saga.order_id)?
                .is_some_and(|p| p.status != PaymentStatus::Pending)
            {
                return Ok(None);
            }
            let (amount, currency) = spincart_orders::queries::amount(tx, saga.order_id)?;
            let attempt = |status, error: Option<&str>| {
                queries::record_attempt(
                    tx,
                    saga.order_id,
                    saga.id,
                    &saga.payment_token,
                    amount,
                    &currency,
                    status,
                    delivery.attempt,
                    error,
                )
            };
            match payment::authorize(&saga.payment_token, delivery.attempt) {
                ProviderAnswer::Authorized => {
                    let p = attempt(PaymentStatus::Authorized, None)?;
                    record(
                        tx,
                        outbox,
                        saga,
                        causation,
                        PaymentNews {
                            event_type: EventType::PaymentAuthorized,
                            payment: &p,
                            amount_minor: amount,
                            extra: serde_json::json!({}),
                        },
                    )?;
                    Ok(Some(Fact::PaymentAuthorized))
                }
                ProviderAnswer::Declined(reason) => {
                    let p = attempt(PaymentStatus::Declined, Some(&reason))?;
                    record(
                        tx,
                        outbox,
                        saga,
                        causation,
                        PaymentNews {
                            event_type: EventType::PaymentDeclined,
                            payment: &p,
                            amount_minor: amount,
                            extra: serde_json::json!({ "reason": reason }),
                        },
                    )?;
                    Ok(Some(Fact::PaymentDeclined { reason }))
                }
                ProviderAnswer::Error(error) => Err(HandlerError::Transient(error)),
                ProviderAnswer::NoAnswer => {
                    attempt(PaymentStatus::Pending, None)?;
                    Ok(None)
                }
            }
        },
    )
}

/// Dead-letter hook of [`authorize`]: the provider kept failing, so the payment is declined
/// and the saga compensates.
pub fn authorize_gave_up(
    db: &Db,
    event: &EventEnvelope,
    outbox: &mut Outbox,
    reason: &str,
) -> Result<(), DbError> {
    let Some(mut saga) = spincart_saga::lock_waiting(db, event, SagaStatus::InventoryReserved)?
    else {
        return Ok(());
    };
    let (amount, currency) = spincart_orders::queries::amount(db, saga.order_id)?;
    let reason = format!("payment provider error after retries: {reason}");
    let attempts = spincart_saga::retry().attempts;
    let p = queries::record_attempt(
        db,
        saga.order_id,
        saga.id,
        &saga.payment_token,
        amount,
        &currency,
        PaymentStatus::Declined,
        attempts as u32,
        Some(&reason),
    )?;
    let causation = saga.causation(Some(event.event_id.as_uuid()));
    record(
        db,
        outbox,
        &saga,
        causation,
        PaymentNews {
            event_type: EventType::PaymentDeclined,
            payment: &p,
            amount_minor: amount,
            extra: serde_json::json!({ "reason": reason }),
        },
    )?;
    spincart_saga::report(
        db,
        &mut saga,
        Fact::PaymentDeclined { reason },
        outbox,
        Some(event.event_id.as_uuid()),
    )?;
    Ok(())
}

/// `order.confirmed` → capture the authorization (`payment.captured`).
pub fn capture(db: &Db, event: &EventEnvelope, outbox: &mut Outbox) -> Result<(), HandlerError> {
    spincart_saga::step(
        db,
        event,
        outbox,
        SagaStatus::Confirmed,
        |tx, saga, outbox, causation| {
            if let Some(p) = queries::by_order(tx, saga.order_id)? {
                if p.status == PaymentStatus::Authorized {
                    let version = queries::set_status(
                        tx,
                        p.id,
                        PaymentStatus::Captured,
                        Some(p.amount_minor),
                        None,
                    )?;
                    let p = queries::PaymentRow { version, ..p };
                    record(
                        tx,
                        outbox,
                        saga,
                        causation,
                        PaymentNews {
                            event_type: EventType::PaymentCaptured,
                            payment: &p,
                            amount_minor: p.amount_minor,
                            extra: serde_json::json!({}),
                        },
                    )?;
                }
            }
            Ok(None)
        },
    )
}

/// `saga.cancel_payment_requested` → void, refund (the whole capture) or cancel a pending
/// authorization; nothing taken, nothing to do.
pub fn cancel(db: &Db, event: &EventEnvelope, outbox: &mut Outbox) -> Result<(), HandlerError> {
    spincart_saga::compensate(
        db,
        event,
        outbox,
        Compensation::CancelPayment,
        |tx, saga, outbox, causation| {
            let payment = queries::by_order(tx, saga.order_id)?;
            let Some(p) = payment else { return Ok(()) };
            let (status, refunded_minor, event_type, amount_minor, extra) =
                match payment::undo(Some(p.status)) {
                    Undo::Void => (
                        PaymentStatus::Voided,
                        None,
                        EventType::PaymentVoided,
                        p.amount_minor,
                        serde_json::json!({ "was": "authorized" }),
                    ),
                    Undo::Refund => (
                        PaymentStatus::Refunded,
                        Some(p.captured_minor),
                        EventType::PaymentRefunded,
                        p.captured_minor,
                        serde_json::json!({}),
                    ),
                    Undo::CancelPending => (
                        PaymentStatus::Cancelled,
                        None,
                        EventType::PaymentVoided,
                        0,
                        serde_json::json!({ "was": "pending" }),
                    ),
                    Undo::Nothing => return Ok(()),
                };
            let version = queries::set_status(tx, p.id, status, None, refunded_minor)?;
            let p = queries::PaymentRow { version, ..p };
            record(
                tx,
                outbox,
                saga,
                causation,
                PaymentNews {
                    event_type,
                    payment: &p,
                    amount_minor,
                    extra,
                },
            )?;
            Ok(())
        },
    )
}

/// Dead-letter hook of [`cancel`].
pub fn cancel_gave_up(
    db: &Db,
    event: &EventEnvelope,
    outbox: &mut Outbox,
    reason: &str,
) -> Result<(), DbError> {
    spincart_saga::compensation_gave_up(db, event, outbox, Compensation::CancelPayment, reason)
}
