//! The schema's object types: the REST answers' shapes (openapi.yaml), field names in
//! camelCase. Each is decoded from the use case's JSON answer, so the two cannot drift apart
//! without `make test` noticing (the GraphQL end-to-end tests read every field).

use async_graphql::{ComplexObject, Context, InputObject, Json, SimpleObject, ID};
use serde::Deserialize;

use crate::loader::ProductLoader;

/// A product of the catalog; `available` is what can be added to a cart now.
#[derive(Debug, Clone, Deserialize, SimpleObject)]
pub struct Product {
    pub id: ID,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    /// A decimal string with two decimals, e.g. "79.99".
    pub price: String,
    pub currency: String,
    pub available: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Deserialize, SimpleObject)]
pub struct ProductPage {
    pub items: Vec<Product>,
    pub page: i64,
    pub limit: i64,
    pub total: i64,
}

/// A product's stock: `available` = `onHand` − `locked` − `reserved`, never negative.
#[derive(Debug, Deserialize, SimpleObject)]
pub struct Stock {
    pub product_id: ID,
    pub on_hand: i64,
    pub locked: i64,
    pub reserved: i64,
    pub available: i64,
}

/// A registered user (`role` is `customer` or `admin`; absent right after registering).
#[derive(Debug, Deserialize, SimpleObject)]
pub struct User {
    pub id: ID,
    pub email: String,
    pub full_name: Option<String>,
    pub role: Option<String>,
}

/// A login: the bearer token for `Authorization`, and who it is for.
#[derive(Debug, Deserialize, SimpleObject)]
pub struct Session {
    pub token: String,
    pub expires_at: String,
    pub user: User,
}

/// A cart with its lines and totals, exactly as the API computes them.
#[derive(Debug, Deserialize, SimpleObject)]
pub struct Cart {
    pub id: ID,
    pub user_id: ID,
    /// ACTIVE, CHECKING_OUT, CHECKED_OUT or EXPIRED.
    pub status: String,
    /// For `expectedVersion` (optimistic concurrency).
    pub version: i64,
    pub currency: Option<String>,
    pub items: Vec<CartLine>,
    pub item_count: i64,
    pub total: String,
    pub expires_at: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A cart line; its stock is locked until `lockedUntil`.
#[derive(Debug, Deserialize, SimpleObject)]
#[graphql(complex)]
pub struct CartLine {
    pub product_id: ID,
    pub sku: String,
    pub name: String,
    pub unit_price: String,
    pub quantity: i64,
    pub line_total: String,
    /// available, out_of_stock or lock_expired.
    pub availability: String,
    pub locked_until: Option<String>,
}

#[ComplexObject]
impl CartLine {
    /// The product as the catalog shows it now (loaded in one statement for every line of
    /// the query).
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        ctx.data_unchecked::<ProductLoader>()
            .load(&self.product_id)
            .await
    }
}

/// The checkout saga started: follow `order` (or the `orderStatus` subscription).
#[derive(Debug, Deserialize, SimpleObject)]
#[graphql(complex)]
pub struct CheckoutStarted {
    pub order_id: ID,
    pub saga_id: ID,
    pub status: String,
}

#[ComplexObject]
impl CheckoutStarted {
    /// The order as it is now.
    async fn order(&self, ctx: &Context<'_>) -> async_graphql::Result<Order> {
        crate::query::order(ctx, &self.order_id, None)
    }
}

/// An order, with the state of its checkout saga.
#[derive(Debug, Clone, Deserialize, SimpleObject)]
pub struct Order {
    pub id: ID,
    pub user_id: ID,
    pub cart_id: ID,
    /// PENDING, CONFIRMED, FAILED, CANCELLED or SHIPPED.
    pub status: String,
    pub items: Vec<OrderLine>,
    pub total: String,
    pub currency: String,
    pub version: i64,
    pub saga: OrderSaga,
    /// Where it goes; null for orders placed before shipping existed.
    pub shipping_address: Option<ShippingAddress>,
    /// Its shipment, once the saga has asked the carrier for one.
    pub shipment: Option<Shipment>,
    pub created_at: String,
    pub updated_at: String,
}

/// Where an order goes, as the checkout stored it (trimmed; postal code and country
/// upper-case).
#[derive(Debug, Clone, Deserialize, SimpleObject)]
pub struct ShippingAddress {
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    /// An ISO 3166-1 alpha-2 code, e.g. "GB".
    pub country: String,
}

