//! `GET /api/v1/users/me` — see [`spincart_identity::me`].

use spin_sdk::http::{Request, Response};
use spincart_identity::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(request, &[Endpoint::get(spincart_identity::me)])
}
