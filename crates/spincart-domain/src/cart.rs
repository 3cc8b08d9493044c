//! Carts: one currency per cart, 1–100 units per line, unit prices snapshotted when a product is
//! first added, totals computed exactly from the stored lines, availability shown per line.
//!
//! A cart's commands (`add`, `set_quantity`, `remove`, `clear`) decide what changes and return
//! it; persistence and stock locks are done by the caller with what they return.

use serde::{Deserialize, Serialize};

use crate::ids::{CartId, ProductId, UserId};
use crate::inventory::Quantity;
use crate::money::{Currency, Money, MoneyError};

/// Where a cart is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CartStatus {
    /// Open for changes.
    Active,
    /// A checkout saga is running for it: no changes until it ends.
    CheckingOut,
    /// Its order was confirmed; it was cleared.
    CheckedOut,
    /// Untouched for `cart_expiry_days`; its locks went back to stock.
    Expired,
}

impl CartStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            CartStatus::Active => "ACTIVE",
            CartStatus::CheckingOut => "CHECKING_OUT",
            CartStatus::CheckedOut => "CHECKED_OUT",
            CartStatus::Expired => "EXPIRED",
        }
    }

    pub fn parse(text: &str) -> Option<CartStatus> {
        match text {
            "ACTIVE" => Some(CartStatus::Active),
            "CHECKING_OUT" => Some(CartStatus::CheckingOut),
            "CHECKED_OUT" => Some(CartStatus::CheckedOut),
            "EXPIRED" => Some(CartStatus::Expired),
            _ => None,
        }
    }
}

/// A product as it is when it goes into a cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductForCart {
    pub product_id: ProductId,
    pub sku: String,
    pub name: String,
    pub price: Money,
}

/// One line of a cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    pub product_id: ProductId,
    pub sku: String,
    pub name: String,
    /// The price when the product was first added; later price changes do not touch it.
    pub unit_price: Money,
    pub quantity: Quantity,
}

impl CartLine {
    pub fn total(&self) -> Result<Money, MoneyError> {
        self.unit_price.times(self.quantity.get())
    }
}

/// A cart and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cart {
    pub id: CartId,
    pub user_id: UserId,
    pub status: CartStatus,
    pub version: i64,
    pub lines: Vec<CartLine>,
}

/// Why a cart command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("The cart is {}; it cannot change.", .0.as_str())]
    NotActive(CartStatus),
    #[error("This cart holds {cart} prices; the product is priced in {product}.")]
    CurrencyMismatch { cart: Currency, product: Currency },
    #[error("A line may hold at most {max} units; this would make {requested}.", max = Quantity::MAX)]
    LineLimit { requested: i64 },
    #[error("This product is not in the cart.")]
    LineNotFound,
    #[error("The cart total is too large.")]
    TotalTooLarge,
    #[error("A cart may hold at most {max} different products.")]
    TooManyLines { max: usize },
    #[error("A cart may hold at most {max} units in all; this would make {requested}.")]
    TooManyUnits { max: u32, requested: u32 },
}

/// How much one cart may hold: its stock stays locked for everybody else while it is open, so an
/// account must not be able to lock a whole catalog (`max_cart_lines`, `max_locked_units_per_user`;
/// a shopper has one open cart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CartLimits {
    pub max_lines: usize,
    pub max_units: u32,
}

impl Default for CartLimits {
    fn default() -> Self {
        CartLimits {
            max_lines: 50,
            max_units: 200,
        }
    }
}

/// What a command changed, for the caller to store and announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineChange {
    pub product_id: ProductId,
    /// The line's quantity before (0: a new line) and after (0: removed).
    pub before: u32,
    pub after: u32,
    /// The line as it is after the change (`None` when removed).
    pub line: Option<CartLine>,
}

impl Cart {
    /// The cart's currency: that of its lines (a cart holds one currency), if it has any.
    pub fn currency(&self) -> Option<Currency> {
        self.lines.first().map(|l| l.unit_price.currency())
    }

    /// Whether the cart may change at all.
    pub fn ensure_active(&self) -> Result<(), CartError> {
        match self.status {
            CartStatus::Active => Ok(()),
            other => Err(CartError::NotActive(other)),
        }
    }

    fn line(&self, product: ProductId) -> Option<&CartLine> {
        self.lines.iter().find(|l| l.product_id == product)
    }

