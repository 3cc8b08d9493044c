//! Saga step 3 (orders): `payment.authorized` → `order.confirmed`.

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_platform::events::consume(
        spincart_platform::consumers::ORDERS_CONFIRM,
        &message,
        spincart_platform::orders::confirm_after_payment,
    )?;
    Ok(())
}
