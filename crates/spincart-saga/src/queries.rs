//! SQL of the checkout context (schema `checkout`): sagas and their log.

use serde::Serialize;
use spincart_domain::ids::{CartId, OrderId, SagaId, UserId};
use spincart_domain::saga::{Compensation, Saga, SagaStatus};

use super::SagaRecord;
use spincart_platform::db::{self, Db, DbError, Row};
use spincart_platform::events::ReadAhead;

fn bad(column: usize, value: &str) -> DbError {
    DbError::Decode {
        column,
        message: format!("unexpected value {value:?}"),
    }
}

pub fn insert(
    db: &Db,
    id: SagaId,
    order: OrderId,
    cart: CartId,
    user: UserId,
    payment_token: &str,
    timeout_seconds: i64,
) -> Result<(), DbError> {
    // The saga and the first entry of its log, in one statement.
    db.execute(
        "WITH started AS (
             INSERT INTO checkout.sagas (id, order_id, cart_id, user_id, status, payment_token, step_deadline)
             VALUES ($1, $2, $3, $4, 'PENDING', $5, now() + make_interval(secs => $6::bigint))
             RETURNING id
         )
         INSERT INTO checkout.saga_log (saga_id, kind, step, from_status, to_status, detail)
         SELECT started.id, 'transition', 'checkout', 'PENDING', 'PENDING', 'checkout requested'
           FROM started",
        &[db::uuid(id), db::uuid(order), db::uuid(cart), db::uuid(user), db::text(payment_token), timeout_seconds.into()],
    )?;
    Ok(())
}

const RECORD_COLUMNS: &str =
    "id, order_id, cart_id, user_id, status, plan, done, cancelling, reason, payment_token, redrives, version,
     extract(epoch from now() - created_at)::float8";

fn record(row: Row<'_>) -> Result<SagaRecord, DbError> {
    let status: String = row.get(4)?;
    let plan: Vec<Option<String>> = row.get(5)?;
    let plan = plan
        .into_iter()
        .map(|c| {
            c.as_deref()
                .and_then(Compensation::parse)
                .ok_or_else(|| bad(5, c.as_deref().unwrap_or("")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let done: i32 = row.get(6)?;
    Ok(SagaRecord {
        id: db::id(row, 0)?,
        order_id: db::id(row, 1)?,
        cart_id: db::id(row, 2)?,
        user_id: db::id(row, 3)?,
        saga: Saga {
            status: SagaStatus::parse(&status).ok_or_else(|| bad(4, &status))?,
            plan,
            done: usize::try_from(done).unwrap_or(0),
            cancelling: row.get(7)?,
            reason: row.get(8)?,
        },
        payment_token: row.get(9)?,
        redrives: row.get(10)?,
        version: row.get(11)?,
        age_seconds: row.get(12)?,
    })
}

pub fn lock(db: &Db, id: SagaId) -> Result<Option<SagaRecord>, DbError> {
    if let Some(read) = db.take_ahead(&read_ahead_key(id)) {
        return read.map(|r| record(r.row())).transpose();
    }
    db.query_opt(
        &format!("SELECT {RECORD_COLUMNS} FROM checkout.sagas WHERE id = $1 FOR UPDATE"),
        &[db::uuid(id)],
    )?
    .map(|r| record(r.row()))
    .transpose()
}

fn read_ahead_key(id: SagaId) -> String {
    format!("checkout.sagas {id}")
}

/// [`lock`] of the saga an event belongs to (its correlation id), read ahead with a
/// consumer's "processed" mark; the consumer's later [`lock`] takes it from there.
pub fn lock_ahead(event: &spincart_domain::events::EventEnvelope) -> ReadAhead {
    let id = SagaId::from_uuid(event.correlation_id);
    ReadAhead {
        key: read_ahead_key(id),
        sql: format!("SELECT {RECORD_COLUMNS} FROM checkout.sagas WHERE id = $3 FOR UPDATE"),
        param: db::uuid(id),
    }
}

/// Sagas past their step deadline, locked (others' are skipped: sweeps run concurrently).
pub fn claim_due(db: &Db, limit: i64) -> Result<Vec<SagaRecord>, DbError> {
    db.query(
        &format!(
            "SELECT {RECORD_COLUMNS} FROM checkout.sagas
              WHERE status IN ('PENDING', 'INVENTORY_RESERVED', 'PAYMENT_AUTHORIZED', 'SHIPMENT_CREATED', 'COMPENSATING')
                AND step_deadline < now()
              ORDER BY step_deadline
              LIMIT $1
              FOR UPDATE SKIP LOCKED"
        ),
        &[limit.into()],
    )?
    .map(record)
}

/// A saga log entry to write with the saga's next save.
#[derive(Debug, Clone)]
pub struct NewLogEntry {
    kind: &'static str,
    step: Option<String>,
    from: SagaStatus,
    to: SagaStatus,
    detail: String,
}

impl NewLogEntry {
    pub fn new(
        kind: &'static str,
        step: Option<&str>,
        from: SagaStatus,
        to: SagaStatus,
        detail: &str,
    ) -> NewLogEntry {
        NewLogEntry {
            kind,
            step: step.map(str::to_owned),
            from,
            to,
            detail: detail.to_owned(),
        }
    }
}

/// Saves a saga — a running saga gets a fresh step deadline, an ended one none — and appends
/// `log` to its log, in order, in the same statement.
pub fn save(
    db: &Db,
    r: &SagaRecord,
    timeout_seconds: i64,
    log: &[NewLogEntry],
) -> Result<(), DbError> {
    let plan: Vec<Option<String>> = r
        .saga
        .plan
        .iter()
        .map(|c| Some(c.as_str().to_owned()))
        .collect();
    let column = |f: &dyn Fn(&NewLogEntry) -> Option<String>| -> db::Param {
        log.iter().map(f).collect::<Vec<Option<String>>>().into()
    };
    // The statement is a call: the function's plans are cached per session (migration 0011).
    db.execute(
        "SELECT checkout.save_saga($1, $2, $3::text[], $4, $5, $6, $7, $8, $9, $10,
                                   $11::text[], $12::text[], $13::text[], $14::text[], $15::text[])",
        &[
            db::uuid(r.id),
            db::text(r.saga.status.as_str()),
            plan.into(),
            (r.saga.done as i32).into(),
            r.saga.cancelling.into(),
            db::opt_text(r.saga.reason.clone()),
            r.redrives.into(),
            r.version.into(),
            r.saga.status.is_terminal().into(),
            timeout_seconds.into(),
            column(&|e| Some(e.kind.to_owned())),
            column(&|e| e.step.clone()),
            column(&|e| Some(e.from.as_str().to_owned())),
            column(&|e| Some(e.to.as_str().to_owned())),
            column(&|e| Some(e.detail.clone())),
        ],
    )?;
    Ok(())
}

/// Counts a re-drive and pushes the deadline back.
pub fn redriven(db: &Db, id: SagaId, timeout_seconds: i64) -> Result<(), DbError> {
    db.execute(
        "UPDATE checkout.sagas SET redrives = redrives + 1, updated_at = now(),
                step_deadline = now() + make_interval(secs => $2::bigint)
          WHERE id = $1",
        &[db::uuid(id), timeout_seconds.into()],
    )?;
    Ok(())
}

pub fn log(
    db: &Db,
    saga: SagaId,
    kind: &str,
    step: Option<&str>,
    from: SagaStatus,
    to: SagaStatus,
    detail: &str,
) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO checkout.saga_log (saga_id, kind, step, from_status, to_status, detail)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            db::uuid(saga),
            db::text(kind),
            db::opt_text(step),
            db::text(from.as_str()),
            db::text(to.as_str()),
            db::text(detail),
        ],
    )?;
    Ok(())
}

