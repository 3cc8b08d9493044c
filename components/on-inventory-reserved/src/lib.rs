//! Saga step 2 (payments): `inventory.reserved` → authorize → `payment.authorized` | `payment.declined` (retried with backoff on provider errors, then declined).

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_payments::consume_saga_event(
        spincart_payments::platform::consumers::PAYMENTS_AUTHORIZE,
        &message,
        Some(spincart_payments::authorize_gave_up),
        spincart_payments::authorize,
    )?;
    Ok(())
}
