//! # spincart-checkout
//!
//! The checkout context: turning a cart into an order and its saga, and the order operations
//! that drive the saga — the last forward step (confirm the order once its shipment is booked),
//! cancel (which compensates whatever was done) and ship (the reserved stock leaves, the booked
//! shipment goes to the carrier). The saga's coordination is [`spincart_saga`]'s; the order's
//! record and history are [`spincart_orders`]'.
//!
//! `POST /api/v1/orders` checks a cart out too, and Spin routes by path, so the component of
//! `/api/v1/orders` serves the caller's order list from here as well ([`list_orders`]).

#![deny(unsafe_code)]

use serde::Deserialize;
use spincart_domain::cart::CartStatus;
use spincart_domain::events::{Causation, EventEnvelope};
use spincart_domain::ids::{CartId, OrderId, SagaId};
use spincart_domain::order::{Order, OrderCommand, OrderError, OrderEvent, OrderLine, OrderStatus};
use spincart_domain::payment::check_token;
use spincart_domain::saga::{Fact, SagaError, SagaStatus};
use spincart_domain::shipping::{ShippingAddress, ShippingAddressInput};
use spincart_orders::{order_error, queries as orders};
use spincart_platform::db::Db;
use spincart_platform::events::{HandlerError, Outbox};
use spincart_platform::http::{ApiError, Ctx, Reply};

