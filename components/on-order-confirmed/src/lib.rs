//! After confirmation (cart): `order.confirmed` → the cart is cleared (`cart.cleared`).

#[spin_sdk::redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    spincart_cart::consume_saga_event(
        spincart_cart::platform::consumers::CART_CLEAR,
        &message,
        None,
        |db, event, outbox, _| spincart_cart::saga::clear_after_order(db, event, outbox),
    )?;
    Ok(())
}
