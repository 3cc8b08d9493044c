//! # spincart-inventory
//!
//! Inventory: stock levels, admin adjustments, and order-level reservations by reference.
//! Cart locks are taken through [`queries`] by the cart context; the saga's reservations by the
//! checkout handlers.

#![deny(unsafe_code)]

pub mod queries;
pub mod saga;

use spincart_domain::events::{Causation, EventType, NewEvent};
use spincart_domain::ids::ProductId;
use spincart_domain::inventory::{
    AdjustRequest, Adjustment, InventoryError, ReservationInput, ReservationRequest,
};

use spincart_platform::config;
use spincart_platform::db::{self, Db};
use spincart_platform::events::Outbox;
use spincart_platform::http::{ApiError, Ctx, Reply};

/// The platform, for this context's components (they depend on this crate only).
pub use spincart_platform as platform;
/// Handles a saga event with the saga locked in the same statement as the "processed" mark
/// (what every saga consumer component calls).
pub use spincart_saga::consume as consume_saga_event;

/// The aggregate type of stock events (manual adjustments and reservations).
pub const AGGREGATE: &str = "stock";

/// The API error for a refusal of inventory's: 404 for a product without stock, 409 otherwise.
pub fn refused(refusal: queries::Refusal) -> ApiError {
    match refusal {
        queries::Refusal::UnknownProduct => ApiError::not_found("Product"),
        queries::Refusal::Stock(InventoryError::Insufficient { available }) => {
            insufficient(available)
        }
        queries::Refusal::Stock(error @ InventoryError::BelowHeld { on_hand, held }) => {
            ApiError::conflict("stock_held", error.to_string())
                .with("on_hand", on_hand)
                .with("held", held)
        }
    }
}

/// 409 `insufficient_stock` with `available` and "Insufficient stock. Only N available."
pub fn insufficient(available: i64) -> ApiError {
    ApiError::conflict(
        "insufficient_stock",
        InventoryError::Insufficient { available }.to_string(),
    )
    .with("available", available)
}

/// `GET /api/v1/inventory/{productId}` → `{product_id,on_hand,locked,reserved,available}`.
pub fn get_stock(ctx: &Ctx) -> Result<Reply, ApiError> {
    let product: ProductId = ctx.path_param("product_id", "Product")?;
    let db = Db::connect()?;
    let (stock, _) = queries::stock(&db, product)?.ok_or_else(|| ApiError::not_found("Product"))?;
    Ok(Reply::ok(&stock))
}

/// `POST /api/v1/inventory/{productId}/adjust` (admin) `{delta,reason}`; 409 when on_hand would
/// drop below locked + reserved.
pub fn adjust(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.admin()?;
    let product: ProductId = ctx.path_param("product_id", "Product")?;
    let adjustment = Adjustment::parse(ctx.json::<AdjustRequest>()?)?;
    let db = Db::connect()?;
    let mut outbox = Outbox::default();
    let stock = db.transaction(|tx| -> Result<queries::StockView, ApiError> {
        let queries::Adjusted { stock, version } =
            queries::adjust(tx, product, adjustment.delta)?.map_err(refused)?;
        outbox.record(
            tx,
            NewEvent::new(
                EventType::InventoryAdjusted,
                AGGREGATE,
                product,
                version,
                &serde_json::json!({
                    "product_id": product,
                    "delta": adjustment.delta,
                    "reason": adjustment.reason,
                    "on_hand": stock.on_hand,
                    "locked": stock.locked,
                    "reserved": stock.reserved,
                    "available": stock.available,
                }),
            ),
            Causation::new_chain(ctx.request_id()),
        )?;
        Ok(stock)
    })?;
    outbox.publish(&db);
    Ok(Reply::ok(&stock))
}

/// `POST /api/v1/inventory/{productId}/reserve` (admin/internal) `{quantity,reference}`:
/// 201 when reserved now, 200 when this reference already holds the same reservation.
pub fn reserve(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.admin()?;
    let product: ProductId = ctx.path_param("product_id", "Product")?;
    let input = ReservationInput::parse(ctx.json::<ReservationRequest>()?)?;
    let ttl: i64 = config::parse("reservation_ttl_seconds").unwrap_or(86_400);
    let db = Db::connect()?;
    let mut outbox = Outbox::default();
    let (quantity, status, created) = db.transaction(|tx| -> Result<(i64, String, bool), ApiError> {
        let queries::Reservation { quantity, status, created } =
            queries::reserve(tx, &input.reference, product, input.quantity, ttl)?.map_err(refused)?;
        if created {
            let (_, version) = queries::stock(tx, product)?.ok_or_else(|| ApiError::not_found("Product"))?;
            outbox.record(
                tx,
                NewEvent::new(
                    EventType::InventoryReserved,
                    AGGREGATE,
                    product,
                    version,
                    &serde_json::json!({ "product_id": product, "reference": input.reference, "quantity": quantity }),
                ),
                Causation::new_chain(ctx.request_id()),
            )?;
        }
        Ok((quantity, status, created))
    })?;
    outbox.publish(&db);
    if quantity != input.quantity {
        return Err(ApiError::conflict(
            "reservation_mismatch",
            format!(
                "Reference {} already reserves {quantity} units of this product.",
                input.reference
            ),
        ));
    }
    let body = serde_json::json!({
        "product_id": product, "reference": input.reference, "quantity": quantity, "status": status,
    });
    Ok(Reply::json(if created { 201 } else { 200 }, &body))
}

/// `POST /api/v1/inventory/{productId}/release` (admin/internal) `{quantity,reference}`:
/// releases the reservation; releasing again changes nothing.
pub fn release(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.admin()?;
    let product: ProductId = ctx.path_param("product_id", "Product")?;
    let input = ReservationInput::parse(ctx.json::<ReservationRequest>()?)?;
    let db = Db::connect()?;
    let mut outbox = Outbox::default();
    let status = db.transaction(|tx| -> Result<String, ApiError> {
        let held = tx.query_opt(
            "SELECT quantity::bigint, status FROM inventory.reservations WHERE reference = $1 AND product_id = $2",
            &[db::text(&input.reference), db::uuid(product)],
        )?;
        let Some(held) = held else {
            return Err(ApiError::not_found("Reservation"));
        };
        let (quantity, status): (i64, String) = (held.get(0)?, held.get(1)?);
        if quantity != input.quantity {
            return Err(ApiError::conflict(
                "reservation_mismatch",
                format!("Reference {} reserves {quantity} units, not {}.", input.reference, input.quantity),
            ));
        }
        if status != "active" {
            return Ok(status);
        }
        let status: String = tx
            .query_one("SELECT inventory.release($1, $2)", &[db::text(&input.reference), db::uuid(product)])?
            .get(0)?;
        let (_, version) = queries::stock(tx, product)?.ok_or_else(|| ApiError::not_found("Product"))?;
        outbox.record(
            tx,
            NewEvent::new(
                EventType::InventoryReleased,
                AGGREGATE,
                product,
                version,
                &serde_json::json!({ "product_id": product, "reference": input.reference, "quantity": quantity }),
            ),
            Causation::new_chain(ctx.request_id()),
        )?;
        Ok(status)
    })?;
    outbox.publish(&db);
    Ok(Reply::ok(&serde_json::json!({
        "product_id": product, "reference": input.reference, "quantity": input.quantity, "status": status,
    })))
}
