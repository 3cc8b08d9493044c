//! Products: what an admin may create or change, checked once at the edge.

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};
use crate::validation::{required_text, ValidationErrors};

/// The largest initial stock or single adjustment accepted.
pub const MAX_STOCK_CHANGE: i64 = 1_000_000;

/// A stock-keeping unit: 1–64 of `A-Z 0-9 - _ .`, stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    pub fn parse(text: &str) -> Result<Sku, String> {
        let sku = text.trim().to_ascii_uppercase();
        if sku.is_empty() || sku.len() > 64 {
            return Err("must be 1 to 64 characters".into());
        }
        if !sku
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err("may contain only letters, digits, '-', '_' and '.'".into());
        }
        Ok(Sku(sku))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Sku::parse(&value)
    }
}

impl From<Sku> for String {
    fn from(s: Sku) -> String {
        s.0
    }
}

/// `POST /products` input, as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateProductRequest {
    pub sku: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub category: String,
    pub price: String,
    pub currency: String,
    #[serde(default, deserialize_with = "crate::validation::whole_number")]
    pub initial_stock: i64,
}

/// A checked new product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    pub sku: Sku,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: Money,
    pub initial_stock: i64,
}

fn description(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.chars().count() > 5_000 {
        return Err("must be at most 5000 characters".into());
    }
    Ok(text.to_owned())
}

fn category(text: &str) -> Result<String, String> {
    required_text(text, 64).map(|c| c.to_lowercase())
}

fn price(errors: &mut ValidationErrors, amount: &str, currency: &str) -> Option<Money> {
    let currency = errors.check("currency", Currency::parse(currency.trim()))?;
    errors.check("price", Money::parse(amount.trim(), currency))
}

impl NewProduct {
    pub fn parse(request: CreateProductRequest) -> Result<NewProduct, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let sku = errors.check("sku", Sku::parse(&request.sku));
        let name = errors.check("name", required_text(&request.name, 200));
        let description = errors.check("description", description(&request.description));
        let category = errors.check("category", category(&request.category));
        let price = price(&mut errors, &request.price, &request.currency);
        if !(0..=MAX_STOCK_CHANGE).contains(&request.initial_stock) {
            errors.push(
                "initial_stock",
                format!("must be between 0 and {MAX_STOCK_CHANGE}"),
            );
        }
        match (sku, name, description, category, price) {
            (Some(sku), Some(name), Some(description), Some(category), Some(price))
                if errors.is_empty() =>
            {
                Ok(NewProduct {
                    sku,
                    name,
                    description,
                    category,
                    price,
                    initial_stock: request.initial_stock,
                })
            }
            _ => Err(errors),
        }
    }
}

/// `PATCH /products/{id}` input, as sent: every field optional (left out, never `null`), at
/// least one present.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchProductRequest {
    #[serde(default, deserialize_with = "crate::validation::present_text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::validation::present_text")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "crate::validation::present_text")]
    pub category: Option<String>,
    #[serde(default, deserialize_with = "crate::validation::present_text")]
    pub price: Option<String>,
    #[serde(default, deserialize_with = "crate::validation::present_text")]
    pub currency: Option<String>,
}

/// A checked product change. A new price replaces the old one for *new* cart lines only: lines
/// already in carts keep the price they were added at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    /// The new price; its currency is the product's current one unless `currency` was sent.
    pub price: Option<(String, Option<Currency>)>,
}

impl ProductPatch {
    pub fn parse(request: PatchProductRequest) -> Result<ProductPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = request
            .name
            .as_deref()
            .and_then(|n| errors.check("name", required_text(n, 200)));
        let description = request
            .description
            .as_deref()
            .and_then(|d| errors.check("description", description(d)));
        let category = request
            .category
            .as_deref()
            .and_then(|c| errors.check("category", category(c)));
        let currency = request
            .currency
            .as_deref()
            .and_then(|c| errors.check("currency", Currency::parse(c.trim())));
        let price = match (&request.price, currency) {
            (Some(amount), currency) => {
                // Checked against the currency once it is known (the product's own, if not sent).
                let probe = currency.unwrap_or(Currency::USD);
                errors.check("price", Money::parse(amount.trim(), probe));
                Some((amount.trim().to_owned(), currency))
            }
            (None, Some(_)) => {
                errors.push("currency", "can only change together with price");
                None
            }
            (None, None) => None,
        };
        if request.name.is_none()
            && request.description.is_none()
            && request.category.is_none()
            && request.price.is_none()
            && request.currency.is_none()
        {
            errors.push(
                "body",
                "must change at least one of name, description, category, price",
            );
        }
        errors.finish(|| ProductPatch {
            name,
            description,
            category,
            price,
        })
    }
}

/// A product as its events carry it (`catalog.product_created` / `catalog.product_updated`):
/// a full snapshot, so a projection can be rebuilt from any one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductSnapshot {
    pub product_id: uuid::Uuid,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: String,
    pub currency: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(sku: &str, price: &str, currency: &str, stock: i64) -> CreateProductRequest {
        CreateProductRequest {
            sku: sku.into(),
            name: "Desk lamp".into(),
            description: "Warm light".into(),
            category: "Lighting".into(),
            price: price.into(),
            currency: currency.into(),
            initial_stock: stock,
        }
    }

    #[test]
    fn a_valid_product_is_normalised() {
        let p = NewProduct::parse(create(" lamp-01 ", "79.99", "USD", 10)).unwrap();
        assert_eq!(p.sku.as_str(), "LAMP-01");
        assert_eq!(p.category, "lighting");
        assert_eq!(p.price.minor_units(), 7999);
    }

    #[test]
    fn float_like_or_negative_prices_and_bad_stock_are_refused() {
        let e = NewProduct::parse(create("A", "79.9", "USD", 1)).unwrap_err();
        assert_eq!(e.0[0].field, "price");
        let e = NewProduct::parse(create("A", "-1.00", "USD", 1)).unwrap_err();
        assert_eq!(e.0[0].field, "price");
        let e = NewProduct::parse(create("A", "1.00", "XYZ", 1)).unwrap_err();
        assert_eq!(e.0[0].field, "currency");
        let e = NewProduct::parse(create("A", "1.00", "USD", -1)).unwrap_err();
        assert_eq!(e.0[0].field, "initial_stock");
        let e = NewProduct::parse(create("A B", "1.00", "USD", 1)).unwrap_err();
        assert_eq!(e.0[0].field, "sku");
    }

    #[test]
    fn an_empty_patch_is_refused() {
        let e = ProductPatch::parse(PatchProductRequest::default()).unwrap_err();
        assert_eq!(e.0[0].field, "body");
    }

    #[test]
    fn a_currency_change_needs_a_price() {
        let e = ProductPatch::parse(PatchProductRequest {
            currency: Some("EUR".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.0[0].field, "currency");
        let p = ProductPatch::parse(PatchProductRequest {
            price: Some("5.00".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(p.price, Some(("5.00".into(), None)));
    }
}
