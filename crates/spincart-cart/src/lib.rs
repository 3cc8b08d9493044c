//! # spincart-cart
//!
//! Carts: create, read (served from a Redis cache keyed by version), add/update/remove lines,
//! empty. Every change runs in one transaction with the cart row locked: stock is locked or
//! released through inventory, the version goes up, and the event is recorded.

#![deny(unsafe_code)]

pub mod cache;
pub mod queries;
pub mod saga;

use serde::Deserialize;
use spincart_domain::cart::{Cart, CartError, CartLimits, CartStatus};
use spincart_domain::events::{Causation, EventType, NewEvent};
use spincart_domain::ids::{CartId, ProductId};
use spincart_domain::inventory::{lock_ttl_seconds, InventoryError, Quantity};

use spincart_inventory::queries::Refusal;
use spincart_inventory::{insufficient, refused};
use spincart_platform::config;
use spincart_platform::db::Db;
use spincart_platform::events::Outbox;
use spincart_platform::http::{ApiError, Ctx, Reply};

/// The platform, for this context's components (they depend on this crate only).
pub use spincart_platform as platform;
/// Handles a saga event with the saga locked in the same statement as the "processed" mark
/// (what every saga consumer component calls).
pub use spincart_saga::consume as consume_saga_event;

/// The aggregate type of cart events.
pub const AGGREGATE: &str = "cart";

struct Settings {
    lock_ttl_seconds: i64,
    expiry_days: i64,
    cache_seconds: i64,
}

fn settings() -> Settings {
    Settings {
        lock_ttl_seconds: lock_ttl_seconds(config::parse("cart_lock_ttl_seconds").unwrap_or(3600)),
        expiry_days: config::parse::<i64>("cart_expiry_days")
            .unwrap_or(30)
            .clamp(1, 3650),
        cache_seconds: config::parse::<i64>("cart_cache_seconds")
            .unwrap_or(60)
            .clamp(1, 3600),
    }
}

/// How much a cart may hold (`max_cart_lines`, `max_locked_units_per_user`).
fn limits() -> CartLimits {
    let default = CartLimits::default();
    CartLimits {
        max_lines: config::parse::<usize>("max_cart_lines")
            .unwrap_or(default.max_lines)
            .clamp(1, 1000),
        max_units: config::parse::<u32>("max_locked_units_per_user")
            .unwrap_or(default.max_units)
            .clamp(1, 100_000),
    }
}

/// The API error for a refused cart command.
pub fn cart_error(e: CartError) -> ApiError {
    let message = e.to_string();
    match e {
        CartError::NotActive(CartStatus::CheckingOut) => {
            ApiError::conflict("checkout_in_progress", message)
        }
        CartError::NotActive(_) => ApiError::conflict("cart_not_active", message),
        CartError::CurrencyMismatch { .. } => ApiError::conflict("currency_mismatch", message),
        CartError::LineLimit { .. } | CartError::TotalTooLarge => {
            ApiError::invalid_field("quantity", message)
        }
        CartError::LineNotFound => ApiError::not_found("Cart item"),
        CartError::TooManyLines { max } => {
            ApiError::conflict("cart_line_limit", message).with("max_lines", max)
        }
        CartError::TooManyUnits { max, requested } => {
            ApiError::conflict("cart_unit_limit", message)
                .with("max_units", max)
                .with("requested", requested)
        }
    }
}

/// Builds the cart's view and caches it under its version (write-through).
fn fresh_view(db: &Db, id: CartId) -> Result<(queries::CartView, Vec<u8>), ApiError> {
    let s = settings();
    let view = queries::view(db, id, s.expiry_days, s.cache_seconds)?
        .ok_or_else(|| ApiError::not_found("Cart"))?;
    let bytes = serde_json::to_vec(&view).map_err(ApiError::internal)?;
    cache::put(
        &cache::key(id, view.version),
        &bytes,
        view.fresh_for_seconds,
    );
    Ok((view, bytes))
}

fn view_reply(status: u16, version: i64, body: Vec<u8>, cache: &str) -> Reply {
    Reply::text(status, "application/json", body)
        .etag(version)
        .header("x-spincart-cache", cache)
}

