//! After confirmation (payments): `order.confirmed` → the authorization is captured (`payment.captured`).

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_payments::platform::events::consume(
        spincart_payments::platform::consumers::PAYMENTS_CAPTURE,
        &message,
        spincart_payments::capture,
    )?;
    Ok(())
}
