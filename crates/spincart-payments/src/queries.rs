//! SQL of the payments context (schema `payments`).

use spincart_domain::ids::{OrderId, PaymentId, SagaId};
use spincart_domain::payment::PaymentStatus;

use spincart_platform::db::{self, Db, DbError};

/// A stored payment.
#[derive(Debug, Clone)]
pub struct PaymentRow {
    pub id: PaymentId,
    pub status: PaymentStatus,
    pub amount_minor: i64,
    pub currency: String,
    pub captured_minor: i64,
    pub version: i64,
}

const PAYMENT_COLUMNS: &str = "id, status, amount_minor, currency, captured_minor, version";

fn payment_row(r: &db::OwnedRow) -> Result<PaymentRow, DbError> {
    let status: String = r.get(1)?;
    Ok(PaymentRow {
        id: db::id(r.row(), 0)?,
        status: PaymentStatus::parse(&status).ok_or(DbError::Decode {
            column: 1,
            message: status,
        })?,
        amount_minor: r.get(2)?,
        currency: r.get(3)?,
        captured_minor: r.get(4)?,
        version: r.get(5)?,
    })
}

pub fn by_order(db: &Db, order: OrderId) -> Result<Option<PaymentRow>, DbError> {
    db.query_opt(
        &format!("SELECT {PAYMENT_COLUMNS} FROM payments.payments WHERE order_id = $1 FOR UPDATE"),
        &[db::uuid(order)],
    )?
    .map(|r| payment_row(&r))
    .transpose()
}

/// Records the provider's answer to an authorization attempt (creating the payment on the
/// first one); returns the payment.
#[allow(clippy::too_many_arguments)]
pub fn record_attempt(
    db: &Db,
    order: OrderId,
    saga: SagaId,
    token: &str,
    amount_minor: i64,
    currency: &str,
    status: PaymentStatus,
    attempts: u32,
    error: Option<&str>,
) -> Result<PaymentRow, DbError> {
    // Inserted or updated, the payment comes back from the same statement.
    let row = db.query_one(
        &format!("INSERT INTO payments.payments (id, order_id, saga_id, token, amount_minor, currency, status, attempts, last_error, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)
         ON CONFLICT (order_id) DO UPDATE
            SET status = EXCLUDED.status, attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error,
                version = payments.payments.version + 1, updated_at = now()
         RETURNING {PAYMENT_COLUMNS}"),
        &[
            db::uuid(PaymentId::new()),
            db::uuid(order),
            db::uuid(saga),
            db::text(token),
            amount_minor.into(),
            db::text(currency),
            db::text(status.as_str()),
            (attempts as i32).into(),
            db::opt_text(error),
        ],
    )?;
    payment_row(&row)
}

/// Moves a payment to `status`; `captured` / `refunded` set those amounts when given.
pub fn set_status(
    db: &Db,
    id: PaymentId,
    status: PaymentStatus,
    captured_minor: Option<i64>,
    refunded_minor: Option<i64>,
) -> Result<i64, DbError> {
    db.query_one(
        "UPDATE payments.payments
            SET status = $2, captured_minor = coalesce($3, captured_minor),
                refunded_minor = coalesce($4, refunded_minor), version = version + 1, updated_at = now()
          WHERE id = $1 RETURNING version",
        &[
            db::uuid(id),
            db::text(status.as_str()),
            captured_minor.map(Into::into).unwrap_or(db::Param::DbNull),
            refunded_minor.map(Into::into).unwrap_or(db::Param::DbNull),
        ],
    )?
    .get(0)
}
