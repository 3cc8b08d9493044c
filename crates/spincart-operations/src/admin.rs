//! Operations endpoints (admin only): sagas (list, detail, retry, compensate), the event store,
//! dead letters (list, replay) and carts.

use serde::Serialize;
use spincart_domain::ids::SagaId;
use spincart_domain::saga::{Fact, SagaStatus};

use spincart_platform::db::{self, Db};
use spincart_platform::events::{self, EventFilter, Outbox};
use spincart_platform::http::{ApiError, Ctx, Reply};
use spincart_saga::{self, queries as sagas};

/// `GET /api/v1/admin/sagas?status=&page=&limit=`.
pub fn list_sagas(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.admin()?;
    let page = ctx.page()?;
    let status = ctx.query_param("status").map(|s| s.to_uppercase());
    if let Some(s) = &status {
        if SagaStatus::parse(s).is_none() {
            let all: Vec<&str> = SagaStatus::ALL.iter().map(|s| s.as_str()).collect();
            return Err(ApiError::invalid_field(
                "status",
                format!("must be one of {}", all.join(", ")),
            ));
        }
    }
    let db = Db::connect()?;
    let (items, total) = sagas::list(&db, status.as_deref(), page.limit, page.offset())?;
    Ok(page.reply(&items, total))
}

#[derive(Serialize)]
struct StepView {
    step: &'static str,
    status: &'static str,
    started_at: Option<String>,
    completed_at: Option<String>,
}

/// The forward steps with their timestamps, read from the saga's log.
fn steps(log: &[sagas::LogEntry], view: &sagas::SagaView) -> Vec<StepView> {
    let reached = |status: &str| {
        log.iter()
            .find(|e| e.kind == "transition" && e.to_status.as_deref() == Some(status))
            .map(|e| e.at.clone())
    };
    let failed_at = |from: &str| {
        log.iter()
            .find(|e| {
                e.kind == "transition"
                    && e.from_status.as_deref() == Some(from)
                    && e.to_status.as_deref() == Some("COMPENSATING")
            })
            .map(|e| e.at.clone())
    };
    let mut started = Some(view.created_at.clone());
    let mut out = Vec::new();
    for (step, from, to) in [
        ("reserve_inventory", "PENDING", "INVENTORY_RESERVED"),
        (
            "authorize_payment",
            "INVENTORY_RESERVED",
            "PAYMENT_AUTHORIZED",
        ),
        ("create_shipment", "PAYMENT_AUTHORIZED", "SHIPMENT_CREATED"),
        ("confirm_order", "SHIPMENT_CREATED", "CONFIRMED"),
    ] {
        let completed = reached(to);
        let status = if completed.is_some() {
            "done"
        } else if let Some(at) = failed_at(from) {
            out.push(StepView {
                step,
                status: "failed",
                started_at: started.clone(),
                completed_at: Some(at),
            });
            started = None;
            continue;
        } else if started.is_some() && view.status == from {
            "running"
        } else {
            "not_started"
        };
        out.push(StepView {
            step,
            status,
            started_at: if status == "not_started" {
                None
            } else {
                started.clone()
            },
            completed_at: completed.clone(),
        });
        started = completed;
    }
    out
}

/// `GET /api/v1/admin/sagas/{id}`: the saga, its steps with timestamps, its compensation log,
/// its whole log, and every event with its correlation id.
pub fn get_saga(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.admin()?;
    let id: SagaId = ctx.path_param("id", "Saga")?;
    let db = Db::connect()?;
    let view = sagas::find(&db, id)?.ok_or_else(|| ApiError::not_found("Saga"))?;
    let log = sagas::log_of(&db, id)?;
    let compensation_log: Vec<&sagas::LogEntry> =
        log.iter().filter(|e| e.kind == "compensation").collect();
    let events = events::query(
        &db,
        &EventFilter {
            correlation_id: Some(id.as_uuid()),
            ..Default::default()
        },
        1000,
    )?;
    Ok(Reply::ok(&serde_json::json!({
        "saga": view,
        "steps": steps(&log, &view),
        "compensation_log": compensation_log,
        "log": log,
        "events": events,
    })))
}

