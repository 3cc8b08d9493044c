//! `POST /api/v1/carts/:id/checkout` — starts the checkout saga; see [`spincart_checkout::checkout_cart`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_checkout::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Endpoint::post(spincart_checkout::checkout_cart)]).await
}
