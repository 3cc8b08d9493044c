//! `POST /api/v1/carts/:id/checkout` — starts the checkout saga; see [`spincart_checkout::checkout_cart`].

use spin_sdk::http::{Request, Response};
use spincart_checkout::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(request, &[Endpoint::post(spincart_checkout::checkout_cart)])
}
