//! Inventory's part in the checkout saga: turning a cart's locks into the order's reservations
//! (all lines or none), releasing them as a compensation, keeping them once the order is
//! confirmed, and letting them leave with a shipment.

use serde::{Deserialize, Serialize};
use spincart_domain::events::{Causation, EventEnvelope, EventType, NewEvent};
use spincart_domain::ids::{OrderId, ProductId};
use spincart_domain::order::Order;
use spincart_domain::saga::{Compensation, Fact, SagaStatus};

use spincart_platform::db::{self, Db, DbError};
use spincart_platform::events::{HandlerError, Outbox};
use spincart_platform::{config, http::ApiError};
use spincart_saga;

/// The aggregate type of an order's reservation events.
pub const RESERVATION: &str = "reservation";

/// How reservations of an order are referenced.
pub fn reference(order: OrderId) -> String {
    format!("order:{order}")
}

/// A product and a number of its units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Units {
    pub product_id: ProductId,
    pub quantity: i64,
}

fn units(rows: &db::Rows) -> Result<Vec<Units>, DbError> {
    rows.map(|r| {
        let quantity: i32 = r.get(1)?;
        Ok(Units {
            product_id: db::id(r, 0)?,
            quantity: quantity.into(),
        })
    })
}

#[derive(Deserialize)]
struct CheckoutRequested {
    lines: Vec<Units>,
}

/// `cart.checkout_requested` → the order's reservations, then `inventory.reserved`, or
/// `inventory.rejected` naming the first line that cannot be had.
pub fn reserve_for_order(
    db: &Db,
    event: &EventEnvelope,
    outbox: &mut Outbox,
) -> Result<(), HandlerError> {
    let data: CheckoutRequested = event.data_as()?;
    spincart_saga::step(
        db,
        event,
        outbox,
        SagaStatus::Pending,
        |tx, saga, outbox, causation| {
            let ttl: i64 = config::parse("reservation_ttl_seconds").unwrap_or(86_400);
            let lines = serde_json::to_value(&data.lines).expect("lines serialize");
            let row = tx.query_one(
                "SELECT reserved, short_product, short_available
               FROM inventory.reserve_for_order($1, $2, $3, $4::bigint::integer)",
                &[
                    db::uuid(saga.cart_id),
                    db::text(reference(saga.order_id)),
                    db::json(&lines),
                    ttl.into(),
                ],
            )?;
            let base = serde_json::json!({ "saga_id": saga.id, "order_id": saga.order_id, "cart_id": saga.cart_id });
            if row.get::<bool>(0)? {
                let mut data = base;
                data["lines"] = lines;
                outbox.record(
                    tx,
                    NewEvent::new(
                        EventType::InventoryReserved,
                        RESERVATION,
                        saga.order_id,
                        1,
                        &data,
                    ),
                    causation,
                )?;
                return Ok(Some(Fact::InventoryReserved));
            }
            let product: Option<uuid::Uuid> = row.get(1)?;
            let available: Option<i32> = row.get(2)?;
            let reason = format!(
                "insufficient stock for product {}: only {} available",
                product.map(|p| p.to_string()).unwrap_or_default(),
                available.unwrap_or(0)
            );
            let mut data = base;
            data["product_id"] = serde_json::json!(product);
            data["available"] = serde_json::json!(available);
            data["reason"] = serde_json::json!(reason);
            outbox.record(
                tx,
                NewEvent::new(
                    EventType::InventoryRejected,
                    RESERVATION,
                    saga.order_id,
                    1,
                    &data,
                ),
                causation,
            )?;
            Ok(Some(Fact::InventoryRejected { reason }))
        },
    )
}

/// `saga.release_inventory_requested` → the order's held reservations go back to stock
/// (`inventory.released`); nothing held, nothing to do.
pub fn release_for_order(
    db: &Db,
    event: &EventEnvelope,
    outbox: &mut Outbox,
) -> Result<(), HandlerError> {
    spincart_saga::compensate(
        db,
        event,
        outbox,
        Compensation::ReleaseInventory,
        |tx, saga, outbox, causation| {
            let released = units(&tx.query(
                "SELECT product_id, quantity FROM inventory.release_reference($1)",
                &[db::text(reference(saga.order_id))],
            )?)?;
            if !released.is_empty() {
                outbox.record(
                tx,
                NewEvent::new(
                    EventType::InventoryReleased,
                    RESERVATION,
                    saga.order_id,
                    2,
                    &serde_json::json!({ "saga_id": saga.id, "order_id": saga.order_id, "lines": released }),
                ),
                causation,
            )?;
            }
            Ok(())
        },
    )
}

/// Dead-letter hook of [`release_for_order`].
pub fn release_gave_up(
    db: &Db,
    event: &EventEnvelope,
    outbox: &mut Outbox,
    reason: &str,
) -> Result<(), DbError> {
    spincart_saga::compensation_gave_up(db, event, outbox, Compensation::ReleaseInventory, reason)
}

/// `order.confirmed` → the order's reservations no longer expire.
pub fn commit_for_order(
    db: &Db,
    event: &EventEnvelope,
    outbox: &mut Outbox,
) -> Result<(), HandlerError> {
    spincart_saga::step(
        db,
        event,
        outbox,
        SagaStatus::Confirmed,
        |tx, saga, _, _| {
            tx.execute(
                "SELECT inventory.commit_reference($1)",
                &[db::text(reference(saga.order_id))],
            )?;
            Ok(None)
        },
    )
}

/// Ships an order: its reserved units leave `on_hand` (`inventory.shipped`).
pub fn ship(
    db: &Db,
    order: &Order,
    outbox: &mut Outbox,
    causation: Causation,
) -> Result<(), ApiError> {
    let shipped = units(&db.query(
        "SELECT product_id, quantity FROM inventory.ship_reference($1)",
        &[db::text(reference(order.id))],
    )?)?;
    if shipped.is_empty() {
        return Err(ApiError::conflict(
            "nothing_reserved",
            "No stock is reserved for this order.",
        ));
    }
    outbox.record(
        db,
        NewEvent::new(
            EventType::InventoryShipped,
            RESERVATION,
            order.id,
            2,
            &serde_json::json!({ "order_id": order.id, "lines": shipped }),
        ),
        causation,
    )?;
    Ok(())
}
