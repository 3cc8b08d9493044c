//! `/api/v1/orders`: `GET` lists the caller's orders, `POST` checks a cart out (as `/carts/:id/checkout`).

use spin_sdk::http::{Request, Response};
use spincart_checkout::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(
        request,
        &[
            Endpoint::get(spincart_checkout::list_orders),
            Endpoint::post(spincart_checkout::place_order),
        ],
    )
}
