//! SQL of the catalog context (schema `catalog`); availability is read from inventory's view.

use serde::Serialize;
use spincart_domain::catalog::{NewProduct, ProductSnapshot};
use spincart_domain::ids::ProductId;
use spincart_domain::money::format_minor;

use spincart_platform::db::{self, Db, DbError, Row};

/// A product as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ProductView {
    pub id: ProductId,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: String,
    pub currency: String,
    pub available: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// The columns [`view`] reads; `id` names the product id column of the table aliased `p`.
fn view_columns(id: &str) -> String {
    format!(
        "p.{id}, p.sku, p.name, p.description, p.category, p.price_minor, p.currency, \
         coalesce(s.available, 0)::bigint, platform.rfc3339(p.created_at), \
         platform.rfc3339(p.updated_at)"
    )
}

fn view(row: Row<'_>) -> Result<ProductView, DbError> {
    Ok(ProductView {
        id: db::id(row, 0)?,
        sku: row.get(1)?,
        name: row.get(2)?,
        description: row.get(3)?,
        category: row.get(4)?,
        price: format_minor(row.get(5)?),
        currency: row.get::<String>(6)?,
        available: row.get(7)?,
        created_at: row.get(8)?,
        updated_at: row.get(9)?,
    })
}

/// Inserts a product; `Ok(false)` when its SKU is taken.
pub fn insert_product(db: &Db, id: ProductId, p: &NewProduct) -> Result<bool, DbError> {
    // A taken SKU is an outcome (no row inserted), not an error: see migration 0007.
    let inserted = db.execute(
        "INSERT INTO catalog.products (id, sku, name, description, category, price_minor, currency)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT ON CONSTRAINT products_sku_unique DO NOTHING",
        &[
            db::uuid(id),
            db::text(p.sku.as_str()),
            db::text(&p.name),
            db::text(&p.description),
            db::text(&p.category),
            p.price.minor_units().into(),
            db::text(p.price.currency().as_str()),
        ],
    )?;
    Ok(inserted == 1)
}

pub fn find(db: &Db, id: ProductId) -> Result<Option<ProductView>, DbError> {
    db.query_opt(
        &format!(
            "SELECT {} FROM catalog.products p
               LEFT JOIN inventory.stock_levels s ON s.product_id = p.id
              WHERE p.id = $1",
            view_columns("id")
        ),
        &[db::uuid(id)],
    )?
    .map(|r| view(r.row()))
    .transpose()
}

/// The products with these ids that exist, in one statement (the GraphQL gateway's batched
/// loading of the products its cart and order lines name).
pub fn find_many(db: &Db, ids: &[ProductId]) -> Result<Vec<ProductView>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Option<String>> = ids.iter().map(|id| Some(id.to_string())).collect();
    db.query(
        &format!(
            "SELECT {} FROM catalog.products p
               LEFT JOIN inventory.stock_levels s ON s.product_id = p.id
              WHERE p.id = ANY($1::text[]::uuid[])",
            view_columns("id")
        ),
        &[ids.into()],
    )?
    .iter()
    .map(view)
    .collect()
}

/// The product's snapshot, locked for update (in a transaction).
pub fn snapshot_for_update(db: &Db, id: ProductId) -> Result<Option<ProductSnapshot>, DbError> {
    db.query_opt(
        "SELECT id, sku, name, description, category, price_minor, currency, version,
                platform.rfc3339(created_at), platform.rfc3339(updated_at)
           FROM catalog.products WHERE id = $1 FOR UPDATE",
        &[db::uuid(id)],
    )?
    .map(|r| snapshot(r.row()))
    .transpose()
}

/// Writes a changed product and returns its new snapshot (version + 1).
pub fn update(db: &Db, s: &ProductSnapshot, price_minor: i64) -> Result<ProductSnapshot, DbError> {
    let row = db.query_one(
        "UPDATE catalog.products
            SET name = $2, description = $3, category = $4, price_minor = $5, currency = $6,
                version = version + 1, updated_at = now()
          WHERE id = $1
      RETURNING id, sku, name, description, category, price_minor, currency, version,
                platform.rfc3339(created_at), platform.rfc3339(updated_at)",
        &[
            db::uuid(s.product_id),
            db::text(&s.name),
            db::text(&s.description),
            db::text(&s.category),
            price_minor.into(),
            db::text(&s.currency),
        ],
    )?;
    snapshot(row.row())
}

