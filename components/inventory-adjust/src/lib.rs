//! `POST /api/v1/inventory/:product_id/adjust` (admin) — see [`spincart_platform::inventory::adjust`].

use spin_sdk::http::{Request, Response};
use spincart_platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(
        request,
        &[Endpoint::post(spincart_platform::inventory::adjust)],
    )
}
