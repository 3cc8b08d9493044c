//! After confirmation (payments): `order.confirmed` → the authorization is captured (`payment.captured`).

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_payments::consume_saga_event(
        spincart_payments::platform::consumers::PAYMENTS_CAPTURE,
        &message,
        None,
        |db, event, outbox, _| spincart_payments::capture(db, event, outbox),
    )?;
    Ok(())
}
