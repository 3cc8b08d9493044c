//! Saga step 3 (orders): `payment.authorized` → `order.confirmed`.

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_checkout::consume_saga_event(
        spincart_checkout::platform::consumers::ORDERS_CONFIRM,
        &message,
        None,
        |db, event, outbox, _| spincart_checkout::confirm_after_payment(db, event, outbox),
    )?;
    Ok(())
}