    /// Adds `quantity` units of `product`, incrementing an existing line.
    pub fn add(
        &self,
        product: &ProductForCart,
        quantity: Quantity,
    ) -> Result<LineChange, CartError> {
        self.ensure_active()?;
        let existing = self.line(product.product_id);
        if existing.is_none() {
            if let Some(cart) = self.currency() {
                if cart != product.price.currency() {
                    return Err(CartError::CurrencyMismatch {
                        cart,
                        product: product.price.currency(),
                    });
                }
            }
        }
        let before = existing.map_or(0, |l| l.quantity.get());
        let requested = i64::from(before) + i64::from(quantity.get());
        let after = Quantity::parse(requested).map_err(|_| CartError::LineLimit { requested })?;
        let line = match existing {
            Some(line) => CartLine {
                quantity: after,
                ..line.clone()
            },
            None => CartLine {
                product_id: product.product_id,
                sku: product.sku.clone(),
                name: product.name.clone(),
                unit_price: product.price,
                quantity: after,
            },
        };
        self.with_line_checked(&line)?;
        Ok(LineChange {
            product_id: product.product_id,
            before,
            after: after.get(),
            line: Some(line),
        })
    }

    /// Sets a line's quantity.
    pub fn set_quantity(
        &self,
        product: ProductId,
        quantity: Quantity,
    ) -> Result<LineChange, CartError> {
        self.ensure_active()?;
        let existing = self.line(product).ok_or(CartError::LineNotFound)?;
        let line = CartLine {
            quantity,
            ..existing.clone()
        };
        self.with_line_checked(&line)?;
        Ok(LineChange {
            product_id: product,
            before: existing.quantity.get(),
            after: quantity.get(),
            line: Some(line),
        })
    }

    /// Removes a line.
    pub fn remove(&self, product: ProductId) -> Result<LineChange, CartError> {
        self.ensure_active()?;
        let existing = self.line(product).ok_or(CartError::LineNotFound)?;
        Ok(LineChange {
            product_id: product,
            before: existing.quantity.get(),
            after: 0,
            line: None,
        })
    }

    /// Removes every line.
    pub fn clear(&self) -> Result<Vec<LineChange>, CartError> {
        self.ensure_active()?;
        Ok(self
            .lines
            .iter()
            .map(|l| LineChange {
                product_id: l.product_id,
                before: l.quantity.get(),
                after: 0,
                line: None,
            })
            .collect())
    }

    /// Checks that the cart's total would still be representable with `line` in it.
    fn with_line_checked(&self, line: &CartLine) -> Result<(), CartError> {
        let mut lines: Vec<CartLine> = self
            .lines
            .iter()
            .filter(|l| l.product_id != line.product_id)
            .cloned()
            .collect();
        lines.push(line.clone());
        totals(&lines)
            .map(|_| ())
            .map_err(|_| CartError::TotalTooLarge)
    }

    /// Whether the cart is within `limits` once `change` is made.
    pub fn check_limits(&self, change: &LineChange, limits: CartLimits) -> Result<(), CartError> {
        let existed = self.line(change.product_id).is_some();
        let lines = self.lines.len() + usize::from(!existed && change.after > 0)
            - usize::from(existed && change.after == 0);
        if lines > limits.max_lines && change.after > change.before {
            return Err(CartError::TooManyLines {
                max: limits.max_lines,
            });
        }
        let units: u32 =
            self.lines.iter().map(|l| l.quantity.get()).sum::<u32>() - change.before + change.after;
        if units > limits.max_units && change.after > change.before {
            return Err(CartError::TooManyUnits {
                max: limits.max_units,
                requested: units,
            });
        }
        Ok(())
    }

    /// The number of units and the total of the cart, exactly.
    pub fn totals(&self) -> Result<(u32, Option<Money>), MoneyError> {
        totals(&self.lines)
    }
}

fn totals(lines: &[CartLine]) -> Result<(u32, Option<Money>), MoneyError> {
    let units = lines.iter().map(|l| l.quantity.get()).sum();
    let Some(first) = lines.first() else {
        return Ok((0, None));
    };
    let line_totals = lines
        .iter()
        .map(CartLine::total)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((
        units,
        Some(Money::sum(first.unit_price.currency(), line_totals)?),
    ))
}

