//! `POST /api/v1/carts` — see [`spincart_cart::create`].

use spin_sdk::http::{Request, Response};
use spincart_cart::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(request, &[Endpoint::post(spincart_cart::create)])
}