pub fn snapshot_of(db: &Db, id: ProductId) -> Result<ProductSnapshot, DbError> {
    let row = db.query_one(
        "SELECT id, sku, name, description, category, price_minor, currency, version,
                platform.rfc3339(created_at), platform.rfc3339(updated_at)
           FROM catalog.products WHERE id = $1",
        &[db::uuid(id)],
    )?;
    snapshot(row.row())
}

fn snapshot(row: Row<'_>) -> Result<ProductSnapshot, DbError> {
    Ok(ProductSnapshot {
        product_id: row.get(0)?,
        sku: row.get(1)?,
        name: row.get(2)?,
        description: row.get(3)?,
        category: row.get(4)?,
        price: format_minor(row.get(5)?),
        currency: row.get(6)?,
        version: row.get(7)?,
        created_at: row.get(8)?,
        updated_at: row.get(9)?,
    })
}

/// The search projection: applies a snapshot unless a newer one is already there.
pub fn upsert_search(db: &Db, s: &ProductSnapshot, price_minor: i64) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO catalog.product_search
             (product_id, sku, name, description, category, price_minor, currency,
              created_at, updated_at, source_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::timestamptz, $9::text::timestamptz, $10)
         ON CONFLICT (product_id) DO UPDATE
            SET sku = EXCLUDED.sku, name = EXCLUDED.name, description = EXCLUDED.description,
                category = EXCLUDED.category, price_minor = EXCLUDED.price_minor,
                currency = EXCLUDED.currency, updated_at = EXCLUDED.updated_at,
                source_version = EXCLUDED.source_version
          WHERE catalog.product_search.source_version < EXCLUDED.source_version",
        &[
            db::uuid(s.product_id),
            db::text(&s.sku),
            db::text(&s.name),
            db::text(&s.description),
            db::text(&s.category),
            price_minor.into(),
            db::text(&s.currency),
            db::text(&s.created_at),
            db::text(&s.updated_at),
            s.version.into(),
        ],
    )?;
    Ok(())
}

/// Filters of the product list.
pub struct Search {
    pub category: Option<String>,
    pub q: Option<String>,
}

/// A page of the search projection, newest first, and the total number of matches.
pub fn search(
    db: &Db,
    filter: &Search,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ProductView>, i64), DbError> {
    let category = filter.category.clone().unwrap_or_default();
    let q = filter.q.clone().unwrap_or_default();
    let like = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let conditions = "($1 = '' OR p.category = $1)
          AND ($2 = '' OR p.document @@ websearch_to_tsquery('simple', $2)
               OR p.name ILIKE $3 OR p.sku = upper($2))";
    let params = [db::text(&category), db::text(&q), db::text(&like)];
    let total: i64 = db
        .query_one(
            &format!("SELECT count(*) FROM catalog.product_search p WHERE {conditions}"),
            &params,
        )?
        .get(0)?;
    let mut page_params = params.to_vec();
    page_params.push(limit.into());
    page_params.push(offset.into());
    let rows = db.query(
        &format!(
            "SELECT {} FROM catalog.product_search p
               LEFT JOIN inventory.stock_levels s ON s.product_id = p.product_id
              WHERE {conditions}
              ORDER BY p.created_at DESC, p.product_id
              LIMIT $4 OFFSET $5",
            view_columns("product_id")
        ),
        &page_params,
    )?;
    Ok((rows.map(view)?, total))
}

/// A new product's stock, through inventory's SQL interface (contexts change each other only
/// through such functions or events).
pub fn initialize_stock(db: &Db, product: ProductId, on_hand: i64) -> Result<(), DbError> {
    db.execute(
        "SELECT inventory.initialize_stock($1, $2::bigint::integer)",
        &[db::uuid(product), on_hand.into()],
    )?;
    Ok(())
}
