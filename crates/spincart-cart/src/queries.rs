//! SQL of the cart context (schema `cart`). Stock locks go through inventory's functions;
//! product prices and stock levels are read from the catalog and inventory.

use serde::Serialize;
use spincart_domain::cart::{
    availability, Availability, Cart, CartLine, CartStatus, ProductForCart,
};
use spincart_domain::ids::{CartId, ProductId, UserId};
use spincart_domain::inventory::Quantity;
use spincart_domain::money::{format_minor, Currency, Money};

use spincart_inventory::queries as inventory;
use spincart_platform::db::{self, Db, DbError, Row};

/// The caller's open cart (ACTIVE or CHECKING_OUT), if any.
pub fn open_cart_of(db: &Db, user: UserId) -> Result<Option<CartId>, DbError> {
    db.query_opt(
        "SELECT id FROM cart.carts WHERE user_id = $1 AND status IN ('ACTIVE', 'CHECKING_OUT')",
        &[db::uuid(user)],
    )?
    .map(|r| db::id(r.row(), 0))
    .transpose()
}

/// Creates an empty cart; `Ok(false)` when the user already has an open one.
pub fn insert_cart(db: &Db, id: CartId, user: UserId) -> Result<bool, DbError> {
    // An open cart already there is an outcome (no row inserted), not an error: the conflict
    // target is the partial unique index carts_one_open_per_user (see migration 0007).
    let inserted = db.execute(
        "INSERT INTO cart.carts (id, user_id, status) VALUES ($1, $2, 'ACTIVE')
         ON CONFLICT (user_id) WHERE status IN ('ACTIVE', 'CHECKING_OUT') DO NOTHING",
        &[db::uuid(id), db::uuid(user)],
    )?;
    Ok(inserted == 1)
}

/// Owner and version of a cart: what the read path needs before it looks at the cache.
pub fn head(db: &Db, id: CartId) -> Result<Option<(UserId, i64)>, DbError> {
    db.query_opt(
        "SELECT user_id, version FROM cart.carts WHERE id = $1",
        &[db::uuid(id)],
    )?
    .map(|r| Ok((db::id(r.row(), 0)?, r.get(1)?)))
    .transpose()
}

/// A cart and its lines, its row locked until the transaction ends.
pub fn load_for_update(db: &Db, id: CartId) -> Result<Option<Cart>, DbError> {
    let Some(row) = db.query_opt(
        "SELECT id, user_id, status, version FROM cart.carts WHERE id = $1 FOR UPDATE",
        &[db::uuid(id)],
    )?
    else {
        return Ok(None);
    };
    let status: String = row.get(2)?;
    let lines = db
        .query(
            "SELECT product_id, sku, name, unit_price_minor, currency, quantity
               FROM cart.cart_items WHERE cart_id = $1 ORDER BY added_at, product_id",
            &[db::uuid(id)],
        )?
        .map(line)?;
    Ok(Some(Cart {
        id: db::id(row.row(), 0)?,
        user_id: db::id(row.row(), 1)?,
        status: CartStatus::parse(&status).ok_or_else(|| bad_column(2, &status))?,
        version: row.get(3)?,
        lines,
    }))
}

fn bad_column(column: usize, value: &str) -> DbError {
    DbError::Decode {
        column,
        message: format!("unexpected value {value:?}"),
    }
}

fn money(row: Row<'_>, minor: usize, currency: usize) -> Result<Money, DbError> {
    let code: String = row.get(currency)?;
    let currency = Currency::parse(&code).map_err(|_| bad_column(currency, &code))?;
    Money::from_minor(row.get(minor)?, currency).map_err(|e| bad_column(minor, &e.to_string()))
}

fn line(row: Row<'_>) -> Result<CartLine, DbError> {
    let quantity: i32 = row.get(5)?;
    Ok(CartLine {
        product_id: db::id(row, 0)?,
        sku: row.get(1)?,
        name: row.get(2)?,
        unit_price: money(row, 3, 4)?,
        quantity: Quantity::parse(quantity.into()).map_err(|e| bad_column(5, &e))?,
    })
}

