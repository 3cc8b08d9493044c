//! `POST /api/v1/users/register` — see [`spincart_identity::register`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_identity::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Endpoint::post(spincart_identity::register)]).await
}
