//! `GET /api/v1/orders/:id/events` — see [`spincart_orders::history`].

use spin_sdk::http::{Request, Response};
use spincart_orders::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(request, &[Endpoint::get(spincart_orders::history)])
}
