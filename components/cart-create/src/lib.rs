//! `POST /api/v1/carts` — see [`spincart_cart::create`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_cart::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Endpoint::post(spincart_cart::create)]).await
}
