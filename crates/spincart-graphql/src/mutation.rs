//! Mutations: each runs the use case of the REST endpoint named in its doc comment, under the
//! same `Idempotency-Key` rules (the optional `idempotencyKey` argument) and, for cart lines,
//! the same `If-Match` rule (`expectedVersion`).

use async_graphql::{Context, Object, ID};
use serde_json::json;

use crate::call::{Call, Caller};
use crate::types::*;

pub struct Mutation;

fn caller<'c>(ctx: &'c Context<'_>) -> &'c Caller {
    ctx.data_unchecked::<Caller>()
}

#[Object]
impl Mutation {
    /// Register a customer. `POST /api/v1/users/register`.
    async fn register_user(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
        full_name: String,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<User> {
        Call::post("/api/v1/users/register")
            .json(json!({ "email": email, "password": password, "full_name": full_name }))
            .idempotency_key(idempotency_key)
            .run(caller(ctx), spincart_identity::register)
    }

    /// Log in: a bearer token for `Authorization`. `POST /api/v1/users/login`.
    async fn login_user(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Session> {
        Call::post("/api/v1/users/login")
            .json(json!({ "email": email, "password": password }))
            .idempotency_key(idempotency_key)
            .run(caller(ctx), spincart_identity::login)
    }

    /// The caller's open cart, created when there is none. `POST /api/v1/carts`.
    async fn open_cart(
        &self,
        ctx: &Context<'_>,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Cart> {
        Call::post("/api/v1/carts")
            .idempotency_key(idempotency_key)
            .run(caller(ctx), spincart_cart::create)
    }

    /// Add a product (increments an existing line), locking its stock.
    /// `POST /api/v1/carts/{id}/items`.
    async fn add_to_cart(
        &self,
        ctx: &Context<'_>,
        cart_id: ID,
        product_id: ID,
        quantity: i64,
        expected_version: Option<i64>,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Cart> {
        Call::post(format!("/api/v1/carts/{}/items", cart_id.as_str()))
            .param("id", cart_id.as_str())
            .json(json!({ "product_id": product_id.as_str(), "quantity": quantity }))
            .if_match(expected_version)
            .idempotency_key(idempotency_key)
            .run(caller(ctx), spincart_cart::add_item)
    }

    /// Set a line's quantity (raising locks the difference, lowering releases it).
    /// `PUT /api/v1/carts/{id}/items/{product_id}`.
    async fn update_cart_item(
        &self,
        ctx: &Context<'_>,
        cart_id: ID,
        product_id: ID,
        quantity: i64,
        expected_version: Option<i64>,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Cart> {
        Call::put(format!(
            "/api/v1/carts/{}/items/{}",
            cart_id.as_str(),
            product_id.as_str()
        ))
        .param("id", cart_id.as_str())
        .param("product_id", product_id.as_str())
        .json(json!({ "quantity": quantity }))
        .if_match(expected_version)
        .idempotency_key(idempotency_key)
        .run(caller(ctx), spincart_cart::update_item)
    }

    /// Remove a line and release its stock. `DELETE /api/v1/carts/{id}/items/{product_id}`.
    async fn remove_from_cart(
        &self,
        ctx: &Context<'_>,
        cart_id: ID,
        product_id: ID,
        expected_version: Option<i64>,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Cart> {
        Call::delete(format!(
            "/api/v1/carts/{}/items/{}",
            cart_id.as_str(),
            product_id.as_str()
        ))
        .param("id", cart_id.as_str())
        .param("product_id", product_id.as_str())
        .if_match(expected_version)
        .idempotency_key(idempotency_key)
        .run(caller(ctx), spincart_cart::remove_item)
    }

    /// Empty the cart and release every lock. `DELETE /api/v1/carts/{id}`.
    async fn empty_cart(
        &self,
        ctx: &Context<'_>,
        cart_id: ID,
        expected_version: Option<i64>,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Cart> {
        Call::delete(format!("/api/v1/carts/{}", cart_id.as_str()))
            .param("id", cart_id.as_str())
            .if_match(expected_version)
            .idempotency_key(idempotency_key)
            .run(caller(ctx), spincart_cart::empty)
    }

    /// Check the cart out with a test payment token (tok_visa, tok_decline, tok_error,
    /// tok_flaky, tok_timeout) and where to ship it (see `ShippingAddressInput` for the test
    /// addresses): starts the checkout saga. `POST /api/v1/carts/{id}/checkout`.
    async fn checkout(
        &self,
        ctx: &Context<'_>,
        cart_id: ID,
        payment_token: String,
        shipping_address: ShippingAddressInput,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<CheckoutStarted> {
        Call::post(format!("/api/v1/carts/{}/checkout", cart_id.as_str()))
            .param("id", cart_id.as_str())
            .json(json!({
                "payment_token": payment_token,
                "shipping_address": serde_json::to_value(&shipping_address)?,
            }))
            .idempotency_key(idempotency_key)
            .run(caller(ctx), spincart_checkout::checkout_cart)
    }

    /// Cancel an order; the compensations for whatever was done run.
    /// `POST /api/v1/orders/{id}/cancel`.
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Order> {
        Call::post(format!("/api/v1/orders/{}/cancel", id.as_str()))
            .param("id", id.as_str())
            .idempotency_key(idempotency_key)
            .run(caller(ctx), spincart_checkout::cancel)
    }

    /// Ship a confirmed order (admin): its stock leaves and its booked shipment is handed to
    /// the carrier (`shipment_not_booked` when there is none). `POST /api/v1/orders/{id}/ship`.
    async fn ship_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Order> {
        Call::post(format!("/api/v1/orders/{}/ship", id.as_str()))
            .param("id", id.as_str())
            .idempotency_key(idempotency_key)
            .run(caller(ctx), spincart_checkout::ship)
    }

    /// Create a product with its initial stock (admin). `POST /api/v1/products`.
    async fn create_product(
        &self,
        ctx: &Context<'_>,
        input: NewProduct,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Product> {
        Call::post("/api/v1/products")
            .json(serde_json::to_value(&input)?)
            .idempotency_key(idempotency_key)
            .run(caller(ctx), spincart_catalog::create_product)
    }

    /// Change a product (admin); a new price applies to new cart lines only.
    /// `PATCH /api/v1/products/{id}`.
    async fn update_product(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ProductChanges,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Product> {
        Call::patch(format!("/api/v1/products/{}", id.as_str()))
            .param("id", id.as_str())
            .json(serde_json::to_value(&input)?)
            .idempotency_key(idempotency_key)
            .run(caller(ctx), spincart_catalog::patch_product)
    }

    /// Restock (delta > 0) or shrink (delta < 0) (admin).
    /// `POST /api/v1/inventory/{product_id}/adjust`.
    async fn adjust_stock(
        &self,
        ctx: &Context<'_>,
        product_id: ID,
        delta: i64,
        reason: String,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Stock> {
        Call::post(format!("/api/v1/inventory/{}/adjust", product_id.as_str()))
            .param("product_id", product_id.as_str())
            .json(json!({ "delta": delta, "reason": reason }))
            .idempotency_key(idempotency_key)
            .run(caller(ctx), spincart_inventory::adjust)
    }

    /// Retry a saga whose compensation failed, or re-drive a running one's step (admin).
    /// `POST /api/v1/admin/sagas/{id}/retry`.
    async fn retry_saga(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Saga> {
        Call::post(format!("/api/v1/admin/sagas/{}/retry", id.as_str()))
            .param("id", id.as_str())
            .run(caller(ctx), spincart_operations::admin::retry_saga)
    }

    /// Compensate a running saga now (admin). `POST /api/v1/admin/sagas/{id}/compensate`.
    async fn compensate_saga(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Saga> {
        Call::post(format!("/api/v1/admin/sagas/{}/compensate", id.as_str()))
            .param("id", id.as_str())
            .run(caller(ctx), spincart_operations::admin::compensate_saga)
    }

    /// Publish a dead letter again on its channel (admin).
    /// `POST /api/v1/admin/dead-letters/{id}/replay`.
    async fn replay_dead_letter(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Replayed> {
        Call::post(format!("/api/v1/admin/dead-letters/{}/replay", id.as_str()))
            .param("id", id.as_str())
            .run(caller(ctx), spincart_operations::admin::replay_dead_letter)
    }
}
