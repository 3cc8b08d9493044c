//! The order aggregate, event-sourced: its state is the fold of its events ([`Order::apply`]),
//! and commands ([`Order::handle`]) decide which new events to record. Each event carries the
//! aggregate's next version; the event store's uniqueness on (aggregate, version) turns a
//! concurrent writer into a conflict instead of a lost update.

use serde::{Deserialize, Serialize};

use crate::events::EventType;
use crate::ids::{CartId, OrderId, PaymentId, ProductId, SagaId, UserId};
use crate::shipping::ShippingAddress;

/// Where an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Failed,
    Cancelled,
    Shipped,
}

impl OrderStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::Pending => "PENDING",
            OrderStatus::Confirmed => "CONFIRMED",
            OrderStatus::Failed => "FAILED",
            OrderStatus::Cancelled => "CANCELLED",
            OrderStatus::Shipped => "SHIPPED",
        }
    }

    pub fn parse(text: &str) -> Option<OrderStatus> {
        [
            OrderStatus::Pending,
            OrderStatus::Confirmed,
            OrderStatus::Failed,
            OrderStatus::Cancelled,
            OrderStatus::Shipped,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A line of an order: the cart line as it was at checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: ProductId,
    pub sku: String,
    pub name: String,
    pub unit_price: String,
    pub quantity: u32,
    pub line_total: String,
}

/// What happened to an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OrderEvent {
    Placed {
        order_id: OrderId,
        user_id: UserId,
        cart_id: CartId,
        saga_id: SagaId,
        lines: Vec<OrderLine>,
        total: String,
        currency: String,
        /// Where it goes (orders placed before shipping existed have none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shipping_address: Option<Box<ShippingAddress>>,
    },
    Confirmed {
        payment_id: PaymentId,
    },
    Failed {
        reason: String,
    },
    CancelRequested {
        reason: String,
    },
    Cancelled,
    Shipped,
}

impl OrderEvent {
    /// The event type (and Redis channel) this event is stored and published as.
    pub fn event_type(&self) -> EventType {
        match self {
            OrderEvent::Placed { .. } => EventType::OrderPlaced,
            OrderEvent::Confirmed { .. } => EventType::OrderConfirmed,
            OrderEvent::Failed { .. } => EventType::OrderFailed,
            OrderEvent::CancelRequested { .. } => EventType::OrderCancelRequested,
            OrderEvent::Cancelled => EventType::OrderCancelled,
            OrderEvent::Shipped => EventType::OrderShipped,
        }
    }
}

/// What may be asked of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderCommand {
    Confirm { payment_id: PaymentId },
    Fail { reason: String },
    RequestCancel { reason: String },
    CompleteCancel,
    Ship,
}

/// Why an order refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("A shipped order cannot be cancelled.")]
    AlreadyShipped,
    #[error("The order is {status}; it cannot be {1}.", status = .0.as_str())]
    InvalidTransition(OrderStatus, &'static str),
    #[error("The order is being cancelled; it cannot be shipped.")]
    CancelPending,
}

/// The state of an order, folded from its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub user_id: UserId,
    pub cart_id: CartId,
    pub saga_id: SagaId,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub total: String,
    pub currency: String,
    pub shipping_address: Option<ShippingAddress>,
    pub payment_id: Option<PaymentId>,
    pub cancel_requested: bool,
    /// The version of the last event applied (1 after `Placed`).
    pub version: i64,
}

impl Order {
    /// The order its first event creates.
    pub fn placed(event: &OrderEvent) -> Option<Order> {
        match event {
            OrderEvent::Placed {
                order_id,
                user_id,
                cart_id,
                saga_id,
                lines,
                total,
                currency,
                shipping_address,
            } => Some(Order {
                id: *order_id,
                user_id: *user_id,
                cart_id: *cart_id,
                saga_id: *saga_id,
                status: OrderStatus::Pending,
                lines: lines.clone(),
                total: total.clone(),
                currency: currency.clone(),
                shipping_address: shipping_address.as_deref().cloned(),
                payment_id: None,
                cancel_requested: false,
                version: 1,
            }),
            _ => None,
        }
    }

