//! Saga step 4 (orders): `shipment.created` → `order.confirmed`.

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_checkout::consume_saga_event(
        spincart_checkout::platform::consumers::ORDERS_CONFIRM,
        &message,
        None,
        |db, event, outbox, _| spincart_checkout::confirm_after_shipment(db, event, outbox),
    )?;
    Ok(())
}
