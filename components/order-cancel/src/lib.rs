//! `POST /api/v1/orders/:id/cancel` — see [`spincart_platform::orders::cancel`].

use spin_sdk::http::{Request, Response};
use spincart_platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(
        request,
        &[Endpoint::post(spincart_platform::orders::cancel)],
    )
}
