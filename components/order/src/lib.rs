//! `GET /api/v1/orders/:id[?wait=N]` — see [`spincart_platform::orders::get`].

use spin_sdk::http::{Request, Response};
use spincart_platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(request, &[Endpoint::get(spincart_platform::orders::get)])
}