/// `POST /api/v1/admin/sagas/{id}/retry` → 202: a saga whose compensation failed tries it
/// again; a running saga has its current step's event published again.
pub fn retry_saga(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.admin()?;
    let id: SagaId = ctx.path_param("id", "Saga")?;
    let db = Db::connect()?;
    let mut outbox = Outbox::default();
    let mut redrive = Vec::new();
    db.transaction(|tx| -> Result<(), ApiError> {
        let mut saga = spincart_saga::lock(tx, id)?.ok_or_else(|| ApiError::not_found("Saga"))?;
        match saga.saga.status {
            SagaStatus::CompensationFailed => {
                spincart_saga::report(
                    tx,
                    &mut saga,
                    Fact::RetryRequested,
                    &mut outbox,
                    Some(ctx.request_id()),
                )?;
            }
            status if !status.is_terminal() => {
                redrive.extend(spincart_saga::last_step_event(tx, &saga)?);
                sagas::redriven(tx, id, spincart_saga::deadline_seconds(status))?;
                sagas::log(
                    tx,
                    id,
                    "redrive",
                    None,
                    status,
                    status,
                    "re-driven by an admin",
                )?;
            }
            status => {
                return Err(ApiError::conflict(
                    "saga_not_retryable",
                    format!(
                        "The saga is {}; there is nothing to retry.",
                        status.as_str()
                    ),
                ))
            }
        }
        Ok(())
    })?;
    events::republish(&db, &redrive)?;
    outbox.publish(&db);
    let view = sagas::find(&db, id)?.ok_or_else(|| ApiError::not_found("Saga"))?;
    Ok(Reply::accepted(&view))
}

/// `POST /api/v1/admin/sagas/{id}/compensate` → 202: a running saga compensates now.
pub fn compensate_saga(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.admin()?;
    let id: SagaId = ctx.path_param("id", "Saga")?;
    let db = Db::connect()?;
    let mut outbox = Outbox::default();
    db.transaction(|tx| -> Result<(), ApiError> {
        let mut saga = spincart_saga::lock(tx, id)?.ok_or_else(|| ApiError::not_found("Saga"))?;
        if saga.saga.status.is_terminal() || saga.saga.status == SagaStatus::Compensating {
            return Err(ApiError::conflict(
                "saga_not_compensable",
                format!(
                    "The saga is {}; only a running saga can be compensated.",
                    saga.saga.status.as_str()
                ),
            ));
        }
        spincart_saga::report(
            tx,
            &mut saga,
            Fact::CompensateRequested,
            &mut outbox,
            Some(ctx.request_id()),
        )?;
        Ok(())
    })?;
    outbox.publish(&db);
    let view = sagas::find(&db, id)?.ok_or_else(|| ApiError::not_found("Saga"))?;
    Ok(Reply::accepted(&view))
}

fn uuid_param(ctx: &Ctx, name: &str) -> Result<Option<uuid::Uuid>, ApiError> {
    ctx.query_param(name)
        .map(|v| {
            uuid::Uuid::parse_str(&v).map_err(|_| ApiError::invalid_field(name, "must be a UUID"))
        })
        .transpose()
}

/// `GET /api/v1/admin/events?correlation_id=&aggregate_id=&type=&after=&limit=`: the event
/// store, oldest first. `after` is a position (each event has one) or an RFC 3339 instant.
pub fn list_events(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.admin()?;
    let mut filter = EventFilter {
        correlation_id: uuid_param(ctx, "correlation_id")?,
        aggregate_id: uuid_param(ctx, "aggregate_id")?,
        event_type: ctx.query_param("type").filter(|t| !t.is_empty()),
        ..Default::default()
    };
    if let Some(after) = ctx.query_param("after") {
        if let Ok(position) = after.parse::<i64>() {
            filter.after_position = Some(position);
        } else if let Ok(time) = chrono::DateTime::parse_from_rfc3339(&after) {
            // In UTC: RFC 3339 allows offsets (up to ±23:59) PostgreSQL does not (±15:59).
            filter.after_time = Some(
                time.with_timezone(&chrono::Utc)
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            );
        } else {
            return Err(ApiError::invalid_field(
                "after",
                "must be an event position or an RFC 3339 time",
            ));
        }
    }
    let limit = match ctx.query_param("limit") {
        None => 100,
        Some(l) => match l.parse::<i64>() {
            Ok(l) if (1..=1000).contains(&l) => l,
            _ => {
                return Err(ApiError::invalid_field(
                    "limit",
                    "must be a whole number between 1 and 1000",
                ))
            }
        },
    };
    let db = Db::connect()?;
    let items = events::query(&db, &filter, limit)?;
    let next_after = items.last().map(|e| e.position);
    Ok(Reply::ok(
        &serde_json::json!({ "items": items, "limit": limit, "next_after": next_after }),
    ))
}

#[derive(Serialize)]
struct DeadLetterView {
    id: uuid::Uuid,
    consumer: String,
    event_id: Option<uuid::Uuid>,
    event_type: Option<String>,
    error: String,
    attempts: i32,
    payload: String,
    created_at: String,
    replayed_at: Option<String>,
}

