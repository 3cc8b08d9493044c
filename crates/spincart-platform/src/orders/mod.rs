//! Orders: the event-sourced order aggregate (its events are its truth; `orders.orders` is the
//! read model, updated in the same transaction), and the order endpoints.

pub mod queries;

use spincart_domain::events::{Causation, NewEvent};
use spincart_domain::ids::{OrderId, SagaId};
use spincart_domain::order::{Order, OrderCommand, OrderError, OrderEvent, OrderStatus};
use spincart_domain::saga::{Fact, SagaError};

use crate::checkout;
use crate::db::{Db, DbError};
use crate::events::Outbox;
use crate::http::{ApiError, Ctx, Reply};

/// The aggregate type of order events.
pub const AGGREGATE: &str = "order";

fn record(
    db: &Db,
    order: &Order,
    event: &OrderEvent,
    outbox: &mut Outbox,
    causation: Causation,
) -> Result<(), DbError> {
    outbox.record(
        db,
        NewEvent::new(
            event.event_type(),
            AGGREGATE,
            order.id,
            order.version,
            event,
        ),
        causation,
    )?;
    Ok(())
}

/// Records a new order: its `order.placed` event (version 1) and its read model.
pub fn place(
    db: &Db,
    placed: OrderEvent,
    outbox: &mut Outbox,
    causation: Causation,
) -> Result<Order, DbError> {
    let order = Order::placed(&placed).expect("a Placed event");
    record(db, &order, &placed, outbox, causation)?;
    queries::insert(db, &order)?;
    Ok(order)
}

/// Runs `command` against the order: rebuilds it from its events, lets it decide, appends the
/// new events with the next versions (a concurrent writer makes the append fail on the event
/// store's unique version) and brings the read model up to date.
pub fn execute(
    db: &Db,
    id: OrderId,
    command: &OrderCommand,
    outbox: &mut Outbox,
    causation: Causation,
) -> Result<Result<Order, OrderError>, DbError> {
    let events = queries::events(db, id)?;
    let mut order = Order::from_events(&events).ok_or(DbError::NoRow)?;
    let new_events = match order.handle(command) {
        Ok(events) => events,
        Err(e) => return Ok(Err(e)),
    };
    for event in &new_events {
        order.apply(event);
        record(db, &order, event, outbox, causation)?;
    }
    if !new_events.is_empty() {
        queries::update(db, &order)?;
    }
    Ok(Ok(order))
}

fn order_error(e: OrderError) -> ApiError {
    match e {
        OrderError::AlreadyShipped => ApiError::conflict("order_shipped", e.to_string()),
        OrderError::CancelPending => ApiError::conflict("cancel_in_progress", e.to_string()),
        OrderError::InvalidTransition(..) => {
            ApiError::conflict("order_not_in_that_state", e.to_string())
        }
    }
}

/// The order `{id}` if the caller may see it (owner or admin); 404 otherwise.
fn accessible(ctx: &Ctx, db: &Db) -> Result<(OrderId, SagaId, i64), ApiError> {
    let caller = ctx.caller()?;
    let id: OrderId = ctx.path_param("id", "Order")?;
    let (owner, saga, version) =
        queries::head(db, id)?.ok_or_else(|| ApiError::not_found("Order"))?;
    if !caller.can_access(owner) {
        return Err(ApiError::not_found("Order"));
    }
    Ok((id, saga, version))
}

/// `GET /api/v1/orders/{id}[?wait=N]`: with `wait`, answers as soon as the order's or its
/// saga's status changes, or after N seconds (at most 30).
pub fn get(ctx: &Ctx) -> Result<Reply, ApiError> {
    let wait = match ctx.query_param("wait") {
        None => 0,
        Some(w) => match w.parse::<u64>() {
            Ok(w) if w <= 30 => w,
            _ => {
                return Err(ApiError::invalid_field(
                    "wait",
                    "must be a whole number of seconds between 0 and 30",
                ))
            }
        },
    };
    let db = Db::connect()?;
    let (id, _, _) = accessible(ctx, &db)?;
    let first = queries::view(&db, id)?.ok_or_else(|| ApiError::not_found("Order"))?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait);
    let mut view = first.clone();
    while std::time::Instant::now() < deadline
        && view.status == first.status
        && view.saga.status == first.saga.status
    {
        std::thread::sleep(std::time::Duration::from_millis(100));
        view = queries::view(&db, id)?.ok_or_else(|| ApiError::not_found("Order"))?;
    }
    Ok(Reply::ok(&view).etag(view.version))
}

