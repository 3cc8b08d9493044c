//! `GET /api/v1/users/me` — see [`spincart_identity::me`].

use spin_sdk::http::{IncomingRequest, Response};
use spincart_identity::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Endpoint::get(spincart_identity::me)]).await
}
