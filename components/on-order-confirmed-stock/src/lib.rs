//! After confirmation (inventory): `order.confirmed` → the order's reservations stop expiring.

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_inventory::consume_saga_event(
        spincart_inventory::platform::consumers::INVENTORY_COMMIT,
        &message,
        None,
        |db, event, outbox, _| spincart_inventory::saga::commit_for_order(db, event, outbox),
    )?;
    Ok(())
}
