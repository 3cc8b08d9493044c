//! `GET /api/v1/inventory/:product_id` — see [`spincart_inventory::get_stock`].

use spin_sdk::http::{Request, Response};
use spincart_inventory::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(request, &[Endpoint::get(spincart_inventory::get_stock)])
}