/// A product's current name and price, for a new cart line.
pub fn product_for_cart(db: &Db, id: ProductId) -> Result<Option<ProductForCart>, DbError> {
    db.query_opt(
        "SELECT id, sku, name, price_minor, currency FROM catalog.products WHERE id = $1",
        &[db::uuid(id)],
    )?
    .map(|r| {
        Ok(ProductForCart {
            product_id: db::id(r.row(), 0)?,
            sku: r.get(1)?,
            name: r.get(2)?,
            price: money(r.row(), 3, 4)?,
        })
    })
    .transpose()
}

/// Locks (or releases, with 0) `quantity` units of a product for a cart, through inventory.
pub fn set_lock(
    db: &Db,
    cart: CartId,
    product: ProductId,
    quantity: u32,
    ttl_seconds: i64,
) -> Result<Result<(), inventory::Refusal>, DbError> {
    inventory::set_cart_lock(db, cart.into(), product, quantity, ttl_seconds)
}

pub fn release_locks(db: &Db, cart: CartId) -> Result<(), DbError> {
    db.execute("SELECT inventory.release_cart_locks($1)", &[db::uuid(cart)])?;
    Ok(())
}

/// The end of a confirmed checkout, in one statement: if the cart is CHECKING_OUT (locked), its
/// stock locks are given back, its lines removed, and it becomes CHECKED_OUT; returns its new
/// version, or `None` when it was not checking out (nothing changes). Its lines cannot change
/// meanwhile: a cart takes new lines only while ACTIVE.
pub fn finish_checkout(db: &Db, cart: CartId) -> Result<Option<i64>, DbError> {
    db.query_with(
        &[
            (
                "checking_out",
                "SELECT id FROM cart.carts WHERE id = $1 AND status = 'CHECKING_OUT' FOR UPDATE",
            ),
            (
                "released",
                "SELECT inventory.release_cart_locks(id) AS locks FROM checking_out",
            ),
            (
                "emptied",
                "DELETE FROM cart.cart_items WHERE cart_id IN (SELECT id FROM checking_out)",
            ),
        ],
        "UPDATE cart.carts SET status = 'CHECKED_OUT', version = version + 1, updated_at = now()
          WHERE id IN (SELECT id FROM checking_out) AND (SELECT count(*) FROM released) >= 0
         RETURNING version",
        &[db::uuid(cart)],
    )?
    .into_owned()
    .into_iter()
    .next()
    .map(|r| r.get(0))
    .transpose()
}

pub fn upsert_line(db: &Db, cart: CartId, line: &CartLine) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO cart.cart_items (cart_id, product_id, sku, name, unit_price_minor, currency, quantity)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (cart_id, product_id)
         DO UPDATE SET quantity = EXCLUDED.quantity, updated_at = now()",
        &[
            db::uuid(cart),
            db::uuid(line.product_id),
            db::text(&line.sku),
            db::text(&line.name),
            line.unit_price.minor_units().into(),
            db::text(line.unit_price.currency().as_str()),
            (line.quantity.get() as i32).into(),
        ],
    )?;
    Ok(())
}

pub fn delete_line(db: &Db, cart: CartId, product: ProductId) -> Result<(), DbError> {
    db.execute(
        "DELETE FROM cart.cart_items WHERE cart_id = $1 AND product_id = $2",
        &[db::uuid(cart), db::uuid(product)],
    )?;
    Ok(())
}

pub fn delete_lines(db: &Db, cart: CartId) -> Result<(), DbError> {
    db.execute(
        "DELETE FROM cart.cart_items WHERE cart_id = $1",
        &[db::uuid(cart)],
    )?;
    Ok(())
}

/// Records a change: version + 1, `updated_at` now (which also restarts the expiry clock).
pub fn bump(db: &Db, cart: CartId) -> Result<i64, DbError> {
    db.query_one(
        "UPDATE cart.carts SET version = version + 1, updated_at = now() WHERE id = $1 RETURNING version",
        &[db::uuid(cart)],
    )?
    .get(0)
}

