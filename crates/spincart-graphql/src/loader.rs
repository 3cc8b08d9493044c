//! Batched loading: the products named by every cart or order line of one query are read in
//! one statement, however many lines and orders the query walks (no N+1).
//!
//! A resolver that returns lines of several parents (`orders`) announces their product ids
//! up front ([`ProductLoader::expect`]). Each line's `product` resolver also registers its id
//! and yields once, so that its siblings in the same list register theirs; the first one to
//! resume loads every id registered so far in one statement.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use async_graphql::ID;
use spincart_domain::ids::ProductId;

use crate::types::Product;

/// The per-request product cache.
#[derive(Default)]
pub struct ProductLoader {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    pending: HashSet<String>,
    loaded: HashMap<String, Option<Product>>,
}

impl ProductLoader {
    /// The product `id`, `None` when the catalog has no such product.
    pub async fn load(&self, id: &ID) -> async_graphql::Result<Option<Product>> {
        {
            let mut state = self.lock();
            if let Some(product) = state.loaded.get(id.as_str()) {
                return Ok(product.clone());
            }
            state.pending.insert(id.to_string());
        }
        YieldOnce(false).await;
        let mut state = self.lock();
        if !state.loaded.contains_key(id.as_str()) {
            let ids: Vec<String> = state.pending.drain().collect();
            let parsed: Vec<ProductId> = ids.iter().filter_map(|i| i.parse().ok()).collect();
            let found =
                spincart_catalog::products_by_ids(&parsed).map_err(crate::call::api_error)?;
            for id in ids {
                state.loaded.insert(id, None);
            }
            for view in found {
                let product: Product = serde_json::to_value(view)
                    .and_then(serde_json::from_value)
                    .map_err(|e| async_graphql::Error::new(format!("product: {e}")))?;
                state.loaded.insert(product.id.to_string(), Some(product));
            }
        }
        Ok(state.loaded.get(id.as_str()).cloned().flatten())
    }

    /// Announces the products a resolver's result will ask for, so that they are loaded with
    /// the first one.
    pub fn expect<'i>(&self, ids: impl IntoIterator<Item = &'i ID>) {
        let mut state = self.lock();
        for id in ids {
            if !state.loaded.contains_key(id.as_str()) {
                state.pending.insert(id.to_string());
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Pending once, then ready: lets the sibling resolvers run up to their own registration.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
