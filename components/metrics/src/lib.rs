//! `GET /metrics` (Prometheus text format) — see [`spincart_platform::metrics::render`].

use spin_sdk::http::{Request, Response};
use spincart_platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(
        request,
        &[Endpoint::get(spincart_platform::metrics::render)],
    )
}
