//! After confirmation (inventory): `order.confirmed` → the order's reservations stop expiring.

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_platform::events::consume(
        spincart_platform::consumers::INVENTORY_COMMIT,
        &message,
        spincart_platform::inventory::saga::commit_for_order,
    )?;
    Ok(())
}
