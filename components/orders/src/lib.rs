//! `/api/v1/orders`: `GET` lists the caller's orders, `POST` checks a cart out (as `/carts/:id/checkout`).

use spin_sdk::http::{IncomingRequest, Response};
use spincart_checkout::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(
        request,
        &[
            Endpoint::get(spincart_checkout::list_orders),
            Endpoint::post(spincart_checkout::place_order),
        ],
    )
    .await
}