/// `GET /api/v1/admin/dead-letters?page=&limit=`: newest first.
pub fn list_dead_letters(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.admin()?;
    let page = ctx.page()?;
    let db = Db::connect()?;
    let total: i64 = db
        .query_one("SELECT count(*) FROM messaging.dead_letters", &[])?
        .get(0)?;
    let items = db
        .query(
            "SELECT id, consumer, event_id, event_type, error, attempts, payload,
                    platform.rfc3339(created_at), platform.rfc3339(replayed_at)
               FROM messaging.dead_letters ORDER BY created_at DESC, id LIMIT $1 OFFSET $2",
            &[page.limit.into(), page.offset().into()],
        )?
        .map(|r| {
            let payload: Vec<u8> = r.get(6)?;
            Ok(DeadLetterView {
                id: r.get(0)?,
                consumer: r.get(1)?,
                event_id: r.get(2)?,
                event_type: r.get(3)?,
                error: r.get(4)?,
                attempts: r.get(5)?,
                payload: String::from_utf8_lossy(&payload).into_owned(),
                created_at: r.get(7)?,
                replayed_at: r.get(8)?,
            })
        })?;
    Ok(page.reply(&items, total))
}

/// `POST /api/v1/admin/dead-letters/{id}/replay` → 202: the message is published again on its
/// channel, and its consumer may apply it this time.
pub fn replay_dead_letter(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.admin()?;
    let id: uuid::Uuid = ctx.path_param("id", "Dead letter")?;
    let db = Db::connect()?;
    let (event_type, payload) = db.transaction(|tx| -> Result<(String, Vec<u8>), ApiError> {
        let row = tx
            .query_opt(
                "SELECT consumer, event_id, event_type, payload FROM messaging.dead_letters WHERE id = $1 FOR UPDATE",
                &[db::uuid(id)],
            )?
            .ok_or_else(|| ApiError::not_found("Dead letter"))?;
        let consumer: String = row.get(0)?;
        let event_id: Option<uuid::Uuid> = row.get(1)?;
        let event_type: Option<String> = row.get(2)?;
        let event_type = event_type.ok_or_else(|| {
            ApiError::conflict("not_replayable", "This message was never readable: it has no channel to go back to.")
        })?;
        if let Some(event_id) = event_id {
            tx.execute(
                "DELETE FROM messaging.processed_events WHERE consumer = $1 AND event_id = $2",
                &[db::text(&consumer), db::uuid(event_id)],
            )?;
        }
        tx.execute("UPDATE messaging.dead_letters SET replayed_at = now() WHERE id = $1", &[db::uuid(id)])?;
        Ok((event_type, row.get(3)?))
    })?;
    let channel = events::publish_raw(&event_type, &payload).map_err(ApiError::unavailable)?;
    Ok(Reply::accepted(
        &serde_json::json!({ "id": id, "channel": channel, "replayed": true }),
    ))
}

#[derive(Serialize)]
struct CartSummary {
    id: uuid::Uuid,
    user_id: uuid::Uuid,
    status: String,
    version: i64,
    item_count: i64,
    total: String,
    currency: Option<String>,
    created_at: String,
    updated_at: String,
}

/// `GET /api/v1/admin/carts?status=&page=&limit=`: newest first.
pub fn list_carts(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.admin()?;
    let page = ctx.page()?;
    let status = ctx.query_param("status").map(|s| s.to_uppercase());
    if let Some(s) = &status {
        if spincart_domain::cart::CartStatus::parse(s).is_none() {
            return Err(ApiError::invalid_field(
                "status",
                "must be one of ACTIVE, CHECKING_OUT, CHECKED_OUT, EXPIRED",
            ));
        }
    }
    let db = Db::connect()?;
    let status = db::opt_text(status);
    let total: i64 = db
        .query_one(
            "SELECT count(*) FROM cart.carts WHERE $1::text IS NULL OR status = $1",
            std::slice::from_ref(&status),
        )?
        .get(0)?;
    let items = db
        .query(
            "SELECT c.id, c.user_id, c.status, c.version,
                    coalesce(sum(i.quantity), 0)::bigint, coalesce(sum(i.unit_price_minor * i.quantity), 0)::bigint,
                    min(i.currency), platform.rfc3339(c.created_at), platform.rfc3339(c.updated_at)
               FROM cart.carts c LEFT JOIN cart.cart_items i ON i.cart_id = c.id
              WHERE $1::text IS NULL OR c.status = $1
              GROUP BY c.id
              ORDER BY c.created_at DESC, c.id LIMIT $2 OFFSET $3",
            &[status, page.limit.into(), page.offset().into()],
        )?
        .map(|r| {
            let currency: Option<String> = r.get(6)?;
            Ok(CartSummary {
                id: r.get(0)?,
                user_id: r.get(1)?,
                status: r.get(2)?,
                version: r.get(3)?,
                item_count: r.get(4)?,
                total: spincart_domain::money::format_minor(r.get(5)?),
                currency: currency.map(|c| c.trim().to_owned()),
                created_at: r.get(7)?,
                updated_at: r.get(8)?,
            })
        })?;
    Ok(page.reply(&items, total))
}
