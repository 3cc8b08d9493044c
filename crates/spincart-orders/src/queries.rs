//! SQL of the orders context: the order aggregate's events (in the event store) and the read
//! model (`orders.orders`, `orders.order_items`) kept in step with them.

use serde::Serialize;
use spincart_domain::ids::{OrderId, SagaId, UserId};
use spincart_domain::money::{format_minor, parse_decimal_amount};
use spincart_domain::order::{Order, OrderEvent};
use spincart_domain::shipping::ShippingAddress;

use spincart_platform::db::{self, Db, DbError, Row};

/// The order's events, oldest first.
pub fn events(db: &Db, order: OrderId) -> Result<Vec<OrderEvent>, DbError> {
    db.query(
        "SELECT data FROM messaging.events
          WHERE aggregate_type = 'order' AND aggregate_id = $1
          ORDER BY aggregate_version",
        &[db::uuid(order)],
    )?
    .map(|row| {
        let data: serde_json::Value = row.get(0)?;
        serde_json::from_value(data).map_err(|e| DbError::Decode {
            column: 0,
            message: e.to_string(),
        })
    })
}

fn minor(amount: &str) -> Result<i64, DbError> {
    parse_decimal_amount(amount).map_err(|e| DbError::Decode {
        column: 0,
        message: e.to_string(),
    })
}

/// Writes the read model of a just-placed order.
/// The order and all its lines, in one statement.
pub fn insert(db: &Db, order: &Order) -> Result<(), DbError> {
    let column = |f: &dyn Fn(&spincart_domain::order::OrderLine) -> Result<String, DbError>| {
        order
            .lines
            .iter()
            .map(|l| f(l).map(Some))
            .collect::<Result<Vec<Option<String>>, DbError>>()
            .map(db::Param::from)
    };
    db.execute(
        "WITH placed AS (
             INSERT INTO orders.orders (id, user_id, cart_id, saga_id, status, total_minor, currency, version,
                                        shipping_address)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $14)
             RETURNING id
         )
         INSERT INTO orders.order_items (order_id, product_id, sku, name, unit_price_minor, quantity, position)
         SELECT placed.id, l.product_id::uuid, l.sku, l.name, l.unit_price_minor::bigint, l.quantity::int,
                (l.n - 1)::int
           FROM placed,
                unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
                    WITH ORDINALITY AS l(product_id, sku, name, unit_price_minor, quantity, n)",
        &[
            db::uuid(order.id),
            db::uuid(order.user_id),
            db::uuid(order.cart_id),
            db::uuid(order.saga_id),
            db::text(order.status.as_str()),
            minor(&order.total)?.into(),
            db::text(&order.currency),
            order.version.into(),
            column(&|l| Ok(l.product_id.to_string()))?,
            column(&|l| Ok(l.sku.clone()))?,
            column(&|l| Ok(l.name.clone()))?,
            column(&|l| Ok(minor(&l.unit_price)?.to_string()))?,
            column(&|l| Ok(l.quantity.to_string()))?,
            match &order.shipping_address {
                Some(address) => db::json(&serde_json::to_value(address).map_err(|e| {
                    DbError::Decode {
                        column: 13,
                        message: e.to_string(),
                    }
                })?),
                None => db::Param::DbNull,
            },
        ],
    )?;
    Ok(())
}

/// Brings the read model to the order's current state.
pub fn update(db: &Db, order: &Order) -> Result<(), DbError> {
    db.execute(
        "UPDATE orders.orders SET status = $2, payment_id = $3, version = $4, updated_at = now() WHERE id = $1",
        &[
            db::uuid(order.id),
            db::text(order.status.as_str()),
            order.payment_id.map(db::uuid).unwrap_or(db::Param::DbNull),
            order.version.into(),
        ],
    )?;
    Ok(())
}

/// The owner and saga of an order.
pub fn head(db: &Db, order: OrderId) -> Result<Option<(UserId, SagaId, i64)>, DbError> {
    db.query_opt(
        "SELECT user_id, saga_id, version FROM orders.orders WHERE id = $1",
        &[db::uuid(order)],
    )?
    .map(|r| Ok((db::id(r.row(), 0)?, db::id(r.row(), 1)?, r.get(2)?)))
    .transpose()
}

/// An order line as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct OrderItemView {
    pub product_id: uuid::Uuid,
    pub sku: String,
    pub name: String,
    pub unit_price: String,
    pub quantity: i32,
    pub line_total: String,
}

/// The saga of an order, as the order shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SagaSummary {
    pub id: SagaId,
    pub status: String,
    pub step: String,
    pub updated_at: String,
}

/// The shipment of an order, as the order shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ShipmentSummary {
    pub id: uuid::Uuid,
    pub status: String,
    pub tracking_number: Option<String>,
    pub reason: Option<String>,
    pub updated_at: String,
}

/// An order as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub id: OrderId,
    pub user_id: UserId,
    pub cart_id: uuid::Uuid,
    pub status: String,
    pub items: Vec<OrderItemView>,
    pub total: String,
    pub currency: String,
    pub version: i64,
    pub saga: SagaSummary,
    /// Where it goes (`null` for orders placed before shipping existed).
    pub shipping_address: Option<ShippingAddress>,
    /// Its shipment, once the saga asked the carrier for one.
    pub shipment: Option<ShipmentSummary>,
    pub created_at: String,
    pub updated_at: String,
}

const ORDER_COLUMNS: &str =
    "o.id, o.user_id, o.cart_id, o.status, o.total_minor, o.currency, o.version,
    platform.rfc3339(o.created_at), platform.rfc3339(o.updated_at),
    s.id, s.status, s.plan, s.done, platform.rfc3339(s.updated_at),
    o.shipping_address, sh.id, sh.status, sh.tracking_number, sh.reason, platform.rfc3339(sh.updated_at)";

