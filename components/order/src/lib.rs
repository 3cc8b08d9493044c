//! `GET /api/v1/orders/:id[?wait=N]` — see [`spincart_orders::get`].

use spin_sdk::http::{Request, Response};
use spincart_orders::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(request, &[Endpoint::get(spincart_orders::get)])
}
