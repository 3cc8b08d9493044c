//! `POST /api/v1/carts/:id/items` — see [`spincart_cart::add_item`].

use spin_sdk::http::{Request, Response};
use spincart_cart::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(request, &[Endpoint::post(spincart_cart::add_item)])
}