/// A cart line as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CartItemView {
    pub product_id: ProductId,
    pub sku: String,
    pub name: String,
    pub unit_price: String,
    pub quantity: u32,
    pub line_total: String,
    pub availability: Availability,
    pub locked_until: Option<String>,
}

/// A cart as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CartView {
    pub id: CartId,
    pub user_id: UserId,
    pub status: CartStatus,
    pub version: i64,
    pub currency: Option<String>,
    pub items: Vec<CartItemView>,
    pub item_count: u32,
    pub total: String,
    pub expires_at: String,
    pub created_at: String,
    pub updated_at: String,
    /// How long this view stays right (for the cache), not shown.
    #[serde(skip)]
    pub fresh_for_seconds: i64,
}

/// The full view of a cart: lines with their stock locks and availability, totals, expiry.
pub fn view(
    db: &Db,
    id: CartId,
    expiry_days: i64,
    cache_max_seconds: i64,
) -> Result<Option<CartView>, DbError> {
    let Some(cart) = db.query_opt(
        "SELECT id, user_id, status, version, platform.rfc3339(created_at), platform.rfc3339(updated_at),
                platform.rfc3339(updated_at + make_interval(days => $2::bigint::integer)),
                extract(epoch FROM updated_at + make_interval(days => $2::bigint::integer) - now())::bigint
           FROM cart.carts WHERE id = $1",
        &[db::uuid(id), expiry_days.into()],
    )?
    else {
        return Ok(None);
    };
    let rows = db.query(
        "SELECT i.product_id, i.sku, i.name, i.unit_price_minor, i.currency, i.quantity,
                platform.rfc3339(l.expires_at),
                extract(epoch FROM l.expires_at - now())::bigint,
                coalesce(s.available, 0)::bigint + coalesce(l.quantity, 0)::bigint
           FROM cart.cart_items i
           LEFT JOIN inventory.cart_locks l ON l.cart_id = i.cart_id AND l.product_id = i.product_id
           LEFT JOIN inventory.stock_levels s ON s.product_id = i.product_id
          WHERE i.cart_id = $1
          ORDER BY i.added_at, i.product_id",
        &[db::uuid(id)],
    )?;
    let mut lines = Vec::new();
    let mut items = Vec::new();
    let mut earliest_lock: Option<i64> = None;
    for row in rows.iter() {
        let line = line(row)?;
        let lock_left: Option<i64> = row.get(7)?;
        let free_for_line: i64 = row.get(8)?;
        if let Some(left) = lock_left.filter(|l| *l > 0) {
            earliest_lock = Some(earliest_lock.map_or(left, |e| e.min(left)));
        }
        let line_total = line.total().map_err(|e| bad_column(3, &e.to_string()))?;
        items.push(CartItemView {
            product_id: line.product_id,
            sku: line.sku.clone(),
            name: line.name.clone(),
            unit_price: line.unit_price.amount(),
            quantity: line.quantity.get(),
            line_total: line_total.amount(),
            availability: availability(lock_left, line.quantity.get(), free_for_line),
            locked_until: row.get(6)?,
        });
        lines.push(line);
    }
    let status: String = cart.get(2)?;
    let domain = Cart {
        id,
        user_id: db::id(cart.row(), 1)?,
        status: CartStatus::parse(&status).ok_or_else(|| bad_column(2, &status))?,
        version: cart.get(3)?,
        lines,
    };
    let (item_count, total) = domain.totals().map_err(|e| bad_column(3, &e.to_string()))?;
    let cart_left: i64 = cart.get(7)?;
    Ok(Some(CartView {
        id,
        user_id: domain.user_id,
        status: domain.status,
        version: domain.version,
        currency: domain.currency().map(|c| c.as_str().to_owned()),
        items,
        item_count,
        total: total.map(|t| t.amount()).unwrap_or_else(|| format_minor(0)),
        expires_at: cart.get(6)?,
        created_at: cart.get(4)?,
        updated_at: cart.get(5)?,
        fresh_for_seconds: spincart_domain::cart::cache_seconds(
            cache_max_seconds,
            earliest_lock,
            cart_left,
        ),
    }))
}
