//! After confirmation (inventory): `order.confirmed` → the order's reservations stop expiring.

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_inventory::platform::events::consume(
        spincart_inventory::platform::consumers::INVENTORY_COMMIT,
        &message,
        spincart_inventory::saga::commit_for_order,
    )?;
    Ok(())
}
