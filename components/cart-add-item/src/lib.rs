//! `POST /api/v1/carts/:id/items` — see [`spincart_platform::cart::add_item`].

use spin_sdk::http::{Request, Response};
use spincart_platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(
        request,
        &[Endpoint::post(spincart_platform::cart::add_item)],
    )
}