/// `POST /api/v1/carts` → 201 a new cart, or 200 the caller's open cart.
pub fn create(ctx: &Ctx) -> Result<Reply, ApiError> {
    let caller = ctx.caller()?;
    let db = Db::connect()?;
    if let Some(existing) = queries::open_cart_of(&db, caller.user_id)? {
        let (view, bytes) = fresh_view(&db, existing)?;
        return Ok(view_reply(200, view.version, bytes, "miss"));
    }
    let id = CartId::new();
    let mut outbox = Outbox::default();
    let created = db.transaction(|tx| -> Result<bool, ApiError> {
        if !queries::insert_cart(tx, id, caller.user_id)? {
            return Ok(false);
        }
        outbox.record(
            tx,
            NewEvent::new(
                EventType::CartCreated,
                AGGREGATE,
                id,
                1,
                &serde_json::json!({ "cart_id": id, "user_id": caller.user_id }),
            ),
            Causation::new_chain(ctx.request_id()),
        )?;
        Ok(true)
    })?;
    outbox.publish(&db);
    if created {
        count_operation("create");
    }
    // Lost a race with another request of the same user: theirs is the open cart.
    let id = if created {
        id
    } else {
        queries::open_cart_of(&db, caller.user_id)?
            .ok_or_else(|| ApiError::internal("open cart vanished"))?
    };
    let (view, bytes) = fresh_view(&db, id)?;
    let reply = view_reply(if created { 201 } else { 200 }, view.version, bytes, "miss");
    Ok(reply.header("location", format!("/api/v1/carts/{id}")))
}

/// `GET /api/v1/carts/{id}`, from the cache when the current version is there
/// (`Cache-Control: no-cache` skips it).
pub fn get(ctx: &Ctx) -> Result<Reply, ApiError> {
    let caller = ctx.caller()?;
    let id: CartId = ctx.path_param("id", "Cart")?;
    let db = Db::connect()?;
    let (_, version) = queries::head(&db, id)?
        .filter(|(owner, _)| caller.can_access(*owner))
        .ok_or_else(|| ApiError::not_found("Cart"))?;
    let bypass = ctx
        .header("cache-control")
        .is_some_and(|v| v.to_ascii_lowercase().contains("no-cache"));
    if !bypass {
        let cached = cache::get(&cache::key(id, version));
        let result = if cached.is_some() { "hit" } else { "miss" };
        platform::metrics::count(
            "spincart_cache_requests_total",
            &[("cache", "cart"), ("result", result)],
            1,
        );
        if let Some(bytes) = cached {
            return Ok(view_reply(200, version, bytes, "hit"));
        }
    }
    let (view, bytes) = fresh_view(&db, id)?;
    Ok(view_reply(200, view.version, bytes, "miss"))
}

/// What a command did: the event to record, or nothing worth announcing.
type Outcome = Option<(EventType, serde_json::Value)>;

/// Counts a cart command that succeeded (`spincart_cart_operations_total{operation}`): create,
/// add_item, update_item, remove_item, clear here, checkout in `spincart-checkout`.
pub fn count_operation(operation: &str) {
    platform::metrics::count(
        "spincart_cart_operations_total",
        &[("operation", operation)],
        1,
    );
}

/// Runs `command` on the caller's cart `{id}` in a transaction, honouring `If-Match`, then
/// bumps the version and records the event, and answers with the fresh view; a command that
/// commits counts as `operation`.
fn mutate(
    ctx: &Ctx,
    operation: &str,
    command: impl FnOnce(&Db, &Cart) -> Result<Outcome, ApiError>,
) -> Result<Reply, ApiError> {
    let caller = ctx.caller()?;
    let id: CartId = ctx.path_param("id", "Cart")?;
    let expected = ctx.if_match()?;
    let db = Db::connect()?;
    let mut outbox = Outbox::default();
    db.transaction(|tx| -> Result<(), ApiError> {
        let cart = queries::load_for_update(tx, id)?
            .filter(|c| caller.can_access(c.user_id))
            .ok_or_else(|| ApiError::not_found("Cart"))?;
        if let Some(expected) = expected {
            if expected != cart.version {
                return Err(ApiError::new(
                    412,
                    "version_mismatch",
                    format!("The cart is at version {}, not {expected}.", cart.version),
                )
                .with("current_version", cart.version));
            }
        }
        let outcome = command(tx, &cart)?;
        let version = queries::bump(tx, id)?;
        if let Some((event_type, data)) = outcome {
            outbox.record(
                tx,
                NewEvent::new(event_type, AGGREGATE, id, version, &data),
                Causation::new_chain(ctx.request_id()),
            )?;
        }
        Ok(())
    })?;
    count_operation(operation);
    outbox.publish(&db);
    let (view, bytes) = fresh_view(&db, id)?;
    Ok(view_reply(200, view.version, bytes, "miss"))
}

fn quantity(value: i64) -> Result<Quantity, ApiError> {
    Quantity::parse(value).map_err(|e| ApiError::invalid_field("quantity", e))
}

