//! Stock: `available = on_hand − locked − reserved`, never negative.
//!
//! * *locked* units are held for carts (with a TTL, default 1 h);
//! * *reserved* units are held for orders by reference (24 h), idempotent per reference;
//! * an adjustment may not take `on_hand` below `locked + reserved`.
//!
//! The database enforces `locked + reserved ≤ on_hand` with a CHECK constraint and takes locks in
//! single conditional UPDATEs, so concurrent requests for the last units cannot oversell; the
//! rules here decide what to ask for and how to explain a refusal.

use serde::{Deserialize, Serialize};

use crate::catalog::MAX_STOCK_CHANGE;
use crate::validation::{required_text, ValidationErrors};

/// A product's stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub on_hand: i64,
    pub locked: i64,
    pub reserved: i64,
}

impl StockLevel {
    /// What can still be locked or reserved.
    pub fn available(&self) -> i64 {
        (self.on_hand - self.locked - self.reserved).max(0)
    }

    /// The `on_hand` after adding `delta`, unless it would drop below what is held.
    pub fn adjusted(&self, delta: i64) -> Result<i64, InventoryError> {
        let on_hand = self.on_hand + delta;
        let held = self.locked + self.reserved;
        if on_hand < held {
            return Err(InventoryError::BelowHeld {
                on_hand: self.on_hand,
                held,
            });
        }
        Ok(on_hand)
    }
}

/// Why stock could not be changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    #[error("Insufficient stock. Only {available} available.")]
    Insufficient { available: i64 },
    #[error("Cannot take on_hand ({on_hand}) below locked + reserved ({held}).")]
    BelowHeld { on_hand: i64, held: i64 },
}

/// A cart line's quantity: 1 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Quantity(u32);

impl Quantity {
    pub const MAX: u32 = 100;

    pub fn parse(value: i64) -> Result<Quantity, String> {
        if (1..=i64::from(Self::MAX)).contains(&value) {
            Ok(Quantity(value as u32))
        } else {
            Err(format!("must be between 1 and {}", Self::MAX))
        }
    }

    pub fn get(&self) -> u32 {
        self.0
    }
}

/// `POST /inventory/{id}/adjust` input.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustRequest {
    #[serde(deserialize_with = "crate::validation::whole_number")]
    pub delta: i64,
    pub reason: String,
}

/// A checked adjustment: restock (`delta > 0`) or shrink (`delta < 0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    pub delta: i64,
    pub reason: String,
}

impl Adjustment {
    pub fn parse(request: AdjustRequest) -> Result<Adjustment, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if request.delta == 0 || request.delta.abs() > MAX_STOCK_CHANGE {
            errors.push(
                "delta",
                format!(
                    "must be a non-zero number between -{MAX_STOCK_CHANGE} and {MAX_STOCK_CHANGE}"
                ),
            );
        }
        let reason = errors.check("reason", required_text(&request.reason, 200));
        match reason {
            Some(reason) if errors.is_empty() => Ok(Adjustment {
                delta: request.delta,
                reason,
            }),
            _ => Err(errors),
        }
    }
}

/// `POST /inventory/{id}/reserve` and `/release` input.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReservationRequest {
    #[serde(deserialize_with = "crate::validation::whole_number")]
    pub quantity: i64,
    pub reference: String,
}

/// A checked order-level reservation: `quantity` units held under `reference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationInput {
    pub quantity: i64,
    pub reference: String,
}

impl ReservationInput {
    pub fn parse(request: ReservationRequest) -> Result<ReservationInput, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if !(1..=MAX_STOCK_CHANGE).contains(&request.quantity) {
            errors.push(
                "quantity",
                format!("must be between 1 and {MAX_STOCK_CHANGE}"),
            );
        }
        let reference = errors.check("reference", reference(&request.reference));
        match reference {
            Some(reference) if errors.is_empty() => Ok(ReservationInput {
                quantity: request.quantity,
                reference,
            }),
            _ => Err(errors),
        }
    }
}

fn reference(text: &str) -> Result<String, String> {
    let text = required_text(text, 100)?;
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
    {
        Ok(text)
    } else {
        Err("may contain only letters, digits, '-', '_', ':' and '.'".into())
    }
}

/// Cart lock TTL bounds: one second (tests) to seven days.
pub fn lock_ttl_seconds(configured: i64) -> i64 {
    configured.clamp(1, 7 * 24 * 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stock(on_hand: i64, locked: i64, reserved: i64) -> StockLevel {
        StockLevel {
            on_hand,
            locked,
            reserved,
        }
    }

    #[test]
    fn available_is_on_hand_minus_locked_minus_reserved() {
        assert_eq!(stock(10, 3, 2).available(), 5);
        assert_eq!(stock(10, 10, 0).available(), 0);
    }

    #[test]
    fn available_is_never_negative() {
        assert_eq!(stock(1, 3, 0).available(), 0);
    }

    #[test]
    fn an_adjustment_cannot_go_below_what_is_held() {
        assert_eq!(stock(10, 3, 2).adjusted(-5), Ok(5));
        assert_eq!(
            stock(10, 3, 2).adjusted(-6),
            Err(InventoryError::BelowHeld {
                on_hand: 10,
                held: 5
            })
        );
        assert_eq!(stock(0, 0, 0).adjusted(7), Ok(7));
    }

    #[test]
    fn quantities_are_between_one_and_a_hundred() {
        assert!(Quantity::parse(0).is_err());
        assert!(Quantity::parse(-3).is_err());
        assert!(Quantity::parse(101).is_err());
        assert!(Quantity::parse(i64::MAX).is_err());
        assert_eq!(Quantity::parse(100).unwrap().get(), 100);
    }

    #[test]
    fn adjustments_need_a_non_zero_delta_and_a_reason() {
        let e = Adjustment::parse(AdjustRequest {
            delta: 0,
            reason: "x".into(),
        })
        .unwrap_err();
        assert_eq!(e.0[0].field, "delta");
        let e = Adjustment::parse(AdjustRequest {
            delta: 5,
            reason: " ".into(),
        })
        .unwrap_err();
        assert_eq!(e.0[0].field, "reason");
        assert!(Adjustment::parse(AdjustRequest {
            delta: -5,
            reason: "damaged".into()
        })
        .is_ok());
    }

    #[test]
    fn reservations_need_a_positive_quantity_and_a_plain_reference() {
        let ok = ReservationInput::parse(ReservationRequest {
            quantity: 2,
            reference: "order:42".into(),
        });
        assert!(ok.is_ok());
        let e = ReservationInput::parse(ReservationRequest {
            quantity: 0,
            reference: "a b".into(),
        })
        .unwrap_err();
        assert_eq!(e.0.len(), 2);
    }

    #[test]
    fn the_lock_ttl_is_clamped_to_sane_bounds() {
        assert_eq!(lock_ttl_seconds(3600), 3600);
        assert_eq!(lock_ttl_seconds(0), 1);
        assert_eq!(lock_ttl_seconds(i64::MAX), 604_800);
    }
}
