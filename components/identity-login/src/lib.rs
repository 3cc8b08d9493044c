//! `POST /api/v1/users/login` — see [`spincart_identity::login`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_identity::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Endpoint::post(spincart_identity::login)]).await
}