/// The tables [`ORDER_COLUMNS`] come from.
const ORDER_TABLES: &str = "orders.orders o JOIN checkout.sagas s ON s.id = o.saga_id
    LEFT JOIN shipping.shipments sh ON sh.order_id = o.id";

fn order_view(row: Row<'_>, items: Vec<OrderItemView>) -> Result<OrderView, DbError> {
    let saga_status: String = row.get(10)?;
    let plan: Vec<Option<String>> = row.get(11)?;
    let done: i32 = row.get(12)?;
    Ok(OrderView {
        id: db::id(row, 0)?,
        user_id: db::id(row, 1)?,
        cart_id: row.get(2)?,
        status: row.get(3)?,
        items,
        total: format_minor(row.get(4)?),
        currency: row.get(5)?,
        version: row.get(6)?,
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
        saga: SagaSummary {
            id: db::id(row, 9)?,
            step: spincart_domain::saga::step_name(&saga_status, &plan, done),
            status: saga_status,
            updated_at: row.get(13)?,
        },
        shipping_address: row
            .get::<Option<serde_json::Value>>(14)?
            .map(|a| {
                serde_json::from_value(a).map_err(|e| DbError::Decode {
                    column: 14,
                    message: e.to_string(),
                })
            })
            .transpose()?,
        shipment: match row.get::<Option<uuid::Uuid>>(15)? {
            None => None,
            Some(id) => Some(ShipmentSummary {
                id,
                status: row.get(16)?,
                tracking_number: row.get(17)?,
                reason: row.get(18)?,
                updated_at: row.get(19)?,
            }),
        },
    })
}

fn items(db: &Db, order: OrderId) -> Result<Vec<OrderItemView>, DbError> {
    Ok(items_of(db, &[order])?.remove(&order).unwrap_or_default())
}

/// The items of several orders, in one statement (a page of orders has no N+1).
fn items_of(
    db: &Db,
    orders: &[OrderId],
) -> Result<std::collections::HashMap<OrderId, Vec<OrderItemView>>, DbError> {
    let mut by_order = std::collections::HashMap::<OrderId, Vec<OrderItemView>>::new();
    if orders.is_empty() {
        return Ok(by_order);
    }
    let ids: Vec<Option<String>> = orders.iter().map(|id| Some(id.to_string())).collect();
    let rows = db.query(
        "SELECT order_id, product_id, sku, name, unit_price_minor, quantity
           FROM orders.order_items WHERE order_id = ANY($1::text[]::uuid[])
          ORDER BY order_id, position",
        &[ids.into()],
    )?;
    for r in rows.iter() {
        let order: OrderId = db::id(r, 0)?;
        let unit: i64 = r.get(4)?;
        let quantity: i32 = r.get(5)?;
        by_order.entry(order).or_default().push(OrderItemView {
            product_id: r.get(1)?,
            sku: r.get(2)?,
            name: r.get(3)?,
            unit_price: format_minor(unit),
            quantity,
            line_total: format_minor(unit * i64::from(quantity)),
        });
    }
    Ok(by_order)
}

pub fn view(db: &Db, order: OrderId) -> Result<Option<OrderView>, DbError> {
    let Some(row) = db.query_opt(
        &format!("SELECT {ORDER_COLUMNS} FROM {ORDER_TABLES} WHERE o.id = $1"),
        &[db::uuid(order)],
    )?
    else {
        return Ok(None);
    };
    let items = items(db, order)?;
    order_view(row.row(), items).map(Some)
}

/// A page of a user's orders (all users' when `user` is `None`), newest first.
pub fn list(
    db: &Db,
    user: Option<UserId>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OrderView>, i64), DbError> {
    let owner = user.map(db::uuid).unwrap_or(db::Param::DbNull);
    let total: i64 = db
        .query_one(
            "SELECT count(*) FROM orders.orders WHERE $1::uuid IS NULL OR user_id = $1",
            std::slice::from_ref(&owner),
        )?
        .get(0)?;
    let rows = db.query(
        &format!(
            "SELECT {ORDER_COLUMNS} FROM {ORDER_TABLES}
              WHERE $1::uuid IS NULL OR o.user_id = $1
              ORDER BY o.created_at DESC, o.id LIMIT $2 OFFSET $3"
        ),
        &[owner, limit.into(), offset.into()],
    )?;
    let ids = rows.map(|row| db::id::<OrderId>(row, 0))?;
    let mut items = items_of(db, &ids)?;
    let mut views = Vec::new();
    for (row, id) in rows.iter().zip(&ids) {
        views.push(order_view(row, items.remove(id).unwrap_or_default())?);
    }
    Ok((views, total))
}

/// Where the order goes (what the saga's shipment is for); `None` for an order placed before
/// shipping existed.
pub fn shipping_address(db: &Db, order: OrderId) -> Result<Option<ShippingAddress>, DbError> {
    let address: Option<serde_json::Value> = db
        .query_one(
            "SELECT shipping_address FROM orders.orders WHERE id = $1",
            &[db::uuid(order)],
        )?
        .get(0)?;
    address
        .map(|a| {
            serde_json::from_value(a).map_err(|e| DbError::Decode {
                column: 0,
                message: e.to_string(),
            })
        })
        .transpose()
}

/// The order total and currency the saga's payment is for.
pub fn amount(db: &Db, order: OrderId) -> Result<(i64, String), DbError> {
    let row = db.query_one(
        "SELECT total_minor, currency FROM orders.orders WHERE id = $1",
        &[db::uuid(order)],
    )?;
    Ok((row.get(0)?, row.get(1)?))
}