/// What a line shows about its stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// The line's units are locked for this cart.
    Available,
    /// The lock ran out and the units can no longer all be had.
    OutOfStock,
    /// The lock ran out; the units are still there and will be locked again on the next change
    /// or at checkout.
    LockExpired,
}

/// A line's availability from its stock lock (`Some(seconds left)`, ≤ 0 when expired) and the
/// units other carts have not taken.
pub fn availability(
    lock_seconds_left: Option<i64>,
    quantity: u32,
    free_units: i64,
) -> Availability {
    match lock_seconds_left {
        Some(left) if left > 0 => Availability::Available,
        _ if free_units >= i64::from(quantity) => Availability::LockExpired,
        _ => Availability::OutOfStock,
    }
}

/// Seconds a cached cart view stays right: until its earliest lock or the cart itself expires,
/// capped at `max` (a write bumps the version and with it the cache key).
pub fn cache_seconds(
    max: i64,
    earliest_lock_seconds_left: Option<i64>,
    cart_seconds_left: i64,
) -> i64 {
    let mut seconds = max.min(cart_seconds_left);
    if let Some(lock) = earliest_lock_seconds_left.filter(|s| *s > 0) {
        seconds = seconds.min(lock);
    }
    seconds.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(amount: &str) -> Money {
        Money::parse(amount, Currency::USD).unwrap()
    }

    fn product(price: Money) -> ProductForCart {
        ProductForCart {
            product_id: ProductId::new(),
            sku: "LAMP".into(),
            name: "Lamp".into(),
            price,
        }
    }

    fn q(n: i64) -> Quantity {
        Quantity::parse(n).unwrap()
    }

    fn empty_cart() -> Cart {
        Cart {
            id: CartId::new(),
            user_id: UserId::new(),
            status: CartStatus::Active,
            version: 1,
            lines: Vec::new(),
        }
    }

    fn apply(cart: &mut Cart, change: LineChange) {
        cart.lines.retain(|l| l.product_id != change.product_id);
        if let Some(line) = change.line {
            cart.lines.push(line);
        }
    }

    #[test]
    fn a_cart_holds_at_most_its_limit_of_lines_and_units() {
        let limits = CartLimits {
            max_lines: 2,
            max_units: 150,
        };
        let mut cart = empty_cart();
        for _ in 0..2 {
            let change = cart.add(&product(usd("1.00")), q(50)).unwrap();
            cart.check_limits(&change, limits).unwrap();
            apply(&mut cart, change);
        }
        let third = cart.add(&product(usd("1.00")), q(1)).unwrap();
        assert_eq!(
            cart.check_limits(&third, limits),
            Err(CartError::TooManyLines { max: 2 })
        );
        let first = cart.lines[0].product_id;
        let to_the_limit = cart.set_quantity(first, q(100)).unwrap();
        assert_eq!(cart.check_limits(&to_the_limit, limits), Ok(()));
        let fewer_units = CartLimits {
            max_units: 120,
            ..limits
        };
        assert_eq!(
            cart.check_limits(&to_the_limit, fewer_units),
            Err(CartError::TooManyUnits {
                max: 120,
                requested: 150
            })
        );
        // Lowering or removing is always allowed, even past limits lowered since.
        let tight = CartLimits {
            max_lines: 1,
            max_units: 10,
        };
        let lower = cart.set_quantity(first, q(10)).unwrap();
        assert_eq!(cart.check_limits(&lower, tight), Ok(()));
        let removed = cart.remove(first).unwrap();
        assert_eq!(cart.check_limits(&removed, tight), Ok(()));
    }

    #[test]
    fn adding_a_product_creates_a_line_with_its_current_price() {
        let cart = empty_cart();
        let lamp = product(usd("79.99"));
        let change = cart.add(&lamp, q(2)).unwrap();
        assert_eq!((change.before, change.after), (0, 2));
        assert_eq!(change.line.unwrap().unit_price, usd("79.99"));
    }

    #[test]
    fn adding_again_increments_the_line_and_keeps_its_snapshot_price() {
        let mut cart = empty_cart();
        let mut lamp = product(usd("79.99"));
        let change = cart.add(&lamp, q(2)).unwrap();
        apply(&mut cart, change);
        lamp.price = usd("99.99");
        let change = cart.add(&lamp, q(3)).unwrap();
        assert_eq!((change.before, change.after), (2, 5));
        assert_eq!(change.line.unwrap().unit_price, usd("79.99"));
    }

    #[test]
    fn a_line_never_holds_more_than_a_hundred_units() {
        let mut cart = empty_cart();
        let lamp = product(usd("1.00"));
        let change = cart.add(&lamp, q(60)).unwrap();
        apply(&mut cart, change);
        assert_eq!(
            cart.add(&lamp, q(41)),
            Err(CartError::LineLimit { requested: 101 })
        );
        assert!(cart.add(&lamp, q(40)).is_ok());
    }

    #[test]
    fn a_cart_holds_one_currency() {
        let mut cart = empty_cart();
        let change = cart.add(&product(usd("1.00")), q(1)).unwrap();
        apply(&mut cart, change);
        let euro = product(Money::parse("1.00", Currency::EUR).unwrap());
        assert_eq!(
            cart.add(&euro, q(1)),
            Err(CartError::CurrencyMismatch {
                cart: Currency::USD,
                product: Currency::EUR
            })
        );
    }

    #[test]
    fn a_cart_that_is_not_active_refuses_every_change() {
        let mut cart = empty_cart();
        let lamp = product(usd("1.00"));
        let change = cart.add(&lamp, q(1)).unwrap();
        apply(&mut cart, change);
        cart.status = CartStatus::CheckingOut;
        let refused = Err(CartError::NotActive(CartStatus::CheckingOut));
        assert_eq!(cart.add(&lamp, q(1)), refused);
        assert_eq!(cart.set_quantity(lamp.product_id, q(3)), refused);
        assert_eq!(cart.remove(lamp.product_id), refused);
        assert_eq!(
            cart.clear(),
            Err(CartError::NotActive(CartStatus::CheckingOut))
        );
    }

    #[test]
    fn setting_or_removing_a_missing_line_is_refused() {
        let cart = empty_cart();
        assert_eq!(
            cart.set_quantity(ProductId::new(), q(1)),
            Err(CartError::LineNotFound)
        );
        assert_eq!(cart.remove(ProductId::new()), Err(CartError::LineNotFound));
    }

    #[test]
    fn setting_a_quantity_reports_the_difference() {
        let mut cart = empty_cart();
        let lamp = product(usd("1.00"));
        let change = cart.add(&lamp, q(5)).unwrap();
        apply(&mut cart, change);
        let change = cart.set_quantity(lamp.product_id, q(2)).unwrap();
        assert_eq!((change.before, change.after), (5, 2));
    }

    #[test]
    fn totals_are_the_exact_sum_of_the_lines() {
        let mut cart = empty_cart();
        let change = cart.add(&product(usd("0.10")), q(3)).unwrap();
        apply(&mut cart, change);
        let change = cart.add(&product(usd("19.99")), q(2)).unwrap();
        apply(&mut cart, change);
        let (units, total) = cart.totals().unwrap();
        assert_eq!(units, 5);
        assert_eq!(total.unwrap().amount(), "40.28");
        assert_eq!(empty_cart().totals().unwrap(), (0, None));
    }

    #[test]
    fn a_cart_whose_total_would_overflow_is_refused() {
        let mut cart = empty_cart();
        let change = cart.add(&product(usd("1000000000.00")), q(1)).unwrap();
        apply(&mut cart, change);
        assert_eq!(
            cart.add(&product(usd("1000000000.00")), q(1)),
            Err(CartError::TotalTooLarge)
        );
    }

    #[test]
    fn a_line_is_available_while_its_lock_lasts() {
        assert_eq!(availability(Some(30), 2, 0), Availability::Available);
        assert_eq!(availability(Some(0), 2, 2), Availability::LockExpired);
        assert_eq!(availability(None, 2, 5), Availability::LockExpired);
        assert_eq!(availability(Some(-5), 2, 1), Availability::OutOfStock);
        assert_eq!(availability(None, 2, 0), Availability::OutOfStock);
    }

    #[test]
    fn a_cached_view_lasts_until_its_first_lock_or_the_cart_expires() {
        assert_eq!(cache_seconds(60, Some(10), 1000), 10);
        assert_eq!(cache_seconds(60, None, 1000), 60);
        assert_eq!(cache_seconds(60, Some(-3), 1000), 60);
        assert_eq!(cache_seconds(60, None, 5), 5);
        assert_eq!(cache_seconds(60, None, -5), 1);
    }
}
