//! `GET /api/v1/inventory/:product_id` — see [`spincart_inventory::get_stock`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_inventory::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Endpoint::get(spincart_inventory::get_stock)]).await
}
