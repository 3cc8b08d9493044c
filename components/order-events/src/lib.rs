//! `GET /api/v1/orders/:id/events` — see [`spincart_orders::history`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_orders::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Endpoint::get(spincart_orders::history)]).await
}
