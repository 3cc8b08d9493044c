//! `/api/v1/carts/:id`: `GET` reads the cart (cached by version), `DELETE` empties it.

use spin_sdk::http::{IncomingRequest, Response};
use spincart_cart::platform::http::{serve, Endpoint};
use spincart_cart::{empty, get};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Endpoint::get(get), Endpoint::delete(empty)]).await
}
