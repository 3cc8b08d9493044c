//! `/api/v1/carts/:id`: `GET` reads the cart (cached by version), `DELETE` empties it.

use spin_sdk::http::{Request, Response};
use spincart_cart::platform::http::{serve, Endpoint};
use spincart_cart::{empty, get};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(request, &[Endpoint::get(get), Endpoint::delete(empty)])
}
