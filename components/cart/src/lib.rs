//! `/api/v1/carts/:id`: `GET` reads the cart (cached by version), `DELETE` empties it.

use spin_sdk::http::{Request, Response};
use spincart_platform::cart::{empty, get};
use spincart_platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(request, &[Endpoint::get(get), Endpoint::delete(empty)])
}
