//! Saga step 1 (inventory): `cart.checkout_requested` → the order's reservations → `inventory.reserved` | `inventory.rejected`.

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_inventory::consume_saga_event(
        spincart_inventory::platform::consumers::INVENTORY_RESERVE,
        &message,
        None,
        |db, event, outbox, _| spincart_inventory::saga::reserve_for_order(db, event, outbox),
    )?;
    Ok(())
}
