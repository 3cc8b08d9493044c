//! `GET /api/v1/orders/:id[?wait=N]` — see [`spincart_orders::get`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_orders::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Endpoint::get(spincart_orders::get)]).await
}
