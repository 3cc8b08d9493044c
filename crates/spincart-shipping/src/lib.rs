//! # spincart-shipping
//!
//! Shipping's part in the checkout saga, with the simulated carrier of
//! [`spincart_domain::shipping`]: once the payment is authorized, ask the carrier for a
//! shipment (`shipment.created` with a tracking number, or `shipment.rejected`); as a
//! compensation, cancel it; when an admin ships the order, hand the booked shipment over.
//!
//! A shipment is event-sourced like an order: [`execute`] rebuilds it from its events, lets it
//! decide, appends the new events and updates the read model (`shipping.shipments`), all in
//! the caller's transaction.

#![deny(unsafe_code)]

pub mod queries;

use spincart_domain::events::{Causation, EventEnvelope, NewEvent};
use spincart_domain::ids::{OrderId, ShipmentId};
use spincart_domain::saga::{Compensation, Fact, SagaStatus};
use spincart_domain::shipping::{
    self, CarrierAnswer, Shipment, ShipmentCommand, ShipmentError, ShipmentEvent, ShipmentStatus,
};
use spincart_platform::db::{Db, DbError};
use spincart_platform::events::{Delivery, HandlerError, Outbox};
use spincart_platform::http::ApiError;
use spincart_saga::SagaRecord;

/// The platform, for this context's components (they depend on this crate only).
pub use spincart_platform as platform;
/// Handles a saga event with the saga locked in the same statement as the "processed" mark
/// (what every saga consumer component calls).
pub use spincart_saga::consume as consume_saga_event;

/// The aggregate type of shipment events.
pub const AGGREGATE: &str = "shipment";

fn record(
    db: &Db,
    shipment: &Shipment,
    event: &ShipmentEvent,
    outbox: &mut Outbox,
    causation: Causation,
) -> Result<(), DbError> {
    outbox.record(
        db,
        NewEvent::new(
            event.event_type(),
            AGGREGATE,
            shipment.id,
            shipment.version,
            event,
        ),
        causation,
    )?;
    Ok(())
}

/// Runs `command` against `shipment`: it decides, its new events are appended with the next
/// versions and the read model is brought up to date (written even when nothing changed, so
/// that a just-requested shipment is stored).
pub fn execute(
    db: &Db,
    shipment: &mut Shipment,
    command: &ShipmentCommand,
    outbox: &mut Outbox,
    causation: Causation,
) -> Result<Result<(), ShipmentError>, DbError> {
    let new_events = match shipment.handle(command) {
        Ok(events) => events,
        Err(e) => return Ok(Err(e)),
    };
    for event in &new_events {
        shipment.apply(event);
        record(db, shipment, event, outbox, causation)?;
    }
    queries::save(db, shipment)?;
    Ok(Ok(()))
}

/// The order's shipment, or a new one requested for the order's shipping address
/// (`shipment.requested`, not yet saved).
fn requested(
    db: &Db,
    saga: &SagaRecord,
    outbox: &mut Outbox,
    causation: Causation,
) -> Result<Shipment, HandlerError> {
    if let Some(shipment) = queries::by_order(db, saga.order_id)? {
        return Ok(shipment);
    }
    let address = spincart_orders::queries::shipping_address(db, saga.order_id)?
        .ok_or_else(|| HandlerError::Permanent("the order has no shipping address".into()))?;
    let event = ShipmentEvent::Requested {
        shipment_id: ShipmentId::new(),
        order_id: saga.order_id,
        saga_id: saga.id,
        address,
    };
    let shipment = Shipment::requested(&event).expect("a Requested event");
    record(db, &shipment, &event, outbox, causation)?;
    Ok(shipment)
}

fn refused(e: ShipmentError) -> HandlerError {
    HandlerError::Permanent(e.to_string())
}

