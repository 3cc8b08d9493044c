//! Compensation (shipping): `saga.cancel_shipment_requested` → withdraw the request or cancel the booking → `shipment.cancelled`.

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_shipping::consume_saga_event(
        spincart_shipping::platform::consumers::SHIPPING_CANCEL,
        &message,
        Some(spincart_shipping::cancel_gave_up),
        |db, event, outbox, _| spincart_shipping::cancel(db, event, outbox),
    )?;
    Ok(())
}
