//! SQL of the inventory context (schema `inventory`): everything goes through its functions.

use serde::Serialize;
use spincart_domain::ids::ProductId;

use crate::db::{self, Db, DbError};

/// A product's stock as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StockView {
    pub product_id: ProductId,
    pub on_hand: i64,
    pub locked: i64,
    pub reserved: i64,
    pub available: i64,
}

pub fn initialize_stock(db: &Db, product: ProductId, on_hand: i64) -> Result<(), DbError> {
    db.execute(
        "SELECT inventory.initialize_stock($1, $2::bigint::integer)",
        &[db::uuid(product), on_hand.into()],
    )?;
    Ok(())
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
