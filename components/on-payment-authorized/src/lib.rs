//! Saga step 3 (orders): `payment.authorized` → `order.confirmed`.

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_checkout::platform::events::consume(
        spincart_checkout::platform::consumers::ORDERS_CONFIRM,
        &message,
        spincart_checkout::confirm_after_payment,
    )?;
    Ok(())
}
