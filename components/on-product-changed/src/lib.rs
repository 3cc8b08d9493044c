//! Redis `catalog.product_created` / `catalog.product_updated` → the product search projection
//! ([`spincart_catalog::project_search`]), once per event.

use spincart_catalog::platform::events::consume;

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    consume(
        spincart_catalog::platform::consumers::CATALOG_SEARCH,
        &message,
        spincart_catalog::project_search,
    )?;
    Ok(())
}