/// `payment.authorized` → ask the carrier (attempt by attempt): `shipment.created` (booked,
/// with a tracking number), `shipment.rejected`, a retryable carrier error, or silence (the
/// step deadline handles it; the request stays `requested` until then).
pub fn create(
    db: &Db,
    event: &EventEnvelope,
    outbox: &mut Outbox,
    delivery: Delivery,
) -> Result<(), HandlerError> {
    spincart_saga::step(
        db,
        event,
        outbox,
        SagaStatus::PaymentAuthorized,
        |tx, saga, outbox, causation| {
            let mut shipment = requested(tx, saga, outbox, causation)?;
            if shipment.status != ShipmentStatus::Requested {
                // Answered before: the fact was reported with that answer.
                return Ok(None);
            }
            let (command, fact) =
                match shipping::book(&shipment.address, shipment.id, delivery.attempt) {
                    CarrierAnswer::Booked { tracking_number } => (
                        Some(ShipmentCommand::Book { tracking_number }),
                        Some(Fact::ShipmentCreated),
                    ),
                    CarrierAnswer::Rejected(reason) => (
                        Some(ShipmentCommand::Reject {
                            reason: reason.clone(),
                        }),
                        Some(Fact::ShipmentRejected { reason }),
                    ),
                    CarrierAnswer::Error(error) => return Err(HandlerError::Transient(error)),
                    CarrierAnswer::NoAnswer => (None, None),
                };
            match command {
                Some(command) => {
                    execute(tx, &mut shipment, &command, outbox, causation)?.map_err(refused)?
                }
                None => queries::save(tx, &shipment)?,
            }
            Ok(fact)
        },
    )
}

/// Dead-letter hook of [`create`]: the carrier kept failing, so the shipment is rejected and
/// the saga compensates.
pub fn create_gave_up(
    db: &Db,
    event: &EventEnvelope,
    outbox: &mut Outbox,
    reason: &str,
) -> Result<(), DbError> {
    let Some(mut saga) = spincart_saga::lock_waiting(db, event, SagaStatus::PaymentAuthorized)?
    else {
        return Ok(());
    };
    let reason = format!("carrier error after retries: {reason}");
    let causation = saga.causation(Some(event.event_id.as_uuid()));
    // Without an address there is no shipment to reject; the saga compensates all the same.
    if let Ok(mut shipment) = requested(db, &saga, outbox, causation) {
        let rejected = execute(
            db,
            &mut shipment,
            &ShipmentCommand::Reject {
                reason: reason.clone(),
            },
            outbox,
            causation,
        )?;
        if let Err(e) = rejected {
            eprintln!("saga {}: shipment not rejected: {e}", saga.id);
        }
    }
    spincart_saga::report(
        db,
        &mut saga,
        Fact::ShipmentRejected { reason },
        outbox,
        Some(event.event_id.as_uuid()),
    )?;
    Ok(())
}

/// `saga.cancel_shipment_requested` → withdraw the request or cancel the booking
/// (`shipment.cancelled`); nothing requested, rejected or already cancelled: nothing to do.
pub fn cancel(db: &Db, event: &EventEnvelope, outbox: &mut Outbox) -> Result<(), HandlerError> {
    spincart_saga::compensate(
        db,
        event,
        outbox,
        Compensation::CancelShipment,
        |tx, saga, outbox, causation| {
            let Some(mut shipment) = queries::by_order(tx, saga.order_id)? else {
                return Ok(());
            };
            let reason = saga
                .saga
                .reason
                .clone()
                .unwrap_or_else(|| "compensation".into());
            execute(
                tx,
                &mut shipment,
                &ShipmentCommand::Cancel { reason },
                outbox,
                causation,
            )?
            .map_err(refused)
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
    spincart_saga::compensation_gave_up(db, event, outbox, Compensation::CancelShipment, reason)
}

/// The order ships: its booked shipment is handed to the carrier (`shipment.shipped`); handing
/// over a shipped one again changes nothing. A 409 when the order has no booked shipment.
pub fn hand_over(
    db: &Db,
    order: OrderId,
    outbox: &mut Outbox,
    causation: Causation,
) -> Result<Shipment, ApiError> {
    let mut shipment = queries::by_order(db, order)?.ok_or_else(|| {
        ApiError::conflict(
            "shipment_not_booked",
            "The order has no shipment to hand over.",
        )
    })?;
    execute(
        db,
        &mut shipment,
        &ShipmentCommand::HandOver,
        outbox,
        causation,
    )?
    .map_err(|e| {
        ApiError::conflict(
            "shipment_not_booked",
            format!("{e} Only a booked shipment can be handed to the carrier."),
        )
    })?;
    Ok(shipment)
}
