//! After confirmation (payments): `order.confirmed` → the authorization is captured (`payment.captured`).

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_platform::events::consume(
        spincart_platform::consumers::PAYMENTS_CAPTURE,
        &message,
        spincart_platform::payments::capture,
    )?;
    Ok(())
}
