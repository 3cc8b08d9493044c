//! SQL of the shipping context (schema `shipping`): a shipment's events (in the event store,
//! aggregate `shipment`) and its read model.

use spincart_domain::ids::OrderId;
use spincart_domain::shipping::{Shipment, ShipmentEvent};
use spincart_platform::db::{self, Db, DbError};

use super::AGGREGATE;

fn decode(column: usize, e: impl std::fmt::Display) -> DbError {
    DbError::Decode {
        column,
        message: e.to_string(),
    }
}

/// The order's shipment, rebuilt from its events (one statement); `None` before the saga asked
/// the carrier for one.
pub fn by_order(db: &Db, order: OrderId) -> Result<Option<Shipment>, DbError> {
    let events = db
        .query(
            "SELECT e.data FROM shipping.shipments s
               JOIN messaging.events e ON e.aggregate_type = $2 AND e.aggregate_id = s.id
              WHERE s.order_id = $1
              ORDER BY e.aggregate_version",
            &[db::uuid(order), db::text(AGGREGATE)],
        )?
        .map(|row| {
            let data: serde_json::Value = row.get(0)?;
            serde_json::from_value::<ShipmentEvent>(data).map_err(|e| decode(0, e))
        })?;
    Ok(Shipment::from_events(&events))
}

/// Brings the read model to the shipment's current state (creating it with its first event).
pub fn save(db: &Db, s: &Shipment) -> Result<(), DbError> {
    let address = serde_json::to_value(&s.address).map_err(|e| decode(5, e))?;
    db.execute(
        "INSERT INTO shipping.shipments
             (id, order_id, saga_id, status, tracking_number, address, reason, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE
            SET status = EXCLUDED.status, tracking_number = EXCLUDED.tracking_number,
                reason = EXCLUDED.reason, version = EXCLUDED.version, updated_at = now()",
        &[
            db::uuid(s.id),
            db::uuid(s.order_id),
            db::uuid(s.saga_id),
            db::text(s.status.as_str()),
            db::opt_text(s.tracking_number.clone()),
            db::json(&address),
            db::opt_text(s.reason.clone()),
            s.version.into(),
        ],
    )?;
    Ok(())
}
