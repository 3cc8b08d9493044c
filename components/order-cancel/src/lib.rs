//! `POST /api/v1/orders/:id/cancel` — see [`spincart_checkout::cancel`].

use spin_sdk::http::{Request, Response};
use spincart_checkout::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(request, &[Endpoint::post(spincart_checkout::cancel)])
}
