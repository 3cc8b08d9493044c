//! Compensation (payments): `saga.cancel_payment_requested` → void, refund or cancel → `payment.voided` | `payment.refunded`.

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_payments::consume_saga_event(
        spincart_payments::platform::consumers::PAYMENTS_CANCEL,
        &message,
        Some(spincart_payments::cancel_gave_up),
        |db, event, outbox, _| spincart_payments::cancel(db, event, outbox),
    )?;
    Ok(())
}
