//! `POST /api/v1/inventory/:product_id/release` (admin/internal) — see
//! [`spincart_inventory::release`].

use spin_sdk::http::{Request, Response};
use spincart_inventory::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(request, &[Endpoint::post(spincart_inventory::release)])
}
