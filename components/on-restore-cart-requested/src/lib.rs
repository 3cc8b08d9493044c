//! Compensation (cart): `saga.restore_cart_requested` → the cart is ACTIVE again with its lines (`cart.restored`).

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_cart::consume_saga_event(
        spincart_cart::platform::consumers::CART_RESTORE,
        &message,
        Some(spincart_cart::saga::restore_gave_up),
        |db, event, outbox, _| spincart_cart::saga::restore(db, event, outbox),
    )?;
    Ok(())
}
