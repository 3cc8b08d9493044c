//! The cart's part in the checkout saga: it goes to CHECKING_OUT with the checkout (the saga's
//! first event), is cleared once the order is confirmed, and is put back to ACTIVE — its stock
//! locked again where still possible — as the last compensation of a failed or cancelled
//! checkout.

use spincart_domain::cart::{Cart, CartStatus};
use spincart_domain::events::{Causation, EventEnvelope, EventType, NewEvent};
use spincart_domain::ids::{OrderId, SagaId};
use spincart_domain::money::Money;
use spincart_domain::order::OrderLine;
use spincart_domain::saga::{Compensation, SagaStatus};

use super::{queries, settings, AGGREGATE};
use spincart_platform::db::{self, Db, DbError};
use spincart_platform::events::{HandlerError, Outbox};
use spincart_saga;

fn set_status(db: &Db, cart: &Cart, status: CartStatus) -> Result<i64, DbError> {
    db.query_one(
        "UPDATE cart.carts SET status = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING version",
        &[db::uuid(cart.id), db::text(status.as_str())],
    )?
    .get(0)
}

/// Checkout: the cart goes to CHECKING_OUT and `cart.checkout_requested` — the saga's first
/// event — is recorded.
#[allow(clippy::too_many_arguments)]
pub fn begin_checkout(
    db: &Db,
    cart: &Cart,
    saga: SagaId,
    order: OrderId,
    lines: &[OrderLine],
    total: &Money,
    outbox: &mut Outbox,
    causation: Causation,
) -> Result<(), DbError> {
    let version = set_status(db, cart, CartStatus::CheckingOut)?;
    let data = serde_json::json!({
        "saga_id": saga, "order_id": order, "cart_id": cart.id, "user_id": cart.user_id,
        "lines": lines.iter().map(|l| serde_json::json!({ "product_id": l.product_id, "quantity": l.quantity })).collect::<Vec<_>>(),
        "total": total.amount(), "currency": total.currency(),
    });
    outbox.record(
        db,
        NewEvent::new(
            EventType::CartCheckoutRequested,
            AGGREGATE,
            cart.id,
            version,
            &data,
        ),
        causation,
    )?;
    Ok(())
}

/// `order.confirmed` → the cart is cleared (`cart.cleared`) and becomes CHECKED_OUT.
pub fn clear_after_order(
    db: &Db,
    event: &EventEnvelope,
    outbox: &mut Outbox,
) -> Result<(), HandlerError> {
    spincart_saga::step(
        db,
        event,
        outbox,
        SagaStatus::Confirmed,
        |tx, saga, outbox, causation| {
            let Some(version) = queries::finish_checkout(tx, saga.cart_id)? else {
                return Ok(None);
            };
            outbox.record(
                tx,
                NewEvent::new(
                    EventType::CartCleared,
                    AGGREGATE,
                    saga.cart_id,
                    version,
                    &serde_json::json!({ "cart_id": saga.cart_id, "order_id": saga.order_id, "reason": "checked_out" }),
                ),
                causation,
            )?;
            Ok(None)
        },
    )
}

/// `saga.restore_cart_requested` → the cart is ACTIVE again with its lines, each line's stock
/// locked again if it is still there (`cart.restored` says which were).
pub fn restore(db: &Db, event: &EventEnvelope, outbox: &mut Outbox) -> Result<(), HandlerError> {
    spincart_saga::compensate(
        db,
        event,
        outbox,
        Compensation::RestoreCart,
        |tx, saga, outbox, causation| {
            let Some(cart) = queries::load_for_update(tx, saga.cart_id)? else {
                return Ok(());
            };
            if cart.status != CartStatus::CheckingOut {
                return Ok(());
            }
            let ttl = settings().lock_ttl_seconds;
            let mut relocked = Vec::new();
            let mut unavailable = Vec::new();
            for line in &cart.lines {
                let locked: bool = tx
                    .query_one(
                        "SELECT inventory.try_set_cart_lock($1, $2, $3, $4::bigint::integer)",
                        &[
                            db::uuid(cart.id),
                            db::uuid(line.product_id),
                            (line.quantity.get() as i32).into(),
                            ttl.into(),
                        ],
                    )?
                    .get(0)?;
                if locked {
                    &mut relocked
                } else {
                    &mut unavailable
                }
                .push(line.product_id);
            }
            let version = set_status(tx, &cart, CartStatus::Active)?;
            outbox.record(
            tx,
            NewEvent::new(
                EventType::CartRestored,
                AGGREGATE,
                cart.id,
                version,
                &serde_json::json!({
                    "cart_id": cart.id, "order_id": saga.order_id, "relocked": relocked, "unavailable": unavailable,
                }),
            ),
            causation,
        )?;
            Ok(())
        },
    )
}

/// Dead-letter hook of [`restore`].
pub fn restore_gave_up(
    db: &Db,
    event: &EventEnvelope,
    outbox: &mut Outbox,
    reason: &str,
) -> Result<(), DbError> {
    spincart_saga::compensation_gave_up(db, event, outbox, Compensation::RestoreCart, reason)
}
