//! SQL of the inventory context (schema `inventory`): everything goes through its functions.

use serde::Serialize;
use spincart_domain::ids::ProductId;

use spincart_domain::inventory::InventoryError;

use spincart_platform::db::{self, Db, DbError, Row};

/// A product's stock as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StockView {
    pub product_id: ProductId,
    pub on_hand: i64,
    pub locked: i64,
    pub reserved: i64,
    pub available: i64,
}

pub fn stock(db: &Db, product: ProductId) -> Result<Option<(StockView, i64)>, DbError> {
    db.query_opt(
        "SELECT product_id, on_hand::bigint, locked::bigint, reserved::bigint, available::bigint, version
           FROM inventory.stock_levels WHERE product_id = $1",
        &[db::uuid(product)],
    )?
    .map(|r| {
        Ok((
            StockView {
                product_id: r.get::<uuid::Uuid>(0)?.into(),
                on_hand: r.get(1)?,
                locked: r.get(2)?,
                reserved: r.get(3)?,
                available: r.get(4)?,
            },
            r.get(5)?,
        ))
    })
    .transpose()
}

/// Why inventory refused a change. Its SQL functions return this as their `outcome` column
/// (and change nothing) instead of raising an error: real Spin hands an error raised while a
/// query runs to the guest as text, without its SQLSTATE (migration 0007).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    UnknownProduct,
    Stock(InventoryError),
}

/// Reads a function's `outcome` column: `Ok(())` when it is `done`, else the refusal, whose
/// figures `refusal` reads from the row.
fn outcome(
    row: Row<'_>,
    done: &str,
    refusal: impl FnOnce(&str, Row<'_>) -> Result<Option<InventoryError>, DbError>,
) -> Result<Result<(), Refusal>, DbError> {
    let outcome: String = row.get(0)?;
    if outcome == done {
        return Ok(Ok(()));
    }
    if outcome == "unknown_product" {
        return Ok(Err(Refusal::UnknownProduct));
    }
    match refusal(&outcome, row)? {
        Some(error) => {
            if matches!(error, InventoryError::Insufficient { .. }) {
                spincart_platform::metrics::count("spincart_stock_lock_conflicts_total", &[], 1);
            }
            Ok(Err(Refusal::Stock(error)))
        }
        None => Err(DbError::Postgres(format!(
            "inventory answered an unexpected outcome {outcome:?}"
        ))),
    }
}

/// Locks (or releases, with 0) `quantity` units of a product for a cart.
pub fn set_cart_lock(
    db: &Db,
    cart: uuid::Uuid,
    product: ProductId,
    quantity: u32,
    ttl_seconds: i64,
) -> Result<Result<(), Refusal>, DbError> {
    let row = db.query_one(
        "SELECT outcome, available::bigint FROM inventory.set_cart_lock($1, $2, $3, $4::bigint::integer)",
        &[
            db::uuid(cart),
            db::uuid(product),
            (quantity as i32).into(),
            ttl_seconds.into(),
        ],
    )?;
    outcome(row.row(), "locked", |outcome, row| {
        Ok(
            (outcome == "insufficient_stock").then_some(InventoryError::Insufficient {
                available: row.get(1)?,
            }),
        )
    })
}

/// A reservation as [`reserve`] found or made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub quantity: i64,
    pub status: String,
    /// Whether this call made it (`false`: the reference already held it).
    pub created: bool,
}

/// Reserves `quantity` units of a product under `reference`, once.
pub fn reserve(
    db: &Db,
    reference: &str,
    product: ProductId,
    quantity: i64,
    ttl_seconds: i64,
) -> Result<Result<Reservation, Refusal>, DbError> {
    let row = db.query_one(
        "SELECT outcome, quantity::bigint, status, created, available::bigint
           FROM inventory.reserve($1, $2, $3::bigint::integer, $4::bigint::integer)",
        &[
            db::text(reference),
            db::uuid(product),
            quantity.into(),
            ttl_seconds.into(),
        ],
    )?;
    let row = row.row();
    Ok(
        match outcome(row, "reserved", |outcome, row| {
            Ok(
                (outcome == "insufficient_stock").then_some(InventoryError::Insufficient {
                    available: row.get(4)?,
                }),
            )
        })? {
            Ok(()) => Ok(Reservation {
                quantity: row.get(1)?,
                status: row.get(2)?,
                created: row.get(3)?,
            }),
            Err(refusal) => Err(refusal),
        },
    )
}

/// Stock after an adjustment, with its version.
pub struct Adjusted {
    pub stock: StockView,
    pub version: i64,
}

/// Applies a restock (`delta > 0`) or a shrink (`delta < 0`).
pub fn adjust(
    db: &Db,
    product: ProductId,
    delta: i64,
) -> Result<Result<Adjusted, Refusal>, DbError> {
    let row = db.query_one(
        "SELECT outcome, on_hand::bigint, locked::bigint, reserved::bigint, version
           FROM inventory.adjust($1, $2::bigint::integer)",
        &[db::uuid(product), delta.into()],
    )?;
    let row = row.row();
    Ok(
        match outcome(row, "adjusted", |outcome, row| {
            Ok(
                (outcome == "below_held").then_some(InventoryError::BelowHeld {
                    on_hand: row.get(1)?,
                    held: row.get::<i64>(2)? + row.get::<i64>(3)?,
                }),
            )
        })? {
            Ok(()) => {
                let (on_hand, locked, reserved): (i64, i64, i64) =
                    (row.get(1)?, row.get(2)?, row.get(3)?);
                Ok(Adjusted {
                    stock: StockView {
                        product_id: product,
                        on_hand,
                        locked,
                        reserved,
                        available: (on_hand - locked - reserved).max(0),
                    },
                    version: row.get(4)?,
                })
            }
            Err(refusal) => Err(refusal),
        },
    )
}
