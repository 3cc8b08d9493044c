//! Compensation (inventory): `saga.release_inventory_requested` → the order's reservations go back (`inventory.released`).

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_inventory::consume_saga_event(
        spincart_inventory::platform::consumers::INVENTORY_RELEASE,
        &message,
        Some(spincart_inventory::saga::release_gave_up),
        |db, event, outbox, _| spincart_inventory::saga::release_for_order(db, event, outbox),
    )?;
    Ok(())
}
