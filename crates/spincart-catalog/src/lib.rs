//! # spincart-catalog
//!
//! Catalog: products (admin writes, public reads) and the search projection.

#![deny(unsafe_code)]

pub mod queries;

use spincart_domain::catalog::{
    CreateProductRequest, NewProduct, PatchProductRequest, ProductPatch, ProductSnapshot,
};
use spincart_domain::events::{Causation, EventEnvelope, EventType, NewEvent};
use spincart_domain::ids::ProductId;
use spincart_domain::money::{parse_decimal_amount, Currency, Money};

use spincart_platform::db::Db;
use spincart_platform::events::{HandlerError, Outbox};
use spincart_platform::http::{ApiError, Ctx, Reply};

/// The platform, for this context's components (they depend on this crate only).
pub use spincart_platform as platform;

/// The aggregate type of product events.
pub const AGGREGATE: &str = "product";

/// `POST /api/v1/products` (admin) → 201 the product; 409 `sku_taken`.
pub fn create_product(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.admin()?;
    let product = NewProduct::parse(ctx.json::<CreateProductRequest>()?)?;
    let id = ProductId::new();
    let db = Db::connect()?;
    let mut outbox = Outbox::default();
    db.transaction(|tx| -> Result<(), ApiError> {
        if !queries::insert_product(tx, id, &product)? {
            return Err(ApiError::conflict(
                "sku_taken",
                format!(
                    "A product with SKU {} already exists.",
                    product.sku.as_str()
                ),
            ));
        }
        queries::initialize_stock(tx, id, product.initial_stock)?;
        let snapshot = queries::snapshot_of(tx, id)?;
        outbox.record(
            tx,
            NewEvent::new(
                EventType::ProductCreated,
                AGGREGATE,
                id,
                snapshot.version,
                &serde_json::json!({ "product": snapshot, "initial_stock": product.initial_stock }),
            ),
            Causation::new_chain(ctx.request_id()),
        )?;
        Ok(())
    })?;
    outbox.publish(&db);
    let view =
        queries::find(&db, id)?.ok_or_else(|| ApiError::internal("created product vanished"))?;
    Ok(Reply::created(&view).header("location", format!("/api/v1/products/{id}")))
}

/// `GET /api/v1/products/{id}` (public).
pub fn get_product(ctx: &Ctx) -> Result<Reply, ApiError> {
    let id: ProductId = ctx.path_param("id", "Product")?;
    let db = Db::connect()?;
    let view = queries::find(&db, id)?.ok_or_else(|| ApiError::not_found("Product"))?;
    Ok(Reply::ok(&view))
}

/// The products with these ids (those that exist), read in one statement: the GraphQL
/// gateway's batched loading.
pub fn products_by_ids(ids: &[ProductId]) -> Result<Vec<queries::ProductView>, ApiError> {
    let db = Db::connect()?;
    Ok(queries::find_many(&db, ids)?)
}

/// `GET /api/v1/products?category=&q=&page=&limit=` (public), from the search projection.
pub fn list_products(ctx: &Ctx) -> Result<Reply, ApiError> {
    let page = ctx.page()?;
    let filter = queries::Search {
        category: ctx
            .query_param("category")
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty()),
        q: ctx
            .query_param("q")
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty()),
    };
    if filter.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(ApiError::invalid_field(
            "q",
            "must be at most 200 characters",
        ));
    }
    let db = Db::connect()?;
    let (items, total) = queries::search(&db, &filter, page.limit, page.offset())?;
    Ok(page.reply(&items, total))
}

/// `PATCH /api/v1/products/{id}` (admin). A new price applies to new cart lines only.
pub fn patch_product(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.admin()?;
    let id: ProductId = ctx.path_param("id", "Product")?;
    let patch = ProductPatch::parse(ctx.json::<PatchProductRequest>()?)?;
    let db = Db::connect()?;
    let mut outbox = Outbox::default();
    db.transaction(|tx| -> Result<(), ApiError> {
        let mut snapshot =
            queries::snapshot_for_update(tx, id)?.ok_or_else(|| ApiError::not_found("Product"))?;
        if let Some(name) = &patch.name {
            snapshot.name = name.clone();
        }
        if let Some(description) = &patch.description {
            snapshot.description = description.clone();
        }
        if let Some(category) = &patch.category {
            snapshot.category = category.clone();
        }
        let mut price_minor = parse_decimal_amount(&snapshot.price).map_err(ApiError::internal)?;
        if let Some((amount, currency)) = &patch.price {
            let currency = match currency {
                Some(c) => *c,
                None => Currency::parse(&snapshot.currency).map_err(ApiError::internal)?,
            };
            let price = Money::parse(amount, currency)
                .map_err(|e| ApiError::invalid_field("price", e.to_string()))?;
            price_minor = price.minor_units();
            snapshot.currency = currency.as_str().to_owned();
        }
        let updated = queries::update(tx, &snapshot, price_minor)?;
        outbox.record(
            tx,
            NewEvent::new(
                EventType::ProductUpdated,
                AGGREGATE,
                id,
                updated.version,
                &serde_json::json!({ "product": updated }),
            ),
            Causation::new_chain(ctx.request_id()),
        )?;
        Ok(())
    })?;
    outbox.publish(&db);
    let view = queries::find(&db, id)?.ok_or_else(|| ApiError::not_found("Product"))?;
    Ok(Reply::ok(&view))
}

#[derive(serde::Deserialize)]
struct ProductEventData {
    product: ProductSnapshot,
}

/// Consumer of `catalog.product_created` / `catalog.product_updated`: keeps the search
/// projection up to date (late, older snapshots are ignored by version).
pub fn project_search(
    db: &Db,
    event: &EventEnvelope,
    _outbox: &mut Outbox,
) -> Result<(), HandlerError> {
    match event.known_type() {
        Some(EventType::ProductCreated | EventType::ProductUpdated) => {}
        _ => {
            return Err(HandlerError::Permanent(format!(
                "unexpected event {}",
                event.event_type
            )))
        }
    }
    let data: ProductEventData = event.data_as()?;
    let price_minor = parse_decimal_amount(&data.product.price)
        .map_err(|e| HandlerError::Permanent(format!("bad price in event: {e}")))?;
    queries::upsert_search(db, &data.product, price_minor)?;
    Ok(())
}