/// A saga as the admin endpoints show it.
#[derive(Debug, Clone, Serialize)]
pub struct SagaView {
    pub id: SagaId,
    pub order_id: OrderId,
    pub cart_id: CartId,
    pub user_id: UserId,
    pub status: String,
    pub step: String,
    pub compensations: Vec<String>,
    pub compensations_done: i32,
    pub reason: Option<String>,
    pub redrives: i32,
    pub step_deadline: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const VIEW_COLUMNS: &str = "id, order_id, cart_id, user_id, status, plan, done, reason, redrives,
    platform.rfc3339(step_deadline), platform.rfc3339(created_at), platform.rfc3339(updated_at)";

fn view(row: Row<'_>) -> Result<SagaView, DbError> {
    let status: String = row.get(4)?;
    let plan: Vec<Option<String>> = row.get(5)?;
    let done: i32 = row.get(6)?;
    Ok(SagaView {
        id: db::id(row, 0)?,
        order_id: db::id(row, 1)?,
        cart_id: db::id(row, 2)?,
        user_id: db::id(row, 3)?,
        step: spincart_domain::saga::step_name(&status, &plan, done),
        status,
        compensations: plan.into_iter().flatten().collect(),
        compensations_done: done,
        reason: row.get(7)?,
        redrives: row.get(8)?,
        step_deadline: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
    })
}

pub fn find(db: &Db, id: SagaId) -> Result<Option<SagaView>, DbError> {
    db.query_opt(
        &format!("SELECT {VIEW_COLUMNS} FROM checkout.sagas WHERE id = $1"),
        &[db::uuid(id)],
    )?
    .map(|r| view(r.row()))
    .transpose()
}

pub fn list(
    db: &Db,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SagaView>, i64), DbError> {
    let status = db::opt_text(status);
    let total: i64 = db
        .query_one(
            "SELECT count(*) FROM checkout.sagas WHERE $1::text IS NULL OR status = $1",
            std::slice::from_ref(&status),
        )?
        .get(0)?;
    let rows = db.query(
        &format!(
            "SELECT {VIEW_COLUMNS} FROM checkout.sagas WHERE $1::text IS NULL OR status = $1
              ORDER BY created_at DESC, id LIMIT $2 OFFSET $3"
        ),
        &[status, limit.into(), offset.into()],
    )?;
    Ok((rows.map(view)?, total))
}

/// One entry of a saga's log.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub kind: String,
    pub step: Option<String>,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: String,
    pub at: String,
}

pub fn log_of(db: &Db, id: SagaId) -> Result<Vec<LogEntry>, DbError> {
    db.query(
        "SELECT kind, step, from_status, to_status, detail, platform.rfc3339(at)
           FROM checkout.saga_log WHERE saga_id = $1 ORDER BY id",
        &[db::uuid(id)],
    )?
    .map(|r| {
        Ok(LogEntry {
            kind: r.get(0)?,
            step: r.get(1)?,
            from_status: r.get(2)?,
            to_status: r.get(3)?,
            detail: r.get(4)?,
            at: r.get(5)?,
        })
    })
}