/// What the component of `/api/v1/orders` (`GET`: the caller's orders) needs beside checkout.
pub use spincart_orders::list as list_orders;
/// The platform, for this context's components (they depend on this crate only).
pub use spincart_platform as platform;
/// Handles a saga event with the saga locked in the same statement as the "processed" mark
/// (what every saga consumer component calls).
pub use spincart_saga::consume as consume_saga_event;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckoutRequest {
    payment_token: String,
    shipping_address: ShippingAddressInput,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceOrderRequest {
    cart_id: String,
    payment_token: String,
    shipping_address: ShippingAddressInput,
}

/// `POST /api/v1/carts/{id}/checkout` `{payment_token, shipping_address}` → 202.
pub fn checkout_cart(ctx: &Ctx) -> Result<Reply, ApiError> {
    let request: CheckoutRequest = ctx.json()?;
    let cart_id: CartId = ctx.path_param("id", "Cart")?;
    start(
        ctx,
        cart_id,
        &request.payment_token,
        &request.shipping_address,
    )
}

/// `POST /api/v1/orders` `{cart_id, payment_token, shipping_address}` → 202, as checkout.
pub fn place_order(ctx: &Ctx) -> Result<Reply, ApiError> {
    let request: PlaceOrderRequest = ctx.json()?;
    let cart_id = CartId::parse(&request.cart_id)
        .map_err(|e| ApiError::invalid_field("cart_id", e.to_string()))?;
    start(
        ctx,
        cart_id,
        &request.payment_token,
        &request.shipping_address,
    )
}

/// The payment token and shipping address checked together: every bad field in one 400.
fn validate(
    payment_token: &str,
    address: &ShippingAddressInput,
) -> Result<ShippingAddress, ApiError> {
    let token = check_token(payment_token);
    match (token, address.validate("shipping_address")) {
        (Ok(()), Ok(address)) => Ok(address),
        (token, address) => {
            let mut errors = address.err().unwrap_or_default();
            if let Err(e) = token {
                errors.0.insert(
                    0,
                    spincart_domain::validation::FieldError::new("payment_token", e),
                );
            }
            Err(ApiError::validation(errors))
        }
    }
}

/// One transaction: the order, the saga, the cart CHECKING_OUT and `cart.checkout_requested`.
fn start(
    ctx: &Ctx,
    cart_id: CartId,
    payment_token: &str,
    address: &ShippingAddressInput,
) -> Result<Reply, ApiError> {
    let caller = ctx.caller()?;
    let shipping_address = validate(payment_token, address)?;
    let db = Db::connect()?;
    let mut outbox = Outbox::default();
    let order_id = OrderId::new();
    let saga_id = SagaId::new();
    db.transaction(|tx| -> Result<(), ApiError> {
        let cart = spincart_cart::queries::load_for_update(tx, cart_id)?
            .filter(|c| caller.can_access(c.user_id))
            .ok_or_else(|| ApiError::not_found("Cart"))?;
        match cart.status {
            CartStatus::Active => {}
            CartStatus::CheckingOut => {
                return Err(ApiError::conflict(
                    "checkout_in_progress",
                    "A checkout of this cart is already running.",
                ))
            }
            other => {
                return Err(ApiError::conflict(
                    "cart_not_active",
                    format!("The cart is {}; it cannot be checked out.", other.as_str()),
                ))
            }
        }
        if cart.lines.is_empty() {
            return Err(ApiError::conflict("cart_empty", "The cart is empty."));
        }
        let (_, total) = cart.totals().map_err(ApiError::internal)?;
        let total = total.expect("a cart with lines has a total");
        let lines: Vec<OrderLine> = cart
            .lines
            .iter()
            .map(|l| {
                Ok(OrderLine {
                    product_id: l.product_id,
                    sku: l.sku.clone(),
                    name: l.name.clone(),
                    unit_price: l.unit_price.amount(),
                    quantity: l.quantity.get(),
                    line_total: l.total().map_err(ApiError::internal)?.amount(),
                })
            })
            .collect::<Result<_, ApiError>>()?;
        let causation = Causation {
            correlation_id: saga_id.as_uuid(),
            causation_id: Some(ctx.request_id()),
        };
        let placed = OrderEvent::Placed {
            order_id,
            user_id: cart.user_id,
            cart_id,
            saga_id,
            lines: lines.clone(),
            total: total.amount(),
            currency: total.currency().as_str().to_owned(),
            shipping_address: Some(Box::new(shipping_address.clone())),
        };
        spincart_orders::place(tx, placed, &mut outbox, causation)?;
        spincart_saga::queries::insert(
            tx,
            saga_id,
            order_id,
            cart_id,
            cart.user_id,
            payment_token,
            spincart_saga::step_timeout_seconds(),
        )?;
        spincart_cart::saga::begin_checkout(
            tx,
            &cart,
            saga_id,
            order_id,
            &lines,
            &total,
            &mut outbox,
            causation,
        )?;
        Ok(())
    })?;
    spincart_cart::count_operation("checkout");
    outbox.publish(&db);
    let location = format!("/api/v1/orders/{order_id}");
    Ok(Reply::accepted(&serde_json::json!({
        "order_id": order_id,
        "saga_id": saga_id,
        "status": "PENDING",
        "links": { "order": location },
    }))
    .header("location", location))
}

/// `POST /api/v1/orders/{id}/cancel` → 202: compensations run for whatever was done; a shipped
/// order is a 409.
pub fn cancel(ctx: &Ctx) -> Result<Reply, ApiError> {
    let db = Db::connect()?;
    let (id, saga_id, _) = spincart_orders::accessible(ctx, &db)?;
    let mut outbox = Outbox::default();
    db.transaction(|tx| -> Result<(), ApiError> {
        let mut saga =
            spincart_saga::lock(tx, saga_id)?.ok_or_else(|| ApiError::not_found("Order"))?;
        let causation = Causation {
            correlation_id: saga_id.as_uuid(),
            causation_id: Some(ctx.request_id()),
        };
        let order = orders::events(tx, id)?;
        if Order::from_events(&order).is_some_and(|o| o.status == OrderStatus::Shipped) {
            return Err(order_error(OrderError::AlreadyShipped));
        }
        saga.saga
            .check_cancellable()
            .map_err(|e: SagaError| ApiError::conflict("order_not_cancellable", e.to_string()))?;
        spincart_orders::execute(
            tx,
            id,
            &OrderCommand::RequestCancel {
                reason: "cancelled by request".into(),
            },
            &mut outbox,
            causation,
        )?
        .map_err(order_error)?;
        spincart_saga::report(
            tx,
            &mut saga,
            Fact::CancelRequested,
            &mut outbox,
            Some(ctx.request_id()),
        )?;
        Ok(())
    })?;
    outbox.publish(&db);
    let view = orders::view(&db, id)?.ok_or_else(|| ApiError::not_found("Order"))?;
    Ok(Reply::accepted(&view))
}

/// `POST /api/v1/orders/{id}/ship` (admin): the order's reserved stock leaves `on_hand` and its
/// booked shipment is handed to the carrier; a 409 when there is no booked shipment.
pub fn ship(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.admin()?;
    let db = Db::connect()?;
    let (id, saga_id, _) = spincart_orders::accessible(ctx, &db)?;
    let mut outbox = Outbox::default();
    db.transaction(|tx| -> Result<(), ApiError> {
        // The saga row serialises shipping with a concurrent cancel.
        spincart_saga::lock(tx, saga_id)?.ok_or_else(|| ApiError::not_found("Order"))?;
        let causation = Causation {
            correlation_id: saga_id.as_uuid(),
            causation_id: Some(ctx.request_id()),
        };
        let before = Order::from_events(&orders::events(tx, id)?)
            .ok_or_else(|| ApiError::not_found("Order"))?;
        let order = spincart_orders::execute(tx, id, &OrderCommand::Ship, &mut outbox, causation)?
            .map_err(order_error)?;
        if before.status != OrderStatus::Shipped {
            spincart_shipping::hand_over(tx, id, &mut outbox, causation)?;
            spincart_inventory::saga::ship(tx, &order, &mut outbox, causation)?;
        }
        Ok(())
    })?;
    outbox.publish(&db);
    let view = orders::view(&db, id)?.ok_or_else(|| ApiError::not_found("Order"))?;
    Ok(Reply::ok(&view).etag(view.version))
}

/// `shipment.created` → the order is confirmed (`order.confirmed`) with its authorized payment:
/// the saga's last step.
pub fn confirm_after_shipment(
    db: &Db,
    event: &EventEnvelope,
    outbox: &mut Outbox,
) -> Result<(), HandlerError> {
    spincart_saga::step(
        db,
        event,
        outbox,
        SagaStatus::ShipmentCreated,
        |tx, saga, outbox, causation| {
            let payment = spincart_payments::queries::by_order(tx, saga.order_id)?
                .ok_or_else(|| HandlerError::Permanent("the order has no payment".into()))?;
            spincart_orders::execute(
                tx,
                saga.order_id,
                &OrderCommand::Confirm {
                    payment_id: payment.id,
                },
                outbox,
                causation,
            )?
            .map_err(|e| HandlerError::Permanent(e.to_string()))?;
            Ok(Some(Fact::OrderConfirmed))
        },
    )
}