/// Locks `after` units of a line, explaining a refusal with what this cart could have.
fn lock(
    db: &Db,
    cart: CartId,
    product: ProductId,
    after: u32,
    held_by_cart: u32,
) -> Result<(), ApiError> {
    let ttl = settings().lock_ttl_seconds;
    queries::set_lock(db, cart, product, after, ttl)?.map_err(|refusal| match refusal {
        Refusal::Stock(InventoryError::Insufficient { available }) if held_by_cart > 0 => {
            insufficient(available + i64::from(held_by_cart))
        }
        refusal => refused(refusal),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddItemRequest {
    product_id: String,
    #[serde(deserialize_with = "spincart_domain::validation::whole_number")]
    quantity: i64,
}

/// `POST /api/v1/carts/{id}/items` `{product_id,quantity}`: adds (or increments) a line and
/// locks its stock; 409 `insufficient_stock` with `available` when there is not enough.
pub fn add_item(ctx: &Ctx) -> Result<Reply, ApiError> {
    let request: AddItemRequest = ctx.json()?;
    let product_id = ProductId::parse(&request.product_id)
        .map_err(|e| ApiError::invalid_field("product_id", e.to_string()))?;
    let quantity = quantity(request.quantity)?;
    mutate(ctx, "add_item", |tx, cart| {
        cart.ensure_active().map_err(cart_error)?;
        let product = queries::product_for_cart(tx, product_id)?
            .ok_or_else(|| ApiError::not_found("Product"))?;
        let change = cart.add(&product, quantity).map_err(cart_error)?;
        cart.check_limits(&change, limits()).map_err(cart_error)?;
        lock(tx, cart.id, product_id, change.after, 0)?;
        let line = change.line.as_ref().expect("an added line");
        queries::upsert_line(tx, cart.id, line)?;
        Ok(Some((
            EventType::CartItemAdded,
            serde_json::json!({
                "cart_id": cart.id, "product_id": product_id, "quantity": quantity.get(),
                "line_quantity": change.after, "unit_price": line.unit_price.amount(),
                "currency": line.unit_price.currency(),
            }),
        )))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetQuantityRequest {
    #[serde(deserialize_with = "spincart_domain::validation::whole_number")]
    quantity: i64,
}

/// `PUT /api/v1/carts/{id}/items/{productId}` `{quantity}`: raising locks the difference,
/// lowering releases it.
pub fn update_item(ctx: &Ctx) -> Result<Reply, ApiError> {
    let product_id: ProductId = ctx.path_param("product_id", "Cart item")?;
    let request: SetQuantityRequest = ctx.json()?;
    let quantity = quantity(request.quantity)?;
    mutate(ctx, "update_item", |tx, cart| {
        let change = cart
            .set_quantity(product_id, quantity)
            .map_err(cart_error)?;
        cart.check_limits(&change, limits()).map_err(cart_error)?;
        lock(tx, cart.id, product_id, change.after, change.before)?;
        queries::upsert_line(tx, cart.id, change.line.as_ref().expect("an updated line"))?;
        Ok((change.before != change.after).then(|| {
            (
                EventType::CartItemUpdated,
                serde_json::json!({
                    "cart_id": cart.id, "product_id": product_id,
                    "from_quantity": change.before, "quantity": change.after,
                }),
            )
        }))
    })
}

/// `DELETE /api/v1/carts/{id}/items/{productId}`: removes the line and releases its stock.
pub fn remove_item(ctx: &Ctx) -> Result<Reply, ApiError> {
    let product_id: ProductId = ctx.path_param("product_id", "Cart item")?;
    mutate(ctx, "remove_item", |tx, cart| {
        let change = cart.remove(product_id).map_err(cart_error)?;
        queries::set_lock(tx, cart.id, product_id, 0, 0)?.map_err(refused)?;
        queries::delete_line(tx, cart.id, product_id)?;
        Ok(Some((
            EventType::CartItemRemoved,
            serde_json::json!({ "cart_id": cart.id, "product_id": product_id, "quantity": change.before }),
        )))
    })
}

/// `DELETE /api/v1/carts/{id}`: empties the cart and releases every lock.
pub fn empty(ctx: &Ctx) -> Result<Reply, ApiError> {
    mutate(ctx, "clear", |tx, cart| {
        let removed = cart.clear().map_err(cart_error)?;
        if removed.is_empty() {
            return Ok(None);
        }
        queries::release_locks(tx, cart.id)?;
        queries::delete_lines(tx, cart.id)?;
        Ok(Some((
            EventType::CartCleared,
            serde_json::json!({
                "cart_id": cart.id, "reason": "emptied",
                "lines": removed.iter().map(|c| serde_json::json!({ "product_id": c.product_id, "quantity": c.before })).collect::<Vec<_>>(),
            }),
        )))
    })
}