    /// Rebuilds an order from its events, oldest first.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a OrderEvent>) -> Option<Order> {
        let mut events = events.into_iter();
        let mut order = Order::placed(events.next()?)?;
        for event in events {
            order.apply(event);
        }
        Some(order)
    }

    /// Changes the state as `event` says (no decisions here).
    pub fn apply(&mut self, event: &OrderEvent) {
        match event {
            OrderEvent::Placed { .. } => {}
            OrderEvent::Confirmed { payment_id } => {
                self.status = OrderStatus::Confirmed;
                self.payment_id = Some(*payment_id);
            }
            OrderEvent::Failed { .. } => self.status = OrderStatus::Failed,
            OrderEvent::CancelRequested { .. } => self.cancel_requested = true,
            OrderEvent::Cancelled => self.status = OrderStatus::Cancelled,
            OrderEvent::Shipped => self.status = OrderStatus::Shipped,
        }
        self.version += 1;
    }

    /// Decides the events `command` produces; an empty list means it is already done.
    pub fn handle(&self, command: &OrderCommand) -> Result<Vec<OrderEvent>, OrderError> {
        use OrderStatus::*;
        match (self.status, command) {
            (Pending, OrderCommand::Confirm { payment_id }) => Ok(vec![OrderEvent::Confirmed {
                payment_id: *payment_id,
            }]),
            (Confirmed, OrderCommand::Confirm { .. }) => Ok(vec![]),
            (status, OrderCommand::Confirm { .. }) => {
                Err(OrderError::InvalidTransition(status, "confirmed"))
            }
            (Pending, OrderCommand::Fail { reason }) => Ok(vec![OrderEvent::Failed {
                reason: reason.clone(),
            }]),
            (Failed, OrderCommand::Fail { .. }) => Ok(vec![]),
            (status, OrderCommand::Fail { .. }) => {
                Err(OrderError::InvalidTransition(status, "failed"))
            }
            (Shipped, OrderCommand::RequestCancel { .. }) => Err(OrderError::AlreadyShipped),
            (Pending | Confirmed, OrderCommand::RequestCancel { .. }) if self.cancel_requested => {
                Ok(vec![])
            }
            (Pending | Confirmed, OrderCommand::RequestCancel { reason }) => {
                Ok(vec![OrderEvent::CancelRequested {
                    reason: reason.clone(),
                }])
            }
            (status, OrderCommand::RequestCancel { .. }) => {
                Err(OrderError::InvalidTransition(status, "cancelled"))
            }
            (Pending | Confirmed, OrderCommand::CompleteCancel) if self.cancel_requested => {
                Ok(vec![OrderEvent::Cancelled])
            }
            (Cancelled, OrderCommand::CompleteCancel) => Ok(vec![]),
            (status, OrderCommand::CompleteCancel) => {
                Err(OrderError::InvalidTransition(status, "cancelled"))
            }
            (Confirmed, OrderCommand::Ship) if self.cancel_requested => {
                Err(OrderError::CancelPending)
            }
            (Confirmed, OrderCommand::Ship) => Ok(vec![OrderEvent::Shipped]),
            (Shipped, OrderCommand::Ship) => Ok(vec![]),
            (status, OrderCommand::Ship) => Err(OrderError::InvalidTransition(status, "shipped")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed() -> OrderEvent {
        OrderEvent::Placed {
            order_id: OrderId::new(),
            user_id: UserId::new(),
            cart_id: CartId::new(),
            saga_id: SagaId::new(),
            lines: vec![OrderLine {
                product_id: ProductId::new(),
                sku: "LAMP".into(),
                name: "Lamp".into(),
                unit_price: "10.00".into(),
                quantity: 2,
                line_total: "20.00".into(),
            }],
            total: "20.00".into(),
            currency: "USD".into(),
            shipping_address: None,
        }
    }

    /// Given the events, when the command runs, then these events follow (and are applied).
    fn given(events: &[OrderEvent]) -> Order {
        Order::from_events(events).unwrap()
    }

    #[test]
    fn a_placed_order_is_pending_at_version_one() {
        let order = given(&[placed()]);
        assert_eq!(order.status, OrderStatus::Pending);
        assert_eq!(order.version, 1);
    }

    #[test]
    fn a_pending_order_is_confirmed_once() {
        let payment_id = PaymentId::new();
        let mut order = given(&[placed()]);
        let events = order.handle(&OrderCommand::Confirm { payment_id }).unwrap();
        assert_eq!(events, vec![OrderEvent::Confirmed { payment_id }]);
        events.iter().for_each(|e| order.apply(e));
        assert_eq!(
            (order.status, order.version, order.payment_id),
            (OrderStatus::Confirmed, 2, Some(payment_id))
        );
        assert_eq!(
            order.handle(&OrderCommand::Confirm { payment_id }),
            Ok(vec![])
        );
    }

    #[test]
    fn a_failed_order_cannot_be_confirmed_or_cancelled() {
        let order = given(&[
            placed(),
            OrderEvent::Failed {
                reason: "declined".into(),
            },
        ]);
        assert_eq!(
            order.handle(&OrderCommand::Confirm {
                payment_id: PaymentId::new()
            }),
            Err(OrderError::InvalidTransition(
                OrderStatus::Failed,
                "confirmed"
            ))
        );
        assert!(order
            .handle(&OrderCommand::RequestCancel { reason: "x".into() })
            .is_err());
    }

    #[test]
    fn a_cancel_is_requested_once_then_completed() {
        let mut order = given(&[
            placed(),
            OrderEvent::Confirmed {
                payment_id: PaymentId::new(),
            },
        ]);
        let requested = order
            .handle(&OrderCommand::RequestCancel {
                reason: "changed my mind".into(),
            })
            .unwrap();
        requested.iter().for_each(|e| order.apply(e));
        assert!(order.cancel_requested);
        assert_eq!(
            order.handle(&OrderCommand::RequestCancel {
                reason: "again".into()
            }),
            Ok(vec![])
        );
        assert_eq!(
            order.handle(&OrderCommand::Ship),
            Err(OrderError::CancelPending)
        );
        let done = order.handle(&OrderCommand::CompleteCancel).unwrap();
        done.iter().for_each(|e| order.apply(e));
        assert_eq!(order.status, OrderStatus::Cancelled);
        assert_eq!(order.version, 4);
    }

    #[test]
    fn a_shipped_order_cannot_be_cancelled() {
        let order = given(&[
            placed(),
            OrderEvent::Confirmed {
                payment_id: PaymentId::new(),
            },
            OrderEvent::Shipped,
        ]);
        assert_eq!(
            order.handle(&OrderCommand::RequestCancel {
                reason: "late".into()
            }),
            Err(OrderError::AlreadyShipped)
        );
        assert_eq!(order.handle(&OrderCommand::Ship), Ok(vec![]));
    }

    #[test]
    fn only_a_confirmed_order_ships() {
        let pending = given(&[placed()]);
        assert_eq!(
            pending.handle(&OrderCommand::Ship),
            Err(OrderError::InvalidTransition(
                OrderStatus::Pending,
                "shipped"
            ))
        );
    }

    #[test]
    fn events_round_trip_through_json_with_their_kind() {
        let event = OrderEvent::Failed {
            reason: "declined".into(),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["kind"], "failed");
        assert_eq!(serde_json::from_value::<OrderEvent>(json).unwrap(), event);
        assert_eq!(event.event_type(), EventType::OrderFailed);
    }
}
