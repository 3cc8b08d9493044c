//! `POST /api/v1/users/register` — see [`spincart_identity::register`].

use spin_sdk::http::{Request, Response};
use spincart_identity::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(request, &[Endpoint::post(spincart_identity::register)])
}
