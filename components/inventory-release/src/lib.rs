//! `POST /api/v1/inventory/:product_id/release` (admin/internal) — see
//! [`spincart_inventory::release`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_inventory::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Endpoint::post(spincart_inventory::release)]).await
}
