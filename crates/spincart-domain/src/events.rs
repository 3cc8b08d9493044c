//! The event envelope of CONTRACT.md §5 and the one list of event types (= Redis channels).
//!
//! Every state change writes its event to the event store in the same transaction, then
//! publishes the envelope as JSON on the channel named after `event_type`.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::EventId;

/// The current version of every event's `data` schema.
pub const SCHEMA_VERSION: u32 = 1;

macro_rules! event_types {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, )*) => {
        /// Every event type spincart emits. The Redis channel of an event is its type's name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $( $(#[$doc])* $variant, )*
        }

        impl EventType {
            /// All event types, in declaration order.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            /// The event type's name, which is also its Redis channel.
            pub const fn as_str(&self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)*
                }
            }

            /// The type with this name.
            pub fn parse(name: &str) -> Option<EventType> {
                match name {
                    $($name => Some(EventType::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

event_types! {
    /// A user registered.
    UserRegistered = "user.registered",
    /// An operator gave a user a role, or took it (`spincart-admin`).
    UserRoleChanged = "user.role_changed",
    /// An admin created a product (with its initial stock).
    ProductCreated = "catalog.product_created",
    /// An admin changed a product's name, description, category or price.
    ProductUpdated = "catalog.product_updated",
    /// An admin restocked or shrank a product's on-hand stock.
    InventoryAdjusted = "inventory.adjusted",
    /// Stock was reserved for an order (checkout saga step 2, or the reserve endpoint).
    InventoryReserved = "inventory.reserved",
    /// Stock could not be reserved for an order.
    InventoryRejected = "inventory.rejected",
    /// A reservation was given back (compensation, cancel, expiry, or the release endpoint).
    InventoryReleased = "inventory.released",
    /// Reserved stock left the warehouse with a shipped order.
    InventoryShipped = "inventory.shipped",
    /// A cart was created.
    CartCreated = "cart.created",
    /// A product was added to a cart (stock locked for it).
    CartItemAdded = "cart.item_added",
    /// A cart line's quantity was changed.
    CartItemUpdated = "cart.item_updated",
    /// A line was removed from a cart.
    CartItemRemoved = "cart.item_removed",
    /// A cart was emptied (by its owner, or after its order was confirmed).
    CartCleared = "cart.cleared",
    /// A cart expired after `cart_expiry_days` without changes.
    CartExpired = "cart.expired",
    /// Checkout started: the saga's first event.
    CartCheckoutRequested = "cart.checkout_requested",
    /// A cart went back to ACTIVE with its lines after a failed or cancelled checkout.
    CartRestored = "cart.restored",
    /// The simulated provider authorized a payment.
    PaymentAuthorized = "payment.authorized",
    /// The simulated provider declined a payment, or it could not be authorized in time.
    PaymentDeclined = "payment.declined",
    /// An authorized payment was captured (order confirmed).
    PaymentCaptured = "payment.captured",
    /// An authorization was voided (compensation before capture).
    PaymentVoided = "payment.voided",
    /// A captured payment was refunded (cancel after confirmation).
    PaymentRefunded = "payment.refunded",
    /// An order was placed at checkout (the order's first event).
    OrderPlaced = "order.placed",
    /// An order was confirmed: the saga's happy end.
    OrderConfirmed = "order.confirmed",
    /// A customer or admin asked to cancel an order.
    OrderCancelRequested = "order.cancel_requested",
    /// An order failed; its compensations are running or done.
    OrderFailed = "order.failed",
    /// An order was cancelled after its compensations ran.
    OrderCancelled = "order.cancelled",
    /// An order shipped.
    OrderShipped = "order.shipped",
    /// A shipment was asked of the carrier (checkout saga step 3).
    ShipmentRequested = "shipment.requested",
    /// The carrier booked a shipment: it has a tracking number.
    ShipmentCreated = "shipment.created",
    /// The carrier rejected a shipment, or could not be reached in time.
    ShipmentRejected = "shipment.rejected",
    /// A shipment was withdrawn (compensation).
    ShipmentCancelled = "shipment.cancelled",
    /// A booked shipment was handed to the carrier with its order.
    ShipmentShipped = "shipment.shipped",
    /// Saga compensation: void or refund the order's payment.
    SagaCancelPaymentRequested = "saga.cancel_payment_requested",
    /// Saga compensation: release the order's reservations.
    SagaReleaseInventoryRequested = "saga.release_inventory_requested",
    /// Saga compensation: put the cart back to ACTIVE with its lines.
    SagaRestoreCartRequested = "saga.restore_cart_requested",
    /// Saga compensation: cancel the order's shipment with the carrier.
    SagaCancelShipmentRequested = "saga.cancel_shipment_requested",
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Saga shards: each saga's events travel on the channels of its shard (the saga id modulo the
/// shard count, `saga_shards`), so that the saga's consumers can run once per shard, side by
/// side, on connections, processes or nodes of their own, while one saga's events keep their
/// order. Other events travel on the channel named after their type.
pub mod shards {
    use uuid::Uuid;

    use super::EventType;

    /// The most shards a deployment may have.
    pub const MAX: u32 = 64;

    /// The event types that travel on sharded channels: those the saga's consumers take.
    pub const SHARDED: &[EventType] = &[
        EventType::CartCheckoutRequested,
        EventType::InventoryReserved,
        EventType::PaymentAuthorized,
        EventType::ShipmentCreated,
        EventType::OrderConfirmed,
        EventType::SagaCancelShipmentRequested,
        EventType::SagaCancelPaymentRequested,
        EventType::SagaReleaseInventoryRequested,
        EventType::SagaRestoreCartRequested,
    ];

    /// The shard a saga belongs to, of `shards` (at least 1).
    pub fn of(saga_id: Uuid, shards: u32) -> u32 {
        (saga_id.as_u128() % u128::from(shards.max(1))) as u32
    }

    /// The channel an event of `event_type` in the chain `correlation_id` (the saga id, for
    /// saga events) is published on: `cart.checkout_requested.3`, or `catalog.product_created`.
    pub fn channel(event_type: &str, correlation_id: Uuid, shards: u32) -> String {
        match EventType::parse(event_type) {
            Some(t) if SHARDED.contains(&t) => {
                format!("{event_type}.{}", of(correlation_id, shards))
            }
            _ => event_type.to_owned(),
        }
    }
}

/// The consumers (by the name they record processed events under) and the event types each
/// must see: what the sweep uses to find events a consumer has not acknowledged.
pub mod consumers {
    use super::EventType;

    pub const CATALOG_SEARCH: &str = "catalog-search";
    pub const INVENTORY_RESERVE: &str = "inventory-reserve";
    pub const PAYMENTS_AUTHORIZE: &str = "payments-authorize";
    pub const SHIPPING_CREATE: &str = "shipping-create";
    pub const ORDERS_CONFIRM: &str = "orders-confirm";
    pub const CART_CLEAR: &str = "cart-clear";
    pub const PAYMENTS_CAPTURE: &str = "payments-capture";
    pub const INVENTORY_COMMIT: &str = "inventory-commit";
    pub const SHIPPING_CANCEL: &str = "shipping-cancel";
    pub const PAYMENTS_CANCEL: &str = "payments-cancel";
    pub const INVENTORY_RELEASE: &str = "inventory-release";
    pub const CART_RESTORE: &str = "cart-restore";

    /// Every (event type, consumer) pair: each consumer is one Redis-triggered component.
    pub const SUBSCRIPTIONS: &[(EventType, &str)] = &[
        (EventType::ProductCreated, CATALOG_SEARCH),
        (EventType::ProductUpdated, CATALOG_SEARCH),
        (EventType::CartCheckoutRequested, INVENTORY_RESERVE),
        (EventType::InventoryReserved, PAYMENTS_AUTHORIZE),
        (EventType::PaymentAuthorized, SHIPPING_CREATE),
        (EventType::ShipmentCreated, ORDERS_CONFIRM),
        (EventType::OrderConfirmed, CART_CLEAR),
        (EventType::OrderConfirmed, PAYMENTS_CAPTURE),
        (EventType::OrderConfirmed, INVENTORY_COMMIT),
        (EventType::SagaCancelShipmentRequested, SHIPPING_CANCEL),
        (EventType::SagaCancelPaymentRequested, PAYMENTS_CANCEL),
        (EventType::SagaReleaseInventoryRequested, INVENTORY_RELEASE),
        (EventType::SagaRestoreCartRequested, CART_RESTORE),
    ];
}

/// The JSON envelope every event travels in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub event_id: EventId,
    pub event_type: String,
    pub schema_version: u32,
    /// The checkout's saga id for saga events; otherwise the id of the request or event that
    /// started the chain.
    pub correlation_id: Uuid,
    /// The event (or request) that directly caused this one.
    pub causation_id: Option<Uuid>,
    pub aggregate_type: String,
    pub aggregate_id: Uuid,
    pub aggregate_version: i64,
    /// RFC 3339, UTC.
    pub occurred_at: String,
    pub data: serde_json::Value,
}

impl EventEnvelope {
    /// Parses a message from the wire. Anything that is not an envelope is an error (and a
    /// dead letter for the consumer that received it).
    pub fn from_json(bytes: &[u8]) -> Result<EventEnvelope, EnvelopeError> {
        let envelope: EventEnvelope =
            serde_json::from_slice(bytes).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        if envelope.event_type.is_empty() {
            return Err(EnvelopeError::Malformed("empty event_type".into()));
        }
        Ok(envelope)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an envelope always serializes")
    }

    /// The known type of this event, if it is one.
    pub fn known_type(&self) -> Option<EventType> {
        EventType::parse(&self.event_type)
    }

    /// The typed `data` of this event.
    pub fn data_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, EnvelopeError> {
        serde_json::from_value(self.data.clone())
            .map_err(|e| EnvelopeError::Malformed(format!("{} data: {e}", self.event_type)))
    }
}

/// A message could not be read as an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("not an event envelope: {0}")]
    Malformed(String),
}

/// Where an event comes from in a chain: its correlation id and its direct cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Causation {
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
}

impl Causation {
    /// The first link of a chain started by a request: correlation = the request's own id.
    pub fn new_chain(request_id: Uuid) -> Self {
        Self {
            correlation_id: request_id,
            causation_id: None,
        }
    }

    /// An event caused by handling `cause`: same correlation, caused by it.
    pub fn caused_by(cause: &EventEnvelope) -> Self {
        Self {
            correlation_id: cause.correlation_id,
            causation_id: Some(cause.event_id.as_uuid()),
        }
    }
}

/// An event about to be stored: everything but the id and timestamp, which the store assigns.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_type: EventType,
    pub aggregate_type: &'static str,
    pub aggregate_id: Uuid,
    pub aggregate_version: i64,
    pub data: serde_json::Value,
}

impl NewEvent {
    pub fn new<T: Serialize>(
        event_type: EventType,
        aggregate_type: &'static str,
        aggregate_id: impl Into<Uuid>,
        aggregate_version: i64,
        data: &T,
    ) -> Self {
        Self {
            event_type,
            aggregate_type,
            aggregate_id: aggregate_id.into(),
            aggregate_version,
            data: serde_json::to_value(data).expect("event data serializes"),
        }
    }

    /// The full envelope, with a fresh id, at `occurred_at`.
    pub fn into_envelope(self, causation: Causation, occurred_at: String) -> EventEnvelope {
        EventEnvelope {
            event_id: EventId::new(),
            event_type: self.event_type.as_str().to_owned(),
            schema_version: SCHEMA_VERSION,
            correlation_id: causation.correlation_id,
            causation_id: causation.causation_id,
            aggregate_type: self.aggregate_type.to_owned(),
            aggregate_id: self.aggregate_id,
            aggregate_version: self.aggregate_version,
            occurred_at,
            data: self.data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_name_round_trips_and_is_unique() {
        let mut names = std::collections::HashSet::new();
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
            assert!(names.insert(t.as_str()), "duplicate {t}");
            let (context, action) = t.as_str().split_once('.').expect("context.action");
            assert!(!context.is_empty() && !action.is_empty());
        }
        assert_eq!(EventType::parse("cart.unknown"), None);
    }

    #[test]
    fn an_envelope_round_trips_through_json() {
        let cause = Causation::new_chain(Uuid::new_v4());
        let envelope = NewEvent::new(
            EventType::CartItemAdded,
            "cart",
            Uuid::new_v4(),
            3,
            &serde_json::json!({"quantity": 2}),
        )
        .into_envelope(cause, "2026-11-21T10:00:00.000Z".into());
        let parsed = EventEnvelope::from_json(&envelope.to_json()).unwrap();
        assert_eq!(parsed, envelope);
        assert_eq!(parsed.schema_version, SCHEMA_VERSION);
        assert_eq!(parsed.known_type(), Some(EventType::CartItemAdded));
    }

    #[test]
    fn a_caused_event_keeps_the_correlation_and_points_at_its_cause() {
        let first = NewEvent::new(
            EventType::CartCheckoutRequested,
            "cart",
            Uuid::new_v4(),
            1,
            &(),
        )
        .into_envelope(Causation::new_chain(Uuid::new_v4()), "t".into());
        let next = Causation::caused_by(&first);
        assert_eq!(next.correlation_id, first.correlation_id);
        assert_eq!(next.causation_id, Some(first.event_id.as_uuid()));
    }

    #[test]
    fn a_saga_keeps_one_shard_for_all_its_events_and_other_events_keep_their_type_as_channel() {
        let saga = Uuid::from_u128(4 * 1000 + 3);
        assert_eq!(shards::of(saga, 4), 3);
        assert_eq!(
            shards::channel("cart.checkout_requested", saga, 4),
            "cart.checkout_requested.3"
        );
        assert_eq!(
            shards::channel("order.confirmed", saga, 4),
            "order.confirmed.3"
        );
        assert_eq!(
            shards::channel("order.confirmed", saga, 1),
            "order.confirmed.0"
        );
        assert_eq!(
            shards::channel("catalog.product_created", saga, 4),
            "catalog.product_created"
        );
        assert_eq!(shards::channel("no.such_type", saga, 4), "no.such_type");
    }

    #[test]
    fn every_event_a_saga_consumer_takes_is_sharded_and_no_other() {
        for (event_type, consumer) in consumers::SUBSCRIPTIONS {
            assert_eq!(
                shards::SHARDED.contains(event_type),
                *consumer != consumers::CATALOG_SEARCH,
                "{event_type} for {consumer}"
            );
        }
        for sharded in shards::SHARDED {
            assert!(
                consumers::SUBSCRIPTIONS.iter().any(|(t, _)| t == sharded),
                "{sharded}"
            );
        }
    }

    #[test]
    fn sagas_spread_over_every_shard() {
        let mut seen = [0u32; 4];
        for _ in 0..400 {
            seen[shards::of(Uuid::new_v4(), 4) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
    }

    #[test]
    fn garbage_is_not_an_envelope() {
        for bytes in [&b"not json"[..], b"{}", b"{\"event_type\":\"x\"}", b""] {
            assert!(EventEnvelope::from_json(bytes).is_err());
        }
    }
}
