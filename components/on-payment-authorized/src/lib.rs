//! Saga step 3 (shipping): `payment.authorized` → ask the carrier → `shipment.created` | `shipment.rejected` (retried with backoff on carrier errors, then rejected).

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_shipping::consume_saga_event(
        spincart_shipping::platform::consumers::SHIPPING_CREATE,
        &message,
        Some(spincart_shipping::create_gave_up),
        spincart_shipping::create,
    )?;
    Ok(())
}