/// An order's shipment with the (simulated) carrier.
#[derive(Debug, Clone, Deserialize, SimpleObject)]
pub struct Shipment {
    pub id: ID,
    /// requested, booked, rejected, cancelled or shipped.
    pub status: String,
    /// The carrier's tracking number once booked: "SC" and 12 hex digits.
    pub tracking_number: Option<String>,
    /// Why it was rejected or cancelled.
    pub reason: Option<String>,
    pub updated_at: String,
}

#[derive(Debug, Clone, Deserialize, SimpleObject)]
#[graphql(complex)]
pub struct OrderLine {
    pub product_id: ID,
    pub sku: String,
    pub name: String,
    pub unit_price: String,
    pub quantity: i64,
    pub line_total: String,
}

#[ComplexObject]
impl OrderLine {
    /// The product as the catalog shows it now (batched like [`CartLine::product`]).
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        ctx.data_unchecked::<ProductLoader>()
            .load(&self.product_id)
            .await
    }
}

/// Where an order's checkout saga is.
#[derive(Debug, Clone, Deserialize, SimpleObject)]
pub struct OrderSaga {
    pub id: ID,
    /// PENDING, INVENTORY_RESERVED, PAYMENT_AUTHORIZED, SHIPMENT_CREATED, CONFIRMED,
    /// COMPENSATING, COMPENSATED, CANCELLED or COMPENSATION_FAILED.
    pub status: String,
    /// reserve_inventory, authorize_payment, create_shipment, confirm_order, a compensation
    /// (cancel_shipment, cancel_payment, release_inventory, restore_cart) or done.
    pub step: String,
    pub updated_at: String,
}

#[derive(Debug, Deserialize, SimpleObject)]
pub struct OrderPage {
    pub items: Vec<Order>,
    pub page: i64,
    pub limit: i64,
    pub total: i64,
}

/// An event of the store, with its position.
#[derive(Debug, Deserialize, SimpleObject)]
pub struct StoredEvent {
    pub position: i64,
    pub event_id: ID,
    pub event_type: String,
    pub schema_version: i64,
    pub correlation_id: ID,
    pub causation_id: Option<ID>,
    pub aggregate_type: String,
    pub aggregate_id: ID,
    pub aggregate_version: i64,
    pub occurred_at: String,
    pub published_at: Option<String>,
    pub data: Json<serde_json::Value>,
}

/// An order's history: its events and every event its checkout caused, oldest first.
#[derive(Debug, Deserialize, SimpleObject)]
pub struct OrderHistory {
    pub order_id: ID,
    pub items: Vec<StoredEvent>,
}

#[derive(Debug, Deserialize, SimpleObject)]
pub struct EventPage {
    pub items: Vec<StoredEvent>,
    pub limit: i64,
    /// The position to pass as `after` for the next page; null at the end.
    pub next_after: Option<i64>,
}

/// A checkout saga (admin).
#[derive(Debug, Deserialize, SimpleObject)]
pub struct Saga {
    pub id: ID,
    pub order_id: ID,
    pub cart_id: ID,
    pub user_id: ID,
    /// PENDING, INVENTORY_RESERVED, PAYMENT_AUTHORIZED, SHIPMENT_CREATED, CONFIRMED,
    /// COMPENSATING, COMPENSATED, CANCELLED or COMPENSATION_FAILED.
    pub status: String,
    pub step: String,
    /// The compensations to run, in order (cancel_shipment, cancel_payment, release_inventory,
    /// restore_cart).
    pub compensations: Vec<String>,
    pub compensations_done: i64,
    pub reason: Option<String>,
    pub redrives: i64,
    pub step_deadline: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Deserialize, SimpleObject)]
pub struct SagaPage {
    pub items: Vec<Saga>,
    pub page: i64,
    pub limit: i64,
    pub total: i64,
}

/// One step of a saga: done, running, failed or not_started, with its times.
#[derive(Debug, Deserialize, SimpleObject)]
pub struct SagaStep {
    pub step: String,
    pub status: String,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
}

#[derive(Debug, Deserialize, SimpleObject)]
pub struct SagaLogEntry {
    /// transition, compensation, redrive or note.
    pub kind: String,
    pub step: Option<String>,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: String,
    pub at: String,
}

/// A saga with its steps, compensation log, whole log and events (admin).
#[derive(Debug, Deserialize, SimpleObject)]
pub struct SagaDetail {
    pub saga: Saga,
    pub steps: Vec<SagaStep>,
    pub compensation_log: Vec<SagaLogEntry>,
    pub log: Vec<SagaLogEntry>,
    pub events: Vec<StoredEvent>,
}