/// `GET /api/v1/orders`: the caller's orders, newest first.
pub fn list(ctx: &Ctx) -> Result<Reply, ApiError> {
    let caller = ctx.caller()?;
    let page = ctx.page()?;
    let db = Db::connect()?;
    let (items, total) = queries::list(&db, Some(caller.user_id), page.limit, page.offset())?;
    Ok(page.reply(&items, total))
}

/// `GET /api/v1/orders/{id}/events`: the order's history, oldest first — its own events and
/// every event its checkout caused (same correlation id).
pub fn history(ctx: &Ctx) -> Result<Reply, ApiError> {
    let db = Db::connect()?;
    let (id, saga, _) = accessible(ctx, &db)?;
    let events = crate::events::query(
        &db,
        &crate::events::EventFilter {
            correlation_or_aggregate: Some((saga.as_uuid(), id.as_uuid())),
            ..Default::default()
        },
        1000,
    )?;
    Ok(Reply::ok(
        &serde_json::json!({ "order_id": id, "items": events }),
    ))
}

/// `POST /api/v1/orders/{id}/cancel` → 202: compensations run for whatever was done; a shipped
/// order is a 409.
pub fn cancel(ctx: &Ctx) -> Result<Reply, ApiError> {
    let db = Db::connect()?;
    let (id, saga_id, _) = accessible(ctx, &db)?;
    let mut outbox = Outbox::default();
    db.transaction(|tx| -> Result<(), ApiError> {
        let mut saga = checkout::lock(tx, saga_id)?.ok_or_else(|| ApiError::not_found("Order"))?;
        let causation = Causation {
            correlation_id: saga_id.as_uuid(),
            causation_id: Some(ctx.request_id()),
        };
        let order = queries::events(tx, id)?;
        if Order::from_events(&order).is_some_and(|o| o.status == OrderStatus::Shipped) {
            return Err(order_error(OrderError::AlreadyShipped));
        }
        saga.saga
            .check_cancellable()
            .map_err(|e: SagaError| ApiError::conflict("order_not_cancellable", e.to_string()))?;
        execute(
            tx,
            id,
            &OrderCommand::RequestCancel {
                reason: "cancelled by request".into(),
            },
            &mut outbox,
            causation,
        )?
        .map_err(order_error)?;
        checkout::report(
            tx,
            &mut saga,
            Fact::CancelRequested,
            &mut outbox,
            Some(ctx.request_id()),
        )?;
        Ok(())
    })?;
    outbox.publish(&db);
    let view = queries::view(&db, id)?.ok_or_else(|| ApiError::not_found("Order"))?;
    Ok(Reply::accepted(&view))
}

/// `POST /api/v1/orders/{id}/ship` (admin): the order's reserved stock leaves `on_hand`.
pub fn ship(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.admin()?;
    let db = Db::connect()?;
    let (id, saga_id, _) = accessible(ctx, &db)?;
    let mut outbox = Outbox::default();
    db.transaction(|tx| -> Result<(), ApiError> {
        // The saga row serialises shipping with a concurrent cancel.
        checkout::lock(tx, saga_id)?.ok_or_else(|| ApiError::not_found("Order"))?;
        let causation = Causation {
            correlation_id: saga_id.as_uuid(),
            causation_id: Some(ctx.request_id()),
        };
        let before = Order::from_events(&queries::events(tx, id)?)
            .ok_or_else(|| ApiError::not_found("Order"))?;
        let order =
            execute(tx, id, &OrderCommand::Ship, &mut outbox, causation)?.map_err(order_error)?;
        if before.status != OrderStatus::Shipped {
            crate::inventory::saga::ship(tx, &order, &mut outbox, causation)?;
        }
        Ok(())
    })?;
    outbox.publish(&db);
    let view = queries::view(&db, id)?.ok_or_else(|| ApiError::not_found("Order"))?;
    Ok(Reply::ok(&view).etag(view.version))
}

#[derive(serde::Deserialize)]
struct PaymentAuthorized {
    payment_id: spincart_domain::ids::PaymentId,
}

/// `payment.authorized` → the order is confirmed (`order.confirmed`): the saga's last step.
pub fn confirm_after_payment(
    db: &Db,
    event: &spincart_domain::events::EventEnvelope,
    outbox: &mut Outbox,
) -> Result<(), crate::events::HandlerError> {
    let data: PaymentAuthorized = event.data_as()?;
    checkout::step(
        db,
        event,
        outbox,
        spincart_domain::saga::SagaStatus::PaymentAuthorized,
        |tx, saga, outbox, causation| {
            execute(
                tx,
                saga.order_id,
                &OrderCommand::Confirm {
                    payment_id: data.payment_id,
                },
                outbox,
                causation,
            )?
            .map_err(|e| crate::events::HandlerError::Permanent(e.to_string()))?;
            Ok(Some(Fact::OrderConfirmed))
        },
    )
}
