//! `POST /api/v1/users/login` — see [`spincart_identity::login`].

use spin_sdk::http::{Request, Response};
use spincart_identity::platform::http::{serve, Endpoint};

#[spin_sdk::http_component]
fn handle(request: Request) -> Response {
    serve(request, &[Endpoint::post(spincart_identity::login)])
}
