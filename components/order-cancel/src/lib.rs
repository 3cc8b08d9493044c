//! `POST /api/v1/orders/:id/cancel` — see [`spincart_checkout::cancel`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_checkout::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Endpoint::post(spincart_checkout::cancel)]).await
}