/// A message no consumer could handle (admin).
#[derive(Debug, Deserialize, SimpleObject)]
pub struct DeadLetter {
    pub id: ID,
    pub consumer: String,
    pub event_id: Option<ID>,
    pub event_type: Option<String>,
    pub error: String,
    pub attempts: i64,
    pub payload: String,
    pub created_at: String,
    pub replayed_at: Option<String>,
}

#[derive(Debug, Deserialize, SimpleObject)]
pub struct DeadLetterPage {
    pub items: Vec<DeadLetter>,
    pub page: i64,
    pub limit: i64,
    pub total: i64,
}

/// A dead letter published again, on `channel`.
#[derive(Debug, Deserialize, SimpleObject)]
pub struct Replayed {
    pub id: ID,
    pub channel: String,
    pub replayed: bool,
}

/// A cart as the admin list shows it.
#[derive(Debug, Deserialize, SimpleObject)]
pub struct CartSummary {
    pub id: ID,
    pub user_id: ID,
    pub status: String,
    pub version: i64,
    pub item_count: i64,
    pub total: String,
    pub currency: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Deserialize, SimpleObject)]
pub struct CartSummaryPage {
    pub items: Vec<CartSummary>,
    pub page: i64,
    pub limit: i64,
    pub total: i64,
}

/// A new product with its initial stock (admin).
#[derive(Debug, InputObject, serde::Serialize)]
pub struct NewProduct {
    pub sku: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub category: String,
    /// A decimal string with two decimals, e.g. "79.99".
    pub price: String,
    pub currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_stock: Option<i64>,
}

/// Changes to a product: at least one field; `currency` only together with `price`.
#[derive(Debug, InputObject, serde::Serialize)]
pub struct ProductChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// Where a checkout's order goes. The simulated carrier answers by `line1` (case-insensitive):
/// "1 Book Street" (or any other address) is booked, "2 Reject Road" is rejected, "3 Flaky
/// Lane" fails once and is then booked, "4 Silent Way" is never answered (the step times out).
#[derive(Debug, InputObject, serde::Serialize)]
pub struct ShippingAddressInput {
    /// At most 100 characters.
    pub name: String,
    /// At most 200 characters.
    pub line1: String,
    /// At most 200 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// At most 100 characters.
    pub city: String,
    /// 1 to 16 letters, digits, spaces or '-', starting and ending with a letter or digit.
    pub postal_code: String,
    /// An ISO 3166-1 alpha-2 code in capitals, e.g. "GB".
    pub country: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shipping_address_without_line2_leaves_it_out_of_the_rest_body() {
        let input = ShippingAddressInput {
            name: "Ada Lovelace".into(),
            line1: "1 Book Street".into(),
            line2: None,
            city: "London".into(),
            postal_code: "N1 9GU".into(),
            country: "GB".into(),
        };
        assert_eq!(
            serde_json::to_value(&input).unwrap(),
            serde_json::json!({"name": "Ada Lovelace", "line1": "1 Book Street", "city": "London", "postal_code": "N1 9GU", "country": "GB"})
        );
    }

    #[test]
    fn an_order_decodes_with_and_without_its_shipment() {
        let mut order = serde_json::json!({
            "id": "o", "user_id": "u", "cart_id": "c", "status": "PENDING", "items": [],
            "total": "1.00", "currency": "USD", "version": 1,
            "saga": {"id": "s", "status": "PAYMENT_AUTHORIZED", "step": "create_shipment", "updated_at": "t"},
            "shipping_address": null, "shipment": null, "created_at": "t", "updated_at": "t"
        });
        let decoded: Order = serde_json::from_value(order.clone()).unwrap();
        assert!(decoded.shipping_address.is_none() && decoded.shipment.is_none());

        order["shipping_address"] = serde_json::json!({"name": "Ada", "line1": "1 Book Street", "city": "London", "postal_code": "N1 9GU", "country": "GB"});
        order["shipment"] = serde_json::json!({"id": "sh", "status": "booked", "tracking_number": "SC0123456789AB", "reason": null, "updated_at": "t"});
        let decoded: Order = serde_json::from_value(order).unwrap();
        assert_eq!(decoded.shipping_address.unwrap().line2, None);
        assert_eq!(
            decoded.shipment.unwrap().tracking_number.as_deref(),
            Some("SC0123456789AB")
        );
    }
}
