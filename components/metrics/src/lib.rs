//! `GET /metrics` (Prometheus text format) — see [`spincart_operations::metrics::render`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_operations::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(
        request,
        &[Endpoint::get(spincart_operations::metrics::render)],
    )
    .await
}
