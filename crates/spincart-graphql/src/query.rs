//! Queries: each runs the use case of the REST endpoint named in its doc comment.

use async_graphql::{Context, Object, ID};

use crate::call::{Call, Caller};
use crate::loader::ProductLoader;
use crate::types::*;

pub struct Query;

fn caller<'c>(ctx: &'c Context<'_>) -> &'c Caller {
    ctx.data_unchecked::<Caller>()
}

/// `GET /api/v1/orders/{id}[?wait=N]`.
pub fn order(
    ctx: &Context<'_>,
    id: &ID,
    wait_seconds: Option<i32>,
) -> async_graphql::Result<Order> {
    order_for(caller(ctx), id, wait_seconds)
}

/// [`order`] for a caller held outside a resolver (the subscription's stream).
pub fn order_for(
    caller: &Caller,
    id: &ID,
    wait_seconds: Option<i32>,
) -> async_graphql::Result<Order> {
    Call::get(format!("/api/v1/orders/{}", id.as_str()))
        .param("id", id.as_str())
        .query("wait", wait_seconds)
        .run(caller, spincart_orders::get)
}

#[Object]
impl Query {
    /// Products, searched by words of the name, SKU, category or description (`q`) and by
    /// category (public; eventually consistent with writes). `GET /api/v1/products`.
    async fn products(
        &self,
        ctx: &Context<'_>,
        q: Option<String>,
        category: Option<String>,
        #[graphql(default = 1)] page: i32,
        #[graphql(default = 20)] limit: i32,
    ) -> async_graphql::Result<ProductPage> {
        Call::get("/api/v1/products")
            .query("q", q)
            .query("category", category)
            .query("page", Some(page))
            .query("limit", Some(limit))
            .run(caller(ctx), spincart_catalog::list_products)
    }

    /// One product (public). `GET /api/v1/products/{id}`.
    async fn product(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Product> {
        Call::get(format!("/api/v1/products/{}", id.as_str()))
            .param("id", id.as_str())
            .run(caller(ctx), spincart_catalog::get_product)
    }

    /// A product's stock (public). `GET /api/v1/inventory/{product_id}`.
    async fn stock(&self, ctx: &Context<'_>, product_id: ID) -> async_graphql::Result<Stock> {
        Call::get(format!("/api/v1/inventory/{}", product_id.as_str()))
            .param("product_id", product_id.as_str())
            .run(caller(ctx), spincart_inventory::get_stock)
    }

    /// The caller. `GET /api/v1/users/me`.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        Call::get("/api/v1/users/me").run(caller(ctx), spincart_identity::me)
    }

    /// A cart (its owner or an admin). `GET /api/v1/carts/{id}`.
    async fn cart(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Cart> {
        Call::get(format!("/api/v1/carts/{}", id.as_str()))
            .param("id", id.as_str())
            .run(caller(ctx), spincart_cart::get)
    }

    /// The caller's orders, newest first. `GET /api/v1/orders`.
    async fn orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 1)] page: i32,
        #[graphql(default = 20)] limit: i32,
    ) -> async_graphql::Result<OrderPage> {
        let page: OrderPage = Call::get("/api/v1/orders")
            .query("page", Some(page))
            .query("limit", Some(limit))
            .run(caller(ctx), spincart_orders::list)?;
        ctx.data_unchecked::<ProductLoader>().expect(
            page.items
                .iter()
                .flat_map(|order| order.items.iter().map(|line| &line.product_id)),
        );
        Ok(page)
    }

    /// An order (its owner or an admin). With `waitSeconds` (0–30) the answer comes as soon as
    /// the order's or its saga's status changes, or after that many seconds: the long-poll
    /// fallback of the `orderStatus` subscription. `GET /api/v1/orders/{id}?wait=N`.
    async fn order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        wait_seconds: Option<i32>,
    ) -> async_graphql::Result<Order> {
        order(ctx, &id, wait_seconds)
    }

    /// An order's history: its events and every event its checkout caused, oldest first.
    /// `GET /api/v1/orders/{id}/events`.
    async fn order_history(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<OrderHistory> {
        Call::get(format!("/api/v1/orders/{}/events", id.as_str()))
            .param("id", id.as_str())
            .run(caller(ctx), spincart_orders::history)
    }

    /// Sagas, newest first, optionally by status (admin). `GET /api/v1/admin/sagas`.
    async fn sagas(
        &self,
        ctx: &Context<'_>,
        status: Option<String>,
        #[graphql(default = 1)] page: i32,
        #[graphql(default = 20)] limit: i32,
    ) -> async_graphql::Result<SagaPage> {
        Call::get("/api/v1/admin/sagas")
            .query("status", status)
            .query("page", Some(page))
            .query("limit", Some(limit))
            .run(caller(ctx), spincart_operations::admin::list_sagas)
    }

    /// A saga with its steps, compensation log, log and events (admin).
    /// `GET /api/v1/admin/sagas/{id}`.
    async fn saga(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<SagaDetail> {
        Call::get(format!("/api/v1/admin/sagas/{}", id.as_str()))
            .param("id", id.as_str())
            .run(caller(ctx), spincart_operations::admin::get_saga)
    }

    /// The event store, oldest first (admin); `after` is a position or an RFC 3339 time.
    /// `GET /api/v1/admin/events`.
    async fn events(
        &self,
        ctx: &Context<'_>,
        correlation_id: Option<ID>,
        aggregate_id: Option<ID>,
        r#type: Option<String>,
        after: Option<String>,
        #[graphql(default = 100)] limit: i32,
    ) -> async_graphql::Result<EventPage> {
        Call::get("/api/v1/admin/events")
            .query("correlation_id", correlation_id.map(|i| i.0))
            .query("aggregate_id", aggregate_id.map(|i| i.0))
            .query("type", r#type)
            .query("after", after)
            .query("limit", Some(limit))
            .run(caller(ctx), spincart_operations::admin::list_events)
    }

    /// Dead-lettered messages, newest first (admin). `GET /api/v1/admin/dead-letters`.
    async fn dead_letters(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 1)] page: i32,
        #[graphql(default = 20)] limit: i32,
    ) -> async_graphql::Result<DeadLetterPage> {
        Call::get("/api/v1/admin/dead-letters")
            .query("page", Some(page))
            .query("limit", Some(limit))
            .run(caller(ctx), spincart_operations::admin::list_dead_letters)
    }

    /// Carts, newest first, optionally by status (admin). `GET /api/v1/admin/carts`.
    async fn carts(
        &self,
        ctx: &Context<'_>,
        status: Option<String>,
        #[graphql(default = 1)] page: i32,
        #[graphql(default = 20)] limit: i32,
    ) -> async_graphql::Result<CartSummaryPage> {
        Call::get("/api/v1/admin/carts")
            .query("status", status)
            .query("page", Some(page))
            .query("limit", Some(limit))
            .run(caller(ctx), spincart_operations::admin::list_carts)
    }
}
