//! # spincart-orders
//!
//! The orders context: the event-sourced order aggregate — its events are its truth;
//! `orders.orders` is the read model, updated in the same transaction — and the order
//! endpoints that read it (one order, the caller's orders, an order's history).
//!
//! Commands come from the saga and from checkout through [`place`] and [`execute`]; this crate
//! depends on no other context, so the saga's coordination ([`spincart_saga`], which fails and
//! cancels orders) can stand on it.
//!
//! [`spincart_saga`]: ../spincart_saga/index.html

#![deny(unsafe_code)]

pub mod queries;

use spincart_domain::events::{Causation, NewEvent};
use spincart_domain::ids::{OrderId, SagaId};
use spincart_domain::order::{Order, OrderCommand, OrderError, OrderEvent};
use spincart_platform::db::{Db, DbError};
use spincart_platform::events::Outbox;
use spincart_platform::http::{ApiError, Ctx, Reply};

/// The platform, for this context's components (they depend on this crate only).
pub use spincart_platform as platform;

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

/// The API error for an order command the order refused (409s).
pub fn order_error(e: OrderError) -> ApiError {
    match e {
        OrderError::AlreadyShipped => ApiError::conflict("order_shipped", e.to_string()),
        OrderError::CancelPending => ApiError::conflict("cancel_in_progress", e.to_string()),
        OrderError::InvalidTransition(..) => {
            ApiError::conflict("order_not_in_that_state", e.to_string())
        }
    }
}

/// The order `{id}` if the caller may see it (owner or admin); 404 otherwise.
pub fn accessible(ctx: &Ctx, db: &Db) -> Result<(OrderId, SagaId, i64), ApiError> {
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
    let events = spincart_platform::events::query(
        &db,
        &spincart_platform::events::EventFilter {
            correlation_or_aggregate: Some((saga.as_uuid(), id.as_uuid())),
            ..Default::default()
        },
        1000,
    )?;
    Ok(Reply::ok(
        &serde_json::json!({ "order_id": id, "items": events }),
    ))
}
